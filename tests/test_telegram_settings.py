"""Bot settings: the token only from the environment and never shown, the rest from config."""

from __future__ import annotations

import logging
import pickle

import pytest
from click.testing import CliRunner
from conftest import write_article

from bot.cli import main
from bot.telegram_bot import bot_command
from bot.telegram_settings import load_telegram_settings, redact_logs
from retrieval.config import ConfigError, Settings

TOKEN = "123456789:AAHsecretsecretsecretsecretXYZ"


def load(env=None, **telegram):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN} if env is None else env
    return load_telegram_settings(Settings.load(env={}, overrides={"telegram": telegram}), env=env)


def test_a_missing_token_is_a_one_line_error_that_says_where_to_get_one():
    with pytest.raises(ConfigError) as error:
        load(env={})
    message = str(error.value)
    assert "\n" not in message and "TELEGRAM_BOT_TOKEN" in message and "BotFather" in message


def test_the_bot_command_without_a_token_fails_with_one_line(monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(bot_command, [])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "TELEGRAM_BOT_TOKEN is not set" in result.output


def test_a_malformed_token_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as error:
        load(env={"TELEGRAM_BOT_TOKEN": "paste-your-token-here"})
    assert "paste-your-token-here" not in str(error.value)


def test_the_token_never_shows_in_a_repr_str_or_format():
    settings = load()
    for shown in (repr(settings), str(settings), repr(settings.token), f"{settings.token}", "%s" % (settings.token,)):  # noqa: UP031 (the %-format path is the one tested)
        assert TOKEN not in shown
    assert settings.token.reveal() == TOKEN


def test_the_token_cannot_be_pickled_into_a_file():
    with pytest.raises(TypeError):
        pickle.dumps(load().token)


def test_the_token_is_scrubbed_from_every_log_line(caplog):
    restore = redact_logs(load().token)
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("httpx").info("HTTP Request: POST %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
            try:
                raise RuntimeError(f"bad url /bot{TOKEN}/x")
            except RuntimeError:
                logging.getLogger("anything").exception("failed with token %s", TOKEN)
    finally:
        restore()
    assert "getMe" in caplog.text and "RuntimeError" in caplog.text
    assert TOKEN not in caplog.text


def test_the_bot_api_server_is_the_configured_root_with_the_env_taking_precedence():
    assert load().api_url == "https://api.telegram.org/bot"
    assert load(base_url="http://10.0.0.5:8081/").api_url == "http://10.0.0.5:8081/bot"
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSDESK_TELEGRAM_BASE_URL": "http://127.0.0.1:8081"}
    settings = load(env=env, base_url="http://10.0.0.5:8081")
    assert settings.api_url == "http://127.0.0.1:8081/bot" and settings.file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize("url", ["127.0.0.1:8081", "ftp://host", "https://api.telegram.org/bot123:abc"])
def test_a_base_url_that_is_not_a_server_root_is_refused(url):
    with pytest.raises(ConfigError, match="base URL"):
        load(base_url=url)


def test_the_allow_lists_come_from_config_and_the_env_overrides_users():
    settings = load(allowed_users=[1, 2], allowed_chats=[-100123])
    assert settings.allowed_users == {1, 2} and settings.allowed_chats == {-100123}
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSDESK_TELEGRAM_ALLOWED_USERS": " 5, 6 ,"}
    assert load(env=env, allowed_users=[1, 2]).allowed_users == {5, 6}


def test_an_allow_list_entry_that_is_not_an_id_names_the_setting():
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSDESK_TELEGRAM_ALLOWED_USERS": "5,@alice"}
    with pytest.raises(ConfigError, match="NEWSDESK_TELEGRAM_ALLOWED_USERS.*'@alice'"):
        load(env=env)


def test_webhook_mode_needs_a_url_telegram_can_post_to():
    with pytest.raises(ConfigError, match="webhook_url"):
        load(mode="webhook")
    assert load(mode="webhook", webhook_url="https://bot.example.com/telegram").mode == "webhook"


def test_an_unknown_mode_or_a_negative_limit_is_refused():
    with pytest.raises(ConfigError, match="mode"):
        load(mode="push")
    with pytest.raises(ConfigError, match="questions_per_window"):
        load(questions_per_window=-1)


def test_the_shipped_defaults_load():
    settings = load_telegram_settings(Settings.load(env={}), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.mode == "polling" and settings.examples[0] == "how many US troops to Poland?"
    assert not settings.allowed_users and settings.questions_per_window > 0


def test_an_unreachable_bot_api_server_is_a_one_line_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_TELEGRAM_BASE_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    write_article(tmp_path / "articles", "harbour.txt", "The council approved a new harbour bridge on Monday.")
    assert (
        CliRunner().invoke(main, ["index", str(tmp_path / "articles"), "--index", str(tmp_path / "index")]).exit_code
        == 0
    )
    result = CliRunner().invoke(bot_command, ["--index", str(tmp_path / "index")])
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "cannot reach the Bot API at http://127.0.0.1:9" in error and TOKEN not in result.output


def test_follow_ups_last_the_configured_minutes_and_a_negative_time_is_refused():
    assert load().followup_seconds == 300
    assert load(followup_minutes=2).followup_seconds == 120 and load(followup_minutes=0).followup_seconds == 0
    with pytest.raises(ConfigError, match="followup_minutes"):
        load(followup_minutes=-1)
