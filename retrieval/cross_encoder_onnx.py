"""The cross-encoder on ONNX Runtime: the same logits as PyTorch, several times less CPU a pass.

ONNX Runtime runs a fixed graph with fused attention and no Python per layer, so a pass over
five short pairs costs a fraction of PyTorch eager's (bench/latency.py measures both in one
run). The graph is exported once from the shipped weights (``models/<name>/model.safetensors``,
already checked against SHA256SUMS) into a cache folder, keyed by that file's checksum, the
precision and the opset; every later process loads it without importing PyTorch. An export is
kept only if it scores a probe pair like PyTorch does, and a cached graph whose own checksum
no longer matches is exported again: the cache is derived data, the shipped weights stay the
only source of truth.

The cache folder and its stamps are retrieval/onnx_cache.py's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from retrieval.onnx_cache import cached_graph, export_graph, graph_path, quantise

# Largest logit difference from PyTorch an export may show on the probe pairs.
EXPORT_TOLERANCE = 1e-3
PROBE = (
    ("how many US troops to Poland?", "The Pentagon is sending 5,000 troops to Poland."),
    ("who won?", "Argentina won the final on penalties after a 3-3 draw with France in Lusail."),
)


def onnx_session(folder: Path, weights_sha256: str, precision: str, threads: int, tokenizer):
    """An ONNX Runtime session for the model in ``folder``, exporting its graph when not cached."""
    import onnxruntime as ort

    from retrieval.cross_encoder import RerankModelError

    path = graph_path(f"{folder.name}-{weights_sha256[:16]}", precision)
    cached_graph(path, lambda out: _export(folder, out, precision, tokenizer))
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, int(threads))
    options.inter_op_num_threads = 1
    # Idle worker threads would spin for work and take CPU from the sentence encoder and FAISS
    # running beside them in the same process.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception kinds for a bad graph
        raise RerankModelError(
            f"cannot load the cross-encoder graph {path}: {exc}; delete it to export it again, "
            'or set [rerank] ce_runtime = "torch"'
        ) from exc


def _export(folder: Path, path: Path, precision: str, tokenizer) -> None:
    """Export the float32 graph (then quantise it for int8), check it, and move it into place."""
    from retrieval.cross_encoder import RerankModelError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RerankModelError(
            f"cannot create the cross-encoder cache folder {path.parent}: {exc}; set NEWSDESK_CACHE_DIR "
            'to a writable folder, or [rerank] ce_runtime = "torch"'
        ) from exc
    model = _torch_model(folder)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        float_path = Path(work) / "float32.onnx"
        export_graph(model, float_path, "logits")  # BertForSequenceClassification takes INPUTS in order
        final = float_path
        if precision == "int8":
            final = Path(work) / "int8.onnx"
            quantise(float_path, final)
        _check(model, final, tokenizer, strict=precision == "float32")
        # Atomic: a process that loads the cache sees the old graph or the whole new one.
        os.replace(final, path)


def _torch_model(folder: Path):
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as transformers_logging

    # No "Loading weights" bar on a user's terminal, and nothing on stdout beside `ask --json`.
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    # Eager attention traces the padding mask into the graph; the fused path may not.
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), attn_implementation="eager")
    return model.float().eval()


def _check(model, graph: Path, tokenizer, strict: bool) -> None:
    """Refuse an export whose logits differ from PyTorch's on the probe pairs (float32 only:
    int8 differs by design, and the evaluator measures what that costs)."""
    import onnxruntime as ort
    import torch

    from retrieval.cross_encoder import RerankModelError

    session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    feeds = pad_pairs(tokenizer.encode_batch(list(PROBE)), range(len(PROBE)))
    got = session.run(None, feeds)[0].reshape(-1)
    if not strict:
        return
    with torch.inference_mode():
        want = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.view(-1).numpy()
    if float(np.abs(got - want).max()) > EXPORT_TOLERANCE:
        raise RerankModelError(
            f"the ONNX export of {graph.name} scores differently from PyTorch ({got} vs {want}); "
            'set [rerank] ce_runtime = "torch"'
        )


def pad_pairs(encodings, batch) -> dict[str, np.ndarray]:
    """The model inputs for the encodings at ``batch``, padded to the longest of them."""
    batch = list(batch)
    width = max(len(encodings[i].ids) for i in batch)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, i in enumerate(batch):
        e = encodings[i]
        ids[row, : len(e.ids)] = e.ids
        types[row, : len(e.ids)] = e.type_ids
        mask[row, : len(e.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
