"""Follow-up questions read against the previous one, as the CLI chat and the Telegram bot do."""

import pytest

from retrieval.filters import nothing_matches_note
from retrieval.followup import Conversation, conversation_note, names_in, read_followup, subject, without_periods
from retrieval.names import ORG, PERSON, PLACE, UNKNOWN, kind_of
from retrieval.types import Answer, Evidence, Filters, TimeReading

TROOPS = "how many US troops to Poland?"


@pytest.mark.parametrize(
    "text, searched",
    [
        ("and when?", "when US troops to Poland?"),
        ("When?", "when US troops to Poland?"),
        ("why?", "why US troops to Poland?"),
        ("how many of them?", "how many of US troops to Poland?"),
        ("when did they arrive?", "when did US troops to Poland arrive?"),
        ("what about Germany?", "how many US troops to Germany?"),
        ("And what about the UK?", "how many US troops to the UK?"),
        ("and Romania?", "how many US troops to Romania?"),
        ("and in March?", "how many US troops to Poland in March?"),
    ],
)
def test_a_short_or_pronoun_led_question_builds_on_the_previous_one(text, searched):
    reading = read_followup(text, TROOPS)
    assert (reading.question, reading.follows) == (searched, TROOPS)


@pytest.mark.parametrize(
    "text",
    [
        "who expelled Bart Gorman?",
        "how many Russian troops are in Belarus?",
        "and how many Russian troops are in Belarus?",
        "what did NATO say about Russian troops this week?",
    ],
)
def test_a_question_with_its_own_subject_is_searched_as_typed(text):
    assert read_followup(text, TROOPS).question == text
    assert not read_followup(text, TROOPS).is_followup


def test_without_a_previous_question_nothing_is_added():
    assert read_followup("and when?", None).question == "and when?"


def test_lower_case_questions_swap_their_last_subject_word():
    assert read_followup("what about germany?", "how many us troops to poland?").question == (
        "how many us troops to germany?"
    )


def test_the_subject_is_the_question_without_its_question_word():
    assert subject("Who won the 2022 World Cup?") == "won the 2022 World Cup"
    assert subject("how many were killed in the floods?") == "killed in the floods"


def test_a_conversation_chains_follow_ups_on_what_was_searched():
    chat = Conversation()
    chat.remember(TROOPS)
    swapped = chat.read("what about Germany?").question
    chat.remember(swapped)
    assert chat.read("and when?").question == "when US troops to Germany?"


def test_a_conversation_forgets_after_its_time_to_live():
    chat = Conversation(ttl_seconds=300)
    chat.remember(TROOPS, now=1000.0)
    assert chat.read("and when?", now=1200.0).is_followup
    assert not chat.read("and when?", now=1301.0).is_followup
    assert chat.previous(now=1302.0) is None


def test_clearing_a_conversation_starts_afresh():
    chat = Conversation()
    chat.remember(TROOPS)
    chat.clear()
    assert chat.read("and when?").question == "and when?"


FED = "how much did the Fed raise rates in March?"
FLOODS = "how many died in the Pakistan floods in September?"

