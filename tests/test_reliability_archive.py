"""The archive is never lost: one writer at a time, no surprise seeding, honest errors.

Each test replays a way a team's archive was lost or misreported while cron jobs and people
updated it and the bot answered from it: two writers at once, a reader during a first build,
a reader after a killed build or on a mistyped folder, a full disk, a config mistake, inputs
that ingest misread, and a chat or bot that never saw new articles.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_article, write_jsonl
from test_reliability_report import record_figures

from bot.cli import main
from retrieval.config import PROJECT_ROOT, ConfigError, Settings

TOKEN = "123456789:AAHsecretsecretsecretsecretXYZ"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    return CliRunner()


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NEWSDESK_MODEL": "hashing", "HF_HUB_OFFLINE": "1", **extra}


def newsdesk(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env=kwargs.pop("env", env()),
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 300),
        **kwargs,
    )


def feed(path: Path, prefix: str, count: int) -> Path:
    """``count`` articles, each with its own keyword, in one JSONL file."""
    rows = [
        {
            "id": f"{prefix}-{i}",
            "date": "2024-05-01",
            "text": f"Report {i} from the {prefix} desk about the {prefix}{i}x harbour. The ferry left at dawn.",
        }
        for i in range(count)
    ]
    return write_jsonl(path, rows)


def articles_in(index_dir: Path) -> int:
    result = newsdesk("stats", "--json", "--index", str(index_dir))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["articles"]


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else ["<absent>"]


# A `newsdesk index` that pauses before each commit, so that two runs started together are
# both between reading the live generation and committing the next (where articles were lost).
SLOW_COMMIT = textwrap.dedent("""
    import time, retrieval.store as store
    commit = store.IndexStore.commit
    store.IndexStore.commit = lambda self, manifest: (time.sleep(1.5), commit(self, manifest))[1]
    from bot.cli import main
    main()
""")


# A first build that says when its vectors are embedded and cached, then waits to be killed.
KILLABLE_BUILD = textwrap.dedent("""
    import sys, time, retrieval.store as store
    def stop_here(self, contents):
        print("embedded", file=sys.stderr, flush=True)
        time.sleep(600)
    store.IndexStore.write_segment = stop_here
    from bot.cli import main
    main()
