"""Crash safety: `newsdesk index` killed with SIGKILL at any point of a build or an update
leaves the previous index loadable and answering exactly as before (or, killed after the
switch, the finished update), and the next `newsdesk index` completes the update.

Two ways of killing it, both real SIGKILLs of a real `newsdesk index` process:

- at each step that changes the index folder: the process runs with a small hook (defined
  here, outside newsdesk) that counts its file-system calls inside the index folder (open
  for writing, fsync, rename, replace, mkdir, unlink, rmtree) and SIGKILLs itself just before
  the N-th one; a dry run lists the steps;
- from outside, while it embeds and while it writes, by watching the index folder for the
  embedding cache's write-ahead log and for temporary folders (``*.tmp``).

Afterwards everything is checked through the command: `newsdesk stats --json`,
`newsdesk ask --json` and the summary of the next `newsdesk index --json`.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_article, write_jsonl
from test_reliability_report import record_figures

from bot.cli import main
from retrieval.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

# Runs before newsdesk in the killed process: counts file-system changes inside the index
# folder and SIGKILLs the process just before the one numbered NEWSDESK_TEST_KILL_AT (or, for
# NEWSDESK_TEST_FULL_AT, fails that step as a full disk does, if the step takes space).
HOOK = r"""
import builtins, errno, io, os, shutil, signal, sys
_ROOT = os.path.realpath(os.environ["NEWSDESK_INDEX_DIR"])
_KILL_AT = int(os.environ.get("NEWSDESK_TEST_KILL_AT") or 0)
_FULL_AT = int(os.environ.get("NEWSDESK_TEST_FULL_AT") or 0)
_LOG = os.environ.get("NEWSDESK_TEST_STEPS")
_count = 0
_open, _os = builtins.open, {name: getattr(os, name) for name in
             ("rename", "replace", "unlink", "remove", "rmdir", "mkdir", "fsync", "truncate", "open")}
_rmtree = shutil.rmtree

def _inside(path):
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None
    return os.path.relpath(real, _ROOT) if real == _ROOT or real.startswith(_ROOT + os.sep) else None

def _step(kind, path):
    global _count
    where = _inside(path)
    if where is None:
        return
    _count += 1
    if _LOG:
        with _open(_LOG, "a") as log:
            log.write(f"{_count}\t{kind}\t{where}\n")
    if _count == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    if _count == _FULL_AT and kind in ("write", "mkdir", "fsync"):
        raise OSError(errno.ENOSPC, "No space left on device", where)

def _writing(mode):
    return any(flag in mode for flag in "wax+")

