"""The real model over the seed articles: the headline question answers as the brief asks."""

import json
import subprocess
import sys

import pytest
from conftest import HEADLINE, SENTENCE_1700, SENTENCE_5000

pytestmark = pytest.mark.model


def test_headline_question_lists_both_figures_in_the_top_three(seed_answerer):
    answer = seed_answerer.ask(HEADLINE, k=5)
    top3 = [e.text for e in answer.evidence[:3]]
    assert any(t.startswith(SENTENCE_1700) for t in top3)
    assert SENTENCE_5000 in top3
    by_text = {e.text[:40]: e for e in answer.evidence}
    assert by_text[SENTENCE_1700[:40]].date == "2022-02-10"
    assert by_text[SENTENCE_5000[:40]].date == "2022-02-17"
    assert all(e.source for e in answer.evidence)


def test_headline_question_shows_the_figures_as_a_timeline_newest_first(seed_answerer):
    answer = seed_answerer.ask(HEADLINE)
    assert [(t.date, t.figure) for t in answer.timeline] == [
        ("2022-02-17", "5,000 troops"),
        ("2022-02-10", "1,700 troops"),
    ]
    assert {t.counts for t in answer.timeline} == {"troops"}
    figures = {e.text[a:b] for e in answer.evidence for a, b in e.highlights}
    assert {"5,000", "1,700"} <= figures


def test_a_question_the_archive_cannot_answer_says_so(seed_answerer):
    answer = seed_answerer.ask("Who won the 2022 FIFA World Cup?")
    assert answer.answered is False and answer.evidence


def test_answerable_question_is_answered(seed_answerer):
    assert seed_answerer.ask("Who did Russia expel from the U.S. embassy?").answered


def test_cli_json_over_the_seed_index(seed_index):
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "--index", str(seed_index), HEADLINE],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    texts = [e["text"] for e in data["evidence"][:3]]
    assert SENTENCE_5000 in texts and any(t.startswith(SENTENCE_1700) for t in texts)
    assert data["answered"] is True and data["timeline"]


def test_the_cross_encoder_reads_the_best_sentences_and_says_so(seed_answerer):
    answer = seed_answerer.ask(HEADLINE)
    assert answer.reranker == "reranker-minilm-l6-qa"
    read = [e.rerank_score for e in answer.evidence if e.rerank_score is not None]
    assert read and answer.evidence[0].rerank_score is not None
    without = seed_answerer.ask(HEADLINE, rerank=False)
    assert without.reranker == "" and all(e.rerank_score is None for e in without.evidence)


def test_the_cross_encoder_declines_an_on_topic_question_the_archive_cannot_answer(seed_answerer):
    # The expulsion story is in the archive; what it cost is not.
    answer = seed_answerer.ask("How much did the expulsion cost?")
    assert answer.answered is False
    assert answer.evidence[0].rerank_score < seed_answerer.reader.settings.min_score


def _ask_json(seed_index, *flags, env=None):
    import os

    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "--index", str(seed_index), *flags, HEADLINE],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return run


def test_cli_json_carries_each_sentences_rerank_score_and_no_rerank_turns_it_off(seed_index):
    on = json.loads(_ask_json(seed_index).stdout)
    assert on["reranker"] == "reranker-minilm-l6-qa"
    assert isinstance(on["evidence"][0]["rerank_score"], float)
    off = json.loads(_ask_json(seed_index, "--no-rerank").stdout)
    assert off["reranker"] == "" and all(e["rerank_score"] is None for e in off["evidence"])


def test_a_damaged_cross_encoder_stops_ask_with_the_fix_not_a_silent_fallback(seed_index, tmp_path):
    import shutil

    from retrieval.cross_encoder import MODELS_DIR

    damaged = tmp_path / "reranker"
    shutil.copytree(MODELS_DIR / "reranker-minilm-l6-qa", damaged)
    with open(damaged / "model.safetensors", "r+b") as handle:
        handle.seek(1 << 20)
        handle.write(b"\xff" * 16)
    run = _ask_json(seed_index, env={"NEWSDESK_CROSS_ENCODER": str(damaged)})
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "damaged" in run.stderr and "cross_encoder" in run.stderr


def test_a_reading_pass_leaves_torchs_thread_count_as_it_found_it(seed_answerer):
    import torch

    before = torch.get_num_threads()
    seed_answerer.reader.scorer.clear_cache()
    seed_answerer.ask("Which airborne division is going to Poland?")
    assert torch.get_num_threads() == before
