"""What Parley does with WhatsApp's notices (the page profile's ``notices``), in words a shop owner can act on.

- A rate-limit or ban notice (codes ``rate_limited`` / ``banned``, the halt codes of ``app.store.ops.automation``)
  stops every automated sender at once: the driver calls ``automation.halt`` with ``halt_sentence``, which quotes what
  WhatsApp showed and says what to do. A person's own messages still go; a person resumes.
- The "phone number shared via url is invalid" modal after ``/send?phone=N`` fails that one message with the
  ``status_reason`` ``NOT_ON_WHATSAPP``: a fixed sentence, so the campaign runner can tell "skipped: not on WhatsApp"
  from any other failure by comparing it (``not_on_whatsapp``).

Pure Python: no Playwright, no Qt (the campaign runner imports it).
"""

from __future__ import annotations

from app.store.ops.automation import BANNED, RATE_LIMITED

NOT_ON_WHATSAPP = "The number is not on WhatsApp."  # a message's status_reason: WhatsApp does not know the number
HALT_CODES = frozenset({RATE_LIMITED, BANNED})
QUOTE_LIMIT = 220  # characters of WhatsApp's words quoted in the sentence

_STOPPED = "Campaigns, follow-ups, autopilot and away messages have stopped; your own replies still go."
_WHAT_TO_DO = {
    RATE_LIMITED: "Wait a few hours and send fewer automated messages, then press Resume automated sending.",
    BANNED: (
        "Open WhatsApp on the phone and follow what it says (ask WhatsApp for a review if this is a mistake); "
        "resume automated sending only once WhatsApp works normally again."
    ),
}


def not_on_whatsapp(status_reason: str | None) -> bool:
    """The message failed because WhatsApp says its number has no account (the campaign runner's "skipped")."""
    return status_reason == NOT_ON_WHATSAPP


def halt_sentence(code: str, shown: str) -> str:
    """The alert for a halt caused by a notice: what WhatsApp showed, what stopped, what to do."""
    words = " ".join(shown.split())
    if len(words) > QUOTE_LIMIT:
        words = words[: QUOTE_LIMIT - 1].rstrip() + "…"
    said = f"WhatsApp showed “{words}”" if words else "WhatsApp showed a warning about this number."
    return f"{said} {_STOPPED} {_WHAT_TO_DO.get(code, _WHAT_TO_DO[BANNED])}"
