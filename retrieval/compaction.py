"""When the segment store merges segments, and what its segment list looks like after deletes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class CompactionPolicy:
    """When segments are merged: too many of them, or too much of one deleted.

    A segment more than ``max_deleted_fraction`` deleted is rewritten without its deleted
    articles. When an update would leave more than ``max_segments`` segments, every segment
    but the largest is merged into one, so an update costs the size of the small segments,
    never the size of the archive; the large one is rewritten only when it is itself mostly
    deleted (or by `newsdesk index --rebuild`).
    """

    max_segments: int = 8
    max_deleted_fraction: float = 0.25

    def plan(self, entries: list[dict[str, Any]], adding: bool) -> list[int]:
        """Positions of the segments to merge (with the new articles) into one; empty for none."""
        chosen = {
            i
            for i, e in enumerate(entries)
            if e["sentences"] and e.get("deleted_sentences", 0) > self.max_deleted_fraction * e["sentences"]
        }
        after = len(entries) - len(chosen) + (1 if chosen or adding else 0)
        if after > self.max_segments and entries:
            largest = max(
                range(len(entries)), key=lambda i: entries[i]["sentences"] - entries[i].get("deleted_sentences", 0)
            )
            chosen |= set(range(len(entries))) - {largest}
        return sorted(chosen)


def with_tombstones(
    entries: list[dict[str, Any]], deleted: dict[str, set[int]], live: list[tuple[dict[str, Any], str, int]]
) -> list[dict[str, Any]]:
    """The segment entries of the next generation before anything is added: each one's deleted
    articles (earlier tombstones and ``deleted``, by segment name and position) and deleted
    sentences; a segment with nothing left alive is dropped. ``live`` holds the articles that
    stay, as (record, segment name, position)."""
    out = []
    for entry in entries:
        gone = sorted(set(entry.get("deleted_articles", [])) | deleted.get(entry["name"], set()))
        live_sentences = sum(r.get("sentences", 0) for r, s, _ in live if s == entry["name"])
        if len(gone) < entry["articles"]:
            out.append({**entry, "deleted_articles": gone, "deleted_sentences": entry["sentences"] - live_sentences})
    return out
