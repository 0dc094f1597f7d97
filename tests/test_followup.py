"""Follow-up questions read against the previous one, as the CLI chat and the Telegram bot do."""

import pytest

from retrieval.followup import Conversation, read_followup, subject

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
