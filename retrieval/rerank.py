"""Score hybrid candidates with a few interpretable features instead of rank fusion alone.

Each candidate sentence gets:
    bm25      sentence BM25 / best sentence BM25 for the question
    dense     cosine of question and sentence (title-prefixed) vectors
    passage   BM25 of the sentence's passage (paragraph window) / best passage BM25
    coverage  share of the question's IDF-weighted terms present in the sentence
    type      the sentence holds the kind of answer asked for (quantity, date, person, place)
    match     soft term match: each question word's best cosine to the sentence's words in
              MiniLM's word-piece embedding table, IDF-weighted (retrieval/term_match.py)
    context   best dense cosine among the candidates of the same passage
and the score is their weighted sum. The weights in config [rerank] were fitted on XQuAD with
a listwise softmax loss under 5-fold cross-validation grouped by article, and checked on the
seed and held-out news gold sets (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.answer_types import AnswerType, answer_spans
from retrieval.term_match import TermMatcher

FEATURES = ("bm25", "dense", "passage", "coverage", "type", "match", "context")
CACHE_SIZE = 200_000


@dataclass
class Candidates:
    """Candidate sentence ids with their feature columns."""

    ids: np.ndarray
    features: dict[str, np.ndarray]


class FeatureReranker:
    """Weighted sum of per-sentence features; weights per answer type for ``type``."""

    def __init__(self, weights: dict[str, float], type_weights: dict[str, float] | None = None,
                 matcher: TermMatcher | None = None):
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown rerank feature(s) {sorted(unknown)}; use: {', '.join(FEATURES)}")
        self.weights = weights
        self.type_weights = type_weights or {}
        self.matcher = matcher
        # Per-sentence work that does not depend on the question, kept across questions
        # (popular sentences come back often); cleared when it grows past CACHE_SIZE.
        self._tokens: dict[int, frozenset[str]] = {}

    def collect(self, index, tokenizer, question_tokens, query_vector, kind: AnswerType, question: str,
                n_candidates: int, n_passages: int) -> Candidates:
        """Gather candidates from sentence BM25, dense search and the best passages, then featurise."""
        bm25_all = index.bm25.scores(question_tokens)
        dense_ids, _ = index.vectors.search(query_vector, n_candidates)
        pool = set(dense_ids.tolist())
        if bm25_all.size:
            top = np.argpartition(-bm25_all, min(n_candidates, bm25_all.size - 1))[:n_candidates]
            pool.update(int(i) for i in top if bm25_all[i] > 0)
        passage_all = index.chunk_bm25.scores(question_tokens) if index.chunk_bm25 is not None else np.zeros(0)
        if passage_all.size and passage_all.max() > 0:
            best_passages = np.argsort(-passage_all)[:n_passages]
            best_passages = best_passages[passage_all[best_passages] > 0]
            pool.update(np.nonzero(np.isin(index.sentence_chunk, best_passages))[0].tolist())
        ids = np.array(sorted(pool), dtype=np.int64)
        texts = [index.texts[int(i)] for i in ids]
        features: dict[str, np.ndarray] = {}
        best = float(bm25_all.max()) if bm25_all.size else 0.0
        features["bm25"] = bm25_all[ids] / best if best > 0 else np.zeros(len(ids))
        features["dense"] = np.asarray(index.vectors.scores_for(query_vector, ids), dtype=np.float64)
        best_passage = float(passage_all.max()) if passage_all.size else 0.0
        chunks = np.asarray(index.sentence_chunk)[ids] if len(ids) else np.zeros(0, dtype=np.int64)
        features["passage"] = passage_all[chunks] / best_passage if best_passage > 0 else np.zeros(len(ids))
        idf = {t: index.bm25.idf(t) for t in set(question_tokens)}
        sentence_tokens = [self._sentence_tokens(int(i), text, tokenizer) for i, text in zip(ids, texts)]
        features["coverage"] = coverage(idf, sentence_tokens)
        features["type"] = np.array([1.0 if answer_spans(text, kind, question) else 0.0 for text in texts])
        if self.matcher is not None and len(ids):
            titled = [_titled(index, int(i), text) for i, text in zip(ids, texts)]
            features["match"] = self.matcher.scores(
                question, titled, self._word_weight(index, tokenizer), keys=[int(i) for i in ids])
        else:
            # No embedding table (the hashing test encoder): exact terms, IDF-weighted, i.e. BM25.
            features["match"] = features["bm25"]
        features["context"] = passage_best(features["dense"], chunks)
        return Candidates(ids, features)

    def _sentence_tokens(self, sentence_id: int, text: str, tokenizer) -> frozenset[str]:
        tokens = self._tokens.get(sentence_id)
        if tokens is None:
            if len(self._tokens) >= CACHE_SIZE:
                self._tokens.clear()
            tokens = self._tokens[sentence_id] = frozenset(tokenizer(text))
        return tokens

    @staticmethod
    def _word_weight(index, tokenizer):
        """IDF of a question word from the sentence BM25 index; 0 for stopwords; words the
        archive never uses get the highest IDF, as a word seen once would."""
        unseen = float(np.log(1.0 + (index.bm25.size + 0.5) / 1.5))

        def weight(word: str) -> float:
            tokens = tokenizer(word)
            if not tokens:
                return 0.0
            return index.bm25.idf(tokens[0]) or unseen

        return weight

    def score(self, candidates: Candidates, kind: AnswerType) -> np.ndarray:
        total = np.zeros(len(candidates.ids))
        for name, weight in self.weights.items():
            if name == "type":
                weight = self.type_weights.get(kind.value, weight) if kind is not AnswerType.NONE else 0.0
            total += weight * candidates.features[name]
        return total


def coverage(idf: dict[str, float], sentence_tokens: list[frozenset[str]]) -> np.ndarray:
    """Share of the question's IDF mass whose terms the sentence contains (a sentence that
    names every rare question word is likelier the answer than one repeating a common one)."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(sentence_tokens))
    return np.array([sum(w for t, w in idf.items() if t in tokens) / total for tokens in sentence_tokens])


def passage_best(dense: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """Each candidate's best dense cosine among the candidates of its passage: a sentence
    whose neighbour matches the question is likelier to be about it ("he added" after a quote)."""
    out = np.zeros(len(dense))
    if not len(dense):
        return out
    order = np.argsort(chunks, kind="stable")
    sorted_chunks = chunks[order]
    starts = np.flatnonzero(np.r_[True, sorted_chunks[1:] != sorted_chunks[:-1]])
    best = np.maximum.reduceat(dense[order], starts)
    out[order] = np.repeat(best, np.diff(np.r_[starts, len(order)]))
    return out


def _titled(index, sentence_id: int, text: str) -> str:
    """The sentence as the dense model sees it: led by its article title."""
    title = index.article_of(sentence_id).get("title") or ""
    return f"{title}: {text}" if title else text