""")


def slow_index(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_COMMIT, "index", *args],
        cwd=PROJECT_ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- 1. one writer at a time ----------------------------------------------------------------


def test_two_index_runs_at_once_on_one_folder_lose_no_article(tmp_path):
    index_dir = tmp_path / "index"
    a, b = feed(tmp_path / "A.jsonl", "alpha", 120), feed(tmp_path / "B.jsonl", "bravo", 110)
    first = [slow_index(str(a), "--index", str(index_dir)), slow_index(str(b), "--index", str(index_dir))]
    outputs = [p.communicate(timeout=300) for p in first]
    assert [p.returncode for p in first] == [0, 0], outputs
    assert articles_in(index_dir) == 230, "a first build from A and B together must keep both"
    c, d = feed(tmp_path / "C.jsonl", "charlie", 60), feed(tmp_path / "D.jsonl", "delta", 70)
    updates = [slow_index(str(c), "--index", str(index_dir)), slow_index(str(d), "--index", str(index_dir))]
    outputs += [p.communicate(timeout=300) for p in updates]
    assert [p.returncode for p in updates] == [0, 0], outputs
    assert articles_in(index_dir) == 360, "two updates at once must add both"
    waited = sum("waiting up to" in err for _, err in outputs)
    record_figures(
        "archive: two writers at once", runs=4, articles_expected=360, articles_kept=360, runs_that_waited=waited
    )


def test_a_second_writer_waits_saying_who_holds_the_lock_then_gives_up_or_goes_on(tmp_path, cli):
    from retrieval.writer_lock import WriterLock

    index_dir = tmp_path / "index"
    a = feed(tmp_path / "A.jsonl", "alpha", 5)
    with WriterLock(index_dir):
        refused = newsdesk("index", str(a), "--index", str(index_dir), "--wait", "0")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "index", str(a), "--index", str(index_dir), "--wait", "60"],
            cwd=PROJECT_ROOT,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)
        assert waiting.poll() is None, "the second writer must wait while the lock is held"
    out, err = waiting.communicate(timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    message = refused.stderr
    assert f"pid {os.getpid()}" in message and os.uname().nodename in message, message
    assert "started 20" in message and "--wait SECONDS" in message, message
    assert waiting.returncode == 0, err
    assert "waiting up to" in err and f"pid {os.getpid()}" in err, err
    assert articles_in(index_dir) == 5


def test_a_writer_killed_with_sigkill_leaves_no_stale_lock_and_readers_never_wait(tmp_path, cli):
    index_dir = tmp_path / "index"
    assert newsdesk("index", str(feed(tmp_path / "A.jsonl", "alpha", 5)), "--index", str(index_dir)).returncode == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from retrieval.writer_lock import WriterLock;"
            f"WriterLock({str(index_dir)!r}).acquire(); print('held', flush=True); time.sleep(600)",
        ],
        cwd=PROJECT_ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    asked = newsdesk("ask", "--json", "--index", str(index_dir), "alpha3x harbour")
    assert asked.returncode == 0 and "alpha3x" in asked.stdout, asked.stderr
    assert time.monotonic() - started < 60
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    again = newsdesk("index", str(feed(tmp_path / "B.jsonl", "bravo", 3)), "--index", str(index_dir), "--wait", "0")
    assert again.returncode == 0, again.stderr
    assert articles_in(index_dir) == 8


# --- 2 and 3. seeding only where asked ---------------------------------------------------------


def test_asking_during_someone_elses_first_build_writes_nothing_and_says_there_is_no_index_yet(tmp_path, cli):
    from retrieval.writer_lock import WriterLock

    index_dir = tmp_path / "index"
    (index_dir / "segments" / ".seg-000001.tmp").mkdir(parents=True)  # a first build, writing
    (index_dir / "segments" / ".seg-000001.tmp" / "articles.jsonl").write_text("{}\n")
    with WriterLock(index_dir):
        before = tree(index_dir)
        for command in (["ask", "troops Poland"], ["chat"]):
            result = cli.invoke(main, [*command, "--index", str(index_dir)], input=":q\n")
            assert result.exit_code == 1, result.output
            assert f"no index at {index_dir}" in result.output
            assert f"run `newsdesk index PATH --index {index_dir}`" in result.output
        bot = newsdesk("bot", "--index", str(index_dir), env=env(TELEGRAM_BOT_TOKEN=TOKEN))
        assert bot.returncode == 1 and f"no index at {index_dir}" in bot.stderr, bot.stderr
        assert tree(index_dir) == before, "a reader must not write into an index folder"


def test_a_killed_first_build_or_a_mistyped_folder_is_never_seeded(tmp_path, cli):
    archive = tmp_path / "news"
    feed(archive / "wire.jsonl", "alpha", 30)
    index_dir = tmp_path / "index"
    build = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_BUILD, "index", str(archive), "--index", str(index_dir)],
        cwd=PROJECT_ROOT,
        env=env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert build.stderr.readline().strip() == "embedded", "the first build should have embedded its articles"
    build.send_signal(signal.SIGKILL)  # killed once its vectors are cached, before its segment is written
    build.wait()
    before = tree(index_dir)
    assert "embeddings.sqlite" in before and "CURRENT" not in before
    asked = cli.invoke(main, ["ask", "--index", str(index_dir), "how many US troops to Poland?"])
    assert asked.exit_code == 1 and f"no index at {index_dir}" in asked.output, asked.output
    assert tree(index_dir) == before, "a reader must not write into an index folder"
    (index_dir / "segments" / "seg-000001").mkdir(parents=True)  # killed after writing a segment instead
    asked = cli.invoke(main, ["ask", "--index", str(index_dir), "how many US troops to Poland?"])
    assert asked.exit_code == 1 and "a first build is unfinished or still running" in asked.output, asked.output
    (index_dir / "segments" / "seg-000001").rmdir()
    assert cli.invoke(main, ["index", str(archive), "--index", str(index_dir)]).exit_code == 0
    answer = json.loads(
        cli.invoke(main, ["ask", "--json", "--index", str(index_dir), "how many US troops to Poland?"]).output
    )
    assert all(e["article_id"].startswith("alpha-") for e in answer["evidence"]), "a seed article got into the archive"
    typo = tmp_path / "typo_idx"
    for command in (["ask", "troops"], ["stats"]):
        result = cli.invoke(main, [*command, "--index", str(typo)])
        assert result.exit_code == 1 and f"no index at {typo}" in result.output, result.output
    evaluated = cli.invoke(
        main,
        [
            "eval",
            str(PROJECT_ROOT / "tests/data/seed_gold.jsonl"),
            "--index",
            str(typo),
            "--out",
            str(tmp_path / "eval-out"),
        ],
    )
    assert evaluated.exit_code == 2 and f"no index at {typo}" in evaluated.output, evaluated.output
    assert not typo.exists(), "a mistyped --index must not be created"


def test_only_a_fresh_clones_default_folder_is_seeded_and_only_once(cli, fresh_clone):
    first = cli.invoke(main, ["ask", "how many US troops to Poland?"])
    assert first.exit_code == 0 and "building it from the seed articles" in first.output, first.output
    second = cli.invoke(main, ["ask", "how many US troops to Poland?"])
    assert second.exit_code == 0 and "building it" not in second.output
    other = fresh_clone.parent / "other"
    assert cli.invoke(main, ["ask", "--index", str(other), "troops"]).exit_code == 1 and not other.exists()


def test_the_default_folder_with_an_unfinished_build_is_not_seeded(cli, fresh_clone):
    (fresh_clone / "segments" / "seg-000001").mkdir(parents=True)
    result = cli.invoke(main, ["ask", "how many US troops to Poland?"])
    assert result.exit_code == 1 and "no index at" in result.output, result.output
    assert sorted(p.name for p in fresh_clone.iterdir()) == ["README.md", "segments"]


# --- 4. honest resource errors -------------------------------------------------------------


def test_a_full_disk_while_caching_vectors_says_disk_full_and_leaves_the_healthy_cache_alone(
    tmp_path, cli, monkeypatch
):
    from retrieval.embed import EmbeddingCache

    index_dir = tmp_path / "index"
    assert (
        cli.invoke(main, ["index", str(feed(tmp_path / "A.jsonl", "alpha", 40)), "--index", str(index_dir)]).exit_code
        == 0
    )
    cache = index_dir / "embeddings.sqlite"
    before = cache.read_bytes()
    opened = EmbeddingCache.__init__

    def full_disk(self, *args, **kwargs):  # the cache may not grow by a page: SQLite's own SQLITE_FULL
        opened(self, *args, **kwargs)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(EmbeddingCache, "__init__", full_disk)
    result = cli.invoke(main, ["index", str(feed(tmp_path / "B.jsonl", "bravo", 400)), "--index", str(index_dir)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"disk full at {index_dir} (" in result.output and "MB free, about" in result.output, result.output
    assert "damaged" not in result.output.replace("nothing was damaged", "")
    assert cache.read_bytes() == before and not list(index_dir.glob("*.damaged*")), "a healthy cache was set aside"
    assert not list(index_dir.rglob("*.tmp")), "a failed run left temporary files"
    monkeypatch.setattr(EmbeddingCache, "__init__", opened)
    assert articles_in(index_dir) == 40


def test_a_short_write_on_a_full_disk_says_disk_full_and_removes_its_temporary_files(tmp_path, cli, monkeypatch):
    import retrieval.search_index as search_index

    index_dir = tmp_path / "index"
    assert (
        cli.invoke(main, ["index", str(feed(tmp_path / "A.jsonl", "alpha", 40)), "--index", str(index_dir)]).exit_code
        == 0
    )
    written = search_index.write_segment_files

    def short_write(folder, data):  # numpy's words for a full disk, with no errno
        (folder / "vectors.npy").write_bytes(b"\0" * 490464)
        raise OSError("1759488 requested and 490464 written")

    monkeypatch.setattr(search_index, "write_segment_files", short_write)
    result = cli.invoke(main, ["index", "--rebuild", str(tmp_path / "A.jsonl"), "--index", str(index_dir)])
    assert result.exit_code == 1 and f"disk full at {index_dir} (" in result.output, result.output
    assert "MB needed" in result.output and "(or delete" not in result.output
    assert not list(index_dir.rglob("*.tmp")) and not list(index_dir.rglob(".seg-*")), tree(index_dir)
    monkeypatch.setattr(search_index, "write_segment_files", written)
    asked = json.loads(cli.invoke(main, ["ask", "--json", "--index", str(index_dir), "alpha7x harbour"]).output)
    assert "alpha7x" in asked["evidence"][0]["text"], "the previous index must keep answering"


# --- 5. typed settings with one home -------------------------------------------------------


@pytest.mark.parametrize(
    "config, env_var, expected",
    [
        (
            "",
            ("NEWSDESK_MODE", "fast"),
            ["[retrieval] mode = 'fast' from environment variable NEWSDESK_MODE", '"bm25", "dense", "hybrid"'],
        ),
        ('[retrieval]\nk = "five"\n', None, ["[retrieval] k = 'five' from file", "whole number"]),
        ('[answer]\nmin_score = "high"\n', None, ["[answer] min_score = 'high' from file", "use a number"]),
        ("[answr]\nmin_score = 1.0\n", None, ["unknown section [answr] in file", "did you mean [answer]?"]),
        (
            "[retrieval]\ntop_k = 3\n",
            None,
            ["unknown setting [retrieval] top_k in file", "did you mean [retrieval] k?"],
        ),
        ('[ingest]\ndate_order = "YMD"\n', None, ["[ingest] date_order = 'YMD'", '"MDY", "DMY"']),
    ],
)
def test_a_config_mistake_is_named_with_its_source_and_never_blamed_on_the_index(
    tmp_path, cli, monkeypatch, config, env_var, expected
):
    index_dir = tmp_path / "index"
    assert (
        cli.invoke(main, ["index", str(feed(tmp_path / "A.jsonl", "alpha", 3)), "--index", str(index_dir)]).exit_code
        == 0
    )
    if config:
        (tmp_path / "extra.toml").write_text(config, encoding="utf-8")
        monkeypatch.setenv("NEWSDESK_CONFIG", str(tmp_path / "extra.toml"))
    if env_var:
        monkeypatch.setenv(*env_var)
    for command in (["ask", "harbour"], ["index", str(tmp_path / "A.jsonl")], ["stats"]):
        result = cli.invoke(main, [*command, "--index", str(index_dir)])
        assert result.exit_code == 1, result.output
        assert "cannot be read or written" not in result.output and "rebuild" not in result.output
        for part in expected:
            assert part in result.output, result.output


def test_the_valid_settings_are_the_keys_of_default_toml_so_new_ones_need_no_code(tmp_path):
    default = tmp_path / "default.toml"
    default.write_text(
        (PROJECT_ROOT / "config/default.toml")
        .read_text(encoding="utf-8")
        .replace("[rerank]\n", "[rerank]\nnew_flag = false\nnew_count = 20\nnew_weight = 1.0\n", 1)
    )
    extra = tmp_path / "extra.toml"
    extra.write_text("[rerank]\nnew_flag = true\nnew_count = 30\nnew_weight = 2\n")
    settings = Settings.load(default, env={"NEWSDESK_CONFIG": str(extra)})
    assert settings.get("rerank", "new_flag") is True and settings.get("rerank", "new_weight") == 2.0
    assert settings.source("rerank", "new_count") == f"file {extra} (NEWSDESK_CONFIG)"
    extra.write_text('[rerank]\nnew_count = "many"\n')
    with pytest.raises(ConfigError, match=r"\[rerank\] new_count = 'many' from file .* whole number"):
        Settings.load(default, env={"NEWSDESK_CONFIG": str(extra)})
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load(env={"NEWSDESK_CONFIG": str(tmp_path / "extra.toml")})  # not in the shipped defaults


def test_every_default_lives_in_default_toml_and_every_setting_there_is_read():
    sources = "\n".join(
        p.read_text(encoding="utf-8") for folder in ("retrieval", "bot") for p in (PROJECT_ROOT / folder).rglob("*.py")
    )
    settings = Settings.load(env={})
    unread = [
        f"[{s}] {k}"
        for s, keys in settings.data.items()
        for k in keys
        if f'"{k}"' not in sources and k not in {"bm25", "dense", "passage", "coverage", "type", "match", "context"}
    ]
    assert unread == [], "settings in config/default.toml that nothing reads"
    assert "window" not in settings.data["split"]
    assert "MARGIN" not in (PROJECT_ROOT / "retrieval/timeline.py").read_text(encoding="utf-8")


# --- 6. ingest accounting ------------------------------------------------------------------


def test_symlinked_folders_are_followed_once_and_dangling_links_are_named(tmp_path, cli):
    archive, elsewhere = tmp_path / "archive", tmp_path / "elsewhere"
    write_article(archive / "2024", "harbour.txt", "The council approved a new harbour bridge on Monday.")
    write_article(elsewhere, "storm.txt", "A storm cut power to 12,000 homes in the valley on Tuesday.")
    (archive / "mounted").symlink_to(elsewhere, target_is_directory=True)
    (archive / "2024" / "loop").symlink_to(archive, target_is_directory=True)
    (archive / "gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    result = cli.invoke(main, ["index", str(archive), "--json", "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.splitlines()[-1])
    assert (report["read"], report["indexed"]) == (2, 2), report
    warnings = {w["where"]: w["reason"] for w in report["warnings"]}
    assert "dangling symlink" in warnings[str(archive / "gone.jsonl")]
    assert "already read" in warnings[str(archive / "2024" / "loop")]
    (elsewhere / "storm.txt").unlink()  # an article removed from the linked folder goes too
    result = cli.invoke(main, ["index", str(archive), "--json", "--index", str(tmp_path / "index")])
    report = json.loads(result.output.splitlines()[-1])
    assert (report["removed"], report["unchanged"], report["articles"]) == (1, 1, 1), report


def test_jsonl_fields_of_the_wrong_type_are_named_with_the_reason(tmp_path, cli):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "a", "text": "Ferries resumed after the storm on the coast.", "date": 20220103},
            {"id": "b", "text": "The port opened a new terminal for cruise ships.", "url": False, "date": "2022-01-04"},
            {"id": "c", "text": 12345},
            {"id": True, "text": "Fishing quotas were cut by a fifth this spring.", "date": "2022-01-05"},
        ],
    )
    result = cli.invoke(main, ["index", str(path), "--json", "--index", str(tmp_path / "index")])
    report = json.loads(result.output.splitlines()[-1])
    reasons = [w["reason"] for w in report["warnings"]] + [s["reason"] for s in report["skipped"]]
    assert "date must be YYYY-MM-DD or a date string, got integer 20220103 (indexed without one)" in reasons
    assert "url must be a string, got boolean false (left empty)" in reasons
    assert "text must be a string, got integer 12345" in reasons
    assert any(r.startswith("id must be a string, got boolean true") for r in reasons)
    assert (report["indexed"], len(report["skipped"])) == (3, 1)
    answer = json.loads(
        cli.invoke(main, ["ask", "--json", "--index", str(tmp_path / "index"), "cruise terminal"]).output
    )
    assert answer["evidence"][0]["url"] == "" and answer["evidence"][0]["date"] == "2022-01-04"
    ferries = json.loads(
        cli.invoke(main, ["ask", "--json", "--index", str(tmp_path / "index"), "ferries storm"]).output
    )
    assert ferries["evidence"][0]["date"] is None, "an integer is not a date (it was read as 1970-08-23)"


@pytest.mark.parametrize("order, expected", [("DMY", "2022-04-03"), ("MDY", "2022-03-04")])
def test_ambiguous_numeric_dates_follow_date_order_and_say_so_once_per_file(
    tmp_path, cli, monkeypatch, order, expected
):
    (tmp_path / "extra.toml").write_text(f'[ingest]\ndate_order = "{order}"\n')
    monkeypatch.setenv("NEWSDESK_CONFIG", str(tmp_path / "extra.toml"))
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "a", "text": "Ferries resumed after the storm on the coast.", "date": "03/04/2022"},
            {"id": "b", "text": "The port opened a new terminal for cruise ships.", "date": "05/06/2022"},
            {"id": "c", "text": "Fishing quotas were cut by a fifth this spring.", "date": "25/12/2022"},
        ],
    )
    result = cli.invoke(main, ["index", str(path), "--json", "--index", str(tmp_path / "index")])
    report = json.loads(result.output.splitlines()[-1])
    said = [w for w in report["warnings"] if "ambiguous" in w["reason"]]
    assert len(said) == 1 and said[0]["where"] == str(path) and f'date_order = "{order}"' in said[0]["reason"]
    answer = json.loads(cli.invoke(main, ["ask", "--json", "--index", str(tmp_path / "index"), "ferries storm"]).output)
    assert answer["evidence"][0]["date"] == expected
    quotas = json.loads(
        cli.invoke(main, ["ask", "--json", "--index", str(tmp_path / "index"), "fishing quotas"]).output
    )
    assert quotas["evidence"][0]["date"] == "2022-12-25", "an unambiguous date reads the one way it can"


def test_inserting_a_line_at_the_top_of_a_feed_without_ids_changes_nothing_else(tmp_path, cli):
    rows = [{"text": f"Story {i} about the {i}x harbour and its ferries.", "date": "2024-01-02"} for i in range(20)]
    path = write_jsonl(tmp_path / "feed.jsonl", rows)
    index = ["--json", "--index", str(tmp_path / "index")]
    assert json.loads(cli.invoke(main, ["index", str(path), *index]).output.splitlines()[-1])["indexed"] == 20
    write_jsonl(path, [{"text": "Breaking: the bridge reopened.", "date": "2024-01-03"}, *rows])
    report = json.loads(cli.invoke(main, ["index", str(path), *index]).output.splitlines()[-1])
    assert (report["indexed"], report["updated"], report["unchanged"], report["removed"]) == (1, 0, 20, 0), report
    write_jsonl(path, list(reversed(rows)))
    report = json.loads(cli.invoke(main, ["index", str(path), *index]).output.splitlines()[-1])
    assert (report["indexed"], report["updated"], report["unchanged"], report["removed"]) == (0, 0, 20, 1), report


def test_a_missing_input_path_fails_the_run_after_the_rest_is_indexed(tmp_path, cli):
    good = feed(tmp_path / "A.jsonl", "alpha", 4)
    missing = tmp_path / "nfs" / "feed.jsonl"
    result = cli.invoke(main, ["index", str(good), str(missing), "--index", str(tmp_path / "index")])
    assert result.exit_code == 1 and f"not found: {missing}" in result.output, result.output
    assert "indexed 4" in result.output
    assert articles_in(tmp_path / "index") == 4


def test_a_run_off_a_terminal_prints_progress_lines(tmp_path):
    (tmp_path / "extra.toml").write_text("[index]\nprogress_seconds = 0.000001\n")
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [
            {"id": str(i), "text": " ".join(f"Sentence {j} of report {i} on the harbour." for j in range(30))}
            for i in range(150)
        ],
    )
    result = newsdesk(
        "index", str(path), "--index", str(tmp_path / "index"), env=env(NEWSDESK_CONFIG=str(tmp_path / "extra.toml"))
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("embedding: ")]
    assert lines, result.stderr
    assert " of 4,500 sentences (" in lines[0] and "sentences/s, about " in lines[0] and lines[0].endswith(" left")
    assert "\r" not in result.stderr, "no progress bar redraws off a terminal"
    record_figures("archive: progress off a terminal", sentences=4500, progress_lines=len(lines))


# --- 7. live reload ------------------------------------------------------------------------


def test_chat_answers_from_articles_indexed_after_it_started(tmp_path):
    index_dir = tmp_path / "index"
    assert newsdesk("index", str(feed(tmp_path / "A.jsonl", "alpha", 5)), "--index", str(index_dir)).returncode == 0
    (tmp_path / "extra.toml").write_text("[index]\nreload_seconds = 0.2\n")
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--index", str(index_dir), "--k", "1"],
        cwd=PROJECT_ROOT,
        env=env(NEWSDESK_CONFIG=str(tmp_path / "extra.toml")),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        chat.stdin.write("zulu2x harbour\n")
        chat.stdin.flush()
        before = []
        while not (line := chat.stdout.readline()).startswith("("):
            before.append(line)
        assert "zulu2x" not in "".join(before)
        assert newsdesk("index", str(feed(tmp_path / "Z.jsonl", "zulu", 3)), "--index", str(index_dir)).returncode == 0
        time.sleep(2.0)
        out, err = chat.communicate("zulu2x harbour\n:q\n", timeout=120)
    finally:
        if chat.poll() is None:
            chat.kill()
    assert "zulu2x" in out, out + err


def test_a_live_answerer_swaps_in_a_new_generation_and_keeps_the_old_one_when_the_new_one_fails(
    tmp_path, fake_settings, caplog
):
    from retrieval.answer import open_answerer
    from retrieval.indexer import Indexer
    from retrieval.live import LiveAnswerer
    from retrieval.store import IndexStore

    index_dir = fake_settings.index_dir
    feed(tmp_path / "A.jsonl", "alpha", 5)
    Indexer(fake_settings, progress=False).index_paths([tmp_path / "A.jsonl"])
    live = LiveAnswerer(open_answerer(fake_settings), IndexStore(index_dir), every=0)
    assert not live.check()
    Indexer(fake_settings, progress=False).index_paths([feed(tmp_path / "B.jsonl", "bravo", 3)])
    assert "bravo1x" not in live.ask("bravo1x harbour", k=1).evidence[0].text
    assert live.check() and "bravo1x" in live.ask("bravo1x harbour", k=1).evidence[0].text
    Indexer(fake_settings, progress=False).index_paths([feed(tmp_path / "C.jsonl", "charlie", 3)])
    current = (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((index_dir / current / "manifest.json").read_text())
    newest = sorted(name for name in manifest["files"] if "texts" in name or "sentences" in name)[-1]
    with open(index_dir / newest, "r+b") as handle:  # bit rot in the new generation
        handle.seek(0)
        handle.write(b"\xff" * 16)
    with caplog.at_level("WARNING", logger="newsdesk.reload"):
        assert not live.check()
    assert f"moved to {current} but it cannot be loaded" in caplog.text and "still answering from gen-" in caplog.text
    assert "bravo1x" in live.ask("bravo1x harbour", k=1).evidence[0].text, "the old index must keep answering"


def test_the_bot_answers_from_a_live_index(tmp_path, monkeypatch):
    import bot.telegram_bot as telegram_bot
    from retrieval.live import LiveAnswerer

    index_dir = tmp_path / "index"
    assert newsdesk("index", str(feed(tmp_path / "A.jsonl", "alpha", 3)), "--index", str(index_dir)).returncode == 0
    served = {}
    monkeypatch.setattr(telegram_bot, "run_application", lambda app, tg: served.update(app=app))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    # The command sets up logging for its process; the tests after this one need theirs back.
    loggers = [logging.getLogger(name) for name in ("", "httpx", "telegram.ext")]
    saved = [(logger.level, list(logger.filters), list(logger.handlers)) for logger in loggers]
    try:
        result = CliRunner().invoke(telegram_bot.bot_command, ["--index", str(index_dir)])
    finally:
        for logger, (level, filters, handlers) in zip(loggers, saved):
            logger.setLevel(level)
            logger.filters[:], logger.handlers[:] = filters, handlers
    assert result.exit_code == 0, result.output
    answerer = served["app"].bot_data["newsdesk"].answerer
    assert isinstance(answerer, LiveAnswerer) and answerer._thread is not None
    answerer._thread.join(timeout=5)
    assert not answerer._thread.is_alive(), "the watcher must stop with the bot"
