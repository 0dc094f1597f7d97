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
    assert [(t.date, t.figure) for t in answer.timeline] == [("2022-02-17", "5,000"), ("2022-02-10", "1,700")]
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
        capture_output=True, text=True, check=True,
    ).stdout
    data = json.loads(out)
    texts = [e["text"] for e in data["evidence"][:3]]
    assert SENTENCE_5000 in texts and any(t.startswith(SENTENCE_1700) for t in texts)
    assert data["answered"] is True and data["timeline"]
