"""`newsdesk serve` through the ASGI test client, over tiny corpora and the hashing encoder.

The contract: /ask returns exactly what `ask --json` prints, errors carry the CLI's words, the
schema in /openapi.json is the one the answer is made from, refusals (token, rate, full queue,
not ready) are quick and say why, logs never hold the token or (by default) the question, and a
newly committed index generation is answered from without a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from conftest import write_article
from starlette.testclient import TestClient

from bot.answer_schema import component_schemas
from bot.cli import main
from bot.serve_app import ServeConfig, Service, create_app
from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.live import LiveAnswerer
from retrieval.types import Answer, Evidence, TimelineEntry

QUESTION = "how many homes lost power?"


def live_for(settings, check_every: float = 60.0) -> LiveAnswerer:
    return LiveAnswerer(open_answerer(settings), settings.index_dir, every=check_every)


@pytest.fixture
def indexed(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    return fake_settings


def client_for(service: Service) -> TestClient:
    return TestClient(create_app(service))


@pytest.fixture
def client(indexed):
    with client_for(Service(ServeConfig()).ready_with(live_for(indexed))) as test_client:
        yield test_client


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["ask", "--json", *args], env={"NEWSDESK_MODEL": "hashing"})
    return json.loads(result.output)


def without_timing(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "elapsed_ms"}


def test_get_ask_returns_exactly_the_cli_json_object(client):
    response = client.get("/ask", params={"q": QUESTION, "k": "2"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert without_timing(response.json()) == without_timing(cli_json("--k", "2", QUESTION))
    assert list(response.json()) == list(cli_json(QUESTION))  # same keys, same order


def test_post_ask_takes_a_json_body_and_answers_the_same(client):
    by_get = client.get("/ask", params={"q": QUESTION, "mode": "bm25"}).json()
    by_post = client.post("/ask", json={"q": QUESTION, "mode": "bm25", "k": 5}).json()
    assert without_timing(by_post) == without_timing(by_get)
    assert by_post["mode"] == "bm25" and "12,000" in by_post["evidence"][0]["text"]


@pytest.mark.parametrize("question", ["   ", "x" * 10_000, "?!?"])
def test_a_bad_question_gets_400_with_the_cli_message(client, question):
    response = client.get("/ask", params={"q": question})
    assert response.status_code == 400
    assert response.json() == cli_json(question)  # the CLI's own error object, word for word


def test_a_missing_question_is_the_empty_question(client):
    response = client.get("/ask")
    assert response.status_code == 400 and response.json()["error"].startswith("The question is empty")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"k": "0"}, "Invalid value for 'k': 0 is not in the range 1<=x<=100."),
        ({"k": "many"}, "Invalid value for 'k': 'many' is not a whole number; give k between 1 and 100"),
        ({"k": "2.5"}, "Invalid value for 'k': '2.5' is not a whole number; give k between 1 and 100"),
        ({"mode": "magic"}, "Invalid value for 'mode': 'magic' is not one of 'bm25', 'dense', 'hybrid'."),
    ],
)
def test_bad_parameters_get_400_in_the_cli_words(client, params, words):
    response = client.get("/ask", params={"q": QUESTION, **params})
    assert (response.status_code, response.json()["error"]) == (400, words)
    flag = "--k" if "k" in params else "--mode"
    cli = CliRunner().invoke(
        main, ["ask", flag, next(iter(params.values())), QUESTION], env={"NEWSDESK_MODEL": "hashing"}
    )
    assert words.split(": ", 1)[1] in cli.output  # the CLI says the same after naming its option


def test_filters_restrict_the_evidence_and_come_back_in_the_answer(client):
    # tiny_corpus: harbour (2024-03-01), storm (2024-03-05), school (2024-02-20); sources are file names.
    response = client.get("/ask", params={"q": QUESTION, "since": "2024-03-02", "k": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["filters"] == {"since": "2024-03-02", "until": None, "sources": []}
    assert body["evidence"] and {e["date"] for e in body["evidence"]} == {"2024-03-05"}
    repeated = client.get("/ask", params=[("q", "bridge"), ("source", "harbour"), ("source", "school")]).json()
    assert repeated["filters"]["sources"] == ["harbour", "school"]
    assert {e["source"] for e in repeated["evidence"]} <= {"harbour", "school"}
    posted = client.post("/ask", json={"q": "bridge", "source": ["SCHOOL"], "until": "2024-02-28"}).json()
    assert {e["source"] for e in posted["evidence"]} == {"school"}
    assert client.get("/ask", params={"q": "bridge", "source": "harbour,school"}).json()["filters"]["sources"] == [
        "harbour",
        "school",
    ]
    assert (
        client.get("/ask", params={"q": QUESTION, "since": ""}).json()["filters"]["since"] is None
    )  # an empty form field


def test_a_filter_that_matches_nothing_answers_200_with_a_note(client):
    body = client.get("/ask", params={"q": QUESTION, "source": "nobody"}).json()
    assert (body["answered"], body["evidence"]) == (False, [])
    assert "No article matches source nobody" in body["note"]


@pytest.mark.parametrize(
    "params, words",
    [
        ({"since": "2024-13-01"}, "'since': since '2024-13-01' is not a date: write it as YYYY-MM-DD"),
        ({"until": "yesterday"}, "'until': until 'yesterday' is not a date"),
        ({"since": "2024-03-02", "until": "2024-03-01"}, "swap them"),
        ({"as_of": "soon"}, "'as_of': as_of 'soon' is not a date"),
    ],
)
def test_bad_filters_get_400_naming_the_fix(client, params, words):
    response = client.get("/ask", params={"q": QUESTION, **params})
    assert response.status_code == 400 and words in response.json()["error"]


def test_the_cli_takes_the_same_filters(indexed):
    out = cli_json("--since", "2024-03-02", "--source", "STORM", QUESTION)
    assert out["filters"] == {"since": "2024-03-02", "until": None, "sources": ["STORM"]}
    assert {e["source"] for e in out["evidence"]} == {"storm"}
    bad = CliRunner().invoke(main, ["ask", "--until", "03/01/2024", QUESTION], env={"NEWSDESK_MODEL": "hashing"})
    assert bad.exit_code == 2 and "--until '03/01/2024' is not a date" in bad.output


LONG = "spam " * 1000  # 5,000 characters
ECHO_LIMIT = 250  # error_object cuts the question at 200; a message quotes less of a value


@pytest.mark.parametrize(
    "values",
    [
        {"q": LONG},
        *({"q": QUESTION, name: LONG} for name in ("k", "mode", "since", "until", "as_of", "source")),
    ],
    ids=lambda values: next(name for name, value in values.items() if value == LONG),
)
def test_no_error_echoes_more_than_about_200_characters_of_what_was_sent(client, values):
    for response in (client.get("/ask", params=values), client.post("/ask", json=values)):
        assert response.status_code == 400, response.text
        assert "spam " * (ECHO_LIMIT // 5) not in response.text and len(response.text) < 600
        assert response.json()["error"]
    page = client.get("/", params=values)
    assert page.status_code == 400 and "spam " * (ECHO_LIMIT // 5) not in page.text.split("<form")[0]  # the title


def test_a_json_list_where_one_value_belongs_gets_400_without_echoing_it(client):
    response = client.post("/ask", json={"q": QUESTION, "k": list(range(2000))})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid value for 'k': give one value, not a JSON list"


def test_an_unknown_path_gets_404_as_the_api_error_object(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": "No such path /nope; see /openapi.json"}
    assert response.headers["x-request-id"]  # still through the request log
    long = client.get("/" + "a" * 5000)
    assert long.status_code == 404 and len(long.json()["error"]) < 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"), [("post", "/stats", "GET, HEAD"), ("delete", "/ask", "GET, HEAD, POST")]
)
def test_a_wrong_method_gets_405_as_the_api_error_object(client, method, path, allowed):
    response = client.request(method.upper(), path)
    assert response.status_code == 405 and response.headers["allow"] == allowed
    assert response.json() == {"error": f"{path} does not take {method.upper()}; use {allowed} (see /openapi.json)"}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"question"'])
def test_a_body_that_is_not_a_json_object_gets_400(client, body):
    response = client.post("/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON object" in response.json()["error"]


def test_an_oversized_body_gets_413(client):
    response = client.post("/ask", json={"q": "x" * 70_000})
    assert response.status_code == 413


def test_stats_health_and_readiness(client):
    stats = client.get("/stats").json()
    assert (stats["articles"], stats["sentences"] > 0, stats["model"]) == (3, True, "hashing")
    assert stats["generation"] == "gen-1" and stats["server"]["workers"] == 2
    assert client.get("/healthz").json() == {"status": "up"}
    assert client.get("/readyz").json() == {"status": "ready", "generation": "gen-1"}


def test_not_ready_says_why_with_503_and_health_still_answers(indexed):
    release = threading.Event()

    def slow_load():
        release.wait(10)
        return live_for(indexed)

    with client_for(Service(ServeConfig(), slow_load)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "loading the index and the model" in ready.json()["error"]
        asked = client.get("/ask", params={"q": QUESTION})
        assert asked.status_code == 503 and asked.headers["retry-after"]
        release.set()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/ask", params={"q": QUESTION}).status_code == 200


def test_a_missing_index_keeps_readyz_at_503_with_the_cli_message(isolated_index):
    import click

    def failing_load():
        raise click.ClickException(f"no index at {isolated_index}: run `newsdesk index PATH...` to build one")

    with client_for(Service(ServeConfig(), failing_load)) as client:
        deadline = time.monotonic() + 5
        while "loading" in client.get("/readyz").json()["error"] and time.monotonic() < deadline:
            time.sleep(0.02)
        response = client.get("/readyz")
        assert response.status_code == 503 and "run `newsdesk index PATH...`" in response.json()["error"]


def test_openapi_documents_the_answer_schema_read_off_the_dataclasses(client, indexed):
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    answer = client.get("/ask", params={"q": QUESTION}).json()
    assert set(schemas["Answer"]["properties"]) == set(answer)
    assert set(schemas["Evidence"]["properties"]) == set(answer["evidence"][0])
    timeline = TimelineEntry("2024-01-01", "wire", "5", "text").to_dict()
    assert set(schemas["TimelineEntry"]["properties"]) == set(timeline)
    ok = document["paths"]["/ask"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Answer"}
    assert {"400", "401", "429", "503"} <= set(document["paths"]["/ask"]["post"]["responses"])


@dataclasses.dataclass
class RerankedEvidence(Evidence):
    """Evidence as a later branch may extend it."""

    rerank_score: float = 0.0


@dataclasses.dataclass
class RerankedAnswer(Answer):
    evidence: list[RerankedEvidence] = dataclasses.field(default_factory=list)


def test_a_field_added_to_evidence_flows_into_the_schema_and_the_answer():
    schemas = component_schemas(RerankedAnswer)
    assert schemas["RerankedEvidence"]["properties"]["rerank_score"] == {"type": "number"}
    evidence = RerankedEvidence("t", "a", "", None, "", "", 1.0, rerank_score=0.5)
    assert RerankedAnswer("q", [evidence]).to_dict()["evidence"][0]["rerank_score"] == 0.5


def test_a_bearer_token_is_required_when_set_and_never_logged(indexed, caplog):
    token = "s3cret-token-value"
    service = Service(ServeConfig(token=token)).ready_with(live_for(indexed))
    caplog.set_level(logging.DEBUG)
    with client_for(service) as client:
        missing = client.get("/ask", params={"q": QUESTION})
        wrong = client.get("/ask", params={"q": QUESTION}, headers={"Authorization": "Bearer nope"})
        right = client.get("/ask", params={"q": QUESTION}, headers={"Authorization": f"Bearer {token}"})
        page = client.get("/", params={"q": QUESTION})
        assert (missing.status_code, wrong.status_code, right.status_code, page.status_code) == (401, 401, 200, 401)
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/stats").status_code == 401
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert token not in caplog.text and token not in repr(service.tokens) and token not in repr(service.config)


def test_the_token_is_compared_in_constant_time(indexed, monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    with client_for(Service(ServeConfig(token="abc")).ready_with(live_for(indexed))) as client:
        client.get("/ask", params={"q": QUESTION}, headers={"Authorization": "Bearer abd"})
    assert calls


def test_each_client_is_rate_limited_with_retry_after(indexed):
    with client_for(Service(ServeConfig(rate_per_minute=3)).ready_with(live_for(indexed))) as client:
        codes = [client.get("/ask", params={"q": QUESTION}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/ask", params={"q": QUESTION})
        assert int(refused.headers["retry-after"]) >= 1 and "at most 3 a minute" in refused.json()["error"]
        assert client.get("/stats").status_code == 200  # only questions count


class SlowAnswerer:
    """Stands in for the answering core: holds every question until released."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.settings = None

    def ask(self, question, k=None, mode=None, **filters):
        self.started.release()
        self.release.wait(10)
        return Answer(question=question, evidence=[])

    def stats(self):
        return {"articles": 0, "sentences": 0, "date_min": None, "date_max": None}


