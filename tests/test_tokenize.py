"""BM25 tokens match how people ask."""

from retrieval.tokenize import Tokenizer

tok = Tokenizer()


def test_us_spelled_any_way_is_one_token_but_the_pronoun_is_not():
    assert "us" in tok("U.S. troops") and "us" in tok("US troops") and "us" in tok("U.S troops")
    assert "us" not in tok("let us go")


def test_thousands_separators_do_not_matter():
    assert tok("1,700 soldiers")[0] == tok("1700 soldiers")[0] == "1700"


def test_case_and_inflection_are_folded():
    assert tok("Troops DEPLOYED") == tok("troop deploying")


def test_stopwords_are_dropped_and_decimals_kept():
    assert tok("the rate was 3.5 percent") == ["rate", "3.5", "percent"]
