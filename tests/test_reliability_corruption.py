"""Corruption: a truncated, emptied, garbled or missing index file, manifest or CURRENT pointer
gives a clear one-line error naming the command that fixes it: no traceback, and never a wrong
answer. The fix it names then works.

The files to damage are read from the live generation's manifest, so the tests follow the store
layout wherever it goes; everything else goes through the `newsdesk` command.
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_article, write_jsonl
from test_reliability_report import record_figures

from bot.cli import main

PROBES = [
    "when does the harbour bridge open?",
    "how many homes lost power in the storm?",
    "how many teachers will the district hire?",
    "what did the ferry company announce?",
]
tally = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_damage_tried():
    yield
    record_figures("corruption", damaged_stores_tried=tally["stores"], by_kind=dict(tally))


def newsdesk(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, env={"NEWSDESK_MODEL": "hashing"})


def answers(index_dir: Path):
    """The probes' answers, as `newsdesk ask --json` prints them (timings left out)."""
    result = newsdesk("ask", "--json", "--index", str(index_dir), stdin="".join(f"{q}\n" for q in PROBES))
    if result.exit_code != 0:
        return result
    out = [json.loads(line) for line in result.stdout.splitlines()]
    for answer in out:
        answer.pop("elapsed_ms", None)
        for evidence in answer["evidence"]:
            evidence.pop("sentence_id", None)
    return out


def top_sentences(result) -> list[tuple[str, str]]:
    return [(a["question"], a["evidence"][0]["text"] if a["evidence"] else "") for a in result]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """An index built, then updated (two generations), with the answers it gives."""
    work = tmp_path_factory.mktemp("pristine")
    articles = work / "articles"
    write_article(
        articles,
        "harbour.txt",
        "The city council approved a new harbour bridge on Monday. Mayor Ana Ruiz said the bridge opens in 2026.",
        "2024-03-01",
    )
    write_article(
        articles,
        "storm.txt",
        "A storm cut power to 12,000 homes in the valley. Crews restored electricity by Tuesday evening.",
        "2024-03-05",
    )
    assert newsdesk("index", "--index", str(work / "index"), str(articles)).exit_code == 0
    write_article(articles, "school.txt", "The district will hire 300 teachers next year.", "2024-02-20")
    write_jsonl(
        articles / "wire.jsonl",
        [
            {
                "id": "ferry",
                "text": "The ferry company announced a new route to Ystad.",
                "date": "2024-03-07",
                "source": "Wire",
            }
        ],
    )
    assert newsdesk("index", "--index", str(work / "index"), str(articles)).exit_code == 0
    baseline = answers(work / "index")
    assert isinstance(baseline, list) and all(a["answered"] for a in baseline)
    return work, baseline


def live_files(index_dir: Path) -> dict[str, Path]:
    """CURRENT, the live manifest, and every file the manifest lists, by a readable name."""
    generation = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text())
    files = {"CURRENT": index_dir / "CURRENT", "manifest": generation / "manifest.json"}
    for name in manifest["files"]:
        path = index_dir / name if (index_dir / name).is_file() else generation / name
        assert path.is_file(), f"the manifest lists {name}, which is neither under the store nor the generation"
        files[name] = path
    return files


def truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def empty(path: Path) -> None:
    os.truncate(path, 0)


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(max(0, middle - 8), min(len(data), middle + 8)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate_half,
    "emptied": empty,
    "garbled": garble,
    "deleted": delete,
}


def refused_with_the_fix(result) -> str | None:
    """What is wrong with how the command failed; None when it is a clean error naming the fix."""
    if result.exit_code != 1 or not isinstance(result.exception, SystemExit):
        return f"exit code {result.exit_code} with {type(result.exception).__name__}: {result.exception}"
    if "Traceback" in result.output:
        return "a traceback"
    if "newsdesk index" not in result.output:
        return f"no fix named: {result.output.strip()}"
    if result.stdout.strip():
        return f"printed an answer anyway: {result.stdout[:200]}"
    return None


