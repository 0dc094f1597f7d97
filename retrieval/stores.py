"""Which store an archive lives in ([store] backend), and the one place that opens it for reading or writing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.backend import Manifest, SentenceSearch
from retrieval.config import Settings
from retrieval.store import IndexStore

LOCAL, MILVUS = "local", "milvus"


def backend(settings: Settings) -> str:
    return settings.get("store", "backend")


def check_model(settings: Settings) -> None:
    """EncoderError naming the fix when [model] name can be no model, before any store is
    opened or written (a store's own message would say "rebuild", which fails the same way)."""
    from retrieval.embed import EncoderError, unknown_model_message

    problem = unknown_model_message(settings.get("model", "name"), settings.source("model", "name"))
    if problem:
        raise EncoderError(problem)


def open_search(settings: Settings, root: Path | None = None, model: str | None = None) -> SentenceSearch:
    """The archive for questions: the live generation of the segment folder, or the Milvus collections."""
    check_model(settings)
    if backend(settings) == MILVUS:
        from retrieval.milvus_store import open_milvus_search

        return open_milvus_search(settings, model=model)
    from retrieval.search_index import load_search_index

    # How many nodes an HNSW search visits is a search setting, applied to every segment at load.
    ef_search = int(settings.get("retrieval", "hnsw_ef_search"))
    return load_search_index(IndexStore(Path(root) if root else settings.index_dir), model=model, ef_search=ef_search)


def make_indexer(settings: Settings, index_dir: Path | None = None, **options: Any):
    """The indexer of the configured store; both take the same inputs and give an IngestReport."""
    check_model(settings)
    if backend(settings) == MILVUS:
        from retrieval.milvus_indexer import MilvusIndexer

        return MilvusIndexer(settings, index_dir, **options)
    from retrieval.indexer import Indexer

    return Indexer(settings, index_dir, **options)


def describe(settings: Settings) -> Manifest:
    """What the configured store holds, read from its manifest alone (`newsdesk stats`)."""
    if backend(settings) == MILVUS:
        from retrieval.milvus_store import describe_milvus

        return describe_milvus(settings)
    store = IndexStore(settings.index_dir)
    return Manifest.from_dict(store.current().manifest, location=str(store.root))
