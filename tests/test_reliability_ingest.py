"""Ingest keeps every article it was given: the summary of `newsdesk index` accounts for each
input line or file (indexed, updated, unchanged, removed, or skipped with a reason naming file
and line), and every article it counts as kept can be found afterwards.

A model of the archive says what should happen to each input; hypothesis builds archives of
good and bad inputs, indexes them, changes them and indexes again.
"""

from __future__ import annotations

import collections
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reliability_report import record_figures

from bot.cli import main
from retrieval.answer import open_answerer
from retrieval.config import Settings

# Inputs that must be skipped, with the start of the reason the summary gives.
BAD_TXT = {
    "empty": (b" date 2024-01-01 ", "empty article"),
    "binary": (b"\x00\x01\x02 binary", "binary file"),
    "latin-1": (" date 2024-01-01 caf\xe9 au lait".encode("latin-1"), "not UTF-8"),
}
BAD_LINES = {
    "malformed": ('{"id": "x", "text": broken', "malformed JSON"),
    "not an object": ('["a", "list"]', "malformed JSON"),
    "no text": ('{"id": "notext", "title": "Only a title"}', "empty article"),
    "blank text": ('{"text": "   "}', "empty article"),
    "too deep": ("[" * 3000 + "]" * 3000, "malformed JSON"),
}
# Word-like keywords the stemmer leaves alone: one per article, so a search finds exactly it.
LETTERS = "bcdfghjklmnpqrtvwxz"


def keyword(number: int, version: int = 0) -> str:
    word = ""
    number = number * 7 + version
    for _ in range(4):
        number, digit = divmod(number, len(LETTERS))
        word += LETTERS[digit]
    return f"zq{word}"


@dataclass
class Archive:
    """Numbers the articles written into an archive, so each gets its own keyword."""

    root: Path
    next_number: int = 0

    def new_text(self, number: int, version: int = 0) -> str:
        return f"The {keyword(number, version)} report was filed on time by the harbour office."

    def number(self) -> int:
        self.next_number += 1
        return self.next_number


tally = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_inputs_accounted():
    yield
    record_figures("ingest", index_runs=tally["runs"], inputs_accounted=tally["inputs"])


def build_inputs(root: Path, plan: list[tuple[str, str]], archive: Archive):
    """Write the inputs of ``plan``; return (expected per input: (where, fate, reason), articles)."""
    expected, articles = [], {}
    feed_lines: list[str] = []
    feed = root / "feed.jsonl"
    for number, (kind, fate) in enumerate(plan):
        if kind == "txt":
            path = root / f"story{number:02d}.txt"  # read in this order
            if fate == "good":
                n = archive.number()
                write_article(root, path.name, archive.new_text(n))
                articles[path.stem] = keyword(n)
                expected.append((str(path), "indexed", None))
            elif fate == "duplicate text":
                write_article(root, path.name, "The harbour office filed the shared report.")
                first = next((w for w, f, _ in expected if f == "shared"), None)
                expected.append(
                    (
                        str(path),
                        "shared" if first is None else "skipped",
                        None if first is None else "duplicate article text",
                    )
                )
            elif fate == "unsupported":
                path = root / f"story{number:02d}.pdf"
                path.write_bytes(b"%PDF-1.4")
                expected.append((str(path), "skipped", "unsupported file type"))
            else:
                data, reason = BAD_TXT[fate]
                path.write_bytes(data)
                expected.append((str(path), "skipped", reason))
        else:
            line_number = len(feed_lines) + 1
            where = f"{feed}:{line_number}"
            if fate == "good":
                n = archive.number()
                feed_lines.append(
                    json.dumps({"id": f"line{number}", "text": archive.new_text(n), "date": "2024-02-01"})
                )
                articles[f"line{number}"] = keyword(n)
                expected.append((where, "indexed", None))
            elif fate == "duplicate id":
                feed_lines.append(
                    json.dumps({"id": "same-id", "text": f"Story {number} about the {keyword(10_000 + number)} ferry."})
                )
                first = next((w for w, f, _ in expected if f == "first id"), None)
                if first is None:
                    articles["same-id"] = keyword(10_000 + number)
                expected.append(
                    (
                        where,
                        "first id" if first is None else "skipped",
                        None if first is None else "duplicate article id",
                    )
                )
            elif fate == "blank":
                feed_lines.append("   ")  # not an input: nothing to account for
            else:
                line, reason = BAD_LINES[fate]
                feed_lines.append(line)
                expected.append((where, "skipped", reason))
    if feed_lines:
        feed.write_text("\n".join(feed_lines) + "\n", encoding="utf-8")
    for i, (where, fate, _reason) in enumerate(expected):
        if fate == "shared":
            articles[Path(where).stem] = None  # found by text, not keyword
            expected[i] = (where, "indexed", None)
        elif fate == "first id":
            expected[i] = (where, "indexed", None)
    return expected, articles