def check_damaged_store(work: Path, baseline, name: str, damage: str, scratch: Path) -> list[str]:
    """Damage one file of a copy of the store; check ask, stats and index; return what went wrong."""
    index_dir = scratch / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(work / "index", index_dir)
    DAMAGE[damage](live_files(index_dir)[name])
    tally["stores"] += 1
    tally[damage] += 1
    problems = []
    result = answers(index_dir)
    if isinstance(result, list):
        if result != baseline:
            problems.append(f"{damage} {name}: ask answered differently instead of refusing")
    elif problem := refused_with_the_fix(result):
        problems.append(f"{damage} {name}: ask gave {problem}")
    stats = newsdesk("stats", "--json", "--index", str(index_dir))
    if stats.exit_code != 0 and (problem := refused_with_the_fix(stats)):
        problems.append(f"{damage} {name}: stats gave {problem}")
    # What a nightly job would run next: the update must refuse cleanly or leave a correct index.
    update = newsdesk("index", "--index", str(index_dir), str(work / "articles"))
    if update.exit_code == 0:
        after = answers(index_dir)
        if isinstance(after, list) and top_sentences(after) != top_sentences(baseline):
            problems.append(f"{damage} {name}: after `newsdesk index` the index answers differently")
        elif not isinstance(after, list) and (problem := refused_with_the_fix(after)):
            problems.append(f"{damage} {name}: after `newsdesk index`, ask gave {problem}")
    elif problem := refused_with_the_fix(update):
        problems.append(f"{damage} {name}: index gave {problem}")
    # The fix the errors name.
    rebuild = newsdesk("index", "--rebuild", "--index", str(index_dir), str(work / "articles"))
    if rebuild.exit_code != 0:
        problems.append(f"{damage} {name}: the fix `newsdesk index --rebuild` failed: {rebuild.output[-300:]}")
    else:
        fixed = answers(index_dir)
        if not isinstance(fixed, list) or top_sentences(fixed) != top_sentences(baseline):
            problems.append(f"{damage} {name}: after `newsdesk index --rebuild` the answers differ")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_file_or_manifest_is_refused_with_the_command_that_fixes_it(pristine, tmp_path, damage):
    work, baseline = pristine
    names = [name for name in live_files(work / "index") if name != "CURRENT"]  # CURRENT: see below
    assert len(names) > 3
    problems = []
    for name in names:
        problems += check_damaged_store(work, baseline, name, damage, tmp_path)
    assert not problems, "\n".join(problems)


POINTERS = {
    "a missing generation": b"gen-999\n",
    "binary garbage": b"\xff\xfe garbage \x00",
    "a path outside the store": b"../../../etc\n",
    "a path escaping the store": b"gen-1/../../outside\n",
    "nothing": b"",
    "cut short": None,
    "deleted while the generations remain": None,
}


@pytest.mark.parametrize("pointer", POINTERS.values(), ids=POINTERS)
def test_a_current_pointer_naming_nothing_usable_is_refused_with_the_fix(pristine, tmp_path, pointer, request):
    work, _ = pristine
    index_dir = tmp_path / "index"
    shutil.copytree(work / "index", index_dir)
    current = index_dir / "CURRENT"
    if "deleted" in request.node.callspec.id:
        current.unlink()
    elif pointer is None:
        truncate_half(current)
    else:
        current.write_bytes(pointer)
    tally["stores"] += 1
    tally["CURRENT"] += 1
    for command in (
        ["ask", "--json", "--index", str(index_dir), PROBES[0]],
        ["stats", "--json", "--index", str(index_dir)],
        ["index", "--index", str(index_dir), str(work / "articles")],
    ):
        result = newsdesk(*command)
        if command[0] == "index" and result.exit_code == 0:  # a fresh build beside the damage is a fix too
            assert top_sentences(answers(index_dir)) == top_sentences(pristine[1])
            continue
        assert refused_with_the_fix(result) is None, f"{command[0]}: {refused_with_the_fix(result)}"


MANIFEST_EDITS = {
    "without its file list": lambda m: m.pop("files"),
    "without its counts": lambda m: m.pop("counts"),
    "without its segments": lambda m: m.pop("segments", None) if "segments" in m else m.pop("files"),
    "with files of the wrong type": lambda m: m.update(files=["vectors"]),
    "from a future format": lambda m: m.update(format_version=m["format_version"] + 1),
    "for another model": lambda m: m.update(model="minilm"),
    "as a list": None,
}


