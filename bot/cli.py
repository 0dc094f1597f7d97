"""The `newsdesk` command: index articles, ask questions, chat, inspect the store."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from bot.ask_params import K_TYPE, MODE_TYPE, cli_filters, filter_options
from bot.format import HIGHLIGHTS
from bot.lazy_group import LazyGroup
from bot.opening import STORE_FAILURES, damaged_store, index_option, load_settings, open_for_questions
from retrieval.errors import NewsdeskError


def highlight_option(func):
    return click.option(
        "--highlight",
        type=click.Choice(HIGHLIGHTS),
        default=None,
        help="How to mark the answer in each sentence (default: bold on a terminal, none when piped).",
    )(func)


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "eval": "bot.eval_command:eval_command",
        "bot": "bot.telegram_bot:bot_command",
        "serve": "bot.serve_command:serve_command",
        "milvus-lite": "bot.milvus_command:milvus_lite_command",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="newsdesk")
def main():
    """Answer questions over a news archive with dated, sourced sentences."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Ignore the current index and build afresh (cached vectors are reused).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="List every warning, not only the first few.")
@click.option(
    "--wait",
    "wait",
    type=click.FloatRange(0),
    default=None,
    metavar="SECONDS",
    help="How long to wait while another `newsdesk index` writes this index (default 300; 0: not at all).",
)
def index(paths, index, rebuild, as_json, verbose, wait):
    """Index .txt (seed format) and .jsonl articles from files and folders.

    Running it again embeds only new or changed articles and drops articles whose file was
    removed. Bad inputs are skipped with a warning naming file and line; nothing indexed
    before is lost. One `newsdesk index` writes an index folder at a time; another waits for
    it (--wait). A path that does not exist fails the run after the rest is indexed.
    """
    import sqlite3

    from retrieval.stores import make_indexer

    _skip_final_collection()
    settings = load_settings(index, wait=wait)
    try:
        report = make_indexer(settings, echo=_to_stderr).index_paths(paths, rebuild=rebuild)
    except NewsdeskError as exc:
        raise click.ClickException(str(exc)) from None
    except (*STORE_FAILURES, sqlite3.DatabaseError) as exc:
        # Bad input files never get here (ingest skips them); this is the store or the disk.
        raise damaged_store(settings, exc) from None
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        _fail_on_missing(missing, as_json)
        return
    limit = None if verbose else 20
    for kind, problems in (("skipped", report.skipped), ("warning", report.warnings)):
        for problem in problems[:limit]:
            click.echo(f"{kind}: {problem}", err=True)
        if limit is not None and len(problems) > limit:
            click.echo(f"... and {len(problems) - limit} more {kind} (use -v to list all)", err=True)
    click.echo(report.summary())
    state = "written" if report.wrote else "already up to date"
    click.echo(
        f"index {state}: {report.articles} articles, {report.sentences} sentences "
        f"({report.encoded} newly embedded) in {report.seconds:.1f}s at {_where(settings)}"
    )
    _fail_on_missing(missing, as_json)


def _where(settings) -> str:
    """The store, as a person would name it: the index folder, or the Milvus endpoint and prefix."""
    if settings.get("store", "backend") == "milvus":
        return f"{settings.get('store', 'milvus_uri')} ({settings.get('store', 'collection_prefix')}_*)"
    return str(settings.index_dir)


def _to_stderr(message: str) -> None:
    click.echo(message, err=True)


def _fail_on_missing(missing: list[str], as_json: bool) -> None:
    """A path given that does not exist is a mistake to fix (a typo, an unmounted share): the
    rest is indexed, then the run fails so a cron job or script notices."""
    if missing:
        raise click.ClickException(f"not found: {', '.join(missing)} (the other paths were indexed); check the path")


def _skip_final_collection() -> None:
    """Spare the process the garbage collector's last pass over the model's libraries at exit.

    Once torch and transformers are imported, that pass takes ~0.9 s of a fresh `newsdesk
    index`, `ask` or `chat` (measured: 1.0 s to exit, 0.15 s with this). Freezing every object just before it
    (``atexit`` handlers run first) leaves nothing of ours undone: the store is written,
    fsynced and committed, and the embedding cache closed, before the command returns.
    """
    global _FREEZE_AT_EXIT
    if not _FREEZE_AT_EXIT:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _FREEZE_AT_EXIT = True


_FREEZE_AT_EXIT = False


