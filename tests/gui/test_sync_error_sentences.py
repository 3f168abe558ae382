"""A failed sync action reaches the page as one sentence, made by the one ``describe`` (issue 15).

The transport's own errors (a real ``SyncApi`` against a port nobody listens on), the bridge's "still starting", and
a request the person's input made invalid are shown as their sentences; anything else — a bug whose text names a
customer or holds SQL — is "Something went wrong" for the person and a traceback in the log. Before, a second
translator showed the text of any exception from an ``app.sync`` module and "Type: text" of everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import SOMETHING_WENT_WRONG
from app.qt import QtWidgets
from app.sync.protocol import InviteRequest, LoginRequest
from app.sync.transport import SyncApi
from app.ui.sync_bridge import SyncBridge, SyncLoop
from sync_server.pgcluster import free_port
from tests.support.sync_fixtures import PASSWORD


@pytest.fixture
def loop(qapp: QtWidgets.QApplication) -> Iterator[SyncLoop]:
    sync_loop = SyncLoop()
    yield sync_loop
    sync_loop.close()


async def unreachable() -> Any:
    api = SyncApi(f"http://127.0.0.1:{free_port()}")
    try:
        return await api.login(LoginRequest(email="olivia@example.com", password=PASSWORD, device_name="Laptop"))
    finally:
        await api.aclose()


async def not_signed_in() -> Any:
    api = SyncApi(f"http://127.0.0.1:{free_port()}")
    try:
        return await api.members()
    finally:
        await api.aclose()


async def invalid_email() -> Any:
    return InviteRequest(email="olivia at example.com", role="staff")


async def a_bug() -> Any:
    raise RuntimeError("UPDATE contacts SET name = 'Ana Souza' WHERE phone = '+5511912345678'")


Action = Callable[[], Awaitable[Any]]
# ``None``: a page's call on a bridge that bootstrap has not attached yet (``bridge.service`` raises on the loop).
CASES: list[tuple[str, Action | None, Callable[[str], bool]]] = [
    ("server unreachable", unreachable, lambda text: "cannot be reached" in text and "offline" in text),
    ("not signed in", not_signed_in, lambda text: text == "This computer is not signed in to the sync server."),
    ("still starting", None, lambda text: text == "Team sync is still starting: try again in a moment."),
    ("invalid input", invalid_email, lambda text: text.startswith("email: ") and "olivia at" not in text),
    ("a bug", a_bug, lambda text: text.startswith(SOMETHING_WENT_WRONG[:-1])),
]


@pytest.mark.parametrize(("case", "action", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_a_failed_sync_action_reaches_the_page_as_a_sentence(
    qtbot: QtBot,
    loop: SyncLoop,
    case: str,
    action: Action | None,
    expected: Callable[[str], bool],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.ui.tasks")
    page = QtWidgets.QLabel()
    qtbot.addWidget(page)
    bridge = SyncBridge(loop=loop)
    loop.call(case, action or (lambda: bridge.service.members()), None, page.setText, owner=page)
    qtbot.waitUntil(lambda: bool(page.text()) and loop.idle, timeout=20000)
    text = page.text()
    assert expected(text), text
    for leak in ("Ana Souza", "UPDATE", "RuntimeError", "Error:"):
        assert leak not in text
    [record] = [r for r in caplog.records if r.name == "app.ui.tasks"]
    if case == "a bug":
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None  # the traceback is in the log
    else:
        assert record.exc_info is None  # expected: one line
        assert record.levelno < logging.WARNING
