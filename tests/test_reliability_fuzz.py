"""Fuzzing: whatever text, bytes or JSON comes in, newsdesk splits, ingests, answers and
replies without crashing, and every Telegram reply is valid HTML under 4,096 characters.

Inputs mix arbitrary unicode (control characters, emoji, right-to-left marks, zero-width
spaces), HTML-like text (``<script>``, unclosed tags, bare ``&``, entities), malformed and
hostile JSON, and huge inputs (a megabyte on one line).
"""

from __future__ import annotations

import collections
import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_article, write_jsonl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram_html import telegram_html_problems, visible_text
from test_reliability_report import LoopBot, record_figures, telegram_message, texts_sent
from test_telegram_bot import inline_update

from bot.cli import main
from bot.format import render_json, render_text
from bot.telegram_bot import APOLOGY
from bot.telegram_format import answer_cards, format_answer, welcome
from retrieval.answer import open_answerer
from retrieval.config import Settings
from retrieval.indexer import Indexer
from retrieval.ingest import read_paths
from retrieval.split import MAX_SENTENCE_CHARS, SentenceSplitter, chunk_ids
from retrieval.tokenize import Tokenizer
from retrieval.types import Answer, Evidence, QuestionError, TimelineEntry

# Pieces that have broken text handling somewhere before: markup, entities, control and
# formatting characters, abbreviations, emoji, wide and compatibility characters.
NASTY = [
    "<script>alert(1)</script>",
    "<b>",
    "</i>",
    "<a href='javascript:alert(1)'>x</a>",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&#0;",
    "&#x110000;",
    "&nbsp;",
    "&bogus;",
    "<!--",
    "-->",
    "<![CDATA[x]]>",
    "<?xml?>",
    "<br/>",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\r\n",
    "\n\n",
    "\r",
    "\t",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u2028",
    "U.S.",
    "Mr.",
    "J. K.",
    "...",
    "…",
    ". ",
    "? ",
    "!!",
    '"',
    "“",
    "’",
    "(",
    "]",
    "🇵🇱",
    "🙂",
    "👩‍👩‍👧",
    "𝕏",
    "Ω",
    "ﬁ",
    "１,７００",
    "1,700",
    "3.5",
    "82nd",
    "@NewsdeskTestBot",
    "/ask",
    "how many",
    "troops",
    "Poland",
    " ",
    "  ",
]
messy_piece = st.one_of(st.text(max_size=30), st.sampled_from(NASTY))


def messy_text(max_pieces: int = 30) -> st.SearchStrategy[str]:
    return st.lists(messy_piece, max_size=max_pieces).map("".join)


# A megabyte on one line, or many short lines: one random unit repeated many times.
huge_text = st.builds(lambda unit, times: unit * times, messy_text(6).filter(bool), st.integers(2_000, 60_000))
HUGE = {
    "a megabyte of short sentences": "Hi. " * 250_000,
    "a megabyte of dots": "." * 1_000_000,
    "a megabyte of initials": "J. " * 330_000,
    "a megabyte of U.S.": "U.S. " * 200_000,
    "a megabyte of one word": "x" * 1_000_000,
    "a megabyte of blank lines": "\n \n" * 330_000,
    "a megabyte of tags": "<b>&amp;" * 130_000,
}

tried: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried():
    yield
    record_figures("fuzz", inputs_tried=dict(tried), total=sum(tried.values()))


# --- the sentence splitter --------------------------------------------------------------------


def check_split(text: str) -> None:
    sentences = SentenceSplitter().split(text)
    assert [s.position for s in sentences] == list(range(len(sentences)))
    assert all(s.text and s.text == " ".join(s.text.split()) for s in sentences)
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in sentences)
    assert [s.paragraph for s in sentences] == sorted(s.paragraph for s in sentences)
    # Nothing is lost or reordered: only whitespace may change.
    assert "".join("".join(s.text for s in sentences).split()) == "".join(text.split())
    chunks = chunk_ids(sentences)
    assert len(chunks) == len(sentences) and chunks == sorted(chunks)
    assert all(count <= 5 for count in collections.Counter(chunks).values())


