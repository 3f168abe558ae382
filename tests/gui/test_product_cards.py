"""Sending a product card from the chat: the paperclip's "Product…" opens the picker (photo, name, price), typing
filters it, Enter sends the selected product, Esc closes it; the card is queued for the open chat and shown as a
product card bubble (photo, name, price) above its caption. A product without a photo goes as a text card."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.core.models import Product
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.ops.media import card_caption, set_product_photo
from app.store.store import Store
from app.ui import theme
from app.ui.context import AppContext
from app.ui.dialogs.product_picker import ProductPickerDialog
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.bubble_delegate import BubbleDelegate
from app.ui.widgets.media_bubble import card_band_height
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select

TEAL = QtGui.QColor("#2a9d8f")


def picture(color: QtGui.QColor, size: tuple[int, int] = (400, 300)) -> bytes:
    image = QtGui.QImage(*size, QtGui.QImage.Format.Format_RGB32)
    image.fill(color)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPEG")  # type: ignore[call-overload]  # the stubs say bytes; it takes str
    return bytes(buffer.data().data())


def near(painted: QtGui.QColor, expected: QtGui.QColor) -> bool:
    return all(abs(a - b) < 14 for a, b in zip(painted.getRgb()[:3], expected.getRgb()[:3], strict=True))


def catalogue(store: Store) -> dict[str, Product]:
    shirt = store.products.create(
        name="Linen shirt", price_minor=3990, currency="EUR", sku="LS-01", description="Breathable, sizes S–XL"
    )
    shirt = set_product_photo(store, shirt.id, picture(TEAL), "image/jpeg").value
    cafe = store.products.create(name="Café blend 1 kg", price_minor=125000, currency="BRL")
    store.products.create(name="Floral dress", price_minor=5990, currency="EUR", description="Viscose, lined")
    store.products.create(name="Linen trousers", price_minor=5900, currency="EUR")
    store.products.create(name="Old linen hat", price_minor=900, active=False)
    return {"shirt": shirt, "cafe": cafe}


def open_picker(qtbot: QtBot, ctx: AppContext) -> tuple[InboxPage, str, ProductPickerDialog]:
    chat = seed_chat(ctx.store, "Ana Souza", ["Do you have linen shirts?"])
    page = make_page(qtbot, ctx)
    wait_idle(qtbot, ctx)
    select(page, chat.id)
    qtbot.waitUntil(lambda: page.chat_id == chat.id)
    names = [action.text() for action in page.composer.attach_menu.actions()]
    assert names == ["Photos && files…", "Product…"]
    page.composer.attach_menu.actions()[1].trigger()
    dialog = page.product_cards.dialogs.current
    assert isinstance(dialog, ProductPickerDialog)
    qtbot.waitUntil(lambda: bool(dialog.products))
    qtbot.waitUntil(lambda: dialog.search.hasFocus())
    return page, chat.id, dialog


def queued_out(store: Store, chat_id: str) -> list[tuple[str, str, str]]:
    return [(m.kind, m.body, m.status) for m in store.messages.for_chat(chat_id, limit=20) if m.direction == "out"]


def test_the_picker_filters_as_typed_and_enter_sends_the_card(qtbot: QtBot, ctx: AppContext) -> None:
    products = catalogue(ctx.store)
    page, chat_id, dialog = open_picker(qtbot, ctx)
    assert dialog.heading.text() == "Send a product to Ana Souza · +34 600 00 00 00"
    assert dialog.visible_names() == ["Café blend 1 kg", "Floral dress", "Linen shirt", "Linen trousers"], (
        "archived products are not offered"
    )
    first = dialog.list.item(2)
    assert first.text() == "Linen shirt\n€39.90 · LS-01"
    assert not first.icon().isNull()
    qtbot.keyClicks(dialog.search, "LIN")
    assert dialog.visible_names() == ["Linen shirt", "Linen trousers", "Floral dress"], "names first, then the rest"
    assert dialog.list.currentItem().text().startswith("Linen shirt")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Down)
    assert dialog.list.currentItem().text().startswith("Linen trousers")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Up)
    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "cafe")  # accents ignored
    assert dialog.visible_names() == ["Café blend 1 kg"]
    dialog.search.clear()
    qtbot.keyClicks(dialog.search, "breathable")  # the description is searched too
    assert dialog.visible_names() == ["Linen shirt"]
    with qtbot.waitSignal(dialog.chosen) as chosen:
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert chosen.args == [products["shirt"].id]
    wait_idle(qtbot, ctx)
    assert page.product_cards.dialogs.current is None
    caption = card_caption(products["shirt"])
    assert caption == "Linen shirt — €39.90\nBreathable, sizes S–XL"
    assert queued_out(ctx.store, chat_id) == [("image", caption, "queued")]


def test_no_match_sends_nothing_and_esc_closes(qtbot: QtBot, ctx: AppContext) -> None:
    catalogue(ctx.store)
    page, chat_id, dialog = open_picker(qtbot, ctx)
    qtbot.keyClicks(dialog.search, "sofa")
    assert dialog.visible_names() == []
    assert dialog.empty.isVisible()
    assert dialog.empty.text() == "No product matches “sofa”."
    assert not dialog.primary.isEnabled()
    with qtbot.assertNotEmitted(dialog.chosen):
        qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert dialog.isVisible()
    qtbot.keyClick(dialog.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.product_cards.dialogs.current is None)
    wait_idle(qtbot, ctx)
    assert queued_out(ctx.store, chat_id) == []


def test_a_product_without_a_photo_goes_as_a_text_card(qtbot: QtBot, ctx: AppContext) -> None:
    products = catalogue(ctx.store)
    _page, chat_id, dialog = open_picker(qtbot, ctx)
    dialog.search.setText("café")  # QTest types no non-ASCII key
    assert "No photo: sent as a text card." in dialog.list.currentItem().toolTip()
    qtbot.keyClick(dialog.search, Qt.Key.Key_Enter)
    wait_idle(qtbot, ctx)
    assert queued_out(ctx.store, chat_id) == [("text", "Café blend 1 kg — R$1,250.00", "queued")]
    assert card_caption(products["cafe"]) == "Café blend 1 kg — R$1,250.00"


def test_a_note_is_not_a_place_for_a_product_card(qtbot: QtBot, ctx: AppContext) -> None:
    catalogue(ctx.store)
    chat = seed_chat(ctx.store, "Bruno Lima", ["Hi"])
    page = make_page(qtbot, ctx)
    wait_idle(qtbot, ctx)
    select(page, chat.id)
    qtbot.waitUntil(lambda: page.chat_id == chat.id)
    page.composer.note_toggle.setChecked(True)
    assert page.product_cards.choose() is None
    assert page.composer.attachments.refusal.text() == (
        "A product card goes to the customer: turn off Internal note to send it."
    )


def test_the_card_shows_as_a_product_card_bubble(qtbot: QtBot, ctx: AppContext) -> None:
    products = catalogue(ctx.store)
    page, chat_id, dialog = open_picker(qtbot, ctx)
    qtbot.keyClicks(dialog.search, "shirt")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    wait_idle(qtbot, ctx)
    [card] = [m for m in ctx.store.messages.for_chat(chat_id, limit=20) if m.direction == "out"]
    qtbot.waitUntil(lambda: page.chat_model.row_of(card.id) >= 0)
    row = page.chat_model.row_of(card.id)
    item = page.chat_model.item(row)
    assert item.media is not None
    assert (item.media.product_id, item.media.product_name, item.media.product_price) == (
        products["shirt"].id,
        "Linen shirt",
        "€39.90",
    )
    delegate = page.conversation.itemDelegate()
    assert isinstance(delegate, BubbleDelegate)
    index = page.chat_model.index(row, 0)
    page.conversation.scrollTo(index)
    option = QtWidgets.QStyleOptionViewItem()
    option.initFrom(page.conversation.viewport())
    option.widget = page.conversation
    option.font = page.conversation.font()
    option.rect = page.conversation.visualRect(index)
    media = delegate.media_rect(option, index)
    band = card_band_height(QtGui.QFontMetrics(option.font))
    assert media.height() > band + 100, "a photo with the name and price band under it"
    canvas = QtGui.QImage(
        option.rect.size() + QtCore.QSize(option.rect.left(), option.rect.top()), QtGui.QImage.Format.Format_RGB32
    )
    canvas.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(canvas)
    delegate.paint(painter, option, index)
    painter.end()
    photo_centre = QtCore.QPoint(media.center().x(), media.top() + (media.height() - band) // 2)
    assert near(canvas.pixelColor(photo_centre), TEAL)
    band_point = QtCore.QPoint(media.right() - 4, media.bottom() - 3)  # past the text: the band's own colour
    assert near(canvas.pixelColor(band_point), QtGui.QColor(theme.colors().surface_alt))
    accessible = page.chat_model.data(index, Qt.ItemDataRole.AccessibleTextRole)
    assert "Product card: Linen shirt — €39.90 — Breathable, sizes S–XL" in accessible
    # The band says name and price: the caption under it is only the description (not "Linen shirt — €39.90" again).
    assert item.text == "Breathable, sizes S–XL"
    assert card.body.startswith("Linen shirt — €39.90\n")  # what the customer reads under the photo
