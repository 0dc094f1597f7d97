"""Metrics on tiny cases worked out by hand."""

import pytest

from retrieval.evaluation import runner
from retrieval.evaluation.gold import GoldQuestion
from retrieval.evaluation.metrics import (
    first_hit_rank,
    hit_at_k,
    judge,
    mrr_at_k,
    percentile,
    summarize,
)
from retrieval.evaluation.runner import ask_and_judge
from retrieval.types import Answer, Evidence, QuestionError


def ev(text, article_id="a1", date="2022-02-10", source="AP", url=""):
    return Evidence(text=text, article_id=article_id, title="", date=date, source=source, url=url, score=1.0)


MISS = ev("Nothing useful here.")
HIT = ev("About 1,700 soldiers are going to Poland.")


def gold(answers=("1700",), date=None, source=None, qid="q"):
    return GoldQuestion(id=qid, question="How many soldiers?", answers=tuple(answers), date=date, source=source)


def test_a_hit_at_rank_two_gives_mrr_one_half_and_misses_hit_at_one():
    outcome = judge(gold(), "bm25", [MISS, HIT], answered=True, latency_ms=1.0, k=10)
    assert outcome.rank == 2
    summary = summarize([outcome], k=10, skipped=0)
    assert summary["mrr@10"] == 0.5
    assert summary["hit@1"] == 0.0
    assert summary["hit@3"] == 1.0


def test_three_questions_with_ranks_one_three_and_none():
    ranks = [1, 3, None]
    assert hit_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert hit_at_k(ranks, 3) == pytest.approx(2 / 3)
    assert hit_at_k(ranks, 10) == pytest.approx(2 / 3)
    assert mrr_at_k(ranks, 10) == pytest.approx((1 + 1 / 3) / 3)


def test_a_hit_beyond_the_mrr_cutoff_counts_zero():
    assert mrr_at_k([11], 10) == 0.0
    assert mrr_at_k([10], 10) == pytest.approx(0.1)


def test_no_questions_gives_no_number_rather_than_zero():
    assert hit_at_k([], 1) is None
    assert mrr_at_k([], 10) is None


def test_evidence_ranked_beyond_k_is_never_seen():
    outcome = judge(gold(), "bm25", [MISS] * 10 + [HIT], answered=True, latency_ms=1.0, k=10)
    assert outcome.rank is None
    assert len(outcome.evidence) == 10


def test_a_repeated_hit_sentence_scores_only_once():
    outcome = judge(gold(), "bm25", [HIT, HIT, HIT], answered=True, latency_ms=1.0, k=10)
    assert outcome.relevant == [True, False, False]
    assert first_hit_rank(outcome.relevant) == 1


def test_a_duplicate_shown_above_the_hit_still_takes_up_a_rank():
    outcome = judge(gold(), "bm25", [MISS, MISS, HIT], answered=True, latency_ms=1.0, k=10)
    assert outcome.rank == 3


def test_cutoffs_larger_than_k_are_reported_as_not_applicable():
    outcome = judge(gold(), "bm25", [HIT], answered=True, latency_ms=1.0, k=5)
    summary = summarize([outcome], k=5, skipped=0)
    assert summary["hit@5"] == 1.0
    assert summary["hit@10"] is None
    assert summary["mrr@10"] is None
    assert summary["mrr@5"] == 1.0


def test_unanswerable_questions_are_left_out_of_hit_rates_and_scored_on_saying_no():
    answerable = judge(gold(), "bm25", [HIT], answered=True, latency_ms=1.0, k=10)
    declined = judge(gold(answers=(), qid="n1"), "bm25", [MISS], answered=False, latency_ms=1.0, k=10)
    bluffed = judge(gold(answers=(), qid="n2"), "bm25", [MISS], answered=True, latency_ms=1.0, k=10)
    summary = summarize([answerable, declined, bluffed], k=10, skipped=0)
    assert summary["n"] == 3
    assert (summary["n_answerable"], summary["n_unanswerable"]) == (1, 2)
    assert summary["hit@1"] == 1.0
    assert summary["noans_correct"] == 0.5
    assert summary["noans_false"] == 0.0


