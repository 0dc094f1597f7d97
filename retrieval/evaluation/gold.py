"""Gold question/answer files (JSONL, CSV, SQuAD v1.1/v2.0) read into one list of questions.

A bad entry is reported with its line number and skipped; only a file that cannot be read
at all (missing, not JSON, no header) stops the run, as a :class:`GoldError`.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date as _date
from pathlib import Path
from typing import Any

from retrieval.errors import NewsdeskError
from retrieval.evaluation.normalize import normalize
from retrieval.types import Article

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_ANSWER_SEPARATOR = "|"


class GoldError(NewsdeskError, ValueError):
    """The gold file cannot be read at all; the message says where and what to fix."""


class BadEntry(ValueError):
    """One gold entry is unusable; the message says why."""


@dataclass(frozen=True)
class GoldQuestion:
    """One question with its acceptable answers; no answers means the archive holds none.

    ``as_of`` is the day it was asked: it is asked as of that day over the archive as it stood
    then (time words read against it, nothing published later searched or shown)."""

    id: str
    question: str
    answers: tuple[str, ...]
    date: str | None = None
    source: str | None = None
    line: int | None = None
    as_of: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "date": self.date,
            "source": self.source,
            "as_of": self.as_of,
            "line": self.line,
        }


@dataclass(frozen=True)
class Skipped:
    """A gold entry left out of the run, and why."""

    line: int | None
    reason: str
    where: str = ""

    def __str__(self) -> str:
        place = f"line {self.line}" if self.line is not None else "entry"
        return f"{place}{f' ({self.where})' if self.where else ''}: {self.reason}"


@dataclass
class GoldSet:
    """The usable questions of a gold file, what was skipped, and (for SQuAD) its paragraphs."""

    path: Path
    format: str
    questions: list[GoldQuestion] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    articles: list[Article] | None = None

    def as_of_summary(self) -> str:
        """'150 questions carry the day they were asked (2022-01-07 to 2022-12-30)', or ''."""
        days = sorted(q.as_of for q in self.questions if q.as_of)
        if not days:
            return ""
        span = days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
        return (
            f"{len(days)} of {len(self.questions)} questions carry the day they were asked ({span}): each is "
            "asked as of that day, over the archive as it stood then, unless the command says --ignore-as-of"
        )

    def without_sources(self) -> GoldSet:
        """The same set with gold sources dropped (they name paragraphs that are not indexed)."""
        questions = [replace(q, source=None) for q in self.questions]
        return GoldSet(self.path, self.format, questions, list(self.skipped), self.articles)


def load_gold(path: Path) -> GoldSet:
    """Read ``path`` in the format its name (or, failing that, its content) indicates."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GoldError(f"gold file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"cannot read gold file {path} ({exc}); give a UTF-8 text file") from None
    fmt = detect_format(path, raw)
    gold = GoldSet(path=path, format=fmt)
    if fmt == "squad":
        _read_squad(raw, path, gold)
    else:
        entries = _jsonl_entries(raw) if fmt == "jsonl" else _csv_entries(raw, path)
        _collect(entries, gold)
    return gold


