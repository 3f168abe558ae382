"""The Settings page's left column and its search index: a search field over the list of sections, and what each
setting or card is found by.

The page shows one section at a time (macOS System Settings, VS Code's settings editor); typing in the search field
shows, across sections, every setting whose label, help or section holds every word typed, under its section's name,
and hides the sections with none from the list. The index knows nothing of Qt layouts beyond the widget it shows or
hides for an entry, so the page decides what a section holds and this module only what matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import kit, shortcuts

ITEM_HEIGHT = 36


@dataclass(eq=False)
class Entry:
    """One thing search can find: a setting's row, or a card found by what it holds.

    ``widget`` is what the page shows or hides for it (a row, or a holder around a card, never a card that hides
    itself, such as Team AI when signed out); ``card`` is the card a row sits in, shown while any of its rows is;
    ``inner`` is a card that decides its own visibility: while it hides itself, search does not count it."""

    section: str
    widget: QtWidgets.QWidget
    words: str
    card: QtWidgets.QWidget | None = None
    inner: QtWidgets.QWidget | None = None

    def matches(self, terms: list[str]) -> bool:
        return all(term in self.words for term in terms) and not (self.inner is not None and self.inner.isHidden())


def words(*texts: str) -> str:
    """What an entry is found by, lower-cased: its label, help and section, and any other names for it."""
    return " ".join(texts).lower()


def terms(query: str) -> list[str]:
    return query.lower().split()


def summary(found: Iterable[Entry]) -> str:
    """ "3 settings in 2 sections match" (or "1 setting in 1 section matches") for what a search found."""
    found = list(found)
    sections = len({entry.section for entry in found})
    if len(found) == 1:
        return "1 setting in 1 section matches"
    where = "section" if sections == 1 else "sections"
    return f"{len(found)} settings in {sections} {where} match"


class SearchField(QtWidgets.QLineEdit):
    """The search field: Esc clears it (a declared shortcut), Down moves on to the list of sections."""

    down = Signal()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.down.emit()
            return
        super().keyPressEvent(event)


class SettingsNav(QtWidgets.QFrame):
    """ "Settings", the search field, and the sections; ``section_chosen`` names the section picked (by click or keys),
    ``query_changed`` the search text as typed."""

    section_chosen = Signal(str)
    query_changed = Signal(str)

    def __init__(self, sections: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsNav")
        self.setFixedWidth(220)
        # The app's stylesheet styles the list as the main sidebar ("nav"); the column draws its own edge instead of
        # the list's, so the line runs past the search field too. Palette roles follow the theme when it changes.
        self.setStyleSheet(
            "QFrame#settingsNav { background: palette(base); border: none; border-right: 1px solid palette(mid); }"
            "QFrame#settingsNav QListWidget#nav { border: none; padding-top: 2px; }"
        )
        self.search = SearchField()
        self.search.setPlaceholderText("Search settings")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search settings")
        self.search.textChanged.connect(self.query_changed)
        self.search.down.connect(self._to_list)
        shortcuts.bind(self.search, "settings_clear_search", self.search.clear, Qt.ShortcutContext.WidgetShortcut)
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("nav")
        self.list.setAccessibleName("Settings sections")
        for section in sections:
            item = QtWidgets.QListWidgetItem(section)
            item.setSizeHint(QtCore.QSize(0, ITEM_HEIGHT))  # stylesheet padding does not grow an item's size hint
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemClicked.connect(lambda item: self.section_chosen.emit(item.text()))  # again, while searching
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 18, 1, 0)
        layout.setSpacing(10)
        title = kit.page_title("Settings")
        title.setContentsMargins(16, 0, 0, 0)
        layout.addWidget(title)
        search_row = QtWidgets.QHBoxLayout()
        search_row.setContentsMargins(12, 0, 12, 0)
        search_row.addWidget(self.search)
        layout.addLayout(search_row)
        layout.addWidget(self.list, 1)

    def sections(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def select(self, section: str) -> None:
        """Make ``section`` the current row (emits ``section_chosen`` when it changes)."""
        rows = self.sections()
        if section in rows:
            self.list.setCurrentRow(rows.index(section))

    def show_only(self, sections: set[str] | None) -> None:
        """List only ``sections`` (those a search found something in), or every section (``None``)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(sections is not None and item.text() not in sections)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.section_chosen.emit(self.list.item(row).text())

    def _to_list(self) -> None:
        self.list.setFocus(Qt.FocusReason.TabFocusReason)
        current = self.list.currentItem()
        if current is None or current.isHidden():
            first = next((r for r in range(self.list.count()) if not self.list.item(r).isHidden()), -1)
            self.list.setCurrentRow(first)
