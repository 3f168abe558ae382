"""Part of ``make screenshots``: issue 18's screens as a person uses them, in a wide and a small window.

What trying them by hand under Xvfb showed and ``scripts/screenshots.py`` does not: the versions saying what each
changed, "Roll back" asking first with the welcome message in the list, the execution log's empty state when the
filters match nothing, the jobs that failed or were cancelled, the Agents page in a 1024×700 window, and in a chat:
an agent's draft with an agreed sale, the collapsed AI panel saying an agent left something, the sale confirmed,
the owner chip warning that AI replies are off, and a person's chip on one line. Light and dark.
Output: ``build/screenshots/agents-<theme>-<nn>-<screen>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.qt import QtWidgets  # noqa: E402
from app.store.seed import populate  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.ui.context import AppContext  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.agents import AgentsPage  # noqa: E402
from app.ui.pages.agents_log import select_row  # noqa: E402
from app.ui.pages.inbox import InboxPage  # noqa: E402
from scripts.screenshots import (  # noqa: E402
    grab,
    grab_screen,
    new_workspace,
    shoot_themes,
    shots_context,
    start_shots,
    wait_for,
)


def seed(store: Store) -> tuple[str, str]:
    """Acquisition's versions (a limit, the welcome switched on, the limit again), a day of runs, jobs in every
    state, and two chats: one whose customer agreed to buy (the agent's draft and the sale), one new customer."""
    from app.agents import configs
    from app.agents.greetings import GreetingsConfig, save_config_version

    configs.save(store, "acquisition", enabled=True, mode="autopilot", config={"pause_hours": 8}, note="Autopilot")
    save_config_version(store, GreetingsConfig(welcome_enabled=True))
    configs.save(store, "acquisition", config={"pause_hours": 10}, note="Longer pause at weekends")
    now = datetime.now(UTC)
    rows = store.inbox(limit=4)
    runs = [
        ("acquisition", None, "sent"),
        ("acquisition", "owned_by_person", None),
        ("greetings", "recently_greeted", None),
        ("acquisition", "cooldown", None),
    ]
    for n, (agent, skip, action) in enumerate(runs):
        at = now - timedelta(minutes=3 * n + 2)
        store.agent_executions.create(
            agent=agent, trigger="message.received", event_name="message.received", started_at=at, finished_at=at,
            status="skipped" if skip else "succeeded", skip_reason=skip, action=action, chat_id=rows[n].chat_id,
            config_version=3 if agent == "acquisition" else None,
        )  # fmt: skip
    past = now - timedelta(hours=2)
    done = store.jobs.schedule("finance_check", {}, past, dedupe_key="finance:check:shots-done")
    failed = store.jobs.schedule("retention_followup", {}, past, dedupe_key="followup:sale:shots-a:d3", max_attempts=1)
    for job in store.jobs.claim_due(now, "shots", timedelta(minutes=5), 10):
        if job.id == done.id:
            store.jobs.complete(job.id, "shots", "Revenue 1,240.00 € (no drop)")
        elif job.id == failed.id:
            store.jobs.fail(job.id, "shots", "WhatsApp was not connected when the follow-up was due.", retry=False)
    cancelled = store.jobs.schedule("retention_followup", {}, now + timedelta(days=3), dedupe_key="followup:b:d3")
    store.jobs.cancel(cancelled.id)
    store.jobs.schedule("finance_check", {}, now + timedelta(hours=9), dedupe_key="finance:check:shots")

    maya = store.contacts.create(name="Maya Lindqvist", phone="+46701234567")
    agreed = store.chats.create(contact_id=maya.id)
    said = "Perfect, I'll take two of the linen shirts in blue, size M."
    message = store.messages.create(chat_id=agreed.id, direction="in", body=said, sent_at=now - timedelta(seconds=30))
    at = datetime.now(UTC) + timedelta(seconds=1)
    draft = ["Wonderful, Maya! Two Linen Shirts in blue, size M: 90.00 € in total.", "Shall I send the payment link?"]
    sale = {"product": "Linen Shirt", "product_id": None, "quantity": 2, "amount_minor": 9000, "currency": "EUR",
            "message_id": message.id, "contact_id": maya.id}  # fmt: skip
    store.agent_executions.create(
        agent="acquisition", trigger="message.received", event_name="message.received", status="succeeded",
        started_at=at, finished_at=at, chat_id=agreed.id, action="drafted", config_version=3,
        detail={"draft": draft, "sale": sale},
    )  # fmt: skip
    ana = store.contacts.create(name="Ana Ribeiro", phone="+5511912340000")
    new = store.chats.create(contact_id=ana.id)
    store.messages.create(
        chat_id=new.id, direction="in", body="Hi! Is the linen shirt still available in M?", sent_at=now
    )
    return agreed.id, new.id


def shoot_agents(app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str) -> None:
    page = window.show_section("agents")
    assert isinstance(page, AgentsPage)
    page.refresh()
    editor = page.show_agent("acquisition")
    wait_for(app, "the versions", lambda: ctx.tasks.idle and editor.history.rowCount() >= 3)
    grab(app, window, out / f"agents-{mode}-01-versions.png")
    select_row(editor.history, 2)  # version 1: rolling back switches the welcome message off too
    editor.roll_back.click()
    wait_for(app, "the question", lambda: editor.confirm_box is not None and editor.confirm_box.isVisible())
    grab_screen(app, out / f"agents-{mode}-02-roll-back-asks.png")
    box = editor.confirm_box
    assert box is not None
    box.reject()
    page.tabs.setCurrentWidget(page.log)
    log = page.log
    log.refresh()
    wait_for(app, "the log", lambda: ctx.tasks.idle and log.table.rowCount() >= 4)
    log.reason.setCurrentIndex(max(0, log.reason.findData("cooldown")))
    log.agent.setCurrentIndex(max(0, log.agent.findData("greetings")))
    wait_for(app, "the empty log", lambda: ctx.tasks.idle and log.empty.isVisible())
    grab(app, window, out / f"agents-{mode}-03-log-no-match.png")
    log.clear_filters()
    wait_for(app, "the whole log", lambda: ctx.tasks.idle and log.table.isVisible())
    page.tabs.setCurrentWidget(page.jobs)
    jobs = page.jobs
    jobs.view.setCurrentIndex(jobs.view.findData("Failed or cancelled"))
    wait_for(app, "the failed jobs", lambda: ctx.tasks.idle and jobs.table.rowCount() >= 2)
    grab(app, window, out / f"agents-{mode}-04-jobs-failed.png")
    jobs.view.setCurrentIndex(0)
    window.resize(1024, 700)  # a small window
    page.tabs.setCurrentIndex(0)
    grab(app, window, out / f"agents-{mode}-05-small-versions.png")
    page.tabs.setCurrentWidget(log)
    select_row(log.table, log.table.rowCount() - 1)  # its "What happened" is cut here: read in full under the table
    grab(app, window, out / f"agents-{mode}-06-small-log.png")
    page.tabs.setCurrentIndex(0)
    window.resize(1600, 1000)


def shoot_chat(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str, chats: tuple[str, str]
) -> None:
    agreed, new = chats
    inbox = window.show_section("inbox")
    assert isinstance(inbox, InboxPage)
    inbox.open_chat(agreed)
    panel = inbox.ai_panel
    drafts = panel.agent_drafts
    panel.set_expanded(False)
    wait_for(app, "the agent's draft", lambda: ctx.tasks.idle and "from an agent" in panel.toggle.text())
    grab(app, window, out / f"agents-{mode}-07-panel-collapsed.png")
    panel.set_expanded(True)
    wait_for(app, "the owner", lambda: ctx.tasks.idle and inbox.ownership.ai_off.isVisible())
    grab(app, window, out / f"agents-{mode}-08-draft-and-sale.png")
    if mode == "light":  # recorded once: the dark shot shows the line the panel then keeps
        drafts.confirm()
    wait_for(app, "the sale recorded", lambda: ctx.tasks.idle and not drafts.sale_box.isVisible())
    if mode == "light":
        grab(app, window, out / f"agents-{mode}-09-sale-recorded.png")
    inbox.open_chat(new)
    wait_for(app, "the owner", lambda: ctx.tasks.idle and inbox.ownership.shown is not None)
    if inbox.ownership.action.text() == "Take over":
        inbox.ownership.action.click()
    wait_for(app, "a person's chip", lambda: ctx.tasks.idle and inbox.ownership.chip.text().startswith("A person"))
    grab(app, window, out / f"agents-{mode}-10-chat-owner-person.png")


def main() -> int:
    _args, out, app = start_shots()
    app.setApplicationName("Parley")

    with tempfile.TemporaryDirectory(prefix="parley-agents-shots-") as tmp:
        workspaces, store = new_workspace(Path(tmp))
        populate(store, chats=120, messages=2400, seed=7)
        chats = seed(store)
        ctx = shots_context(workspaces, store)

        def shoot(window: MainWindow, mode: str) -> None:
            shoot_agents(app, window, ctx, out, mode)
            shoot_chat(app, window, ctx, out, mode, chats)

        shoot_themes(app, ctx, shoot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
