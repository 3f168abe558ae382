"""Product cards and product photos in the store: the card's caption (name, the one money formatter's price, a short
description), what the card keeps for its bubble, and the product editor's save with its photo in one transaction."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.media import MB, MediaInfo, MediaTooLarge
from app.core.money import money
from app.store.ops import media as ops
from app.store.ops.products import ProductInput
from app.store.store import Store
from app.ui import format as ui_format

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4  # a product photo's bytes (the store does not decode them)


def test_one_money_formatter_for_the_ui_and_the_cards(store: Store) -> None:
    assert ui_format.money is money
    product = store.products.create(name="Tea set", price_minor=120000, currency="JPY")
    assert ops.card_caption(product) == f"Tea set — {money(120000, 'JPY')}" == "Tea set — 1,200.00 JPY"
    assert money(123456789, "brl") == "R$1,234,567.89"


def test_a_card_caption_carries_a_short_description(store: Store) -> None:
    product = store.products.create(
        name="  Linen   shirt ",
        price_minor=3990,
        currency="EUR",
        description="Breathable linen.\n\n  Sizes S–XL,   three colours.  ",
    )
    assert ops.card_caption(product) == "Linen shirt — €39.90\nBreathable linen.\nSizes S–XL, three colours."
    long = store.products.create(name="Rug", price_minor=10000, description="handwoven wool " * 40)
    caption = ops.card_caption(long)
    head, description = caption.split("\n")
    assert head == "Rug — $100.00"
    assert description.endswith("wool…") or description.endswith("handwoven…")
    assert len(description) <= ops.CARD_DESCRIPTION_MAX


def test_a_photo_card_keeps_the_name_and_price_it_went_out_with(store: Store) -> None:
    contact = store.contacts.create(name="Ana", phone="+5511999990000")
    chat = store.chats.create(contact_id=contact.id)
    product = store.products.create(name="Linen shirt", price_minor=3990, currency="EUR", description="Sand")
    ops.set_product_photo(store, product.id, JPEG, "image/jpeg")
    card = ops.queue_product_card(store, chat.id, product.id).value
    assert (card.kind, card.body) == ("image", "Linen shirt — €39.90\nSand")
    info = MediaInfo.model_validate(card.media)
    assert (info.product_id, info.product_name, info.product_price) == (product.id, "Linen shirt", "€39.90")
    assert store.media.get(info.blob_id or "") == JPEG


def test_the_editor_saves_a_product_with_its_photo_in_one_go(store: Store) -> None:
    typed = ProductInput(name="Linen shirt", price_minor=3990)
    product = ops.save_product_with_photo(store, typed, photo=(JPEG, "image/jpeg")).value
    assert product.photo_blob_id is not None
    assert store.media.get(product.photo_blob_id) == JPEG
    # A refused photo (not a picture, too large) leaves everything as it was, the typed details included.
    renamed = ProductInput(name="Renamed", price_minor=1)
    with pytest.raises(InvalidInput, match=r"notes\.txt is not a photo|This file is not a photo"):
        ops.save_product_with_photo(store, renamed, product_id=product.id, photo=(b"hello", "text/plain"))
    with pytest.raises(MediaTooLarge):
        ops.save_product_with_photo(store, renamed, product_id=product.id, photo=(bytes(16 * MB + 1), "image/jpeg"))
    kept = store.products.get(product.id)
    assert (kept.name, kept.photo_blob_id) == ("Linen shirt", product.photo_blob_id)
    # Removing the photo takes its bytes (nothing else uses them).
    removed = ops.save_product_with_photo(store, typed, product_id=product.id, remove_photo=True).value
    assert removed.photo_blob_id is None
    assert not store.media.exists(product.photo_blob_id)
