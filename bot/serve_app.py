"""The ASGI application behind `newsdesk serve`: /ask, the page at /, /stats, /healthz, /readyz.

Every question goes through the same steps whatever door it came in by: the bearer token, the
client's rate, the parameters (checked as the CLI checks them), readiness, then `Answerer.ask`
on the bounded worker pool. The answer is serialised by the CLI's own `render_json`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import click
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.answer_schema import error_object
from bot.ask_params import AskParams, ParamError, parse_ask_params
from bot.format import render_json
from bot.serve_guard import ClientLimiter, TokenCheck
from bot.serve_openapi import openapi_document
from bot.serve_page import FORM_FIELDS, render_page
from bot.serve_pool import AnswerPool, PoolFull
from retrieval.live import LiveAnswerer
from retrieval.types import Answer, QuestionError

log = logging.getLogger("newsdesk.serve")
access_log = logging.getLogger("newsdesk.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NOT_READY_RETRY = 5
# No script, no remote anything: the page needs its own inline CSS and nothing else. No referrer,
# so following a source link never tells the article's site which question was asked.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class ServeConfig:
    workers: int = 2
    queue: int = 32
    rate_per_minute: int = 120
    reload_seconds: float = 2.0
    max_body_bytes: int = 65_536
    log_questions: bool = False
    token: str | None = field(default=None, repr=False)


class Problem(Exception):
    """A request answered with an error status and the shared error body."""

    def __init__(self, status: int, message: str, question: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.question, self.retry_after = status, message, question, retry_after

    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="newsdesk"'
        return headers

    def json(self) -> JSONResponse:
        return JSONResponse(error_object(self.message, self.question), self.status, self.headers())


class Service:
    """What the routes share: the live answerer once loaded, the pool, the guards."""

    def __init__(self, config: ServeConfig, load: Callable[[], LiveAnswerer] | None = None):
        self.config = config
        self.pool = AnswerPool(config.workers, config.queue)
        self.tokens = TokenCheck(config.token)
        self.limiter = ClientLimiter(config.rate_per_minute)
        self.live: LiveAnswerer | None = None
        self.not_ready: str | None = "loading the index and the model"
        self._load = load

    def ready_with(self, live: LiveAnswerer) -> Service:
        self.live, self.not_ready = live, None
        return self

    def start_loading(self) -> None:
        """Load on a thread, so /healthz and /readyz answer while the model loads."""
        if self.live is None and self._load is not None:
            threading.Thread(target=self._load_now, name="newsdesk-load", daemon=True).start()

    def _load_now(self) -> None:
        started = time.perf_counter()
        try:
            live = self._load()
        except click.ClickException as exc:
            self.not_ready = exc.format_message()
        except Exception as exc:  # noqa: BLE001 - anything else still has to reach /readyz rather than kill the thread quietly
            self.not_ready = f"loading failed ({type(exc).__name__}: {exc})"
        else:
            self.ready_with(live)
            log.info(
                "ready: %s sentences from %s in %.1f s",
                f"{live.get().stats()['sentences']:,}",
                live.index_dir,
                time.perf_counter() - started,
            )
            return
        log.error("not ready: %s", self.not_ready)


def create_app(service: Service) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette):
        service.start_loading()
        yield
        service.pool.shutdown()

    routes = [
        Route("/", partial(page, service=service), methods=["GET"]),
        Route("/ask", partial(ask, service=service), methods=["GET", "POST"]),
        Route("/stats", partial(stats, service=service), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", partial(readyz, service=service), methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    # An unknown path or a wrong method gets the API's error object too, not Starlette's plain text.
    handlers = {404: no_such_path, 405: wrong_method}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.add_middleware(RequestLog, log_questions=service.config.log_questions)
    app.state.service = service
    return app


async def ask(request: Request, service: Service) -> Response:
    try:
        _authorise(request, service)  # before reading a body from someone not allowed to send one
        values = (
            await _json_body(request, service.config.max_body_bytes)
            if request.method == "POST"
            else request.query_params
        )
        answer = await answer_for(request, service, values)
    except Problem as problem:
        return problem.json()
    return Response(render_json(answer), media_type="application/json")


async def page(request: Request, service: Service) -> Response:
    form = {name: request.query_params.get(name, "") for name in FORM_FIELDS}
    answer, problem = None, None
    try:
        _authorise(request, service)
        if "q" in request.query_params:
            answer = await answer_for(request, service, request.query_params)
    except Problem as refused:
        if refused.status == 401:
            return refused.json()
        problem = refused
    live = service.live
    html = render_page(
        form,
        answer=answer,
        error=problem.message if problem else service.not_ready,
        stats=live.get().stats() if live else None,
    )
    headers = {**PAGE_HEADERS, **(problem.headers() if problem else {})}
    return HTMLResponse(html, problem.status if problem else 200, headers)


async def answer_for(request: Request, service: Service, values: Mapping[str, Any]) -> Answer:
    """Guard, check and answer one question; every refusal is a Problem with the status to send."""
    _authorise(request, service)
    client = request.client.host if request.client else "unknown"
    wait = service.limiter.wait_seconds(client)
    if wait:
        raise Problem(
            429,
            f"too many questions from {client}: at most {service.limiter.per_minute} a minute; "
            f"retry in {int(wait) + 1} s",
            retry_after=int(wait) + 1,
        )
    question = values.get("q")
    if isinstance(question, str):
        request.state.question = question
    try:
        params = parse_ask_params(values)
    except ParamError as exc:
        raise Problem(400, str(exc), question if isinstance(question, str) else None) from None
    live = service.live
    if live is None:
        raise Problem(503, f"not ready: {service.not_ready}", params.question, retry_after=NOT_READY_RETRY)
    try:
        return await service.pool.run(_ask, live, params)
    except QuestionError as exc:
        raise Problem(400, str(exc), params.question) from None
    except PoolFull as exc:
        raise Problem(503, str(exc), params.question, retry_after=exc.retry_after) from None
    except Exception:
        request_id = request.scope.get("state", {}).get("request_id", "?")
        log.exception("request %s: answering failed", request_id)
        raise Problem(
            500, f"answering failed; the server log has the details under request id {request_id}", params.question
        ) from None


def _ask(live: LiveAnswerer, params: AskParams) -> Answer:
    return live.get().ask(params.question, k=params.k, mode=params.mode, filters=params.filters, as_of=params.as_of)


def _authorise(request: Request, service: Service) -> None:
    if not service.tokens.allows(request.headers.get("authorization")):
        raise Problem(
            401, "this server needs a bearer token: send the header `Authorization: Bearer <NEWSDESK_API_TOKEN>`"
        )


async def _json_body(request: Request, limit: int) -> Mapping[str, Any]:
    example = 'e.g. {"q": "how many US troops to Poland?", "k": 5}'
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"the request body is over {limit:,} bytes; send only the question and its options")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, f"the request body is not valid JSON; send a JSON object, {example}") from None
    if not isinstance(body, dict):
        raise Problem(400, f"the request body must be a JSON object, {example}")
    return body


async def stats(request: Request, service: Service) -> Response:
    try:
        _authorise(request, service)
    except Problem as problem:
        return problem.json()
    live = service.live
    if live is None:
        return Problem(503, f"not ready: {service.not_ready}", retry_after=NOT_READY_RETRY).json()
    pool = service.pool
    return JSONResponse(
        {
            **live.get().stats(),
            "index": str(live.index_dir),
            "generation": live.generation,
            "reload_error": live.reload_error,
            "server": {
                "workers": pool.workers,
                "queue": pool.queue,
                "in_flight": pool.in_flight,
                "rate_per_minute": service.limiter.per_minute,
                "token_required": service.tokens.required,
            },
        }
    )


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "up"})


async def readyz(_request: Request, service: Service) -> Response:
    live = service.live
    if live is None:
        return Problem(503, f"not ready: {service.not_ready}", retry_after=NOT_READY_RETRY).json()
    return JSONResponse({"status": "ready", "generation": live.generation})


async def openapi(_request: Request) -> Response:
    return JSONResponse(openapi_document())


async def no_such_path(request: Request, _exc: Exception) -> Response:
    return JSONResponse(error_object(f"No such path {_path(request)}; see /openapi.json"), 404)


async def wrong_method(request: Request, exc: Exception) -> Response:
    given = (getattr(exc, "headers", None) or {}).get("Allow", "")
    allow = ", ".join(sorted(m.strip() for m in given.split(",") if m.strip()))
    message = f"{_path(request)} does not take {request.method}" + (f"; use {allow}" if allow else "")
    return JSONResponse(error_object(f"{message} (see /openapi.json)"), 405, {"Allow": allow} if allow else None)


def _path(request: Request) -> str:
    path = request.url.path
    return path if len(path) <= 100 else path[:100] + "…"


class RequestLog:
    """Gives each request an id (X-Request-ID, echoed back) and writes one access-log line for it.

    The line holds the path without its query string and the question's length, never its words
    (unless --log-questions), and never a header: the bearer token cannot reach the log.
    """

    def __init__(self, app, log_questions: bool = False):
        self.app = app
        self.log_questions = log_questions

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = [500]
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers") or [])
                headers += [(b"x-request-id", request_id.encode()), (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            question = state.get("question")
            client = scope.get("client") or ("-", 0)
            line = (
                f'{request_id} {client[0]} "{scope["method"]} {scope["path"]}" {status[0]} '
                f"{(time.perf_counter() - started) * 1000:.1f}ms"
            )
            if question is not None:
                line += f" q_chars={len(question)}"
                if self.log_questions:
                    line += f" q={json.dumps(question, ensure_ascii=True)}"
            access_log.info("%s", line)
