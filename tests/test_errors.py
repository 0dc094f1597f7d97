"""Every error a person can meet is a NewsdeskError, so each front end catches one base."""

import pytest

from retrieval.config import ConfigError
from retrieval.cross_encoder import RerankModelError
from retrieval.diskspace import DiskFull
from retrieval.embed import EncoderError
from retrieval.errors import NewsdeskError
from retrieval.evaluation.gold import GoldError
from retrieval.evaluation.runner import CorpusError
from retrieval.filters import FilterError
from retrieval.milvus_lite import LiteUnavailable
from retrieval.store import StoreError, StoreMissing
from retrieval.types import QuestionError
from retrieval.writer_lock import WriterBusy


@pytest.mark.parametrize(
    "error, old_base",
    [
        (ConfigError, ValueError),
        (StoreError, RuntimeError),
        (StoreMissing, RuntimeError),
        (DiskFull, RuntimeError),
        (WriterBusy, RuntimeError),
        (EncoderError, RuntimeError),
        (RerankModelError, RuntimeError),
        (QuestionError, ValueError),
        (FilterError, ValueError),
        (GoldError, ValueError),
        (CorpusError, ValueError),
        (LiteUnavailable, RuntimeError),
    ],
)
def test_each_user_facing_error_is_a_newsdesk_error_and_keeps_its_old_base(error, old_base):
    assert issubclass(error, NewsdeskError) and issubclass(error, old_base)


def test_the_cli_shows_any_newsdesk_error_as_a_message_not_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import bot.cli as cli

    def broken(*args, **kwargs):
        raise RerankModelError("the reader cannot load: run `make setup`")

    monkeypatch.setattr("retrieval.stores.make_indexer", broken)
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    result = CliRunner().invoke(cli.main, ["index", str(tmp_path)])
    assert result.exit_code == 1
    assert "the reader cannot load: run `make setup`" in result.output
    assert "Traceback" not in result.output
