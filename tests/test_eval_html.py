"""`newsdesk eval ... --html`: report.html with the summary, the plot, and every question, misses first."""

from __future__ import annotations

import base64
import json
import re
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

import bot.eval_command as eval_command_module
from bot.eval_command import eval_command
from retrieval.types import Answer, Evidence

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def sentence(text: str, date: str = "2022-02-10") -> Evidence:
    return Evidence(text=text, article_id="a1", title="", date=date, source="wire", url="", score=1.0)


ANSWERS = {
    "Who is the Pentagon press secretary?": [
        sentence("Filler about diplomacy."),
        sentence("Press secretary John Kirby spoke."),
    ],
    "How many soldiers went to Poland?": [sentence("Western leaders met again."), sentence("Talks went on.")],
    "What colour is the moon base?": [sentence("The base is painted blue.")],
    f"Which tag is {HOSTILE}?": [sentence(f"The tag {HOSTILE} was found.")],
}


class StubAnswerer:
    def ask(self, question, k=10, mode="hybrid", **options):
        return Answer(question, ANSWERS[question], answered=True, mode=mode)


@pytest.fixture
def gold(tmp_path, monkeypatch):
    @contextmanager
    def prepared(settings, gold, articles, index_dir, echo=None):
        yield StubAnswerer(), "stub corpus"

    monkeypatch.setattr(eval_command_module, "prepared_answerer", prepared)
    rows = [
        {"id": "hit", "question": "Who is the Pentagon press secretary?", "answers": ["John Kirby"]},
        {"id": "miss", "question": "How many soldiers went to Poland?", "answers": ["1,700"]},
        {"id": "false", "question": "What colour is the moon base?", "answers": []},
        {"id": "hostile", "question": f"Which tag is {HOSTILE}?", "answers": [HOSTILE]},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


class Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.statuses: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self.statuses.append(attrs["data-status"])


def test_html_report_lists_misses_first_with_gold_and_evidence_and_embeds_the_plot(gold, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(eval_command, [str(gold), "--mode", "bm25", "--html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    page = Sections()
    page.feed(html)
    assert page.statuses == ["miss", "false-answer", "hit", "hit"]
    (image,) = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    png = base64.b64decode(image.removeprefix("data:image/png;base64,"))
    assert png == (out / "hit_at_k.png").read_bytes()
    miss = html[html.index('data-status="miss"') : html.index('data-status="false-answer"')]
    assert "How many soldiers went to Poland?" in miss and "gold: <b>1,700</b>" in miss
    assert "Western leaders met again." in miss and "no hit in the evidence shown" in miss
    assert re.search(r"<td>hit@1</td><td>0\.333</td></tr><tr><td>hit@3</td><td>0\.667</td>", html)
    assert '<option value="miss">' in html and 'id="text"' in html  # the filters
    assert "--html" in html and "report.html" in result.output


def test_html_report_escapes_gold_and_article_strings(gold, tmp_path):
    out = tmp_path / "out"
    CliRunner().invoke(eval_command, [str(gold), "--html", "--out", str(out)])
    html = (out / "report.html").read_text(encoding="utf-8")
    page = Sections()
    page.feed(html)
    assert {tag for tag, _ in page.tags} <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "p",
        "code",
        "br",
        "b",
        "table",
        "tr",
        "th",
        "td",
        "img",
        "div",
        "label",
        "select",
        "option",
        "input",
        "section",
        "span",
        "script",
        "dl",
        "dt",
        "dd",
    }
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert html.count("<script>") == 1  # the report's own filter, and nothing from the data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_metric_and_status_on_the_page_is_explained_in_words(gold, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(eval_command, [str(gold), "--mode", "bm25", "--html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    metrics = re.findall(r"<tr><td>([^<]+)</td>", html)
    legend = dict(re.findall(r"<dt><code>([^<]+)</code></dt><dd>([^<]+)</dd>", html))
    assert {"date_acc", "noans_false", "noans_correct", "hit@1", "mrr@10", "p95_ms"} <= set(metrics)
    assert set(metrics) <= set(legend)  # every row of the summary table has its meaning
    assert "gold date" in legend["date_acc"] and "first hit sentence" in legend["date_acc"]
    assert "wrongly said it has no good answer" in legend["noans_false"]
    assert "cannot answer" in legend["noans_correct"] and "rightly" in legend["noans_correct"]
    assert "first 3 evidence sentences" in legend["hit@3"] and "reciprocal rank" in legend["mrr@10"]
    statuses = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    listed = re.findall(r'<option value="[a-z-]+">([^<]+) \(\d+\)</option>', html)
    assert listed == ["missed (no gold answer in the evidence)", "answered, but the archive holds no answer", "hit"]
    assert set(listed) <= set(statuses)  # every status in the filter is explained under it
    assert "none of the evidence sentences shown" in statuses["missed (no gold answer in the evidence)"]


def test_without_html_no_page_is_written(gold, tmp_path):
    out = tmp_path / "out"
    CliRunner().invoke(eval_command, [str(gold), "--out", str(out)])
    assert not (out / "report.html").exists() and (out / "report.md").exists()