@settings(max_examples=400, deadline=None)
@given(messy_text())
@example("Mr. Smith met Gen. Milley in the U.S. The talks ended.")
def test_the_splitter_keeps_every_character_of_any_text_in_order(text):
    tried["splitter"] += 1
    check_split(text)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(huge_text)
def test_the_splitter_and_tokenizer_get_through_huge_repetitive_text(text):
    tried["splitter, huge"] += 1
    check_split(text)
    assert isinstance(Tokenizer()(text), list)


@pytest.mark.parametrize("text", HUGE.values(), ids=HUGE.keys())
def test_the_splitter_and_tokenizer_get_through_a_megabyte_of_pathological_text(text):
    tried["splitter, megabyte"] += 1
    check_split(text)
    assert isinstance(Tokenizer()(text), list)


# --- ingest of .txt and .jsonl ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
dates = st.one_of(
    st.sampled_from(
        [
            "2022-02-10",
            "February 10, 2022",
            "10 Feb 2022",
            "2022-02-30",
            "2022-13-01",
            "soon",
            "",
            "2022-02-11T09:30:00Z",
            "Thu, 10 Feb 2022 09:00:00 +0000",
            "99999-01-01",
        ]
    ),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    json_values,
)
records = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(messy_text(), messy_text(), json_values),
        "id": st.one_of(st.text(max_size=10), st.integers(), json_values),
        "title": st.one_of(messy_text(5), json_values),
        "date": dates,
        "source": st.one_of(messy_text(3), json_values),
        "url": st.one_of(
            st.sampled_from(["https://example.org/a?x=1&y=<2>", "javascript:alert(1)", "https://e.com/" + "a" * 5000]),
            messy_text(3),
        ),
    },
)
HOSTILE_LINES = [
    "[" * 50_000 + "]" * 50_000,  # nested deeper than the parser's recursion limit
    '{"text": "a number too long", "id": 1' + "0" * 5000 + "}",  # past Python's int-string limit
    '{"text": "half of a pair \\ud800 in text", "title": "\\udfff"}',
    '{"text": "Not a number", "date": NaN}',
    '{"text": "Huge", "date": 1e400}',
    '{"text": "Neg", "date": -1e300}',
    "\ufeff" + '{"text": "a byte order mark before the object"}',
    '{"text": "duplicate keys", "text": "the last one wins"}',
    "{not json",
    '["a list"]',
    "null",
    "42",
    '"a string"',
    '{"title": "no text"}',
    '{"text": ""}',
    '{"text": "   "}',
]
jsonl_lines = st.one_of(
    records.map(lambda r: json.dumps(r, allow_nan=True)),
    json_values.map(json.dumps),
    messy_text(10).map(lambda t: t.replace("\n", " ").replace("\r", " ")),
    st.sampled_from(HOSTILE_LINES),
)
txt_bodies = st.one_of(
    st.builds(
        lambda headers, date, body: "".join(headers) + (f" date {date} " if date is not None else "") + body,
        st.lists(
            st.sampled_from(
                [
                    "Source: AP\n",
                    "Title: <b>Big</b> & bold\n",
                    "URL: https://e.org/x\n",
                    "Date: 10 Feb 2022\n",
                    "Id: x1\n",
                    "title:" + " " * 3000 + "y\n",
                    "Source:\n",
                ]
            ),
            max_size=4,
        ),
        st.one_of(st.none(), st.sampled_from(["2022-02-10", "2022-02-30", "someday"])),
        messy_text(),
    ),
    messy_text(),
)
files = st.lists(
    st.one_of(
        st.tuples(st.just(".txt"), txt_bodies.map(lambda t: t.encode("utf-8"))),
        st.tuples(st.just(".jsonl"), st.lists(jsonl_lines, max_size=8).map(lambda ls: "\n".join(ls).encode("utf-8"))),
        st.tuples(st.sampled_from([".txt", ".jsonl"]), st.binary(max_size=200)),
        st.tuples(st.sampled_from([".txt", ".jsonl"]), messy_text().map(lambda t: t.encode("latin-1", "replace"))),
        st.tuples(st.sampled_from([".pdf", ".md", ""]), st.binary(max_size=20)),
    ),
    min_size=1,
    max_size=6,
)


