"""How precisely the answer-type spans mark the answer, measured on gold sets.

For every gold question whose answer type is known, the sentences of its article (same date
and source) that hold a gold answer are marked with `answer_spans`. Per answer type it prints:

- precision: of the spans marked, the share that overlap a gold answer in the sentence;
- recall: of those sentences, the share where some span overlaps the gold answer;
- spans/sentence: how much is marked on average.

A sentence can name other people besides the answer, so precision under 1.0 is expected even
for perfect name spans; it falls when capitalised words that are no names are marked.

    .venv/bin/python -m bench.span_precision tests/data/news2022_gold.jsonl tests/data/news2022_articles.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

from retrieval.answer_types import AnswerType, answer_spans, question_type
from retrieval.ingest import read_paths
from retrieval.lead import split_dateline
from retrieval.split import SentenceSplitter


def _answer_ranges(sentence: str, answers: list[str]) -> list[tuple[int, int]]:
    ranges = []
    for answer in answers:
        for found in re.finditer(re.escape(answer.strip()), sentence, re.IGNORECASE):
            ranges.append((found.start(), found.end()))
    return ranges


def measure(gold_path: Path, article_paths: list[Path]) -> dict[str, dict[str, float]]:
    """Precision, recall and spans per sentence for each answer type in the gold set."""
    articles = read_paths(article_paths).articles
    splitter = SentenceSplitter()
    by_key: dict[tuple, list[str]] = defaultdict(list)
    for article in articles:
        sentences = splitter.split_text(split_dateline(article.text)[1])
        by_key[(article.date, article.source)].extend(sentences)
        by_key[(None, article.id)].extend(sentences)
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        kind = question_type(row["question"])
        answers = [a for a in row.get("answers", []) if a]
        if kind is AnswerType.NONE or not answers:
            continue
        sentences = by_key.get((row.get("date"), row.get("source"))) or by_key.get((None, row.get("source")), [])
        for sentence in sentences:
            gold = _answer_ranges(sentence, answers)
            if not gold:
                continue
            spans = answer_spans(sentence, kind, row["question"])
            hits = [s for s in spans if any(s[0] < g[1] and g[0] < s[1] for g in gold)]
            t = totals[kind.value]
            t["sentences"] += 1
            t["spans"] += len(spans)
            t["right"] += len(hits)
            t["found"] += bool(hits)
    return {
        kind: {
            "sentences": int(t["sentences"]),
            "precision": t["right"] / t["spans"] if t["spans"] else 0.0,
            "recall": t["found"] / t["sentences"] if t["sentences"] else 0.0,
            "spans_per_sentence": t["spans"] / t["sentences"] if t["sentences"] else 0.0,
        }
        for kind, t in sorted(totals.items())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("articles", type=Path, nargs="+")
    args = parser.parse_args()
    print(f"{'type':<10}{'sentences':>10}{'precision':>11}{'recall':>8}{'spans/sent':>12}")
    for kind, row in measure(args.gold, args.articles).items():
        print(
            f"{kind:<10}{row['sentences']:>10}{row['precision']:>11.3f}{row['recall']:>8.3f}"
            f"{row['spans_per_sentence']:>12.2f}"
        )


if __name__ == "__main__":
    main()
