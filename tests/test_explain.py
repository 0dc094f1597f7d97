"""`ask --explain` and the JSON `why`: what put each sentence where it is."""

import json

import pytest
from click.testing import CliRunner

from bot.answer_schema import component_schemas
from bot.cli import main


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    return CliRunner()


@pytest.fixture
def indexed(cli, tiny_corpus):
    result = cli.invoke(main, ["index", str(tiny_corpus)])
    assert result.exit_code == 0, result.output
    return tiny_corpus


def test_json_why_gives_features_scores_matched_terms_and_answer_type(cli, indexed):
    result = cli.invoke(main, ["ask", "--json", "--explain", "how many homes lost power in the storm?"])
    first = json.loads(result.output)["evidence"][0]
    why = first["why"]
    assert "12,000" in first["text"]
    assert why["answer_type"] == "quantity" and "12,000" in why["answer_spans"]
    assert {"homes", "power", "storm"} <= set(why["matched_terms"])
    assert {"bm25", "dense", "coverage", "type"} <= set(why["features"])
    assert why["first_stage_score"] == first["score"]
    assert why["first_stage_rank"] >= 1
    assert sum(why["contributions"].values()) == pytest.approx(first["score"], abs=1e-2)
    assert set(component_schemas()["Why"]["properties"]) == set(why)


def test_without_explain_the_json_why_is_null(cli, indexed):
    result = cli.invoke(main, ["ask", "--json", "how many homes lost power in the storm?"])
    assert all(e["why"] is None for e in json.loads(result.output)["evidence"])


def test_explain_tells_people_why_each_sentence_is_shown(cli, indexed):
    result = cli.invoke(main, ["ask", "--explain", "how many homes lost power in the storm?"])
    assert result.exit_code == 0, result.output
    assert "Why these sentences:" in result.output
    matched = next(line for line in result.output.splitlines() if line.strip().startswith("matched:"))
    assert {"homes", "power", "storm"} <= set(matched.split(":")[1].replace(",", " ").split())
    assert 'quantity answer: "12,000"' in result.output