def _hooked_open(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and _writing(mode):
        _step("write", file)
    return _open(file, mode, *args, **kwargs)

def _wrap(name, kind, pick=lambda args: args[0]):
    def wrapper(*args, **kwargs):
        if not kwargs.get("dir_fd"):
            _step(kind, pick(args))
        return _os[name](*args, **kwargs)
    setattr(os, name, wrapper)

def _fd_path(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""

def _hooked_fsync(fd):
    _step("fsync", _fd_path(fd if isinstance(fd, int) else fd.fileno()))
    return _os["fsync"](fd)

def _hooked_os_open(path, flags, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC) and not kwargs.get("dir_fd"):
        _step("write", path)
    return _os["open"](path, flags, *args, **kwargs)

def _hooked_rmtree(path, *args, **kwargs):
    _step("rmtree", path)
    return _rmtree(path, *args, **kwargs)

builtins.open = io.open = _hooked_open
_wrap("rename", "rename", lambda args: args[1])
_wrap("replace", "replace", lambda args: args[1])
for _name in ("unlink", "remove", "rmdir", "mkdir", "truncate"):
    _wrap(_name, _name)
os.fsync, os.open, shutil.rmtree = _hooked_fsync, _hooked_os_open, _hooked_rmtree

from bot.cli import main
main()
"""

PROBES = [
    "when does the harbour bridge open?",
    "how many homes lost power in the storm?",
    "how many teachers will the district hire?",
    "what did the ferry company announce?",
    "who won the chess final?",
    "what happened at the airport?",
]
tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
steps_in_a_run: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def report_kills():
    yield
    record_figures(
        "crash",
        kills_survived={k: dict(v) for k, v in tally.items()},
        total=sum(sum(v.values()) for v in tally.values()),
        steps_in_a_run=steps_in_a_run,
    )


def environment(index_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSDESK_MODEL": "hashing",
        "NEWSDESK_INDEX_DIR": str(index_dir),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **extra,
    }


def index_command(index_dir: Path, paths: list[Path], hooked: bool = True) -> list[str]:
    entry = [sys.executable, "-c", HOOK] if hooked else [sys.executable, "-m", "bot.cli"]
    return [*entry, "index", "--json", "--index", str(index_dir), *map(str, paths)]


def newsdesk(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, env={"NEWSDESK_MODEL": "hashing"})


def state(index_dir: Path) -> dict | None:
    """What the index holds, as `newsdesk stats` and `newsdesk ask` say; None when there is no index."""
    stats = newsdesk("stats", "--json", "--index", str(index_dir))
    if stats.exit_code != 0:
        assert "newsdesk index" in stats.output and isinstance(stats.exception, SystemExit), stats.output
        return None
    asked = newsdesk("ask", "--json", "--index", str(index_dir), stdin="".join(f"{q}\n" for q in PROBES))
    assert asked.exit_code == 0, asked.output
    summary = json.loads(stats.stdout)
    out = {"stats": {k: summary[k] for k in ("articles", "sentences", "date_min", "date_max", "model")}}
    out["answers"] = [
        (a["question"], a["answered"], [(e["text"], e["article_id"], e["date"], e["source"]) for e in a["evidence"]])
        for a in map(json.loads, asked.stdout.splitlines())
    ]
    return out


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- the archive ------------------------------------------------------------------------------


def first_archive(folder: Path, extra: int = 30) -> Path:
    write_article(
        folder,
        "harbour.txt",
        "The city council approved a new harbour bridge on Monday. Mayor Ana Ruiz said the bridge opens in 2026.",
        "2024-03-01",
    )
    write_article(
        folder,
        "storm.txt",
        "A storm cut power to 12,000 homes in the valley. Crews restored electricity by Tuesday evening.",
        "2024-03-05",
    )
    write_article(folder, "school.txt", "The district will hire 300 teachers next year.", "2024-02-20")
    write_article(folder, "airport.txt", "Flights at the airport were delayed by fog on Friday.", "2024-02-21")
    for number in range(extra):
        write_article(
            folder,
            f"filler{number:03d}.txt",
            f"Filler story {number} about the regional market and its "
            f"{number} stalls. Traders met on day {number} to discuss parking.",
            "2024-01-15",
        )
    return folder


def update_archive(folder: Path) -> None:
    """Edit, add and delete articles, so an update has something of each kind to do."""
    write_article(
        folder,
        "storm.txt",
        "A storm cut power to 15,000 homes in the valley. Crews restored electricity by Wednesday.",
        "2024-03-06",
    )
    write_article(folder, "school.txt", "The district will hire 450 teachers next year.", "2024-03-08")
    (folder / "airport.txt").unlink()
    (folder / "filler000.txt").unlink()
    write_jsonl(
        folder / "wire.jsonl",
        [
            {
                "id": "ferry",
                "text": "The ferry company announced a new route to Ystad.",
                "date": "2024-03-07",
                "source": "Wire",
            },
            {"id": "chess", "text": "Anna Berg won the chess final in Oslo.", "date": "2024-03-09", "source": "Wire"},
        ],
    )


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """The archive before and after the update, the index of each, and what each answers.

    The update reads the same folder the first build read (work/archive), as a nightly job does.
    """
    work = tmp_path_factory.mktemp("crash")
    before_dir, archive = work / "before", work / "archive"
    first_archive(before_dir)
    shutil.copytree(before_dir, archive)
    built, updated = work / "built", work / "updated"
    assert newsdesk("index", "--index", str(built), str(archive)).exit_code == 0
    update_archive(archive)
    shutil.copytree(built, updated)
    result = newsdesk("index", "--json", "--index", str(updated), str(archive))
    report = json.loads(result.stdout)
    assert (report["indexed"], report["updated"], report["removed"]) == (2, 2, 2), report
    before, after = state(built), state(updated)
    assert before["answers"] != after["answers"], "the update must change what the probes find"
    return {
        "work": work,
        "before_dir": before_dir,
        "archive": archive,
        "built": built,
        "updated": updated,
        "before": before,
        "after": after,
        "update_report": report,
    }


# --- killing at each step ---------------------------------------------------------------------


def steps(command: list[str], env: dict[str, str], log: Path) -> list[str]:
    """A dry run of the hooked command: the file-system steps it takes in the index folder."""
    log.unlink(missing_ok=True)
    finished = subprocess.run(
        command,
        env={**env, "NEWSDESK_TEST_STEPS": str(log)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr
    return log.read_text().splitlines()


def kill_points(listed: list[str], budget: int) -> list[int]:
    """Which steps to kill at: every one when NEWSDESK_CRASH_POINTS=all, else a spread that
    always includes the first and last steps and those around every rename and replace."""
    count = len(listed)
    if os.environ.get("NEWSDESK_CRASH_POINTS") == "all" or count <= budget:
        return list(range(1, count + 1))
    chosen = {1, count}
    for number, line in enumerate(listed, start=1):
        if line.split("\t")[1] in ("rename", "replace", "rmtree"):
            chosen |= {number, min(count, number + 1)}
    spread = max(1, count // max(1, budget - len(chosen)))
    chosen |= set(range(1, count + 1, spread))
    return sorted(chosen)


def killed_at(command: list[str], env: dict[str, str], step: int) -> None:
    finished = subprocess.run(
        command,
        env={**env, "NEWSDESK_TEST_KILL_AT": str(step)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == -signal.SIGKILL, f"step {step} was never reached: {finished.stderr[-500:]}"


def test_a_first_build_killed_at_any_step_leaves_no_index_or_the_whole_one_and_the_next_run_builds_it(
    archives, tmp_path
):
    index_dir = tmp_path / "index"
    command = index_command(index_dir, [archives["before_dir"]])
    listed = steps(command, environment(index_dir), tmp_path / "steps.log")
    steps_in_a_run["first build"] = len(listed)
    full = archives["before"]
    reference_bytes = folder_bytes(index_dir)
    points = kill_points(listed, budget=int(os.environ.get("NEWSDESK_CRASH_BUDGET", 14)))
    for step in points:
        shutil.rmtree(index_dir)
        killed_at(command, environment(index_dir), step)
        found = state(index_dir)
        assert found in (None, full), f"killed before {listed[step - 1]}: a partial index is live"
        tally["first build"]["no index yet" if found is None else "built"] += 1
        rerun = newsdesk("index", "--json", "--index", str(index_dir), str(archives["before_dir"]))
        assert rerun.exit_code == 0, f"killed before {listed[step - 1]}, the next run failed: {rerun.output}"
        report = json.loads(rerun.stdout)
        # With no live index the next run builds everything, or finishes the commit the kill cut
        # short (its generation was complete, only CURRENT was missing): nothing left to index.
        assert report["indexed"] in ((full["stats"]["articles"], 0) if found is None else (0,))
        assert state(index_dir) == full, f"killed before {listed[step - 1]}: the next run did not complete the build"
        assert folder_bytes(index_dir) <= 1.5 * reference_bytes + 65536, "a crash left files behind for good"
    assert len(points) >= min(len(listed), 10)


def test_a_first_build_killed_once_its_files_are_in_place_is_finished_by_the_next_plain_run(archives, tmp_path):
    index_dir = tmp_path / "index"
    command = index_command(index_dir, [archives["before_dir"]])
    listed = steps(command, environment(index_dir), tmp_path / "steps.log")
    first_rename = next(n for n, line in enumerate(listed, start=1) if line.split("\t")[1] == "rename")
    shutil.rmtree(index_dir)
    killed_at(command, environment(index_dir), first_rename + 1)
    rerun = newsdesk("index", "--json", "--index", str(index_dir), str(archives["before_dir"]))
    assert rerun.exit_code == 0, rerun.output
    assert state(index_dir) == archives["before"]


def test_an_update_killed_at_any_step_answers_as_before_and_the_next_run_completes_it(archives, tmp_path):
    index_dir = tmp_path / "index"
    command = index_command(index_dir, [archives["archive"]])

    def fresh_copy():
        shutil.rmtree(index_dir, ignore_errors=True)
        shutil.copytree(archives["built"], index_dir)

    fresh_copy()
    before = state(index_dir)
    assert before == archives["before"]
    listed = steps(command, environment(index_dir), tmp_path / "steps.log")
    steps_in_a_run["update"] = len(listed)
    assert state(index_dir) == archives["after"]
    reference_bytes = folder_bytes(index_dir)
    points = kill_points(listed, budget=int(os.environ.get("NEWSDESK_CRASH_BUDGET", 14)))
    for step in points:
        fresh_copy()
        killed_at(command, environment(index_dir), step)
        found = state(index_dir)
        assert found in (before, archives["after"]), (
            f"killed before {listed[step - 1]}: answers are neither before nor after"
        )
        tally["update"]["before the switch" if found == before else "after the switch"] += 1
        rerun = newsdesk("index", "--json", "--index", str(index_dir), str(archives["archive"]))
        assert rerun.exit_code == 0, rerun.output
        report = json.loads(rerun.stdout)
        done = [report[k] for k in ("indexed", "updated", "removed")]
        assert done == (
            [archives["update_report"][k] for k in ("indexed", "updated", "removed")] if found == before else [0, 0, 0]
        )
        assert state(index_dir) == archives["after"], (
            f"killed before {listed[step - 1]}: the next run did not complete the update"
        )
        assert folder_bytes(index_dir) <= 1.5 * reference_bytes + 65536, "a crash left files behind for good"
    assert tally["update"]["before the switch"] and tally["update"]["after the switch"], dict(tally["update"])


# --- killing from outside, by phase -----------------------------------------------------------


def news_archive(folder: Path, start: int, count: int) -> Path:
    """``count`` ten-sentence articles: enough sentences for several embedding batches."""
    topics = ("council budget", "harbour ferry", "storm damage", "school teachers", "river flood", "court ruling")
    for number in range(start, start + count):
        topic = topics[number % len(topics)]
        sentences = [
            f"The {topic} report {number}-{i} counted {(number * 37 + i * 11) % 9973:,} cases in the "
            f"{('north', 'south', 'east', 'west')[i % 4]}ern district."
            for i in range(10)
        ]
        write_article(
            folder, f"story{number:05d}.txt", " ".join(sentences), f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}"
        )
    return folder


class Watch:
    """What an outside observer sees of a running `newsdesk index` in the index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.wal = index_dir / "embeddings.sqlite-wal"
        self.wal_at_start = self.wal.stat().st_size if self.wal.exists() else 0
        self.current_at_start = (index_dir / "CURRENT").read_bytes()

    def phase(self) -> str:
        try:
            current = self.index_dir / "CURRENT"
            if current.exists() and current.read_bytes() != self.current_at_start:
                return "switched"
            if any(path.name.endswith(".tmp") for path in self.index_dir.rglob("*")):
                return "writing"
            if self.wal.exists() and self.wal.stat().st_size > self.wal_at_start:
                return "embedding"
            return "reading"
        except OSError:  # a file went away while we looked: look again
            return "changing"


def kill_during(command: list[str], env: dict[str, str], watch: Watch, target: str, log: Path) -> bool:
    """Start the command and SIGKILL it the moment ``target`` is seen; False if it finished first."""
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        while process.poll() is None:
            if watch.phase() == target:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.001)
        assert process.returncode == 0, log.read_text()[-2000:]
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def big_update(tmp_path_factory):
    work = tmp_path_factory.mktemp("big")
    archive = news_archive(work / "archive", 0, 600)
    built = work / "built"
    assert newsdesk("index", "--index", str(built), str(archive)).exit_code == 0
    before = state(built)
    news_archive(archive, 600, 900)  # 9,000 new sentences: several embedding batches
    (archive / "story00001.txt").unlink()
    updated = work / "updated"
    shutil.copytree(built, updated)
    report = json.loads(newsdesk("index", "--json", "--index", str(updated), str(archive)).stdout)
    assert (report["indexed"], report["removed"]) == (900, 1)
    return {"archive": archive, "built": built, "before": before, "after": state(updated), "report": report}


@pytest.mark.parametrize("target", ["embedding", "writing", "switched"])
def test_an_update_killed_while_it_embeds_writes_or_switches_recovers_on_the_next_run(big_update, tmp_path, target):
    index_dir = tmp_path / "index"
    landed = False
    for _attempt in range(5):
        shutil.rmtree(index_dir, ignore_errors=True)
        shutil.copytree(big_update["built"], index_dir)
        watch = Watch(index_dir)
        command = index_command(index_dir, [big_update["archive"]], hooked=False)
        if kill_during(command, environment(index_dir), watch, target, tmp_path / "index.log"):
            landed = True
            break
    if not landed and target == "switched":
        pytest.skip("the update always finished between the switch and the kill (the step-by-step sweep covers it)")
    assert landed, f"no kill landed while {target} in 5 attempts"
    tally["update, killed from outside"][target] += 1
    found = state(index_dir)
    assert found in (big_update["before"], big_update["after"])
    if target != "switched":
        assert found == big_update["before"], "killed before the switch, the index must answer as before"
    rerun = newsdesk("index", "--json", "--index", str(index_dir), str(big_update["archive"]))
    assert rerun.exit_code == 0, rerun.output
    report = json.loads(rerun.stdout)
    if found == big_update["before"]:
        assert (report["indexed"], report["removed"]) == (900, 1)
        if target in ("writing", "switched"):
            assert report["encoded"] == 0, "vectors embedded before the kill are taken from the cache"
    assert state(index_dir) == big_update["after"]


@pytest.mark.model
def test_a_real_model_build_killed_mid_embedding_keeps_the_finished_batches_and_the_next_run_completes(tmp_path):
    archive = news_archive(tmp_path / "archive", 0, 110)  # 1,100 sentences: one full batch of 1,024, then more
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    env = {**environment(index_dir), "NEWSDESK_MODEL": "minilm"}
    command = index_command(index_dir, [archive], hooked=False)

    class FirstBatch(Watch):
        """Sees the cache hold a committed batch (rows readable by another connection)."""

        def __init__(self) -> None:  # no index yet: only the cache is watched
            self.cache = index_dir / "embeddings.sqlite"

        def phase(self) -> str:
            time.sleep(0.05)
            return "embedding" if committed_rows(self.cache) >= 1024 else "starting"

    assert kill_during(command, env, FirstBatch(), "embedding", tmp_path / "index.log"), "the build finished first"
    tally["first build, real model"]["killed while embedding"] += 1
    stats = CliRunner().invoke(main, ["stats", "--json", "--index", str(index_dir)])
    assert stats.exit_code == 1 and "newsdesk index" in stats.output and isinstance(stats.exception, SystemExit)
    rerun = subprocess.run(
        index_command(index_dir, [archive], hooked=False),
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout)
    assert report["indexed"] == 110 and report["sentences"] == 1100
    assert report["encoded"] <= 1100 - 1024, "the batch embedded before the kill is not embedded again"
    asked = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "ask",
            "--json",
            "--index",
            str(index_dir),
            "how many cases did the river flood report 4-2 count?",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert "river flood report 4-2 counted" in json.loads(asked.stdout)["evidence"][0]["text"]


def committed_rows(cache: Path) -> int:
    """Rows another process can read in the SQLite file, over all its tables (0 while it is being made)."""
    import sqlite3

    if not cache.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=0.1)
        try:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return sum(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables)
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_a_disk_filling_up_at_any_step_of_an_update_fails_that_run_in_one_line_and_costs_nothing_else(
    archives, tmp_path
):
    index_dir = tmp_path / "index"
    command = index_command(index_dir, [archives["archive"]])
    shutil.copytree(archives["built"], index_dir)
    listed = steps(command, environment(index_dir), tmp_path / "steps.log")
    space_taking = [n for n, line in enumerate(listed, start=1) if line.split("\t")[1] in ("write", "mkdir", "fsync")]
    budget = int(os.environ.get("NEWSDESK_CRASH_BUDGET", 14))
    points = (
        space_taking
        if os.environ.get("NEWSDESK_CRASH_POINTS") == "all"
        else sorted(set(space_taking[:: max(1, len(space_taking) // budget)]) | {space_taking[-1]})
    )
    for step in points:
        shutil.rmtree(index_dir)
        shutil.copytree(archives["built"], index_dir)
        failed = subprocess.run(
            command,
            env={**environment(index_dir), "NEWSDESK_TEST_FULL_AT": str(step)},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        found = state(index_dir)
        assert found in (archives["before"], archives["after"]), f"disk full at {listed[step - 1]}: answers changed"
        if failed.returncode == 0:
            assert found == archives["after"], f"disk full at {listed[step - 1]} went unnoticed"
        else:
            assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr[-1500:]
            assert "disk full at" in failed.stderr.lower(), failed.stderr[-500:]
        tally["update, disk full"]["answers as before" if found == archives["before"] else "answers as after"] += 1
        rerun = newsdesk("index", "--json", "--index", str(index_dir), str(archives["archive"]))
        assert rerun.exit_code == 0, rerun.output
        assert state(index_dir) == archives["after"], (
            f"disk full at {listed[step - 1]}: the next run did not complete it"
        )
    assert len(points) >= min(len(space_taking), 10)
