"""Calibrate "no good answer": how many questions each cross-encoder floor declines.

    python -m bench.no_answer --xquad-half ../shared/data/xquad.en.json \
        --set tests/data/news_gold.jsonl tests/data/news_articles.jsonl \
        --set tests/data/seed_gold.jsonl seeds \
        --set tests/data/news2022_gold.jsonl tests/data/news2022_articles.jsonl

Each question is asked once, as the front ends ask it (the configured reading stage, time
words on), with every no-answer floor kept as configured except the cross-encoder's, which is
then swept: for each floor ``t`` the table gives the share of unanswerable questions declined
and of answerable ones wrongly declined. ``answered`` is what ``Answerer._is_answered`` decides
(the dense and feature floors of [answer]) and, when the best sentence was read, its
cross-encoder score at or above ``t``. The floor in config/default.toml ([rerank]
ce_min_score) is the highest one that declines at most 5% of answerable questions on every
calibration set: XQuAD asked of an index holding every other article (``--xquad-half``: the
questions about the articles left out have no answer), the first news set and the seed set;
the 2022 news set is only checked (docs/quality.md, "No answer").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

FLOORS = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
# Cross-encoder scores at which the reader vouches for a sentence below the feature floor
# ([rerank] ce_vouch_score); None: the feature floor always applies.
VOUCHES = (None, 1.0, 2.0, 3.0, 4.0)


@dataclasses.dataclass
class Outcome:
    answerable: bool
    passes_dense: bool  # the dense floor ([answer] min_dense_score)
    features: float | None  # the best sentence's feature score
    cross: float | None  # the best sentence's cross-encoder score (None: not read)
    feature_floor: float = 0.0  # [answer] min_score as configured

    @property
    def passes_other_floors(self) -> bool:
        """The dense and feature floors as configured."""
        return self.passes_dense and self.features is not None and self.features >= self.feature_floor


def collect(gold_path: Path, articles: list[Path], index: Path | None) -> list[Outcome]:
    from retrieval.config import Settings
    from retrieval.evaluation.gold import load_gold
    from retrieval.evaluation.runner import prepared_answerer, question_options

    # The cross-encoder's and the features' floors out of the way: the dense floor decides, and
    # the scores are kept to sweep the others.
    configured = Settings.load()
    feature_floor = float(configured.get("answer", "min_score"))
    settings = Settings.load(
        overrides={"rerank": {"ce_min_score": -1e9, "ce_vouch_score": 1e9}, "answer": {"min_score": -1e9}}
    )
    gold = load_gold(gold_path)
    if articles and gold.articles is not None:
        gold = gold.without_sources()
    out = []
    with prepared_answerer(settings, gold, articles, index) as (answerer, corpus):
        print(f"{gold_path.name}: {len(gold.questions)} questions over {corpus}", file=sys.stderr)
        for question in gold.questions:
            # Asked as the evaluator asks it: on its own day when the gold gives one.
            answer = answerer.ask(question.question, **question_options(question))
            top = answer.evidence[0] if answer.evidence else None
            out.append(
                Outcome(
                    bool(question.answers),
                    answer.answered,
                    top.score if top else None,
                    top.rerank_score if top else None,
                    feature_floor,
                )
            )
    return out


def xquad_half(xquad: Path, folder: Path) -> tuple[Path, Path]:
    """XQuAD with every other article indexed, one article a paragraph, and all its questions:
    those about the articles left out keep no answer. Returns (gold, articles) JSONL paths."""
    gold, articles = folder / "xquad_half_gold.jsonl", folder / "xquad_half_articles.jsonl"
    with gold.open("w", encoding="utf-8") as questions, articles.open("w", encoding="utf-8") as texts:
        for number, article in enumerate(json.loads(xquad.read_text(encoding="utf-8"))["data"]):
            kept = number % 2 == 0
            for p, paragraph in enumerate(article["paragraphs"]):
                if kept:
                    record = {"id": f"{article['title']}#{p}", "title": article["title"], "source": article["title"]}
                    texts.write(json.dumps({**record, "text": paragraph["context"]}) + "\n")
                for qa in paragraph["qas"]:
                    answers = sorted({a["text"] for a in qa["answers"]}) if kept else []
                    row = {"id": qa["id"], "question": qa["question"], "answers": answers}
                    questions.write(json.dumps({**row, "source": article["title"] if kept else None}) + "\n")
    return gold, articles


def rates(
    outcomes: list[Outcome], floor: float, vouch: float | None = None, feature_floor: float | None = None
) -> tuple[float | None, float]:
    """(unanswerable declined, answerable wrongly declined) with the cross-encoder floor
    ``floor``, the reader vouching at ``vouch``, and the feature floor ``feature_floor``
    (None: as configured)."""

    def answered(o: Outcome) -> bool:
        if not o.passes_dense or o.features is None:
            return False
        floor_f = o.feature_floor if feature_floor is None else feature_floor
        if o.cross is None:
            return o.features >= floor_f
        vouched = vouch is not None and o.cross >= vouch
        return (o.features >= floor_f or vouched) and o.cross >= floor

    unanswerable = [o for o in outcomes if not o.answerable]
    answerable = [o for o in outcomes if o.answerable]
    declined = sum(not answered(o) for o in unanswerable) / len(unanswerable) if unanswerable else None
    wrongly = sum(not answered(o) for o in answerable) / max(len(answerable), 1)
    return declined, wrongly


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        nargs="+",
        action="append",
        default=[],
        metavar="GOLD [ARTICLES...]",
        help="a gold set and the articles to index for it (none: a SQuAD gold's own paragraphs)",
    )
    parser.add_argument("--xquad-half", type=Path, help="XQuAD JSON: add it asked of every other article")
    parser.add_argument("--save", type=Path, help="also write every question's scores to this JSON file")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-no-answer-") as work:
        if args.xquad_half:
            gold, articles = xquad_half(args.xquad_half, Path(work))
            results["XQuAD, half the articles"] = collect(gold, [articles], None)
        for group in args.set:
            gold, *articles = (Path(p) for p in group)
            results[gold.name] = collect(gold, articles, None)
    if args.save:
        args.save.write_text(json.dumps({k: [dataclasses.asdict(o) for o in v] for k, v in results.items()}))
    print_sweep(results)


def print_sweep(results: dict[str, list[Outcome]]) -> None:
    """One row per (vouch, cross-encoder floor): declined / wrongly declined on each set."""
    print("| vouch | cross-encoder floor | " + " | ".join(f"{name}: declined / wrongly" for name in results) + " |")
    print("|---:|---:|" + "---:|" * len(results))
    for vouch in VOUCHES:
        for floor in FLOORS:
            cells = []
            for outcomes in results.values():
                declined, wrongly = rates(outcomes, floor, vouch)
                cells.append(f"{'n/a' if declined is None else f'{declined:.3f}'} / {wrongly:.3f}")
            print(f"| {'off' if vouch is None else f'{vouch:g}'} | {floor:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
