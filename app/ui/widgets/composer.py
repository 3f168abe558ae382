"""The message composer: multi-line, Ctrl+Enter (or Enter, per setting) sends, ``/`` opens quick replies.

Above the text it always names whom it writes to ("To: Ana Souza · +55 21 99999-0000"), or, in note mode, whose
chat the note goes on: a reply typed after the chat list moved must not go out to someone else unnoticed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from app.core.models import QuickReply
from app.core.settings import Settings
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui.widgets.attachments import AttachmentStrip, DropTarget, local_files
from app.ui.widgets.emoji_picker import EmojiPicker


@dataclass(frozen=True)
class Draft:
    """What the composer holds for one chat: text, note mode and the message being replied to."""

    text: str = ""
    as_note: bool = False
    reply_to: str | None = None
    reply_text: str = ""


class ComposerEdit(QtWidgets.QPlainTextEdit):
    send_requested = Signal()
    slash_typed = Signal(str)  # the text after "/" while the draft starts with it
    popup_key = Signal(int)  # up / down / enter / escape while the quick-reply popup is open
    attach = Signal(QtCore.QMimeData)  # files or an image pasted or dropped: they go to the attachments

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.enter_sends = False
        self.popup_open = False
        self.setPlaceholderText("Type a message — Ctrl+Enter to send, / for quick replies")
        self.setTabChangesFocus(True)
        self.textChanged.connect(self._text_changed)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if self.popup_open and key in (
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_Escape,
        ):
            self.popup_key.emit(key)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if ctrl or (self.enter_sends and not shift):
                self.send_requested.emit()
                return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QtCore.QMimeData) -> bool:
        return bool(local_files(source)) or source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:
        """Ctrl+V (or a drop) of an image or of files attaches them instead of typing their paths."""
        if local_files(source) or (source.hasImage() and not source.hasText()):
            self.attach.emit(source)
            return
        super().insertFromMimeData(source)

    def _text_changed(self) -> None:
        text = self.toPlainText()
        if text.startswith("/") and "\n" not in text:
            self.slash_typed.emit(text[1:])
        elif self.popup_open:
            self.slash_typed.emit("\x00")  # close


def _recent_emoji(
    settings: Settings | None,
) -> tuple[Callable[[], list[str]] | None, Callable[[list[str]], None] | None]:
    if settings is None:
        return None, None
    internal = settings.internal

    def save(recent: list[str]) -> None:
        internal.recent_emoji = recent

    return (lambda: internal.recent_emoji), save


class Composer(QtWidgets.QFrame):
    """Composer + note toggle + send button, with a quick-reply popup."""

    send = Signal(str, bool)  # text, as internal note
    # [(file_name, bytes, mime, caption)]: attached files to queue for the open chat (app.store.ops.media)
    send_media = Signal(list)
    product_requested = Signal()  # the paperclip's "Product…": pick a product to send as a card (product_picker)

    def __init__(
        self,
        render_reply: Callable[[QuickReply], str],
        parent: QtWidgets.QWidget | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.render_reply = render_reply
        self.replies: list[QuickReply] = []
        self.edit = ComposerEdit()
        self.edit.setFixedHeight(78)
        self.note_toggle = QtWidgets.QCheckBox("Internal note")
        self.note_toggle.setToolTip("Notes stay inside your team and are never sent to the customer.")
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        self.reply_to: str | None = None
        self.reply_text = ""
        self.recipient_name = ""
        self.recipient_phone: str | None = None
        self.to_label = QtWidgets.QLabel()
        self.to_label.setObjectName("composerTo")
        self.to_label.setTextFormat(Qt.TextFormat.RichText)
        self.to_label.setAccessibleName("Recipient")
        self.reply_bar = QtWidgets.QFrame()
        self.reply_label = QtWidgets.QLabel()
        self.reply_label.setObjectName("muted")
        cancel_reply = QtWidgets.QToolButton()
        cancel_reply.setText("✕")
        cancel_reply.setToolTip("Don't reply to this message")
        cancel_reply.clicked.connect(self.clear_reply)
        bar = QtWidgets.QHBoxLayout(self.reply_bar)
        bar.setContentsMargins(0, 0, 0, 4)
        bar.addWidget(self.reply_label, 1)
        bar.addWidget(cancel_reply)
        self.reply_bar.hide()
        self.popup = QtWidgets.QListWidget(self)
        self.popup.setWindowFlags(Qt.WindowType.ToolTip)
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.hide()

        # Emoji: recent ones are kept per device when the settings are given (else for the session).
        self.emoji_button = QtWidgets.QToolButton()
        self.emoji_button.setText("😊")
        self.emoji_button.setToolTip("Emoji")
        self.emoji_button.setAccessibleName("Emoji")
        self.emoji_picker = EmojiPicker(*_recent_emoji(settings), parent=self)
        self.emoji_button.clicked.connect(lambda: self.emoji_picker.open_at(self.emoji_button))
        self.emoji_picker.picked.connect(self.insert_text)
        # Attachments: the paperclip, a drop on the composer (or the conversation: ``accept_drops_on``), a paste.
        self.attachments = AttachmentStrip()
        self.attachments.changed.connect(self._attachments_changed)
        self.attach_button = QtWidgets.QToolButton()
        self.attach_button.setText("📎")
        self.attach_button.setToolTip("Attach photos, files or a product")
        self.attach_button.setAccessibleName("Attach")
        self.attach_menu = QtWidgets.QMenu(self.attach_button)
        self.attach_menu.addAction("Photos && files…", self.choose_files)
        self.attach_menu.addAction("Product…", self.product_requested.emit)
        self.attach_button.setMenu(self.attach_menu)
        self.attach_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.edit.attach.connect(self.attachments.add_mime)
        DropTarget(self.attachments, self)
        for button in (self.emoji_button, self.attach_button):
            button.setFixedSize(32, 30)
            button.setAutoRaise(True)
            bigger = button.font()
            bigger.setPointSizeF(bigger.pointSizeF() * 1.3)
            button.setFont(bigger)
        tools = QtWidgets.QVBoxLayout()
        tools.setContentsMargins(0, 0, 4, 0)
        tools.setSpacing(2)
        tools.addWidget(self.emoji_button)
        tools.addWidget(self.attach_button)
        tools.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(0)
        row.addLayout(tools)
        row.addWidget(self.edit, 1)

        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.note_toggle)
        side.addStretch(1)
        side.addWidget(self.send_button)
        editor = QtWidgets.QVBoxLayout()
        editor.setSpacing(0)
        editor.addWidget(self.to_label)
        editor.addSpacing(4)
        editor.addWidget(self.reply_bar)
        editor.addWidget(self.attachments)
        editor.addLayout(row)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(editor, 1)
        layout.addLayout(side)

        self.edit.send_requested.connect(self._send)
        self.send_button.clicked.connect(self._send)
        self.edit.slash_typed.connect(self._filter_replies)
        self.edit.popup_key.connect(self._popup_key)
        self.popup.itemClicked.connect(lambda item: self._insert(item))
        self.note_toggle.toggled.connect(self._mode_changed)

    def set_recipient(self, name: str, phone: str | None) -> None:
        """Whom the open chat's messages go to (the composer says it above the text)."""
        self.recipient_name, self.recipient_phone = name, phone
        self._show_recipient()

    def recipient(self) -> str:
        """The recipient as plain text: name · phone (just one of them when they are the same or one is missing)."""
        parts = [self.recipient_name]
        if self.recipient_phone and self.recipient_phone != self.recipient_name:
            parts.append(self.recipient_phone)
        return " · ".join(p for p in parts if p)

    def _show_recipient(self) -> None:
        name = html.escape(self.recipient_name)
        phone = self.recipient_phone if self.recipient_phone != self.recipient_name else None
        extra = f" · {html.escape(phone)}" if phone else ""
        if self.note_toggle.isChecked():
            text = f"Internal note in the chat with <b>{name}</b>{extra} — only your team sees it"
        else:
            text = f"To: <b>{name}</b>{extra}"
        self.to_label.setText(text)
        self.to_label.setToolTip(self.recipient())

    def _mode_changed(self, note: bool) -> None:
        self._show_recipient()
        self.send_button.setText("Add note" if note else "Send")
        self.edit.setPlaceholderText(
            "Write an internal note — only your team sees it"
            if note
            else "Type a message — Ctrl+Enter to send, / for quick replies"
        )

    def _send(self) -> None:
        text = self.edit.toPlainText()
        if self.attachments.chips:
            self._send_attachments(text)
        elif text.strip():
            self.send.emit(text, self.note_toggle.isChecked())

    # ---- attachments -----------------------------------------------------------------------------------------
    def accept_drops_on(self, widget: QtWidgets.QWidget) -> None:
        """Files dropped on ``widget`` (the conversation) are attached here too."""
        DropTarget(self.attachments, widget)

    def choose_files(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Attach photos or files")
        if paths:
            self.attachments.add_paths(paths)
            self.edit.setFocus()

    def _attachments_changed(self) -> None:
        several = len(self.attachments.chips) > 1
        self.edit.setPlaceholderText(
            "Add a caption — Ctrl+Enter to send"
            if len(self.attachments.chips) == 1
            else "Caption for the first photo without one — Ctrl+Enter to send"
            if several
            else "Type a message — Ctrl+Enter to send, / for quick replies"
        )

    def _send_attachments(self, text: str) -> None:
        """One attachment takes the composer's text as its caption; with several each has its own caption field
        and the composer's text goes to the first photo left without one (WhatsApp's preview works the same)."""
        if self.note_toggle.isChecked():
            self.attachments.refuse("Files go to the customer: turn off Internal note to send them.")
            return
        pending = text.strip()
        files: list[tuple[str, bytes, str, str]] = []
        for attachment, caption in self.attachments.attachments():
            if not caption and pending:
                caption, pending = pending, ""
            files.append((attachment.file_name, attachment.data, attachment.mime, caption))
        self.send_media.emit(files)

    def insert_text(self, text: str) -> None:
        """Put ``text`` (an emoji) at the cursor, replacing a selection, and give the text the focus back."""
        self.edit.insertPlainText(text)
        self.edit.setFocus()

    def clear(self) -> None:
        self.attachments.clear()
        self.edit.clear()
        self.note_toggle.setChecked(False)
        self.clear_reply()

    def set_reply(self, message_id: str, text: str, *, focus: bool = True) -> None:
        """Quote ``message_id`` in the next message sent."""
        self.reply_to, self.reply_text = message_id, text
        metrics = self.reply_label.fontMetrics()
        shown = metrics.elidedText(text.replace("\n", " "), Qt.TextElideMode.ElideRight, 420)
        self.reply_label.setText(f"↩ Replying to: {shown}")
        self.reply_bar.show()
        if focus:
            self.edit.setFocus()

    def clear_reply(self) -> None:
        self.reply_to, self.reply_text = None, ""
        self.reply_bar.hide()

    # ---- drafts ----------------------------------------------------------------------------------------------
    def draft(self) -> Draft:
        return Draft(self.edit.toPlainText(), self.note_toggle.isChecked(), self.reply_to, self.reply_text)

    def set_draft(self, draft: Draft) -> None:
        """Show ``draft`` (another chat's, say) without opening quick replies or taking the focus. Attached files
        are not part of a draft: they never follow the composer to another chat."""
        self._close_popup()
        self.attachments.clear()
        self.edit.blockSignals(True)  # a draft starting with "/" must not open the quick-reply popup
        self.edit.setPlainText(draft.text)
        self.edit.blockSignals(False)
        self.edit.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        self.note_toggle.setChecked(draft.as_note)
        if draft.reply_to is not None:
            self.set_reply(draft.reply_to, draft.reply_text, focus=False)
        else:
            self.clear_reply()

    # ---- quick replies ---------------------------------------------------------------------------------------
    def set_quick_replies(self, replies: list[QuickReply]) -> None:
        self.replies = replies

    def _filter_replies(self, typed: str) -> None:
        if typed == "\x00":
            self._close_popup()
            return
        needle = typed.lower()
        matches = [r for r in self.replies if needle in r.shortcut.lower().lstrip("/") or needle in r.title.lower()]
        self.popup.clear()
        for reply in matches[:8]:
            item = QtWidgets.QListWidgetItem(f"/{reply.shortcut.lstrip('/')}  —  {reply.title or reply.body[:40]}")
            item.setData(Qt.ItemDataRole.UserRole, reply)
            self.popup.addItem(item)
        if not matches:
            self._close_popup()
            return
        self.popup.setCurrentRow(0)
        pos = self.edit.mapToGlobal(QtCore.QPoint(0, 0))
        height = min(8, len(matches)) * 26 + 6
        self.popup.setGeometry(pos.x(), pos.y() - height - 4, max(320, self.edit.width() // 2), height)
        self.popup.show()
        self.edit.popup_open = True

    def _popup_key(self, key: int) -> None:
        if key == Qt.Key.Key_Escape:
            self._close_popup()
        elif key == Qt.Key.Key_Up:
            self.popup.setCurrentRow(max(0, self.popup.currentRow() - 1))
        elif key == Qt.Key.Key_Down:
            self.popup.setCurrentRow(min(self.popup.count() - 1, self.popup.currentRow() + 1))
        elif self.popup.currentItem() is not None:
            self._insert(self.popup.currentItem())

    def _insert(self, item: QtWidgets.QListWidgetItem) -> None:
        reply: QuickReply = item.data(Qt.ItemDataRole.UserRole)
        self._close_popup()
        self.edit.setPlainText(self.render_reply(reply))
        self.edit.moveCursor(QtGui.QTextCursor.MoveOperation.End)
        self.edit.setFocus()

    def _close_popup(self) -> None:
        self.popup.hide()
        self.edit.popup_open = False
