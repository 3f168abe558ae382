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
        grid = QtWidgets.QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        row = 0
        for where in dict.fromkeys(s.where for s in SHORTCUTS):
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
                grid.addWidget(note(shortcut.description), row, 1)
                self.rows.append((shortcut.shown(), shortcut.description))
                row += 1
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.first_field = self.primary
        self.setMinimumWidth(520)
