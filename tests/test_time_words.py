"""Time words in questions: how they are read against a fixed reference date, how periods become
filters and how "latest" ranks newer evidence first (hashing encoder, inline corpora)."""

import numpy as np
import pytest
from conftest import first_stage_settings

from retrieval.answer import open_answerer
from retrieval.config import Settings
from retrieval.indexer import Indexer
from retrieval.time_words import read_time_words
from retrieval.types import Article, Filters

AS_OF = "2022-12-28"  # a Wednesday


@pytest.mark.parametrize(
    "question, words, kind, since, until",
    [
        ("how many troops in February 2022?", "in February 2022", "period", "2022-02-01", "2022-02-28"),
        ("what did officials say in august?", "in august", "period", "2022-08-01", "2022-08-31"),
        ("inflation last month?", "last month", "period", "2022-11-01", "2022-11-30"),
        ("what happened yesterday in Kyiv?", "yesterday", "period", "2022-12-27", "2022-12-27"),
        # "this week" is the last seven days, not since Monday: a Wednesday question still
        # covers last Thursday's news.
        ("news this week about Ukraine", "this week", "period", "2022-12-22", "2022-12-28"),
        ("who won this past week?", "this past week", "period", "2022-12-22", "2022-12-28"),
        ("what happened in the past few days in Kyiv?", "in the past few days", "period", "2022-12-22", "2022-12-28"),
        ("who resigned recently?", "recently", "period", "2022-11-29", "2022-12-28"),
        ("what is lately driving prices?", "lately", "period", "2022-11-29", "2022-12-28"),
        ("what are people buying these days?", "these days", "period", "2022-11-29", "2022-12-28"),
        ("who was president before July 20, 2022?", "before July 20, 2022", "before", None, "2022-07-19"),
        ("the toll before october 2022", "before october 2022", "before", None, "2022-09-30"),
        ("who led after november 30?", "after november 30", "after", "2022-12-01", None),
        ("deaths since february 24, 2022", "since february 24, 2022", "after", "2022-02-24", None),
        ("refugees by the end of february 2022", "by the end of february 2022", "before", None, "2022-02-28"),
        ("the toll at the end of august 2022", "at the end of august 2022", "period", "2022-08-21", "2022-08-31"),
        (
            "seats before the georgia runoff on december 6",
            "before the georgia runoff on december 6",
            "before",
            None,
            "2022-12-06",
        ),
    ],
)
def test_time_words_resolve_against_the_reference_date(question, words, kind, since, until):
    read = read_time_words(question, AS_OF)
    [reading] = read.readings
    assert (reading.words, reading.kind, reading.since, reading.until) == (words, kind, since, until)
    assert words.lower() not in read.searched.lower()  # the period is a filter now, not words to match


@pytest.mark.parametrize(
    "question",
    [
        "who won the 2022 World Cup?",  # a name, not a period asked about
        "the forecast for 2023",  # a year after the archive: a question about a forecast
        "how many had Ian killed before Biden's Oct 5 visit?",  # a date with no preposition of its own
        "what may happen to prices?",
    ],
)
def test_dates_that_are_not_periods_asked_for_stay_words(question):
    read = read_time_words(question, AS_OF)
    assert [r for r in read.readings if r.kind != "latest"] == [] and read.searched == question


@pytest.mark.parametrize(
    "question, words",
    [
        ("what's the latest death toll?", "latest"),
        ("who is prime minister now?", "now"),
        ("where is the rate currently?", "currently"),
        ("how many cases so far?", "so far"),
    ],
)
def test_latest_words_ask_for_the_newest_evidence(question, words):
    read = read_time_words(question, AS_OF)
    assert [(r.words, r.kind) for r in read.readings] == [(words, "latest")]
    assert read.newest_first and read.since is None and read.until is None
    explicit = read_time_words(question, "2022-06-30", explicit_reference=True)
    assert explicit.until == "2022-06-30"  # --as-of: "latest" means latest up to that day


def test_most_recently_asks_for_the_newest_evidence_without_a_window():
    read = read_time_words("what happened to the twitter deal most recently?", AS_OF)
    assert [(r.words, r.kind) for r in read.readings] == [("most recently", "latest")]
    assert read.since is None and not read.has_window


def test_recent_windows_also_rank_newer_evidence_first():
    assert read_time_words("who resigned recently?", AS_OF).newest_first
    assert not read_time_words("who won this week?", AS_OF).newest_first


