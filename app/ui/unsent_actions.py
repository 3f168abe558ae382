"""Try again / cancel an own message that has not reached WhatsApp, from the inbox or the WhatsApp page.

The store write runs off the UI thread; its commit refreshes the views that show the message (the store derives the
tables it touched and ``Changes`` delivers them on the main thread).
Right after the commit, still on the worker, the supervisor is told to look at its queue now rather than on its
next round (``WhatsAppControl`` is thread-safe), so the nudge happens even if the page that asked is gone.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.models import Message
from app.qt import QtCore
from app.store.ops import Done
from app.store.ops.messages import cancel_unsent, retry_failed
from app.store.store import Store
from app.ui.context import AppContext

RETRY_TASK = "Trying the message again"
CANCEL_TASK = "Cancelling the message"


def retry_message(
    ctx: AppContext,
    message_id: str,
    *,
    on_done: Callable[[Message], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    owner: QtCore.QObject | None = None,
) -> None:
    """Put a failed message back in the queue; without ``on_error`` a refusal is shown by the main window."""
    _run(ctx, RETRY_TASK, retry_failed, message_id, on_done, on_error, owner)


def cancel_message(
    ctx: AppContext,
    message_id: str,
    *,
    on_done: Callable[[Message], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    owner: QtCore.QObject | None = None,
) -> None:
    """Withdraw a queued or failed message (it is deleted, never sent)."""
    _run(ctx, CANCEL_TASK, cancel_unsent, message_id, on_done, on_error, owner)


def _run(
    ctx: AppContext,
    name: str,
    write: Callable[[Store, str], Done[Message]],
    message_id: str,
    on_done: Callable[[Message], None] | None,
    on_error: Callable[[str], None] | None,
    owner: QtCore.QObject | None,
) -> None:
    store, bridge = ctx.store, ctx.whatsapp

    def work() -> Message:
        message = write(store, message_id).value
        bridge.queue_changed()
        return message

    ctx.tasks.start(name, work, on_done, on_error, owner=owner)
