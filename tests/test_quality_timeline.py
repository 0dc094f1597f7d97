"""The timeline lists the figures the question asks about, newest first, of one count, and nothing else."""

from retrieval.answer_types import AnswerType, answer_spans
from retrieval.figures import Figure, FigureKind, read_figure
from retrieval.timeline import build_timeline
from retrieval.types import Evidence

QUESTION = "how many residents were evacuated?"


def _evidence(text, date, source, score):
    item = Evidence(text=text, article_id=date, title="", date=date, source=source, url="", score=score)
    item.highlights = answer_spans(text, AnswerType.QUANTITY, QUESTION)
    return item


def test_figures_about_the_asked_thing_make_the_timeline_newest_first():
    evidence = [
        _evidence("Orders now cover about 6,800 residents.", "2023-08-16", "Wire", 20.0),
        _evidence("Pushed by gusts of up to 40 mph, the fire spread.", "2023-08-15", "Times", 19.5),
        _evidence("The fire forced about 2,300 residents from their homes.", "2023-08-14", "Wire", 19.0),
    ]
    timeline = build_timeline(evidence, AnswerType.QUANTITY, margin=3.0, question=QUESTION)
    assert [(t.date, t.figure) for t in timeline] == [
        ("2023-08-16", "6,800 residents"),
        ("2023-08-14", "2,300 residents"),
    ]


def test_evidence_far_below_the_best_does_not_join_the_timeline():
    evidence = [
        _evidence("Orders now cover about 6,800 residents.", "2023-08-16", "Wire", 20.0),
        _evidence("The fire forced about 2,300 residents from their homes.", "2023-08-14", "Wire", 15.0),
    ]
    assert build_timeline(evidence, AnswerType.QUANTITY, margin=3.0, question=QUESTION) == []


def _asked(question, *rows):
    """Evidence for ``question`` from (text, date, source) rows, best first, all close in score."""
    items = []
    for rank, (text, date, source) in enumerate(rows):
        item = Evidence(text=text, article_id=date, title="", date=date, source=source, url="", score=20.0 - rank / 10)
        item.highlights = answer_spans(text, AnswerType.QUANTITY, question)
        items.append(item)
    return build_timeline(items, AnswerType.QUANTITY, margin=3.0, question=question)


def test_a_duration_never_meets_a_sum_of_money():
    question = "how much is the Spirit Frontier merger worth?"
    timeline = _asked(
        question,
        ("Spirit and Frontier expect to close the merger within the next 12 months.", "2022-07-28", "CNN"),
        ("Including debt and operating leases, the merger is worth $6.6 billion.", "2022-02-07", "Reuters"),
    )
    assert timeline == []


def test_sums_of_money_are_compared_in_one_currency_with_scale_words_read():
    question = "how much is the Spirit Frontier merger worth?"
    timeline = _asked(
        question,
        ("JetBlue's offer values the Spirit Frontier merger at $3.8 billion.", "2022-07-28", "CNN"),
        ("Including debt, the Spirit Frontier merger is worth $6.6 billion.", "2022-02-07", "Reuters"),
        ("Spirit Frontier merger is worth 6,600 million dollars, a filing said.", "2022-02-08", "AP"),
    )
    assert [(t.date, t.figure, t.counts) for t in timeline] == [
        ("2022-07-28", "$3.8 billion", "USD"),
        ("2022-02-08", "6,600 million", "USD"),
        ("2022-02-07", "$6.6 billion", "USD"),
    ]
    assert timeline[-1].value == 6_600_000_000


def test_troops_under_nato_command_are_not_troops_sent_to_poland():
    question = "how many US troops to Poland?"
    timeline = _asked(
        question,
        ("The U.S. has started deploying 5,000 troops to Poland and Romania.", "2022-02-17", "AP"),
        ("Stoltenberg said there are now 40,000 troops under direct NATO command.", "2022-03-24", "Bloomberg"),
        ("About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland.", "2022-02-10", "Reuters"),
    )
    assert [(t.date, t.figure) for t in timeline] == [("2022-02-17", "5,000 troops"), ("2022-02-10", "1,700 troops")]
    assert {t.counts for t in timeline} == {"troops"}


