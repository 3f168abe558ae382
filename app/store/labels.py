"""Managed labels: the ``tags`` rows (name, colour) that contacts and chats carry by name.

A label's name is unique in the org whatever its case ("VIP" and "vip" are one label). Contacts and chats keep the
names they carry (a JSON list), so renaming, merging or deleting a label rewrites those lists in the same
transaction; a name typed on a contact that is not a label yet becomes one (``register``), spelled as the label
already is when it exists. Call these inside a write transaction (``app/store/ops/labels.py`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.errors import InvalidInput
from app.core.models import Tag
from app.store.store import Store

# A palette that reads on light and dark backgrounds; a new label takes the next one.
PALETTE = (
    "#2e86de",
    "#10ac84",
    "#ee5253",
    "#ff9f43",
    "#8e44ad",
    "#0abde3",
    "#f368e0",
    "#576574",
    "#1dd1a1",
    "#c0392b",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_NAME = 40


class LabelExists(InvalidInput):
    """Another label already has this name (in any case)."""


def clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise InvalidInput("Give the label a name.")
    if len(text) > MAX_NAME:
        raise InvalidInput(f"A label name is at most {MAX_NAME} characters.")
    if "," in text:
        raise InvalidInput("A label name cannot contain a comma.")
    return text


def clean_color(color: str) -> str:
    if not _COLOR.match(color):
        raise InvalidInput("Pick a colour like #2e86de.")
    return color.lower()


def all_labels(store: Store) -> list[Tag]:
    return sorted(store.tags.find_all(), key=lambda t: t.name.casefold())


def by_name(store: Store, name: str) -> Tag | None:
    key = name.casefold()
    return next((t for t in store.tags.find_all() if t.name.casefold() == key), None)


def create(store: Store, name: str, color: str | None = None) -> Tag:
    text = clean_name(name)
    if by_name(store, text) is not None:
        raise LabelExists(f"There is already a label named {text!r}.")
    chosen = clean_color(color) if color else PALETTE[len(store.tags.find_all()) % len(PALETTE)]
    return store.tags.create(name=text, color=chosen)


def register(store: Store, names: Iterable[str]) -> list[str]:
    """The names as their labels spell them, creating a label for each new one (order kept, repeats dropped)."""
    wanted = [" ".join(n.split()) for n in names]
    spelled = spellings(store, wanted)
    out: list[str] = []
    for text in wanted:
        if text and spelled[text.casefold()] not in out:
            out.append(spelled[text.casefold()])
    return out


def spellings(store: Store, names: Iterable[str]) -> dict[str, str]:
    """casefolded name -> the label's name, for every non-blank name given; labels are created for new names."""
    known = {t.name.casefold(): t.name for t in store.tags.find_all()}
    count = len(known)
    for name in names:
        text = " ".join(name.split())
        if text and text.casefold() not in known:
            # (a name too long for a label, from an import, is shortened rather than refused)
            label = store.tags.create(name=text[:MAX_NAME].strip(), color=PALETTE[count % len(PALETTE)])
            known[text.casefold()] = label.name
            count += 1
    return known


def rename(store: Store, label_id: str, new_name: str) -> Tag:
    label = store.tags.get(label_id)
    text = clean_name(new_name)
    other = by_name(store, text)
    if other is not None and other.id != label.id:
        raise LabelExists(f"There is already a label named {text!r}: merge {label.name!r} into it instead.")
    _rewrite(store, label.name, text)
    return store.tags.update(label_id, name=text)


def recolor(store: Store, label_id: str, color: str) -> Tag:
    return store.tags.update(label_id, color=clean_color(color))


def merge(store: Store, source_id: str, target_id: str) -> Tag:
    """Everything labelled ``source`` is labelled ``target`` instead; ``source`` is deleted."""
    if source_id == target_id:
        raise InvalidInput("Pick another label to merge into.")
    source, target = store.tags.get(source_id), store.tags.get(target_id)
    _rewrite(store, source.name, target.name)
    store.tags.delete(source_id)
    return target


def delete(store: Store, label_id: str) -> int:
    """Delete the label and take it off every contact and chat; returns how many it was on."""
    label = store.tags.get(label_id)
    count = _rewrite(store, label.name, None)
    store.tags.delete(label_id)
    return count


def usage(store: Store, name: str) -> int:
    """How many contacts and chats carry the label."""
    return len(_carriers(store, name))


def in_use(store: Store) -> list[str]:
    """The label names carried by a chat in the inbox or by a chat's contact, for the inbox's label filter."""
    sql = """
        SELECT DISTINCT j.value FROM chats c, json_each(c.tags) j
        WHERE c.org_id = ? AND c.deleted_at IS NULL
        UNION
        SELECT DISTINCT j.value FROM chats c JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id,
             json_each(ct.tags) j
        WHERE c.org_id = ? AND c.deleted_at IS NULL AND ct.deleted_at IS NULL
    """
    with store.db.read() as conn:
        names = {str(r[0]) for r in conn.execute(sql, (store.org_id, store.org_id))}
    return sorted(names, key=str.casefold)


def _carriers(store: Store, name: str) -> list[tuple[str, str, list[str]]]:
    """(table, id, tags) of every live contact and chat carrying ``name`` (any case)."""
    import json

    found: list[tuple[str, str, list[str]]] = []
    with store.db.read() as conn:
        for table in ("contacts", "chats"):
            rows = conn.execute(
                f"SELECT id, tags FROM {table} WHERE org_id = ? AND deleted_at IS NULL AND EXISTS "
                "(SELECT 1 FROM json_each(tags) WHERE lower(value) = lower(?))",
                (store.org_id, name),
            )
            found += [(table, str(r[0]), list(json.loads(r[1]))) for r in rows]
    return found


def _rewrite(store: Store, old: str, new: str | None) -> int:
    carriers = _carriers(store, old)
    for table, row_id, tags in carriers:
        replaced: list[str] = []
        for tag in tags:
            value = (new if tag.casefold() == old.casefold() else tag) or None
            if value is not None and value not in replaced:
                replaced.append(value)
        repo = store.contacts if table == "contacts" else store.chats
        repo.update(row_id, tags=replaced)
    return len(carriers)
