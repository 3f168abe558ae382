"""Products & Sales on a real workspace: the product editor (with its photo), the catalogue's thumbnails, recording
sales (stock, lifetime value), the history."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.models import Product
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.ops.media import set_product_photo
from app.store.queries import read_summary
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.dialogs.product_editor import ProductEditorDialog
from app.ui.dialogs.product_picker import ChatPickerDialog
from app.ui.dialogs.sale_dialog import SaleDialog
from app.ui.pages.products import ProductsPage
from tests.support.gui import wait_idle
from tests.support.inbox import seed_chat


def _page(qtbot: QtBot, ctx: AppContext) -> ProductsPage:
    page = ProductsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    wait_idle(qtbot, ctx)
    return page


def _column(table: QtWidgets.QTableWidget, column: int) -> list[str]:
    items = [table.item(r, column) for r in range(table.rowCount())]
    return [item.text() if item is not None else "" for item in items]


def _sale_dialog(qtbot: QtBot, ctx: AppContext, page: ProductsPage) -> SaleDialog:
    page.tabs.setCurrentIndex(1)
    page.record.click()
    dialog = page.dialog
    assert isinstance(dialog, SaleDialog)
    wait_idle(qtbot, ctx)  # products and contacts load on a worker
    return dialog


def test_new_product_through_the_editor(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    assert page.product_table.rowCount() == 0
    page.new_product.click()
    dialog = page.dialog
    assert isinstance(dialog, ProductEditorDialog)

    dialog.save_button.click()
    assert dialog.error.text() == "Give the product a name."
    dialog.name.setText("Linen shirt")
    dialog.price.setText("-3")
    dialog.save_button.click()
    assert "negative" in dialog.error.text()
    dialog.price.setText("$39.90")
    dialog.stock.setText("a dozen")
    dialog.save_button.click()
    assert "whole number" in dialog.error.text()
    assert store.products.count() == 0, "nothing saved while invalid"
    dialog.stock.setText("12")
    dialog.sku.setText("LS-01")
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    wait_idle(qtbot, ctx)

    [product] = store.products.find_all()
    assert (product.name, product.sku, product.price_minor, product.currency, product.stock, product.active) == (
        "Linen shirt",
        "LS-01",
        3990,
        "USD",
        12,
        True,
    )
    page.open_product_editor()
    other = page.dialog
    assert isinstance(other, ProductEditorDialog)
    other.name.setText("Alterations")
    other.price.setText("15")
    other.save_button.click()
    wait_idle(qtbot, ctx)
    assert store.products.get(store.products.find_all({"name": "Alterations"})[0].id).stock is None
    assert _column(page.product_table, 0) == ["Alterations", "Linen shirt"]
    assert _column(page.product_table, 2) == ["$15.00", "$39.90"]
    assert _column(page.product_table, 3) == ["not tracked", "12"]


def test_edit_and_archive(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    shirt = store.products.create(name="Linen shirt", price_minor=3900, stock=10)
    page = _page(qtbot, ctx)
    assert not page.archive.isEnabled()
    page.select_product(shirt.id)
    page.edit_product.click()
    dialog = page.dialog
    assert isinstance(dialog, ProductEditorDialog)
    assert (dialog.name.text(), dialog.price.text(), dialog.stock.text()) == ("Linen shirt", "39.00", "10")
    dialog.price.setText("42")
    dialog.stock.clear()
    dialog.save_button.click()
    wait_idle(qtbot, ctx)
    updated = store.products.get(shirt.id)
    assert (updated.price_minor, updated.stock) == (4200, None)

    page.select_product(shirt.id)
    assert page.archive.text() == "Archive"
    page.archive.click()
    wait_idle(qtbot, ctx)
    assert store.products.get(shirt.id).active is False
    assert _column(page.product_table, 4) == ["Archived"]
    assert page.archive.text() == "Restore", "the selection survives the reload"
    page.archive.click()
    wait_idle(qtbot, ctx)
    assert store.products.get(shirt.id).active is True


def _stocked(store: Store) -> tuple[Product, str]:
    shirt = store.products.create(name="Linen shirt", price_minor=3900, stock=10)
    store.products.create(name="Old hat", price_minor=100, active=False)
    lena = store.contacts.create(name="Lena Weber", phone="+4917612345678")
    return shirt, lena.id


def test_record_a_sale_through_the_dialog(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    shirt, lena_id = _stocked(store)
    page = _page(qtbot, ctx)
    dialog = _sale_dialog(qtbot, ctx, page)
    [line] = dialog.lines
    assert [line.product.itemText(i) for i in range(line.product.count())] == ["Linen shirt — $39.00 · 10 in stock"], (
        "archived products are not offered"
    )
    line.quantity.setValue(3)
    dialog.add_free.click()
    free = dialog.lines[1]
    free.description.setText("Gift wrap")
    free.price.setText("2.50")
    assert dialog.total.text() == "Total: $119.50"
    extra = dialog.add_free_line("Oops", "1")
    assert dialog.total.text() == "Total: $120.50"
    extra.removed.emit(extra)
    assert dialog.total.text() == "Total: $119.50"
    dialog.contact.select_text("Lena")
    dialog.note.setText("paid cash")
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    wait_idle(qtbot, ctx)

    [sale] = store.sales.find_all()
    assert (sale.amount_minor, sale.currency, sale.contact_id, sale.note) == (11950, "USD", lena_id, "paid cash")
    items = store.sale_items.find_all({"sale_id": sale.id}, order_by="quantity")
    assert [(i.product_id, i.description, i.quantity, i.unit_price_minor) for i in items] == [
        (None, "Gift wrap", 1, 250),
        (shirt.id, "", 3, 3900),
    ]
    assert store.products.get(shirt.id).stock == 7
    assert store.contacts.get(lena_id).lifetime_value_minor == 11950
    assert _column(page.sales_table, 1) == ["Lena Weber"]
    assert _column(page.sales_table, 2) == ["3 × Linen shirt, Gift wrap"]
    assert _column(page.sales_table, 3) == ["$119.50"]
    assert _column(page.product_table, 3)[0] == "7", "the catalogue shows the new stock"
    assert page.summary.text().startswith("Today: $119.50")


def test_out_of_stock_shows_an_error_and_saves_nothing(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    shirt, lena_id = _stocked(store)
    store.products.update(shirt.id, stock=2)
    page = _page(qtbot, ctx)
    dialog = _sale_dialog(qtbot, ctx, page)
    dialog.lines[0].quantity.setValue(3)
    dialog.contact.select_text("Lena")
    dialog.save_button.click()
    wait_idle(qtbot, ctx)

    assert "Only 2 of 'Linen shirt' left in stock." in dialog.error.text()
    assert dialog.isVisible()
    assert page.dialog is dialog
    assert dialog.save_button.isEnabled(), "the user can lower the quantity and try again"
    assert store.sales.count() == 0
    assert store.sale_items.count() == 0
    assert store.products.get(shirt.id).stock == 2
    assert store.contacts.get(lena_id).lifetime_value_minor == 0

    dialog.lines[0].quantity.setValue(2)
    dialog.save_button.click()
    wait_idle(qtbot, ctx)
    assert store.sales.count() == 1
    assert store.products.get(shirt.id).stock == 0


def test_the_dialog_refuses_incomplete_lines(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    store.products.create(name="Tour", price_minor=5000, currency="EUR")
    store.products.create(name="Shirt", price_minor=3900, currency="USD")
    page = _page(qtbot, ctx)
    dialog = _sale_dialog(qtbot, ctx, page)
    dialog.add_free_line("", "5")
    dialog.save_button.click()
    assert dialog.error.text() == "Describe every line that is not a product."
    dialog.lines[1].removed.emit(dialog.lines[1])
    dialog.add_product_line(dialog.products[1].id)
    assert dialog.total.text() == "Total: —"
    dialog.save_button.click()
    assert "one currency" in dialog.error.text()
    dialog.contact.setEditText("Nobody")
    dialog.lines[1].removed.emit(dialog.lines[1])
    dialog.save_button.click()
    assert "No contact called" in dialog.error.text()
    wait_idle(qtbot, ctx)
    assert store.sales.count() == 0


def test_sales_history_loads_a_page_at_a_time(
    qtbot: QtBot, ctx: AppContext, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ProductsPage, "page_size", 3)
    start = datetime(2026, 3, 1, 10, 0).astimezone()
    for n in range(7):
        store.sales.create(amount_minor=100 * (n + 1), sold_at=start + timedelta(days=n))
    page = _page(qtbot, ctx)
    page.tabs.setCurrentIndex(1)
    assert _column(page.sales_table, 3) == ["$7.00", "$6.00", "$5.00"], "newest first"
    assert page.load_more.isVisible()
    page.load_more.click()
    wait_idle(qtbot, ctx)
    assert len(page.sales) == 6
    page.load_more.click()
    wait_idle(qtbot, ctx)
    assert _column(page.sales_table, 3)[-1] == "$1.00"
    assert len(page.sales) == 7
    assert not page.load_more.isVisible()


def test_summary_sums_today_and_this_month_per_currency(store: Store) -> None:
    now = datetime(2026, 5, 20, 12, 0).astimezone()
    for amount, currency, when in [
        (1000, "USD", now - timedelta(hours=1)),
        (500, "EUR", now - timedelta(hours=2)),
        (200, "USD", datetime(2026, 5, 3, 9, 0).astimezone()),
        (9999, "USD", datetime(2026, 4, 30, 23, 0).astimezone()),
    ]:
        store.sales.create(amount_minor=amount, currency=currency, sold_at=when)
    summary = read_summary(store, now)
    assert summary.today == {"USD": 1000, "EUR": 500}
    assert summary.month == {"USD": 1200, "EUR": 500}


def test_scrolling_to_the_end_of_the_history_loads_more(
    qtbot: QtBot, ctx: AppContext, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ProductsPage, "page_size", 20)
    start = datetime(2026, 1, 1, 10, 0).astimezone()
    store.sales.add_many(store.sales.new(amount_minor=100, sold_at=start + timedelta(hours=n)) for n in range(45))
    page = _page(qtbot, ctx)
    page.tabs.setCurrentIndex(1)
    bar = page.sales_table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    assert len(page.sales) == 20
    bar.setValue(bar.maximum())
    wait_idle(qtbot, ctx)
    assert len(page.sales) == 40
    assert len({s.id for s in page.sales}) == 40


# ---- product photos -------------------------------------------------------------------------------------------------
TEAL = QtGui.QColor("#2a9d8f")
CORAL = QtGui.QColor("#e76f51")


def picture(color: QtGui.QColor, fmt: str = "JPEG", size: tuple[int, int] = (300, 200)) -> bytes:
    image = QtGui.QImage(*size, QtGui.QImage.Format.Format_RGB32)
    image.fill(color)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, fmt)  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


def near(painted: QtGui.QColor, expected: QtGui.QColor) -> bool:
    return all(abs(a - b) < 14 for a, b in zip(painted.getRgb()[:3], expected.getRgb()[:3], strict=True))


def shown_colour(dialog: ProductEditorDialog) -> QtGui.QColor:
    pixmap = dialog.photo.preview.pixmap()
    assert not pixmap.isNull()
    image = pixmap.toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2)


def _editor(qtbot: QtBot, ctx: AppContext, page: ProductsPage, product: Product | None = None) -> ProductEditorDialog:
    dialog = page.open_product_editor(product)
    wait_idle(qtbot, ctx)  # the saved photo is read on a worker
    return dialog


def test_a_product_gets_a_photo_and_bad_files_lose_nothing(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path
) -> None:
    page = _page(qtbot, ctx)
    dialog = _editor(qtbot, ctx, page)
    assert dialog.photo.preview.text() == "No photo"
    assert not dialog.photo.remove.isEnabled()
    dialog.name.setText("Linen shirt")
    dialog.price.setText("39.90")
    photo = tmp_path / "shirt.jpg"
    photo.write_bytes(picture(TEAL))
    assert dialog.photo.set_path(str(photo))
    assert near(shown_colour(dialog), TEAL)
    assert (dialog.photo.choose.text(), dialog.photo.remove.isEnabled()) == ("Replace photo…", True)

    # Refused files say why, and the photo and the typed details stay.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    assert not dialog.photo.set_path(str(notes))
    assert dialog.error.text() == "notes.txt is not a photo: choose a JPEG, PNG or WebP picture."
    big = tmp_path / "huge.jpg"
    with big.open("wb") as sparse:
        sparse.truncate(16 * 1024 * 1024 + 1)  # over WhatsApp's 16 MB for a photo: refused before it is read
    assert not dialog.photo.set_path(str(big))
    assert dialog.error.text() == "huge.jpg is 16.0 MB; a photo sent on WhatsApp can be at most 16 MB."
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n but no picture after it")
    assert not dialog.photo.set_path(str(fake))
    assert "fake.png" in dialog.error.text()
    assert near(shown_colour(dialog), TEAL)
    assert (dialog.name.text(), dialog.price.text()) == ("Linen shirt", "39.90")
    assert store.products.count() == 0

    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    wait_idle(qtbot, ctx)
    [product] = store.products.find_all()
    assert product.photo_blob_id is not None
    assert store.media.get(product.photo_blob_id) == photo.read_bytes()


def test_a_products_photo_is_replaced_by_a_drop_or_a_paste_and_removed(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    shirt = store.products.create(name="Linen shirt", price_minor=3900)
    first = set_product_photo(store, shirt.id, picture(TEAL), "image/jpeg").value
    page = _page(qtbot, ctx)
    dialog = _editor(qtbot, ctx, page, first)
    assert near(shown_colour(dialog), TEAL), "the saved photo is shown"
    assert dialog.photo.remove.isEnabled()

    # A dropped image replaces it (encoded in memory, as a PNG).
    dropped = QtCore.QMimeData()
    coral = QtGui.QImage(120, 80, QtGui.QImage.Format.Format_RGB32)
    coral.fill(CORAL)
    dropped.setImageData(coral)
    point = QtCore.QPointF(dialog.photo.rect().center())
    enter = QtGui.QDragEnterEvent(
        point.toPoint(), Qt.DropAction.CopyAction, dropped, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QtWidgets.QApplication.sendEvent(dialog.photo, enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(
        point, Qt.DropAction.CopyAction, dropped, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QtWidgets.QApplication.sendEvent(dialog.photo, drop)
    assert near(shown_colour(dialog), CORAL)
    dialog.save_button.click()
    wait_idle(qtbot, ctx)
    replaced = store.products.get(shirt.id)
    assert replaced.photo_blob_id not in (None, first.photo_blob_id)
    stored = QtGui.QImage.fromData(store.media.get(replaced.photo_blob_id or ""))
    assert (stored.size(), near(stored.pixelColor(60, 40), CORAL)) == (QtCore.QSize(120, 80), True)
    assert store.media.mime(replaced.photo_blob_id or "") == "image/png"

    # Ctrl+V on the photo pastes the clipboard's picture; then the photo is removed altogether.
    dialog = _editor(qtbot, ctx, page, replaced)
    QtWidgets.QApplication.clipboard().setImage(QtGui.QImage.fromData(picture(TEAL, "PNG", (64, 64))))
    dialog.photo.setFocus()
    qtbot.keyClick(dialog.photo, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert near(shown_colour(dialog), TEAL)
    assert dialog.photo.new_photo is not None
    qtbot.mouseClick(dialog.photo.remove, Qt.MouseButton.LeftButton)
    assert dialog.photo.preview.text() == "No photo"
    assert not dialog.photo.remove.isEnabled()
    dialog.save_button.click()
    wait_idle(qtbot, ctx)
    assert store.products.get(shirt.id).photo_blob_id is None
    assert not store.media.exists(replaced.photo_blob_id or "")


def test_the_catalogue_shows_each_products_photo(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    shirt = store.products.create(name="Linen shirt", price_minor=3900)
    store.products.create(name="Alterations", price_minor=1500)
    set_product_photo(store, shirt.id, picture(CORAL), "image/jpeg")
    page = _page(qtbot, ctx)
    assert _column(page.product_table, 0) == ["Alterations", "Linen shirt"]

    def centre(row: int) -> QtGui.QColor:
        item = page.product_table.item(row, 0)
        assert item is not None
        image = item.icon().pixmap(page.product_table.iconSize()).toImage()
        return image.pixelColor(image.width() // 2, image.height() // 2)

    assert near(centre(1), CORAL)
    assert centre(0).alpha() == 0, "no photo: a blank of the same size keeps the names aligned"


def test_send_to_chat_queues_the_products_card(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    seed_chat(store, "Ana Souza", ["Hello"], start=0)
    bruno = seed_chat(store, "Bruno Lima", ["Do you have shirts?"], start=10)
    shirt = store.products.create(name="Linen shirt", price_minor=3990, currency="EUR")
    shirt = set_product_photo(store, shirt.id, picture(TEAL), "image/jpeg").value
    hat = store.products.create(name="Old hat", price_minor=900, active=False)
    page = _page(qtbot, ctx)
    page.select_product(hat.id)
    assert not page.send_card.isEnabled(), "archived products are not offered to customers"
    page.select_product(shirt.id)
    assert page.send_card.isEnabled()
    page.send_card.click()
    dialog = page.dialog
    assert isinstance(dialog, ChatPickerDialog)
    qtbot.waitUntil(lambda: dialog.list.count() == 2)  # the most recent chats
    assert dialog.heading.text() == "Send “Linen shirt” to…"
    qtbot.keyClicks(dialog.search, "bruno")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)  # before the lookup came back: sent once it has
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.dialog is None)
    wait_idle(qtbot, ctx)
    sent = [m for m in store.messages.for_chat(bruno.id, limit=10) if m.direction == "out"]
    assert [(m.kind, m.body, m.status) for m in sent] == [("image", "Linen shirt — €39.90", "queued")]
    assert page.notice.text() == "The card of Linen shirt is queued for Bruno Lima."