def write_files(folder: Path, contents: list[tuple[str, bytes]]) -> None:
    for number, (suffix, data) in enumerate(contents):
        (folder / f"input{number}{suffix}").write_bytes(data)


def hashing(index_dir: Path) -> Settings:
    return Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "hashing"}})


def check_read(folder: Path):
    result = read_paths([folder])
    assert result.inputs == len(result.articles) + len(result.skipped), "every input is indexed or skipped"
    for problem in result.skipped + result.warnings:
        assert problem.where.startswith(str(folder)) and problem.reason
    for article in result.articles:
        assert article.text and article.text == article.text.strip()
        for value in (article.id, article.text, article.title, article.source, article.url):
            value.encode("utf-8")  # storable: no halves of UTF-16 pairs
        assert article.date is None or (len(article.date) == 10 and article.date[4] == "-")
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_reading_any_files_indexes_or_skips_each_input_with_a_reason(contents):
    tried["ingest, read"] += 1
    with tempfile.TemporaryDirectory() as folder:
        write_files(Path(folder), contents)
        check_read(Path(folder))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_indexing_any_files_completes_and_the_summary_adds_up(contents):
    tried["ingest, index"] += 1
    with tempfile.TemporaryDirectory() as workdir:
        folder, index_dir = Path(workdir) / "in", Path(workdir) / "index"
        folder.mkdir()
        write_files(folder, contents)
        report = Indexer(hashing(index_dir), index_dir, progress=False).index_paths([folder])
        assert report.indexed + report.updated + report.unchanged + len(report.skipped) == report.read
        assert f"read {report.read} ·" in report.summary()
        try:
            answer = open_answerer(hashing(index_dir)).ask("what happened?")
        except QuestionError:
            pytest.fail("a plain question must be accepted")
        assert len(answer.evidence) <= 5


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=range(len(HOSTILE_LINES)))
def test_a_hostile_jsonl_line_is_skipped_or_indexed_and_never_stops_the_run(tmp_path, line):
    tried["ingest, hostile line"] += 1
    feed = write_jsonl(tmp_path / "feed.jsonl", [line, {"id": "ok", "text": "The harbour bridge opens in May."}])
    report = Indexer(hashing(tmp_path / "index"), tmp_path / "index", progress=False).index_paths([feed])
    assert report.read == 2 and report.indexed + len(report.skipped) == 2
    assert all(p.where == f"{feed}:1" for p in report.skipped), "the good line is never the one skipped"
    answer = open_answerer(hashing(tmp_path / "index")).ask("when does the harbour bridge open?")
    assert "harbour bridge opens in May" in answer.evidence[0].text


@pytest.mark.parametrize(
    "text", [HUGE["a megabyte of short sentences"], HUGE["a megabyte of tags"]], ids=["short sentences", "tags"]
)
def test_a_megabyte_article_is_indexed_and_searchable(tmp_path, text):
    tried["ingest, megabyte article"] += 1
    write_article(tmp_path / "in", "huge.txt", text + " The ferry to Ystad sails at noon.")
    write_article(tmp_path / "in", "small.txt", "The council approved the budget on Monday.")
    report = Indexer(hashing(tmp_path / "index"), tmp_path / "index", progress=False).index_paths([tmp_path / "in"])
    assert (report.indexed, report.skipped) == (2, [])
    answer = open_answerer(hashing(tmp_path / "index")).ask("who approved the budget?", mode="bm25")
    assert "council approved the budget" in answer.evidence[0].text


# --- questions --------------------------------------------------------------------------------


