"""A cross-encoder that reads a question and a candidate sentence together and scores the pair.

The model is a one-output BERT classifier (``models/reranker-minilm-l6-qa``, made by
``training/``). It ships with newsdesk, is checked against its ``SHA256SUMS`` before loading,
and never falls back silently: a missing or damaged file is an error naming the fix.

Speed on a CPU comes from: ONNX Runtime (``retrieval/cross_encoder_onnx.py``; PyTorch eager
with ``ce_runtime = "torch"``), pairs sorted by length and batched so little padding is
computed, questions truncated before sentences, an LRU cache of scores keyed by (question,
sentence), so a repeated question or a sentence seen again costs nothing, and optionally int8
weights (``ce_precision``; the evaluator shows what they cost).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.config import PROJECT_ROOT
from retrieval.cross_encoder_onnx import pad_pairs
from retrieval.errors import NewsdeskError
from retrieval.onnx_cache import sha256_of

MODELS_DIR = PROJECT_ROOT / "models"
CHECKSUMS = "SHA256SUMS"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
PRECISIONS = ("int8", "float32")
RUNTIMES = ("onnxruntime", "torch")
# Padded tokens may exceed real ones by this share before a length-sorted batch is cut.
PAD_SLACK = 0.25


class RerankModelError(NewsdeskError, RuntimeError):
    """The configured cross-encoder cannot be used; the message says what to restore or set."""


def resolve_model(name: str) -> Path:
    """A model name under ``models/`` or a folder path, as a folder that exists."""
    path = Path(name).expanduser()
    candidates = [path] if path.is_absolute() or os.sep in name else [MODELS_DIR / name, path]
    for folder in candidates:
        if folder.is_dir():
            return folder
    known = sorted(p.name for p in MODELS_DIR.iterdir() if p.is_dir()) if MODELS_DIR.is_dir() else []
    raise RerankModelError(
        f"cross-encoder {name!r} not found (looked in {', '.join(map(str, candidates))}); set [rerank] "
        f'cross_encoder to one of {known or ["<a model folder>"]}, or to "" to turn the reranker off'
    )


def verify_model(folder: Path) -> dict[str, str]:
    """Check every file listed in SHA256SUMS and return their digests by name; raise
    RerankModelError naming the fix otherwise."""
    fix = (
        f"restore it (`git checkout -- {folder}` in a clone, or copy the folder again), "
        'or set [rerank] cross_encoder = "" to answer without the reranker'
    )
    sums_path = folder / CHECKSUMS
    if not sums_path.is_file():
        raise RerankModelError(f"cross-encoder {folder} has no {CHECKSUMS}, so it cannot be trusted: {fix}")
    expected: dict[str, str] = {}
    for line in sums_path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.strip().partition("  ")
        if digest and name:
            expected[name.strip()] = digest.strip()
    for name in REQUIRED_FILES:
        if name not in expected:
            raise RerankModelError(f"cross-encoder {folder}: {CHECKSUMS} does not list {name}: {fix}")
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise RerankModelError(f"cross-encoder file {path} is missing: {fix}")
        if sha256_of(path) != digest:
            raise RerankModelError(
                f"cross-encoder file {path} is damaged (its sha256 does not match {CHECKSUMS}): {fix}"
            )
    return expected


class CrossEncoder:
    """Scores (question, sentence) pairs; higher means the sentence answers the question better.

    Thread-safe: several answering threads may call ``score`` at once.
    """

    def __init__(
        self,
        name: str,
        precision: str = "int8",
        max_length: int = 128,
        threads: int = 0,
        cache_size: int = 20000,
        runtime: str = "onnxruntime",
    ):
        if precision not in PRECISIONS:
            raise RerankModelError(
                f"[rerank] ce_precision = {precision!r} is unknown; use one of {', '.join(PRECISIONS)}"
            )
        if runtime not in RUNTIMES:
            raise RerankModelError(f"[rerank] ce_runtime = {runtime!r} is unknown; use one of {', '.join(RUNTIMES)}")
        self.folder = resolve_model(name)
        digests = verify_model(self.folder)
        self.name = name
        self.precision = precision
        self.runtime = runtime
        self.max_length = int(max_length)
        self.threads = int(threads)
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._cache_size = int(cache_size)
        self._lock = threading.Lock()
        self._tokenizer = self._load_tokenizer()
        self._session = None
        self._model = None
        if runtime == "onnxruntime":
            from retrieval.cross_encoder_onnx import onnx_session

            # verify_model checked model.safetensors (a required file): its digest keys the cached graph.
            weights = digests["model.safetensors"]
            self._session = onnx_session(self.folder, weights, precision, self.threads, self._tokenizer)
        else:
            self._model = self._load_model()

    def _load_tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        # The question is short and the sentence is what is judged: cut the longer side first.
        tokenizer.enable_truncation(self.max_length, strategy="longest_first")
        tokenizer.no_padding()
        return tokenizer

    def _load_model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForSequenceClassification
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
        try:
            model = AutoModelForSequenceClassification.from_pretrained(str(self.folder))
        except Exception as exc:  # the library raises many kinds for a bad folder
            raise RerankModelError(f"cannot load cross-encoder from {self.folder}: {exc}") from exc
        model = model.float().eval()
        if model.config.num_labels != 1:
            raise RerankModelError(
                f"{self.folder} is not a one-output cross-encoder (num_labels "
                f"{model.config.num_labels}); point [rerank] cross_encoder at one"
            )
        if self.precision == "int8":
            with warnings.catch_warnings():  # torch marks its quantised-tensor constructors deprecated
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One logit per sentence, from the cache where the pair was scored before."""
        scores = np.zeros(len(sentences), dtype=np.float64)
        todo: list[int] = []
        with self._lock:
            for i, sentence in enumerate(sentences):
                cached = self._cache.get((question, sentence))
                if cached is None:
                    todo.append(i)
                else:
                    self._cache.move_to_end((question, sentence))
                    scores[i] = cached
        if todo:
            fresh = self._run(question, [sentences[i] for i in todo])
            with self._lock:
                for i, value in zip(todo, fresh):
                    scores[i] = value
                    self._cache[(question, sentences[i])] = float(value)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return scores

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _run(self, question: str, sentences: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        out = np.zeros(len(sentences), dtype=np.float64)
        if self._session is not None:
            for batch in length_batches([len(e.ids) for e in encodings]):
                logits = self._session.run(None, pad_pairs(encodings, batch))[0]
                out[batch] = logits.reshape(-1).astype(np.float64)
            return out
        import torch

        # torch's intra-op thread count is process-wide: set it for this pass and put it back,
        # so the sentence encoder (indexing in the same process) keeps its own.
        before = torch.get_num_threads()
        if self.threads and before != self.threads:
            torch.set_num_threads(self.threads)
        try:
            self._forward(encodings, out)
        finally:
            if self.threads and before != self.threads:
                torch.set_num_threads(before)
        return out

    def _forward(self, encodings, out: np.ndarray) -> None:
        import torch

        with torch.inference_mode():
            for batch in length_batches([len(e.ids) for e in encodings]):
                feeds = pad_pairs(encodings, batch)
                logits = self._model(**{name: torch.from_numpy(value) for name, value in feeds.items()}).logits
                out[batch] = logits.view(-1).double().numpy()


def length_batches(lengths: Sequence[int], max_batch: int = 32) -> list[list[int]]:
    """Indexes grouped so each batch, padded to its longest member, wastes little compute.

    Pairs are sorted by length and a batch is cut when padding it to the next pair's length
    would exceed ``PAD_SLACK`` of its real tokens (or it holds ``max_batch`` pairs).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        n = lengths[i]
        if current and (len(current) >= max_batch or n * (len(current) + 1) > (1 + PAD_SLACK) * (real + n)):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += n
    if current:
        batches.append(current)
    return batches


_LOADED: dict[tuple[str, str, int, int, str], CrossEncoder] = {}
_LOADING = threading.Lock()


def load_cross_encoder(
    name: str, precision: str = "int8", max_length: int = 128, threads: int = 0, runtime: str = "onnxruntime"
) -> CrossEncoder:
    """One CrossEncoder per (model folder, precision, length, threads, runtime) in a process: the
    bot's reloads, the evaluator's modes and the tests share it (and its score cache)."""
    key = (str(resolve_model(name).resolve()), precision, int(max_length), int(threads), runtime)
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = CrossEncoder(name, precision, max_length, threads, runtime=runtime)
        return _LOADED[key]
