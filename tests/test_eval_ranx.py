"""The hand-written hit@k and MRR agree with ranx, a maintained IR metrics library."""

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.evaluation.metrics import first_hit_rank, hit_at_k, mrr_at_k

ranx = pytest.importorskip("ranx")

# Per question, which of the shown positions hold an answer.
runs = st.lists(st.lists(st.booleans(), min_size=1, max_size=12), min_size=1, max_size=8)


def ranx_scores(relevance_lists, k):
    qrels, run = {}, {}
    for q, relevant in enumerate(relevance_lists):
        # ranx needs at least one relevant document per query; a never-shown one stands for a miss.
        qrels[f"q{q}"] = {f"d{i}": 1 for i, hit in enumerate(relevant) if hit} or {"unseen": 1}
        run[f"q{q}"] = {f"d{i}": float(len(relevant) - i) for i in range(len(relevant))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), [f"hit_rate@{k}", f"mrr@{k}"])


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs, st.sampled_from([1, 3, 5, 10]))
def test_hit_at_k_and_mrr_match_ranx(relevance_lists, k):
    ranks = [first_hit_rank(r) for r in relevance_lists]
    expected = ranx_scores(relevance_lists, k)
    assert hit_at_k(ranks, k) == pytest.approx(expected[f"hit_rate@{k}"])
    assert mrr_at_k(ranks, k) == pytest.approx(expected[f"mrr@{k}"])