def test_declining_an_answerable_question_counts_as_a_false_no_answer():
    declined = judge(gold(), "bm25", [MISS], answered=False, latency_ms=1.0, k=10)
    kept = judge(gold(qid="q2"), "bm25", [HIT], answered=True, latency_ms=1.0, k=10)
    summary = summarize([declined, kept], k=10, skipped=0)
    assert summary["noans_false"] == 0.5
    assert summary["noans_correct"] is None


def test_date_and_source_accuracy_read_the_first_hit_only():
    right = ev("About 1,700 soldiers are going to Poland.", article_id="003_x", date="2022-02-10", source="AP")
    wrong = ev("Some 1,700 soldiers went home.", article_id="009_y", date="2021-01-01", source="Reuters")
    first_right = judge(gold(date="2022-02-10", source="003_x", qid="a"), "bm25", [right, wrong], True, 1.0, 10)
    first_wrong = judge(gold(date="2022-02-10", source="003_x", qid="b"), "bm25", [wrong, right], True, 1.0, 10)
    summary = summarize([first_right, first_wrong], k=10, skipped=0)
    assert summary["date_acc"] == 0.5
    assert summary["source_acc"] == 0.5
    assert summary["date_checked"] == summary["source_checked"] == 2


def test_a_gold_source_matches_the_source_name_article_id_or_url():
    hit = ev("About 1,700 soldiers.", article_id="003_x", source="AP", url="https://example.org/a")
    for source in ("AP", "003_x", "https://example.org/a"):
        outcome = judge(gold(source=source), "bm25", [hit], True, 1.0, 10)
        assert summarize([outcome], k=10, skipped=0)["source_acc"] == 1.0


def test_date_and_source_accuracy_are_null_when_the_gold_gives_neither_or_nothing_hit():
    no_gold_facts = judge(gold(), "bm25", [HIT], True, 1.0, 10)
    missed = judge(gold(date="2022-02-10", source="AP", qid="m"), "bm25", [MISS], True, 1.0, 10)
    summary = summarize([no_gold_facts, missed], k=10, skipped=0)
    assert summary["date_acc"] is None and summary["source_acc"] is None


def test_latency_percentiles_interpolate_linearly():
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert percentile([10.0, 20.0, 30.0, 40.0], 95) == pytest.approx(38.5)
    assert percentile([], 50) is None


def test_skipped_lines_are_carried_into_the_summary():
    outcome = judge(gold(), "bm25", [HIT], True, 1.0, 10)
    assert summarize([outcome], k=10, skipped=4)["skipped"] == 4


class RefusingAnswerer:
    def ask(self, question, k=10, mode="hybrid", **options):
        raise QuestionError("The question is too long.")


class ClaimingAnswerer:
    """Returns far more than k sentences and claims it took no time at all."""

    def ask(self, question, k=10, mode="hybrid", **options):
        return Answer(question=question, evidence=[MISS] * k + [HIT] * 5, elapsed_ms=0.0)


def test_a_refused_question_is_a_miss_not_an_exclusion():
    outcome = ask_and_judge(RefusingAnswerer(), gold(), "bm25", 10)
    summary = summarize([outcome], k=10, skipped=0)
    assert summary["hit@10"] == 0.0
    assert summary["errors"] == 1
    assert outcome.error == "The question is too long."


def test_evidence_returned_beyond_k_cannot_help_the_answerer():
    outcome = ask_and_judge(ClaimingAnswerer(), gold(), "bm25", 10)
    assert outcome.rank is None


def test_latency_is_measured_by_the_evaluator_not_taken_from_the_answer(monkeypatch):
    clock = iter([100.0, 100.25])
    monkeypatch.setattr(runner.time, "perf_counter", lambda: next(clock))
    outcome = ask_and_judge(ClaimingAnswerer(), gold(), "bm25", 10)
    assert outcome.latency_ms == pytest.approx(250.0)
