"""The composer's emoji picker: a popup grid of common emoji, searchable by name, the ones used lately first.

Names come from Python's ``unicodedata`` (no emoji package to ship); the list is curated to what a seller types in a
day — a few hundred single-character emoji, which every platform's font draws. What was used lately is kept per
device (``settings.internal.recent_emoji``) when the composer is given the settings, else for the session.

Keys: type to search, arrows move in the grid, Enter inserts at the composer's cursor, Esc closes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal

RECENT_KEPT = 24
COLUMNS = 9
CELL = 36

_CURATED = (
    "😀😁😂😃😄😅😆😇😈😉😊😋😌😍😎😏😐😑😒😓😔😕😖😗😘😙😚😛😜😝😞😟😠😡😢😣😤😥😦😧😨😩😪😫"  # faces
    "😬😭😮😯😰😱😲😳😴😵😶😷😸😹😺😻😼😽😾😿🙀🙁🙂🙃🙄🤐🤑🤒🤓🤔🤕🤗🤠🤡🤢🤣🤤🤥🤧🤨🤩🤪🤫🤬"
    "🤭🤮🤯🥰🥱🥲🥳🥴🥵🥶🥸🥺🧐👻💀💩🤖👽🙈🙉🙊"
    "👍👎👌🤌🤏✌🤞🤟🤘🤙👈👉👆👇☝👋🤚✋🖖👏🙌👐🤲🤝🙏✍💪👊✊🤛🤜💅🤳"  # hands
    "👶👦👧👨👩👴👵👮👷💁🙅🙆🙋🙇🤷🤦💃🕺👪👫💑💏👤👥"  # people
    "❤🧡💛💚💙💜🤎🖤🤍💔❣💕💞💓💗💖💘💝💋💌💯💢💥💫💦💨💬💭💤"  # hearts
    "🎉🎊🎈🎁🎀🎂🎄🎃🎆🎇✨🌟⭐🔥🏆🥇🥈🥉🏅🎖"  # celebration
    "📦🚚🚛💰💵💶💷💴💸💳🧾💲🛒🛍🏷📅📆🗓⏰⌛⏳🕒📞☎📱📲📧📩📨📬📍📌📎🖇📝✏📋📈📉📊📁📂📄📃"  # business
    "📑📖📚💼🏠🏢🏪🏬🏭🔑🔒🔓🔔🔕📢📣💡🔍🔗🛠🔧🔨⚙🖨💻🖥⌨🖱💾💿📷📸🎥📹📺📻🎵🎶🎤🎧🔊🔇📡🔋"
    "🔌"
    "☕🍵🧃🥤🍺🍻🍷🥂🍸🍹🍕🍔🍟🌭🌮🥪🥗🍝🍜🍣🍱🍛🍚🥖🥐🥞🍳🍰🧁🍫🍪🍩🍦🍭🍎🍏🍊🍋🍌🍉🍇🍓🍒🍑"  # food
    "🍍🥭🥑🍅🥕🌽🌶🥦"
    "☀🌤⛅☁🌧⛈🌩❄☃🌈🌙🌍🌎🌏🌊💧⚡🌻🌹🌷🌸🌺🌼💐🍀🌱🌲🌴🌵🍁🍂🐶🐱🐭🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸"  # nature
    "🐵🐔🐧🐦🦋🐝🐞🐢🐍🐠🐬🐳🦄"
    "✈🚗🚕🚌🚑🚒🚓🏍🛵🚲🚀⛽🚢⚓🚦🏖🏝🏔⛰🏥🏦🏨🏫⛪🗽🗼⚽🏀🏈⚾🎾🏐🎮🎲🎯🎨🎬"  # travel
    "✅✔☑❌❎❗❓❕❔‼⁉⚠🚫⛔🚨➕➖➗✖➡⬅⬆⬇↗↘🔄🔁🔃♻🆗🆕🆓🆙🆒🆘ℹ🔝🔜🟢🔴🟡🟠🔵🟣"  # symbols
    "⚪⚫🔶🔷🔸🔹🔺🔻💱©®™🏁🚩"
)


def _presented(char: str) -> str:
    """Characters older than the emoji blocks (❤, ☀, ✈) default to text style; VS16 asks for the emoji look."""
    return char if ord(char) >= 0x1F000 else char + "\ufe0f"


EMOJI: tuple[str, ...] = tuple(dict.fromkeys(_presented(c) for c in "".join(_CURATED)))


# Words people search by that the Unicode name lacks ("heavy black heart" is the red heart).
ALSO_CALLED = {
    "❤": "red heart love",
    "👍": "like ok yes",
    "👎": "dislike no",
    "😂": "laugh lol",
    "🤣": "laugh lol",
    "🙏": "please thanks pray",
    "👌": "perfect ok",
    "✅": "done yes check",
    "🔥": "hot",
    "💯": "perfect",
    "📦": "box parcel delivery",
    "🚚": "delivery shipping",
    "💰": "money price",
    "💵": "money price cash",
    "🧾": "invoice bill",
    "🎁": "present",
}


def emoji_name(emoji: str) -> str:
    """'grinning face' for 😀: the Unicode name of its first character in lower case, with the words people also
    search it by."""
    name = unicodedata.name(emoji[0], "").lower()
    extra = ALSO_CALLED.get(emoji[0])
    return f"{name} ({extra})" if extra else name


def search(query: str, recent: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Emoji whose name has every word of ``query`` (all of them for an empty query), the recent ones first."""
    words = query.lower().split()
    recent = [e for e in recent if e]
    ordered = list(dict.fromkeys([*recent, *EMOJI]))
    if not words:
        return ordered
    return [e for e in ordered if all(w in emoji_name(e) for w in words)]