def test_daily_flights_are_not_compared_with_other_counts():
    question = "how many daily flights will the combined airline have?"
    timeline = _asked(
        question,
        ("The combined airline would have 458 aircraft and about 1,000 daily flights.", "2022-07-28", "CNN"),
        ("The combined airline will serve 5 new airports, the airline said.", "2022-02-07", "Reuters"),
        ("The combined airline expects the deal to close within 5 months.", "2022-02-08", "AP"),
    )
    assert timeline == []


def test_daily_flights_that_differ_make_a_timeline_that_says_daily_flights():
    question = "how many daily flights will the combined airline have?"
    timeline = _asked(
        question,
        ("The combined airline would have about 1,000 daily flights.", "2022-07-28", "CNN"),
        ("The combined airline will run 2,900 flights on Monday.", "2022-07-27", "AP"),
        ("The combined airline would operate 900 flights a day.", "2022-02-07", "Reuters"),
    )
    assert [(t.date, t.figure) for t in timeline] == [
        ("2022-07-28", "1,000 daily flights"),
        ("2022-02-07", "900 daily flights"),
    ]


def test_ages_years_percentages_and_ordinals_never_join_a_count():
    question = "how many people were evacuated?"
    timeline = _asked(
        question,
        ("Officials said 3,000 people were evacuated.", "2022-03-02", "AP"),
        ("A 45-year-old man and 20 percent of the people were evacuated in 2021.", "2022-03-01", "Reuters"),
        ("The 3rd evacuation of people aged 80 was ordered.", "2022-02-28", "BBC"),
    )
    assert timeline == []


def test_figures_are_read_with_their_scale_currency_and_what_they_count():
    def read(sentence, stated):
        at = sentence.index(stated)
        return read_figure(sentence, at, at + len(stated))

    assert read("Jones must pay $473m in damages.", "$473") == Figure(
        "$473m", FigureKind.COUNT, 473_000_000, "USD", "USD"
    )
    assert read("The deal has an enterprise value of $6.6 billion.", "$6.6 billion").value == 6_600_000_000
    assert read("It expects to close within the next 12 months.", "12").kind is FigureKind.DURATION
    assert read("Meta will cut 11,000 jobs, or more than 13 per cent.", "13").kind is FigureKind.PERCENT
    assert read("A 22-year-old woman died.", "22").kind is FigureKind.AGE
    assert read("About 1,700 U.S. soldiers are going.", "1,700").label == "soldiers"
    assert read("OPEC+ cut output by two million barrels a day.", "two million").label == "daily barrels"


def test_reports_worded_differently_about_the_same_place_make_one_timeline():
    question = "how many people died in the Pakistan floods?"
    items = []
    rows = [
        ("Pakistan's disaster authority said 1,569 people have died in the floods.", "2022-09-16", "Reuters", ""),
        ("At least 1,391 people have died since mid-June.", "2022-09-10", "BBC", "Pakistan floods: UN chief visits"),
        ("Monsoon floods in Pakistan killed nearly 1,000 people.", "2022-08-29", "AP", ""),
        ("In Pakistan 300 additional people have died of disease.", "2022-09-22", "NPR", "Pakistan floods"),
        ("The storm in Florida killed 76 people.", "2022-10-02", "CNN", "Hurricane Ian"),
    ]
    for rank, (text, date, source, title) in enumerate(rows):
        item = Evidence(text=text, article_id=date, title=title, date=date, source=source, url="", score=20 - rank / 10)
        item.highlights = answer_spans(text, AnswerType.QUANTITY, question)
        items.append(item)
    timeline = build_timeline(items, AnswerType.QUANTITY, margin=3.0, question=question)
    assert [(t.date, t.figure) for t in timeline] == [
        ("2022-09-16", "1,569 people"),
        ("2022-09-10", "1,391 people"),
        ("2022-08-29", "1,000 people"),
    ]


def test_a_count_named_before_its_figure_joins_the_count_named_after_it():
    from retrieval.figures import read_figure

    grown = "The number of measles cases in Brannock County has risen to 87, the county said on Friday."
    first = "Health officials in Brannock County have confirmed 42 cases of measles since early January."
    at = grown.index("87")
    assert read_figure(grown, at, at + 2).counts == "case"
    at = first.index("42")
    assert read_figure(first, at, at + 2).counts == "case"
    killed = "The number of people killed has risen to 1,569."
    at = killed.index("1,569")
    assert read_figure(killed, at, at + 5).counts == "people"
