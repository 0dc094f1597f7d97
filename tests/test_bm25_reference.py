"""The fast sparse BM25 ranks like the reference rank-bm25 BM25Okapi."""

from conftest import SEEDS
from rank_bm25 import BM25Okapi

from retrieval.bm25 import BM25Index
from retrieval.split import SentenceSplitter
from retrieval.tokenize import Tokenizer


def _corpus():
    splitter, texts = SentenceSplitter(), []
    for path in sorted(SEEDS.glob("*.txt")):
        texts += splitter.split_text(path.read_text(encoding="utf-8"))
    return texts


def test_top_results_agree_with_rank_bm25_on_the_seed_sentences():
    tokenizer = Tokenizer()
    tokens = [tokenizer(t) for t in _corpus()]
    ours, reference = BM25Index.build(tokens), BM25Okapi(tokens)
    questions = [
        "how many US troops to Poland?",
        "who was expelled from the embassy in Moscow?",
        "sanctions on Russian businesses",
        "Minsk agreements peace deal",
        "Stoltenberg invasion warning",
    ]
    for question in questions:
        q = tokenizer(question)
        ref_scores = reference.get_scores(q)
        ref_top = sorted(range(len(tokens)), key=lambda i: -ref_scores[i])[:3]
        ids, _ = ours.top(q, 3)
        assert ids[0] == ref_top[0], question
        assert len(set(ids.tolist()) & set(ref_top)) >= 2, question


def test_a_query_with_no_known_words_scores_nothing():
    index = BM25Index.build([["troop", "poland"], ["sanction"]])
    ids, scores = index.top(["zebra"], 5)
    assert len(ids) == 0