@pytest.mark.parametrize(
    "question, wide_since, wide_until",
    [
        ("who won this week?", None, None),
        ("who resigned recently, after november 30?", "2022-12-01", None),
        ("what's the latest this week?", None, "2022-12-28"),  # --as-of: nothing later, window or not
    ],
)
def test_a_window_knows_the_range_without_it(question, wide_since, wide_until):
    read = read_time_words(question, AS_OF, explicit_reference=True)
    assert read.has_window
    assert (read.wide_since, read.wide_until) == (wide_since, wide_until)


def test_absolute_periods_are_not_windows():
    read = read_time_words("how many troops in February 2022?", AS_OF, report_lag_days=31)
    assert not read.has_window and (read.wide_since, read.wide_until) == (read.since, read.until)


def test_window_lengths_come_from_settings():
    from retrieval.time_words import TimeWindows

    read = read_time_words("who won this week?", AS_OF, windows=TimeWindows(week_days=3))
    assert (read.since, read.until) == ("2022-12-26", "2022-12-28")


def test_relative_words_follow_the_reference_not_the_clock():
    assert read_time_words("inflation last month", "2022-03-15").since == "2022-02-01"
    assert read_time_words("what happened yesterday", "2022-01-01").until == "2021-12-31"


TOLLS = [("a", "2022-08-30", "1,136"), ("b", "2022-09-22", "1,569"), ("c", "2022-10-28", "1,739")]


def index_tolls(settings):
    Indexer(settings, progress=False).index_articles(
        [
            *[
                Article(
                    id=i,
                    date=d,
                    source="Wire",
                    text=f"The flood death toll in the province rose to {n}, officials said.",
                )
                for i, d, n in TOLLS
            ],
            Article(
                id="later", date="2022-12-20", source="Wire", text="Officials said the province reopened its schools."
            ),
            Article(
                id="feb", date="2022-02-10", source="Wire", text="Rain in the province raised the river by a metre."
            ),
        ]
    )


@pytest.fixture
def tolls(isolated_index):
    """The first-stage ranking alone, so equal feature scores really tie."""
    settings = first_stage_settings(isolated_index)
    index_tolls(settings)
    return open_answerer(settings)


class EqualReader:
    """A cross-encoder that finds every toll sentence equally good."""

    def score(self, question, sentences):
        return np.array([1.0 if "toll" in s else -5.0 for s in sentences])


def test_the_reading_stage_also_puts_the_newest_of_equal_answers_first(fake_settings):
    from retrieval.answer import Answerer

    index_tolls(fake_settings)
    base = open_answerer(fake_settings)
    reader = Answerer(base.index, base.encoder, fake_settings, scorer=EqualReader())
    question = "what's the latest flood death toll in the province?"
    assert reader.ask(question).evidence[0].article_id == "c"
    assert reader.ask(question, time_words=False).evidence[0].article_id == "a"


def test_latest_puts_the_newest_of_equally_good_answers_first_and_says_as_of(tolls):
    question = "what's the latest flood death toll in the province?"
    plain = tolls.ask(question, time_words=False)
    assert plain.evidence[0].date == "2022-08-30"  # equal scores: the first indexed leads
    answer = tolls.ask(question)
    assert [e.date for e in answer.evidence[:3]] == ["2022-10-28", "2022-09-22", "2022-08-30"]
    assert answer.note.startswith("As of 2022-10-28,") and "runs to 2022-12-20" in answer.note
    data = answer.to_dict()
    assert data["time"] == [{"words": "latest", "kind": "latest", "since": None, "until": None}]
    assert data["as_of"] == "2022-12-20"  # the archive's newest date


def test_the_recency_bonus_does_not_lift_a_newer_sentence_that_does_not_answer(tolls):
    answer = tolls.ask("what's the latest flood death toll in the province?")
    assert answer.evidence[0].article_id == "c" and answer.evidence[0].text.endswith("officials said.")
    assert "reopened its schools" not in answer.evidence[0].text


def test_an_explicit_period_becomes_a_filter_and_the_json_says_how_it_was_read(tolls):
    answer = tolls.ask("what was the flood death toll in the province in September 2022?")
    assert answer.evidence[0].article_id == "b" and "a" not in {e.article_id for e in answer.evidence}
    # Reports about September may come in October: the filter reaches [time] report_lag_days past it.
    assert answer.filters == Filters(since="2022-09-01", until="2022-10-31")
    assert answer.to_dict()["time"] == [
        {"words": "in September 2022", "kind": "period", "since": "2022-09-01", "until": "2022-09-30"}
    ]


