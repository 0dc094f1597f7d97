"""Where ONNX graphs exported from shipped weights are kept, and how a damaged one is noticed.

A graph is derived data: it is exported once from weights the project trusts (checksummed
files), kept under a name keyed by those weights' digest, and stamped with its own sha256. A
graph whose stamp no longer matches is exported again, never run. Folder:
``$NEWSDESK_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsdesk``, else ``~/.cache/newsdesk``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path

OPSET = 17
# Version of the int8 recipe below, part of an int8 graph's cached name, so a graph quantised
# by an older recipe is never loaded as a newer one.
INT8_RECIPE = "int8rr"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # a BERT-style graph's inputs, in order


def cache_dir() -> Path:
    """Where exported graphs are kept (see the module docstring)."""
    explicit = os.environ.get("NEWSDESK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "newsdesk"


def graph_path(stem: str, precision: str) -> Path:
    """Where the graph of ``stem`` (a model and its weights' digest) in ``precision`` is cached;
    an int8 graph's name carries the quantisation recipe."""
    tag = INT8_RECIPE if precision == "int8" else precision
    return cache_dir() / f"{stem}-{tag}-opset{OPSET}.onnx"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_graph(path: Path, export: Callable[[Path], None]) -> Path:
    """``path``, exported by ``export(path)`` first when it is missing or fails its stamp.
    ``export`` must check what it wrote and move it into place atomically."""
    stamp = path.with_suffix(".onnx.sha256")
    if not (path.is_file() and stamp.is_file() and stamp.read_text().strip() == sha256_of(path)):
        export(path)
        stamp.write_text(sha256_of(path) + "\n")
    return path


def export_graph(module, out: Path, output: str) -> None:
    """Trace a BERT-style torch module taking ``INPUTS`` into an ONNX graph with dynamic batch
    and length, and one output named ``output``."""
    import torch

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0  # a padded row, so the mask is part of the traced graph
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes[output] = {0: "batch"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes about Python control flow in transformers
        torch.onnx.export(
            module,
            (ids, mask, torch.zeros_like(ids)),
            str(out),
            input_names=list(INPUTS),
            output_names=[output],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def quantise(source: Path, out: Path) -> None:
    """Dynamic int8 quantisation of a graph's linear layers: weights per output channel, in 7
    bits (``reduce_range``). This CPU family (AVX2 without VNNI) multiplies uint8 activations by
    int8 weights in 16-bit sums that saturate with full-range weights; 7-bit weights cannot,
    which is what keeps int8 close to float32 here (docs/quality.md)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs advice about pre-processing image models on the root logger; it is not
    # for newsdesk's users.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(out), per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