def detect_format(path: Path, raw: str) -> str:
    """Name the gold format: "jsonl", "csv" or "squad"."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        try:
            whole = json.loads(raw)
        except json.JSONDecodeError:
            # Several objects, one a line, unless a .json file is one document with a syntax error.
            return "jsonl" if suffix != ".json" or _is_json_object(stripped.splitlines()[0]) else "squad"
        if isinstance(whole, dict) and "data" in whole:
            return "squad"
        one_question = isinstance(whole, dict) and "question" in whole
        return "jsonl" if one_question or suffix != ".json" else "squad"
    if suffix == ".json":
        return "squad"  # the SQuAD reader reports what is wrong with it
    return "csv"


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _collect(entries: Iterator[tuple[int, Any]], gold: GoldSet) -> None:
    """Validate each (line, record) pair; duplicate ids are skipped so no question counts twice."""
    first_line: dict[str, int] = {}
    for line, record in entries:
        try:
            if isinstance(record, BadEntry):
                raise record
            question = parse_record(record, line)
            if question.id in first_line:
                raise BadEntry(f"duplicate id {question.id!r} (first on line {first_line[question.id]})")
        except BadEntry as exc:
            gold.skipped.append(Skipped(line, str(exc)))
            continue
        first_line[question.id] = line
        gold.questions.append(question)


def parse_record(record: Any, line: int) -> GoldQuestion:
    """Turn one JSON object or CSV row into a question, or raise :class:`BadEntry`."""
    if not isinstance(record, dict):
        raise BadEntry(f"expected an object with 'question' and 'answers', got {type(record).__name__}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise BadEntry("'question' is missing or empty")
    if "answers" not in record:
        raise BadEntry("'answers' is missing (use [] when the archive holds no answer)")
    answers = _answers(record["answers"])
    qid = record.get("id")
    if qid in (None, ""):
        qid = f"line-{line}"
    elif not isinstance(qid, (str, int)) or isinstance(qid, bool):
        raise BadEntry("'id' must be a string or a number")
    return GoldQuestion(
        id=str(qid),
        question=question.strip(),
        answers=answers,
        date=_gold_date(record.get("date")),
        source=_gold_source(record.get("source")),
        line=line,
        as_of=_gold_date(record.get("as_of"), "as_of"),
    )


def _answers(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise BadEntry("'answers' must be a list of strings")
    if any(not a.strip() for a in value):
        raise BadEntry("'answers' holds an empty string; remove it (use [] for no answer)")
    answers = tuple(dict.fromkeys(a.strip() for a in value))
    for answer in answers:
        if not normalize(answer):
            # An answer of only punctuation or articles would match every sentence.
            raise BadEntry(f"answer {answer!r} has no words left after normalisation")
    return answers


def _gold_date(value: Any, field_name: str = "date") -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise BadEntry(f"'{field_name}' {value!r} is not YYYY-MM-DD (e.g. \"2022-06-17\")")
    try:
        _date.fromisoformat(value.strip())
    except ValueError:
        raise BadEntry(f"'{field_name}' {value!r} is not a real calendar date") from None
    return value.strip()


def _gold_source(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadEntry("'source' must be a string (a source name, article id or url)")
    return value.strip()


def _jsonl_entries(raw: str) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, BadEntry(f"not valid JSON ({exc.msg} at column {exc.colno})")


def _csv_entries(raw: str, path: Path) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "question" not in columns or "answers" not in columns:
        raise GoldError(
            f"{path}: the CSV header must name the columns 'question' and 'answers' "
            f"(found {', '.join(columns) or 'no header'}); add a header line"
        )
    reader.fieldnames = columns
    while True:
        start = reader.line_num + 1  # a quoted field may span lines; report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, BadEntry(f"not valid CSV ({exc})")
            continue
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        if None in row:
            yield (
                start,
                BadEntry(
                    f"{len(columns) + len(row[None])} fields but the header has {len(columns)}; "
                    "quote fields that contain commas"
                ),
            )
            continue
        if any(v is None for v in row.values()):
            yield start, BadEntry(f"fewer fields than the header's {len(columns)}")
            continue
        cell = row["answers"].strip()
        answers = [a.strip() for a in cell.split(CSV_ANSWER_SEPARATOR)] if cell else []
        if any(not a for a in answers):
            yield start, BadEntry(f"'answers' {cell!r} holds an empty answer between '|' separators")
            continue
        yield start, {**row, "answers": answers}


def _read_squad(raw: str, path: Path, gold: GoldSet) -> None:
    """SQuAD v1.1/v2.0: paragraphs become articles "<title>#<n>"; v2 impossible questions have no answers."""
    try:
        whole = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GoldError(
            f"{path} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
            "fix the JSON or give a .jsonl file with one question a line"
        ) from None
    if not isinstance(whole, dict) or not isinstance(whole.get("data"), list):
        raise GoldError(f"{path}: a SQuAD file needs a top-level 'data' list; use .jsonl or .csv for other gold sets")
    gold.articles = []
    finder = _LineFinder(raw)
    seen: dict[str, str] = {}
    for a, entry in enumerate(whole["data"]):
        title = entry.get("title") if isinstance(entry, dict) else None
        paragraphs = entry.get("paragraphs") if isinstance(entry, dict) else None
        if not isinstance(title, str) or not title.strip() or not isinstance(paragraphs, list):
            gold.skipped.append(Skipped(None, "article needs a 'title' and a 'paragraphs' list", f"data[{a}]"))
            continue
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            qas = qas if isinstance(qas, list) else []
            if not isinstance(context, str) or not context.strip():
                # Its questions cannot be answered from a paragraph that is not there.
                gold.skipped += [
                    Skipped(finder.line_of(qa), "its paragraph has no 'context'", f"{where}.qas[{q}]")
                    for q, qa in enumerate(qas)
                ] or [Skipped(None, "paragraph has no 'context'", where)]
                continue
            article_id = f"{title}#{p}"
            gold.articles.append(
                Article(id=article_id, text=context, title=title, source=title, origin=f"{path.name} {where}")
            )
            for q, qa in enumerate(qas):
                line, place = finder.line_of(qa), f"{where}.qas[{q}]"
                try:
                    question = parse_record(_squad_record(qa, article_id), line or 0)
                    if question.id in seen:
                        raise BadEntry(f"duplicate id {question.id!r} (first at {seen[question.id]})")
                except BadEntry as exc:
                    gold.skipped.append(Skipped(line, str(exc), place))
                    continue
                seen[question.id] = place
                gold.questions.append(replace(question, line=line))


def _squad_record(qa: Any, article_id: str) -> dict[str, Any]:
    """A SQuAD question entry as a gold record whose source is its paragraph's article id."""
    if not isinstance(qa, dict):
        raise BadEntry("question entry is not an object")
    if qa.get("is_impossible") is True:
        answers: Any = []
    else:
        given = qa.get("answers")
        if not isinstance(given, list) or not given:
            raise BadEntry("answerable question without 'answers'; add one or set \"is_impossible\": true")
        if not all(isinstance(a, dict) and isinstance(a.get("text"), str) for a in given):
            raise BadEntry("each answer needs a 'text' string")
        answers = list(dict.fromkeys(a["text"].strip() for a in given))
    record = {"question": qa.get("question"), "answers": answers, "id": qa.get("id"), "source": article_id}
    if "as_of" in qa:
        record["as_of"] = qa["as_of"]
    return record


class _LineFinder:
    """Finds the line of each SQuAD question entry by its id (or question) in the raw text.

    JSON parsing keeps no positions, so each key is searched from where its previous match
    ended: entries come in file order, and a repeated id still points at its own line.
    """

    def __init__(self, raw: str):
        self.raw = raw
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", raw))]
        self.cursor = {"id": 0, "question": 0}

    def line_of(self, qa: Any) -> int | None:
        if not isinstance(qa, dict):
            return None
        for key in ("id", "question"):
            value = qa.get(key)
            if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
                continue
            for ascii_only in (False, True):
                pattern = f'"{key}"\\s*:\\s*' + re.escape(json.dumps(value, ensure_ascii=ascii_only))
                found = re.compile(pattern).search(self.raw, self.cursor[key])
                if found:
                    self.cursor[key] = found.end()
                    return bisect.bisect_right(self.line_starts, found.start())
        return None
