"""How far the Milvus store's reranker features are from the segment store's, question by question.

    python -m bench.store_compare tests/data/news2022_gold.jsonl tests/data/news2022_articles.jsonl

Indexes the articles into a segment store and into Milvus (a Milvus Lite server started on
127.0.0.1 for the run; the embedding cache is shared, so nothing is encoded twice), then for
every gold question gathers the feature reranker's candidates on both and prints: how often the
candidate sets and the best sentence agree, and the mean absolute difference of each feature
over the candidates both found.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from retrieval.answer import open_answerer
from retrieval.answer_types import question_type
from retrieval.config import Settings
from retrieval.evaluation.gold import load_gold
from retrieval.indexer import Indexer
from retrieval.rerank import FEATURES


def candidates(answerer, question: str):
    tokens = answerer.tokenizer(question)
    vector = answerer.encoder.encode([question])[0]
    kind = question_type(question)
    found = answerer.reranker.collect(
        answerer.index, answerer.tokenizer, tokens, vector, kind, question, answerer.candidates, answerer.passages
    )
    scores = answerer.reranker.score(found, kind)
    texts = [answerer.index.text(int(i)) for i in found.ids]
    best = texts[int(np.lexsort((found.ids, -scores))[0])] if len(texts) else None
    return {t: {name: float(found.features[name][i]) for name in FEATURES} for i, t in enumerate(texts)}, best


def main(argv: list[str] | None = None) -> None:
    from retrieval.milvus_lite import start_lite

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("articles", type=Path)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-compare-"))
    overrides = {"index": {"dir": str(work / "local")}, "rerank": {"cross_encoder": ""}}
    local_settings = Settings.load(overrides=overrides)
    Indexer(local_settings, progress=False).index_paths([args.articles])
    server = start_lite(work / "milvus")
    try:
        milvus_settings = Settings.load(
            overrides={**overrides, "store": {"backend": "milvus", "milvus_uri": server.uri}}
        )
        local = open_answerer(local_settings)
        from retrieval.milvus_indexer import MilvusIndexer

        MilvusIndexer(milvus_settings, progress=False).index_paths([args.articles])
        remote = open_answerer(milvus_settings, encoder=local.encoder)
        same_set = same_best = 0
        diffs: dict[str, list[float]] = {name: [] for name in FEATURES}
        questions = load_gold(args.gold).questions
        for gold in questions:
            mine, my_best = candidates(local, gold.question)
            theirs, their_best = candidates(remote, gold.question)
            same_set += set(mine) == set(theirs)
            same_best += my_best == their_best
            for text in set(mine) & set(theirs):
                for name in FEATURES:
                    diffs[name].append(abs(mine[text][name] - theirs[text][name]))
        result = {
            "questions": len(questions),
            "same_candidates": same_set,
            "same_best_sentence": same_best,
            "mean_abs_feature_difference": {n: float(np.mean(v)) if v else 0.0 for n, v in diffs.items()},
            "max_abs_feature_difference": {n: float(np.max(v)) if v else 0.0 for n, v in diffs.items()},
        }
        print(json.dumps(result, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
