"""Misspelled question words corrected against the archive's own vocabulary (hashing encoder)."""

import pytest
from conftest import first_stage_settings

from retrieval.answer import open_answerer
from retrieval.config import Settings
from retrieval.indexer import Indexer
from retrieval.spelling import SpellingCorrector, english_words
from retrieval.tokenize import Tokenizer
from retrieval.types import Article

TEXTS = [
    "The number of people killed by Hurricane Ian rose to at least 76 in Florida, officials said.",
    "Prime Minister Liz Truss resigned after 45 days in office.",
    "Zelenskiy thanked the allies for the new air defence systems.",
    "Rain in the province raised the river by a metre.",
]


def corrector(texts=TEXTS) -> SpellingCorrector:
    tokenizer = Tokenizer()
    counts: dict[str, int] = {}
    surface: dict[str, str] = {}
    for text in texts:
        for word in text.replace(",", " ").replace(".", " ").split():
            for stem in set(tokenizer(word.lower())):
                counts[stem] = counts.get(stem, 0) + 1
                surface.setdefault(stem, word)
    return SpellingCorrector(
        lambda: counts.items(),
        counts.__contains__,
        lambda stem, near="": surface.get(stem),
        tokenizer,
        english=english_words,
    )


@pytest.mark.parametrize(
    "question, searched",
    [
        ("how many peple died in hurricain ian?", "how many people died in hurricane ian?"),
        ("what did zelensky thank the allies for?", "what did zelenskiy thank the allies for?"),
        ("how many people died in Hurricane Ian?", "how many people died in Hurricane Ian?"),  # spelled right
        ("why did truss resign?", "why did truss resign?"),  # known English words stay
        ("how many monkeypox jabs were ordered?", "how many monkeypox jabs were ordered?"),  # not "jobs"
        ("who refereed the final?", "who refereed the final?"),
        ("what is the capital of Wakanda?", "what is the capital of Wakanda?"),  # nothing close
        ("how many died in 2022?", "how many died in 2022?"),
    ],
)
def test_misspelled_words_become_the_archives_words(question, searched):
    assert corrector().correct(question).question == searched


def test_a_capitalised_word_stays_capitalised():
    assert corrector().correct("what did Zelensky thank the allies for?").question == (
        "what did Zelenskiy thank the allies for?"
    )


def test_a_correction_says_which_words_it_replaced():
    fixed = corrector().correct("how many peple died?")
    assert fixed.changed and fixed.replaced == (("peple", "people"),)
    assert not corrector().correct("how many people died?").changed


@pytest.fixture
def archive(isolated_index):
    def make(spelling: bool):
        return first_stage_settings(isolated_index, answer={"spelling": spelling})

    settings = make(True)
    Indexer(settings, progress=False).index_articles(
        [Article(id=f"a{i}", date="2022-10-02", source="Wire", text=t) for i, t in enumerate(TEXTS)]
    )
    return make


def test_the_answer_searches_the_corrected_question_and_says_so(archive):
    answer = open_answerer(archive(True)).ask("how many peple died in hurricain ian?")
    assert answer.question == "how many peple died in hurricain ian?"  # as asked
    assert answer.note.startswith('Searched for "how many people died in hurricane ian?" (spelling corrected).')
    assert answer.spelling == [("peple", "people"), ("hurricain", "hurricane")]
    assert answer.to_dict()["spelling"] == [["peple", "people"], ["hurricain", "hurricane"]]
    assert answer.evidence[0].text.startswith("The number of people killed by Hurricane Ian")


def test_spelling_can_be_turned_off(archive):
    answer = open_answerer(archive(False)).ask("how many peple died in hurricain ian?")
    assert answer.spelling == [] and "spelling corrected" not in answer.note


@pytest.mark.parametrize(
    "question, language",
    [
        ("¿cuántas personas murieron en el huracán Ian?", "Spanish"),
        ("quel est le prix du pétrole?", "French"),
        ("how many peple died in hurricain ian?", None),
        ("Liz Truss resign?", None),  # short and full of names, still English
        ("what did Zelenskiy say about Kyiv?", None),
    ],
)
def test_a_question_not_in_english_is_named(question, language):
    from retrieval.language import not_english

    assert not_english(question) == language


def test_a_spanish_question_is_told_in_one_line_and_not_spell_corrected(archive):
    answer = open_answerer(archive(True)).ask("¿cuántas personas murieron en el huracán Ian?")
    assert answer.note.startswith("newsdesk reads English, and this question looks Spanish")
    assert answer.spelling == []


def test_a_swap_of_two_letters_is_one_edit():
    assert corrector().correct("how many peolpe died?").question == "how many people died?"


def test_spelling_is_on_by_default():
    assert Settings.load().get("answer", "spelling") is True
