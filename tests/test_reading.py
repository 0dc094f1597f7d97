"""The reading stage: cross-encoder fusion, skipping, the model's checks, and its use in answers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.cross_encoder import MODELS_DIR, RerankModelError, length_batches, resolve_model, verify_model
from retrieval.reading import ReadingReranker, ReadingSettings, zscore

SHIPPED = "reranker-minilm-l6-qa"


class KeywordScorer:
    """Scores a sentence by whether it holds a keyword: a stand-in for the cross-encoder."""

    def __init__(self, keyword: str):
        self.keyword = keyword
        self.calls: list[list[str]] = []

    def score(self, question, sentences):
        self.calls.append(list(sentences))
        return np.array([5.0 if self.keyword in s else -5.0 for s in sentences])


def reading(**changes) -> ReadingSettings:
    """The shipped [rerank] settings with some changed."""
    section = Settings.load(env={}).section("rerank")
    settings = ReadingSettings.from_section(section)
    return ReadingSettings(**{**settings.__dict__, **changes})


TEXTS = {
    1: "The fire started near a campground.",
    2: "Officials said 2,300 residents left.",
    3: "The Red Cross opened a shelter.",
    4: "It rained on Tuesday.",
}
RANKED = [(1, 9.0), (3, 8.5), (2, 8.0), (4, 1.0)]


def test_the_sentence_the_reader_prefers_moves_to_the_top_and_the_tail_keeps_its_place():
    reader = ReadingReranker(reading(candidates=3, feature_weight=0.5, skip_margin=0.0), KeywordScorer("2,300"))
    read = reader.rerank("how many residents left?", RANKED, TEXTS.__getitem__)
    assert [i for i, _ in read.ranked] == [2, 1, 3, 4]
    assert set(read.scores) == {1, 2, 3}  # only the head was read
    assert read.ranked[0] == (2, 8.0)  # first-stage scores travel unchanged


def test_a_heavy_feature_weight_keeps_the_feature_order():
    reader = ReadingReranker(reading(candidates=3, feature_weight=100.0, skip_margin=0.0), KeywordScorer("2,300"))
    assert [i for i, _ in reader.rerank("q", RANKED, TEXTS.__getitem__).ranked] == [1, 3, 2, 4]


def test_a_decisive_first_stage_is_not_read_beyond_its_best_sentence():
    scorer = KeywordScorer("2,300")
    reader = ReadingReranker(reading(candidates=3, skip_margin=0.4), scorer)
    read = reader.rerank("q", RANKED, TEXTS.__getitem__)
    assert read.skipped and read.ranked == RANKED
    assert scorer.calls == [[TEXTS[1]]] and set(read.scores) == {1}


def test_zscore_of_equal_values_is_zero_not_nan():
    assert zscore(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    assert zscore(np.array([1.0, 3.0])).tolist() == [-1.0, 1.0]


def test_length_batches_cover_every_pair_once_and_keep_padding_small():
    lengths = [10, 60, 12, 58, 11, 30]
    batches = length_batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        padded = max(lengths[i] for i in batch) * len(batch)
        assert padded <= 1.25 * sum(lengths[i] for i in batch)


@pytest.mark.parametrize("raw, enabled", [("", False), ("off", False), ("None", False), (SHIPPED, True)])
def test_the_reader_is_turned_off_by_an_empty_name_or_off(raw, enabled):
    section = {**Settings.load(env={}).section("rerank"), "cross_encoder": raw}
    assert ReadingSettings.from_section(section).enabled is enabled


def test_a_bad_reader_setting_names_the_setting():
    from retrieval.config import ConfigError

    with pytest.raises(ConfigError, match="ce_candidates"):
        ReadingSettings.from_section({**Settings.load(env={}).section("rerank"), "ce_candidates": "ten"})


def test_the_default_settings_turn_the_shipped_reader_on():
    reading = ReadingSettings.from_section(Settings.load(env={}).section("rerank"))
    assert reading.enabled and reading.model == SHIPPED


def test_the_shipped_model_is_in_the_project_and_passes_its_checksums():
    folder = resolve_model(SHIPPED)
    assert folder == MODELS_DIR / SHIPPED
    verify_model(folder)
    assert "Apache-2.0" in (folder / "README.md").read_text() and "CC BY" in (folder / "README.md").read_text()


def test_an_unknown_model_name_lists_the_shipped_ones():
    with pytest.raises(RerankModelError, match=SHIPPED):
        resolve_model("no-such-reranker")


def _copy_model(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(MODELS_DIR / SHIPPED, target)
    return target


def test_a_damaged_model_file_is_refused_with_the_fix(tmp_path):
    folder = _copy_model(tmp_path)
    with open(folder / "model.safetensors", "r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(RerankModelError, match="damaged.*restore it"):
        verify_model(folder)


def test_a_missing_model_file_is_refused_with_the_fix(tmp_path):
    folder = _copy_model(tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(RerankModelError, match="missing.*cross_encoder"):
        verify_model(folder)


def test_a_model_without_checksums_is_refused(tmp_path):
    folder = _copy_model(tmp_path)
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(RerankModelError, match="cannot be trusted"):
        verify_model(folder)


class FlatScorer:
    """A reader that barely tells the candidates apart (and slightly prefers the wrong one)."""

    def score(self, question, sentences):
        return np.array([0.01 * i for i in range(len(sentences))])


def test_a_reader_that_barely_tells_candidates_apart_does_not_outvote_the_features():
    reader = ReadingReranker(reading(candidates=3, feature_weight=0.25, skip_margin=0.0), FlatScorer())
    assert [i for i, _ in reader.rerank("q", RANKED, TEXTS.__getitem__).ranked] == [1, 3, 2, 4]


def test_zscore_uses_the_minimum_spread_when_scores_barely_differ():
    assert zscore(np.array([0.0, 0.02]), min_spread=1.0).tolist() == [-0.01, 0.01]


def test_an_unknown_runtime_names_the_setting_and_the_choices():
    from retrieval.config import ConfigError

    with pytest.raises(ConfigError, match="ce_runtime.*onnxruntime, torch"):
        ReadingSettings.from_section({**Settings.load(env={}).section("rerank"), "ce_runtime": "tensorrt"})


PAIRS = (
    "how many US troops to Poland?",
    [
        "The U.S. has started deploying 5,000 troops to Poland and Romania.",
        "Biden spoke on Friday.",
        "About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland, officials said on a call.",
    ],
)


@pytest.mark.model
def test_onnx_runtime_scores_every_pair_as_pytorch_does(tmp_path, monkeypatch):
    from retrieval.cross_encoder import CrossEncoder

    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(tmp_path / "cache"))
    onnx = CrossEncoder(SHIPPED, "float32", cache_size=0, runtime="onnxruntime")
    eager = CrossEncoder(SHIPPED, "float32", cache_size=0, runtime="torch")
    assert onnx.score(*PAIRS) == pytest.approx(eager.score(*PAIRS), abs=1e-3)
    assert len(list((tmp_path / "cache").glob("*.onnx"))) == 1


@pytest.mark.model
def test_int8_on_onnx_runtime_orders_the_pairs_as_float32_does(tmp_path, monkeypatch):
    """7-bit int8 weights (onnx_cache.quantise) keep the float32 logits close; full-range int8
    saturates on CPUs without VNNI and lost 2.1 points of news hit@1 (docs/quality.md)."""
    from retrieval.cross_encoder import CrossEncoder

    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(tmp_path / "cache"))
    full = CrossEncoder(SHIPPED, "float32", cache_size=0).score(*PAIRS)
    int8 = CrossEncoder(SHIPPED, "int8", cache_size=0).score(*PAIRS)
    assert int8 == pytest.approx(full, abs=0.5) and int8 != pytest.approx(full, abs=1e-6)
    assert sorted(range(3), key=lambda i: -int8[i]) == sorted(range(3), key=lambda i: -full[i])
    assert any("int8rr" in p.name for p in (tmp_path / "cache").glob("*.onnx"))


@pytest.mark.model
def test_a_damaged_cached_graph_is_exported_again_not_run(tmp_path, monkeypatch):
    from retrieval.cross_encoder import CrossEncoder

    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(tmp_path / "cache"))
    want = CrossEncoder(SHIPPED, "float32", cache_size=0).score(*PAIRS)
    (graph,) = (tmp_path / "cache").glob("*.onnx")
    with open(graph, "r+b") as handle:
        handle.seek(graph.stat().st_size // 2)
        handle.write(b"\xff" * 64)
    again = CrossEncoder(SHIPPED, "float32", cache_size=0).score(*PAIRS)
    assert again == pytest.approx(want, abs=1e-6)


def test_the_newest_answering_sentence_leads_a_latest_question():
    from retrieval.reading import Read, newest_answer_first

    dates = {1: "2022-04-25", 2: "2022-10-28", 3: "2022-11-04", 4: "2022-12-01"}
    read = Read([(1, 9.0), (2, 8.0), (3, 7.0), (4, 6.0)], {1: 4.0, 2: 3.5, 3: 2.5, 4: -3.0})
    lead = newest_answer_first(read, dates.get, floor=-1.0, margin=2.0)
    # 4 is newest but does not answer (below the floor); 3 is the newest that does.
    assert [i for i, _ in lead.ranked] == [3, 1, 2, 4]
    assert lead.scores == read.scores and lead.leader == 1  # answered is judged on the fusion's choice
    # Beyond the margin of the best reading a sentence does not count as answering.
    assert [i for i, _ in newest_answer_first(read, dates.get, floor=-1.0, margin=1.0).ranked] == [2, 1, 3, 4]
    assert newest_answer_first(read, dates.get, floor=-1.0, margin=0.0) is read  # off
