"""The web page at `/`: cards, timeline, filters and permalink, and nothing hostile gets through.

Every tag and attribute on a page built from hostile articles and questions is read back with
the standard HTML parser: only the page's own tags appear, no event handler, no script, and no
link that is not http(s).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import write_jsonl
from starlette.testclient import TestClient

from bot.serve_app import ServeConfig, Service, create_app
from bot.serve_page import marked, render_page, safe_url
from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.live import LiveAnswerer
from retrieval.types import Answer, Evidence, TimelineEntry

PAGE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "a",
    "span",
    "form",
    "div",
    "input",
    "button",
    "details",
    "summary",
    "label",
    "select",
    "option",
    "main",
    "p",
    "section",
    "ol",
    "li",
    "time",
    "mark",
    "cite",
}
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</textarea><svg onload=alert(3)>",
    "' autofocus onfocus='alert(4)",
    "&lt;b&gt; &amp; <!-- -->",
]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def assert_only_own_markup(html: str) -> Tags:
    page = parse(html)
    for tag, attrs in page.tags:
        assert tag in PAGE_TAGS, f"unexpected <{tag}> on the page"
        assert not any(name.startswith("on") for name in attrs), f"event handler on <{tag}>: {attrs}"
        if "href" in attrs:
            assert (attrs["href"] or "").startswith(("/", "http://", "https://")), f"link {attrs['href']!r}"
    return page


def evidence(text: str, **fields) -> Evidence:
    base = {"article_id": "a1", "title": "", "date": "2022-02-10", "source": "wire", "url": "", "score": 1.0}
    return Evidence(text=text, **{**base, **fields})


def test_cards_mark_answer_spans_and_show_date_source_link_and_copies():
    first = evidence(
        "About 1,700 soldiers are going to Poland.",
        highlights=[(6, 11)],
        also_in=2,
        url="https://news.example/a1",
        title="Troops to Poland",
    )
    answer = Answer(
        question="how many troops?",
        evidence=[first],
        note="The figures differ.",
        timeline=[TimelineEntry("2022-02-17", "ap", "5,000", "…"), TimelineEntry("2022-02-10", "wire", "1,700", "…")],
    )
    html = render_page({"q": "how many troops?", "k": "3"}, answer=answer)
    page = assert_only_own_markup(html)
    assert "About <mark>1,700</mark> soldiers" in html
    assert '<time datetime="2022-02-10">2022-02-10</time>' in html
    assert '<a href="https://news.example/a1" rel="noopener noreferrer nofollow">wire</a>' in html
    assert "reported by 3 sources" in html and "<cite>Troops to Poland</cite>" in html
    text = " ".join(page.text)
    assert text.index("2022-02-17") < text.index("5,000") < text.index("2022-02-10") < text.index("1,700")
    (permalink,) = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("class") == "permalink"]
    assert parse_qs(urlsplit(permalink).query) == {"q": ["how many troops?"], "k": ["3"]}
    assert ("input", {"type": "number", "name": "k", "min": "1", "max": "100", "value": "3"}) in page.tags
    assert {attrs.get("name") for tag, attrs in page.tags if tag in ("input", "select")} == {
        "q",
        "since",
        "until",
        "source",
        "mode",
        "k",
    }


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_in_every_field_come_back_as_text(hostile):
    card = evidence(
        f"Officials said {hostile} 40 boats sank.",
        title=hostile,
        source=hostile,
        date=hostile,
        url=f"javascript:alert(5)//{hostile}",
        article_id=hostile,
        highlights=[(0, 9), (5, 3), (30, 400)],
    )
    answer = Answer(
        question=hostile, evidence=[card], note=hostile, timeline=[TimelineEntry(hostile, hostile, hostile, hostile)]
    )
    form = {"q": hostile, "k": hostile, "mode": hostile, "since": hostile, "until": hostile, "source": hostile}
    html = render_page(form, answer=answer, error=hostile, stats={"articles": 1, "sentences": 2, "date_min": hostile})
    page = assert_only_own_markup(html)
    assert hostile in "".join(page.text)  # shown, as the words they are
    assert "<script" not in html.lower()


def test_marked_escapes_around_and_inside_spans():
    assert marked("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    assert marked("x & y", []) == "x &amp; y"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://a.example/x?y=1", True),
        ("http://a.example", True),
        (" HTTPS://A.EXAMPLE ", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,x", False),
        ("//evil.example", False),
        ("", False),
        ("http://[::1", False),
    ],
)
def test_only_http_links_are_links(url, kept):
    assert bool(safe_url(url)) is kept


@pytest.fixture
def hostile_client(fake_settings, tmp_path):
    rows = [
        {
            "id": f"h{n}",
            "title": hostile,
            "source": hostile,
            "url": "javascript:alert(1)",
            "date": "2024-03-0" + str(n + 1),
            "text": f"Officials said {hostile} 40 boats sank in the harbour storm.",
        }
        for n, hostile in enumerate(HOSTILE)
    ]
    Indexer(fake_settings, progress=False).index_paths([write_jsonl(tmp_path / "hostile.jsonl", rows)])
    live = LiveAnswerer(open_answerer(fake_settings), fake_settings.index_dir)
    with TestClient(create_app(Service(ServeConfig(rate_per_minute=0)).ready_with(live))) as client:
        yield client


@pytest.mark.parametrize(
    "question",
    ["how many boats sank?", "how many boats <script>alert(6)</script> sank?", '"><svg onload=alert(7)> boats'],
)
def test_hostile_articles_and_questions_are_escaped_on_the_served_page(hostile_client, question):
    response = hostile_client.get("/", params={"q": question})
    assert response.status_code == 200
    page = assert_only_own_markup(response.text)
    assert "40 boats" in "".join(page.text) and question in "".join(page.text)
    assert "<script" not in response.text.lower()
    assert "script-src" not in response.headers["content-security-policy"]  # no script may run at all
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    api = hostile_client.get("/ask", params={"q": question})
    assert api.headers["content-type"].startswith("application/json") and api.json()["question"] == question


def test_errors_show_on_the_page_with_their_status(hostile_client):
    response = hostile_client.get("/", params={"q": "boats", "since": "2024-02-30"})
    assert response.status_code == 400
    alerts = [t for t in parse(response.text).tags if t[0] == "p" and t[1].get("role") == "alert"]
    assert len(alerts) == 1 and "is not a date" in response.text
    empty = hostile_client.get("/")
    assert empty.status_code == 200 and "5 articles" in empty.text and 'role="alert"' not in empty.text
