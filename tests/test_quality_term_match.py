"""Soft term matching: a sentence using a near-synonym of a rare question word outranks one
that only repeats the common words."""

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from retrieval.term_match import TermMatcher

WORDS = ["[UNK]", "troops", "soldiers", "poland", "weather", "sent", "to", "the", "in", "how", "many"]


def _matcher() -> TermMatcher:
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(WORDS), 16))
    table[WORDS.index("soldiers")] = table[WORDS.index("troops")] + 0.3 * rng.normal(size=16)
    return TermMatcher(tokenizer, table)


def _idf(word: str) -> float:
    return {"troops": 3.0, "soldiers": 3.0, "poland": 1.0, "weather": 2.0, "sent": 1.0}.get(word.lower(), 0.0)


def test_a_near_synonym_of_the_rare_word_beats_repeating_the_common_one():
    scores = _matcher().scores("How many troops to Poland?", ["soldiers sent to Poland", "the weather in Poland"], _idf)
    assert scores[0] > scores[1]


def test_exact_words_match_fully_and_stopword_only_questions_score_zero():
    matcher = _matcher()
    assert matcher.scores("troops Poland", ["troops in Poland"], _idf)[0] == pytest.approx(1.0)
    assert list(matcher.scores("how many to the", ["troops in Poland"], _idf)) == [0.0]