def remember(recent: list[str], emoji: str) -> list[str]:
    """``recent`` with ``emoji`` moved to the front, at most ``RECENT_KEPT`` long."""
    return [emoji, *(e for e in recent if e != emoji)][:RECENT_KEPT]


class _Search(QtWidgets.QLineEdit):
    """Arrows and Enter go to the grid while the text keeps the focus, so typing never stops searching."""

    key = Signal(int)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_Left,
            Qt.Key.Key_Right,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_Escape,
        ) and not (event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.text()):
            self.key.emit(event.key())
            return
        super().keyPressEvent(event)


class EmojiPicker(QtWidgets.QFrame):
    """A popup: search field over a grid. ``picked`` carries the emoji chosen; the popup closes itself."""

    picked = Signal(str)

    def __init__(
        self,
        load_recent: Callable[[], list[str]] | None = None,
        save_recent: Callable[[list[str]], None] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("emojiPicker")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self._session_recent: list[str] = []
        self._load_recent = load_recent or (lambda: self._session_recent)
        self._save_recent = save_recent or self._keep_in_session
        self.search = _Search()
        self.search.setPlaceholderText("Search emoji")
        self.search.setAccessibleName("Search emoji")
        self.grid = QtWidgets.QListWidget()
        self.grid.setAccessibleName("Emoji")
        self.grid.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.grid.setMovement(QtWidgets.QListView.Movement.Static)
        self.grid.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.grid.setGridSize(QtCore.QSize(CELL, CELL))
        self.grid.setUniformItemSizes(True)
        self.grid.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = self.grid.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.grid.setFont(font)
        self.empty = QtWidgets.QLabel("No emoji has that name")
        self.empty.setObjectName("muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.empty)
        scroll = self.grid.verticalScrollBar().sizeHint().width()
        self.resize(COLUMNS * CELL + scroll + 24, 300)
        self.search.textChanged.connect(self._fill)
        self.search.key.connect(self._key)
        self.grid.itemClicked.connect(lambda item: self._pick(item.text()))

    def _keep_in_session(self, recent: list[str]) -> None:
        self._session_recent = recent

    def recent(self) -> list[str]:
        return [e for e in self._load_recent() if isinstance(e, str)]

    def shown(self) -> list[str]:
        return [self.grid.item(i).text() for i in range(self.grid.count())]

    def open_at(self, anchor: QtWidgets.QWidget) -> None:
        """Show above ``anchor`` (the composer's emoji button), on screen, with an empty search."""
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._fill("")
        top_left = anchor.mapToGlobal(QtCore.QPoint(0, 0))
        x, y = top_left.x(), top_left.y() - self.height() - 4
        screen = anchor.screen().availableGeometry() if anchor.screen() else None
        if screen is not None:
            x = max(screen.left(), min(x, screen.right() - self.width()))
            if y < screen.top():
                y = top_left.y() + anchor.height() + 4
        self.move(x, y)
        self.show()
        self.search.setFocus()

    def _fill(self, query: str) -> None:
        self.grid.clear()
        for emoji in search(query, self.recent()):
            item = QtWidgets.QListWidgetItem(emoji)
            item.setToolTip(emoji_name(emoji))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setSizeHint(QtCore.QSize(CELL, CELL))
            self.grid.addItem(item)
        self.empty.setVisible(self.grid.count() == 0)
        if self.grid.count():
            self.grid.setCurrentRow(0)

    def _key(self, key: int) -> None:
        if key == Qt.Key.Key_Escape:
            self.close()
            return
        count, row = self.grid.count(), self.grid.currentRow()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if row >= 0:
                self._pick(self.grid.item(row).text())
            return
        if not count:
            return
        columns = max(1, self.grid.viewport().width() // CELL)
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -columns, Qt.Key.Key_Down: columns}[
            Qt.Key(key)
        ]
        self.grid.setCurrentRow(max(0, min(count - 1, row + step)))

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def _pick(self, emoji: str) -> None:
        self._save_recent(remember(self.recent(), emoji))
        self.close()
        self.picked.emit(emoji)
