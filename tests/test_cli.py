"""The CLI harness as developers use it: index, ask (text, JSON, stdin), stats, errors."""

import json

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    return CliRunner()


@pytest.fixture
def indexed(cli, tiny_corpus):
    result = cli.invoke(main, ["index", str(tiny_corpus)])
    assert result.exit_code == 0, result.output
    return tiny_corpus


def test_index_prints_a_closing_summary(cli, tiny_corpus):
    result = cli.invoke(main, ["index", str(tiny_corpus), "--json"])
    summary = json.loads(result.output)
    assert (summary["read"], summary["indexed"], summary["skipped"]) == (3, 3, [])


def test_index_names_each_bad_file_and_keeps_going(cli, tiny_corpus):
    (tiny_corpus / "bad.jsonl").write_text('{"text": "Fine story about ferries."}\nnot json\n', encoding="utf-8")
    result = cli.invoke(main, ["index", str(tiny_corpus)])
    assert result.exit_code == 0
    assert "bad.jsonl:2: malformed JSON" in result.output
    assert "indexed 4" in result.output and "skipped 1" in result.output


def test_ask_json_follows_the_contract(cli, indexed):
    result = cli.invoke(main, ["ask", "--json", "--k", "2", "how many homes lost power?"])
    data = json.loads(result.output)
    assert data["question"] == "how many homes lost power?"
    assert len(data["evidence"]) == 2
    first = data["evidence"][0]
    assert {"text", "date", "source", "title", "url", "score"} <= set(first)
    assert first["date"] == "2024-03-05" and "12,000" in first["text"]


def test_the_ask_that_first_exports_the_reader_prints_only_json(cli, indexed, tmp_path, monkeypatch):
    from retrieval import cross_encoder

    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cross_encoder, "_LOADED", {})
    result = cli.invoke(main, ["ask", "--json", "--k", "1", "how many homes lost power?"])
    assert json.loads(result.output)["evidence"][0]["rerank_score"] is not None
    assert len(list((tmp_path / "cache").glob("*.onnx"))) == 1


def test_ask_prints_sentences_with_date_and_source_for_people(cli, indexed):
    result = cli.invoke(main, ["ask", "how many teachers will be hired?"])
    assert result.exit_code == 0
    assert "300" in result.output and "2024-02-20 · school" in result.output


def test_questions_piped_on_stdin_are_answered_one_json_line_each(cli, indexed):
    result = cli.invoke(main, ["ask", "--json"], input="storm power\n\nharbour bridge\n")
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["question"] for line in lines] == ["storm power", "harbour bridge"]


@pytest.mark.parametrize("question", ["   ", "x" * 10_000])
def test_bad_questions_get_a_message_not_a_traceback(cli, indexed, question):
    result = cli.invoke(main, ["ask", question])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "question" in result.output.lower()


def test_mode_flag_selects_the_retriever(cli, indexed):
    for mode in ("bm25", "dense", "hybrid"):
        data = json.loads(cli.invoke(main, ["ask", "--json", "--mode", mode, "storm"]).output)
        assert data["mode"] == mode


def test_first_ask_on_a_fresh_clone_builds_the_seed_index_and_says_so(cli, fresh_clone):
    result = cli.invoke(main, ["ask", "troops Poland"])
    assert result.exit_code == 0, result.output
    assert "building it from the seed articles" in result.output
    assert "Poland" in result.output


def test_stats_reports_articles_sentences_dates_model_and_size(cli, indexed):
    data = json.loads(cli.invoke(main, ["stats", "--json"]).output)
    assert (data["articles"], data["date_min"], data["date_max"], data["model"]) == (
        3,
        "2024-02-20",
        "2024-03-05",
        "hashing",
    )
    assert data["sentences"] > 3 and data["index_bytes"] > 0


def test_stats_without_an_index_says_what_to_run(cli):
    result = cli.invoke(main, ["stats"])
    assert result.exit_code == 1 and "newsdesk index" in result.output


