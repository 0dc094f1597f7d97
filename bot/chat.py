"""`newsdesk chat`: questions at a prompt, follow-ups read against the previous question,
in-chat commands and a history kept between sessions.

Line editing is the standard library's readline, which gives arrow-key history, Ctrl-R search,
Ctrl-C to drop the line and Ctrl-D to leave with nothing to install; piped input works the
same way without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from retrieval.filters import FilterError, make_filters, unknown_source_note
from retrieval.followup import Conversation, conversation_note
from retrieval.types import Filters, QuestionError

HOME_ENV = "NEWSDESK_HOME"
HISTORY_FILE = "chat_history"
HISTORY_LINES = 1000
QUIT_WORDS = {"/quit", "/exit", "/q", ":q", "quit", "exit"}
HELP_WORDS = {"/help", "/?", "help", "?"}
HELP = """\
Ask a question in plain words. A short or pronoun-led question builds on the previous one:
  how many US troops to Poland?
  and when?                 searched as "when US troops to Poland?"
  what about Germany?       searched as "how many US troops to Germany?"
  and in March?             searched as "how many US troops to Germany in March?"
A new period, place, person, organisation or figure ("and the injured?") replaces the
previous question's own; a question with a subject of its own starts afresh.
Commands:
  /since YYYY-MM-DD   only evidence from this day on (/since alone: any day)
  /until YYYY-MM-DD   only evidence up to this day (/until alone: any day)
  /source NAME        only evidence from this source (/source alone: every source)
  /clear              forget the previous question and the filters set here
  /help               this text
  /quit               leave (or Ctrl-D); Ctrl-C drops the line being typed"""


def data_home(env: dict[str, str] | None = None) -> Path:
    """The folder for newsdesk's per-user files: $NEWSDESK_HOME, else $XDG_DATA_HOME/newsdesk,
    else ~/.local/share/newsdesk."""
    env = os.environ if env is None else env
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "newsdesk"


class History:
    """The lines typed at the chat prompt, kept in a file (private to the user) between sessions."""

    def __init__(self, path: Path, limit: int = HISTORY_LINES, warn: Callable[[str], None] | None = None) -> None:
        self.path, self.limit, self.warn = path, limit, warn
        self.failed = False

    def load(self) -> list[str]:
        """The last ``limit`` lines; the file is cut down to them so it never grows without end."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._failed(exc)
            return []
        if len(lines) > self.limit:
            lines = lines[-self.limit :]
            self._write("".join(f"{line}\n" for line in lines), "w")
        return lines

    def append(self, line: str) -> None:
        line = " ".join(line.split())
        if line and not self.failed:
            self._write(f"{line}\n", "a")

    def _write(self, text: str, how: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if how == "a" else os.O_TRUNC)
            with os.fdopen(os.open(self.path, flags, 0o600), how, encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        # A read-only or full home folder costs the history, never the chat.
        if not self.failed and self.warn:
            self.warn(f"chat history is not kept: {self.path} cannot be used ({exc.strerror or exc}); set {HOME_ENV}")
        self.failed = True


def use_readline(history: list[str]) -> None:
    """Arrow-key editing and the saved history for input(), when stdin is a terminal."""
    if not sys.stdin.isatty():
        return
    try:
        import readline
    except ImportError:  # input() still works, without line editing
        return
    readline.clear_history()
    for line in history:
        readline.add_history(line)


@dataclass
class ChatSession:
    """What one chat remembers: the filters in force and the previous question."""

    base_filters: Filters = field(default_factory=Filters)
    filters: Filters = field(default_factory=Filters)
    conversation: Conversation = field(default_factory=Conversation)
    # The archive's source names (archive_sources), to refuse a /source that picks none of them.
    known_sources: Callable[[], Sequence[str]] | None = None

    def __post_init__(self) -> None:
        self.filters = self.base_filters

    def command(self, line: str) -> str | None:
        """Carry out an in-chat command and say what it did; None when the line is a question."""
        word, _, rest = line.strip().partition(" ")
        word, rest = word.lower(), rest.strip()
        if line.strip().lower() in HELP_WORDS:
            return HELP
        if word in ("/since", "/until", "/source"):
            return self._filter(word[1:], rest)
        if word == "/clear":
            self.conversation.clear()
            self.filters = self.base_filters
            return "Forgotten: the next question starts afresh" + (
                f" (filtered: {self.filters.describe()})." if self.filters.active else "."
            )
        if word.startswith("/"):
            return f"Unknown command {word}; /help lists the commands."
        return None

    def _filter(self, name: str, value: str) -> str:
        since, until, sources = self.filters.since, self.filters.until, list(self.filters.sources)
        if name == "since":
            since = value or None
        elif name == "until":
            until = value or None
        else:
            sources = [value] if value else []
        try:
            filters = make_filters(since, until, sources)
        except FilterError as exc:
            return f"error: {exc}"
        checked = name == "source" and filters.sources and self.known_sources is not None
        unknown = unknown_source_note(filters.sources, self.known_sources()) if checked else None
        if unknown:
            now = f"source {', '.join(self.filters.sources)}" if self.filters.sources else "every source"
            return f"{unknown} The source filter is unchanged ({now})."
        self.filters = filters
        return f"Filtered: {self.filters.describe()}." if self.filters.active else "No filters: the whole archive."


def archive_sources(answerer) -> Callable[[], Sequence[str]] | None:
    """The source names of the archive the answerer reads (its newest generation), or None
    for an answerer that cannot list them."""
    if not hasattr(getattr(answerer, "index", None), "sources_by_count"):
        return None
    return lambda: answerer.index.sources_by_count()


def run_chat(answerer, k, mode, filters: Filters, as_of, highlight: str, print_answer) -> None:
    """The prompt loop: commands are carried out, everything else is asked (follow-ups read
    against the previous question); Ctrl-C drops the line, Ctrl-D or /quit leaves."""
    history = History(data_home() / HISTORY_FILE, warn=lambda message: click.echo(message, err=True))
    use_readline(history.load())
    session = ChatSession(base_filters=filters, known_sources=archive_sources(answerer))
    stats = answerer.stats()
    click.echo(
        f"newsdesk: {stats['articles']} articles, {stats['sentences']} sentences. /help for commands; Ctrl-D quits."
    )
    if filters.active:
        click.echo(f"Every answer is filtered: {filters.describe()}.")
    # A prompt is for someone typing; piped output stays the answers alone.
    terminal = sys.stdin.isatty()
    while True:
        try:
            text = input("? " if terminal else "")
        except EOFError:
            click.echo("")
            return
        except KeyboardInterrupt:  # drop the line being typed, as a shell does
            click.echo("")
            continue
        if not text.strip():
            continue
        history.append(text)
        if text.strip().lower() in QUIT_WORDS:
            return
        said = session.command(text)
        if said is not None:
            click.echo(said)
            continue
        reading = session.conversation.read(text)
        try:
            answer = answerer.ask(reading.question, k=k, mode=mode, filters=session.filters, as_of=as_of)
        except QuestionError as exc:
            click.echo(f"error: {exc}")
            continue
        except KeyboardInterrupt:
            click.echo("(cancelled)")
            continue
        session.conversation.remember(answer.question)
        answer.note = conversation_note(answer, reading)
        if reading.is_followup:
            click.echo(f'Searched for "{answer.question}" (following "{reading.follows}").')
        print_answer(answer, highlight)
        click.echo(f"({answer.elapsed_ms:.0f} ms)")
