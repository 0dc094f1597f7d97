"""`newsdesk chat` as a person uses it: follow-ups, in-chat commands, history, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import builtins

import pytest
from click.testing import CliRunner

from bot.chat import HISTORY_FILE, History, data_home, run_chat
from bot.cli import main
from retrieval.types import Answer, Evidence, Filters


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    return CliRunner()


@pytest.fixture
def indexed(cli, tiny_corpus):
    assert cli.invoke(main, ["index", str(tiny_corpus)]).exit_code == 0
    return tiny_corpus


def chat(cli, *lines: str, args: tuple[str, ...] = ()) -> str:
    result = cli.invoke(main, ["chat", *args], input="".join(f"{line}\n" for line in lines))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_follow_up_is_searched_with_the_previous_subject_and_says_so(cli, indexed):
    output = chat(cli, "who approved the harbour bridge?", "and when?")
    assert 'Searched for "when approved the harbour bridge?"' in output
    after = output.split("Searched for")[1]
    assert "approved a new harbour bridge on Monday" in after.split("\n 2.")[0]


def test_a_period_carried_over_that_matches_nothing_is_said_as_such(cli, indexed):
    output = chat(cli, "how many homes lost power in 2023?", "and when?")
    typed, followed = output.split("Searched for")
    assert "Widen the dates or check the source name." in typed  # the period the person typed
    assert followed.startswith(' "when homes lost power in 2023?"')
    assert 'No article matches the period carried over from your last question ("in 2023": since 2023-01-01' in followed
    assert "check the source name" not in followed


def test_a_new_question_is_not_reported_as_a_follow_up(cli, indexed):
    output = chat(cli, "how many teachers will be hired?", "how many homes lost power?")
    assert "Searched for" not in output and "12,000" in output


@pytest.mark.parametrize("word", ["help", "/help", "HELP"])
def test_help_is_a_command_not_a_question(cli, indexed, word):
    output = chat(cli, word)
    assert "/since YYYY-MM-DD" in output and "/clear" in output
    assert " 1. " not in output  # nothing was searched


def test_since_in_chat_filters_the_following_answers_until_it_is_lifted(cli, indexed):
    output = chat(cli, "/since 2024-03-01", "how many teachers will be hired?", "/since", "how many teachers?")
    filtered, lifted = output.split("No filters: the whole archive.")
    assert "Filtered: since 2024-03-01." in filtered and "300 teachers" not in filtered
    assert "300 teachers" in lifted


def test_source_in_chat_keeps_only_that_source(cli, indexed):
    output = chat(cli, "/source storm", "how many teachers will be hired?")
    assert "Filtered: source storm." in output
    assert "— 2024-03-05 · storm" in output and "· school" not in output


def test_a_source_that_matches_nothing_is_refused_at_once_naming_the_closest(cli, indexed):
    # tiny_corpus's sources are its file names: harbour, storm, school.
    output = chat(cli, "/source stomr", "how many teachers will be hired?")
    assert "No source matches 'stomr'; did you mean storm? The source filter is unchanged (every source)." in output
    assert "Filtered:" not in output and "300 teachers" in output  # nothing was applied


def test_a_misspelt_source_keeps_the_source_filter_already_set(cli, indexed):
    output = chat(cli, "/source storm", "/source schol", "/source nowhere", "how many teachers will be hired?")
    assert "No source matches 'schol'; did you mean school? The source filter is unchanged (source storm)." in output
    assert "No source matches 'nowhere'; the archive's sources are " in output
    assert "— 2024-03-05 · storm" in output and "· school" not in output


def test_a_bad_date_in_a_command_says_how_to_write_it(cli, indexed):
    output = chat(cli, "/since yesterday")
    assert "error: since 'yesterday' is not a date: write it as YYYY-MM-DD" in output


def test_an_unknown_command_is_not_searched(cli, indexed):
    output = chat(cli, "/frobnicate storms")
    assert "Unknown command /frobnicate; /help lists the commands." in output and " 1. " not in output


def test_clear_forgets_the_previous_question(cli, indexed):
    output = chat(cli, "who approved the harbour bridge?", "/clear", "and when?")
    assert "Forgotten" in output and "Searched for" not in output


@pytest.mark.parametrize("word", ["/quit", "quit", ":q"])
def test_quit_leaves_and_later_lines_are_not_answered(cli, indexed, word):
    output = chat(cli, word, "how many teachers will be hired?")
    assert "300" not in output


def test_history_is_kept_in_the_data_folder_between_sessions(cli, indexed, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("NEWSDESK_HOME", str(home))
    chat(cli, "how many teachers?", "/since 2024-03-01")
    chat(cli, "and when?")
    assert (home / HISTORY_FILE).read_text().splitlines() == ["how many teachers?", "/since 2024-03-01", "and when?"]


def test_history_keeps_only_the_newest_lines(tmp_path):
    path = tmp_path / "history"
    path.write_text("".join(f"q{i}\n" for i in range(12)))
    assert History(path, limit=5).load() == ["q7", "q8", "q9", "q10", "q11"]
    assert path.read_text().splitlines() == ["q7", "q8", "q9", "q10", "q11"]


def test_an_unwritable_history_costs_a_warning_not_the_chat(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings: list[str] = []
    history = History(blocker / "sub" / HISTORY_FILE, warn=warnings.append)
    history.append("q1")
    history.append("q2")
    assert len(warnings) == 1 and "chat history is not kept" in warnings[0]


def test_the_data_folder_follows_newsdesk_home_then_xdg_data_home(tmp_path):
    assert data_home({"NEWSDESK_HOME": str(tmp_path / "nd")}) == tmp_path / "nd"
    assert data_home({"XDG_DATA_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "newsdesk"


class ScriptedAnswerer:
    def __init__(self):
        self.questions: list[str] = []

    def stats(self):
        return {"articles": 1, "sentences": 1}

    def ask(self, question, k=None, mode=None, filters=None, as_of=None):
        self.questions.append(question)
        if question == "slow one":
            raise KeyboardInterrupt
        evidence = Evidence("A sentence.", "a", "", "2024-01-01", "wire", "", 1.0)
        return Answer(question=question, evidence=[evidence], filters=filters or Filters())


def scripted_input(monkeypatch, *steps):
    """input() that plays back lines, raising the exceptions among them (Ctrl-C, Ctrl-D)."""
    queue = list(steps)

    def fake_input(prompt=""):
        step = queue.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    monkeypatch.setattr(builtins, "input", fake_input)


def test_ctrl_c_drops_the_line_and_ctrl_d_quits(monkeypatch, capsys):
    answerer = ScriptedAnswerer()
    scripted_input(monkeypatch, "first", KeyboardInterrupt(), "second", EOFError(), "never")
    run_chat(answerer, None, None, Filters(), None, "none", lambda answer, highlight: None)
    assert answerer.questions == ["first", "second"]


def test_ctrl_c_while_answering_cancels_that_question_only(monkeypatch, capsys):
    answerer = ScriptedAnswerer()
    scripted_input(monkeypatch, "slow one", "next", EOFError())
    run_chat(answerer, None, None, Filters(), None, "none", lambda answer, highlight: None)
    assert "(cancelled)" in capsys.readouterr().out
    assert answerer.questions == ["slow one", "next"]


def test_a_new_period_replaces_the_previous_one_and_is_shown(monkeypatch, capsys):
    answerer = ScriptedAnswerer()
    fed = "how much did the Fed raise rates in March?"
    scripted_input(monkeypatch, fed, "and in June?", "and in April?", "what about the ECB?", EOFError())
    run_chat(answerer, None, None, Filters(), None, "none", lambda answer, highlight: None)
    assert answerer.questions == [
        fed,
        "how much did the Fed raise rates in June?",
        "how much did the Fed raise rates in April?",
        "how much did the ECB raise rates in April?",
    ]
    assert f'Searched for "how much did the Fed raise rates in June?" (following "{fed}").' in capsys.readouterr().out
