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


def test_a_matcher_for_a_new_index_generation_reads_each_id_afresh():
    """Sentence ids name other sentences after a compaction: the pieces remembered by id stay
    with the old generation's matcher."""
    old = _matcher()
    question = "troops Poland"
    assert old.scores(question, ["troops in Poland"], _idf, keys=[0])[0] == pytest.approx(1.0)
    new = old.for_new_index()
    weather = new.scores(question, ["the weather"], _idf, keys=[0])[0]
    assert weather == pytest.approx(_matcher().scores(question, ["the weather"], _idf)[0])
    assert weather < 0.9
    assert old.scores(question, ["the weather"], _idf, keys=[0])[0] == pytest.approx(1.0)  # still its own


@pytest.mark.model
def test_segments_keep_word_pieces_so_questions_never_tokenise_candidates(tmp_path):
    """A MiniLM index stores each sentence's word pieces (of its title-led embedding text); the
    feature ranking reads them, and scores exactly as tokenising at question time does."""
    from retrieval.answer import open_answerer
    from retrieval.config import Settings
    from retrieval.indexer import Indexer
    from retrieval.rerank import _titled

    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "poland.txt").write_text(
        "date 2022-02-02\nTitle: Troops head east\n\nAbout 1,700 soldiers of the 82nd Airborne will deploy to Poland. "
        "The weather in Rzeszów was cold. Officials said more units could follow within days.\n",
        encoding="utf-8",
    )
    settings = Settings.load(overrides={"index": {"dir": str(tmp_path / "index")}, "rerank": {"cross_encoder": ""}})
    Indexer(settings, progress=False).index_paths([tmp_path / "news"])
    (segment,) = (tmp_path / "index" / "segments").iterdir()
    assert (segment / "word_pieces.npy").is_file() and (segment / "word_piece_offsets.npy").is_file()

    answerer = open_answerer(settings)
    index, matcher = answerer.index, answerer.reranker.matcher
    ids = np.arange(index.size)
    stored = index.word_pieces(ids, matcher.tag)
    titled = [_titled(index, int(i), index.text(int(i))) for i in ids]
    assert [list(p) for p in stored] == [list(p) for p in matcher.piece_ids(titled)]
    assert index.word_pieces(ids, "another-tokenizer") is None

    question = "how many troops to Poland?"
    weight = answerer.reranker._word_weight(index, answerer.tokenizer)
    assert np.array_equal(
        matcher.scores(question, titled, weight, stored=stored), matcher.scores(question, titled, weight)
    )
    top = answerer.ask(question).evidence[0]
    assert "1,700 soldiers" in top.text
