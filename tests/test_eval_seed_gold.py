"""The hand-written news gold set over the seed articles: well-formed, and scored by newsdesk."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.eval_command import eval_command
from retrieval.evaluation.gold import load_gold

ROOT = Path(__file__).resolve().parent.parent
SEED_GOLD = ROOT / "tests" / "data" / "seed_gold.jsonl"
SEEDS = ROOT / "seeds"


def seed_text(source):
    return (SEEDS / f"{source}.txt").read_text(encoding="utf-8")


def test_the_seed_gold_set_has_enough_questions_and_unanswerable_ones():
    gold = load_gold(SEED_GOLD)
    assert not gold.skipped
    assert len(gold.questions) >= 20
    assert sum(not q.answerable for q in gold.questions) >= 4


def test_every_seed_answer_appears_verbatim_in_the_article_it_names_with_that_date():
    for question in load_gold(SEED_GOLD).questions:
        if not question.answerable:
            continue
        text = seed_text(question.source)
        assert re.match(rf"\s*date {question.date}\s", text), question.id
        for answer in question.answers:
            paragraph = next((p for p in text.split("\n") if answer in p), None)
            assert paragraph is not None, f"{question.id}: {answer!r} not in {question.source}"


def score_seed_gold(tmp_path, monkeypatch, model):
    monkeypatch.delenv("NEWSDESK_CONFIG", raising=False)
    monkeypatch.setenv("NEWSDESK_MODEL", model)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        eval_command,
        [str(SEED_GOLD), "--articles", str(SEEDS), "--compare", "--index", str(tmp_path / "index"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())["modes"]


def test_the_seed_gold_set_is_scored_in_every_mode(tmp_path, monkeypatch):
    modes = score_seed_gold(tmp_path, monkeypatch, "hashing")
    assert set(modes) == {"bm25", "dense", "hybrid"}
    assert all(m["n_answerable"] == 24 and m["n_unanswerable"] == 6 for m in modes.values())
    assert modes["bm25"]["hit@3"] >= 0.8


@pytest.mark.model
def test_the_real_model_answers_the_seed_gold_set_well(tmp_path, monkeypatch):
    modes = score_seed_gold(tmp_path, monkeypatch, "minilm")
    hybrid, dense = modes["hybrid"], modes["dense"]
    assert hybrid["hit@3"] >= 0.8 and hybrid["mrr@10"] >= 0.7
    assert dense["hit@3"] >= 0.6
    assert hybrid["date_acc"] == 1.0 and hybrid["source_acc"] == 1.0
    assert hybrid["noans_correct"] >= 0.5 and hybrid["noans_false"] <= 0.2
