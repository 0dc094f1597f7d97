"""``newsdesk eval``: score newsdesk against a gold question/answer file."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from bot.ask_params import cli_filters, filter_options
from retrieval.config import ConfigError, Settings
from retrieval.errors import NewsdeskError
from retrieval.evaluation.gold import GoldError, load_gold
from retrieval.evaluation.metrics import hit_at_k, summarize
from retrieval.evaluation.report import format_table, write_outputs
from retrieval.evaluation.runner import MODES, evaluate, prepared_answerer

SKIPPED_SHOWN = 20
# Exit codes: 0 scored (and passed --min-hit1), 1 hit@1 below --min-hit1, 2 could not score.
EXIT_BELOW_GATE = 1


class EvalError(click.ClickException):
    """The run cannot go ahead as asked; the message names the fix."""

    exit_code = 2


@click.command("eval")
@click.argument("gold", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--articles",
    "articles",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Index these .txt/.jsonl files or folders first and score over them (repeat for more).",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder to use, or to build into with --articles or a SQuAD gold "
    "(default: the configured index; a temporary one when building).",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Evidence sentences judged per question.",
)
@click.option(
    "--mode", type=click.Choice(MODES), default=None, help="Retrieval mode to score (default: the configured mode)."
)
@click.option("--compare", is_flag=True, help="Score bm25, dense and hybrid side by side.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-out"),
    show_default=True,
    help="Folder for the report files.",
)
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Also write report.html: summary, hit@k plot and every question, misses first, filterable.",
)
@click.option(
    "--min-hit1",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Exit with status 1 when hit@1 of --mode falls below this (a CI gate).",
)
@click.option(
    "--no-rerank",
    "no_rerank",
    is_flag=True,
    help="Score the first-stage feature ranking alone, without the cross-encoder.",
)
@filter_options
@click.option(
    "--no-time",
    "no_time",
    is_flag=True,
    help="Search time words in the questions as plain words, without reading them as periods "
    "or a wish for the latest (to measure what the time handling adds).",
)
@click.option(
    "--ignore-as-of",
    "ignore_as_of",
    is_flag=True,
    help="Ask every question over the whole archive, ignoring the days the gold file says they "
    "were asked ('as_of'); by default each such question is asked as of its day, over the "
    "archive as it stood then.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    gold: Path,
    articles: tuple[Path, ...],
    index_dir: Path | None,
    k: int,
    mode: str | None,
    compare: bool,
    out_dir: Path,
    as_html: bool,
    min_hit1: float | None,
    no_rerank: bool,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
    as_of: str | None,
    no_time: bool,
    ignore_as_of: bool,
) -> None:
    """Score newsdesk against GOLD (JSONL, CSV or SQuAD JSON) and write a report to --out.

    --since, --until and --source filter every question's evidence; time words in the
    questions are read against the archive's newest date (or --as-of) unless --no-time. A gold
    question with its own 'as_of' day is asked as of that day, over the archive as it stood
    then (nothing published later is searched or shown), unless --ignore-as-of.
    """

    filters, as_of = cli_filters(since, until, sources, as_of)
    options = {"filters": filters, "as_of": as_of, "time_words": not no_time, "ignore_as_of": ignore_as_of}

    try:
        settings = Settings.load(
            overrides={"retrieval": {"mode": mode}, "rerank": {"cross_encoder": "" if no_rerank else None}}
        )
    except ConfigError as exc:
        raise EvalError(str(exc)) from None
    primary = mode or settings.get("retrieval", "mode")
    if primary not in MODES:
        raise EvalError(f"configured retrieval mode {primary!r} is unknown; pass --mode {'|'.join(MODES)}")
    missing = [str(p) for p in articles if not p.exists()]
    if missing:
        raise EvalError(f"--articles {', '.join(missing)} does not exist; check the path")
    try:
        gold_set = load_gold(gold)
    except GoldError as exc:
        raise EvalError(str(exc)) from None
    for skipped in gold_set.skipped[:SKIPPED_SHOWN]:
        _warn(f"skipped {gold.name} {skipped}")
    if len(gold_set.skipped) > SKIPPED_SHOWN:
        _warn(f"skipped {len(gold_set.skipped) - SKIPPED_SHOWN} more entries (all listed in report.md)")
    if not gold_set.questions:
        raise EvalError(f"{gold} has no usable questions; fix the entries reported above")
    if articles and gold_set.articles is not None:
        # The gold sources name SQuAD paragraphs, which are not what is indexed now.
        gold_set = gold_set.without_sources()

    modes = MODES if compare else (primary,)
    try:
        with prepared_answerer(settings, gold_set, articles, index_dir, echo=_warn) as (answerer, corpus):
            outcomes = evaluate(answerer, gold_set.questions, modes, k, options=options)
    except NewsdeskError as exc:
        raise EvalError(str(exc)) from None
    summaries = {m: summarize(outcomes[m], k, len(gold_set.skipped)) for m in modes}
    command = _command_line(
        gold,
        articles,
        index_dir,
        k,
        mode,
        compare,
        out_dir,
        as_html,
        min_hit1,
        no_rerank,
        (since, until, sources, as_of, no_time),
        ignore_as_of,
    )
    paths = write_outputs(
        out_dir, gold_set, summaries, outcomes, k=k, primary=primary, compare=compare, command=command, corpus=corpus
    )
    if as_html:
        from retrieval.evaluation.html_report import html_report

        page = html_report(gold_set, summaries, outcomes[primary], primary, command, corpus, paths[3].read_bytes())
        (out_dir / "report.html").write_text(page, encoding="utf-8")

    click.echo(format_table(summaries))
    report = f"{paths[2]} and {out_dir / 'report.html'}" if as_html else str(paths[2])
    click.echo(f"\n{len(gold_set.questions)} questions scored, {len(gold_set.skipped)} skipped; report in {report}")
    if min_hit1 is not None:
        hit1 = hit_at_k([o.rank for o in outcomes[primary] if o.gold.answerable], 1)
        if hit1 is None:
            raise EvalError(
                f"{gold} has no answerable questions, so --min-hit1 cannot be checked; add questions with answers"
            )
        if hit1 < min_hit1:
            click.echo(f"FAIL: hit@1 {hit1:.4f} ({primary}) is below --min-hit1 {min_hit1}", err=True)
            ctx.exit(EXIT_BELOW_GATE)
        click.echo(f"PASS: hit@1 {hit1:.4f} ({primary}) meets --min-hit1 {min_hit1}")


def _warn(message: str) -> None:
    click.echo(message, err=True)


def _command_line(
    gold: Path,
    articles: tuple[Path, ...],
    index_dir: Path | None,
    k: int,
    mode: str | None,
    compare: bool,
    out_dir: Path,
    as_html: bool,
    min_hit1: float | None,
    no_rerank: bool = False,
    time_options: tuple = (None, None, (), None, False),
    ignore_as_of: bool = False,
) -> str:
    """The command that reproduces this run, for the report."""
    args = ["newsdesk", "eval", str(gold)]
    for path in articles:
        args += ["--articles", str(path)]
    if index_dir:
        args += ["--index", str(index_dir)]
    args += ["--k", str(k)]
    if mode:
        args += ["--mode", mode]
    if compare:
        args.append("--compare")
    args += ["--out", str(out_dir)]
    if as_html:
        args.append("--html")
    if min_hit1 is not None:
        args += ["--min-hit1", str(min_hit1)]
    if no_rerank:
        args.append("--no-rerank")
    since, until, sources, as_of, no_time = time_options
    for flag, value in (("--since", since), ("--until", until), ("--as-of", as_of)):
        if value:
            args += [flag, value]
    for name in sources:
        args += ["--source", name]
    if no_time:
        args.append("--no-time")
    if ignore_as_of:
        args.append("--ignore-as-of")
    return shlex.join(args)
