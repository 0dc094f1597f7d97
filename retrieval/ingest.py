"""Read articles from seed-format .txt files and .jsonl files, accounting for every input."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from retrieval.lead import split_headline
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
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%Y%m%d",
    "%a, %d %b %Y %H:%M:%S %z",
    "%a, %d %b %Y",
)
# "03/04/2022", "3.4.2022", "03-04-2022": day and month in an order only [ingest] date_order knows.
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
DATE_ORDERS = ("DMY", "MDY")
# Fields a JSONL article may have besides "text", all strings ("id" may also be a whole number).
TEXT_FIELDS = ("id", "title", "source", "url")


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
    folders: list[str] = field(default_factory=list)  # every folder walked (real paths, links followed)

    def skip_reasons(self) -> Counter:
        return Counter(_reason_kind(p.reason) for p in self.skipped)


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


def json_kind(value: object) -> str:
    """A JSON value's type as a person writing JSON would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def is_ambiguous_date(value: str) -> bool:
    """A numeric date whose day and month could be either way round ("03/04/2022")."""
    match = NUMERIC_DATE.match(value.strip())
    return bool(match) and int(match.group(1)) <= 12 and int(match.group(2)) <= 12 and match.group(1) != match.group(2)


def _numeric_date(match: re.Match, order: str) -> str | None:
    first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if first > 12 >= second:  # only one reading is a date
        day, month = first, second
    elif second > 12 >= first:
        day, month = second, first
    else:
        day, month = (first, second) if order == "DMY" else (second, first)
    try:
        return datetime(year, month, day).date().isoformat()
    except ValueError:
        return None


def parse_date(value: object, order: str = "DMY") -> str | None:
    """A date string in a common format as YYYY-MM-DD; None when it is missing, not a string or
    not a real date. Numeric day/month dates read as ``order`` ("DMY" or "MDY") says."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if match := NUMERIC_DATE.match(text):
        return _numeric_date(match, order)
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


def _walk(folder: Path, warnings: list[Problem], walked: list[str] | None = None) -> Iterator[Path]:
    """Files below ``folder`` in sorted order, following symlinked folders.

    A folder reached twice (a symlink to an ancestor, or a second link to one already read) is
    read once and the link is reported, so a loop never runs forever or doubles articles; a
    link to nothing is reported too. Hidden files and folders are left out.
    """
    seen: set[tuple[int, int]] = set()

    def visit(directory: Path) -> Iterator[Path]:
        try:
            info = directory.stat()
            children = sorted(directory.iterdir())
        except OSError as exc:
            warnings.append(Problem(str(directory), f"cannot read folder ({exc.strerror or exc}); skipped"))
            return
        if (info.st_dev, info.st_ino) in seen:
            warnings.append(
                Problem(str(directory), f"symlink to a folder already read ({directory.resolve()}); skipped")
            )
            return
        seen.add((info.st_dev, info.st_ino))
        if walked is not None:
            walked.append(str(directory.resolve()))
        for child in children:
            if child.name.startswith("."):
                continue
            if child.is_symlink() and not child.exists():
                warnings.append(
                    Problem(str(child), f"dangling symlink to {os.readlink(child)} (nothing there); skipped")
                )
            elif child.is_dir():
                yield from visit(child)
            elif child.is_file():
                yield child

    yield from visit(folder)


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Problem | None]]:
    """Every file named or found below a named folder, with a problem when it cannot be read."""
    for path, problem, _name in _iter_named_files(paths, []):
        yield path, problem


def _iter_named_files(
    paths: Iterable[Path], warnings: list[Problem], walked: list[str] | None = None
) -> Iterator[tuple[Path, Problem | None, str]]:
    """As iter_files, with each file's name for default article ids: its path below the folder
    given, without the suffix ("2024/report"), so same-named files in different folders stay
    different articles; a file named directly is known by its stem."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in _walk(path, warnings, walked):
                name = child.relative_to(path).with_suffix("").as_posix()
                if child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child, None, name
                elif child.name.lower() != "readme.md":
                    yield (
                        child,
                        Problem(str(child), f"unsupported file type {child.suffix or '(none)'} (use .txt or .jsonl)"),
                        name,
                    )
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path, None, path.stem
            else:
                yield (
                    path,
                    Problem(str(path), f"unsupported file type {path.suffix or '(none)'} (use .txt or .jsonl)"),
                    path.stem,
                )
        elif path.is_symlink():
            yield path, Problem(str(path), f"not found (a dangling symlink to {os.readlink(path)})"), path.stem
        else:
            yield path, Problem(str(path), "not found"), path.stem


