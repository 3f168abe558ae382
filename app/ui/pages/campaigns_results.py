"""The Campaigns page's views of a prepared campaign: who is in the frozen audience and who was left out and why
(``AudienceView``), and what it achieved (``ResultsView``: the funnel and the per-recipient list).

Both render one ``CampaignDetail`` read on a worker from ``app.campaigns.results`` (the funnel, the recipients with
their status, reason and times, the near-identical warnings). The figures are the recipients' statuses as the runner
last brought them up to their messages (``ops.campaigns.follow_messages`` runs on each of its steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.campaigns import results
from app.campaigns.results import Funnel, RecipientRow
from app.core.models import Campaign
from app.qt import Qt, QtWidgets
from app.store.store import Store
from app.ui import kit
from app.ui.format import money, money_sums, phone
from app.ui.widgets.empty_state import EmptyState
from app.ui.widgets.tables import cell, read_only_table
from app.ui.widgets.whatsapp_indicator import clock

RECIPIENTS_SHOWN = 500

STATUS_WORDS: dict[str, str] = {
    "queued": "Waiting",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "replied": "Replied",
    "failed": "Failed",
    "skipped": "Left out",
}
STATUS_FILTERS: tuple[tuple[str, str | None], ...] = (
    ("Everyone", None),
    ("Waiting", "queued"),
    ("Sent, not delivered yet", "sent"),
    ("Delivered", "delivered"),
    ("Read", "read"),
    ("Replied", "replied"),
    ("Failed", "failed"),
    ("Left out", "skipped"),
)


@dataclass(frozen=True)
class CampaignDetail:
    campaign: Campaign
    funnel: Funnel
    recipients: list[RecipientRow]
    excluded: list[RecipientRow]
    everyone: list[RecipientRow]
    warnings: list[str]
    currency: str
    test_contact: str = ""
    status_filter: str | None = None
    more: bool = False
    phones: dict[str, str] = field(default_factory=dict)  # how a recipient without a name is shown

    def who(self, row: RecipientRow) -> str:
        """A recipient as the lists name them: the name, else the number (a customer who never gave a name)."""
        return row.name.strip() or self.phones.get(row.contact_id, "") or "—"


def read_detail(store: Store, campaign_id: str, status: str | None = None) -> CampaignDetail:
    """Everything the campaign's views show (on a worker)."""
    campaign = store.campaigns.get(campaign_id)
    org = store.orgs.find(store.org_id)
    funnel = results.funnel(store, campaign_id)
    rows = results.recipients(store, campaign_id, status=status, limit=RECIPIENTS_SHOWN + 1)
    excluded = results.recipients(store, campaign_id, status="skipped", limit=RECIPIENTS_SHOWN)
    everyone = rows if status is None else results.recipients(store, campaign_id, limit=RECIPIENTS_SHOWN)
    test = store.contacts.find(campaign.test_contact_id) if campaign.test_contact_id else None
    phones: dict[str, str] = {}
    for contact_id in {r.contact_id for r in (*rows, *excluded, *everyone) if not r.name.strip()}:
        contact = store.contacts.find(contact_id)
        if contact is not None and (contact.phone or contact.wa_id):
            phones[contact_id] = phone(contact.phone) or (contact.wa_id or "").split("@")[0]
    return CampaignDetail(
        campaign=campaign,
        funnel=funnel,
        recipients=rows[:RECIPIENTS_SHOWN],
        excluded=excluded,
        everyone=everyone,
        warnings=results.warnings(store, campaign_id) if campaign.status == "prepared" else [],
        currency=org.default_currency if org is not None else "USD",
        test_contact=test.name if test is not None else "",
        status_filter=status,
        more=len(rows) > RECIPIENTS_SHOWN,
        phones=phones,
    )


def status_text(row: RecipientRow) -> str:
    if row.status == "skipped" and row.reason == "cancelled":
        return "Cancelled"
    return STATUS_WORDS.get(row.status, row.status)


def upper_first(text: str) -> str:
    """ "no WhatsApp number" → "No WhatsApp number" (``capitalize`` would lower the rest)."""
    return text[:1].upper() + text[1:]


