"""The sparse retrieval paths give exactly what the dense ones gave: the same BM25 floats, the
same candidates (ties at the cut included), the same features, the same word pieces."""

from __future__ import annotations

import random

import numpy as np
import pytest

from retrieval.answer import open_answerer
from retrieval.answer_types import answer_spans, question_type
from retrieval.bm25 import BM25Index, Postings, positive_best
from retrieval.indexer import Indexer
from tests.conftest import write_article


def _corpus(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)] + ["é"]
    # Few distinct words and lengths: many documents tie on their BM25 score.
    return [[rng.choice(words[: rng.randint(3, len(words))]) for _ in range(rng.randint(1, 6))] for _ in range(n)]


def test_matches_are_the_positive_dense_scores_bit_for_bit():
    corpus = _corpus(600, seed=4)
    index = BM25Index(
        [Postings.build(corpus[:250]), Postings.build(corpus[250:500]), Postings.build(corpus[500:])],
        deleted=[[3, 17], None, [0, 99]],
    )
    for query in (["w1", "w7", "é"], ["w3", "w3"], ["w39"], ["nothing"], []):
        dense = index.scores(query)
        ids, scores = index.matches(query)
        assert ids.tolist() == np.flatnonzero(dense).tolist()
        assert np.array_equal(scores, dense[ids])  # the same float32 values, not merely close


def _dense_best(dense: np.ndarray, n: int) -> np.ndarray:
    """The reference cut over a dense array: best scores first, equal scores by lowest id."""
    order = np.lexsort((np.arange(dense.size), -dense))[:n]
    return order[dense[order] > 0]


