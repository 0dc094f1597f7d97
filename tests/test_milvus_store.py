"""The Milvus store: indexing, updates, deletes, the same answers as the segment store, and its failures.

A Milvus Lite server (pymilvus and milvus-lite are dev dependencies) is started on a free
loopback port with a temporary data folder and stopped by its process id at the end; each
test keeps its archive under a collection prefix of its own.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import HEADLINE, SEEDS, write_article

from retrieval.answer import Answerer, open_answerer
from retrieval.config import PROJECT_ROOT, Settings
from retrieval.embed import HashingEncoder
from retrieval.evaluation.gold import load_gold
from retrieval.evaluation.metrics import hit_at_k
from retrieval.evaluation.runner import evaluate
from retrieval.indexer import Indexer
from retrieval.store import StoreError

pytest.importorskip("pymilvus", reason="pymilvus is a dev dependency: run `make setup`")

from retrieval.milvus_indexer import MilvusIndexer, MilvusWriter, _parts_within  # noqa: E402
from retrieval.milvus_lite import LiteUnavailable, free_port, start_lite  # noqa: E402
from retrieval.milvus_store import MilvusConnection, open_milvus_search  # noqa: E402

pytestmark = pytest.mark.milvus
_prefixes = itertools.count()
TOKEN = "s3cret-milvus-token-0042"


def _start(folder):
    try:
        return start_lite(folder)
    except LiteUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """A Milvus Lite server on a free 127.0.0.1 port for this module's tests, stopped by PID at the end."""
    server = _start(tmp_path_factory.mktemp("milvus"))
    yield server
    os.kill(server.pid, 15)
    server.process.wait(timeout=10)


def milvus_settings(index_dir, uri: str, **store) -> Settings:
    """Hashing-encoder settings on Milvus, under a collection prefix no other test uses."""
    values = {"backend": "milvus", "milvus_uri": uri, "collection_prefix": f"t{os.getpid()}_{next(_prefixes)}"}
    values.update(store)
    return Settings.load(
        overrides={"index": {"dir": str(index_dir)}, "model": {"name": "hashing"}, "store": values},
    )


def local_settings(index_dir) -> Settings:
    return Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "hashing"}})


def answerer(settings: Settings, index) -> Answerer:
    return Answerer(index, HashingEncoder(), settings, scorer=None)


def both(tmp_path, milvus_server, folder):
    """The same articles indexed into the segment store and into Milvus; their answerers."""
    local = local_settings(tmp_path / "local")
    Indexer(local, progress=False).index_paths([folder])
    from retrieval.search_index import load_search_index
    from retrieval.store import IndexStore

    remote = milvus_settings(tmp_path / "cache", milvus_server.uri)
    MilvusIndexer(remote, progress=False).index_paths([folder])
    return (
        answerer(local, load_search_index(IndexStore(tmp_path / "local"))),
        answerer(remote, open_milvus_search(remote)),
        remote,
    )


QUESTIONS = [
    "how much will the harbour bridge cost?",
    "when does the bridge open?",
    "how many homes lost power?",
    "how many teachers will the district hire?",
    "who warned of more rain?",
]


def _shown(answer):
    return sorted((round(e.score, 4), e.text, e.date, e.article_id, e.source) for e in answer.evidence)


def test_milvus_answers_the_tiny_corpus_exactly_as_the_segment_store(tmp_path, milvus_server, tiny_corpus):
    local, remote, _ = both(tmp_path, milvus_server, tiny_corpus)
    for question in QUESTIONS:
        # Every sentence, so that sentences with equal scores (ordered by each store's own ids)
        # are all shown by both.
        mine, theirs = local.ask(question, k=20), remote.ask(question, k=20)
        assert theirs.evidence[0].text == mine.evidence[0].text, question
        assert [e.score for e in theirs.evidence] == pytest.approx([e.score for e in mine.evidence], abs=1e-4)
        assert _shown(theirs) == _shown(mine), question
    assert remote.stats()["articles"] == local.stats()["articles"] == 3
    assert remote.stats()["sentences"] == local.stats()["sentences"]