# (previous question, follow-up, the question searched): a follow-up edits the previous
# question the way people mean it, a full question stays as asked.
EDITS = [
    # A new period replaces the previous question's period, never piles onto it.
    (FED, "and in June?", "how much did the Fed raise rates in June?"),
    ("how much did the Fed raise rates in June?", "and in April?", "how much did the Fed raise rates in April?"),
    (FLOODS, "what about last week?", "how many died in the Pakistan floods last week?"),
    ("what was inflation in Sri Lanka in 2022?", "in 2021?", "what was inflation in Sri Lanka in 2021?"),
    ("how many US troops to Poland?", "and in March?", "how many US troops to Poland in March?"),
    ("where is the fed funds rate now?", "and in June?", "where is the fed funds rate in June?"),
    ("what did the Fed decide in March 2022?", "what about June?", "what did the Fed decide in June?"),
    ("how many homes lost power last week?", "and this week?", "how many homes lost power this week?"),
    ("what happened to the rouble since February 24?", "and since June?", "what happened to the rouble since June?"),
    ("how many refugees left Ukraine in March?", "and yesterday?", "how many refugees left Ukraine yesterday?"),
    # A new place replaces the place of the previous question.
    (FLOODS, "what about Iran?", "how many died in the Iran floods in September?"),
    ("how many US troops to Poland?", "what about Germany?", "how many US troops to Germany?"),
    ("how many US troops to Poland?", "And what about the UK?", "how many US troops to the UK?"),
    ("how many Russian troops are in Belarus?", "and Ukraine?", "how many Russian troops are in Ukraine?"),
    ("what was inflation in Sri Lanka in April?", "and Pakistan?", "what was inflation in Pakistan in April?"),
    ("how many us troops to poland?", "what about germany?", "how many us troops to germany?"),
    ("what did Biden say about China?", "and Taiwan?", "what did Biden say about Taiwan?"),
    ("how many troops did the UK send to Estonia?", "and to Latvia?", "how many troops did the UK send to Latvia?"),
    (
        "what was inflation in Turkey in October?",
        "and Argentina in November?",
        "what was inflation in Argentina in November?",
    ),
    ("what was inflation in Turkey in October?", "in Germany?", "what was inflation in Germany in October?"),
    # A new person replaces the person.
    ("what did Biden say about China?", "and Macron?", "what did Macron say about China?"),
    ("what did Putin say about NATO?", "what about Zelensky?", "what did Zelensky say about NATO?"),
    ("when did Liz Truss resign?", "and Boris Johnson?", "when did Boris Johnson resign?"),
    ("who expelled Bart Gorman?", "and Ramzan Kadyrov?", "who expelled Ramzan Kadyrov?"),
    ("how much did Elon Musk pay for Twitter?", "and Jeff Bezos?", "how much did Jeff Bezos pay for Twitter?"),
    # A new organisation replaces the organisation.
    (FED, "and the ECB?", "how much did the ECB raise rates in March?"),
    ("how many jobs did Twitter cut?", "and for Meta?", "how many jobs did Meta cut?"),
    (
        "what were Microsoft's profits in the third quarter?",
        "and Apple?",
        "what were Apple's profits in the third quarter?",
    ),
    ("what did NATO say about Russian troops?", "what about the EU?", "what did the EU say about Russian troops?"),
    ("how much did Apple earn in 2022?", "and for Google in 2021?", "how much did Google earn in 2021?"),
    # A new figure word replaces the quantity asked for.
    ("how many died in the Pakistan floods?", "and the injured?", "how many were injured in the Pakistan floods?"),
    (
        "how many people were killed in the Kabul blast?",
        "what about the wounded?",
        "how many people were wounded in the Kabul blast?",
    ),
    (
        "how many were killed in the protests in Iran?",
        "and how many were arrested?",
        "how many were arrested in the protests in Iran?",
    ),
    ("how many deaths in the Turkey earthquake?", "and injuries?", "how many injuries in the Turkey earthquake?"),
    (
        "how many people died in the heatwave in July?",
        "and how many were hospitalised?",
        "how many people were hospitalised in the heatwave in July?",
    ),
    ("how many died in the Kherson shelling?", "and the missing?", "how many are missing in the Kherson shelling?"),
    # Not edits: other follow-ups keep their rules, a full new question stays as asked.
    (FED, "and when?", "when the Fed raise rates in March?"),
    (TROOPS, "how many of them?", "how many of US troops to Poland?"),
    (TROOPS, "who expelled Bart Gorman?", "who expelled Bart Gorman?"),
    (FED, "how many Russian troops are in Belarus?", "how many Russian troops are in Belarus?"),
    (
        "how many died in the Pakistan floods?",
        "how many people were injured in the Kabul blast?",
        "how many people were injured in the Kabul blast?",
    ),
    (
        "what did Biden say about China?",
        "what did NATO say about Russian troops this week?",
        "what did NATO say about Russian troops this week?",
    ),
    (TROOPS, "and how many Russian troops are in Belarus?", "and how many Russian troops are in Belarus?"),
    (FED, "what was inflation in Sri Lanka in June?", "what was inflation in Sri Lanka in June?"),
]


@pytest.mark.parametrize("previous, text, searched", EDITS)
def test_a_follow_up_edits_the_previous_question_the_way_it_is_meant(previous, text, searched):
    assert read_followup(text, previous).question == searched


def test_the_table_covers_every_kind_of_edit():
    assert len(EDITS) >= 30
    assert len({previous for previous, _, _ in EDITS}) >= 20


def test_periods_never_pile_up_in_a_conversation():
    chat = Conversation()
    chat.remember(FED)
    for month in ("June", "April", "July"):
        searched = chat.read(f"and in {month}?").question
        assert searched == f"how much did the Fed raise rates in {month}?"
        chat.remember(searched)


