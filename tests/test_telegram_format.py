"""Answers rendered as Telegram HTML: escaped, sourced, and split under the message limit."""

from __future__ import annotations

import html
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from telegram_html import telegram_html_problems, visible_text

from bot.telegram_format import (
    MESSAGE_LIMIT,
    answer_cards,
    format_answer,
    split_html,
    tg_len,
    welcome,
)
from retrieval.types import Answer, Evidence, TimelineEntry

html_problems = telegram_html_problems
visible = visible_text


def evidence(text: str, date="2022-02-10", source="Wire", url="", **kw) -> Evidence:
    return Evidence(text=text, article_id="a1", title="Title", date=date, source=source, url=url, score=1.0, **kw)


POLAND = Answer(
    question="how many US troops to Poland?",
    evidence=[
        evidence(
            "About 1,700 U.S. soldiers are going to Poland.",
            "2022-02-10",
            "Pentagon wire",
            "https://example.com/a?x=1&y=2",
        ),
        evidence("The U.S. has started deploying 5,000 troops to Poland and Romania.", "2022-02-17", "Daily"),
    ],
)


def test_each_evidence_sentence_shows_its_date_and_source():
    [message] = format_answer(POLAND)
    assert "About 1,700 U.S. soldiers are going to Poland." in message
    assert "2022-02-10 · " in message and "2022-02-17 · Daily" in message
    assert html_problems(message) == []


def test_the_source_links_to_the_article_when_it_has_a_url():
    [message] = format_answer(POLAND)
    assert '<a href="https://example.com/a?x=1&amp;y=2">Pentagon wire</a>' in message


def test_a_source_without_a_web_url_is_plain_text_not_a_link():
    answer = Answer(question="q?", evidence=[evidence("Text here.", url="javascript:alert(1)")])
    [message] = format_answer(answer)
    assert "<a " not in message and "Wire" in message


def test_user_and_article_text_are_escaped():
    answer = Answer(
        question="<script>alert('x')</script> & co?",
        evidence=[evidence("Profits rose <b>5%</b> & more", source="A&B <News>", url='https://e.com/?q="x"')],
    )
    [message] = format_answer(answer)
    assert html_problems(message) == []
    assert "&lt;script&gt;" in message and "A&amp;B &lt;News&gt;" in message
    assert "<script>" in visible(message) and "Profits rose <b>5%</b> & more" in visible(message)


def test_highlighted_spans_are_bold_and_bad_spans_are_ignored():
    text = "About 1,700 U.S. soldiers are going."
    answer = Answer(question="q?", evidence=[evidence(text, highlights=[(6, 11), (8, 20), (50, 60), (3, 1)])])
    [message] = format_answer(answer)
    assert "About <b>1,700</b> U.S. soldiers" in message
    assert html_problems(message) == [] and text in visible(message)


def test_copies_in_other_articles_are_counted_with_the_first_date():
    answer = Answer(question="q?", evidence=[evidence("Said twice.", also_in=2)])
    message = format_answer(answer)[0]
    assert f"reported by 3 sources, first on {answer.evidence[0].date}" in message


def test_no_good_answer_is_said_plainly_before_the_weak_evidence():
    answer = Answer(question="who won the cup?", evidence=[evidence("Unrelated sentence.")], answered=False)
    [message] = format_answer(answer)
    assert message.index("No good answer") < message.index("Unrelated sentence.")


def test_no_good_answer_and_no_evidence_suggests_what_to_do():
    [message] = format_answer(Answer(question="zzz?", evidence=[], answered=False))
    assert "No good answer" in message and "Try other words" in message


def test_a_question_without_latin_letters_is_told_the_archive_is_english():
    [message] = format_answer(Answer(question="Сколько войск?", evidence=[], answered=False))
    assert "in English" in message and "Сколько войск?" in message


def test_figures_that_changed_are_listed_newest_first_with_dates():
    answer = Answer(
        question=POLAND.question,
        evidence=POLAND.evidence,
        note="Figures differ between dates.",
        timeline=[
            TimelineEntry("2022-02-17", "Daily", "5,000", "..."),
            TimelineEntry("2022-02-10", "Wire", "1,700", "..."),
        ],
    )
    [message] = format_answer(answer)
    assert re.search(r"2022-02-17 · 5,000.*\n.*2022-02-10 · 1,700", message)
    assert "Figures differ between dates." in message and html_problems(message) == []


