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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.answer_types import AnswerType, has_answer_span
from retrieval.backend import Allowance
from retrieval.embedding_text import embedding_text
from retrieval.question_vector import QueryVector, with_vector_soon
from retrieval.term_match import TermMatcher

FEATURES = ("bm25", "dense", "passage", "coverage", "type", "match", "context")


@dataclass
class Candidates:
    """Candidate sentence ids with their feature columns."""

    ids: np.ndarray
    features: dict[str, np.ndarray]


class FeatureReranker:
    """Weighted sum of per-sentence features; weights per answer type for ``type``."""

    def __init__(
        self,
        weights: dict[str, float],
        type_weights: dict[str, float] | None = None,
        matcher: TermMatcher | None = None,
    ):
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown rerank feature(s) {sorted(unknown)}; use: {', '.join(FEATURES)}")
        self.weights = weights
        self.type_weights = type_weights or {}
        self.matcher = matcher

    def for_new_index(self) -> FeatureReranker:
        """The same weights, with a term matcher whose cache of sentence pieces starts empty."""
        matcher = self.matcher.for_new_index() if self.matcher is not None else None
        return FeatureReranker(self.weights, self.type_weights, matcher)

    def collect(
        self,
        index,
        tokenizer,
        question_tokens,
        query_vector: QueryVector,
        kind: AnswerType,
        question: str,
        n_candidates: int,
        n_passages: int,
        allowed: Allowance | None = None,
        meanwhile: Callable[[list[int]], None] | None = None,
    ) -> Candidates:
        """Gather candidates from sentence BM25, dense search and the best passages, then featurise.

        With ``allowed`` (a date or source filter) every source of candidates looks only at the
        allowed sentences and passages, so a narrow period still gets its own best sentences.

        The dense search runs on the worker thread once ``query_vector`` is encoded there
        (retrieval/question_vector.py) while this thread searches BM25 and featurises the lexical
        candidates; the dense search's own candidates are featurised after.
        Every feature but ``dense`` and ``context`` is a sentence's own, so the two batches give
        exactly what one batch would."""
        # Each source of candidates sees only the allowed sentences; equal scores at a cut go to
        # the lowest ids, so the candidates never depend on how the archive is laid out.
        dense = with_vector_soon(query_vector, lambda vector: (vector, index.dense_top(vector, n_candidates, allowed)))
        lexical = index.lexical(question_tokens, n_candidates, allowed)
        passages = index.passages(question_tokens, n_passages, allowed)
        # Sorted, so the sums below run in the same order in every process (set order follows
        # PYTHONHASHSEED, and float addition is not associative).
        idf = {t: index.idf(t) for t in sorted(set(question_tokens))}
        word_weight = self._word_weight(index, tokenizer)
        query_pieces = self.matcher.question_pieces(question, word_weight) if self.matcher is not None else None
        pool = set(lexical.top.tolist())
        if len(passages.top):
            pool.update(index.sentences_of_passages(passages.top, allowed).tolist())
        early = np.array(sorted(pool), dtype=np.int64)
        batches = [self._own_features(index, early, lexical, passages, idf, kind, question, word_weight, query_pieces)]
        if meanwhile is not None and not dense.done():
            meanwhile(early.tolist())
        query_vector, (dense_ids, _) = dense.result()
        late = np.array(sorted(set(dense_ids.tolist()) - pool), dtype=np.int64)
        if len(late):
            batches.append(
                self._own_features(index, late, lexical, passages, idf, kind, question, word_weight, query_pieces)
            )
        ids = np.concatenate([early, late])
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        features = {name: np.concatenate([batch[name] for batch in batches])[order] for name in batches[0]}
        features["dense"] = np.asarray(index.dense_scores(query_vector, ids), dtype=np.float64)
        features["context"] = passage_best(features["dense"], index.passage_of(ids))
        return Candidates(ids, {name: features[name] for name in FEATURES})

    def _own_features(
        self,
        index,
        ids: np.ndarray,
        lexical,
        passages,
        idf: dict[str, float],
        kind: AnswerType,
        question: str,
        word_weight,
        query_pieces,
    ) -> dict[str, np.ndarray]:
        """The features of each sentence that depend on it alone (every one but ``dense`` and
        ``context``), for sentences ``ids``."""
        texts = [index.text(int(i)) for i in ids]
        features: dict[str, np.ndarray] = {}
        features["bm25"] = lexical.scores(ids) / lexical.best if lexical.best > 0 else np.zeros(len(ids))
        chunks = index.passage_of(ids)
        features["passage"] = passages.scores(chunks) / passages.best if passages.best > 0 else np.zeros(len(ids))
        # Which question terms each candidate holds, from the postings (built from the same
        # tokenizer over the same sentence text), rather than tokenising every candidate.
        features["coverage"] = _coverage_from_presence(idf, index.term_presence(list(idf), ids))
        features["type"] = np.array([1.0 if has_answer_span(text, kind, question) else 0.0 for text in texts])
        if self.matcher is not None and len(ids):
            titled = _TitledTexts(index, ids, texts)  # built only for sentences not seen before
            stored = index.word_pieces(ids, self.matcher.tag) if self.matcher.tag else None
            features["match"] = self.matcher.scores(
                question, titled, word_weight, keys=[int(i) for i in ids], query=query_pieces, stored=stored
            )
        else:
            # No embedding table (the hashing test encoder): exact terms, IDF-weighted, i.e. BM25.
            features["match"] = features["bm25"]
        return features

    @staticmethod
    def _word_weight(index, tokenizer):
        """IDF of a question word from the sentence BM25 index; 0 for stopwords; words the
        archive never uses get the highest IDF, as a word seen once would."""
        unseen = float(np.log(1.0 + (index.live_sentences + 0.5) / 1.5))

        def weight(word: str) -> float:
            tokens = tokenizer(word)
            if not tokens:
                return 0.0
            return index.idf(tokens[0]) or unseen

        return weight

    def effective_weights(self, kind: AnswerType) -> dict[str, float]:
        """Each feature's weight for a question of this kind (``type`` counts only when a kind is asked)."""
        weights = dict(self.weights)
        if "type" in weights:
            weights["type"] = self.type_weights.get(kind.value, weights["type"]) if kind is not AnswerType.NONE else 0.0
        return weights

    def score(self, candidates: Candidates, kind: AnswerType) -> np.ndarray:
        total = np.zeros(len(candidates.ids))
        for name, weight in self.effective_weights(kind).items():
            total += weight * candidates.features[name]
        return total


def _coverage_from_presence(idf: dict[str, float], presence: np.ndarray) -> np.ndarray:
    """Share of the question's IDF mass whose terms each candidate contains (a sentence that
    names every rare question word is likelier the answer than one repeating a common one),
    from a (candidates, terms) presence matrix whose columns follow ``idf``'s order."""
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(presence))
    held = np.zeros(len(presence))
    for column, weight in enumerate(idf.values()):
        held += weight * presence[:, column]  # adding 0.0 where absent leaves a sum unchanged
    return held / total


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


class _TitledTexts:
    """The candidates' texts as the dense model sees them, each made when first asked for: the
    term matcher reads only those of sentences whose word pieces neither the index nor its own
    cache keeps."""

    def __init__(self, index, ids: np.ndarray, texts: list[str]):
        self._index, self._ids, self._texts = index, ids, texts

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: int) -> str:
        return _titled(self._index, int(self._ids[i]), self._texts[i])


def _titled(index, sentence_id: int, text: str) -> str:
    """The sentence as the dense model sees it: led by its article title."""
    return embedding_text(index.article_of(sentence_id), text)
