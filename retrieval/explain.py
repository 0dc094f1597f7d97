"""Say why each evidence sentence was shown where it was (`ask --explain`, JSON `why`).

Built from what ranking already computed: the first-stage features of each candidate, the
reading stage's fused and cross-encoder scores, and the answer spans; only the matched terms
are worked out afresh, for the few sentences shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retrieval.answer_types import AnswerType
from retrieval.rerank import Candidates
from retrieval.statements import is_statement
from retrieval.tokenize import Tokenizer
from retrieval.types import Evidence, Why


@dataclass
class RankTrace:
    """What one question's ranking computed, kept for explaining it."""

    candidates: Candidates | None = None
    weights: dict[str, float] = field(default_factory=dict)
    first_stage: list[tuple[int, float]] = field(default_factory=list)
    fused: dict[int, float] = field(default_factory=dict)


def explain(evidence: list[Evidence], trace: RankTrace, kind: AnswerType, question: str, tokenizer: Tokenizer) -> None:
    """Fill each evidence sentence's ``why`` from the trace of the ranking that chose it."""
    rows: dict[int, int] = {}
    if trace.candidates is not None:
        rows = {int(i): row for row, i in enumerate(np.asarray(trace.candidates.ids).tolist())}
    ranks = {sentence_id: rank for rank, (sentence_id, _) in enumerate(trace.first_stage, start=1)}
    asked = []
    for word in question.split():
        tokens = tokenizer(word)
        if tokens:
            asked.append((word.strip("?!.,;:\"'“”‘’()"), set(tokens)))
    for item in evidence:
        features: dict[str, float] = {}
        row = rows.get(item.sentence_id)
        if row is not None and trace.candidates is not None:
            features = {name: round(float(col[row]), 4) for name, col in trace.candidates.features.items()}
        contributions = {
            name: round(trace.weights.get(name, 0.0) * value, 4)
            for name, value in features.items()
            if trace.weights.get(name, 0.0)
        }
        present = set(tokenizer(item.text))
        fused = trace.fused.get(item.sentence_id)
        item.why = Why(
            answer_type=kind.value,
            answer_spans=[item.text[a:b] for a, b in item.highlights],
            matched_terms=[word for word, tokens in asked if tokens & present],
            features=features,
            contributions=contributions,
            first_stage_score=item.score,
            first_stage_rank=ranks.get(item.sentence_id, 0),
            fused_score=round(fused, 4) if fused is not None else None,
            rerank_score=item.rerank_score,
            statement=is_statement(item.text),
        )