@pytest.mark.parametrize("edit", MANIFEST_EDITS, ids=MANIFEST_EDITS)
def test_a_manifest_that_parses_but_is_incomplete_is_refused_with_the_fix(pristine, tmp_path, edit):
    work, _ = pristine
    index_dir = tmp_path / "index"
    shutil.copytree(work / "index", index_dir)
    path = live_files(index_dir)["manifest"]
    manifest = json.loads(path.read_text())
    if MANIFEST_EDITS[edit] is None:
        manifest = [manifest]
    else:
        MANIFEST_EDITS[edit](manifest)
    path.write_text(json.dumps(manifest))
    tally["stores"] += 1
    tally["manifest edits"] += 1
    result = answers(index_dir)
    assert result == pristine[1] if isinstance(result, list) else refused_with_the_fix(result) is None, result
    stats = newsdesk("stats", "--json", "--index", str(index_dir))
    assert stats.exit_code == 0 or refused_with_the_fix(stats) is None, stats.output
    assert isinstance(stats.exception, (SystemExit, type(None))), stats.exception


@pytest.mark.parametrize("damage", ["truncated", "garbled", "emptied"])
def test_a_damaged_embedding_cache_never_stops_an_update_silently_or_with_a_traceback(pristine, tmp_path, damage):
    work, baseline = pristine
    index_dir = tmp_path / "index"
    shutil.copytree(work / "index", index_dir)
    cache = index_dir / "embeddings.sqlite"
    assert cache.is_file()
    {"truncated": truncate_half, "garbled": garble_pages, "emptied": empty}[damage](cache)
    tally["stores"] += 1
    tally["embedding cache"] += 1
    assert answers(index_dir) == baseline, "questions never need the cache"
    write_article(work / "more", "late.txt", "The late ferry to Ystad was cancelled on Friday.", "2024-03-09")
    update = newsdesk("index", "--index", str(index_dir), str(work / "articles"), str(work / "more"))
    if update.exit_code == 0:
        after = answers(index_dir)
        assert top_sentences(after) == top_sentences(baseline)
    else:
        assert update.exit_code == 1 and isinstance(update.exception, SystemExit), update.output
        assert "Traceback" not in update.output and str(cache) in update.output, update.output


def garble_pages(path: Path) -> None:
    """Overwrite part of every 4 KiB page (SQLite's unit) with garbage."""
    noise = random.Random(7)
    data = bytearray(path.read_bytes())
    for start in range(0, len(data), 4096):
        data[start + 100 : start + 200] = noise.randbytes(100)
    path.write_bytes(bytes(data))


def big_archive(folder: Path, articles: int = 1700) -> Path:
    """About 17,000 sentences: enough for index files past the size the store checksums on load."""
    topics = ("council budget", "harbour ferry", "storm power", "school teachers", "river flood", "court ruling")
    noise = random.Random(3)
    for number in range(articles):
        topic = topics[number % len(topics)]
        sentences = [
            f"The {topic} report {number}-{i} noted {noise.randint(1, 99_999):,} cases in the {noise.choice(('north', 'south', 'east', 'west'))}ern district."
            for i in range(10)
        ]
        write_article(
            folder, f"a{number:05d}.txt", " ".join(sentences), f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}"
        )
    return folder


@pytest.mark.slow
def test_a_garbled_file_too_big_to_checksum_on_load_is_still_never_served(tmp_path):
    index_dir = tmp_path / "index"
    assert newsdesk("index", "--index", str(index_dir), str(big_archive(tmp_path / "articles"))).exit_code == 0
    questions = "".join(
        f"how many cases did the {topic} report {n}-3 note?\n"
        for n, topic in ((10, "storm power"), (500, "harbour ferry"), (1501, "court ruling"))
    )

    def ask(*mode: str):
        result = newsdesk("ask", "--json", "--index", str(index_dir), *mode, stdin=questions)
        return (
            [json.loads(line)["evidence"][0]["text"] for line in result.stdout.splitlines()]
            if result.exit_code == 0
            else result
        )

    before = [ask(), ask("--mode", "dense")]
    sizes = {name: path.stat().st_size for name, path in live_files(index_dir).items()}
    largest = max(sizes, key=sizes.get)
    assert sizes[largest] > 16 << 20, "the archive should make a file past the size checksummed on load"
    path = live_files(index_dir)[largest]
    with path.open("r+b") as handle:  # bit rot in place: same size, header and tail intact
        handle.seek(4096)
        handle.write(random.Random(11).randbytes(sizes[largest] - 8192))
    tally["stores"] += 1
    tally["garbled past the load checksum"] += 1
    for mode, expected in zip(([], ["--mode", "dense"]), before):
        after = ask(*mode)
        assert after == expected if isinstance(after, list) else refused_with_the_fix(after) is None, (
            f"{largest} garbled: ask {' '.join(mode)} answered {after} instead of {expected}"
        )
