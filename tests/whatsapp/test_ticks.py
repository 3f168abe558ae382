"""Ticks of our own messages reach the store however the driver first sees the row (issue 14.15).

The page reports a row's tick only when it changes. A row the store already has can therefore show newer ticks the
first time this driver sees it: after a restart (the customer read it while Parley was closed), or when the page's
report of the fresh row lost the race with the sender's own record. Real headless Chromium against the imitation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.store.intake import CapturedMessage, record_message
from app.store.store import Store
from tests.support.whatsapp_fixtures import WAIT, DriverRunner, store_chat
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"
WA_ID = "3EB0" + "AB12CD34EF56AB78CD"


def test_ticks_that_changed_while_closed_are_taken_when_the_row_is_seen_again(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    text = "Your order ships tomorrow"
    control.scan()  # the phone is linked
    control.add_chat(ALICE, "Alice")
    # Sent from Parley in an earlier session: WhatsApp holds it, the store has it as ``sent``.
    control.request("POST", "/__page/send", {"chat": ALICE, "text": text, "id": WA_ID})
    store_chat(store, ALICE, "Alice")
    sent = record_message(
        store,
        CapturedMessage(
            wa_id=WA_ID, chat_jid=f"{ALICE}@c.us", from_me=True, body=text, timestamp=datetime.now(UTC), ack=1
        ),
    ).message
    assert sent.status == "sent"
    control.ack(WA_ID, 3)  # read by the customer while Parley was closed
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            async with driver.ui_lock:
                assert await driver.open_chat("Alice")
            await driver.wait_until(lambda: store.messages.get(sent.id).status == "read", WAIT)
            assert store.messages.count({"direction": "out"}) == 1
            assert driver.last_error is None

    driver_runner.run(scenario)
