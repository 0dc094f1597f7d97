"""Score hybrid candidates with a few interpretable features instead of rank fusion alone.

Each candidate sentence gets:
    bm25      sentence BM25 / best sentence BM25 for the question
    dense     cosine of question and sentence (title-prefixed) vectors
    passage   BM25 of the sentence's passage (paragraph window) / best passage BM25
    coverage  share of the question's IDF-weighted terms present in the sentence
    type      the sentence holds the kind of answer asked for (quantity, date, person, place)
and the score is their weighted sum (weights in config [rerank], chosen on held-out halves of
XQuAD and checked on news gold sets; see README "Answer quality").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.answer_types import AnswerType, answer_spans

FEATURES = ("bm25", "dense", "passage", "coverage", "type")


@dataclass
class Candidates:
    """Candidate sentence ids with their feature columns."""

    ids: np.ndarray
    features: dict[str, np.ndarray]


class FeatureReranker:
    """Weighted sum of per-sentence features; weights per answer type for ``type``."""

    def __init__(self, weights: dict[str, float], type_weights: dict[str, float] | None = None):
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown rerank feature(s) {sorted(unknown)}; use: {', '.join(FEATURES)}")
        self.weights = weights
        self.type_weights = type_weights or {}

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
        features["dense"] = index.vectors.scores_for(query_vector, ids)
        best_passage = float(passage_all.max()) if passage_all.size else 0.0
        features["passage"] = (
            passage_all[index.sentence_chunk[ids]] / best_passage if best_passage > 0 else np.zeros(len(ids))
        )
        features["coverage"] = self._coverage(index, tokenizer, question_tokens, texts)
        features["type"] = np.array([1.0 if answer_spans(text, kind, question) else 0.0 for text in texts])
        return Candidates(ids, features)

    @staticmethod
    def _coverage(index, tokenizer, question_tokens, texts) -> np.ndarray:
        terms = set(question_tokens)
        if not terms:
            return np.zeros(len(texts))
        idf = {t: index.bm25.idf(t) for t in terms}
        total = sum(idf.values()) or 1.0
        return np.array([sum(idf[t] for t in terms & set(tokenizer(text))) / total for text in texts])

    def score(self, candidates: Candidates, kind: AnswerType) -> np.ndarray:
        total = np.zeros(len(candidates.ids))
        for name, weight in self.weights.items():
            if name == "type":
                weight = self.type_weights.get(kind.value, weight) if kind is not AnswerType.NONE else 0.0
            total += weight * candidates.features[name]
        return total