def included(funnel: Funnel) -> int:
    return funnel.recipients - sum(funnel.skipped.values())


def _fill(table: QtWidgets.QTableWidget, rows: list[list[QtWidgets.QTableWidgetItem]]) -> None:
    table.setRowCount(len(rows))
    for r, items in enumerate(rows):
        for c, item in enumerate(items):
            table.setItem(r, c, item)


# ---- the frozen audience -------------------------------------------------------------------------------------------
class AudienceView(QtWidgets.QWidget):
    """Who gets it and who was left out, with each reason and how many."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = EmptyState(
            "Not prepared yet",
            "Prepare the campaign to freeze its audience: everyone the filters match is listed here, and whoever "
            "cannot get it is left out with the reason (opted out, no WhatsApp number, no consent, the same text in "
            "the last 24 hours).",
        )
        self.summary = kit.subheading("")
        self.summary.setObjectName("emptyTitle")
        self.summary.setWordWrap(True)
        self.warning = kit.note(kind="error")
        self.warning.hide()
        self.reasons = read_only_table(["Left out because", "People"], stretch=0)
        self.reasons.setMinimumWidth(300)
        self.reasons.setObjectName("exclusions")
        self.reasons.setMaximumWidth(420)
        self.people = read_only_table(["Contact", "Gets", "Left out because"], stretch=2)
        self.people.setObjectName("frozenAudience")
        self.more = kit.note()
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(0, 8, 0, 0)
        column.addWidget(self.summary)
        column.addWidget(self.warning)
        split = QtWidgets.QHBoxLayout()
        self.reasons_box = QtWidgets.QWidget()
        left = QtWidgets.QVBoxLayout(self.reasons_box)
        left.setContentsMargins(0, 0, 12, 0)
        left.addWidget(kit.subheading("Left out, by reason"))
        left.addWidget(self.reasons)
        left.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(kit.subheading("The frozen audience (left out first)"))
        right.addWidget(self.people, 1)
        right.addWidget(self.more)
        split.addWidget(self.reasons_box)
        split.addLayout(right, 1)
        column.addLayout(split, 1)
        self.body = body
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)

    def show_detail(self, detail: CampaignDetail) -> None:
        funnel = detail.funnel
        if detail.campaign.status == "draft" or funnel.recipients == 0:
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.body)
        left_out = sum(funnel.skipped.values())
        gets = included(funnel)
        self.summary.setText(
            f"{funnel.recipients:,} matched the filters: {gets:,} get it, {left_out:,} left out"
            if left_out
            else f"All {funnel.recipients:,} who matched the filters get it; nobody is left out"
        )
        self.warning.setText("\n".join(detail.warnings))
        self.warning.setVisible(bool(detail.warnings))
        counts = sorted(funnel.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
        _fill(
            self.reasons,
            [[cell(upper_first(results.reason_text(reason))), cell(f"{n:,}", right=True)] for reason, n in counts],
        )
        self.reasons_box.setVisible(bool(counts))
        rows_height = sum(self.reasons.rowHeight(r) for r in range(self.reasons.rowCount()))
        self.reasons.setFixedHeight(self.reasons.horizontalHeader().sizeHint().height() + rows_height + 4)
        ordered = detail.excluded + [r for r in detail.everyone if r.status != "skipped"][:RECIPIENTS_SHOWN]
        _fill(
            self.people,
            [
                [
                    cell(detail.who(r)),
                    cell("—" if r.status == "skipped" else f"Version {r.variant + 1}"),
                    cell(upper_first(results.reason_text(r.reason)) if r.status == "skipped" else ""),
                ]
                for r in ordered
            ],
        )
        shown = len(ordered)
        cut = shown < funnel.recipients
        self.more.setText(f"{shown:,} of the {funnel.recipients:,} are listed." if cut else "")
        self.more.setVisible(cut)


# ---- the results ---------------------------------------------------------------------------------------------------
class Figure(QtWidgets.QFrame):
    """One number of the funnel, large, with its caption under it."""

    def __init__(self, caption: str, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.value = QtWidgets.QLabel("0")
        self.value.setObjectName("emptyTitle")
        self.value.setAccessibleName(caption)
        self.value.setProperty("figure", name)
        self.caption = kit.note(caption)
        self.detail = kit.note()
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(12, 8, 12, 8)
        column.setSpacing(2)
        column.addWidget(self.value)
        column.addWidget(self.caption)
        column.addWidget(self.detail)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} % of sent" if whole else ""


class ResultsView(QtWidgets.QWidget):
    """The funnel (sent, delivered, read, replied, bought, revenue) and every recipient with what happened."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = EmptyState(
            "No results yet",
            "Once the campaign starts, each recipient's message is followed here: sent, delivered, read, replied, "
            "and sales made within a week of it.",
        )
        self.figures: dict[str, Figure] = {}
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(8)
        for name, caption in (
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("read", "Read"),
            ("replied", "Replied"),
            ("bought", "Bought"),
            ("revenue", "Revenue"),
        ):
            figure = Figure(caption, name)
            self.figures[name] = figure
            row.addWidget(figure, 1)
        self.progress = kit.note()
        self.progress.setObjectName("muted")
        self.status = QtWidgets.QComboBox()
        self.status.setObjectName("recipientStatus")
        for text, value in STATUS_FILTERS:
            self.status.addItem(text, value)
        self.table = read_only_table(["Contact", "Status", "Reason", "Version", "Sent", "Replied", "Bought"], 2)
        self.table.setObjectName("recipients")
        self.more = kit.note()
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(0, 8, 0, 0)
        column.addLayout(row)
        column.addWidget(self.progress)
        filter_row = QtWidgets.QHBoxLayout()
        filter_row.addWidget(kit.subheading("Recipients"))
        filter_row.addStretch(1)
        filter_row.addWidget(QtWidgets.QLabel("Show"))
        filter_row.addWidget(self.status)
        column.addLayout(filter_row)
        column.addWidget(self.table, 1)
        column.addWidget(self.more)
        self.body = body
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)

    def chosen_status(self) -> str | None:
        value = self.status.currentData()
        return None if value is None else str(value)

    def show_detail(self, detail: CampaignDetail) -> None:
        funnel, campaign = detail.funnel, detail.campaign
        if campaign.status in ("draft", "prepared"):
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.body)
        sent = funnel.sent
        self.figures["sent"].set(f"{sent:,}", f"of {included(funnel):,}")
        self.figures["delivered"].set(f"{funnel.delivered:,}", _share(funnel.delivered, sent))
        self.figures["read"].set(f"{funnel.read:,}", _share(funnel.read, sent))
        self.figures["replied"].set(f"{funnel.replied:,}", _share(funnel.replied, sent))
        self.figures["bought"].set(f"{funnel.bought:,}", _share(funnel.bought, sent))
        self.figures["revenue"].set(money_sums(funnel.revenue_minor, detail.currency), "within the sale window")
        parts = []
        if funnel.queued or funnel.sending:
            parts.append(f"{funnel.queued + funnel.sending:,} still to go")
        if funnel.failed:
            parts.append(f"{funnel.failed:,} failed")
        left_out = sum(funnel.skipped.values())
        if left_out:
            parts.append(f"{left_out:,} left out")
        self.progress.setText(" · ".join(parts))
        rows = []
        for r in detail.recipients:
            reason = results.reason_text(r.reason) if r.status in ("failed", "skipped") else ""
            rows.append(
                [
                    cell(detail.who(r)),
                    cell(status_text(r)),
                    cell(upper_first(reason), tip=reason or None),
                    cell(str(r.variant + 1) if r.status != "skipped" else "", right=True),
                    cell(clock(r.sent_at) if r.sent_at else ""),
                    cell(clock(r.replied_at) if r.replied_at else ""),
                    cell(money(r.bought_minor, detail.currency) if r.bought_minor else "", right=True),
                ]
            )
        _fill(self.table, rows)
        self.more.setText(f"The first {len(rows):,} are listed." if detail.more else "")
        self.more.setVisible(detail.more)
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
