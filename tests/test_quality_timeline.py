"""The timeline lists the figures the question asks about, newest first, and nothing else."""

from retrieval.answer_types import AnswerType, answer_spans
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
    assert [(t.date, t.figure) for t in timeline] == [("2023-08-16", "6,800"), ("2023-08-14", "2,300")]


def test_evidence_far_below_the_best_does_not_join_the_timeline():
    evidence = [
        _evidence("Orders now cover about 6,800 residents.", "2023-08-16", "Wire", 20.0),
        _evidence("The fire forced about 2,300 residents from their homes.", "2023-08-14", "Wire", 15.0),
    ]
    assert build_timeline(evidence, AnswerType.QUANTITY, margin=3.0, question=QUESTION) == []
