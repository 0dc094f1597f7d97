"""Running gold questions through the answering core, one mode at a time, timing each call."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Protocol

from retrieval.config import Settings
from retrieval.errors import NewsdeskError
from retrieval.evaluation.gold import GoldQuestion, GoldSet
from retrieval.evaluation.metrics import QuestionOutcome, judge
from retrieval.types import Answer, Filters, QuestionError

MODES = ("bm25", "dense", "hybrid")
SKIPPED_SHOWN = 20


class Answerer(Protocol):
    """Anything that answers like ``retrieval.answer.open_answerer`` does."""

    def ask(self, question: str, k: int = ..., mode: str = ..., **options: Any) -> Answer: ...


def question_options(gold: GoldQuestion, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``ask`` options for one gold question: ``options`` as given (filters, as_of,
    time_words), and for a question with its own ``as_of`` the day it was asked: time words
    read against that day and nothing published after it searched or shown (the archive as it
    stood then). A question's own day wins over the run's ``--as-of``."""
    chosen = dict(options or {})
    ignore_as_of = chosen.pop("ignore_as_of", False)
    if gold.as_of and not ignore_as_of:
        filters = chosen.get("filters") or Filters()
        chosen["as_of"] = gold.as_of
        chosen["filters"] = filters.narrowed(None, gold.as_of)
    return chosen


def ask_and_judge(
    answerer: Answerer, gold: GoldQuestion, mode: str, k: int, options: Mapping[str, Any] | None = None
) -> QuestionOutcome:
    """Ask one gold question, timing it here rather than trusting the answer's own clock.
    ``options`` go to every ``ask`` (see ``question_options``)."""
    start = time.perf_counter()
    try:
        answer = answerer.ask(gold.question, k=k, mode=mode, **question_options(gold, options))
    except QuestionError as exc:
        # A refused question is a miss, never an exclusion: refusing cannot raise the score.
        return judge(gold, mode, [], False, _ms_since(start), k, error=str(exc))
    return judge(gold, mode, answer.evidence, answer.answered, _ms_since(start), k)


def evaluate(
    answerer: Answerer,
    questions: Sequence[GoldQuestion],
    modes: Sequence[str],
    k: int,
    progress: bool | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, list[QuestionOutcome]]:
    """Score every question in each mode; ``progress`` None shows a bar only on a terminal."""
    from tqdm import tqdm

    outcomes: dict[str, list[QuestionOutcome]] = {}
    for mode in modes:
        _warm_up(answerer, questions, mode, k, options)
        bar = tqdm(
            questions,
            desc=f"eval {mode}",
            unit="q",
            file=sys.stderr,
            disable=None if progress is None else not progress,
        )
        outcomes[mode] = [ask_and_judge(answerer, gold, mode, k, options) for gold in bar]
    return outcomes


def _warm_up(
    answerer: Answerer, questions: Sequence[GoldQuestion], mode: str, k: int, options: Mapping[str, Any] | None = None
) -> None:
    """One untimed call per mode, so one-off loading does not land in the first question's latency."""
    if questions:
        try:
            answerer.ask(questions[0].question, k=k, mode=mode, **question_options(questions[0], options))
        except QuestionError:
            pass


class CorpusError(NewsdeskError, ValueError):
    """The corpus to score over could not be built; the message names the fix."""


@contextmanager
def prepared_answerer(
    settings: Settings,
    gold: GoldSet,
    articles: Sequence[Path],
    index_dir: Path | None,
    echo: Callable[[str], None] | None = None,
) -> Iterator[tuple[Answerer, str]]:
    """Open an answerer over the corpus the run asks for, and say which corpus that is.

    ``articles`` given: they are indexed first. A SQuAD gold without ``articles``: its own
    paragraphs are indexed. Otherwise the existing index is used. Fresh indexes go to
    ``index_dir`` when given, else to a temporary folder removed afterwards.
    """
    from retrieval.answer import open_answerer
    from retrieval.seeding import seed_fresh_default
    from retrieval.stores import make_indexer

    with ExitStack() as stack:
        if articles or gold.articles is not None:
            target = index_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newsdesk-eval-")))
            into = str(index_dir) if index_dir else "a temporary index"
            settings = with_index_dir(settings, target)
            fresh = False
            if settings.get("store", "backend") == "milvus":
                # Scored over exactly these articles, in collections of their own beside the archive's.
                prefix = f"{settings.get('store', 'collection_prefix')}_eval"
                settings, fresh = settings.with_setting("store", "collection_prefix", prefix), True
                into = f"Milvus collections {prefix}_*"
            indexer = make_indexer(settings, target, echo=echo)
            if articles:
                report = indexer.index_paths(list(articles), rebuild=fresh)
                corpus = f"{', '.join(map(str, articles))} indexed into {into}"
            else:
                report = indexer.index_articles(list(gold.articles or []), scope="squad", rebuild=fresh)
                corpus = f"the gold file's {len(gold.articles or [])} SQuAD paragraphs indexed into {into}"
            if echo:
                for problem in report.skipped[:SKIPPED_SHOWN]:
                    echo(f"skipped article {problem}")
                if len(report.skipped) > SKIPPED_SHOWN:
                    echo(f"skipped {len(report.skipped) - SKIPPED_SHOWN} more articles")
            if not report.articles:
                raise CorpusError(
                    f"no articles could be indexed from {', '.join(map(str, articles)) or gold.path}; "
                    "fix the inputs reported above"
                )
            corpus += f" ({report.articles} articles, {report.sentences} sentences)"
            answerer = open_answerer(settings, target)  # questions encoded as every front end encodes them
        else:
            target = index_dir or settings.index_dir
            settings = with_index_dir(settings, target)
            # Like `newsdesk ask`: only the default folder on a fresh clone is seeded; any other
            # folder must already hold a committed index (a typo must not build one).
            answerer = open_answerer(settings, target, encoder=seed_fresh_default(settings, target, echo))
            stats = answerer.stats()
            corpus = f"existing index {target} ({stats['articles']} articles, {stats['sentences']} sentences)"
        yield answerer, corpus


def with_index_dir(settings: Settings, index_dir: Path) -> Settings:
    """A copy of ``settings`` pointing at ``index_dir``."""
    return settings.with_index_dir(index_dir)


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
