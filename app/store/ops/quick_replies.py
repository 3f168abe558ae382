"""Quick-reply operations: save one (its shortcut unique in the workspace), delete one.

The checks and the one-transaction write are ``app.store.quick_replies``'s; here they return what they touched
like every other operation.
"""

from __future__ import annotations

from app.core.models import QuickReply
from app.store import quick_replies
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def save_quick_reply(store: Store, *, id: str | None = None, shortcut: str, title: str, body: str) -> Done[QuickReply]:
    with op_transaction(store) as tx:
        reply = quick_replies.save_quick_reply(store, id=id, shortcut=shortcut, title=title, body=body)
    return done(tx, reply)


def delete_quick_reply(store: Store, id: str) -> Done[None]:
    with op_transaction(store) as tx:
        quick_replies.delete_quick_reply(store, id)
    return done(tx, None)
