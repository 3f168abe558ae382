"""Part of ``make screenshots``: issue 19's Campaigns page as a person uses it, in a wide and a small window.

On a demo workspace with a few customers opted out and a few without a number: the list of campaigns in every
state, a draft's editor with its filters, the live count, two versions with their previews (and, with one version
for a large audience, the near-identical warning), a prepared campaign's frozen audience with who is left out and
why, a running campaign's results (the funnel and each recipient), and "Cancel" asking first. Light and dark.
Output: ``build/screenshots/campaigns-<theme>-<nn>-<screen>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.campaigns import audience  # noqa: E402
from app.core.ids import utc_now  # noqa: E402
from app.qt import QtWidgets  # noqa: E402
from app.store.ops import campaigns as ops  # noqa: E402
from app.store.ops.sales import record_sale  # noqa: E402
from app.store.sales import SaleLine  # noqa: E402
from app.store.seed import populate  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.ui.context import AppContext  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.campaigns import CampaignsPage  # noqa: E402
from scripts.screenshots import (  # noqa: E402
    grab,
    grab_screen,
    new_workspace,
    shoot_themes,
    shots_context,
    start_shots,
    wait_for,
)

TEMPLATE = "Hi {first_name}! Our linen shirts are back at {business_name}, in five colours. Want me to keep one?"
VERSION_2 = "Hello {first_name}, the linen shirts you asked about are in again. Shall I reserve your size?"


def seed(store: Store) -> dict[str, str]:
    """Campaigns in each state over the demo customers: a draft, a prepared one, a running one with results, a
    completed and a cancelled one. Some customers opted out, a few have no number."""
    contacts = store.contacts.find_all(limit=400)
    for contact in contacts[:6]:
        ops.opt_out(store, contact.id, "keyword")
    for n in range(3):
        store.contacts.create(name=f"Walk-in customer {n + 1}", tags=["VIP"])
    ids: dict[str, str] = {}
    ids["completed"] = ops.create_draft(
        store, "Spring sale", template=TEMPLATE, audience={"labels_any": ["VIP"]}
    ).value.id
    ids["cancelled"] = ops.create_draft(store, "Old stock", template=TEMPLATE).value.id
    ids["running"] = ops.create_draft(
        store, "Linen week", template=TEMPLATE, variants=[VERSION_2], audience={"labels_any": ["VIP", "Instagram"]},
        pace={"gap_min_seconds": 60, "per_day": 80},
    ).value.id  # fmt: skip
    ids["prepared"] = ops.create_draft(
        store, "Wholesale restock", template=TEMPLATE, audience={"labels_any": ["Wholesale", "VIP"]}
    ).value.id
    ids["draft"] = ops.create_draft(
        store, "Back in stock: linen", template=TEMPLATE, variants=[VERSION_2],
        audience={"labels_any": ["VIP", "Instagram"], "ltv_min_minor": 5_000}, require_consent=False,
    ).value.id  # fmt: skip
    ops.cancel(store, ids["cancelled"])
    ops.prepare(store, ids["prepared"])
    for key in ("running", "completed"):
        cid = ids[key]
        ops.prepare(store, cid)
        ops.start(store, cid)
        steps = ("read", "read", "delivered", "sent", "read", "delivered", "failed", "read", "replied") * 3
        for n, status in enumerate(steps if key == "running" else steps * 10):
            at = utc_now() - timedelta(hours=5) + timedelta(minutes=3 * n)
            sent = ops.send_next(store, cid, now=at, holds=lambda _s: True).value
            if sent.message is None:
                break
            message = sent.message
            if status == "failed":
                store.messages.update(
                    message.id, status="failed", status_reason="WhatsApp showed an error when sending."
                )
                continue
            store.messages.update(message.id, status="read" if status == "replied" else status, sent_at=at)
            if status == "replied":
                store.messages.create(
                    chat_id=message.chat_id, direction="in", body="Yes please, size M!", status="received",
                    sent_at=at + timedelta(minutes=20),
                )  # fmt: skip
                chat = store.chats.get(message.chat_id)
                if chat.contact_id:
                    line = SaleLine(description="Linen shirt", unit_price_minor=4_500)
                    record_sale(store, [line], contact_id=chat.contact_id, sold_at=at + timedelta(hours=1))
        ops.follow_messages(store, cid)
        if key == "completed":
            ops.complete(store, cid)
    return ids


def shoot(
    app: QtWidgets.QApplication, window: MainWindow, ctx: AppContext, out: Path, mode: str, ids: dict[str, str]
) -> None:
    page = window.show_section("campaigns")
    assert isinstance(page, CampaignsPage)
    page.show_list()
    page.refresh()
    wait_for(app, "the list", lambda: ctx.tasks.idle and page.table.rowCount() >= 5)
    grab(app, window, out / f"campaigns-{mode}-01-list.png")

    page.open_campaign(ids["draft"])
    editor = page.editor
    wait_for(app, "the count", lambda: ctx.tasks.idle and editor.count_label.text().endswith("match"))
    grab(app, window, out / f"campaigns-{mode}-02-editor-count.png")
    editor.labels_any.choose([])
    editor.ltv_min.clear()
    editor.variants[1].remove.click()
    editor.recount()
    wait_for(app, "the warning", lambda: ctx.tasks.idle and editor.warning.isVisible())
    grab(app, window, out / f"campaigns-{mode}-03-editor-near-identical.png")
    window.resize(1024, 700)
    grab(app, window, out / f"campaigns-{mode}-04-small-editor.png")
    window.resize(1600, 1000)
    page.editor.set_campaign(ctx.store.campaigns.get(ids["draft"]))  # the edits dropped
    page.show_list()

    page.open_campaign(ids["prepared"])
    wait_for(app, "the audience", lambda: ctx.tasks.idle and page.audience.stack.currentWidget() is page.audience.body)
    page.test_to.setEditText("")
    grab(app, window, out / f"campaigns-{mode}-05-prepared-exclusions.png")
    window.resize(1024, 700)
    grab(app, window, out / f"campaigns-{mode}-06-small-prepared.png")
    window.resize(1600, 1000)

    page.show_list()
    page.open_campaign(ids["running"])
    wait_for(app, "the results", lambda: ctx.tasks.idle and page.results.stack.currentWidget() is page.results.body)
    grab(app, window, out / f"campaigns-{mode}-07-results.png")
    window.resize(1024, 700)
    grab(app, window, out / f"campaigns-{mode}-08-small-results.png")
    window.resize(1600, 1000)
    page.cancel.click()
    wait_for(app, "the question", lambda: page.confirm_box is not None and page.confirm_box.isVisible())
    grab_screen(app, out / f"campaigns-{mode}-09-cancel-asks.png")
    box = page.confirm_box
    assert box is not None
    box.reject()
    page.show_list()


def main() -> int:
    _args, out, app = start_shots()
    app.setApplicationName("Parley")

    with tempfile.TemporaryDirectory(prefix="parley-campaign-shots-") as tmp:
        workspaces, store = new_workspace(Path(tmp))
        populate(store, chats=300, messages=3000, seed=7)
        ids = seed(store)
        print("draft audience:", audience.count(store, store.campaigns.get(ids["draft"]).audience, utc_now()))
        ctx = shots_context(workspaces, store)
        shoot_themes(app, ctx, lambda window, mode: shoot(app, window, ctx, out, mode, ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
