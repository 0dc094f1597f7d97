"""What the dense model sees for a sentence: shared by the builders of every store and the reranker."""

from __future__ import annotations

from typing import Any


def embedding_text(record: dict[str, Any], sentence: str) -> str:
    """What the dense model sees for a sentence: the sentence, led by its title when there is one."""
    title = record.get("title") or ""
    return f"{title}: {sentence}" if title else sentence