def index(index_dir: Path, *paths: Path) -> dict:
    result = CliRunner().invoke(
        main, ["index", "--json", "--index", str(index_dir), *map(str, paths)], env={"NEWSDESK_MODEL": "hashing"}
    )
    assert result.exit_code == 0 and result.exception is None, result.output
    return json.loads(result.stdout)


def find(index_dir: Path, word: str):
    settings = Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "hashing"}})
    return open_answerer(settings).ask(word, k=1, mode="bm25").evidence


txt_fates = st.sampled_from(["good", "good", "good", "duplicate text", "unsupported", *BAD_TXT])
line_fates = st.sampled_from(["good", "good", "good", "duplicate id", "blank", *BAD_LINES])
plans = st.lists(
    st.one_of(st.tuples(st.just("txt"), txt_fates), st.tuples(st.just("jsonl"), line_fates)), min_size=1, max_size=14
)


def check_summary(summary: dict, expected: list[tuple[str, str, str | None]]) -> None:
    skipped = {(p["where"], p["reason"]) for p in summary["skipped"]}
    want = [(w, r) for w, f, r in expected if f == "skipped"]
    assert summary["read"] == len(expected), "every input line or file is counted once"
    assert summary["indexed"] + summary["updated"] + summary["unchanged"] + len(summary["skipped"]) == summary["read"]
    assert len(summary["skipped"]) == len(want)
    for where, reason in want:
        assert any(w == where and r.startswith(reason) for w, r in skipped), f"{where} should be skipped: {reason}"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans, st.data())
def test_every_input_is_accounted_for_and_every_kept_article_can_be_found(plan, data):
    with tempfile.TemporaryDirectory() as work:
        root, index_dir = Path(work) / "archive", Path(work) / "index"
        root.mkdir()
        archive = Archive(root)
        expected, articles = build_inputs(root, plan, archive)
        summary = index(index_dir, root)
        check_summary(summary, expected)
        assert summary["indexed"] == sum(f == "indexed" for _, f, _ in expected)
        tally["inputs"] += summary["read"]
        tally["runs"] += 1

        # Change the archive: edit, delete and add articles, and damage files that were good.
        feed_clean = not any(kind == "jsonl" and fate in BAD_LINES for kind, fate in plan)
        keep, updated, removed, still_there = {}, {}, set(), {}
        for article_id, word in articles.items():
            if word is None or article_id == "same-id":
                keep[article_id] = word
                continue
            story = article_id.startswith("story")
            action = data.draw(
                st.sampled_from(["keep", "edit", "delete", "damage"] if story else ["keep", "edit", "delete"]),
                label=article_id,
            )
            if action == "keep":
                keep[article_id] = word
            elif action == "edit":
                number = archive.number()
                updated[article_id] = keyword(number, 1)
                rewrite(root, article_id, archive.new_text(number, 1))
            elif action == "damage":  # a file gone bad is skipped, and its article stays as it was
                (root / f"{article_id}.txt").write_bytes(b"\x00 overwritten by a broken sync")
                still_there[article_id] = word
            else:
                delete(root, article_id)
                if story or feed_clean:
                    removed.add(article_id)
                else:  # the feed has bad lines this run: nothing of it is dropped until it reads cleanly
                    still_there[article_id] = word
        added_number = archive.number()
        write_article(root, "added.txt", archive.new_text(added_number))
        second = index(index_dir, root)
        assert second["read"] == second["indexed"] + second["updated"] + second["unchanged"] + len(second["skipped"])
        assert (second["indexed"], second["updated"], second["unchanged"], second["removed"]) == (
            1,
            len(updated),
            len(keep),
            len(removed),
        )
        damaged = {f"{root / article_id}.txt" for article_id in still_there if article_id.startswith("story")}
        assert damaged <= {p["where"] for p in second["skipped"] if p["reason"] == "binary file"}
        tally["inputs"] += second["read"]
        tally["runs"] += 1

        for article_id, word in {**keep, **updated, **still_there, "added": keyword(added_number)}.items():
            if word is None:
                continue
            [evidence] = find(index_dir, word)
            assert word in evidence.text and evidence.article_id == article_id, f"{article_id} was lost"
        for article_id in removed:
            word = articles[article_id]
            assert not any(word in e.text for e in find(index_dir, word)), f"{article_id} was deleted but still found"


