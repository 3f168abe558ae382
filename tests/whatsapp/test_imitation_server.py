"""The imitation's control API on its own (no browser)."""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Iterator

import pytest

from tests.whatsapp.imitation_server import ImitationConfig, ImitationControl, ImitationServer


@pytest.fixture
def control() -> Iterator[ImitationControl]:
    with ImitationServer(ImitationConfig(ack_delay_ms=50)) as server:
        yield server.control()


def _status(call: object) -> int:
    assert callable(call)
    with pytest.raises(urllib.error.HTTPError) as info:
        call()
    return info.value.code


def test_page_send_gets_a_web_id_and_a_server_ack(control: ImitationControl) -> None:
    assert _status(lambda: control.request("POST", "/__page/send", {"chat": "6590000001", "text": "x"})) == 409
    control.scan()
    assert _status(control.scan) == 409  # already linked
    sent = control.request("POST", "/__page/send", {"chat": "+65 9000 0001", "text": "Hi"})
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", sent["id"])
    assert sent["ack"] == 0
    state = control.wait_for(lambda s: s["chats"][0]["messages"][0]["ack"] == 1)
    assert state["chats"][0]["id"] == "6590000001@c.us"
    assert control.ack(sent["serialized"], 3)["ack"] == 3


def test_incoming_counts_unread_unless_open_and_errors_are_reported(control: ImitationControl) -> None:
    first = control.incoming("6590000002", "one", name="Bob", message_id="3A0123456789ABCDEF01")
    assert first["id"] == "3A0123456789ABCDEF01"
    assert first["serialized"] == "false_6590000002@c.us_3A0123456789ABCDEF01"
    control.incoming("6590000002", "two")
    assert control.state()["chats"][0]["unread"] == 2
    control.request("POST", "/__page/open", {"chat": "6590000002@c.us"})
    control.incoming("6590000002", "three")
    assert control.state()["chats"][0]["unread"] == 0
    assert _status(lambda: control.ack(first["id"], 2)) == 400  # inbound messages carry no acks
    assert _status(lambda: control.ack("nope", 2)) == 404
    assert _status(lambda: control.configure(bogus=1)) == 400
    assert _status(lambda: control.request("POST", "/__control/incoming", {"text": "no chat"})) == 400
    assert control.configure(qr_ms=500)["qr_ms"] == 500
    control.reset()
    state = control.state()
    assert state["chats"] == []
    assert state["config"]["qr_ms"] == 20_000
    assert state["session"] == "unpaired"
