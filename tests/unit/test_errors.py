"""``describe``: the one translator from an exception to what a person reads (issue 15).

An unexpected exception's text may carry customer content, SQL or paths: the person never reads it, the log gets
the traceback. A ``ParleyError`` (the store's, sync's, WhatsApp's, AI's, a refused input) gives its sentence and
hint, and is logged as one line without a traceback.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from app import logs
from app.ai.types import AIError
from app.core.errors import (
    SOMETHING_WENT_WRONG,
    CorruptDatabase,
    InvalidInput,
    ParleyError,
    WrongPassphrase,
    describe,
)
from app.store.messaging import EmptyMessage, NotRetryable
from app.store.sales import OutOfStock
from app.sync.protocol import ErrorBody
from app.sync.transport import DeviceRevoked, ProtocolMismatch, ServerUnreachable, Unauthorized, error_for
from app.whatsapp.probe import ProbeReport
from app.whatsapp.sender import NotReady, PageBroken, SendFailed

CUSTOMER = "Ana Souza"
PHONE = "+55 11 91234-5678"
SQL = "SELECT phone FROM contacts WHERE name"
PATH = "/home/ana/Parley/workspaces/shop/workspace.db"


class _Contact(BaseModel):
    lead_score: int


def _validation_error() -> ValidationError:
    try:
        _Contact.model_validate({"lead_score": f"{CUSTOMER} {PHONE}"})
    except ValidationError as exc:
        return exc
    raise AssertionError("the model accepted text as a score")


def _sqlite_error() -> sqlite3.Error:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(f"{SQL} = '{CUSTOMER}'")
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("the query ran")


UNEXPECTED: list[tuple[str, BaseException]] = [
    ("a bug naming a customer", RuntimeError(f"no chat for {CUSTOMER} ({PHONE})")),
    ("a ValueError (shown verbatim before)", ValueError(f"invalid literal for int() with base 10: '{CUSTOMER}'")),
    ("a failed SQL statement", _sqlite_error()),
    ("a missing file", FileNotFoundError(2, "No such file or directory", PATH)),
    ("a KeyError", KeyError(f"{CUSTOMER}@example.com")),
    ("a pydantic error with the input", _validation_error()),
    ("a TypeError", TypeError(f"'NoneType' object is not subscriptable ({SQL})")),
]
LEAKS = (CUSTOMER, PHONE, SQL, PATH, "Error", "Exception", "sqlite", "validation")


@pytest.fixture
def no_log_file() -> Iterator[None]:
    """The root logger without file handlers (as before bootstrap opened a workspace's log; pytest adds one)."""
    root = logging.getLogger()
    files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    for handler in files:
        root.removeHandler(handler)
    yield
    for handler in files:
        root.addHandler(handler)


@pytest.mark.parametrize(("case", "exc"), UNEXPECTED, ids=[case for case, _ in UNEXPECTED])
def test_an_unexpected_error_never_shows_its_text(
    case: str, exc: BaseException, caplog: pytest.LogCaptureFixture, no_log_file: None
) -> None:
    caplog.set_level(logging.INFO)
    text = describe(exc, doing="saving a contact")
    assert text == SOMETHING_WENT_WRONG
    for leak in LEAKS:
        assert leak not in text
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[1] is exc  # the traceback is in the log
    assert "saving a contact" in record.getMessage()


def test_the_sentence_names_the_log_file_when_there_is_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, no_log_file: None
) -> None:
    logs.log_to(tmp_path / "logs")
    root = logging.getLogger()
    [handler] = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    try:
        try:
            raise RuntimeError(f"{SQL} = '{CUSTOMER}'")
        except RuntimeError as exc:
            text = describe(exc, doing="saving a contact")
        handler.flush()
        assert text == f"Something went wrong; the details are in the log ({tmp_path / 'logs' / 'parley.log'})."
        assert CUSTOMER not in text
        written = (tmp_path / "logs" / "parley.log").read_text()
        assert "Traceback (most recent call last)" in written
    finally:
        root.removeHandler(handler)
        handler.close()