def rewrite(root: Path, article_id: str, text: str) -> None:
    if article_id.startswith("story"):
        write_article(root, f"{article_id}.txt", text)
        return
    feed = root / "feed.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("{") and f'"id": "{article_id}"' in line:
            lines[i] = json.dumps({"id": article_id, "text": text, "date": "2024-02-02"})
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")


def delete(root: Path, article_id: str) -> None:
    if article_id.startswith("story"):
        (root / f"{article_id}.txt").unlink()
        return
    feed = root / "feed.jsonl"
    lines = [
        line
        for line in feed.read_text(encoding="utf-8").splitlines()
        if not (line.startswith("{") and f'"id": "{article_id}"' in line)
    ]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_printed_summary_names_each_kind_of_skip_and_adds_up(tmp_path):
    root = tmp_path / "archive"
    archive = Archive(root)
    root.mkdir()
    plan = [
        ("txt", "good"),
        ("txt", "good"),
        ("txt", "empty"),
        ("txt", "binary"),
        ("txt", "latin-1"),
        ("txt", "unsupported"),
        ("jsonl", "good"),
        ("jsonl", "malformed"),
        ("jsonl", "not an object"),
        ("jsonl", "no text"),
        ("jsonl", "duplicate id"),
        ("jsonl", "duplicate id"),
        ("jsonl", "blank"),
    ]
    build_inputs(root, plan, archive)
    result = CliRunner().invoke(
        main, ["index", "--index", str(tmp_path / "index"), str(root)], env={"NEWSDESK_MODEL": "hashing"}
    )
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("read ")]
    counts = {name: int(n) for name, n in re.findall(r"(read|indexed|updated|unchanged|removed|skipped) (\d+)", line)}
    assert counts == {"read": 12, "indexed": 4, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 8}, line
    for kind in (
        "binary file",
        "empty article",
        "malformed JSON",
        "not UTF-8",
        "unsupported file type",
        "duplicate article id",
    ):
        assert kind in line, f"the summary should count {kind!r}: {line}"
    for where in (
        "story02.txt",
        "story03.txt",
        "story04.txt",
        "story05.pdf",
        "feed.jsonl:2",
        "feed.jsonl:3",
        "feed.jsonl:4",
        "feed.jsonl:6",
    ):
        assert f"{where}: " in result.stderr, f"{where} should be named with its reason"


def test_files_with_the_same_name_in_different_folders_are_different_articles(tmp_path):
    for year, text in (
        ("2024", "The ferry to Ystad sails at noon."),
        ("2025", "The council approved the budget on Monday."),
    ):
        write_article(tmp_path / "archive" / year, "report.txt", text)
        (tmp_path / "archive" / year / "feed.jsonl").write_text(
            json.dumps({"text": f"Harbour fees rose in {year}."}) + "\n"
        )
    summary = index(tmp_path / "index", tmp_path / "archive")
    assert (summary["indexed"], summary["skipped"]) == (4, [])
    assert find(tmp_path / "index", "ferry Ystad")[0].article_id == "2024/report"
    assert find(tmp_path / "index", "council budget")[0].article_id == "2025/report"


def test_a_file_that_cannot_be_read_is_counted_once_and_skipped_with_the_reason(tmp_path, monkeypatch):
    root = tmp_path / "archive"
    write_article(root, "fine.txt", "The harbour bridge opens in May.")
    (root / "locked.jsonl").write_text(json.dumps({"text": "Unreadable story."}) + "\n")
    (root / "locked.txt").write_text(" date 2024-01-01 Unreadable story two.")
    real = Path.read_bytes

    def read_bytes(path):
        if path.stem == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    summary = index(tmp_path / "index", root)
    assert (summary["read"], summary["indexed"], len(summary["skipped"])) == (3, 1, 2)
    assert {p["reason"] for p in summary["skipped"]} == {"cannot read (Permission denied)"}
