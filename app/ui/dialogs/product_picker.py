"""Sending a product card: the composer's paperclip → "Product…" opens a searchable picker of the catalogue (photo,
name, price); the chosen product goes to the open chat as a card (``queue_product_card``: its photo with name,
price and a short description as the caption, or that text alone without a photo) through the same send queue,
limits and humanizer as any message.

The keyboard works as in WhatsApp's pickers: typing filters (name, SKU and description, accents ignored), the arrows
move through what is left, Enter sends the selected product, Esc closes. Archived products are not offered.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from app.core.models import Message, Product
from app.core.money import money
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.ops import Done
from app.store.ops.media import queue_product_card
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.dialogs.tracker import DialogTracker
from app.ui.widgets.composer import Composer
from app.ui.widgets.product_photo import LIST_PX, read_pictures

IdRole = Qt.ItemDataRole.UserRole + 1
NAVIGATION = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


def folded(text: str) -> str:
    """``text`` for matching: case and accents ignored ("Café" is found by "cafe")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Catalogue:
    products: list[Product]
    pictures: dict[str, QtGui.QImage]


def read_catalogue(store: Store) -> Catalogue:
    """The products offered for a card (active ones, by name) and their photos, for a worker."""
    products = store.products.find_all({"active": True}, order_by="name")
    photos = [p.photo_blob_id for p in products if p.photo_blob_id]
    return Catalogue(products, read_pictures(store, photos, LIST_PX))


def subtitle(product: Product) -> str:
    parts = [money(product.price_minor, product.currency)]
    if product.sku:
        parts.append(product.sku)
    if product.stock is not None:
        parts.append(f"{product.stock} in stock" if product.stock else "out of stock")
    return " · ".join(parts)