def test_bm25_dense_and_filtered_questions_match_too(tmp_path, milvus_server, tiny_corpus):
    from retrieval.filters import make_filters

    local, remote, _ = both(tmp_path, milvus_server, tiny_corpus)
    for mode in ("bm25", "dense"):
        for question in QUESTIONS:
            assert _shown(remote.ask(question, mode=mode, k=20)) == _shown(local.ask(question, mode=mode, k=20))
    march = make_filters(since="2024-03-02")
    answer = remote.ask("how many teachers will the district hire?", filters=march, k=20)
    assert _shown(answer) == _shown(local.ask("how many teachers will the district hire?", filters=march, k=20))
    assert all(e.date >= "2024-03-02" for e in answer.evidence)
    nothing = remote.ask("storm", filters=make_filters(since="2030-01-01"))
    assert nothing.evidence == [] and "No article matches" in nothing.note


def test_reindexing_updates_changed_articles_and_deletes_removed_ones(tmp_path, milvus_server, tiny_corpus):
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    first = MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    assert (first.indexed, first.articles) == (3, 3)
    again = MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    assert (again.unchanged, again.wrote, again.encoded) == (3, False, 0)

    write_article(tiny_corpus, "storm.txt", "A storm cut power to 45,000 homes in the valley.", "2024-03-06")
    (tiny_corpus / "school.txt").unlink()
    report = MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    assert (report.updated, report.removed, report.unchanged, report.articles) == (1, 1, 1, 2)

    search = open_milvus_search(settings)
    ask = answerer(settings, search).ask
    assert "45,000" in ask("how many homes lost power?").evidence[0].text
    shown = [e.text for q in QUESTIONS for e in ask(q, k=10).evidence]
    assert not any("12,000" in text or "teachers" in text for text in shown)
    stored = search.connection.call(
        "count",
        "query",
        f"{settings.get('store', 'collection_prefix')}_sentences",
        filter="",
        output_fields=["count(*)"],
    )
    assert stored[0]["count(*)"] == search.describe().sentences


def test_seed_gold_hit_at_1_on_milvus_equals_the_segment_store(tmp_path, milvus_server):
    local, remote, _ = both(tmp_path, milvus_server, SEEDS)
    gold = load_gold(PROJECT_ROOT / "tests" / "data" / "seed_gold.jsonl")
    scores = []
    for engine in (local, remote):
        outcomes = evaluate(engine, gold.questions, ("hybrid",), k=5, progress=False)["hybrid"]
        scores.append(hit_at_k([o.rank for o in outcomes if o.gold.answerable], 1))
    assert scores[0] == scores[1]
    assert remote.ask(HEADLINE).evidence[0].text == local.ask(HEADLINE).evidence[0].text


