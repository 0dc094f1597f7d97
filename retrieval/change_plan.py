"""What an indexing run must change: which articles are new, changed, moved or removed.

Shared by every store's indexer, so "incremental by content hash" means the same thing on
newsdesk's segment folders and on Milvus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from retrieval.ingest import content_hash
from retrieval.types import Article

Handle = TypeVar("Handle")


def article_record(article: Article, scope: str) -> dict[str, Any]:
    """The stored record of an article: its fields, where it came from, and its content hash."""
    return {
        "id": article.id,
        "title": article.title,
        "date": article.date,
        "source": article.source,
        "url": article.url,
        "origin": article.origin,
        "scope": scope,
        "hash": content_hash(article),
    }


def scope_of(article: Article) -> str:
    """The file an article was read from (its line number dropped), as an absolute path."""
    path = article.origin.rsplit(":", 1)[0] if article.origin.rsplit(":", 1)[-1].isdigit() else article.origin
    return str(Path(path).resolve())


@dataclass
class ChangePlan(Generic[Handle]):
    """Articles to write (record and text), and the stored copies to delete (new versions,
    moved files and removed articles), each named by the store's own handle."""

    added: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    gone: list[Handle] = field(default_factory=list)


def plan_changes(
    unique: Sequence[Article],
    scope_by_id: dict[str, str],
    previous: Sequence[tuple[dict[str, Any], Handle]],
    covers: Callable[[str], bool],
    report: Any,
) -> ChangePlan[Handle]:
    """Compare the articles read with the stored ones; counts go to ``report`` (indexed,
    updated, unchanged, removed). A stored article not read again is removed only when its
    scope was read this run (``covers``): indexing one folder never drops another's articles."""
    plan: ChangePlan[Handle] = ChangePlan()
    by_id = {record["id"]: (record, handle) for record, handle in previous}
    for article in unique:
        record = article_record(article, scope_by_id[article.id])
        old = by_id.get(article.id)
        if old is None:
            report.indexed += 1
        elif old[0]["hash"] != record["hash"]:
            report.updated += 1
        else:
            report.unchanged += 1
            if old[0].get("scope") == record["scope"]:
                continue  # stays where it is; a moved file re-files it below (no re-encoding)
        if old is not None:
            plan.gone.append(old[1])
        plan.added.append((record, article.text))
    incoming = {a.id for a in unique}
    for record, handle in previous:
        if record["id"] not in incoming and covers(record["scope"]):
            report.removed += 1
            plan.gone.append(handle)
    return plan
