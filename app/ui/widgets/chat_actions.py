"""What can be done to a conversation, from the chat list's right-click menu and the chat header's menu: resolve,
reopen or mark pending (Chatwoot), snooze until a time, and WhatsApp's pin, mute, archive and mark as unread.

Each choice runs one operation (``app/store/ops/chats.py``) on the task runner; the list and header follow from
the store's change events, like any other change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.core.ids import utc_now
from app.core.models import Chat, ChatStatus
from app.qt import QtCore, QtWidgets
from app.store.ops import chats as ops
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note

MUTE_CHOICES: tuple[tuple[str, timedelta | None], ...] = (
    ("For 8 hours", timedelta(hours=8)),
    ("For 1 week", timedelta(weeks=1)),
    ("Always", None),
)


def snooze_choices(now: datetime | None = None) -> list[tuple[str, datetime]]:
    """Chatwoot's snooze choices, in local time: an hour from now, this evening, tomorrow and next week's start."""
    local = (now or datetime.now().astimezone()).astimezone()
    morning = local.replace(hour=9, minute=0, second=0, microsecond=0)
    choices = [("For 1 hour", local + timedelta(hours=1))]
    evening = local.replace(hour=18, minute=0, second=0, microsecond=0)
    if local < evening - timedelta(hours=1):
        choices.append(("Until this evening (18:00)", evening))
    choices.append(("Until tomorrow (09:00)", morning + timedelta(days=1)))
    monday = morning + timedelta(days=7 - local.weekday())
    choices.append((f"Until next week ({monday.strftime('%a %d %b')}, 09:00)", monday))
    return choices


class SnoozeDialog(FormDialog):
    """Snooze until a date and time the person picks."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Snooze", "Snooze this conversation until", "Snooze", parent, cancel="Cancel")
        self.when = QtWidgets.QDateTimeEdit(QtCore.QDateTime.currentDateTime().addDays(1))
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy, HH:mm")
        self.when.setMinimumDateTime(QtCore.QDateTime.currentDateTime())
        self.body.addWidget(self.when)
        self.body.addWidget(note("It comes back to Open then, or as soon as the customer writes."))
        self.primary.clicked.connect(self.accept)

    def chosen(self) -> datetime:
        secs = self.when.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(secs, UTC)


class ChatActions:
    """Runs the conversation choices for one page (``after`` is told when one was made, with its chat id)."""

    def __init__(self, ctx: AppContext, owner: QtWidgets.QWidget, after: Callable[[str], None] | None = None) -> None:
        self.ctx = ctx
        self.owner = owner
        self.after = after

    def run(self, title: str, chat_id: str, fn: Callable[[], object]) -> None:
        def done(_: object) -> None:
            if self.after is not None:
                self.after(chat_id)

        self.ctx.tasks.start(title, fn, done, owner=self.owner)

    # ---- the choices -----------------------------------------------------------------------------------------
    def set_status(self, chat_id: str, status: ChatStatus) -> None:
        store = self.ctx.store
        title = {"open": "Reopening", "pending": "Marking pending", "resolved": "Resolving"}[status]
        self.run(f"{title} the conversation", chat_id, lambda: ops.set_status(store, chat_id, status))

    def snooze(self, chat_id: str, until: datetime) -> None:
        store = self.ctx.store
        self.run("Snoozing the conversation", chat_id, lambda: ops.snooze(store, chat_id, until))

    def snooze_until_picked(self, chat_id: str) -> SnoozeDialog:
        dialog = SnoozeDialog(self.owner)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.snooze(chat_id, dialog.chosen()))
        dialog.open()
        return dialog

    def unsnooze(self, chat_id: str) -> None:
        store = self.ctx.store
        self.run("Ending the snooze", chat_id, lambda: ops.unsnooze(store, chat_id))

    def pin(self, chat_id: str, pinned: bool) -> None:
        store = self.ctx.store
        self.run("Pinning the chat" if pinned else "Unpinning", chat_id, lambda: ops.set_pinned(store, chat_id, pinned))

    def archive(self, chat_id: str, archived: bool) -> None:
        store = self.ctx.store
        title = "Archiving the chat" if archived else "Unarchiving the chat"
        self.run(title, chat_id, lambda: ops.set_archived(store, chat_id, archived))

    def mute(self, chat_id: str, duration: timedelta | None) -> None:
        store = self.ctx.store
        self.run("Muting the chat", chat_id, lambda: ops.mute(store, chat_id, duration))

    def unmute(self, chat_id: str) -> None:
        store = self.ctx.store
        self.run("Unmuting the chat", chat_id, lambda: ops.unmute(store, chat_id))

    def mark_unread(self, chat_id: str) -> None:
        store = self.ctx.store
        self.run("Marking as unread", chat_id, lambda: ops.mark_unread(store, chat_id))

    def mark_read(self, chat_id: str) -> None:
        store = self.ctx.store
        self.run("Marking as read", chat_id, lambda: ops.mark_read(store, chat_id))

    def toggle_resolved(self, chat: Chat) -> None:
        self.set_status(chat.id, "open" if chat.status == "resolved" else "resolved")

    def _snoozer(self, chat_id: str, until: datetime) -> Callable[[], None]:
        return lambda: self.snooze(chat_id, until)

    def _muter(self, chat_id: str, duration: timedelta | None) -> Callable[[], None]:
        return lambda: self.mute(chat_id, duration)

    # ---- the menu --------------------------------------------------------------------------------------------
    def menu(self, chat: Chat, *, unread: bool, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QMenu:
        """The choices for ``chat`` as it is now (``unread``: the list shows it unread)."""
        menu = QtWidgets.QMenu(parent or self.owner)
        menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        cid = chat.id
        if chat.status != "resolved":
            menu.addAction("Resolve", lambda: self.set_status(cid, "resolved"))
        if chat.status != "open":
            menu.addAction("Reopen", lambda: self.set_status(cid, "open"))
        if chat.status != "pending":
            menu.addAction("Mark as pending", lambda: self.set_status(cid, "pending"))
        snooze = menu.addMenu("Snooze")
        for label, until in snooze_choices():
            snooze.addAction(label, self._snoozer(cid, until))
        snooze.addSeparator()
        snooze.addAction("Until a date and time…", lambda: self.snooze_until_picked(cid))
        now = utc_now()
        if chat.snoozed_until is not None and chat.snoozed_until > now:
            menu.addAction("End snooze", lambda: self.unsnooze(cid))
        menu.addSeparator()
        if unread:
            menu.addAction("Mark as read", lambda: self.mark_read(cid))
        else:
            menu.addAction("Mark as unread", lambda: self.mark_unread(cid))
        if not chat.archived:
            menu.addAction("Unpin" if chat.pinned else "Pin to top", lambda: self.pin(cid, not chat.pinned))
        if chat.muted_until is not None and chat.muted_until > now:
            menu.addAction("Unmute notifications", lambda: self.unmute(cid))
        else:
            mute = menu.addMenu("Mute notifications")
            for label, duration in MUTE_CHOICES:
                mute.addAction(label, self._muter(cid, duration))
        menu.addAction("Unarchive" if chat.archived else "Archive", lambda: self.archive(cid, not chat.archived))
        return menu