async def test_beyond_workers_and_queue_requests_get_503_with_retry_after(tmp_path):
    slow = SlowAnswerer()
    service = Service(ServeConfig(workers=1, queue=1)).ready_with(LiveAnswerer(slow, tmp_path))
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = asyncio.create_task(client.get("/ask", params={"q": "one"}))
        second = asyncio.create_task(client.get("/ask", params={"q": "two"}))
        while service.pool.in_flight < 2:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        third = await client.get("/ask", params={"q": "three"})
        assert time.monotonic() - started < 1.0  # refused at once, not queued
        assert third.status_code == 503 and int(third.headers["retry-after"]) >= 1
        assert "retry" in third.json()["error"]
        slow.release.set()
        assert [(await first).status_code, (await second).status_code] == [200, 200]
    assert service.pool.in_flight == 0


async def test_fifty_concurrent_clients_each_get_their_own_answer_once(indexed):
    service = Service(ServeConfig(workers=2, queue=64, rate_per_minute=0)).ready_with(live_for(indexed))
    transport = httpx.ASGITransport(app=create_app(service))
    questions = [f"how many homes lost power in storm number {n}?" for n in range(50)]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(*(client.get("/ask", params={"q": q}) for q in questions))
    assert [r.status_code for r in responses] == [200] * 50
    assert [r.json()["question"] for r in responses] == questions  # each its own, none twice
    assert len({r.headers["x-request-id"] for r in responses}) == 50
    assert all("12,000" in r.json()["evidence"][0]["text"] for r in responses)


