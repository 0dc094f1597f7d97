"""Incremental indexing by segments: today's articles cost their own size, and answers match a rebuild."""

import json
import os

import numpy as np
import pytest
from conftest import write_article

from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.search_index import load_search_index
from retrieval.store import IndexStore, StoreError
from retrieval.tokenize import Tokenizer
from retrieval.types import Article

STORM = "A storm cut power to 15,000 homes in the valley. Crews restored electricity by Tuesday evening."


def _index(settings, folder, **kwargs):
    return Indexer(settings, progress=False, **kwargs).index_paths([folder])


def _segment_files(settings) -> dict[str, tuple[int, int]]:
    root = IndexStore(settings.index_dir).root
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (root / "segments").rglob("*")
        if p.is_file()
    }


def test_adding_an_article_writes_a_small_segment_and_touches_nothing_on_disk(fake_settings, tiny_corpus, tmp_path):
    _index(fake_settings, tiny_corpus)
    before = _segment_files(fake_settings)
    today = write_article(
        tmp_path / "today", "ferry.txt", "The ferry to the island resumes on Monday. Tickets cost 9 dollars."
    )
    report = _index(fake_settings, today)
    assert (report.indexed, report.encoded) == (1, 2)
    after = _segment_files(fake_settings)
    assert {k: v for k, v in after.items() if k in before} == before
    manifest = IndexStore(fake_settings.index_dir).current().manifest
    assert manifest["counts"]["segments"] == 2 and manifest["counts"]["articles"] == 4


def test_updated_and_removed_articles_are_never_returned_and_ranking_equals_a_rebuild(
    fake_settings, tiny_corpus, tmp_path
):
    _index(fake_settings, tiny_corpus)
    write_article(tiny_corpus, "storm.txt", STORM, "2024-03-05")
    (tiny_corpus / "school.txt").unlink()
    report = _index(fake_settings, tiny_corpus)
    assert (report.updated, report.removed, report.encoded) == (1, 1, 1)
    segmented = load_search_index(IndexStore(fake_settings.index_dir))
    texts = [segmented.texts[i] for i in range(segmented.size)]
    tokens = Tokenizer()("how many homes lost power in the storm?")
    ids, scores = segmented.bm25.top(tokens, 20)
    returned = {texts[i] for i in ids} | {texts[i] for i in segmented.vectors.search(np.ones(256) / 16, 50)[0]}
    assert not any("12,000" in t or "teachers" in t for t in returned)

    rebuilt_dir = tmp_path / "rebuilt"
    fake_settings.data["index"]["dir"] = str(rebuilt_dir)
    Indexer(fake_settings, rebuilt_dir, progress=False).index_paths([tiny_corpus])
    rebuilt = load_search_index(IndexStore(rebuilt_dir))
    rebuilt_ids, rebuilt_scores = rebuilt.bm25.top(tokens, 20)
    assert [texts[i] for i in ids] == [rebuilt.texts[i] for i in rebuilt_ids]
    assert np.allclose(scores, rebuilt_scores)
    assert segmented.manifest["counts"]["sentences"] == rebuilt.manifest["counts"]["sentences"]


def test_a_file_moved_elsewhere_is_refiled_without_encoding(fake_settings, tiny_corpus, tmp_path):
    _index(fake_settings, tiny_corpus)
    moved = tmp_path / "moved"
    moved.mkdir()
    (tiny_corpus / "school.txt").rename(moved / "school.txt")
    report = _index(fake_settings, moved)
    assert (report.unchanged, report.encoded, report.articles) == (1, 0, 3)
    assert _index(fake_settings, tiny_corpus).articles == 3  # now filed under its new place, so kept


def test_too_many_segments_are_merged_without_encoding_again(fake_settings, tiny_corpus, tmp_path):
    fake_settings.data.setdefault("index", {})["max_segments"] = 2
    _index(fake_settings, tiny_corpus)
    for day in range(3):
        folder = write_article(
            tmp_path / f"day{day}", f"news{day}.txt", f"Council news number {day} was read aloud today."
        )
        report = _index(fake_settings, folder)
        assert report.encoded == 1
    manifest = IndexStore(fake_settings.index_dir).current().manifest
    assert manifest["counts"]["segments"] <= 2 and manifest["counts"]["articles"] == 6
    answer = open_answerer(fake_settings).ask("council news number 1")
    assert "number 1" in answer.evidence[0].text


def test_a_mostly_deleted_segment_is_rewritten_without_its_dead_sentences(fake_settings, tiny_corpus):
    _index(fake_settings, tiny_corpus)
    for name in ("storm.txt", "school.txt"):
        (tiny_corpus / name).unlink()
    report = _index(fake_settings, tiny_corpus)
    manifest = IndexStore(fake_settings.index_dir).current().manifest
    assert report.merged == 1 and report.encoded == 0
    assert manifest["counts"]["deleted_sentences"] == 0 and manifest["counts"]["articles"] == 1
    index = load_search_index(IndexStore(fake_settings.index_dir))
    assert index.size == manifest["counts"]["sentences"]


