"""`newsdesk milvus-lite`: run a Milvus Lite server on 127.0.0.1 to hold the archive on this machine."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("milvus-lite")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("milvus-data"),
    show_default=True,
    help="Folder for the server's data (created when missing).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=19530, show_default=True, help="Port on 127.0.0.1.")
def milvus_lite_command(data_dir: Path, port: int) -> None:
    """Run Milvus Lite on 127.0.0.1:PORT until Ctrl-C; use it with NEWSDESK_STORE=milvus.

    Milvus Lite has no authentication, so it never listens beyond this machine."""
    from retrieval.milvus_lite import LiteUnavailable, start_lite

    try:
        server = start_lite(data_dir, port)
    except LiteUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Milvus Lite listening on {server.uri} (data in {data_dir}, pid {server.pid}); Ctrl-C stops it.")
    click.echo(f"  export NEWSDESK_STORE=milvus NEWSDESK_MILVUS_URI={server.uri}")
    try:
        code = server.process.wait()
    except KeyboardInterrupt:
        server.stop()
        return
    raise click.ClickException(f"Milvus Lite stopped by itself (exit code {code}); see {data_dir / 'milvus-lite.log'}")
