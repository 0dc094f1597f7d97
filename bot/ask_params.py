"""The parameters of a question, checked the same way for `newsdesk ask` and `newsdesk serve`.

The CLI's options use these click types directly; the server converts its query string and
JSON body with the same types, so a bad `k` or `mode` gets the same words at either door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from retrieval.filters import QUOTED_CHARS, FilterError, make_filters, parse_day, quoted
from retrieval.types import Filters


class WholeNumberRange(click.IntRange):
    """click.IntRange that says what is wrong with a value that is no number in plain words:
    "'abc' is not a whole number; give k between 1 and 100" (click says "is not a valid
    integer range"). ``what`` names the value, as the server's messages have no option name."""

    def __init__(self, low: int, high: int, what: str) -> None:
        super().__init__(low, high)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                int(value)  # what IntRange itself tries
            except ValueError:
                self.fail(
                    f"{quoted(value)} is not a whole number; give {self.what} between {self.min} and {self.max}",
                    param,
                    ctx,
                )
        return super().convert(value, param, ctx)


MODES = ["bm25", "dense", "hybrid"]
K_TYPE = WholeNumberRange(1, 100, "k")
MODE_TYPE = click.Choice(MODES)
# The parameters that restrict the evidence inside retrieval (retrieval/filters.py).
FILTERS = ("since", "until", "source")


class ParamError(ValueError):
    """A parameter cannot be used as given; the message says which and why."""


@dataclass(frozen=True)
class AskParams:
    question: str
    k: int | None = None
    mode: str | None = None
    filters: Filters = Filters()
    as_of: str | None = None


def filter_options(func):
    """--since, --until, --source (repeatable) and --as-of, shared by ask, chat and eval."""
    options = [
        click.option(
            "--since", default=None, metavar="YYYY-MM-DD", help="Only evidence published on or after this day."
        ),
        click.option(
            "--until", default=None, metavar="YYYY-MM-DD", help="Only evidence published on or before this day."
        ),
        click.option(
            "--source",
            "sources",
            multiple=True,
            metavar="NAME",
            help="Only evidence from this source (whole words, any case; repeat for several).",
        ),
        click.option(
            "--as-of",
            "as_of",
            default=None,
            metavar="YYYY-MM-DD",
            help="Read time words (latest, last month) against this day instead of the archive's newest.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def cli_filters(since: str | None, until: str | None, sources, as_of: str | None) -> tuple[Filters, str | None]:
    """The checked filters and as-of day from the command line; a bad value is a usage error."""
    try:
        return make_filters(since, until, sources), (parse_day(as_of, "as-of") if as_of else None)
    except FilterError as exc:
        raise click.UsageError(f"--{exc}") from None


def parse_ask_params(values: Mapping[str, Any]) -> AskParams:
    """``q``, ``k``, ``mode``, the filters and ``as_of`` from a query string or a JSON body
    (``source`` may repeat in a query string, be a list in JSON, or hold names split by commas).

    Empty values count as absent, as a web form sends every field. The question itself is
    checked by the answering core, which words its errors for people.
    """
    question = values.get("q")
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise ParamError("Invalid value for 'q': the question must be text.")
    sources = values.getlist("source") if hasattr(values, "getlist") else values.get("source")
    if isinstance(sources, str) or sources is None:
        sources = [sources] if sources else []
    if not isinstance(sources, list) or not all(isinstance(name, str) for name in sources):
        raise ParamError("Invalid value for 'source': give a source name, several separated by commas, e.g. reuters,ap")
    try:
        filters = make_filters(_text(values, "since"), _text(values, "until"), sources)
        as_of = parse_day(_text(values, "as_of"), "as_of") if _given(values.get("as_of")) else None
    except FilterError as exc:
        raise ParamError(f"Invalid value for {str(exc).split()[0]!r}: {exc}") from None
    return AskParams(
        question=question,
        k=_convert(K_TYPE, "k", values.get("k")),
        mode=_convert(MODE_TYPE, "mode", values.get("mode")),
        filters=filters,
        as_of=as_of,
    )


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if not _given(value):
        return None
    if not isinstance(value, str):
        raise ParamError(f"Invalid value for {name!r}: write the day as text, YYYY-MM-DD")
    return value


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _convert(param_type: click.ParamType, name: str, value: Any) -> Any:
    if not _given(value):
        return None
    if isinstance(value, str) and len(value) > QUOTED_CHARS:
        value = value[:QUOTED_CHARS] + "…"  # longer than any valid value: only the message quotes it
    elif not isinstance(value, str | int | float):
        raise ParamError(f"Invalid value for '{name}': give one value, not a JSON {type(value).__name__}")
    try:
        return param_type.convert(value, None, None)
    except click.BadParameter as exc:
        raise ParamError(f"Invalid value for '{name}': {exc.message}") from None