def test_a_long_answer_is_split_into_valid_messages_under_the_limit():
    sentences = [f"Sentence {i} says <that> & " + "word " * 150 for i in range(30)]
    answer = Answer(question="q?", evidence=[evidence(s, highlights=[(0, 8)]) for s in sentences])
    messages = format_answer(answer)
    assert len(messages) > 1
    for message in messages:
        assert tg_len(message) <= MESSAGE_LIMIT
        assert html_problems(message) == []
    for sentence in sentences:
        assert sum(sentence.strip() in visible(m) for m in messages) == 1


def test_a_single_sentence_longer_than_a_message_is_cut_between_words_without_breaking_tags():
    long_sentence = " ".join(f"w{i}&x" for i in range(3000))
    answer = Answer(question="q?", evidence=[evidence(long_sentence, highlights=[(0, len(long_sentence))])])
    messages = format_answer(answer)
    assert len(messages) > 1
    for message in messages:
        assert tg_len(message) <= MESSAGE_LIMIT and html_problems(message) == []
    words = " ".join(visible(m) for m in messages).split()
    assert [w for w in words if w.startswith("w")] == long_sentence.split()


def test_emoji_count_double_toward_the_limit_as_telegram_counts_them():
    answer = Answer(question="q?", evidence=[evidence("🙂" * 3000)])
    messages = format_answer(answer)
    assert len(messages) > 1 and all(len(m.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for m in messages)


words = st.text(alphabet=st.sampled_from("ab<>&\"' 🙂é\n"), min_size=1, max_size=30)


@st.composite
def markup(draw, depth=0, in_link=False):
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if depth < 3 and draw(st.booleans()):
            tags = ["b", "i"] if in_link else ["b", "i", 'a href="https://x.org/?a=1&amp;b=2"']
            tag = draw(st.sampled_from(tags))
            name = tag.split()[0]
            parts.append(f"<{tag}>{draw(markup(depth + 1, in_link or name == 'a'))}</{name}>")
        else:
            parts.append(html.escape(draw(words), quote=False))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(markup(), st.integers(min_value=120, max_value=400))
def test_splitting_any_markup_keeps_every_chunk_valid_short_and_the_text_whole(text, limit):
    assume(visible(text).strip())  # replies always carry text; a blank one is no message at all
    chunks = split_html(text, limit)
    for chunk in chunks:
        assert tg_len(chunk) <= limit
        assert html_problems(chunk) == []
        assert visible(chunk).strip(), "Telegram refuses an empty message"
    # Cuts may fall where a space was, so compare the text without whitespace.
    assert "".join("".join(visible(c) for c in chunks).split()) == "".join(visible(text).split())


def test_inline_cards_offer_the_whole_answer_then_each_sentence():
    cards = answer_cards(POLAND)
    assert cards[0][0] == "Answer: how many US troops to Poland?"
    assert "1,700" in cards[0][2] and "5,000" in cards[0][2]
    assert [c[0] for c in cards[1:]] == ["2022-02-10 · Pentagon wire", "2022-02-17 · Daily"]
    assert all(html_problems(text) == [] and tg_len(text) <= MESSAGE_LIMIT for _, _, text in cards)


def test_the_welcome_tells_what_the_archive_holds_and_how_to_ask():
    stats = {"articles": 1234, "date_min": "2022-02-10", "date_max": "2022-02-17"}
    message = welcome(stats, ["how many US troops to Poland?", "<odd> & question"], "NewsBot")
    assert "1,234 articles" in message and "2022-02-10 to 2022-02-17" in message
    assert "how many US troops to Poland?" in message and "&lt;odd&gt; &amp; question" in message
    assert "@NewsBot" in message and html_problems(message) == []


def test_the_welcome_for_an_empty_archive_says_so():
    assert "no articles yet" in welcome({"articles": 0, "date_min": None, "date_max": None}, ["q?"], None)


def test_a_date_with_markup_is_escaped_in_the_syndication_note_too():
    answer = Answer(question="q?", evidence=[evidence("Said twice.", date="<b>", also_in=1)])
    [message] = format_answer(answer)
    assert html_problems(message) == [] and "first on &lt;b&gt;" in message
