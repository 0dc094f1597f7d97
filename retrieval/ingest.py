"""Read articles from seed-format .txt files and .jsonl files, accounting for every input."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from retrieval.types import Article

SUPPORTED_SUFFIXES = (".txt", ".jsonl")
# Seed format: the file opens with " date YYYY-MM-DD " and the text follows.
SEED_DATE = re.compile(r"^\s*date\s+(\S+)\s+", re.IGNORECASE)
# Optional header lines a .txt file may state before the text: "Source: AP", "Title: ...".
# (The value is stripped in code: a lazy "(.+?)\s*$" would take quadratic time on a long line.)
HEADER_LINE = re.compile(r"^\s*(source|title|url|date|id)\s*:(.+)$", re.IGNORECASE)
# JSON escapes can spell half of a UTF-16 pair ("\ud800"), which no file or index can store.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y",
    "%B %d %Y", "%b %d %Y", "%d/%m/%Y", "%Y%m%d", "%a, %d %b %Y %H:%M:%S %z", "%a, %d %b %Y",
)


@dataclass(frozen=True)
class Problem:
    """An input that was skipped, or indexed with a caveat; ``where`` is file[:line]."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ReadResult:
    """Articles read from the inputs, plus every input that was skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    inputs: int = 0  # files and JSONL lines looked at
    scopes: list[str] = field(default_factory=list)  # the files read, for dropping removed articles

    def skip_reasons(self) -> Counter:
        return Counter(_reason_kind(p.reason) for p in self.skipped)


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


def parse_date(value: object) -> str | None:
    """A date in a common format as YYYY-MM-DD; None when it is missing or not a real date."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            stamp = value / 1000 if value > 1e11 else value  # milliseconds or seconds
            return datetime.utcfromtimestamp(stamp).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def content_hash(article: Article) -> str:
    """Changes whenever anything a reader would see of the article changes."""
    payload = json.dumps([article.text, article.title, article.date, article.source, article.url])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Problem | None]]:
    """Every file named or found below a named folder, with a problem when it cannot be read."""
    for path, problem, _name in _iter_named_files(paths):
        yield path, problem


def _iter_named_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Problem | None, str]]:
    """As iter_files, with each file's name for default article ids: its path below the folder
    given, without the suffix ("2024/report"), so same-named files in different folders stay
    different articles; a file named directly is known by its stem."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    name = child.relative_to(path).with_suffix("").as_posix()
                    if child.suffix.lower() in SUPPORTED_SUFFIXES:
                        yield child, None, name
                    elif child.name.lower() != "readme.md":
                        yield child, Problem(str(child), f"unsupported file type {child.suffix or '(none)'} (use .txt or .jsonl)"), name
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path, None, path.stem
            else:
                yield path, Problem(str(path), f"unsupported file type {path.suffix or '(none)'} (use .txt or .jsonl)"), path.stem
        else:
            yield path, Problem(str(path), "not found"), path.stem


def _decode(raw: bytes, where: str) -> tuple[str | None, Problem | None]:
    if b"\x00" in raw[:8192]:
        return None, Problem(where, "binary file")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Problem(where, f"not UTF-8 text (byte {exc.start}); re-save the file as UTF-8")


def read_txt(path: Path, result: ReadResult, name: str | None = None) -> None:
    """One article per .txt file: optional header lines, then ' date YYYY-MM-DD ' and the text.

    Without an ``Id:`` header the article's id is ``name`` (default: the file's stem)."""
    where = str(path)
    text, problem = _decode(path.read_bytes(), where)
    if problem:
        result.skipped.append(problem)
        return
    fields: dict[str, str] = {}
    lines = text.splitlines()
    first = 0
    while first < len(lines) and (match := HEADER_LINE.match(lines[first])):
        fields[match.group(1).lower()] = match.group(2).strip()
        first += 1
    body = "\n".join(lines[first:])
    raw_date = fields.get("date")
    if match := SEED_DATE.match(body):
        raw_date = match.group(1)
        body = body[match.end():]
    body = body.strip()
    if not body:
        result.skipped.append(Problem(where, "empty article (no text)"))
        return
    article_date = parse_date(raw_date)
    if raw_date is None:
        result.warnings.append(Problem(where, "no date (indexed without one; start the file with ' date YYYY-MM-DD ')"))
    elif article_date is None:
        result.warnings.append(Problem(where, f"impossible date {raw_date!r} (indexed without one; use YYYY-MM-DD)"))
    result.articles.append(Article(
        id=fields.get("id") or name or path.stem,
        text=body,
        title=fields.get("title", ""),
        date=article_date,
        source=fields.get("source") or path.stem,
        url=fields.get("url", ""),
        origin=where,
    ))


def _text_field(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _replace_lone_surrogates(record: dict) -> bool:
    """Replace halves of UTF-16 pairs in the record's strings with U+FFFD; True when there were any."""
    found = False
    for key, value in record.items():
        if isinstance(value, str) and LONE_SURROGATE.search(value):
            record[key] = LONE_SURROGATE.sub("\ufffd", value)
            found = True
    return found


