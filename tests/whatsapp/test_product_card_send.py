"""Sending product cards against the WhatsApp Web imitation (real headless Chromium, real SQLCipher store, fast
humanizer), in both markups: a card with a photo goes as that photo with its caption (name, price, description on
its own line, typed with Shift+Enter) and is marked sent only once its bubble shows a tick; the customer's phone
(the imitation's control API) holds the very photo with that caption. A product without a photo goes as text.
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from app.store.ops.media import card_caption, queue_product_card, set_product_photo
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, page_sent, store_chat
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

ALICE = "6590000001"


@pytest.mark.parametrize("variant", ["classic", "2026"])
def test_a_product_card_goes_as_its_photo_with_its_caption(
    variant: str,
    driver_runner: DriverRunner,
    store: Store,
    server: ImitationServer,
    control: ImitationControl,
) -> None:
    control.configure(variant=variant, ack_delay_ms=700)  # the clock stays a while after the bubble shows
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    photo = b"\xff\xd8\xff\xe0" + os.urandom(3000)
    dress = store.products.create(
        name="Vestido linho", price_minor=5990, currency="BRL", description="Tamanhos P–GG, três cores ✓"
    )
    set_product_photo(store, dress.id, photo, "image/jpeg")
    voucher = store.products.create(name="Gift voucher", price_minor=2500, currency="EUR")
    card = queue_product_card(store, chat.id, dress.id).value
    text_card = queue_product_card(store, chat.id, voucher.id).value
    caption = card_caption(store.products.get(dress.id))
    assert caption == "Vestido linho — R$59.90\nTamanhos P–GG, três cores ✓"
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(5)), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            outcomes = await sender.run_until_empty()
            assert [o.kind for o in outcomes] == ["sent", "sent"], outcomes
            sent_card, sent_text = store.messages.get(card.id), store.messages.get(text_card.id)
            assert (sent_card.status, sent_text.status) == ("sent", "sent")
            state = await asyncio.to_thread(control.state)
            on_phone = {m["id"]: m for m in page_sent(state)}
            assert set(on_phone) == {sent_card.wa_id, sent_text.wa_id}  # each once
            received = on_phone[str(sent_card.wa_id)]
            assert received["text"] == caption
            assert received["media"]["kind"] == "image"
            assert received["media"]["mime"] == "image/jpeg"
            assert received["ack"] >= 1  # marked sent only once the clock gave way to a tick
            assert server.state.media_bytes[received["id"]] == photo  # the very photo, from memory
            as_text = on_phone[str(sent_text.wa_id)]
            assert (as_text["text"], as_text.get("media")) == ("Gift voucher — €25.00", None)
            await driver.wait_until(lambda: driver.idle, WAIT)
            assert store.messages.count({"direction": "out"}) == 2  # the captured rows were adopted, not inserted
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=60)