class ProductPickerDialog(FormDialog):
    chosen = Signal(str)  # product id
    loaded = Signal()

    def __init__(self, ctx: AppContext, *, recipient: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        heading = f"Send a product to {recipient}" if recipient else "Send a product"
        super().__init__("Send a product", heading, "Send", parent, cancel="Cancel")
        self.ctx = ctx
        self.products: list[Product] = []
        self.setMinimumSize(460, 480)
        self.search = QtWidgets.QLineEdit(placeholderText="Search by name, SKU or description")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search products")
        self.list = QtWidgets.QListWidget()
        self.list.setIconSize(QtCore.QSize(LIST_PX, LIST_PX))
        self.list.setUniformItemSizes(True)
        self.list.setAccessibleName("Products")
        self.empty = QtWidgets.QLabel("Loading the catalogue…")
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        self.body.addWidget(self.search)
        self.body.addWidget(self.list, 1)
        self.body.addWidget(self.empty)
        self.first_field = self.search
        blank = QtGui.QPixmap(LIST_PX, LIST_PX)
        blank.fill(Qt.GlobalColor.transparent)
        self._blank = QtGui.QIcon(blank)
        self._icons: dict[str, QtGui.QIcon] = {}
        self.primary.setEnabled(False)
        self.primary.clicked.connect(self.choose)
        self.search.textChanged.connect(self._filter)
        self.search.installEventFilter(self)
        self.list.currentItemChanged.connect(lambda *_: self._update_action())
        self.list.itemDoubleClicked.connect(lambda _item: self.choose())
        ctx.tasks.start(
            "Reading the catalogue", lambda: read_catalogue(ctx.store), self._show, self.show_error, owner=self
        )

    def _show(self, catalogue: Catalogue) -> None:
        self.products = catalogue.products
        self._icons = {
            blob_id: QtGui.QIcon(QtGui.QPixmap.fromImage(image)) for blob_id, image in catalogue.pictures.items()
        }
        self._filter(self.search.text())
        self.loaded.emit()

    def _item(self, product: Product) -> QtWidgets.QListWidgetItem:
        item = QtWidgets.QListWidgetItem(f"{product.name}\n{subtitle(product)}")
        item.setData(IdRole, product.id)
        item.setIcon(self._icons.get(product.photo_blob_id or "", self._blank))
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{product.name}, {subtitle(product)}")
        tip = product.description.strip()
        tip += "" if product.photo_blob_id else ("\n\n" if tip else "") + "No photo: sent as a text card."
        item.setToolTip(tip)
        return item

    def visible_names(self) -> list[str]:
        return [self.list.item(r).text().split("\n")[0] for r in range(self.list.count())]

    def _filter(self, typed: str) -> None:
        """The products matching every typed word, best first: names that start with it, then names holding every
        word, then matches in the SKU or description; the best one is selected, so Enter sends it."""
        words = folded(typed).split()
        ranked: list[tuple[int, int, Product]] = []
        for n, product in enumerate(self.products):
            name = folded(product.name)
            if not all(word in f"{name} {folded(product.sku or '')} {folded(product.description)}" for word in words):
                continue
            in_name = all(word in name for word in words)
            starts = bool(words) and any(part.startswith(words[0]) for part in name.split())
            ranked.append((0 if in_name and starts else 1 if in_name else 2, n, product))
        self.list.clear()
        for _rank, _n, product in sorted(ranked, key=lambda r: (r[0], r[1])):
            self.list.addItem(self._item(product))
        if self.list.count():
            self.list.setCurrentRow(0)
        if not self.products:
            self.empty.setText("No products yet: add them under Products & Sales, with a photo for the card.")
        elif not ranked:
            self.empty.setText(f"No product matches “{typed.strip()}”.")
        self.empty.setVisible(not ranked)
        self._update_action()

    def _update_action(self) -> None:
        self.primary.setEnabled(self.list.currentRow() >= 0)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """The arrows typed in the search box move through the list, so the hands stay on the keyboard."""
        pressed = isinstance(event, QtGui.QKeyEvent) and event.type() == QtCore.QEvent.Type.KeyPress
        if watched is self.search and pressed and isinstance(event, QtGui.QKeyEvent) and event.key() in NAVIGATION:
            QtWidgets.QApplication.sendEvent(self.list, event)
            return True
        return super().eventFilter(watched, event)

    def choose(self) -> None:
        if self.list.currentRow() < 0:
            return
        self.chosen.emit(str(self.list.currentItem().data(IdRole)))
        self.accept()


class ProductCards(QtCore.QObject):
    """The composer's "Product…" for the inbox: opens the picker for the open chat and queues the card chosen.

    A refusal (the chat or product gone) is said under the composer, where attachment refusals are."""

    queued = Signal(str)  # the card's message id

    def __init__(
        self,
        ctx: AppContext,
        composer: Composer,
        open_chat: Callable[[], str | None],
        parent: QtWidgets.QWidget,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.composer = composer
        self.open_chat = open_chat
        self.window_parent = parent
        self.dialogs = DialogTracker[ProductPickerDialog]()
        composer.product_requested.connect(self.choose)

    def choose(self) -> ProductPickerDialog | None:
        chat_id = self.open_chat()
        if chat_id is None:
            return None
        if self.composer.note_toggle.isChecked():
            self.composer.attachments.refuse("A product card goes to the customer: turn off Internal note to send it.")
            return None
        dialog = ProductPickerDialog(self.ctx, recipient=self.composer.recipient(), parent=self.window_parent)
        dialog.chosen.connect(lambda product_id: self.send(chat_id, product_id))
        return self.dialogs.show(dialog)

    def send(self, chat_id: str, product_id: str) -> None:
        store = self.ctx.store

        def done(result: Done[Message]) -> None:
            self.queued.emit(result.value.id)

        self.ctx.tasks.start(
            "Queuing the product card",
            lambda: queue_product_card(store, chat_id, product_id),
            done,
            self.composer.attachments.refuse,
            owner=self.composer,
        )


# ---- from the catalogue: "Send to chat…" ---------------------------------------------------------------------------
class ChatPickerDialog(FormDialog):
    """The Products page's "Send to chat…": whom to send a product's card to. With nothing typed it offers the
    most recent chats; typing looks chats and customers up as the quick switcher does (``switch_targets``; only
    those with a chat can take a card). Enter sends to the selected chat, Esc closes."""

    chosen = Signal(str, str)  # chat id, its name
    loaded = Signal()

    def __init__(self, ctx: AppContext, product: Product, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Send to chat", f"Send “{product.name}” to…", "Send", parent, cancel="Cancel")
        self.ctx = ctx
        self.product = product
        self.setMinimumSize(420, 420)
        self.search = QtWidgets.QLineEdit(placeholderText="Search chats by name or number")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search chats")
        self.list = QtWidgets.QListWidget()
        self.list.setAccessibleName("Chats")
        self.empty = QtWidgets.QLabel()
        self.empty.setObjectName("muted")
        self.empty.hide()
        note = QtWidgets.QLabel(
            "The card goes through the send queue, like any message: "
            + ("the photo with its name and price." if product.photo_blob_id else "no photo, so as text.")
        )
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.body.addWidget(self.search)
        self.body.addWidget(self.list, 1)
        self.body.addWidget(self.empty)
        self.body.addWidget(note)
        self.first_field = self.search
        self._seq = self._shown_seq = 0
        self._choose_when_shown = False
        self._timer = QtCore.QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.look_up)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.search.installEventFilter(self)
        self.primary.setEnabled(False)
        self.primary.clicked.connect(self.choose)
        self.list.currentItemChanged.connect(lambda *_: self.primary.setEnabled(self.list.currentItem() is not None))
        self.list.itemDoubleClicked.connect(lambda _item: self.choose())
        self.look_up()

    def look_up(self) -> None:
        from app.store.switcher import switch_targets  # only when a card is sent from the catalogue

        self._seq += 1
        seq, store, text = self._seq, self.ctx.store, self.search.text()

        def show(targets: list[tuple[str, str, str]]) -> None:
            if seq == self._seq:
                self._shown_seq = seq
                self._show(targets, text)
                if self._choose_when_shown:
                    self._choose_when_shown = False
                    self.choose()

        def read() -> list[tuple[str, str, str]]:
            found = switch_targets(store, text)
            return [(t.chat_id, t.title, t.subtitle) for t in found if t.chat_id is not None]

        self.ctx.tasks.start("Looking up chats", read, show, self.show_error, owner=self, quiet=True)

    def _show(self, targets: list[tuple[str, str, str]], typed: str) -> None:
        self.list.clear()
        for chat_id, title, subtitle_text in dict.fromkeys(targets):
            item = QtWidgets.QListWidgetItem(f"{title}\n{subtitle_text}" if subtitle_text else title)
            item.setData(IdRole, (chat_id, title))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.empty.setText(f"No chat matches “{typed.strip()}”." if typed.strip() else "No chats yet.")
        self.empty.setVisible(not self.list.count())
        self.primary.setEnabled(bool(self.list.count()))
        self.loaded.emit()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        pressed = isinstance(event, QtGui.QKeyEvent) and event.type() == QtCore.QEvent.Type.KeyPress
        if watched is self.search and pressed and isinstance(event, QtGui.QKeyEvent) and event.key() in NAVIGATION:
            QtWidgets.QApplication.sendEvent(self.list, event)
            return True
        return super().eventFilter(watched, event)

    def choose(self) -> None:
        if self._timer.isActive() or self._seq != self._shown_seq:  # Enter right after typing: once looked up
            self._choose_when_shown = True
            self._timer.stop()
            self.look_up()
            return
        if self.list.currentRow() < 0:
            return
        chat_id, title = self.list.currentItem().data(IdRole)
        self.chosen.emit(str(chat_id), str(title))
        self.accept()