def hostile_articles(folder: Path) -> Path:
    """Articles whose text, titles, sources and urls are full of markup, entities and odd characters."""
    write_article(
        folder,
        "harbour.txt",
        (
            "The city council approved a new harbour bridge on Monday. Construction will cost 40 million dollars.\n\n"
            "Mayor Ana Ruiz said the bridge opens in 2026. Residents welcomed the decision."
        ),
        "2024-03-01",
    )
    write_article(
        folder,
        "script.txt",
        (
            "The page showed <script>alert('owned')</script> to every visitor of the harbour site. "
            "Engineers said an unclosed <b>tag and a bare & broke the layout on Tuesday. "
            "The literal text &lt;b&gt; and &amp; appeared in the harbour notice."
        ),
        "2024-03-02",
    )
    write_jsonl(
        folder / "feed.jsonl",
        [
            {
                "id": "att",
                "text": "AT&T bought the harbour ferry line for 2 billion dollars.",
                "title": "<i>Deal</i> & more",
                "source": "Daily <News> & Co",
                "url": 'https://example.com/?a=1&b=<2>&c="3"',
                "date": "2024-03-03",
            },
            {
                "id": "js",
                "text": "A phishing link promised free harbour tickets.",
                "source": "<a href='javascript:alert(1)'>x</a>",
                "url": "javascript:alert(1)",
                "date": "2024-03-04",
            },
            {
                "id": "long",
                "text": "The harbour authority published its report online.",
                "source": "Authority",
                "url": "https://example.com/" + "report/" * 900,
                "date": "2024-03-05",
            },
            {
                "id": "odd",
                "text": "Zero\u200bwidth, right\u202eto-left and \x1b[31mcolour codes reached the harbour desk.",
                "date": "2024-03-06",
                "source": "\u202eswen",
            },
            {"id": "emoji", "text": "The harbour festival 🎉🇵🇱 drew 12,000 visitors.", "date": "2024-03-07"},
        ],
    )
    return folder


@pytest.fixture(scope="module")
def hostile_answerer(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile")
    articles = hostile_articles(work / "articles")
    Indexer(hashing(work / "index"), work / "index", progress=False).index_paths([articles])
    return open_answerer(hashing(work / "index"))


questions = st.one_of(messy_text(), huge_text.map(lambda t: t[:5000]), st.text())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions, st.sampled_from(["hybrid", "bm25", "dense"]), st.integers(1, 12))
@example("<script>alert(1)</script> harbour & bridge?", "hybrid", 5)
@example("\x00\x1b[31m", "hybrid", 5)
def test_any_question_gets_an_answer_or_a_reason_and_every_rendering_holds(hostile_answerer, question, mode, k):
    tried["questions, core"] += 1
    try:
        answer = hostile_answerer.ask(question, k=k, mode=mode)
    except QuestionError as exc:
        assert str(exc)
        return
    assert len(answer.evidence) <= k
    assert json.loads(render_json(answer))["question"] == answer.question
    render_text(answer)
    for message in format_answer(answer):
        assert telegram_html_problems(message) == [], message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messy_text(8), min_size=1, max_size=5))
