"""`newsdesk eval` end to end: output files, --compare, --min-hit1 exit codes and user errors."""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.eval_command as eval_command_module
from bot.eval_command import eval_command
from retrieval.types import Answer, Evidence

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SUMMARY_KEYS = {
    "n",
    "skipped",
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr@10",
    "date_acc",
    "source_acc",
    "p50_ms",
    "p95_ms",
    "n_answerable",
    "n_unanswerable",
    "noans_correct",
    "noans_false",
}


def sentence(text, article_id="003_2b72e3d8e58c6539", date="2022-02-10"):
    return Evidence(text=text, article_id=article_id, title="", date=date, source=article_id, url="", score=1.0)


KIRBY = sentence('"What we are trying to achieve," said Pentagon Press Secretary John Kirby.')
TROOPS = sentence("About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland.")
FILLER = sentence("Western leaders have engaged in multiple rounds of diplomacy.")


class StubAnswerer:
    """Kirby at rank 1, the troop figure at rank 2 (bm25) or 1 (other modes), and no answer for the rest."""

    def ask(self, question, k=10, mode="hybrid", **options):
        if "press secretary" in question:
            return Answer(question, [KIRBY, FILLER], mode=mode)
        if "82nd Airborne" in question:
            return Answer(question, [FILLER, TROOPS] if mode == "bm25" else [TROOPS, FILLER], mode=mode)
        return Answer(question, [FILLER], answered=False, mode=mode)


@pytest.fixture
def stub(monkeypatch):
    @contextmanager
    def prepared(settings, gold, articles, index_dir, echo=None):
        yield StubAnswerer(), "stub corpus"

    monkeypatch.setattr(eval_command_module, "prepared_answerer", prepared)


@pytest.fixture
def hashing(monkeypatch, tmp_path):
    """The real answering core with the fast deterministic encoder and an index of its own."""
    monkeypatch.delenv("NEWSDESK_CONFIG", raising=False)
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run(*args):
    return CliRunner().invoke(eval_command, [str(a) for a in args], catch_exceptions=False)


def read_summary(out):
    return json.loads((out / "summary.json").read_text())


