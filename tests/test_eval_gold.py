"""Reading gold files in every supported format, and reporting bad entries by line."""

import json
from pathlib import Path

import pytest

from retrieval.evaluation.gold import GoldError, load_gold

DATA = Path(__file__).parent / "data"


def skipped_lines(gold):
    return {s.line: s.reason for s in gold.skipped}


def test_jsonl_gold_keeps_good_lines_and_reports_each_bad_line_by_number():
    gold = load_gold(DATA / "eval_gold.jsonl")
    assert gold.format == "jsonl"
    assert [q.id for q in gold.questions] == ["j1", "j2", "j7"]
    first = gold.questions[0]
    assert (first.answers, first.date, first.source, first.line) == (
        ("John Kirby",),
        "2022-02-10",
        "003_2b72e3d8e58c6539",
        1,
    )
    assert gold.questions[1].answers == ("1,700", "about 1700")
    assert not gold.questions[2].answerable
    reasons = skipped_lines(gold)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 10, 11]
    assert "not valid JSON" in reasons[4]
    assert "'question'" in reasons[5]
    assert "list of strings" in reasons[6]
    assert "YYYY-MM-DD" in reasons[7]
    assert "duplicate id 'j1'" in reasons[8]
    assert "no words" in reasons[10]


def test_csv_gold_splits_answers_on_pipes_and_counts_rows_from_their_first_line():
    gold = load_gold(DATA / "eval_gold.csv")
    assert gold.format == "csv"
    by_id = {q.id: q for q in gold.questions}
    assert list(by_id) == ["c1", "c2", "c3", "c4"]
    assert by_id["c2"].answers == ("100,000", "over 100000")
    assert by_id["c3"].answers == () and by_id["c3"].date is None
    assert by_id["c4"].line == 5  # its quoted question spans lines 5 and 6
    reasons = skipped_lines(gold)
    assert sorted(reasons) == [7, 8, 9, 10, 11]
    assert "header has 5" in reasons[7]
    assert "calendar date" in reasons[8]
    assert "'question'" in reasons[9]
    assert "fewer fields" in reasons[10]
    assert "empty answer" in reasons[11]


def test_squad_v1_paragraphs_become_articles_titled_and_sourced_by_their_title():
    gold = load_gold(DATA / "eval_squad_v1.json")
    assert gold.format == "squad"
    assert [a.id for a in gold.articles] == ["Vistula#0", "Vistula#1", "Baltic_Sea#0"]
    assert {(a.title, a.source) for a in gold.articles} == {("Vistula", "Vistula"), ("Baltic_Sea", "Baltic_Sea")}
    assert gold.articles[0].text.startswith("The Vistula is the longest river")
    by_id = {q.id: q for q in gold.questions}
    assert list(by_id) == ["v1-q1", "v1-q2", "v1-q3", "v1-q5"]
    assert by_id["v1-q3"].answers == ("Warsaw",)  # repeated annotator answers collapse
    assert by_id["v1-q3"].source == "Vistula#1"


def test_squad_bad_entries_are_reported_with_their_line_and_place():
    gold = load_gold(DATA / "eval_squad_v1.json")
    lines = (DATA / "eval_squad_v1.json").read_text().splitlines()
    reported = {s.where: s for s in gold.skipped}
    assert set(reported) == {
        "data[0].paragraphs[1].qas[1]",
        "data[1].paragraphs[0].qas[1]",
        "data[1].paragraphs[1].qas[0]",
    }
    no_answers = reported["data[0].paragraphs[1].qas[1]"]
    assert '"v1-q4"' in lines[no_answers.line - 1]
    assert "is_impossible" in no_answers.reason
    assert "no 'context'" in reported["data[1].paragraphs[1].qas[0]"].reason


def test_squad_v2_impossible_questions_have_no_answers():
    gold = load_gold(DATA / "eval_squad_v2.json")
    by_id = {q.id: q for q in gold.questions}
    assert list(by_id) == ["v2-q1", "v2-q2", "v2-q4", "v2-q5"]
    assert by_id["v2-q2"].answers == ()  # plausible answers are not answers
    assert by_id["v2-q1"].answers == ("1,047 km",)
    assert [s.where for s in gold.skipped] == ["data[0].paragraphs[0].qas[2]"]


def test_the_format_is_found_from_content_when_the_name_does_not_say(tmp_path):
    jsonl = tmp_path / "gold.txt"
    jsonl.write_text('{"question": "Who?", "answers": ["Kirby"]}\n{"question": "What?", "answers": []}\n')
    assert load_gold(jsonl).format == "jsonl"
    squad = tmp_path / "gold.data"
    squad.write_text((DATA / "eval_squad_v2.json").read_text())
    assert load_gold(squad).format == "squad"
    csv_file = tmp_path / "gold.tsvish"
    csv_file.write_text("question,answers\nWho?,Kirby\n")
    assert load_gold(csv_file).format == "csv"


def test_questions_without_an_id_are_named_by_their_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('\n{"question": "Who?", "answers": ["Kirby"]}\n')
    assert load_gold(path).questions[0].id == "line-2"


def test_a_missing_gold_file_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(GoldError, match="does not exist"):
        load_gold(tmp_path / "nope.jsonl")


def test_a_csv_without_question_and_answers_columns_is_an_error(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("q,a\nWho?,Kirby\n")
    with pytest.raises(GoldError, match="header must name the columns 'question' and 'answers'"):
        load_gold(path)


def test_a_squad_file_that_is_not_json_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "squad.json"
    path.write_text('{\n  "data": [\n    {"title": "x",}\n  ]\n}\n')
    with pytest.raises(GoldError, match="line 3"):
        load_gold(path)


def test_a_json_file_without_a_data_list_is_an_error(tmp_path):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "articles": []}))
    with pytest.raises(GoldError, match="'data' list"):
        load_gold(path)


def test_the_week_set_asks_every_question_on_a_day_its_answer_was_published():
    """Each answerable question of the week set can be answered from an article published on
    or before the day it is asked, and no later than a week before it."""
    from datetime import date

    from retrieval.evaluation.normalize import matches_any

    gold = load_gold(DATA / "news2022_week.jsonl")
    assert len(gold.questions) >= 150 and not gold.skipped
    assert all(q.as_of for q in gold.questions)
    articles = [json.loads(line) for line in (DATA / "news2022_week_articles.jsonl").read_text().splitlines()]
    for question in gold.questions:
        if not question.answers:
            continue
        asked = date.fromisoformat(question.as_of)
        holding = [
            a
            for a in articles
            if a["date"] == question.date
            and a["source"] == question.source
            and matches_any(a["text"], question.answers)
        ]
        assert holding, question.id
        assert 0 <= (asked - date.fromisoformat(question.date)).days <= 6, question.id
