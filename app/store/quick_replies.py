"""Managing quick replies (canned responses): validation, create or update, and delete.

A shortcut is what the agent types after ``/`` in the composer, so it is kept short, lower-case and free of spaces
(letters, digits, ``-`` and ``_``), stored without the slash, and unique among the replies that are not deleted.
Older rows may carry a leading slash (the demo seed writes ``/hi``); they are compared without it. The body may use
the variables of ``app.core.templates``; an unknown one is allowed (it is left as written when rendered) and
reported by ``unknown_variables`` so the editor can warn about a likely typo.
"""

from __future__ import annotations

import re

from app.core.errors import InvalidInput
from app.core.models import QuickReply
from app.core.templates import contact_variables
from app.store.store import Store

SHORTCUT_MAX = 32
TITLE_MAX = 120
BODY_MAX = 4096

# The variables a quick reply can use, taken from the renderer so the two cannot drift apart.
VARIABLES: tuple[str, ...] = tuple(contact_variables("", None, ""))

_SHORTCUT = re.compile(rf"[a-z0-9_-]{{1,{SHORTCUT_MAX}}}")
# ``{{`` / ``}}`` are literal braces; any other ``{word}`` is meant as a variable (upper-case ones are never filled).
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def normalise_shortcut(text: str) -> str:
    """``" /Thanks "`` → ``"thanks"``; a ValueError says what a shortcut may contain."""
    value = text.strip().lower()
    if value.startswith("/"):
        value = value[1:]
    if not value:
        raise InvalidInput("Type a shortcut, for example “thanks” (used as /thanks in the composer).")
    if len(value) > SHORTCUT_MAX:
        raise InvalidInput(f"A shortcut is at most {SHORTCUT_MAX} characters long.")
    if not _SHORTCUT.fullmatch(value):
        raise InvalidInput("A shortcut may only contain letters, digits, “-” and “_” (no spaces).")
    return value


def _key(shortcut: str) -> str:
    """How a stored shortcut compares: without case, surrounding spaces or leading slashes."""
    return shortcut.strip().lower().lstrip("/")


def unknown_variables(body: str) -> list[str]:
    """The ``{names}`` in ``body`` that are not variables a quick reply can use, in order of first use."""
    unknown: list[str] = []
    for match in _TOKEN.finditer(body):
        name = match.group(1)
        if name is not None and name not in VARIABLES and name not in unknown:
            unknown.append(name)
    return unknown


def describe(reply: QuickReply) -> str:
    """A short name for a reply in messages: its title, or the start of its body."""
    if reply.title.strip():
        return reply.title.strip()
    first = reply.body.strip().splitlines()[0] if reply.body.strip() else ""
    return first if len(first) <= 40 else first[:39] + "…"


def save_quick_reply(store: Store, *, id: str | None = None, shortcut: str, title: str, body: str) -> QuickReply:
    """Create a reply (``id`` None) or update reply ``id``; a ValueError explains a refused one, nothing is written.

    The uniqueness check and the write happen in one transaction, so two saves cannot both take a shortcut.
    """
    key = normalise_shortcut(shortcut)
    title = title.strip()
    body = body.strip()
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"A title is at most {TITLE_MAX} characters long.")
    if not body:
        raise InvalidInput("Write the reply's text.")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"A reply is at most {BODY_MAX:,} characters long (this one has {len(body):,}).")
    replies = store.quick_replies
    with store.db.transaction():
        if id is not None:
            replies.get(id)  # NotFound when it was deleted meanwhile
        taken = next((r for r in replies.find_all() if r.id != id and _key(r.shortcut) == key), None)
        if taken is not None:
            raise InvalidInput(f"The shortcut /{key} is already used by “{describe(taken)}”.")
        if id is None:
            return replies.create(shortcut=key, title=title, body=body)
        return replies.update(id, shortcut=key, title=title, body=body)


def delete_quick_reply(store: Store, id: str) -> None:
    """Tombstone the reply (the delete syncs like any change); deleting it twice is harmless."""
    store.quick_replies.delete(id)