@main.command()
@click.argument("question", required=False)
@index_option
@click.option("-k", "--k", "k", type=K_TYPE, default=None, help="How many sentences (default 5).")
@click.option("--mode", type=MODE_TYPE, default=None, help="Retrieval mode (default hybrid).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.option(
    "--no-rerank",
    "no_rerank",
    is_flag=True,
    help="Rank by the first-stage features alone, without the cross-encoder (for comparison).",
)
@filter_options
@highlight_option
@click.option(
    "--no-time",
    "no_time",
    is_flag=True,
    help="Search time words (latest, in February 2022) as plain words (for comparison).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say why each sentence is shown: features, scores, matched terms, answer type (JSON: `why`).",
)
def ask(question, index, k, mode, as_json, no_rerank, since, until, sources, as_of, highlight, no_time, explain):
    """Answer QUESTION, or each line piped on stdin, with dated, sourced sentences.

    Time words in the question are read against the archive's newest date (or --as-of):
    "in February 2022", "before July 20", "last month" restrict the evidence to that period,
    and "latest", "now", "currently" put newer evidence first among equally good answers.

    On a terminal the kind of answer asked for (a number, a date, a name) is in bold; piped
    output is plain text unless --highlight says otherwise.
    """
    from bot.answer_schema import error_object
    from retrieval.types import QuestionError

    if question is None and sys.stdin.isatty():
        raise click.UsageError(
            'give a QUESTION, e.g. newsdesk ask "how many US troops to Poland?", or pipe questions on stdin'
        )
    filters, as_of = cli_filters(since, until, sources, as_of)
    settings = load_settings(index, mode, rerank=not no_rerank)
    answerer = open_for_questions(settings, quiet=as_json)
    _skip_final_collection()
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    failed = False
    for number, text in enumerate(questions, start=1):
        if question is None and not text.strip():
            continue
        try:
            answer = answerer.ask(
                text, k=k, mode=mode, filters=filters, as_of=as_of, time_words=not no_time, explain=explain
            )
        except QuestionError as exc:
            failed = True
            if as_json:
                click.echo(json.dumps(error_object(str(exc), text), ensure_ascii=False))
            else:
                click.echo(f"error: {exc}" if question is not None else f"line {number}: {exc}", err=True)
            continue
        _print_answer(answer, as_json, highlight)
        if explain and not as_json:
            from bot.explain_format import render_why

            click.echo(render_why(answer) + "\n")
    if failed and question is not None:
        sys.exit(2)


def _print_answer(answer, as_json: bool, highlight: str | None = None) -> None:
    from bot.format import highlight_for, render_json, render_text

    if as_json:
        click.echo(render_json(answer))
    else:
        mode = highlight_for(highlight, sys.stdout.isatty())
        # click drops ANSI codes off a terminal unless told; bold asked for by name is kept.
        click.echo(render_text(answer, highlight=mode), color=True if mode == "bold" else None)
        click.echo("")


@main.command()
@index_option
@click.option("-k", "--k", "k", type=K_TYPE, default=None, help="How many sentences (default 5).")
@click.option("--mode", type=MODE_TYPE, default=None, help="Retrieval mode (default hybrid).")
@filter_options
@highlight_option
def chat(index, k, mode, since, until, sources, as_of, highlight):
    """Ask questions one after another at a prompt.

    A short or pronoun-led question ("and when?", "how many of them?", "what about Germany?")
    builds on the previous one, and the reply says what was searched. /help lists the
    commands (/since, /until, /source, /clear, /quit). History is kept between sessions in
    $NEWSDESK_HOME (default ~/.local/share/newsdesk); Ctrl-C drops the line, Ctrl-D quits.
    """
    from bot.chat import run_chat

    filters, as_of = cli_filters(since, until, sources, as_of)
    settings = load_settings(index, mode)
    answerer = open_for_questions(settings, live=True)
    _skip_final_collection()
    try:
        run_chat(
            answerer, k, mode, filters, as_of, highlight, lambda answer, mode_: _print_answer(answer, False, mode_)
        )
    finally:
        answerer.stop()


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(index, as_json):
    """Articles, sentences, date range, model and size of the index."""
    from retrieval.stores import describe

    settings = load_settings(index)
    try:
        manifest = describe(settings)
        data = {
            "index": manifest.location,
            "articles": manifest.articles,
            "sentences": manifest.sentences,
            "date_min": manifest.date_min,
            "date_max": manifest.date_max,
            "model": manifest.model,
            "dim": manifest.dim,
            "index_bytes": manifest.index_bytes,
            "built_at": manifest.built_at,
        }
    except NewsdeskError as exc:
        raise click.ClickException(str(exc)) from None
    except STORE_FAILURES as exc:
        raise damaged_store(settings, exc) from None
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(
        f"index      {data['index']}\n"
        f"articles   {data['articles']:,}\n"
        f"sentences  {data['sentences']:,}\n"
        f"dates      {data['date_min'] or '-'} to {data['date_max'] or '-'}\n"
        f"model      {data['model']} ({data['dim']} dimensions)\n"
        f"size       {_size(data['index_bytes'])}\n"
        f"built      {data['built_at']}"
    )


def _size(index_bytes: int | None) -> str:
    return "kept by the engine (see its own metrics)" if index_bytes is None else f"{index_bytes / 1e6:.1f} MB"


if __name__ == "__main__":
    main()