def test_a_model_name_that_names_no_model_says_so_and_how_to_fix_it(cli, indexed, monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL", "nosuch")
    for args in (["ask", "how many homes lost power?"], ["index", str(indexed)]):
        result = cli.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "model 'nosuch' (from environment variable NEWSDESK_MODEL) cannot be found" in result.output
        assert 'unset NEWSDESK_MODEL, or set it to "minilm", "hashing" or the path of a local' in result.output
        assert "rebuild" not in result.output  # a rebuild with that name fails the same way


def test_only_a_name_that_is_no_model_and_no_folder_is_refused(tmp_path):
    from retrieval.embed import unknown_model_message

    assert unknown_model_message("minilm", "environment variable NEWSDESK_MODEL") is None
    assert unknown_model_message(str(tmp_path), "flag --model") is None  # a local model folder
    in_file = unknown_model_message("nosuch", "file /etc/newsdesk.toml (NEWSDESK_CONFIG)")
    assert in_file and 'set [model] name in /etc/newsdesk.toml (NEWSDESK_CONFIG) to "minilm"' in in_file


def test_chat_answers_each_line_until_quit(cli, indexed):
    result = cli.invoke(main, ["chat"], input="how many teachers?\n\n:q\n")
    assert result.exit_code == 0 and "300" in result.output


def test_long_running_front_ends_warm_up_before_the_first_question_and_one_shot_asks_do_not(cli, indexed, monkeypatch):
    """chat (like the bot and the HTTP server) asks one dated question at startup, so its first
    user does not wait for the date reader to load; `ask` answers at once without it."""
    from retrieval.answer import WARM_UP_QUESTION, Answerer

    asked: list[str] = []
    real = Answerer.ask
    monkeypatch.setattr(
        Answerer, "ask", lambda self, question, *a, **k: asked.append(question) or real(self, question, *a, **k)
    )
    assert cli.invoke(main, ["ask", "how many teachers?"]).exit_code == 0
    assert asked == ["how many teachers?"]
    asked.clear()
    result = cli.invoke(main, ["chat"], input="how many teachers?\n:q\n")
    assert result.exit_code == 0 and "300" in result.output
    assert asked == [WARM_UP_QUESTION, "how many teachers?"]
    assert WARM_UP_QUESTION not in result.output


def test_index_option_points_every_command_at_another_store(cli, tiny_corpus, tmp_path):
    other = tmp_path / "other-index"
    assert cli.invoke(main, ["index", "--index", str(other), str(tiny_corpus)]).exit_code == 0
    assert json.loads(cli.invoke(main, ["stats", "--json", "--index", str(other)]).output)["articles"] == 3


def test_piped_answers_are_plain_text_without_markers(cli, indexed):
    result = cli.invoke(main, ["ask", "how many teachers will be hired?"])
    assert "300 teachers" in result.output
    assert "[[" not in result.output and "\033[" not in result.output


@pytest.mark.parametrize(
    "choice, marked",
    [("brackets", "[[300]] teachers"), ("bold", "\033[1m300\033[0m teachers"), ("none", "300 teachers")],
)
def test_highlight_option_picks_how_the_answer_is_marked(cli, indexed, choice, marked):
    result = cli.invoke(main, ["ask", f"--highlight={choice}", "how many teachers will be hired?"])
    assert marked in result.output
    if choice == "none":
        assert "[[" not in result.output and "\033[" not in result.output


def test_answers_on_a_terminal_are_bold(capsys, monkeypatch):
    import sys

    from bot.cli import _print_answer
    from retrieval.types import Answer, Evidence

    answer = Answer(
        "how many?", [Evidence("Hired 300 teachers.", "a", "", "2024-02-20", "school", "", 1.0, highlights=[(6, 9)])]
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _print_answer(answer, as_json=False)
    assert "Hired \033[1m300\033[0m teachers." in capsys.readouterr().out


def test_json_output_keeps_its_highlight_spans_whatever_the_highlight_option(cli, indexed):
    result = cli.invoke(main, ["ask", "--json", "--highlight=bold", "how many teachers will be hired?"])
    first = json.loads(result.output)["evidence"][0]
    assert "\033[" not in result.output and first["highlights"]


def test_chat_takes_the_highlight_option_too(cli, indexed):
    result = cli.invoke(main, ["chat", "--highlight=brackets"], input="how many teachers will be hired?\n")
    assert "[[300]] teachers" in result.output
