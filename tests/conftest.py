"""Shared fixtures: every test gets its own index folder; most use the hashing fake encoder."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from retrieval.config import PROJECT_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The cross-encoder's exported ONNX graphs go to a folder of this run (the CLI processes tests
# start inherit it), so a run neither reads nor fills the user's cache.
if "NEWSDESK_CACHE_DIR" not in os.environ:
    os.environ["NEWSDESK_CACHE_DIR"] = tempfile.mkdtemp(prefix="newsdesk-test-cache-")
    atexit.register(shutil.rmtree, os.environ["NEWSDESK_CACHE_DIR"], ignore_errors=True)

SEEDS = PROJECT_ROOT / "seeds"
HEADLINE = "how many US troops to Poland?"
SENTENCE_1700 = "About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland"
SENTENCE_5000 = "The U.S. has started deploying 5,000 troops to Poland and Romania."


@pytest.fixture(autouse=True)
def isolated_index(tmp_path, monkeypatch):
    """No test reads or writes the project's own index/ folder, nor the user's data folder."""
    index_dir = tmp_path / "index"
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "newsdesk-home"))
    for var in ("NEWSDESK_MODEL", "NEWSDESK_MODE", "NEWSDESK_FUSION", "NEWSDESK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return index_dir


@pytest.fixture
def fresh_clone(tmp_path, monkeypatch) -> Path:
    """A fresh clone's default index folder (config/default.toml's `dir`), here in tmp_path:
    the one folder `ask` seeds by itself. Returns the folder."""
    import retrieval.config as config

    index_dir = tmp_path / "clone" / "index"
    index_dir.mkdir(parents=True)
    (index_dir / "README.md").write_text("The built index store (generated, never committed).\n")
    text = config.DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace('dir = "index"', f'dir = "{index_dir}"', 1).replace(
        'seed_dir = "seeds"', f'seed_dir = "{SEEDS}"', 1
    )
    default = tmp_path / "clone" / "default.toml"
    default.write_text(text, encoding="utf-8")
    monkeypatch.setattr(config, "DEFAULT_CONFIG", default)
    monkeypatch.delenv("NEWSDESK_INDEX_DIR")
    return index_dir


@pytest.fixture
def fake_settings(isolated_index) -> Settings:
    """Settings with the deterministic hashing encoder: fast, no model load."""
    return Settings.load(overrides={"index": {"dir": str(isolated_index)}, "model": {"name": "hashing"}})


def first_stage_settings(index_dir: Path, **sections) -> Settings:
    """The hashing encoder with the cross-encoder off (the first-stage ranking alone, so equal
    feature scores really tie), plus the settings ``sections`` given."""
    base = {"index": {"dir": str(index_dir)}, "model": {"name": "hashing"}, "rerank": {"cross_encoder": ""}}
    return Settings.load(overrides={**base, **sections})


def write_article(folder: Path, name: str, text: str, date: str | None = "2024-03-01") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text((f" date {date} " if date else "") + text, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """Three short news articles in the seed format."""
    folder = tmp_path / "articles"
    write_article(
        folder,
        "harbour.txt",
        (
            "The city council approved a new harbour bridge on Monday. Construction will cost 40 million dollars.\n\n"
            "Mayor Ana Ruiz said the bridge opens in 2026. Residents welcomed the decision."
        ),
        "2024-03-01",
    )
    write_article(
        folder,
        "storm.txt",
        (
            "A storm cut power to 12,000 homes in the valley. Crews restored electricity by Tuesday evening.\n\n"
            "The U.S. Weather Service warned of more rain."
        ),
        "2024-03-05",
    )
    write_article(
        folder,
        "school.txt",
        ("The district will hire 300 teachers next year. Class sizes have grown since 2019."),
        "2024-02-20",
    )
    return folder


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """The seed articles indexed once with the real model (for tests marked ``model``)."""
    from retrieval.indexer import Indexer

    index_dir = tmp_path_factory.mktemp("seed-index")
    settings = Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "minilm"}})
    Indexer(settings, index_dir, progress=False).index_paths([SEEDS])
    return index_dir


@pytest.fixture(scope="session")
def seed_answerer(seed_index):
    from retrieval.answer import open_answerer

    settings = Settings.load(overrides={"index": {"dir": str(seed_index)}, "model": {"name": "minilm"}})
    return open_answerer(settings)
