"""Questions are typed by the question word that leads them, and the answer span is highlighted."""

import pytest

from retrieval.answer_types import AnswerType, answer_spans, question_type


@pytest.mark.parametrize(
    "question, kind",
    [
        ("how many US troops to Poland?", AnswerType.QUANTITY),
        ("By how many troops did Russia increase its forces?", AnswerType.QUANTITY),
        ("What share of union members voted for the deal?", AnswerType.QUANTITY),
        ("When is the bank's next policy meeting?", AnswerType.DATE),
        ("In what year did Moscow annex Crimea?", AnswerType.DATE),
        ("Who is the Pentagon press secretary?", AnswerType.PERSON),
        ("Which team won the final?", AnswerType.PERSON),
        ("What company makes the cranes?", AnswerType.PERSON),
        ("Where did the fire start?", AnswerType.PLACE),
        ("In which city will the advisers meet?", AnswerType.PLACE),
        ("Which river did the fire jump?", AnswerType.PLACE),
        ("What peace deal did France and Germany help broker?", AnswerType.NONE),
    ],
)
def test_questions_get_the_answer_type_their_wording_asks_for(question, kind):
    assert question_type(question) is kind


def test_a_when_clause_inside_a_what_question_does_not_make_it_a_date_question():
    assert question_type("What body of water lay west of the empire when Genghis Khan died?") is AnswerType.PLACE
    assert question_type("What did the mayor say when the bridge closed?") is AnswerType.NONE


def test_person_answers_skip_names_the_question_already_gives():
    sentence = "Pentagon Press Secretary John Kirby said about half had arrived."
    spans = answer_spans(sentence, AnswerType.PERSON, "Who is the Pentagon press secretary?")
    assert [sentence[a:b] for a, b in spans] == ["John Kirby"]


def test_quantities_are_highlighted_but_years_are_not():
    sentence = "In 2022 the U.S. sent 1,700 soldiers and 12% more equipment."
    spans = answer_spans(sentence, AnswerType.QUANTITY, "how many soldiers?")
    assert [sentence[a:b] for a, b in spans] == ["1,700", "12%"]


def test_a_pronoun_opening_a_quote_is_not_highlighted_as_a_name():
    sentence = '"We are confident that inflation will fall," Governor Ingrid Halvorsen said.'
    spans = answer_spans(sentence, AnswerType.PERSON, "Who is the governor?")
    assert [sentence[a:b] for a, b in spans] == ["Ingrid Halvorsen"]


def test_times_of_day_are_not_highlighted_as_amounts():
    sentence = "The fire started shortly after 1 p.m. and 2,300 residents left by 4:51."
    spans = answer_spans(sentence, AnswerType.QUANTITY, "how many residents left?")
    assert [sentence[a:b] for a, b in spans] == ["2,300"]


def test_numbers_that_name_things_are_not_amounts():
    sentence = "About 1,700 soldiers drove up Route 49 to the base."
    spans = answer_spans(sentence, AnswerType.QUANTITY, "how many soldiers?")
    assert [sentence[a:b] for a, b in spans] == ["1,700"]


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        (
            "Russia has expelled Bart Gorman, the Deputy Chief of Mission at the U.S. Embassy in Moscow.",
            ["Russia", "Bart Gorman", "Deputy Chief of Mission", "U.S. Embassy", "Moscow"],
        ),
        ("That’s why Secretary Blinken is coming to New York on February 17.", ["Secretary Blinken", "New York"]),
        ("It's clear, and I'm sure we're ready, said Biden on Thursday.", ["Biden"]),
        ("Russian troops met Félix Sánchez and Twitter's lawyers.", ["Félix Sánchez", "Twitter"]),
        ("Shortly after, Luiz Inácio Lula da Silva spoke.", ["Luiz Inácio Lula da Silva"]),
    ],
)
def test_who_answers_mark_names_not_every_capitalised_word(sentence, names):
    spans = answer_spans(sentence, AnswerType.PERSON, "who was it?")
    assert [sentence[a:b] for a, b in spans] == names


def test_a_dotted_abbreviation_keeps_its_last_full_stop():
    sentence = "Russia has expelled the deputy at the U.S. Embassy in Moscow."
    spans = answer_spans(sentence, AnswerType.PERSON, "who was expelled from the embassy?")
    assert "U.S." in [sentence[a:b] for a, b in spans]
