"""Question latency alone, first stage and with the reading stage, on a store `make bench` built.

    python -m bench.latency bench/cache/store-...     [--questions 200] [--threads 1]

The same measurement as `make bench` (bench/measure.py `latency`), without the rest of the
run: for checking the reading stage's cost on a quiet machine in a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> None:
    from bench import corpus, measure
    from retrieval.embed import SentenceTransformerEncoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args(argv)
    encoder = SentenceTransformerEncoder("minilm")
    result = measure.latency(args.store, corpus.questions(args.questions), encoder)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