def test_a_crash_after_the_segment_is_written_leaves_the_previous_index_and_cleans_up(
    fake_settings, tiny_corpus, tmp_path, monkeypatch
):
    _index(fake_settings, tiny_corpus)
    before = open_answerer(fake_settings).ask("harbour bridge cost").evidence[0].text
    today = write_article(tmp_path / "today", "ferry.txt", "The ferry to the island resumes on Monday.")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between segment and generation")

    monkeypatch.setattr(IndexStore, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        _index(fake_settings, today)
    monkeypatch.undo()
    assert open_answerer(fake_settings).ask("harbour bridge cost").evidence[0].text == before
    assert _index(fake_settings, today).indexed == 1
    live = {s["name"] for s in IndexStore(fake_settings.index_dir).current().manifest["segments"]}
    on_disk = {p.name for p in (fake_settings.index_dir / "segments").iterdir()}
    assert on_disk - live <= {"seg-000001"} and not any(n.startswith(".") for n in on_disk)


def test_segments_no_generation_uses_are_removed(fake_settings, tiny_corpus):
    fake_settings.data.setdefault("index", {})["max_segments"] = 1
    _index(fake_settings, tiny_corpus)
    for text in ("First extra story about ferries.", "Second extra story about tolls.", "Third story about trams."):
        write_article(tiny_corpus, "extra.txt", text)
        _index(fake_settings, tiny_corpus)
    store = IndexStore(fake_settings.index_dir)
    kept = {json.loads((g / "manifest.json").read_text())["generation"] for g in store.root.glob("gen-*")}
    used = {
        s["name"] for g in store.root.glob("gen-*") for s in json.loads((g / "manifest.json").read_text())["segments"]
    }
    assert len(kept) == 2 and {p.name for p in (store.root / "segments").iterdir()} == used


def test_loading_checks_sizes_always_and_checksums_of_large_files_on_request(fake_settings, tiny_corpus, monkeypatch):
    _index(fake_settings, tiny_corpus)
    store = IndexStore(fake_settings.index_dir)
    generation = store.current()
    name = next(n for n in generation.manifest["files"] if n.endswith("sentences.txt.bin"))
    data = bytearray((store.root / name).read_bytes())
    data[0] ^= 0x01
    (store.root / name).write_bytes(bytes(data))
    monkeypatch.setattr("retrieval.store.LOAD_CHECKSUM_BYTES", 4)  # every file counts as large
    store.verify(generation)
    with pytest.raises(StoreError, match="checksum mismatch.*newsdesk index"):
        store.verify(generation, full=True)
    (store.root / name).write_bytes(bytes(data[:-1]))
    with pytest.raises(StoreError, match="truncated"):
        store.verify(generation)


def test_a_store_of_an_older_format_is_refused_with_the_fix(fake_settings, tiny_corpus):
    _index(fake_settings, tiny_corpus)
    store = IndexStore(fake_settings.index_dir)
    path = store.current().path / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="format 1.*--rebuild"):
        open_answerer(fake_settings)
    report = Indexer(fake_settings, progress=False).index_paths([tiny_corpus], rebuild=True)
    assert report.articles == 3 and open_answerer(fake_settings).ask("teachers").evidence


def test_articles_given_in_memory_keep_their_order_across_segments(fake_settings):
    indexer = Indexer(fake_settings, progress=False)
    indexer.index_articles(
        [Article(id="a", text="Alpha story about harbours."), Article(id="b", text="Beta story about storms.")],
        scope="feed",
    )
    Indexer(fake_settings, progress=False).index_articles(
        [Article(id="c", text="Gamma story about schools.")], scope="other"
    )
    index = load_search_index(IndexStore(fake_settings.index_dir))
    assert [index.article_of(i)["id"] for i in range(index.size)] == ["a", "b", "c"]
    assert [index.texts[i] for i in range(index.size)][-1] == "Gamma story about schools."
    assert os.path.isdir(fake_settings.index_dir / "segments")


def test_the_sentences_of_chosen_passages_are_found_across_segments(fake_settings, tiny_corpus, tmp_path):
    _index(fake_settings, tiny_corpus)
    _index(
        fake_settings,
        write_article(tmp_path / "today", "ferry.txt", "Ferries resume. Tickets cost 9 dollars.\n\nThe port reopens."),
    )
    index = load_search_index(IndexStore(fake_settings.index_dir))
    chunks = np.array([0, index.sentence_chunk[-1]])
    expected = np.flatnonzero(np.isin(index.sentence_chunk, chunks))
    assert index.sentences_of_chunks(chunks).tolist() == expected.tolist()
