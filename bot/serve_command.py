"""``newsdesk serve``: the HTTP API and the web page, on uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

import click

from bot.opening import index_option, load_settings, open_for_questions
from bot.serve_guard import TOKEN_ENV


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, loopback only).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8000).")
@index_option
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Threads answering at once (default 2).")
@click.option(
    "--queue",
    type=click.IntRange(0, 10_000),
    default=None,
    help="Questions that may wait for a worker before 503 (default 32).",
)
@click.option(
    "--log-questions", is_flag=True, help="Write each question's text to the access log (default: its length only)."
)
def serve_command(host, port, index, workers, queue, log_questions):
    """Serve GET/POST /ask (the `ask --json` object), a web page at /, /stats, /healthz and /readyz.

    Set NEWSDESK_API_TOKEN to require `Authorization: Bearer <token>` on everything but
    /healthz, /readyz and /openapi.json. Newly committed index generations are picked up
    without a restart.
    """
    import uvicorn

    from bot.serve_app import ServeConfig, Service, create_app
    from retrieval.live import LiveAnswerer

    settings = load_settings(index)
    section = settings.section("serve")
    host = host or str(section.get("host", "127.0.0.1"))
    port = int(section.get("port", 8000)) if port is None else port
    config = ServeConfig(
        workers=workers or int(section.get("workers", 2)),
        queue=int(section.get("queue", 32)) if queue is None else queue,
        rate_per_minute=int(section.get("rate_per_minute", 120)),
        reload_seconds=float(section.get("reload_seconds", 2.0)),
        max_body_bytes=int(section.get("max_body_bytes", 65_536)),
        log_questions=log_questions,
        token=os.environ.get(TOKEN_ENV) or None,
    )
    _log_to_stderr()
    if not config.token and not _is_loopback(host):
        click.echo(
            f"warning: serving on {host} without {TOKEN_ENV}: anyone who reaches it can ask; "
            f"set {TOKEN_ENV} to require a bearer token",
            err=True,
        )

    def load() -> LiveAnswerer:
        # On Milvus there is no CURRENT to follow: its store takes up each commit itself.
        answerer = open_for_questions(settings)
        answerer.warm_up()  # before /ready says yes: the first request meets no first-run cost
        return LiveAnswerer(answerer, settings.index_dir, every=config.reload_seconds)

    app = create_app(Service(config, load))
    click.echo(
        f"newsdesk: serving http://{_url_host(host)}:{port}/ (index {settings.index_dir}; "
        f"token {'required' if config.token else 'off'}); Ctrl-C stops",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)


def _log_to_stderr() -> None:
    """Access and server lines on stderr, once per process however often the command runs."""
    logger = logging.getLogger("newsdesk")
    if any(getattr(h, "newsdesk_serve", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.newsdesk_serve = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
