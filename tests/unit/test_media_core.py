"""How media messages are named in the list and notifications, and what WhatsApp accepts when sending."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.media import MB, MediaInfo, MediaTooLarge, check_sendable, clock, describe, kind_for


def test_media_is_named_as_whatsapp_names_it_with_its_caption() -> None:
    assert describe(MediaInfo(kind="image")) == "Photo"
    assert describe(MediaInfo(kind="image"), "  the blue\n one ") == "Photo — the blue one"
    assert describe(MediaInfo(kind="voice", duration_s=12.4)) == "Voice note 0:12"
    assert describe(MediaInfo(kind="video", duration_s=3725)) == "Video 1:02:05"
    assert describe(MediaInfo(kind="document", file_name="prices.pdf")) == "Document: prices.pdf"
    assert describe(MediaInfo(kind="location", place="Lisbon")) == "Location: Lisbon"
    assert describe(MediaInfo(kind="contact")) == "Contact card"
    assert clock(None) == "0:00"


def test_a_file_is_sent_as_whatsapp_would_and_refused_over_its_limit() -> None:
    assert kind_for("image/jpeg") == "image"
    assert kind_for("image/gif") == "document"
    assert kind_for("video/mp4") == "video"
    assert kind_for("application/pdf", "prices.pdf") == "document"
    check_sendable("image", 5 * MB, "a.jpg")
    with pytest.raises(MediaTooLarge, match="at most 16 MB"):
        check_sendable("image", 17 * MB, "big.jpg")
    with pytest.raises(InvalidInput, match="empty"):
        check_sendable("document", 0, "x.pdf")


def test_gifs_and_view_once_media_are_named_for_what_they_are() -> None:
    from app.ui.widgets.media_bubble import can_fetch, state_text

    gif = MediaInfo(kind="video", gif=True, duration_s=3, state="stored")
    assert describe(gif) == "GIF"
    assert describe(gif.model_copy(update={"gif": False})) == "Video 0:03"
    once = MediaInfo(kind="image", view_once=True, state="unavailable")
    assert describe(once, "  for  you ") == "View-once media — open it on your phone — for you"
    assert describe(once.model_copy(update={"kind": "video"})) == "View-once video — open it on your phone"
    assert state_text(once) == "View once — open it on your phone"  # not "no longer available": the phone has it
    assert not can_fetch(once)
    # An older Parley's message (no such fields) reads as before.
    assert MediaInfo.model_validate({"kind": "video"}).gif is False
