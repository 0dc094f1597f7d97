"""Indexing: incremental updates, duplicates, the closing summary and the atomic store."""

import json

import pytest
from conftest import write_article, write_jsonl

from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.store import FORMAT_VERSION, IndexStore, StoreError


def test_first_run_indexes_everything_and_second_run_changes_nothing(fake_settings, tiny_corpus):
    first = Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    assert (first.read, first.indexed, first.skipped) == (3, 3, [])
    assert first.encoded == first.sentences > 0
    again = Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    assert (again.indexed, again.updated, again.unchanged, again.removed, again.encoded) == (0, 0, 3, 0, 0)
    assert not again.wrote


def test_changed_article_is_updated_and_only_its_new_text_encoded(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    write_article(
        tiny_corpus,
        "storm.txt",
        "A storm cut power to 15,000 homes in the valley. Crews restored electricity by Tuesday evening.",
        "2024-03-05",
    )
    report = Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    assert (report.updated, report.unchanged, report.encoded) == (1, 2, 1)
    answer = open_answerer(fake_settings).ask("how many homes lost power in the storm?")
    assert "15,000" in answer.evidence[0].text


def test_removed_file_drops_its_article(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    (tiny_corpus / "school.txt").unlink()
    report = Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    assert (report.removed, report.articles) == (1, 2)


def test_indexing_another_folder_keeps_what_was_indexed_before(fake_settings, tiny_corpus, tmp_path):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    extra = write_article(tmp_path / "today", "new.txt", "Parliament passed the budget late on Friday.", "2024-03-08")
    report = Indexer(fake_settings, progress=False).index_paths([extra])
    assert (report.indexed, report.removed, report.articles) == (1, 0, 4)


def test_a_line_gone_bad_does_not_lose_the_article_indexed_from_it(fake_settings, tmp_path):
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "a", "text": "Ferry service resumes on Monday."},
            {"id": "b", "text": "Bridge toll rises to four dollars."},
        ],
    )
    Indexer(fake_settings, progress=False).index_paths([feed])
    write_jsonl(feed, [{"id": "a", "text": "Ferry service resumes on Monday."}, '{"id": "b", "text": broken'])
    report = Indexer(fake_settings, progress=False).index_paths([feed])
    assert report.articles == 2 and report.removed == 0
    assert report.skipped[0].where.endswith("feed.jsonl:2")


def test_duplicate_articles_are_skipped_with_the_first_location(fake_settings, tmp_path):
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "a", "text": "Same story."},
            {"id": "a", "text": "Other story."},
            {"id": "c", "text": "Same  story."},
        ],
    )
    report = Indexer(fake_settings, progress=False).index_paths([feed])
    assert report.indexed == 1
    assert [p.reason.split(" (")[0] for p in report.skipped] == ["duplicate article id 'a'", "duplicate article text"]
    assert "skipped 2" in report.summary()


def test_summary_accounts_for_every_input(fake_settings, tmp_path):
    write_jsonl(tmp_path / "feed.jsonl", [{"text": "One story here."}, "oops", {"text": "Two story here."}])
    write_article(tmp_path, "empty.txt", "", None)
    report = Indexer(fake_settings, progress=False).index_paths([tmp_path])
    assert report.read == 4
    assert report.indexed + report.updated + report.unchanged + len(report.skipped) == report.read


def test_crash_before_the_swap_leaves_the_previous_index_loadable(fake_settings, tiny_corpus, monkeypatch):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    before = open_answerer(fake_settings).ask("harbour bridge cost").evidence[0].text
    write_article(tiny_corpus, "harbour.txt", "Entirely new text about ferries and tolls.", "2024-03-01")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr("retrieval.store._fsync_tree", crash)
    with pytest.raises(KeyboardInterrupt):
        Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    monkeypatch.undo()
    assert open_answerer(fake_settings).ask("harbour bridge cost").evidence[0].text == before
    report = Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    assert report.updated == 1


def test_index_built_with_another_model_is_refused_with_the_fix(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    fake_settings.data["model"]["name"] = "minilm"
    with pytest.raises(StoreError, match="--rebuild"):
        open_answerer(fake_settings)


def test_corrupted_index_file_is_refused_with_the_fix(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    store = IndexStore(fake_settings.index_dir)
    vectors = next(name for name in store.current().manifest["files"] if name.endswith("/vectors.npy"))
    target = store.root / vectors
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupted.*newsdesk index"):
        open_answerer(fake_settings)


def test_manifest_describes_the_store(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    manifest = json.loads((IndexStore(fake_settings.index_dir).current().path / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and manifest["model"] == "hashing" and manifest["dim"] == 256
    assert manifest["counts"]["articles"] == 3
    assert manifest["dates"] == {"min": "2024-02-20", "max": "2024-03-05"}
    assert all({"bytes", "blake2b"} <= set(meta) for meta in manifest["files"].values())


def test_the_summary_counts_skips_by_kind_not_by_their_particulars(fake_settings, tmp_path):
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"id": "wire:1", "text": "First story."},
            {"id": "wire:1", "text": "Second story."},
            {"id": "b", "text": "Third story."},
            {"id": "b", "text": "Fourth story."},
            '{"id": broken',
            {"id": "e", "text": ""},
        ],
    )
    report = Indexer(fake_settings, progress=False).index_paths([feed])
    assert "(2 duplicate article id, 1 empty article, 1 malformed JSON)" in report.summary()


def test_the_segment_writer_keeps_the_article_writer_contract(fake_settings, tiny_corpus):
    """The local side of the store seam: add replaces a stored copy, delete tombstones,
    changes show only after commit, and a commit with nothing to do writes no generation."""
    from retrieval.backend import ArticleWriter
    from retrieval.indexer import IngestReport
    from retrieval.segment_writer import SegmentWriter
    from retrieval.vector_source import VectorSource

    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    store = IndexStore(fake_settings.index_dir)

    def open_writer() -> SegmentWriter:
        vectors = VectorSource(fake_settings, store.cache_path, progress=False)
        return SegmentWriter(store, fake_settings, vectors, IngestReport(), rebuild=False)

    writer = open_writer()
    assert isinstance(writer, ArticleWriter)
    before = writer.describe()
    records = {r["id"]: r for r in writer.live_records()}
    generations = sorted(p.name for p in store.root.glob("gen-*"))
    assert len(records) == 3 and writer.commit() == before  # nothing changed: nothing written
    assert sorted(p.name for p in store.root.glob("gen-*")) == generations

    first, second = sorted(records)[:2]
    writer.add([({**records[first], "hash": "changed"}, "A new text. It has two sentences in it.")])
    writer.delete([second])
    assert open_writer().describe() == before  # not visible before commit
    after = writer.commit()
    assert after.articles == 2 and after.generation != before.generation
    stored = {r["id"]: r for r in open_writer().live_records()}
    assert set(stored) == set(records) - {second} and stored[first]["hash"] == "changed"
    assert stored[first]["sentences"] == 2
