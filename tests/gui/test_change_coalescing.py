"""Change reports under a stream of commits: views refresh at most every ``COALESCE_MS``, not once per commit.

WhatsApp intake writes each message in its own transaction; at 50 messages a second every commit used to reach the
main thread on a turn of its own and cost every open view a refresh (the inbox list, the open chat, its header, the
customer panel, the tray), 50 times a second (``bench/inbox_stall_bench.py``).
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.core.events import TablesChanged
from app.qt import QtWidgets
from app.ui.context import Changes

ORG = "org-1"


def _report(table: str, chat_id: str) -> TablesChanged:
    return TablesChanged(org_id=ORG, tables=frozenset({table}), chat_ids=frozenset({chat_id}))


def test_a_stream_of_commits_is_gathered_while_a_lone_one_is_delivered_at_once(
    qtbot: QtBot, qapp: QtWidgets.QApplication
) -> None:
    changes = Changes()
    tables: list[frozenset[str]] = []
    chats: list[frozenset[str] | None] = []
    changes.changed.connect(tables.append)
    changes.chats_changed.connect(chats.append)

    changes.forward(_report("messages", "chat-0"))
    qapp.processEvents()  # one turn of the main loop
    assert tables == [frozenset({"messages"})], "a change after a quiet spell is delivered on the next turn"

    # Thirty more commits, each reaching the main thread on a turn of its own (as intake's do, one per message).
    for i in range(1, 31):
        changes.forward(_report(f"table_{i}", f"chat-{i}"))
        qapp.processEvents()
    expected = {f"table_{i}" for i in range(1, 31)}
    qtbot.waitUntil(lambda: set().union(*tables[1:]) == expected)
    assert len(tables) <= 5, f"{len(tables)} deliveries for 31 commits: each view refreshed once per commit"
    assert set().union(*(c or frozenset() for c in chats)) == {f"chat-{i}" for i in range(31)}
    assert len(chats) == len(tables)  # chats_changed still precedes each changed


def test_nothing_is_delivered_twice_or_lost_when_the_stream_stops(qtbot: QtBot, qapp: QtWidgets.QApplication) -> None:
    changes = Changes(interval_ms=50)
    tables: list[frozenset[str]] = []
    changes.changed.connect(tables.append)
    changes.forward(_report("messages", "a"))
    changes.forward(_report("chats", "a"))
    qapp.processEvents()
    changes.forward(_report("contacts", "b"))  # arrives while the next delivery waits
    qapp.processEvents()
    qtbot.waitUntil(lambda: len(tables) == 2)
    assert tables == [frozenset({"messages", "chats"}), frozenset({"contacts"})]
    with qtbot.waitSignal(changes.changed) as later:
        changes.forward(_report("notes", "c"))
    assert later.args == [frozenset({"notes"})]