def test_questions_piped_to_newsdesk_ask_json_each_get_one_json_line(tmp_path_factory, lines):
    tried["questions, CLI"] += 1
    lines = [" ".join(line.splitlines()) for line in lines]  # one question per line, as piped
    work = cli_index(tmp_path_factory)
    result = CliRunner().invoke(
        main,
        ["ask", "--json", "--index", str(work)],
        input="".join(f"{q}\n" for q in lines),
        env={"NEWSDESK_MODEL": "hashing"},
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == sum(1 for q in lines if q.strip())
    for reply in replies:
        assert reply["error"] if "error" in reply else {"question", "answered", "evidence"} <= set(reply)


_cli_index: dict[str, Path] = {}


def cli_index(tmp_path_factory) -> Path:
    if "dir" not in _cli_index:
        work = tmp_path_factory.mktemp("cli-fuzz")
        Indexer(hashing(work / "index"), work / "index", progress=False).index_paths(
            [hostile_articles(work / "articles")]
        )
        _cli_index["dir"] = work / "index"
    return _cli_index["dir"]


# --- Telegram replies -------------------------------------------------------------------------


def evidence_strategy():
    return st.builds(
        Evidence,
        text=st.one_of(messy_text(), huge_text.map(lambda t: t[:20_000])),
        article_id=st.text(max_size=10),
        title=messy_text(4),
        date=st.one_of(st.none(), st.sampled_from(["2022-02-10", "<b>"])),
        source=st.one_of(messy_text(4), st.text(max_size=5000)),
        url=st.one_of(
            st.just(""),
            st.sampled_from(["https://e.com/?a=1&b=<2>", "javascript:alert(1)", 'https://e.com/"><script>']),
            st.text(max_size=6000).map(lambda t: "https://example.com/" + t),
        ),
        score=st.floats(allow_nan=True),
        also_in=st.integers(0, 3),
        highlights=st.lists(st.tuples(st.integers(-5, 300), st.integers(-5, 300)), max_size=4),
    )


answers = st.builds(
    Answer,
    question=st.one_of(messy_text(), st.text(max_size=2000)),
    evidence=st.lists(evidence_strategy(), max_size=8),
    answered=st.booleans(),
    mode=st.just("hybrid"),
    note=messy_text(4),
    timeline=st.lists(
        st.builds(
            TimelineEntry,
            date=st.one_of(st.none(), messy_text(2)),
            source=messy_text(3),
            figure=messy_text(2),
            text=messy_text(3),
        ),
        max_size=4,
    ),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(answers)
def test_any_answer_formats_as_valid_telegram_html_under_the_limit_with_nothing_lost(answer):
    tried["reply formatter"] += 1
    messages = format_answer(answer)
    for message in messages:
        assert telegram_html_problems(message) == [], message[:300]
    seen = "".join("".join(visible_text(m) for m in messages).split())
    for evidence in answer.evidence:
        assert "".join(evidence.text.split()) in seen, "every evidence sentence reaches the reader"
    for _title, _description, text in answer_cards(answer):
        assert telegram_html_problems(text) == [], text[:300]


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "articles": st.one_of(st.none(), st.integers(0, 10**9)),
            "date_min": st.one_of(st.none(), messy_text(2)),
            "date_max": st.one_of(st.none(), messy_text(2)),
        }
    ),
    st.lists(messy_text(6), min_size=1, max_size=4),
    st.one_of(st.none(), messy_text(2)),
)
def test_the_welcome_is_valid_telegram_html_whatever_the_config_holds(stats, examples, username):
    tried["welcome"] += 1
    message = welcome(stats, examples, username)
    assert telegram_html_problems(message) == [], message


@pytest.fixture(scope="module")
def fuzz_bot(hostile_answerer):
    bot = LoopBot(hostile_answerer, questions_per_window=0, inline_queries_per_window=0)
    yield bot
    bot.close()


updates = st.tuples(
    st.sampled_from(["private", "ask", "mention", "inline", "command"]),
    st.one_of(messy_text(), st.text(max_size=300), huge_text.map(lambda t: t[:4096])),
    st.integers(1, 10**6),
)


def telegram_update(kind: str, text: str, user: int) -> dict:
    if kind == "inline":
        return inline_update(text[:256], user=user)
    if kind == "ask":
        return telegram_message(f"/ask {text}"[:4096], user=user, chat=-user)
    if kind == "mention":
        return telegram_message(f"@NewsdeskTestBot {text}"[:4096], user=user, chat=-user)
    if kind == "command":
        return telegram_message(("/" + text)[:4096], user=user)
    return telegram_message(text[:4096], user=user)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(updates)
@example(("private", "<script>alert(1)</script> harbour & bridge <b>", 1))
@example(("private", "report harbour authority published online", 2))
@example(("inline", "AT&T harbour ferry", 3))
def test_whatever_a_person_sends_every_reply_is_valid_telegram_html_under_the_limit(fuzz_bot, update):
    tried["bot updates"] += 1
    kind, text, user = update
    calls = fuzz_bot.send(telegram_update(kind, text, user))
    sent = texts_sent(calls)
    for call in calls:
        if call.method == "sendMessage":
            assert call.params["parse_mode"] == "HTML" and call.params["chat_id"] in (user, -user)
    for message in sent:
        assert telegram_html_problems(message) == [], message[:300]
        assert APOLOGY not in message, "answering failed"
    if kind == "private":
        assert sent, "a private message always gets a reply"
