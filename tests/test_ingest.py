"""Reading articles: every input is indexed, or skipped with a reason naming file and line."""

from conftest import write_article, write_jsonl

from retrieval.ingest import parse_date, read_paths


def test_seed_format_gives_date_text_and_file_name_as_source(tmp_path):
    path = write_article(tmp_path, "wire_001.txt", "Troops arrived. More came later.", "2022-02-10")
    article = read_paths([path]).articles[0]
    assert (article.date, article.source, article.id) == ("2022-02-10", "wire_001", "wire_001")
    assert article.text == "Troops arrived. More came later."


def test_a_txt_file_may_state_its_source_title_and_url(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(
        "Source: Reuters\nTitle: Troops arrive\nURL: https://example.org/a\n date 2022-02-10 Troops arrived.",
        encoding="utf-8",
    )
    article = read_paths([path]).articles[0]
    assert (article.source, article.title, article.url, article.date) == (
        "Reuters",
        "Troops arrive",
        "https://example.org/a",
        "2022-02-10",
    )


def test_jsonl_fields_and_common_date_formats(tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "x1", "text": "One.", "title": "T", "date": "February 10, 2022", "source": "AP", "url": "u"},
            {"text": "Two.", "date": "2022-02-11T09:30:00Z"},
            {"text": "Three.", "date": "10 Feb 2022"},
        ],
    )
    articles = read_paths([path]).articles
    assert [a.date for a in articles] == ["2022-02-10", "2022-02-11", "2022-02-10"]
    assert articles[0].id == "x1" and articles[1].source == "a"


def test_bad_inputs_are_skipped_with_file_and_line(tmp_path):
    write_article(tmp_path, "empty.txt", "", None)
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "latin1.txt").write_bytes(" date 2022-01-01 caf\xe9 au lait".encode("latin-1"))
    write_jsonl(tmp_path / "feed.jsonl", ['{"text": "Good one."}', "{not json", '["a list"]', '{"title": "no text"}'])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    result = read_paths([tmp_path])
    reasons = {p.where.split("/")[-1]: p.reason for p in result.skipped}
    assert reasons["empty.txt"].startswith("empty article")
    assert reasons["binary.txt"] == "binary file"
    assert "UTF-8" in reasons["latin1.txt"]
    assert reasons["feed.jsonl:2"].startswith("malformed JSON")
    assert reasons["feed.jsonl:3"].startswith("malformed JSON")
    assert reasons["feed.jsonl:4"].startswith("empty article")
    assert "unsupported file type .pdf" in reasons["notes.pdf"]
    assert [a.text for a in result.articles] == ["Good one."]


def test_missing_or_impossible_dates_index_with_a_warning(tmp_path):
    write_article(tmp_path, "nodate.txt", "Text without a date.", None)
    write_article(tmp_path, "baddate.txt", "Text with a bad date.", "2022-02-30")
    result = read_paths([tmp_path])
    assert [a.date for a in result.articles] == [None, None]
    assert sorted(w.reason.split(" ")[0] for w in result.warnings) == ["impossible", "no"]


def test_parse_date_rejects_what_is_not_a_date():
    assert parse_date("2022-13-01") is None and parse_date("soon") is None and parse_date("") is None
    assert parse_date("2022/02/10") == "2022-02-10"
