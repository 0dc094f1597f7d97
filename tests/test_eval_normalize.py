"""Answer matching: what counts as a sentence containing a gold answer."""

from hypothesis import given
from hypothesis import strategies as st

from retrieval.evaluation.normalize import contains_answer, matches_any, normalize


def test_case_punctuation_quotes_and_spacing_do_not_matter():
    sentence = "NATO chief  Jens STOLTENBERG said Russia has “enough troops.”"
    assert contains_answer(sentence, "jens stoltenberg")
    assert contains_answer(sentence, '"enough troops"')
    assert contains_answer(sentence, "Enough   troops!")


def test_thousands_separators_match_plain_numbers_both_ways():
    assert contains_answer("About 1,700 U.S. soldiers are going to Poland.", "1700")
    assert contains_answer("About 1700 soldiers are going to Poland.", "1,700")
    assert contains_answer("Russia has massed over 100,000 troops.", "100000")
    assert contains_answer("A budget of 1\u202f200 euros.", "1200")


def test_a_short_number_does_not_match_inside_a_longer_one():
    assert not contains_answer("About 1,700 U.S. soldiers are going to Poland.", "1")
    assert not contains_answer("About 1,700 U.S. soldiers are going to Poland.", "700")
    assert not contains_answer("Casualties rose 3.5 percent.", "35")
    assert contains_answer("Casualties rose 3.5 percent.", "3.5")


def test_a_word_does_not_match_inside_a_longer_word():
    assert not contains_answer("Britain is offering more warships.", "war")
    assert contains_answer("Everything is done to prevent war.", "war")


def test_dotted_abbreviations_match_their_plain_spelling():
    assert contains_answer("The U.S. Embassy in Moscow", "US Embassy")
    assert contains_answer("said U.K. Defense Secretary Ben Wallace", "UK defense secretary")


def test_articles_are_ignored_as_in_squad():
    assert contains_answer("fighting in eastern Ukraine", "the eastern Ukraine")
    assert contains_answer("the Minsk agreements", "Minsk agreements")


def test_hyphens_split_words_on_both_sides_alike():
    assert contains_answer("Ambassador Linda Thomas-Greenfield wrote", "Linda Thomas-Greenfield")
    assert contains_answer("Ambassador Linda Thomas-Greenfield wrote", "Thomas Greenfield")


def test_an_answer_of_only_punctuation_or_articles_matches_nothing():
    assert not contains_answer("Anything at all.", "...")
    assert not contains_answer("The end.", "the")
    assert not contains_answer("Anything at all.", "")


def test_any_of_several_answers_is_enough():
    assert matches_any("Kirby said about 1,700 soldiers", ["two thousand", "1700"])
    assert not matches_any("Kirby said about 1,700 soldiers", [])


@given(st.text(max_size=60))
def test_normalising_twice_changes_nothing(text):
    assert normalize(normalize(text)) == normalize(text)


words = st.text(alphabet=st.sampled_from("abcxyzABC0123456789,.-'\"’ "), min_size=1, max_size=30)


@given(words, words, words)
def test_an_answer_copied_verbatim_into_a_sentence_is_always_found(before, answer, after):
    if normalize(answer):
        assert contains_answer(f"{before} {answer} {after}", answer)
