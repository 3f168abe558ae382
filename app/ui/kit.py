"""The small pieces every page and dialog builds from: a titled card, headings, notes, buttons and button rows.

Each was written again in most pages (a card frame with its margins and heading in five, a word-wrapped muted
label in five, a row of buttons pushed to one side by a stretch in a dozen), and the copies drifted: cards with
three different margins, headings in two styles for the same rank. Written once here, a page says what it shows
and the look stays one. The object names are the ones ``theme.py`` styles (``card``, ``pageTitle``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from app.qt import Qt, QtWidgets

NoteKind = Literal["muted", "hint", "error"]
CardKind = Literal["section", "panel"]

# (left, top, right, bottom) margins and the heading's style for each kind of card
_CARD_STYLE: dict[CardKind, tuple[tuple[int, int, int, int], str]] = {
    "section": ((18, 14, 18, 16), "emptyTitle"),  # a section of a long form (Settings): a larger heading
    "panel": ((16, 14, 16, 14), "cardTitle"),  # one of several boxes side by side on a page
}


def page_title(text: str) -> QtWidgets.QLabel:
    """The title of a page or a dialog."""
    label = QtWidgets.QLabel(text)
    label.setObjectName("pageTitle")
    return label


def subheading(text: str) -> QtWidgets.QLabel:
    """A bold heading over a part of a card (Members, Devices, Limits)."""
    label = QtWidgets.QLabel(text)
    label.setObjectName("cardTitle")
    return label


def note(text: str = "", kind: NoteKind = "muted") -> QtWidgets.QLabel:
    """A sentence under or beside a field: ``muted`` explains, ``hint`` advises, ``error`` says what went wrong.
    It wraps, so a long one grows downwards instead of widening the window."""
    label = QtWidgets.QLabel(text)
    label.setObjectName(kind)
    label.setWordWrap(True)
    return label


def primary_button(text: str) -> QtWidgets.QPushButton:
    """The one button that does what the page or dialog is for, in the accent colour."""
    button = QtWidgets.QPushButton(text)
    button.setObjectName("primary")
    return button


def secondary_button(text: str) -> QtWidgets.QPushButton:
    """A button beside a dialog's action that Enter never presses. Qt makes every dialog button "auto-default": the
    one holding focus takes Enter. When the action disables the field Enter was pressed in, focus moves on to the
    next button, and the same key press then clicked it (Enter in Unlock opened "Join a team")."""
    button = QtWidgets.QPushButton(text)
    button.setAutoDefault(False)
    return button


def password_field(placeholder: str) -> QtWidgets.QLineEdit:
    field = QtWidgets.QLineEdit(echoMode=QtWidgets.QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


def _row(left: tuple[QtWidgets.QWidget, ...], right: tuple[QtWidgets.QWidget, ...]) -> QtWidgets.QHBoxLayout:
    row = QtWidgets.QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def button_row(*buttons: QtWidgets.QWidget, align: Literal["left", "right"] = "right") -> QtWidgets.QHBoxLayout:
    """Buttons side by side at their natural size, kept to one side: a dialog's way out and action on the right,
    a card's commands on the left under what they act on."""
    return _row((), buttons) if align == "right" else _row(buttons, ())


def title_row(title: QtWidgets.QWidget, *trailing: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
    """A heading on the left and what belongs to it on the right (a Refresh button, a count)."""
    return _row((title,), trailing)


class Card(QtWidgets.QFrame):
    """A bordered box holding one topic, with its heading on top; fill ``body`` (a vertical layout).

    ``section`` cards are the parts of a long form (Settings), ``panel`` cards the boxes of a page (WhatsApp,
    Knowledge). ``add_to_top`` puts a widget at the right end of the heading's row; ``heading`` can be retitled.
    Without a title the card is a plain box (the quick switcher's popup).
    """

    def __init__(
        self, title: str | None = None, parent: QtWidgets.QWidget | None = None, *, kind: CardKind = "section"
    ) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        margins, heading_style = _CARD_STYLE[kind]
        self.body = QtWidgets.QVBoxLayout(self)
        self.body.setContentsMargins(*margins)
        self.body.setSpacing(8)
        self.heading = QtWidgets.QLabel(title or "")
        self.heading.setObjectName(heading_style)
        self.top = title_row(self.heading)
        if title is not None:
            self.body.addLayout(self.top)

    def add_to_top(self, widget: QtWidgets.QWidget) -> None:
        assert self.heading.text(), "a card without a title has no heading row"
        self.top.addWidget(widget)


def confirm(
    parent: QtWidgets.QWidget, title: str, text: str, action: str, then: Callable[[], None]
) -> QtWidgets.QMessageBox:
    """Ask ``text`` without blocking; ``then()`` runs if ``action`` is clicked. Returns the (open, window-modal)
    box. A question rather than a form, so a ``QMessageBox``, not a ``FormDialog``."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, title, text, parent=parent)
    yes = box.addButton(action, QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(yes)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: then() if button is yes else None)
    box.open()
    return box
