"""The WhatsApp host keeps its own loop (Playwright's traffic never waits behind a model or a sync pass), but the UI
reaches it the way it reaches the service loop: ``TaskRunner.submit(..., on=host)``, the result delivered on the
main thread; after the host closed, nothing is started there."""

from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from app.whatsapp.config import ServiceConfig
from app.whatsapp.host import WhatsAppHost
from app.whatsapp.profile import load_profile
from app.whatsapp.status import ConnectionState, WhatsAppStatus


def test_a_coroutine_for_the_whatsapp_loop_comes_back_on_the_main_thread(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    statuses: list[WhatsAppStatus] = []
    host = WhatsAppHost(ctx.store, load_profile(None), tmp_path / "wa", ServiceConfig(), statuses.append)
    host.start()  # idle: no browser until asked to connect
    try:
        ran_on: list[threading.Thread] = []
        delivered: list[tuple[ConnectionState, threading.Thread]] = []

        async def state() -> ConnectionState:
            ran_on.append(threading.current_thread())
            return host.supervisor.status.state

        ctx.tasks.submit(
            "Reading WhatsApp", state, lambda s: delivered.append((s, threading.current_thread())), on=host
        )
        qtbot.waitUntil(lambda: bool(delivered))
        assert [t.name for t in ran_on] == ["whatsapp"]
        assert delivered == [(ConnectionState.stopped, threading.main_thread())]
    finally:
        host.close()

    async def late() -> None:
        raise AssertionError("nothing runs on a closed host")

    assert ctx.tasks.submit("Late", late, on=host).cancelled()
    assert not ran_on[0].is_alive(), "the host's loop thread ended"


def test_a_campaigns_stricter_pace_reaches_the_supervisor_that_builds_the_sender(
    ctx: AppContext, tmp_path: Path
) -> None:
    """The campaign's own pace (``app.campaigns.pace.stricter_for``) was built but no sender was ever given it."""
    from app.campaigns.pace import stricter_for

    stricter = stricter_for(ctx.store)
    host = WhatsAppHost(
        ctx.store, load_profile(None), tmp_path / "wa", ServiceConfig(), lambda _s: None, stricter=stricter
    )
    host.start()
    try:
        assert host.supervisor.stricter is stricter
    finally:
        host.close()