def _page_report() -> ProbeReport:
    return ProbeReport(state="logged_in", profile_version="2026.11", results=())


EXPECTED: list[tuple[str, ParleyError, str]] = [
    ("wrong passphrase", WrongPassphrase("That passphrase does not open the workspace."), WrongPassphrase.hint),
    ("damaged database", CorruptDatabase("The workspace database is damaged."), CorruptDatabase.hint),
    ("refused input", InvalidInput("Give the deal a title."), ""),
    ("empty message", EmptyMessage("Type a message first."), ""),
    ("not retryable", NotRetryable("Only a message that failed to send can be tried again."), ""),
    ("out of stock", OutOfStock("Only 2 of “Tote” are in stock."), OutOfStock.hint),
    ("sync: server down", error_for(503, None), ""),
    ("sync: wrong password", error_for(401, ErrorBody(code="bad_login", message="Wrong e-mail or password.")), ""),
    ("sync: device revoked", error_for(403, ErrorBody(code="device_revoked", message="")), ""),
    ("sync: protocol", error_for(426, ErrorBody(code="protocol", message="", supported_protocols=[9])), ""),
    ("sync: unreachable", ServerUnreachable("The sync server did not answer in time; Parley will try again."), ""),
    ("whatsapp: send failed", SendFailed("WhatsApp could not open a chat with +5511912345678."), SendFailed.hint),
    ("whatsapp: not ready", NotReady("WhatsApp Web is not logged in"), NotReady.hint),
    ("whatsapp: page broken", PageBroken(_page_report()), PageBroken.hint),
    ("ai: off", AIError("no_provider", "AI is switched off in Settings."), ""),
    ("ai: with a hint", AIError("auth", "The provider refused the key.", hint="Check the key in Settings → AI."), ""),
]


@pytest.mark.parametrize(("case", "exc", "hint"), EXPECTED, ids=[case for case, _, _ in EXPECTED])
def test_a_parley_error_gives_its_sentence_and_hint_and_one_log_line(
    case: str, exc: ParleyError, hint: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = describe(exc, doing="the action")
    assert text == f"{exc} {hint or exc.hint}".strip()
    assert str(exc) in text
    assert exc.hint in text
    [record] = caplog.records
    assert record.exc_info is None  # expected: no traceback
    assert record.levelno < logging.WARNING
    assert "\n" not in record.getMessage()
    assert str(exc) not in record.getMessage()  # its text may name a customer; the type is enough
    assert type(exc).__name__ in record.getMessage()


def test_the_errors_people_meet_are_parley_errors() -> None:
    """Sync transport, WhatsApp send, AI and refused-input errors are all of the one type for people."""
    for cls in (Unauthorized, DeviceRevoked, ProtocolMismatch, ServerUnreachable, SendFailed, NotReady, PageBroken):
        assert issubclass(cls, ParleyError), cls
    for cls in (AIError, EmptyMessage, NotRetryable, InvalidInput):
        assert issubclass(cls, ParleyError), cls
    assert issubclass(InvalidInput, ValueError)  # pydantic validators and ``except ValueError`` keep working


def _all_subclasses(cls: type[ParleyError]) -> Iterator[type[ParleyError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_parley_error_made_from_a_sentence_describes_as_sentence_and_hint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every subclass loaded here (store, sync, WhatsApp, AI, ...) that takes a sentence: no type's text is lost."""
    caplog.set_level(logging.INFO)
    checked = 0
    for cls in set(_all_subclasses(ParleyError)):
        try:
            exc = cls("A sentence for people.")
        except (TypeError, AttributeError):
            continue  # needs more than a sentence (AIError, PageBroken): in the table above
        assert describe(exc) == f"A sentence for people. {exc.hint}".strip(), cls
        checked += 1
    assert checked >= 20
    assert all(record.exc_info is None for record in caplog.records)


def test_a_log_to_nowhere_is_not_named(no_log_file: None, caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.FileHandler(os.devnull)
    logging.getLogger().addHandler(handler)
    try:
        assert describe(RuntimeError("a bug")) == SOMETHING_WENT_WRONG
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