def _dense_top(index: BM25Index, query: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``BM25Index.top`` over the dense score array."""
    scores = index.scores(query)
    hits = _dense_best(scores, n)
    hits = hits[np.lexsort((hits, -scores[hits]))]
    return hits.astype(np.int64), scores[hits]


def test_top_matches_the_dense_cut_ties_included():
    corpus = _corpus(800, seed=5)
    index = BM25Index([Postings.build(corpus[:400]), Postings.build(corpus[400:])], deleted=[[1, 2], None])
    for query in (["w1", "w2"], ["w5"], ["w0", "w9", "w9"], ["zzz"]):
        for n in (1, 3, 10, 50, 5000):
            ids, scores = index.top(query, n)
            want_ids, want_scores = _dense_top(index, query, n)
            assert ids.tolist() == want_ids.tolist() and np.array_equal(scores, want_scores)


@pytest.mark.parametrize("seed", range(30))
def test_positive_best_keeps_the_best_scores_and_the_lowest_ids_among_ties(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 400))
    dense = np.zeros(size, dtype=np.float32)
    matched = rng.choice(size, int(rng.integers(0, size + 1)), replace=False)
    dense[matched] = rng.choice(np.float32([0.5, 1.25, 2.0, 3.5]), len(matched))  # ties everywhere
    ids = np.flatnonzero(dense)
    shuffled = rng.permutation(len(ids))  # the order matches arrive in must not matter
    for n in (0, 1, 2, 5, 17, size, size + 3):
        expected = sorted(_dense_best(dense, n).tolist())
        assert sorted(positive_best(ids, dense[ids], n).tolist()) == expected
        assert sorted(positive_best(ids[shuffled], dense[ids][shuffled], n).tolist()) == expected


def coverage(idf: dict[str, float], sentence_tokens: list[frozenset[str]]) -> np.ndarray:
    """The coverage feature as collect computed it by tokenising every candidate."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(sentence_tokens))
    return np.array([sum(w for t, w in idf.items() if t in tokens) / total for tokens in sentence_tokens])


def _dense_collect(index, tokenizer, question_tokens, query_vector, kind, question, n_candidates, n_passages):
    """The candidates and the BM25-based features as ``FeatureReranker.collect`` computed them
    before it went sparse (dense arrays over every sentence and passage)."""
    bm25_all = index.bm25.scores(question_tokens)
    dense_ids, _ = index.vectors.search(query_vector, n_candidates)
    pool = set(dense_ids.tolist())
    if bm25_all.size:
        pool.update(_dense_best(bm25_all, n_candidates).tolist())
    passage_all = index.chunk_bm25.scores(question_tokens)
    if passage_all.size and passage_all.max() > 0:
        best_passages = _dense_best(passage_all, n_passages)
        pool.update(np.nonzero(np.isin(index.sentence_chunk, best_passages))[0].tolist())
    ids = np.array(sorted(pool), dtype=np.int64)
    best = float(bm25_all.max()) if bm25_all.size else 0.0
    best_passage = float(passage_all.max()) if passage_all.size else 0.0
    chunks = np.asarray(index.sentence_chunk)[ids]
    idf = {t: index.bm25.idf(t) for t in sorted(set(question_tokens))}  # summed in term order, as collect does
    texts = [index.texts[int(i)] for i in ids]
    return ids, {
        "bm25": bm25_all[ids] / best if best > 0 else np.zeros(len(ids)),
        "passage": passage_all[chunks] / best_passage if best_passage > 0 else np.zeros(len(ids)),
        "coverage": coverage(idf, [frozenset(tokenizer(t)) for t in texts]),
        "type": np.array([1.0 if answer_spans(t, kind, question) else 0.0 for t in texts]),
    }


SENTENCES = [
    "The storm cut power to 12,000 homes.",
    "Crews restored power by Tuesday.",
    "The council met on Monday.",
    "Mayor Ana Ruiz opened the bridge.",
    "The bridge cost 40 million dollars.",
    "Power returned to the valley.",
    "Teachers were hired in the district.",
    "The storm moved east.",
]


@pytest.fixture
def tied_answerer(fake_settings, tmp_path):
    """Many articles built from the same few sentences (so BM25 scores tie), with a deleted one."""
    folder = tmp_path / "tied"
    rng = random.Random(7)
    for number in range(40):
        paragraphs = ["\n\n".join(" ".join(rng.sample(SENTENCES, rng.randint(1, 3))) for _ in range(rng.randint(1, 3)))]
        write_article(folder, f"a{number:02d}.txt", paragraphs[0], f"2024-03-{number % 28 + 1:02d}")
    Indexer(fake_settings, progress=False).index_paths([folder])
    (folder / "a05.txt").unlink()
    write_article(folder, "late.txt", "The storm cut power to 12,000 homes. Crews restored power by Tuesday.")
    Indexer(fake_settings, progress=False).index_paths([folder])
    return open_answerer(fake_settings)


@pytest.mark.parametrize("n_candidates,n_passages", [(1, 1), (3, 2), (10, 5), (100, 5)])
def test_collect_gathers_the_same_candidates_and_features_as_the_dense_arrays(tied_answerer, n_candidates, n_passages):
    answerer = tied_answerer
    index = answerer.index
    assert index.bm25.live < index.bm25.size  # the deleted article's sentences are still in the index
    for question in (
        "how many homes lost power in the storm?",
        "who opened the bridge?",
        "storm power valley",
        "when did crews restore power?",
        "teachers district",
        "zebra",
    ):
        tokens = answerer.tokenizer(question)
        vector = answerer.encoder.encode([question])[0]
        kind = question_type(question)
        got = answerer.reranker.collect(
            index, answerer.tokenizer, tokens, vector, kind, question, n_candidates, n_passages
        )
        ids, features = _dense_collect(
            index, answerer.tokenizer, tokens, vector, kind, question, n_candidates, n_passages
        )
        assert got.ids.tolist() == ids.tolist()
        for name, values in features.items():
            assert np.array_equal(got.features[name], values), name


def _minilm_tokenizer():
    from tokenizers import Tokenizer

    from retrieval.term_match import _minilm_folder

    tokenizer = Tokenizer.from_file(str(_minilm_folder() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def test_word_pieces_are_the_tokenizers_own():
    import threading

    from retrieval.config import PROJECT_ROOT
    from retrieval.wordpiece import WordPieces

    tokenizer = _minilm_tokenizer()
    fast = WordPieces.for_tokenizer(tokenizer, threading.Lock())
    assert fast is not None
    texts = [
        line
        for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    rng = random.Random(0)
    alphabet = list("abcXYZ09 .,;:'\"[]()-_#$%\t\n\r\x00\x07\x0b\x7f") + [
        "é",
        "’",
        "“",
        "—",
        "…",
        "中",
        "\u00a0",
        "\u200b",
        "ﬁ",
        "İ",
        "ß",
        "\ufffd",
        "[UNK]",
        "[SEP]",
        "##",
        "Ä",
        "e\u0301",
        "°",
        "€",
        "½",
        "۔",
        "¿",
    ]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["x" * 150, "a " + "b" * 101 + " c", "U.S. troops: 1,700 (82nd Airborne) — “soon”…", ""]
    expected = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    for _ in range(2):  # words looked up, then remembered
        assert [ids.tolist() for ids in fast.encode(texts)] == expected


def test_word_pieces_fall_back_for_other_tokenizers():
    import threading

    from tokenizers import Tokenizer, models, pre_tokenizers

    from retrieval.wordpiece import WordPieces

    other = Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    assert WordPieces.for_tokenizer(other, threading.Lock()) is None


@pytest.mark.model
def test_one_question_encodes_to_the_same_vector_as_model_encode():
    import torch

    from retrieval.embed import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder("minilm")
    assert encoder._direct
    questions = ["how many US troops to Poland?", "x", "who " * 400, "Ünïcödé – “quoted” 中文 [SEP]"]
    threads = torch.get_num_threads()
    for question in questions:
        torch.set_num_threads(1)  # as ``encode`` runs one text
        try:
            expected = encoder.model.encode(
                [question], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )[0]
        finally:
            torch.set_num_threads(threads)
        assert np.abs(encoder.encode([question])[0] - expected).max() <= 1e-6
    both = encoder.encode(questions[:2])
    assert np.abs(both[0] - encoder.encode(questions[:1])[0]).max() <= 1e-6


def test_has_answer_span_is_whether_answer_spans_finds_one():
    from retrieval.answer_types import AnswerType, has_answer_span
    from retrieval.config import PROJECT_ROOT
    from retrieval.split import SentenceSplitter

    sentences = [
        s.text
        for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
        for s in SentenceSplitter().split(path.read_text(encoding="utf-8"))
    ]
    sentences += SENTENCES + ["", "At 4:51 p.m. on Route 49, 1,700 troops left.", "Monday", "The Pentagon said so."]
    questions = [
        "how many US troops to Poland?",
        "when did it start?",
        "who is the Pentagon press secretary?",
        "where did they go?",
        "what did NATO say?",
        "how many troops on Route 49 at 4:51?",
    ]
    for question in questions:
        for kind in AnswerType:
            for sentence in sentences:
                assert has_answer_span(sentence, kind, question) == bool(answer_spans(sentence, kind, question))