def test_a_period_kept_from_the_previous_question_is_said_to_be_carried():
    assert read_followup("what about Iran?", FLOODS).carried == ("in September",)
    assert read_followup("and when?", FED).carried == ("in March",)
    assert read_followup("and in June?", FED).carried == ()  # typed: its own
    assert read_followup("what about June?", "what did the Fed decide in March 2022?").carried == ()
    assert read_followup("who expelled Bart Gorman?", FED).carried == ()  # a new question carries nothing


def test_a_follow_up_with_its_own_period_drops_the_previous_one_in_every_rule():
    assert read_followup("and how many in June?", FED).question == "how many the Fed raise rates in June?"
    assert without_periods(FLOODS) == "how many died in the Pakistan floods?"
    assert without_periods("where is the fed funds rate now?") == "where is the fed funds rate?"


@pytest.mark.parametrize(
    "name, kind",
    [
        ("Iran", PLACE),
        ("the UK", PLACE),
        ("sri lanka", PLACE),
        ("the ECB", ORG),
        ("FTX", ORG),
        ("Credit Suisse", ORG),
        ("Macron", PERSON),
        ("President Lula", PERSON),
        ("Bart Gorman", PERSON),
        ("Russian", UNKNOWN),
    ],
)
def test_names_are_told_apart_by_kind(name, kind):
    assert kind_of(name) == kind


def test_time_words_and_question_words_are_no_names():
    question = "How many died in the Pakistan floods in September?"
    assert [(question[s:e], kind) for s, e, kind in names_in(question)] == [("Pakistan", PLACE)]
    assert [(FED[s:e], kind) for s, e, kind in names_in(FED)] == [("Fed", ORG)]
    question = "what did US President Joe Biden say about the Bank of England?"
    found = [(question[s:e], kind) for s, e, kind in names_in(question)]
    assert found == [("US", PLACE), ("President Joe Biden", PERSON), ("Bank of England", ORG)]


def nothing_matched(question: str, words: str, filters: Filters) -> Answer:
    """An answer as the answering core gives it when no article matches its filters."""

    class Facets:
        def sources_by_count(self):
            return ["Reuters", "AP"]

    note = nothing_matches_note(filters, Facets(), "2022-01-04", "2022-12-28", words)
    reading = TimeReading(words, "period", filters.since, filters.until)
    return Answer(question=question, evidence=[], answered=False, note=note, filters=filters, time=[reading])


def test_a_carried_period_that_matches_nothing_is_said_to_come_from_the_conversation():
    reading = read_followup("what about Iran?", "how many died in the Pakistan floods in September 2021?")
    assert reading.question == "how many died in the Iran floods in September 2021?"
    answer = nothing_matched(reading.question, "in September 2021", Filters("2021-09-01", "2021-10-31"))
    note = conversation_note(answer, reading)
    assert note == (
        'No article matches the period carried over from your last question ("in September 2021": '
        "since 2021-09-01, until 2021-10-31): the archive holds 2022-01-04 to 2022-12-28 from Reuters, AP. "
        "Name the period you mean in your question."
    )


def test_a_period_the_person_typed_keeps_the_plain_note():
    reading = read_followup("and in June 2021?", FED)
    answer = nothing_matched(reading.question, "in June 2021", Filters("2021-06-01", "2021-07-31"))
    assert conversation_note(answer, reading) == answer.note
    assert answer.note.endswith("Widen the dates or check the source name.")


def test_an_answer_with_evidence_keeps_its_note():
    reading = read_followup("what about Iran?", FLOODS)
    evidence = Evidence("Floods hit Iran.", "a", "", "2022-09-10", "wire", "", 1.0)
    answer = Answer(question=reading.question, evidence=[evidence], note="As of 2022-09-10.")
    assert conversation_note(answer, reading) == "As of 2022-09-10."


def test_a_source_the_person_chose_is_still_named_in_a_carried_note():
    class Facets:
        def sources_by_count(self):
            return ["Reuters"]

    filters = Filters("2021-09-01", "2021-10-31", ("reuters",))
    note = nothing_matches_note(
        filters, Facets(), "2022-01-04", "2022-12-28", "in September 2021", carried=("in September 2021",)
    )
    assert note.startswith('No article matches the period carried over from your last question ("in September 2021": ')
    assert note.endswith("Name the period you mean in your question, or check the source name.")
