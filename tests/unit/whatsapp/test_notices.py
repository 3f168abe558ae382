"""WhatsApp's notices in the page profile: told apart by their words (any of the languages the sources gave), each
with where it was seen; the sentences a halt and a number not on WhatsApp carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.resources import resource
from app.store.ops.automation import BANNED, RATE_LIMITED
from app.whatsapp.notices import NOT_ON_WHATSAPP, QUOTE_LIMIT, halt_sentence, not_on_whatsapp
from app.whatsapp.profile import load_profile, match_notice


def names(text: str) -> str | None:
    found = match_notice(load_profile(None), text)
    return None if found is None else found[0]


def test_the_packaged_profile_knows_every_notice_and_where_it_was_seen() -> None:
    notices = load_profile(None).notices
    assert {n.code for n in notices.values()} == {RATE_LIMITED, BANNED, "not_on_whatsapp"}
    for notice in notices.values():
        assert notice.seen
        assert "en" in notice.texts
    assert "es" in notices["invalid_phone_url"].texts
    # Only the warnings are closed by Parley; a ban screen's buttons log out.
    assert not notices["account_banned"].dismiss
    assert not notices["account_temporarily_banned"].dismiss
    assert notices["too_many_messages"].dismiss


def test_notices_are_matched_by_their_words_in_any_case_and_apostrophe() -> None:
    assert names("You’re temporarily banned from WhatsApp because you sent too many messages") == (
        "account_temporarily_banned"  # a ban, though its words include the rate limit's
    )
    assert names("YOU'RE SENDING TOO MANY   MESSAGES. Try again later.") == "too_many_messages"
    assert names("This account is not allowed to use WhatsApp due to spam.") == "account_banned"
    assert names("Your account is restricted right now") == "account_restricted"
    assert names("Phone number shared via url is invalid.") == "invalid_phone_url"
    assert names("El número de teléfono compartido a través de la dirección URL no es válido.") == "invalid_phone_url"
    assert names("Your order is ready for pickup") is None


def test_an_older_profile_without_notices_still_loads(tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads(resource("whatsapp", "profiles", "whatsapp-web-1.json").read_text("utf-8"))
    del data["notices"]
    data["version"] = "9999.1"
    path = tmp_path / "whatsapp" / "profile.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    profile = load_profile(tmp_path)
    assert profile.version == "9999.1"
    assert profile.notices == {}


def test_a_halt_sentence_quotes_whatsapp_and_says_what_to_do() -> None:
    rate = halt_sentence(RATE_LIMITED, "You’re sending too many messages.\n Try again later.")
    assert rate.startswith("WhatsApp showed “You’re sending too many messages. Try again later.”")
    assert "your own replies still go" in rate
    assert "Wait a few hours" in rate
    ban = halt_sentence(BANNED, "x" * 1000)
    assert "Open WhatsApp on the phone" in ban
    assert len(ban) < QUOTE_LIMIT + 400
    assert halt_sentence(BANNED, "").startswith("WhatsApp showed a warning about this number.")


def test_a_number_not_on_whatsapp_has_its_own_reason() -> None:
    assert not_on_whatsapp(NOT_ON_WHATSAPP)
    assert not not_on_whatsapp("WhatsApp could not open a chat with +6590000004.")
    assert not not_on_whatsapp(None)