def _cli(args, env_extra, tmp_path):
    config = tmp_path / "milvus.toml"
    config.write_text(
        f'[store]\ncollection_prefix = "cli{os.getpid()}_{next(_prefixes)}"\ntimeout_seconds = 2.0\nretries = 0\n'
        '[model]\nname = "hashing"\n[rerank]\ncross_encoder = ""\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NEWSDESK_STORE": "milvus", "NEWSDESK_CONFIG": str(config), **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )


def test_a_server_that_is_down_is_one_clear_error_naming_the_uri(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    for args in (["ask", HEADLINE], ["index", str(SEEDS)], ["stats"]):
        result = _cli(args, {"NEWSDESK_MILVUS_URI": uri, "NEWSDESK_MILVUS_TOKEN": TOKEN}, tmp_path)
        assert result.returncode == 1, result.stderr
        assert uri in result.stderr and "NEWSDESK_MILVUS_URI" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        assert TOKEN not in result.stderr + result.stdout


def test_the_token_never_appears_in_output_or_logs(tmp_path, milvus_server, caplog):
    env = {"NEWSDESK_MILVUS_URI": milvus_server.uri, "NEWSDESK_MILVUS_TOKEN": TOKEN}
    for args in (["index", str(SEEDS)], ["stats", "--json"], ["ask", HEADLINE, "--json"]):
        result = _cli(args, env, tmp_path)
        assert TOKEN not in result.stdout + result.stderr
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    from retrieval.milvus_store import MilvusSettings

    config = MilvusSettings.from_settings(settings, {"NEWSDESK_MILVUS_TOKEN": TOKEN})
    assert TOKEN not in repr(config) and TOKEN not in str(config)
    assert TOKEN not in caplog.text


def test_a_server_killed_mid_index_loses_and_doubles_nothing_on_the_next_run(tmp_path, monkeypatch):
    data = tmp_path / "milvus"
    server = _start(data)
    folder = tmp_path / "many"
    for n in range(12):
        write_article(folder, f"a{n:02d}.txt", f"Report {n}. The council counted {n * 7} boats in the harbour today.")
    settings = milvus_settings(tmp_path / "cache", server.uri, retries=0, timeout_seconds=2.0)
    monkeypatch.setattr(MilvusIndexer, "ARTICLES_PER_BATCH", 3)
    real_upsert = MilvusWriter.upsert
    records_written = []

    def upsert_then_crash(self, kind, rows):
        if kind == "articles":
            records_written.append(len(rows))
            if len(records_written) == 2:  # the second batch's rows are written, its records not yet
                server.stop(kill=True)
        return real_upsert(self, kind, rows)

    monkeypatch.setattr(MilvusWriter, "upsert", upsert_then_crash)
    try:
        with pytest.raises(StoreError, match=server.uri):
            MilvusIndexer(settings, progress=False).index_paths([folder])
    finally:
        server.stop(kill=True)
    monkeypatch.setattr(MilvusWriter, "upsert", real_upsert)

    restarted = start_lite(data, port=server.port)
    try:
        report = MilvusIndexer(settings, progress=False).index_paths([folder])
        assert report.articles == 12
        search = open_milvus_search(settings)
        prefix = settings.get("store", "collection_prefix")
        rows = search.connection.call(
            "list", "query", f"{prefix}_sentences", filter="", output_fields=["article"], limit=10_000
        )
        per_article = {}
        for row in rows:
            per_article[row["article"]] = per_article.get(row["article"], 0) + 1
        local = local_settings(tmp_path / "local")
        expected = Indexer(local, progress=False).index_paths([folder])
        assert len(per_article) == 12 and len(rows) == expected.sentences == search.describe().sentences
        assert set(per_article.values()) == {expected.sentences // 12}
    finally:
        restarted.stop()


def _stored_articles(settings) -> tuple[set[str], set[str]]:
    """The articles the archive lists (records), and those any sentence or passage row names."""
    search = open_milvus_search(settings)
    name = settings.get("store", "collection_prefix")
    rows = set()
    for kind in ("sentences", "passages"):
        found = search.connection.call(
            "list", "query", f"{name}_{kind}", filter="", output_fields=["article"], limit=9999
        )
        rows |= {row["article"] for row in found}
    records = search.connection.call("list", "query", f"{name}_articles", filter="", output_fields=["id"], limit=999)
    return {r["id"] for r in records}, rows


def _cut_short_at_records(monkeypatch, batch: int) -> list[str]:
    """From now on, the ``batch``-th write of article records fails (the rows before it are
    written): returns the files of the articles left without a record."""
    real_upsert = MilvusWriter.upsert
    seen: list[int] = []
    unrecorded: list[str] = []

    def upsert(self, kind, rows):
        if kind == "articles":
            seen.append(len(rows))
            if len(seen) == batch:
                unrecorded.extend(row["origin"] for row in rows)
                raise StoreError("the connection dropped")
        return real_upsert(self, kind, rows)

    monkeypatch.setattr(MilvusWriter, "upsert", upsert)
    return unrecorded


@pytest.mark.parametrize("first_build", [True, False], ids=["first build", "update"])
def test_rows_of_a_cut_short_run_whose_files_are_then_removed_never_answer(
    tmp_path, milvus_server, monkeypatch, first_build
):
    """A run cut short after writing some articles' rows but before their records leaves rows
    no record owns; when those files are gone by the next run, the archive must still answer
    only from the articles it lists, and count only their words."""
    folder = tmp_path / "many"
    texts = [f"Report {n}. The council counted {n * 7 + 3} boats in the harbour." for n in range(9)]
    for n, text in enumerate(texts):
        write_article(folder, f"a{n:02d}.txt", text)
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    monkeypatch.setattr(MilvusIndexer, "ARTICLES_PER_BATCH", 3)
    if not first_build:
        MilvusIndexer(settings, progress=False).index_paths([folder / f"a{n:02d}.txt" for n in range(3)])
    unrecorded = _cut_short_at_records(monkeypatch, batch=2 if first_build else 1)
    with pytest.raises(StoreError):
        MilvusIndexer(settings, progress=False).index_paths([folder])
    monkeypatch.undo()
    assert len(unrecorded) == 3
    for origin in unrecorded:
        Path(origin).unlink()  # gone before the next run
    report = MilvusIndexer(settings, progress=False).index_paths([folder])

    records, rows = _stored_articles(settings)
    assert report.articles == len(records) == 6 and rows == records
    answer = open_answerer(settings).ask("how many boats did the council count?", k=10)
    assert {e.article_id for e in answer.evidence} <= records
    search = open_milvus_search(settings)
    assert search.meta["terms_clean"] is True
    _assert_counts_exact(search, texts)


def test_the_articles_being_changed_are_named_in_parts_that_fit_the_meta_row():
    ids = ["a" * 10, "b" * 3000, "c", "d" * 20, "e" * 40]
    parts = list(_parts_within(ids, 64))
    assert [i for part in parts for i in part] == ids  # every id once, in order
    assert parts == [["a" * 10], ["b" * 3000], ["c", "d" * 20], ["e" * 40]]  # a long id alone
    wide = ["é" * 50, "🚢" * 30, "x" * 100] * 20  # JSON escapes: 6 bytes an é, 12 a ship
    for part in _parts_within(wide, 1_000):
        assert len(json.dumps(part)) <= 1_000


def test_an_article_whose_removal_was_cut_short_comes_back_whole_with_its_file(tmp_path, milvus_server, monkeypatch):
    """Removing an article deletes its rows, then its record: cut short between the two, and
    the file put back, the next run writes the article again rather than keeping a record
    whose rows are gone."""
    folder = tmp_path / "two"
    write_article(folder, "boats.txt", "The council counted 41 boats in the harbour on Monday.")
    write_article(folder, "ferry.txt", "Seven ferries sail to the island every day, the harbour office said.")
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    MilvusIndexer(settings, progress=False).index_paths([folder])
    real_call = MilvusConnection.call

    def drop_before_records(self, what, method, *args, **kwargs):
        if what == "delete removed articles":
            raise StoreError("the connection dropped")
        return real_call(self, what, method, *args, **kwargs)

    kept = (folder / "boats.txt").read_text()
    (folder / "boats.txt").unlink()
    monkeypatch.setattr(MilvusConnection, "call", drop_before_records)
    with pytest.raises(StoreError):
        MilvusIndexer(settings, progress=False).index_paths([folder])
    monkeypatch.undo()
    write_article(folder, "boats.txt", kept, date=None)
    MilvusIndexer(settings, progress=False).index_paths([folder])
    records, rows = _stored_articles(settings)
    assert len(records) == 2 and rows == records
    answer = open_answerer(settings).ask("how many boats did the council count?")
    assert "41 boats" in answer.evidence[0].text


def test_a_running_answerer_takes_up_each_new_commit(tmp_path, milvus_server, tiny_corpus):
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    settings = settings.with_setting("index", "reload_seconds", 0.001)
    MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    ask = answerer(settings, open_milvus_search(settings)).ask
    assert not any("ferries" in e.text for e in ask("how many ferries sail?").evidence)
    write_article(tiny_corpus, "ferry.txt", "Seven ferries sail to the island every day.", "2024-03-09")
    MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    answer = ask("how many ferries sail?")
    assert "Seven ferries" in answer.evidence[0].text
    assert answer.as_of is None and ask("latest ferries").as_of == "2024-03-09"


def test_serve_on_milvus_answers_as_ask_does_and_follows_new_commits(tmp_path, milvus_server, tiny_corpus):
    """`newsdesk serve` as a process over the Milvus store: /ask is the CLI's `ask --json`, and
    an article indexed while it runs is answered from without a restart."""
    import httpx

    config = tmp_path / "milvus.toml"
    config.write_text(
        f'[store]\ncollection_prefix = "serve{os.getpid()}_{next(_prefixes)}"\n'
        '[model]\nname = "hashing"\n[rerank]\ncross_encoder = ""\n[index]\nreload_seconds = 0.2\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "NEWSDESK_STORE": "milvus",
        "NEWSDESK_CONFIG": str(config),
        "NEWSDESK_MILVUS_URI": milvus_server.uri,
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=120,
        )

    assert cli("index", str(tiny_corpus)).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve never became ready"
            time.sleep(0.2)

        def served(question: str) -> dict:
            response = httpx.get(f"{base}/ask", params={"q": question}, timeout=30)
            assert response.status_code == 200, response.text
            return {k: v for k, v in response.json().items() if k != "elapsed_ms"}

        asked = json.loads(cli("ask", "--json", QUESTIONS[2]).stdout)
        assert served(QUESTIONS[2]) == {k: v for k, v in asked.items() if k != "elapsed_ms"}
        stats = httpx.get(f"{base}/stats", timeout=10).json()
        assert stats["articles"] == 3 and stats["index_bytes"] is None  # Milvus keeps its own size

        write_article(tiny_corpus, "ferry.txt", "Seven ferries sail to the island every day.", "2024-03-09")
        assert cli("index", str(tiny_corpus)).returncode == 0
        deadline = time.monotonic() + 30
        while "Seven ferries" not in served("how many ferries sail?")["evidence"][0]["text"]:
            assert time.monotonic() < deadline, "serve did not take up the new commit"
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _assert_counts_exact(search, texts):
    """Every word's document frequency as the store reads it equals a count of the rows."""
    from retrieval.tokenize import Tokenizer

    words = sorted({t for text in texts for t in Tokenizer()(text)})
    for kind in ("sentences", "passages"):
        kept = search._document_frequencies(kind, words)
        assert kept == {w: search._count_documents(kind, w) for w in words}, kind


def test_word_counts_kept_in_milvus_stay_exact_through_updates_and_a_cut_short_commit(
    tmp_path, milvus_server, tiny_corpus, monkeypatch
):
    settings = milvus_settings(tmp_path / "cache", milvus_server.uri)
    ferry = "Seven ferries sail to the island every day, the harbour office said."
    texts = [p.read_text() for p in tiny_corpus.glob("*.txt")] + [ferry, "A storm cut power to 45,000 homes."]
    MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    search = open_milvus_search(settings)
    assert search.meta["terms_clean"] is True
    _assert_counts_exact(search, texts)

    write_article(tiny_corpus, "storm.txt", "A storm cut power to 45,000 homes in the valley.", "2024-03-06")
    (tiny_corpus / "school.txt").unlink()
    write_article(tiny_corpus, "ferry.txt", ferry, "2024-03-09")
    MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])  # kept exact by deltas
    _assert_counts_exact(open_milvus_search(settings), texts)

    def cut_short(self):
        raise StoreError("the connection dropped")

    monkeypatch.setattr(MilvusWriter, "_apply_delta", cut_short)
    (tiny_corpus / "ferry.txt").unlink()
    with pytest.raises(StoreError):
        MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    monkeypatch.undo()
    search = open_milvus_search(settings)
    assert search.meta["terms_clean"] is False  # the rows changed, the counts did not
    _assert_counts_exact(search, texts)  # answered by counting rows meanwhile
    report = MilvusIndexer(settings, progress=False).index_paths([tiny_corpus])
    assert not report.wrote  # nothing left to change, but the counts are made exact again
    search = open_milvus_search(settings)
    assert search.meta["terms_clean"] is True
    _assert_counts_exact(search, texts)
