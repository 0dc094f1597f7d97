"""`ask --explain` for people: under the answer, why each sentence is where it is."""

from __future__ import annotations

from retrieval.types import Answer, Why


def render_why(answer: Answer) -> str:
    """One short block per evidence sentence: scores, matched terms, answer spans, features."""
    lines = ["Why these sentences:"]
    for number, evidence in enumerate(answer.evidence, start=1):
        why = evidence.why
        if why is None:
            continue
        lines.append(f"{number:>2}. {_scores(why)}")
        matched = ", ".join(why.matched_terms) or "none"
        lines.append(f"    matched: {matched}")
        spans = ", ".join(f'"{s}"' for s in why.answer_spans) or "none found"
        lines.append(f"    {why.answer_type} answer: {spans}")
        if why.contributions:
            parts = [f"{name} {why.features[name]:.2f} ({points:+.2f})" for name, points in why.contributions.items()]
            lines.append("    features (value, points): " + ", ".join(parts))
        if not why.statement:
            lines.append("    a question or fragment: ranked after every statement")
    return "\n".join(lines)


def _scores(why: Why) -> str:
    parts = [f"first stage {why.first_stage_score:.2f} (rank {why.first_stage_rank})"]
    if why.fused_score is not None:
        parts.append(f"fused {why.fused_score:+.2f}")
    if why.rerank_score is not None:
        parts.append(f"cross-encoder {why.rerank_score:+.2f}")
    return ", ".join(parts)