def read_jsonl(path: Path, result: ReadResult, name: str | None = None) -> None:
    """One article per line: ``text`` required; id, title, date, source, url optional.

    A line without an id or url is known as ``name:line`` (default name: the file's stem)."""
    raw = path.read_bytes()
    text, problem = _decode(raw, str(path))
    if problem:
        result.inputs += 1
        result.skipped.append(problem)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        result.inputs += 1
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            result.skipped.append(Problem(where, f"malformed JSON ({exc.msg} at column {exc.colno})"))
            continue
        except (ValueError, RecursionError) as exc:  # e.g. nested too deep, or a number too long
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
            result.skipped.append(Problem(where, f"malformed JSON ({reason})"))
            continue
        if not isinstance(record, dict):
            result.skipped.append(Problem(where, "malformed JSON (expected an object with a \"text\" field)"))
            continue
        if _replace_lone_surrogates(record):
            result.warnings.append(Problem(where, "invalid \\u escapes (half of a UTF-16 pair) replaced with U+FFFD"))
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            result.skipped.append(Problem(where, "empty article (missing or empty \"text\")"))
            continue
        raw_date = record.get("date")
        article_date = parse_date(raw_date)
        if raw_date in (None, ""):
            result.warnings.append(Problem(where, "no date (indexed without one)"))
        elif article_date is None:
            result.warnings.append(Problem(where, f"impossible date {raw_date!r} (indexed without one; use YYYY-MM-DD)"))
        url = _text_field(record, "url")
        result.articles.append(Article(
            id=_text_field(record, "id") or url or f"{name or path.stem}:{number}",
            text=body.strip(),
            title=_text_field(record, "title"),
            date=article_date,
            source=_text_field(record, "source") or path.stem,
            url=url,
            origin=where,
        ))


def read_paths(paths: Iterable[Path]) -> ReadResult:
    """Read every supported file under ``paths``; nothing bad stops the run."""
    result = ReadResult()
    for path, problem, name in _iter_named_files(paths):
        if problem:
            result.inputs += 1
            result.skipped.append(problem)
            continue
        result.scopes.append(str(path.resolve()))
        before = result.inputs
        try:
            if path.suffix.lower() == ".jsonl":
                read_jsonl(path, result, name)
            else:
                result.inputs += 1
                read_txt(path, result, name)
        except OSError as exc:
            result.inputs = before + 1  # a file that cannot be read counts as one input, skipped
            result.skipped.append(Problem(str(path), f"cannot read ({exc.strerror or exc})"))
    return result


def drop_duplicates(articles: list[Article], skipped: list[Problem]) -> list[Article]:
    """Keep the first of articles sharing an id or the same text; record the rest as skipped."""
    by_id: dict[str, Article] = {}
    by_text: dict[str, Article] = {}
    kept = []
    for article in articles:
        text_key = hashlib.sha256(" ".join(article.text.split()).encode("utf-8")).hexdigest()
        if article.id in by_id:
            skipped.append(Problem(article.origin, f"duplicate article id {article.id!r} (first at {by_id[article.id].origin})"))
            continue
        if text_key in by_text:
            skipped.append(Problem(article.origin, f"duplicate article text (same as {by_text[text_key].origin})"))
            continue
        by_id[article.id] = by_text[text_key] = article
        kept.append(article)
    return kept

