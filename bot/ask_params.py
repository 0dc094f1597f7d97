"""The parameters of a question, checked the same way for `newsdesk ask` and `newsdesk serve`.

The CLI's options use these click types directly; the server converts its query string and
JSON body with the same types, so a bad `k` or `mode` gets the same words at either door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

MODES = ["bm25", "dense", "hybrid"]
K_TYPE = click.IntRange(1, 100)
MODE_TYPE = click.Choice(MODES)
# Accepted by the API's schema already; the answering core cannot filter yet (issue 14 adds it).
FILTERS = ("since", "until", "source")
FILTERS_NOT_SUPPORTED = (
    "filtering by {names} is not supported yet: the answering core cannot restrict evidence by "
    "date or source; ask without since, until and source"
)


class ParamError(ValueError):
    """A parameter cannot be used as given; the message says which and why."""


@dataclass(frozen=True)
class AskParams:
    question: str
    k: int | None = None
    mode: str | None = None


def parse_ask_params(values: Mapping[str, Any]) -> AskParams:
    """``q``, ``k``, ``mode`` (and the filters) from a query string or a JSON body.

    Empty values count as absent, as a web form sends every field. The question itself is
    checked by the answering core, which words its errors for people.
    """
    question = values.get("q")
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise ParamError("Invalid value for 'q': the question must be text.")
    used = [name for name in FILTERS if _given(values.get(name))]
    if used:
        raise ParamError(FILTERS_NOT_SUPPORTED.format(names=", ".join(used)))
    return AskParams(
        question=question,
        k=_convert(K_TYPE, "k", values.get("k")),
        mode=_convert(MODE_TYPE, "mode", values.get("mode")),
    )


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _convert(param_type: click.ParamType, name: str, value: Any) -> Any:
    if not _given(value):
        return None
    try:
        return param_type.convert(value, None, None)
    except click.BadParameter as exc:
        raise ParamError(f"Invalid value for '{name}': {exc.message}") from None
