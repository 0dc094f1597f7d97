"""Write a trained cross-encoder as newsdesk loads it: float16 safetensors, tokenizer, checksums.

The weights are stored as float16 (half the bytes) and the config asks for float32 on load,
since float16 matrix products on a CPU are several times slower. int8 is made at load time
from these weights (retrieval/cross_encoder.py), so one file serves both precisions.
"""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.cross_encoder import CHECKSUMS
from retrieval.onnx_cache import sha256_of

# The files a model folder must hold; the loader checks each against SHA256SUMS.
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)


def export_model(model, tokenizer, out: Path, args: dict, log: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.to("cpu").half().save_pretrained(out, safe_serialization=True)
    model.float()
    tokenizer.save_pretrained(out)
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["torch_dtype"] = config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (out / "training.json").write_text(json.dumps({"args": args, "log": log}, indent=2) + "\n")
    write_checksums(out)


def write_checksums(folder: Path) -> None:
    """``sha256sum``-format lines for the model files present (checkable with ``sha256sum -c``)."""
    lines = [f"{sha256_of(folder / name)}  {name}" for name in MODEL_FILES if (folder / name).exists()]
    (folder / CHECKSUMS).write_text("\n".join(lines) + "\n")
