"""Every keyboard shortcut of the app, declared once: the windows register them from here (``bind``) and the
"Keyboard shortcuts" sheet (Ctrl+/) lists them from here, so the sheet cannot drift from what the keys do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.qt import Qt, QtGui, QtWidgets
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note, subheading


@dataclass(frozen=True)
class Shortcut:
    name: str
    keys: tuple[str, ...]  # QKeySequence strings; each one is bound
    description: str
    where: str
    label: str = ""  # how the sheet writes the keys, when not simply joined ("Ctrl+1 … Ctrl+9")

    def shown(self) -> str:
        return self.label or " or ".join(self.keys)


EVERYWHERE = "Everywhere"
INBOX = "Inbox"
SETTINGS_PAGE = "Settings"
POPUPS = "Search box and pop-ups"

SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("switcher", ("Ctrl+K",), "Jump to a chat, contact or deal (the composer gets the cursor)", EVERYWHERE),
    Shortcut(
        "section", tuple(f"Ctrl+{i}" for i in range(1, 10)), "Open a section of the sidebar", EVERYWHERE, "Ctrl+1 … 9"
    ),
    Shortcut("settings", ("Ctrl+,",), "Open Settings", EVERYWHERE),
    Shortcut("help", ("Ctrl+/",), "Show these keyboard shortcuts", EVERYWHERE),
    Shortcut("quit", ("Ctrl+Q",), "Quit Parley", EVERYWHERE),
    Shortcut("next_chat", ("Alt+Down", "Ctrl+Tab"), "Open the next chat in the list", INBOX),
    Shortcut("previous_chat", ("Alt+Up", "Ctrl+Shift+Tab"), "Open the previous chat in the list", INBOX),
    Shortcut("next_unread", ("Ctrl+Shift+U",), "Open the next chat with unread messages", INBOX),
    Shortcut("search", ("Ctrl+F",), "Search messages, contacts and notes", INBOX),
    Shortcut("resolve", ("Ctrl+Shift+R",), "Resolve the open conversation (or reopen it)", INBOX),
    Shortcut("archive", ("Ctrl+Alt+E",), "Archive the open chat (or unarchive it)", INBOX),
    Shortcut("pin", ("Ctrl+Alt+Shift+P",), "Pin the open chat to the top (or unpin it)", INBOX),
    Shortcut("mark_unread", ("Ctrl+Alt+Shift+U",), "Mark the open chat as unread", INBOX),
    Shortcut("settings_search", ("Ctrl+F",), "Search the settings", SETTINGS_PAGE),
    Shortcut("settings_clear_search", ("Esc",), "Clear the settings search", SETTINGS_PAGE),
    Shortcut("clear_search", ("Esc",), "Clear the search and show the chat list again", POPUPS),
    Shortcut("close_popup", ("Esc",), "Close the quick switcher or a dialog", POPUPS),
)

BY_NAME = {shortcut.name: shortcut for shortcut in SHORTCUTS}


def keys(name: str) -> tuple[str, ...]:
    return BY_NAME[name].keys


def bind(
    parent: QtWidgets.QWidget,
    name: str,
    slot: Callable[[], object],
    context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
) -> list[QtGui.QShortcut]:
    """A ``QShortcut`` on ``parent`` for each key of the declared shortcut ``name``, all running ``slot``."""
    made = []
    for key in keys(name):
        shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), parent)
        shortcut.setObjectName(f"shortcut-{name}")
        shortcut.setContext(context)
        shortcut.activated.connect(slot)
        made.append(shortcut)
    return made


class ShortcutsSheet(FormDialog):
    """The "Keyboard shortcuts" sheet: every declared shortcut, grouped by where it works."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Keyboard shortcuts", "Keyboard shortcuts", "Close", parent)
        self.cancel_button.hide()  # nothing to cancel: Close, Enter and Esc all just close
        self.primary.clicked.connect(self.accept)
        self.rows: list[tuple[str, str]] = []
        # The groups in two columns, balanced by their number of shortcuts (one long column outgrew the screen).
        groups = list(dict.fromkeys(s.where for s in SHORTCUTS))
        sizes = {where: sum(1 for s in SHORTCUTS if s.where == where) + 1 for where in groups}
        half = sum(sizes.values()) / 2
        columns = QtWidgets.QHBoxLayout()
        columns.setSpacing(32)
        taken = 0
        grid = self._column(columns)
        row = 0
        for where in groups:
            if row and taken + sizes[where] / 2 > half and columns.count() == 1:
                grid, row = self._column(columns), 0
            taken += sizes[where]
            heading = subheading(where)
            heading.setContentsMargins(0, 10 if row else 0, 0, 0)  # a group stands apart from the one above
            grid.addWidget(heading, row, 0, 1, 2)
            row += 1
            for shortcut in (s for s in SHORTCUTS if s.where == where):
                keys_label = QtWidgets.QLabel(shortcut.shown())
                keys_label.setObjectName("shortcutKeys")
                font = keys_label.font()
                font.setBold(True)
                keys_label.setFont(font)
                grid.addWidget(keys_label, row, 0, Qt.AlignmentFlag.AlignTop)
                description = note(shortcut.description)
                description.setWordWrap(False)  # wrapped labels in a grid were given less height than they need
                grid.addWidget(description, row, 1)
                self.rows.append((shortcut.shown(), shortcut.description))
                row += 1
        self.body.addLayout(columns)
        self.first_field = self.primary
        self.setMinimumWidth(520)

    @staticmethod
    def _column(columns: QtWidgets.QHBoxLayout) -> QtWidgets.QGridLayout:
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        holder = QtWidgets.QVBoxLayout()
        holder.addLayout(grid)
        holder.addStretch(1)
        columns.addLayout(holder, 1)
        return grid