def test_the_report_lag_stops_at_the_reference_date_and_keeps_the_words():
    read = read_time_words("inflation in november 2022?", AS_OF, report_lag_days=31)
    assert (read.since, read.until, read.searched) == ("2022-11-01", AS_OF, "inflation in november 2022?")
    strict = read_time_words("inflation in november 2022?", AS_OF)
    assert (strict.until, strict.searched) == ("2022-11-30", "inflation?")


def test_time_words_narrow_explicit_filters(tolls):
    answer = tolls.ask("flood death toll before october 2022", filters=Filters(since="2022-09-01"))
    assert answer.filters == Filters(since="2022-09-01", until="2022-09-30")
    assert [e.article_id for e in answer.evidence] == ["b"]


def test_as_of_moves_last_month_and_latest(tolls):
    answer = tolls.ask("flood death toll last month", as_of="2022-10-05")
    assert answer.filters == Filters(since="2022-09-01", until="2022-10-05") and answer.as_of == "2022-10-05"
    assert answer.time[0].until == "2022-09-30"
    latest = tolls.ask("what's the latest flood death toll in the province?", as_of="2022-10-01")
    assert latest.evidence[0].date == "2022-09-22" and latest.filters.until == "2022-10-01"


def test_a_period_with_no_articles_says_which_words_it_read(tolls):
    answer = tolls.ask("flood death toll in March 2022")
    assert not answer.answered and answer.evidence == []
    assert 'No article matches "in March 2022" (since 2022-03-01, until 2022-05-01)' in answer.note


def test_without_time_handling_the_question_is_searched_as_written(tolls):
    answer = tolls.ask("flood death toll in March 2022", time_words=False)
    assert answer.evidence and answer.time == [] and not answer.filters.active and answer.as_of is None


def test_a_window_that_hides_the_answer_widens_and_says_so(tolls):
    # Asked on 2022-12-20, "this week" holds only the schools story: the toll is older.
    answer = tolls.ask("what was the flood death toll in the province this week?")
    assert answer.answered and answer.widened
    assert answer.evidence[0].article_id in {"a", "b", "c"}
    assert answer.note.startswith("Nothing this week (since 2022-12-14, until 2022-12-20) answers well")
    assert answer.to_dict()["widened"] is True
    assert answer.time[0].words == "this week"  # what was read is still said


def test_a_window_with_an_answer_keeps_it(tolls):
    answer = tolls.ask("what was the flood death toll in the province recently?", as_of="2022-10-30")
    assert answer.answered and not answer.widened
    assert answer.evidence[0].article_id == "c"  # within the last 30 days, newest first
    assert answer.filters == Filters(since="2022-10-01", until="2022-10-30")


def test_widening_keeps_the_asked_filters_and_the_as_of_day(tolls):
    answer = tolls.ask("what was the flood death toll in the province this week?", as_of="2022-10-20")
    assert answer.widened and answer.filters == Filters()  # nothing asked beyond the window
    cut = tolls.ask(
        "what was the flood death toll in the province this week?",
        as_of="2022-10-20",
        filters=Filters(until="2022-10-20"),
    )
    assert cut.widened and cut.filters == Filters(until="2022-10-20")
    assert {e.article_id for e in cut.evidence} <= {"a", "b", "feb"}  # nothing after the day asked


def test_widening_can_be_turned_off(isolated_index):
    settings = first_stage_settings(isolated_index, time={"widen_windows": False})
    index_tolls(settings)
    answer = open_answerer(settings).ask("what was the flood death toll in the province this week?")
    assert not answer.widened and answer.filters.since == "2022-12-14"


@pytest.mark.parametrize(
    "question, year",
    [
        ("who won the 2026 World Cup?", 2026),
        ("what was inflation in 2023?", 2023),
        ("where will the 2026 World Cup be held?", None),  # a plan the archive can report
        ("what did the IMF forecast for 2023 growth?", None),
        ("who won the 2022 World Cup?", None),
    ],
)
def test_questions_about_what_happened_after_the_archive_are_found(question, year):
    from retrieval.time_words import after_the_archive

    assert after_the_archive(question, "2022-12-28") == year


def test_a_question_about_after_the_archive_is_not_answered_and_says_why(tolls):
    answer = tolls.ask("what was the flood death toll in the province in 2024?")
    assert not answer.answered and answer.evidence  # the closest sentences are still listed
    assert answer.note.startswith("The archive runs to 2022-12-20: no report in it can say what happened in 2024.")
    assert tolls.ask("what was the flood death toll in the province?").answered