def test_a_run_writes_summary_results_report_and_plot(stub, tmp_path):
    out = tmp_path / "out"
    result = run(DATA / "eval_gold.jsonl", "--mode", "bm25", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert SUMMARY_KEYS <= set(summary)
    assert (summary["n"], summary["skipped"], summary["n_answerable"]) == (3, 7, 2)
    assert summary["hit@1"] == 0.5 and summary["hit@3"] == 1.0 and summary["mrr@10"] == 0.75
    assert summary["noans_correct"] == 1.0 and summary["noans_false"] == 0.0
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == ["j1", "j2", "j7"]
    assert results[1]["rank"] == 2 and results[1]["answers"] == ["1,700", "about 1700"]
    assert [e["hit"] for e in results[1]["evidence"]] == [False, True]
    report = (out / "report.md").read_text()
    assert "| hit@1 " in report and "## Skipped gold entries (7)" in report and "line 4:" in report
    assert (out / "hit_at_k.png").read_bytes().startswith(b"\x89PNG")


def test_the_terminal_shows_a_summary_table_and_bad_lines_with_their_numbers(stub, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--out", tmp_path / "out")
    assert "| hit@1 " in result.stdout and "| mrr@10 " in result.stdout
    assert "skipped eval_gold.jsonl line 5: 'question' is missing or empty" in result.stderr
    assert "3 questions scored, 7 skipped" in result.stdout


def test_compare_scores_all_three_modes_side_by_side(stub, tmp_path):
    out = tmp_path / "out"
    result = run(DATA / "eval_gold.jsonl", "--compare", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert list(summary["modes"]) == ["bm25", "dense", "hybrid"]
    assert summary["modes"]["bm25"]["hit@1"] == 0.5
    assert summary["modes"]["dense"]["hit@1"] == 1.0
    assert all(SUMMARY_KEYS <= set(m) for m in summary["modes"].values())
    assert "| metric" in result.stdout and "bm25" in result.stdout and "hybrid" in result.stdout
    results = (out / "results.jsonl").read_text().splitlines()
    assert len(results) == 3 * 3


def test_min_hit1_passes_with_exit_code_zero_when_met(stub, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--mode", "dense", "--min-hit1", "1.0", "--out", tmp_path / "o")
    assert result.exit_code == 0
    assert "PASS" in result.stdout


def test_min_hit1_fails_with_exit_code_one_when_hit1_is_below(stub, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--mode", "bm25", "--min-hit1", "0.6", "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert "hit@1 0.5000 (bm25) is below --min-hit1 0.6" in result.stderr
    assert (tmp_path / "o" / "summary.json").exists()  # the report is still written for the CI log


def test_min_hit1_gates_the_chosen_mode_when_comparing(stub, tmp_path):
    assert (
        run(
            DATA / "eval_gold.jsonl", "--compare", "--mode", "bm25", "--min-hit1", "0.6", "--out", tmp_path / "o"
        ).exit_code
        == 1
    )
    assert (
        run(
            DATA / "eval_gold.jsonl", "--compare", "--mode", "hybrid", "--min-hit1", "0.6", "--out", tmp_path / "o"
        ).exit_code
        == 0
    )


def test_min_hit1_outside_zero_to_one_is_a_usage_error(stub, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--min-hit1", "60", "--out", tmp_path / "o")
    assert result.exit_code == 2


def test_min_hit1_without_answerable_questions_says_what_to_add(stub, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"question": "Who won the 2022 FIFA World Cup?", "answers": []}\n')
    result = run(gold, "--min-hit1", "0.5", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "no answerable questions" in result.stderr


def test_a_gold_file_with_no_usable_line_stops_with_exit_code_two(stub, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('not json\n{"answers": []}\n')
    result = run(gold, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "no usable questions" in result.stderr
    assert "line 1: not valid JSON" in result.stderr


def test_a_missing_gold_file_names_the_path(stub, tmp_path):
    result = run(tmp_path / "missing.jsonl", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "missing.jsonl does not exist" in result.stderr


def test_a_missing_articles_path_is_reported_before_any_work(stub, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--articles", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "nowhere does not exist" in result.stderr


def test_the_seed_gold_set_scores_over_the_seed_articles_in_one_command(hashing, tmp_path):
    out = tmp_path / "out"
    result = run(DATA / "seed_gold.jsonl", "--articles", ROOT / "seeds", "--compare", "--out", out)
    assert result.exit_code == 0, result.output
    for mode, summary in read_summary(out)["modes"].items():
        assert (summary["n"], summary["n_answerable"], summary["skipped"]) == (30, 24, 0), mode
        assert summary["hit@10"] >= 0.8, mode
        assert summary["date_acc"] == 1.0 and summary["source_acc"] == 1.0, mode


def test_a_squad_gold_without_articles_is_scored_over_its_own_paragraphs(hashing, tmp_path):
    out = tmp_path / "out"
    result = run(DATA / "eval_squad_v2.json", "--mode", "bm25", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert (summary["n_answerable"], summary["n_unanswerable"], summary["skipped"]) == (2, 2, 1)
    assert summary["hit@3"] == 1.0 and summary["source_acc"] == 1.0
    assert "SQuAD paragraphs" in (out / "report.md").read_text()


def test_a_squad_gold_can_be_indexed_into_a_chosen_index_folder(hashing, tmp_path):
    index = tmp_path / "squad-index"
    result = run(DATA / "eval_squad_v1.json", "--index", index, "--mode", "bm25", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert any(index.iterdir())


def test_a_squad_gold_with_other_articles_does_not_check_paragraph_sources(hashing, tmp_path):
    articles = tmp_path / "wiki.jsonl"
    articles.write_text(
        json.dumps(
            {
                "id": "vistula",
                "text": "Warsaw, the capital of Poland, lies on the Vistula. "
                "The Vistula is 1,047 km long and rises in the Beskids.",
            }
        )
        + "\n"
    )
    out = tmp_path / "out"
    result = run(DATA / "eval_squad_v1.json", "--articles", articles, "--mode", "bm25", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert summary["source_acc"] is None and summary["source_checked"] == 0
    assert summary["hit@10"] == 0.75  # the Atlantic question has no article


def test_a_jsonl_gold_without_articles_uses_the_existing_index(hashing, tmp_path):
    from retrieval.config import Settings
    from retrieval.indexer import Indexer

    index = tmp_path / "built"
    Indexer(Settings.load(overrides={"index": {"dir": str(index)}}), index).index_paths([ROOT / "seeds"])
    out = tmp_path / "out"
    result = run(DATA / "eval_gold.csv", "--index", index, "--mode", "hybrid", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert summary["n_answerable"] == 3 and summary["hit@10"] == 1.0
    assert f"existing index {index}" in (out / "report.md").read_text()


def test_k_limits_the_evidence_judged_and_the_cutoffs_reported(hashing, tmp_path):
    out = tmp_path / "out"
    result = run(DATA / "seed_gold.jsonl", "--articles", ROOT / "seeds", "--k", "3", "--out", out)
    assert result.exit_code == 0, result.output
    summary = read_summary(out)
    assert summary["hit@5"] is None and summary["hit@10"] is None and summary["mrr@10"] is None
    assert summary["mrr@3"] is not None
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert max(len(r["evidence"]) for r in results) == 3


def test_ask_starts_without_loading_the_evaluator():
    code = "import sys, bot.cli; print(any(m.startswith(('retrieval.evaluation', 'matplotlib', 'ranx')) for m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert loaded.stdout.strip() == "False"


def test_an_index_folder_that_holds_no_index_says_how_to_build_one(hashing, tmp_path):
    result = run(DATA / "eval_gold.jsonl", "--index", tmp_path / "empty", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "newsdesk index" in result.stderr
    assert not (tmp_path / "o").exists()


def test_articles_that_yield_nothing_to_index_stop_the_run(hashing, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"title": "no text here"}\n')
    result = run(DATA / "eval_gold.jsonl", "--articles", empty, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "no articles could be indexed" in result.stderr


def test_time_handling_and_filters_reach_every_question_and_the_report(hashing, tmp_path):
    """--no-time searches "in September 2022" as words; by default it is a filter that finds the answer."""
    articles = tmp_path / "tolls.jsonl"
    rows = [
        {"id": f"t{i}", "date": date, "source": source, "text": f"The flood death toll in the province rose to {n}."}
        for i, (date, source, n) in enumerate(
            [("2022-08-30", "Wire", "1,136"), ("2022-09-22", "Paper", "1,569"), ("2022-10-28", "Wire", "1,739")]
        )
    ]
    articles.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps({"question": "flood death toll in the province in September 2022?", "answers": ["1,569"]}) + "\n"
    )
    scores = {}
    for name, flags in (("time", []), ("notime", ["--no-time"]), ("wire", ["--source", "wire", "--no-time"])):
        out = tmp_path / name
        result = run(gold, "--articles", articles, "--mode", "hybrid", "--no-rerank", "--out", out, *flags)
        assert result.exit_code == 0, result.output
        scores[name] = read_summary(out)["hit@1"]
        assert all(flag in (out / "report.md").read_text() for flag in flags)
    assert scores["time"] == 1.0 and scores["wire"] == 0.0
    bad = CliRunner().invoke(eval_command, [str(gold), "--since", "2022-09"])
    assert bad.exit_code == 2 and "--since '2022-09' is not a date" in bad.output


def test_a_question_with_as_of_is_asked_over_the_archive_as_it_stood_that_day(hashing, tmp_path):
    """The latest toll asked on 2022-09-25 is 1,569: the 1,739 of October is not yet published."""
    articles = tmp_path / "tolls.jsonl"
    rows = [
        {"id": f"t{i}", "date": date, "source": "Wire", "text": f"The flood death toll in the province rose to {n}."}
        for i, (date, n) in enumerate([("2022-08-30", "1,136"), ("2022-09-22", "1,569"), ("2022-10-28", "1,739")])
    ]
    articles.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    gold = tmp_path / "gold.jsonl"
    question = "what's the latest flood death toll in the province?"
    gold.write_text(
        json.dumps({"id": "q1", "question": question, "answers": ["1,569"], "as_of": "2022-09-25"})
        + "\n"
        + json.dumps({"id": "q2", "question": question, "answers": ["1,739"], "as_of": "2022-11-01"})
        + "\n"
    )
    out = tmp_path / "asof"
    result = run(gold, "--articles", articles, "--mode", "hybrid", "--no-rerank", "--out", out, "--html")
    assert result.exit_code == 0, result.output
    assert read_summary(out)["hit@1"] == 1.0
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    first = next(r for r in lines if r["id"] == "q1")
    assert first["as_of"] == "2022-09-25"
    assert all(e["date"] <= "2022-09-25" for e in first["evidence"])  # nothing published later is shown
    assert (
        "2 of 2 questions carry the day they were asked (2022-09-25 to 2022-11-01)" in (out / "report.md").read_text()
    )
    assert "asked as of 2022-09-25" in (out / "report.html").read_text()
    whole = tmp_path / "whole"
    result = run(gold, "--articles", articles, "--mode", "hybrid", "--no-rerank", "--out", whole, "--ignore-as-of")
    assert result.exit_code == 0, result.output
    assert read_summary(whole)["hit@1"] == 0.5  # both asked on the archive's last day: 1,739 twice
    assert "--ignore-as-of" in (whole / "report.md").read_text()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "squad"])
def test_a_bad_as_of_is_reported_with_its_line_in_every_format(fmt, tmp_path):
    from retrieval.evaluation.gold import load_gold

    if fmt == "jsonl":
        path = tmp_path / "gold.jsonl"
        path.write_text(
            json.dumps({"question": "who?", "answers": ["x"], "as_of": "2022-06-31"})
            + "\n"
            + json.dumps({"question": "who else?", "answers": ["y"], "as_of": "2022-06-30"})
            + "\n"
        )
    elif fmt == "csv":
        path = tmp_path / "gold.csv"
        path.write_text("question,answers,as_of\nwho?,x,June 31\nwho else?,y,2022-06-30\n")
    else:
        path = tmp_path / "gold.json"
        qas = [
            {"id": "s1", "question": "who?", "answers": [{"text": "x", "answer_start": 0}], "as_of": 20220631},
            {"id": "s2", "question": "who else?", "answers": [{"text": "y", "answer_start": 2}], "as_of": "2022-06-30"},
        ]
        path.write_text(
            json.dumps({"data": [{"title": "T", "paragraphs": [{"context": "x y", "qas": qas}]}]}, indent=1)
        )
    gold = load_gold(path)
    [kept] = gold.questions
    assert kept.as_of == "2022-06-30"
    [skipped] = gold.skipped
    assert skipped.line is not None and "'as_of'" in skipped.reason
    assert "YYYY-MM-DD" in skipped.reason or "real calendar date" in skipped.reason
