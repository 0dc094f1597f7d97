"""Question vectors on ONNX Runtime: the sentence-transformers model's own vectors, a third of the CPU.

A question is one short text; PyTorch eager spends most of its time on per-layer Python and
dispatch, which a fixed ONNX graph does not. The graph (the transformer, mean pooling under
the attention mask, L2 normalisation) is exported once from the model folder's weights into
the cache folder of retrieval/onnx_cache.py, keyed by the weights' digest, and kept only if
it gives sentence-transformers' vectors on probe sentences; every later process loads it
without importing PyTorch. Used for questions ([model] query_runtime); indexing keeps the
PyTorch encoder, and both give the same vectors (tests/test_scale_encoders.py).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from retrieval.cross_encoder_onnx import pad_pairs
from retrieval.embed import MINILM, EncoderError, SentenceTransformerEncoder
from retrieval.onnx_cache import cached_graph, export_graph, graph_path, quantise, sha256_of

# Largest difference from sentence-transformers' vectors an export may show on the probes.
EXPORT_TOLERANCE = 1e-4
# Smallest cosine an int8 graph's probe vectors may have to the float32 graph's (measured:
# 0.994 on average over 150 questions, 0.990 at worst).
INT8_MIN_COSINE = 0.98
PRECISIONS = ("float32", "int8")
PROBE = (
    "how many US troops to Poland?",
    "The Pentagon said on Wednesday that about 1,700 soldiers of the 82nd Airborne Division would deploy.",
)
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
FIX = 'set [model] query_runtime = "torch"'


def supported(folder: Path) -> str | None:
    """Why this model folder cannot run here (None when it can): only a plain transformer with
    mean pooling and normalisation, the layout of all-MiniLM-L6-v2, is exported."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its sentence-transformers files cannot be read ({exc})"
    if modules != ["Transformer", "Pooling", "Normalize"]:
        return f"its modules are {modules}, not Transformer, Pooling, Normalize"
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode_") and v)
    if modes != ["pooling_mode_mean_tokens"]:
        return f"its pooling is {modes}, not mean pooling"
    if not any((folder / name).is_file() for name in WEIGHTS):
        return f"it has none of {', '.join(WEIGHTS)}"
    return None


class OnnxSentenceEncoder:
    """Sentence vectors from the model folder's exported graph; one thread unless told more.

    ``precision`` "int8" runs the graph with int8 linear layers (onnx_cache.quantise), made
    once from the float32 graph: about half the time for a question, vectors within 0.99
    cosine of the float32 ones the index was built with."""

    def __init__(self, name: str, batch_size: int = 64, threads: int = 1, precision: str = "float32"):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in PRECISIONS:
            raise EncoderError(
                f"[model] query_precision = {precision!r} is unknown; use one of {', '.join(PRECISIONS)}"
            )
        self.name = name
        self.batch_size = batch_size
        self.precision = precision
        self.folder = SentenceTransformerEncoder._resolve(name)
        problem = supported(self.folder)
        if problem:
            raise EncoderError(f"model {name!r} cannot run on ONNX Runtime: {problem}; {FIX}")
        self.dim = int(json.loads((self.folder / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"])
        try:
            limit = int(json.loads((self.folder / "sentence_bert_config.json").read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError):
            limit = 256
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the model folder's tokenizer may pad to a fixed width
        self.tokenizer.enable_truncation(limit)
        weights = next(self.folder / n for n in WEIGHTS if (self.folder / n).is_file())
        tag = "minilm" if name == MINILM else self.folder.name
        stem = f"sentence-{tag}-{sha256_of(weights)[:16]}"
        path = graph_path(stem, "float32")
        try:
            cached_graph(path, lambda out: _export(self, out))
            if precision == "int8":
                source, path = path, graph_path(stem, "int8")
                cached_graph(path, lambda out: _quantise_checked(self, source, out))
        except OSError as exc:
            raise EncoderError(
                f"cannot write the question encoder's graph under {path.parent}: {exc}; set NEWSDESK_CACHE_DIR "
                f"to a writable folder, or {FIX}"
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception kinds for a bad graph
            raise EncoderError(f"cannot load the question encoder's graph {path}: {exc}; delete it, or {FIX}") from exc
        self._lock = threading.Lock()

    def encode(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts) if texts else []
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # little padding a batch
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            feeds = pad_pairs(encodings, batch)
            with self._lock:
                out[batch] = self._session.run(None, feeds)[0]
            if progress:
                progress(len(batch))
        return out


def _export(encoder: OnnxSentenceEncoder, path: Path) -> None:
    """Export the pooled, normalised graph, check it against sentence-transformers, move it into place."""
    import onnxruntime as ort
    import torch

    reference = SentenceTransformerEncoder(encoder.name)
    transformer = reference.model[0].auto_model
    transformer.config._attn_implementation = "eager"  # the padding mask traced into the graph

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(states.dtype)
            mean = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        graph = Path(work) / "sentence.onnx"
        export_graph(Pooled().eval(), graph, "vectors")
        session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
        got = session.run(None, _probe_feeds(encoder))[0]
        want = reference.encode(list(PROBE))
        if float(np.abs(got - want).max()) > EXPORT_TOLERANCE:
            raise EncoderError(
                f"the ONNX export of model {encoder.name!r} gives other vectors than sentence-transformers "
                f"(largest difference {float(np.abs(got - want).max()):.2g}); {FIX}"
            )
        os.replace(graph, path)  # atomic: a process loading the cache sees the old graph or the whole new one


def _quantise_checked(encoder: OnnxSentenceEncoder, source: Path, path: Path) -> None:
    """Quantise the float32 graph ``source`` to int8, check its probe vectors, move it into place."""
    import onnxruntime as ort

    feeds = _probe_feeds(encoder)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        graph = Path(work) / "int8.onnx"
        quantise(source, graph)
        want = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
        got = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
        cosine = float((got * want).sum(axis=1).min())
        if cosine < INT8_MIN_COSINE:
            raise EncoderError(
                f"the int8 graph of model {encoder.name!r} gives vectors only {cosine:.3f} cosine to float32's; "
                'set [model] query_precision = "float32"'
            )
        os.replace(graph, path)


def _probe_feeds(encoder: OnnxSentenceEncoder) -> dict[str, np.ndarray]:
    """The probe sentences as a graph's inputs: what every export is checked on."""
    return pad_pairs(encoder.tokenizer.encode_batch(list(PROBE)), range(len(PROBE)))
