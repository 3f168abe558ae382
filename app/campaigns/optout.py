"""The one opt-out rule, shared by campaigns and the retention agent.

A message opts its sender out when it *is* an opt-out word of some language — ``STOP``, `` Stop. ``, ``parar!``,
``Arrêt`` — compared without case, accents, punctuation or extra spaces; a sentence that merely contains one ("help
us STOP this bill", "stop sending me the wrong size") does not (Spoke #1016: opting people out on any "stop"
in a message lost them their customers' conversations). The words are configurable per language (workspace meta
``campaigns.opt_out_words``: ``{"pt": ["parar", "sair"], ...}``, added to the defaults).

An opt-out is global to the contact and kept on it: ``consent = 'opted_out'`` with its source and time (schema 15)
and the managed label "opted out" (visible in the inbox, removable by a person). A contact counts as opted out when
either says so, so a label put on by hand is honoured as well. The write is ``app.store.ops.campaigns.opt_out``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping

from app.core.models import Contact
from app.store.store import Store

OPT_OUT_LABEL = "opted out"
WORDS_KEY = "campaigns.opt_out_words"
CONFIRMATION_KEY = "campaigns.opt_out_confirmation"  # an optional reply to an opt-out ("" or absent: none)
MAX_WORD_CHARS = 40  # a longer message is never only an opt-out word

# Words that are nothing but a request to stop (not "cancel", "end" or "cancelar": a customer may mean an order).
DEFAULT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "stopall", "stop all", "unsubscribe", "opt out", "optout"),
    "pt": ("parar", "sair", "descadastrar"),
    "es": ("baja", "darme de baja", "parar"),
    "fr": ("arrêt", "stop", "désabonner", "désinscrire"),
    "de": ("stopp", "abmelden", "abbestellen"),
    "it": ("disiscrivi", "cancellami"),
}

_PUNCT = re.compile(r"[^\w\s]")


def normalise(text: str) -> str:
    """Lower case, without accents, punctuation or extra spaces: how a message and a word are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_PUNCT.sub(" ", bare).split())


def default_words() -> frozenset[str]:
    return frozenset(word for words in DEFAULT_WORDS.values() for word in words)


def is_opt_out_word(body: str, words: Iterable[str] | None = None) -> bool:
    """The message *is* an opt-out word ("STOP", "Stop.", " parar! "), not a sentence that contains one."""
    if len(body) > MAX_WORD_CHARS * 2:
        return False
    text = normalise(body)
    wanted = default_words() if words is None else words
    return bool(text) and text in {normalise(w) for w in wanted}


def configured(store: Store) -> dict[str, list[str]]:
    """The workspace's own words by language (without the defaults)."""
    raw = store.meta(WORDS_KEY)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): [str(w) for w in v if str(w).strip()] for k, v in data.items() if isinstance(v, list)}


def words(store: Store) -> frozenset[str]:
    """Every opt-out word in force: the defaults of every language and the workspace's own."""
    own = {word for values in configured(store).values() for word in values}
    return default_words() | frozenset(own)


def words_by_language(store: Store) -> dict[str, list[str]]:
    """The defaults and the workspace's own, per language (what a settings page lists)."""
    merged: dict[str, list[str]] = {lang: list(values) for lang, values in DEFAULT_WORDS.items()}
    for lang, values in configured(store).items():
        merged.setdefault(lang, [])
        merged[lang] += [w for w in values if w not in merged[lang]]
    return merged


def check_words(by_language: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The words cleaned (trimmed, no empties, no duplicates); InvalidInput for one that is not a short word."""
    from app.core.errors import InvalidInput

    cleaned: dict[str, list[str]] = {}
    for lang, values in by_language.items():
        kept: list[str] = []
        for value in values:
            word = " ".join(str(value).split())
            if not word:
                continue
            if len(word) > MAX_WORD_CHARS or not normalise(word):
                raise InvalidInput(f"“{word[:60]}” is not an opt-out word; use a short word such as STOP.")
            if word not in kept:
                kept.append(word)
        if kept:
            cleaned[lang.strip().lower() or "any"] = kept
    return cleaned


def has_label(contact: Contact) -> bool:
    return any(tag.casefold() == OPT_OUT_LABEL for tag in contact.tags)


def is_opted_out(contact: Contact) -> bool:
    """Whether the contact opted out of campaigns and automated follow-ups (its consent or the label)."""
    return contact.consent == "opted_out" or has_label(contact)


def said_opt_out(store: Store, contact_id: str, wanted: Iterable[str]) -> bool:
    """A message from the contact, in any of their chats, that is only an opt-out word (short ones are read)."""
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT m.body FROM messages m JOIN chats c ON c.id = m.chat_id AND c.org_id = m.org_id "
            "WHERE c.contact_id = ? AND c.org_id = ? AND m.direction = 'in' AND m.deleted_at IS NULL "
            "AND length(m.body) <= ?",
            (contact_id, store.org_id, MAX_WORD_CHARS * 2),
        ).fetchall()
    words_ = list(wanted)
    return any(is_opt_out_word(str(r[0] or ""), words_) for r in rows)