def test_each_request_gets_an_id_and_one_access_line_without_the_question(client, caplog):
    caplog.set_level(logging.INFO, logger="newsdesk.access")
    response = client.get("/ask", params={"q": QUESTION}, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    lines = [r.getMessage() for r in caplog.records if r.name == "newsdesk.access"]
    assert len(lines) == 1
    assert lines[0].startswith('abc-123 testclient "GET /ask" 200 ') and f"q_chars={len(QUESTION)}" in lines[0]
    assert "homes" not in lines[0]
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"}).headers["x-request-id"]
    assert len(generated) == 16 and " " not in generated


def test_log_questions_puts_the_text_in_the_access_line(indexed, caplog):
    caplog.set_level(logging.INFO, logger="newsdesk.access")
    with client_for(Service(ServeConfig(log_questions=True)).ready_with(live_for(indexed))) as client:
        client.get("/ask", params={"q": QUESTION + "\n<b>"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "newsdesk.access"]
    assert 'q="how many homes lost power?\\n<b>"' in line  # one line, whatever the question holds


def test_a_newly_committed_generation_is_answered_from_without_a_restart(indexed, tiny_corpus):
    live = live_for(indexed, check_every=0.0)
    with client_for(Service(ServeConfig(rate_per_minute=0)).ready_with(live)) as client:
        question = "how many lighthouses were repainted?"
        assert "lighthouses" not in client.get("/ask", params={"q": question}).json()["evidence"][0]["text"]
        write_article(
            tiny_corpus, "lighthouse.txt", "Volunteers repainted 14 lighthouses along the coast.", "2024-03-09"
        )
        Indexer(indexed, progress=False).index_paths([tiny_corpus])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            client.get("/stats")
            live.get()
            live.wait_for_reload(5)
            if live.generation == "gen-2":
                break
        answer = client.get("/ask", params={"q": question}).json()
        assert "14 lighthouses" in answer["evidence"][0]["text"]
        assert answer["reranker"] == "reranker-minilm-l6-qa"  # the reading stage survives a reload
        assert client.get("/stats").json()["articles"] == 4


def test_a_damaged_new_generation_keeps_the_old_one_answering(indexed, tiny_corpus):
    live = live_for(indexed, check_every=0.0)
    (indexed.index_dir / "CURRENT").write_text("gen-999\n", encoding="utf-8")
    live.get()
    live.wait_for_reload(5)
    assert live.generation == "gen-1" and "gen-999" in live.reload_error
    assert live.get().ask(QUESTION).evidence


def test_the_command_binds_loopback_by_default_and_warns_beyond_it_without_a_token(monkeypatch):
    import uvicorn

    import bot.serve_command

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    monkeypatch.setattr(bot.serve_command, "_log_to_stderr", lambda: None)
    monkeypatch.delenv("NEWSDESK_API_TOKEN", raising=False)
    quiet = CliRunner().invoke(main, ["serve"])
    loud = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert quiet.exit_code == 0 and loud.exit_code == 0
    assert "warning" not in quiet.output and "without NEWSDESK_API_TOKEN" in loud.output
    assert [(r["host"], r["port"], r["access_log"]) for r in runs] == [
        ("127.0.0.1", 8000, False),
        ("0.0.0.0", 9000, False),
    ]
    monkeypatch.setenv("NEWSDESK_API_TOKEN", "t0ken")
    with_token = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert "warning" not in with_token.output and "t0ken" not in with_token.output