def _decode(raw: bytes, where: str) -> tuple[str | None, Problem | None]:
    if b"\x00" in raw[:8192]:
        return None, Problem(where, "binary file")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Problem(where, f"not UTF-8 text (byte {exc.start}); re-save the file as UTF-8")


class DateReader:
    """Parses one file's dates; says once per file how ambiguous numeric dates were read."""

    def __init__(self, where: str, order: str, result: ReadResult):
        self.where, self.order, self.result = where, order, result
        self.told = False

    def __call__(self, raw: str) -> str | None:
        parsed = parse_date(raw, self.order)
        if parsed and not self.told and is_ambiguous_date(raw):
            self.told = True
            reading = "day/month/year" if self.order == "DMY" else "month/day/year"
            other = "MDY" if self.order == "DMY" else "DMY"
            self.result.warnings.append(
                Problem(
                    self.where,
                    f"ambiguous numeric dates such as {raw.strip()!r} read as {reading} ({parsed}) by "
                    f'[ingest] date_order = "{self.order}"; set it to "{other}" if this file means the other order',
                )
            )
        return parsed


def read_txt(path: Path, result: ReadResult, name: str | None = None, date_order: str = "DMY") -> None:
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
        body = body[match.end() :]
    body = body.strip()
    if not body:
        result.skipped.append(Problem(where, "empty article (no text)"))
        return
    # A headline on the first line is the title, not a sentence.
    title, body = split_headline(fields.get("title", ""), body)
    article_date = DateReader(where, date_order, result)(raw_date) if raw_date is not None else None
    if raw_date is None:
        result.warnings.append(Problem(where, "no date (indexed without one; start the file with ' date YYYY-MM-DD ')"))
    elif article_date is None:
        result.warnings.append(Problem(where, f"impossible date {raw_date!r} (indexed without one; use YYYY-MM-DD)"))
    result.articles.append(
        Article(
            id=fields.get("id") or name or path.stem,
            text=body.strip(),
            title=title,
            date=article_date,
            source=fields.get("source") or path.stem,
            url=fields.get("url", ""),
            origin=where,
        )
    )


def _text_fields(record: dict, where: str, result: ReadResult) -> dict[str, str]:
    """The optional string fields, each checked: a value of another type is left out with a
    warning saying what was found ("url must be a string, got boolean false")."""
    fields = {}
    for key in TEXT_FIELDS:
        value = record.get(key)
        if value is None or value == "":
            fields[key] = ""
        elif isinstance(value, str):
            fields[key] = value.strip()
        elif key == "id" and isinstance(value, int) and not isinstance(value, bool):
            fields[key] = str(value)  # numeric ids are common in exports and mean the same as text
        else:
            fields[key] = ""
            instead = "an id derived from the text is used" if key == "id" else "left empty"
            result.warnings.append(
                Problem(where, f"{key} must be a string, got {json_kind(value)} {_shown(value)} ({instead})")
            )
    return fields


def content_id(text: str) -> str:
    """An id from the article's text alone (white space folded), so a JSONL article without an
    id keeps its id when lines are inserted, removed or reordered around it."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def _replace_lone_surrogates(record: dict) -> bool:
    """Replace halves of UTF-16 pairs in the record's strings with U+FFFD; True when there were any."""
    found = False
    for key, value in record.items():
        if isinstance(value, str) and LONE_SURROGATE.search(value):
            record[key] = LONE_SURROGATE.sub("\ufffd", value)
            found = True
    return found


