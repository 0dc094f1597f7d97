"""Syndicated copy is shown once, with how many articles carried it and the earliest date."""

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.answer import open_answerer
from retrieval.duplicates import NearDuplicates, sentence_key
from retrieval.indexer import Indexer
from retrieval.types import Article

WIRE = "The central bank cut its benchmark interest rate to 4.0% on Thursday, its first reduction since 2020."
EDITED = "The central bank cut its benchmark interest rate to 4.0% on Thursday, its first cut since 2020."


def _answer(settings, articles, question):
    Indexer(settings, progress=False).index_articles(articles)
    return open_answerer(settings).ask(question)


def test_lightly_edited_wire_copy_is_shown_once_with_the_count_and_the_earliest_date(fake_settings):
    answer = _answer(
        fake_settings,
        [
            Article(id="a", text=f"{EDITED} Mortgage rates fell.", date="2024-06-21", source="Ledger"),
            Article(id="b", text=f"{WIRE} The currency slipped.", date="2024-06-20", source="Wire"),
            Article(id="c", text=f"Markets were calm. {WIRE}", date="2024-06-22", source="Herald"),
        ],
        "what did the central bank cut its interest rate to?",
    )
    copies = [e for e in answer.evidence if "benchmark interest rate" in e.text]
    assert len(copies) == 1
    assert (copies[0].date, copies[0].source, copies[0].also_in) == ("2024-06-20", "Wire", 2)
    assert copies[0].text == WIRE  # the earliest copy's own words, not a later edit


def test_updates_with_different_figures_are_separate_reports(fake_settings):
    answer = _answer(
        fake_settings,
        [
            Article(
                id="a",
                text="The fire has burned more than 12,000 acres and was 5% contained, officials said.",
                date="2023-08-14",
                source="Wire",
            ),
            Article(
                id="b",
                text="The fire has burned more than 31,000 acres and was 12% contained, officials said.",
                date="2023-08-16",
                source="Wire",
            ),
        ],
        "how many acres has the fire burned?",
    )
    assert len([e for e in answer.evidence if "acres" in e.text]) == 2
    assert all(e.also_in == 0 for e in answer.evidence)


def test_different_sentences_that_share_a_few_words_are_not_copies():
    seen = NearDuplicates(0.6).tracker()
    seen.add("Twenty-two of the train's 38 wagons left the track.")
    assert seen.find("Twenty-two of the train's 38 wagons left the track, and one tank wagon leaked chlorine.") is None
    assert seen.find("twenty-two of the train’s 38 wagons left the track") == 0  # case and quotes ignored


def _key_by_regex(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", folded)).strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80) | st.text(max_size=40))
def test_the_ascii_fast_path_folds_exactly_as_the_general_rule(text):
    assert sentence_key(text) == _key_by_regex(text)


def test_sentence_keys_ignore_case_quotes_and_spacing():
    assert sentence_key(' "Fire crews  HELD the line," he said.\t') == "fire crews held the line he said"
    assert sentence_key("Café – “Zürich”") == "café zürich"


def test_an_answerer_moved_to_a_new_generation_forgets_what_it_knew_of_the_old_sentence_ids(fake_settings):
    """Compaction renumbers sentences: after a live reload, copies are still recognised by
    the new generation's text at each id, never by what the old generation kept there."""
    troops = "Poland received 300 US troops on Monday, officials said."
    question = "how many US troops did Poland receive?"
    indexer = Indexer(fake_settings, progress=False)
    weather = Article(id="a", text="The weather was mild on Monday. Markets were calm.", date="2024-06-19")
    wire = Article(id="b", text=f"{troops} The troops came from Germany.", date="2024-06-20", source="Wire")
    indexer.index_articles([weather, wire])
    answerer = open_answerer(fake_settings)
    assert len(answerer.ask(question, k=4).evidence) == 4  # every sentence seen, by its id
    # Article "a" goes: the segment is rewritten without it, so "b" takes its sentence ids,
    # and a copy of the wire report arrives.
    copy = Article(id="c", text=f"{troops} More are due in May.", date="2024-06-22", source="Ledger")
    indexer.index_articles([wire, copy])
    fresh = open_answerer(fake_settings)
    moved = answerer.with_index(fresh.index)
    want = [(e.sentence_id, e.text, e.also_in) for e in fresh.ask(question).evidence]
    assert want[0] == (0, troops, 1)  # the copy is counted with the wire report
    assert [(e.sentence_id, e.text, e.also_in) for e in moved.ask(question).evidence] == want