def read_jsonl(path: Path, result: ReadResult, name: str | None = None, date_order: str = "DMY") -> None:
    """One article per line: ``text`` required; id, title, date, source, url optional.

    A line without an id or url is known as ``name:<hash of its text>`` (default name: the
    file's stem), so its id does not depend on where in the file it stands."""
    raw = path.read_bytes()
    text, problem = _decode(raw, str(path))
    if problem:
        result.inputs += 1
        result.skipped.append(problem)
        return
    dates = DateReader(str(path), date_order, result)
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
            result.skipped.append(Problem(where, 'malformed JSON (expected an object with a "text" field)'))
            continue
        if _replace_lone_surrogates(record):
            result.warnings.append(Problem(where, "invalid \\u escapes (half of a UTF-16 pair) replaced with U+FFFD"))
        body = record.get("text")
        if body is not None and not isinstance(body, str):
            result.skipped.append(Problem(where, f"text must be a string, got {json_kind(body)} {_shown(body)}"))
            continue
        if not isinstance(body, str) or not body.strip():
            result.skipped.append(Problem(where, 'empty article (missing or empty "text")'))
            continue
        raw_date = record.get("date")
        article_date = None
        if raw_date in (None, ""):
            result.warnings.append(Problem(where, "no date (indexed without one)"))
        elif not isinstance(raw_date, str):
            result.warnings.append(
                Problem(
                    where,
                    f"date must be YYYY-MM-DD or a date string, got "
                    f"{json_kind(raw_date)} {_shown(raw_date)} (indexed without one)",
                )
            )
        elif (article_date := dates(raw_date)) is None:
            result.warnings.append(
                Problem(where, f"impossible date {raw_date!r} (indexed without one; use YYYY-MM-DD)")
            )
        fields = _text_fields(record, where, result)
        # A headline repeated as the text's first line is the title, not a sentence.
        title, text = split_headline(fields["title"], body.strip())
        result.articles.append(
            Article(
                id=fields["id"] or fields["url"] or f"{name or path.stem}:{content_id(body)}",
                text=text.strip(),
                title=title,
                date=article_date,
                source=fields["source"] or path.stem,
                url=fields["url"],
                origin=where,
            )
        )


def read_paths(paths: Iterable[Path], date_order: str = "DMY") -> ReadResult:
    """Read every supported file under ``paths``; nothing bad stops the run."""
    result = ReadResult()
    for path, problem, name in _iter_named_files(paths, result.warnings, result.folders):
        if problem:
            result.inputs += 1
            result.skipped.append(problem)
            continue
        result.scopes.append(str(path.resolve()))
        before = result.inputs
        try:
            if path.suffix.lower() == ".jsonl":
                read_jsonl(path, result, name, date_order)
            else:
                result.inputs += 1
                read_txt(path, result, name, date_order)
        except OSError as exc:
            result.inputs = before + 1  # a file that cannot be read counts as one input, skipped
            result.skipped.append(Problem(str(path), f"cannot read ({exc.strerror or exc})"))
    return result


def drop_duplicates(articles: list[Article], skipped: list[Problem]) -> list[Article]:
    """Keep the first of articles sharing an id or the same text; record the rest as skipped.

    The same text is looked for first: two copies of a line without an id share their
    content-derived id too, and "duplicate article text" is what happened."""
    by_id: dict[str, Article] = {}
    by_text: dict[str, Article] = {}
    kept = []
    for article in articles:
        text_key = hashlib.sha256(" ".join(article.text.split()).encode("utf-8")).hexdigest()
        if text_key in by_text:
            skipped.append(Problem(article.origin, f"duplicate article text (same as {by_text[text_key].origin})"))
            continue
        if article.id in by_id:
            skipped.append(
                Problem(article.origin, f"duplicate article id {article.id!r} (first at {by_id[article.id].origin})")
            )
            continue
        by_id[article.id] = by_text[text_key] = article
        kept.append(article)
    return kept
