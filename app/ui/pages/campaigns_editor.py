"""The Campaigns page's editor of a draft: its name, the audience's filters with a live count, the message in up to
five versions with a preview of each for a sample contact, the near-identical warning and an optional stricter pace.

The filters are the ones ``app.campaigns.audience.Filters`` supports (labels any of / none of, pipeline stages,
lifecycle, last contact, last purchase, a product bought, lifetime value, a custom field). Every change restarts a
short timer; when it fires the count is read on a worker (``audience.count``: one query) and only the newest answer
is shown, so typing never waits on the database. The editor reads and renders; Save is the page's (one operation,
``ops.campaigns.create_draft`` / ``edit_draft``), and the editor hands it ``values()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.campaigns import audience, content
from app.core.errors import InvalidInput
from app.core.ids import utc_now
from app.core.models import Campaign
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.store import Store
from app.ui import kit
from app.ui.context import AppContext
from app.ui.format import parse_money

WIDE_PX = 1000  # narrower than this, the audience and the message stack
COUNT_DELAY_MS = 250  # the live count waits this long after the last change
LIFECYCLES = {"new": "New", "lead": "Lead", "qualified": "Qualified", "customer": "Customer", "churned": "Churned"}
WHEN = (("any", "Any time"), ("within", "Within the last"), ("not_within", "Not within the last"))
PACE_FIELDS: tuple[tuple[str, str, str, int], ...] = (
    ("gap_min_seconds", "Shortest gap", " s", 3600),
    ("gap_max_seconds", "Longest gap", " s", 3600),
    ("per_hour", "At most per hour", "", 1000),
    ("per_day", "At most per day", "", 10000),
)


# ---- what the editor offers (read on a worker) ---------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """The contact the previews are written for."""

    name: str = ""
    product: str = ""


@dataclass(frozen=True)
class Options:
    labels: list[str] = field(default_factory=list)
    stages: list[tuple[str, str]] = field(default_factory=list)  # id, "Pipeline › Stage"
    products: list[tuple[str, str]] = field(default_factory=list)
    custom: list[tuple[str, str]] = field(default_factory=list)  # key, label
    currency: str = "USD"
    business: str = ""
    sample: Sample = Sample()


def read_options(store: Store) -> Options:
    """Labels, stages, products and custom fields to choose from, and a sample contact for the previews."""
    org = store.orgs.find(store.org_id)
    pipelines = {p.id: p.name for p in store.pipelines.find_all()}
    stages = [
        (s.id, f"{pipelines.get(s.pipeline_id, '')} › {s.name}" if len(pipelines) > 1 else s.name)
        for s in store.pipeline_stages.find_all(order_by="position")
    ]
    products = [(p.id, p.name) for p in store.products.find_all(order_by="name")]
    custom = [(d.key, d.label or d.key) for d in store.custom_field_defs.find_all({"entity": "contact"})]
    sample = Sample()
    for contact in store.contacts.find_all(limit=20):
        if contact.name.strip():
            sample = Sample(contact.name, _last_product(store, contact.id))
            break
    return Options(
        labels=sorted({t.name for t in store.tags.find_all()}, key=str.casefold),
        stages=stages,
        products=products,
        custom=custom,
        currency=org.default_currency if org is not None else "USD",
        business=org.name if org is not None else "",
        sample=sample,
    )


def _last_product(store: Store, contact_id: str) -> str:
    sales = store.sales.find_all({"contact_id": contact_id}, order_by="sold_at", descending=True, limit=1)
    if not sales:
        return ""
    items = store.sale_items.find_all({"sale_id": sales[0].id}, limit=1)
    if not items:
        return ""
    if items[0].product_id:
        product = store.products.find(items[0].product_id)
        if product is not None:
            return product.name
    return items[0].description


# ---- small widgets -----------------------------------------------------------------------------------------------
class StayOpenMenu(QtWidgets.QMenu):
    """A menu of checkboxes that stays open while they are ticked (a menu closes on each choice, so choosing three
    labels took three trips); Esc or a click outside closes it."""

    def _tick(self) -> bool:
        action = self.activeAction()
        if action is None or not action.isCheckable() or not action.isEnabled():
            return False
        action.trigger()
        return True

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if not self._tick():
            super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._tick():
            return
        super().keyPressEvent(event)


class Checklist(QtWidgets.QPushButton):
    """A button that opens a menu of checkable choices and names the chosen ones ("VIP, Wholesale")."""

    changed = Signal()

    def __init__(self, none_text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.none_text = none_text
        self.menu_ = StayOpenMenu(self)
        self.setMenu(self.menu_)
        self.setAutoDefault(False)
        self.setMinimumWidth(120)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self._update()

    def set_items(self, items: list[tuple[str, str]], chosen: list[str] | None = None) -> None:
        keep = set(self.chosen() if chosen is None else chosen)
        self.menu_.clear()
        for value, text in items:
            action = self.menu_.addAction(text)
            action.setCheckable(True)
            action.setData(value)
            action.setChecked(value in keep)
            action.toggled.connect(self._toggled)
        self.setEnabled(bool(items))
        self._update()

    def chosen(self) -> list[str]:
        return [str(a.data()) for a in self.menu_.actions() if a.isChecked()]

    def choose(self, values: list[str]) -> None:
        known = {str(a.data()) for a in self.menu_.actions()}
        for value in values:
            if value not in known:  # saved before its label or stage was renamed or removed: kept, by its value
                action = self.menu_.addAction(value)
                action.setCheckable(True)
                action.setData(value)
                action.toggled.connect(self._toggled)
                self.setEnabled(True)
        for action in self.menu_.actions():
            action.blockSignals(True)
            action.setChecked(str(action.data()) in values)
            action.blockSignals(False)
        self._update()

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        """The chosen names start at the left, as a combo box's text does (a push button centres its text)."""
        painter = QtWidgets.QStylePainter(self)
        option = QtWidgets.QStyleOptionButton()
        self.initStyleOption(option)
        text, option.text = option.text, ""
        painter.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, option)
        area = self.style().subElementRect(QtWidgets.QStyle.SubElement.SE_PushButtonContents, option, self)
        area = area.adjusted(6, 0, -18, 0)  # the menu's arrow keeps its place on the right
        group = QtGui.QPalette.ColorGroup.Active if self.isEnabled() else QtGui.QPalette.ColorGroup.Disabled
        painter.setPen(self.palette().color(group, QtGui.QPalette.ColorRole.ButtonText))
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, area.width())
        painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)

    def _toggled(self, _on: bool) -> None:
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        names = [a.text() for a in self.menu_.actions() if a.isChecked()]
        text = ", ".join(names) if names else self.none_text
        self.setText(text)
        self.setToolTip("\n".join(names) if names else "")


class WhenFilter(QtWidgets.QWidget):
    """Any time / within the last N days / not within the last N days."""

    changed = Signal()

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QtWidgets.QComboBox()
        self.kind.setObjectName(f"when-{name}")
        for value, text in WHEN:
            self.kind.addItem(text, value)
        self.days = QtWidgets.QSpinBox(minimum=1, maximum=3650, value=30, suffix=" days")
        self.days.setObjectName(f"days-{name}")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind, 1)
        row.addWidget(self.days)
        self.kind.currentIndexChanged.connect(self._kind)
        self.days.valueChanged.connect(lambda _v: self.changed.emit())
        self._kind()

    def _kind(self, *_args: object) -> None:
        self.days.setEnabled(self.kind.currentData() != "any")
        self.changed.emit()

    def set_value(self, within: int | None, not_within: int | None) -> None:
        self.blockSignals(True)
        kind = "within" if within else "not_within" if not_within else "any"
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.days.setValue(within or not_within or 30)
        self.blockSignals(False)

    def value(self) -> tuple[int | None, int | None]:
        kind, days = self.kind.currentData(), self.days.value()
        return (days if kind == "within" else None, days if kind == "not_within" else None)


class VariantBox(QtWidgets.QFrame):
    """One version of the message: its text, a remove button (not on the first) and its preview."""

    removed = Signal(object)
    edited = Signal()
    focused = Signal(object)

    def __init__(self, index: int, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = kit.subheading("")
        self.remove = kit.secondary_button("Remove")
        self.remove.setToolTip("Remove this version of the message")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setTabChangesFocus(True)  # Tab moves on, as in every other field (a message rarely needs a tab)
        self.text.setPlaceholderText("Hi {first_name}, …")
        self.text.setMinimumHeight(70)
        self.text.setMaximumHeight(110)
        self.text.textChanged.connect(self.edited)
        self.text.installEventFilter(self)
        self.preview = kit.note()
        self.preview.setObjectName("hint")
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 4)
        column.setSpacing(4)
        column.addLayout(kit.title_row(self.heading, self.remove))
        column.addWidget(self.text)
        column.addWidget(self.preview)
        self.set_index(index)

    def set_index(self, index: int) -> None:
        self.index = index
        self.heading.setText(f"Version {index + 1}")
        self.text.setObjectName(f"variant-{index}")
        self.remove.setVisible(index > 0)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.text and event.type() == QtCore.QEvent.Type.FocusIn:
            self.focused.emit(self)
        return False


# ---- the editor --------------------------------------------------------------------------------------------------
class CampaignEditor(QtWidgets.QWidget):
    """A draft's fields; ``edited`` on every change, ``counted`` when the live count arrived."""

    edited = Signal()
    counted = Signal(int)
    save_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.options = Options()
        self.campaign: Campaign | None = None
        self.count: int | None = None
        self._counts = 0
        self._filling = False
        self.variants: list[VariantBox] = []
        self._target: VariantBox | None = None

        # name
        self.name = QtWidgets.QLineEdit()
        self.name.setObjectName("campaignName")
        self.name.setPlaceholderText("Name of the campaign (only you see it)")
        self.name.returnPressed.connect(self.save_requested)

        # audience
        self.labels_any = Checklist("Any label")
        self.labels_any.setObjectName("labelsAny")
        self.labels_none = Checklist("None excluded")
        self.labels_none.setObjectName("labelsNone")
        self.stages = Checklist("Any stage")
        self.stages.setObjectName("stages")
        self.lifecycle = Checklist("Any")
        self.lifecycle.setObjectName("lifecycle")
        self.lifecycle.set_items(list(LIFECYCLES.items()))
        self.contacted = WhenFilter("contacted")
        self.bought = WhenFilter("bought")
        self.products = Checklist("Any product or none")
        self.products.setObjectName("products")
        self.ltv_min = QtWidgets.QLineEdit(placeholderText="no minimum")
        self.ltv_min.setObjectName("ltvMin")
        self.ltv_max = QtWidgets.QLineEdit(placeholderText="no maximum")
        self.ltv_max.setObjectName("ltvMax")
        ltv = QtWidgets.QHBoxLayout()
        ltv.addWidget(self.ltv_min)
        ltv.addWidget(QtWidgets.QLabel("to"))
        ltv.addWidget(self.ltv_max)
        self.custom_key = QtWidgets.QComboBox(editable=True)
        self.custom_key.setObjectName("customKey")
        key_line = self.custom_key.lineEdit()
        assert key_line is not None
        key_line.setPlaceholderText("field")
        self.custom_value = QtWidgets.QLineEdit(placeholderText="equals")
        self.custom_value.setObjectName("customValue")
        custom = QtWidgets.QHBoxLayout()
        custom.addWidget(self.custom_key, 1)
        custom.addWidget(self.custom_value, 1)
        self.require_consent = QtWidgets.QCheckBox("Only contacts who agreed to campaigns")
        self.require_consent.setObjectName("requireConsent")
        self.recent = QtWidgets.QCheckBox("Only contacts who wrote within")
        self.recent.setObjectName("preferRecent")
        self.recent.setToolTip("Replying beats starting chats: WhatsApp reports fewer messages people expect.")
        self.recent_days = QtWidgets.QSpinBox(minimum=1, maximum=365, value=30, suffix=" days")
        self.recent_days.setObjectName("recentDays")
        recent = QtWidgets.QHBoxLayout()
        recent.addWidget(self.recent)
        recent.addWidget(self.recent_days)
        recent.addStretch(1)

        self.count_label = kit.subheading("Counting…")
        self.filter_error = kit.note(kind="error")
        self.filter_error.hide()
        self.audience_card = kit.Card("Audience", kind="panel")
        self.audience_card.add_to_top(self.count_label)
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("With a label", self.labels_any)
        form.addRow("Without the labels", self.labels_none)
        form.addRow("Open deal in stage", self.stages)
        form.addRow("Lifecycle", self.lifecycle)
        form.addRow("Last contact", self.contacted)
        form.addRow("Last purchase", self.bought)
        form.addRow("Bought the product", self.products)
        self.ltv_label = QtWidgets.QLabel("Lifetime value")
        form.addRow(self.ltv_label, ltv)
        form.addRow("Custom field", custom)
        self.audience_card.body.addLayout(form)
        self.audience_card.body.addWidget(self.filter_error)
        self.audience_card.body.addWidget(self.require_consent)
        self.audience_card.body.addLayout(recent)
        self.audience_card.body.addWidget(
            kit.note("Opted-out contacts, contacts without a WhatsApp number and anyone who got the same text in the "
                     "last 24 hours are left out when you prepare it; the Audience tab then lists them.")
        )  # fmt: skip

        # message
        self.message_card = kit.Card("Message", kind="panel")
        self.variable_buttons: list[QtWidgets.QPushButton] = []
        chips = QtWidgets.QHBoxLayout()
        chips.setSpacing(4)
        chips.addWidget(kit.note("Insert:"))
        for name, about in content.VARIABLES.items():
            button = kit.secondary_button("{" + name + "}")
            button.setObjectName(f"insert-{name}")
            button.setToolTip(f"{about}")
            button.clicked.connect(lambda _c=False, n=name: self.insert_variable(n))
            chips.addWidget(button)
            self.variable_buttons.append(button)
        chips.addStretch(1)
        self.message_card.body.addLayout(chips)
        self.variants_column = QtWidgets.QVBoxLayout()
        self.variants_column.setSpacing(2)
        self.message_card.body.addLayout(self.variants_column)
        self.add_variant = kit.secondary_button("Add a version")
        self.add_variant.setObjectName("addVariant")
        self.add_variant.setToolTip("Recipients get the versions in turn, so fewer people get the very same text")
        self.add_variant.clicked.connect(lambda: self._add_variant("", focus=True))
        self.message_card.body.addLayout(kit.button_row(self.add_variant, align="left"))
        self.sample_note = kit.note()
        self.message_card.body.addWidget(self.sample_note)
        self.warning = kit.note(kind="error")
        self.warning.hide()
        self.message_card.body.addWidget(self.warning)

        # pace
        self.pace_card = kit.Card("Pace", kind="panel")
        self.stricter = QtWidgets.QCheckBox("Send this campaign slower than the number's pace")
        self.stricter.setObjectName("stricterPace")
        self.pace_card.body.addWidget(self.stricter)
        self.pace: dict[str, QtWidgets.QSpinBox] = {}
        grid = QtWidgets.QGridLayout()
        for n, (key, label, suffix, high) in enumerate(PACE_FIELDS):
            spin = QtWidgets.QSpinBox(minimum=0, maximum=high, suffix=suffix)
            spin.setSpecialValueText("the number's")
            spin.setObjectName(f"pace-{key}")
            self.pace[key] = spin
            grid.addWidget(QtWidgets.QLabel(label), n // 2, (n % 2) * 2)
            grid.addWidget(spin, n // 2, (n % 2) * 2 + 1)
            spin.valueChanged.connect(self._changed)
        self.pace_card.body.addLayout(grid)
        self.pace_card.body.addWidget(
            kit.note("A campaign can only be stricter: the number's own limits (WhatsApp page) always hold.")
        )

        left = QtWidgets.QVBoxLayout()
        left.setSpacing(12)
        name_row = QtWidgets.QFormLayout()
        name_row.addRow("Name", self.name)
        left.addLayout(name_row)
        left.addWidget(self.audience_card)
        left.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self.message_card)
        right.addWidget(self.pace_card)
        right.addStretch(1)
        columns = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        columns.setSpacing(12)
        self.columns = columns
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        holder = QtWidgets.QWidget()
        holder.setLayout(columns)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.scroller = scroll
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._timer = QtCore.QTimer(self, singleShot=True, interval=COUNT_DELAY_MS)
        self._timer.timeout.connect(self.recount)
        for checklist in (self.labels_any, self.labels_none, self.stages, self.lifecycle, self.products):
            checklist.changed.connect(self._filters_changed)
        for when in (self.contacted, self.bought):
            when.changed.connect(self._filters_changed)
        for line in (self.ltv_min, self.ltv_max, self.custom_value):
            line.textChanged.connect(self._filters_changed)
        self.custom_key.currentTextChanged.connect(self._filters_changed)
        self.name.textChanged.connect(self._changed)
        self.require_consent.toggled.connect(self._changed)
        self.recent.toggled.connect(self._recent)
        self.recent_days.valueChanged.connect(self._changed)
        self.stricter.toggled.connect(self._stricter)
        self._add_variant("")
        self._recent()
        self._stricter()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        """Audience and message side by side when there is room, one under the other in a small window (side by
        side at 1024×700 the message was cut off behind a sideways scroll bar)."""
        wide = event.size().width() >= WIDE_PX
        want = QtWidgets.QBoxLayout.Direction.LeftToRight if wide else QtWidgets.QBoxLayout.Direction.TopToBottom
        if self.columns.direction() != want:
            self.columns.setDirection(want)
        super().resizeEvent(event)

    # ---- filling ---------------------------------------------------------------------------------------------
    def set_options(self, options: Options) -> None:
        self.options = options
        self._filling = True
        self.labels_any.set_items([(n, n) for n in options.labels])
        self.labels_none.set_items([(n, n) for n in options.labels])
        self.stages.set_items(options.stages)
        self.products.set_items(options.products)
        typed = self.custom_key.currentText()
        self.custom_key.clear()
        for key, label in options.custom:
            self.custom_key.addItem(label, key)
        self.custom_key.setEditText(typed)
        self.ltv_label.setText(f"Lifetime value ({options.currency})")
        self._filling = False
        self._previews()

    def set_campaign(self, campaign: Campaign) -> None:
        """Show ``campaign``'s saved fields (edits to another campaign are dropped)."""
        self.campaign = campaign
        self._filling = True
        self.name.setText(campaign.name)
        try:
            f = audience.parse_filters(campaign.audience)
        except InvalidInput:
            f = audience.Filters()
        self.labels_any.choose(f.labels_any)
        self.labels_none.choose(f.labels_none)
        self.stages.choose(f.stage_ids)
        self.lifecycle.choose(f.lifecycle)
        self.contacted.set_value(f.contacted_within_days, f.not_contacted_within_days)
        self.bought.set_value(f.bought_within_days, f.not_bought_within_days)
        self.products.choose(f.product_ids)
        self.ltv_min.setText("" if f.ltv_min_minor is None else f"{f.ltv_min_minor / 100:.2f}")
        self.ltv_max.setText("" if f.ltv_max_minor is None else f"{f.ltv_max_minor / 100:.2f}")
        key, value = next(iter(sorted(f.custom.items())), ("", ""))
        index = self.custom_key.findData(key)
        if index >= 0:
            self.custom_key.setCurrentIndex(index)
        else:
            self.custom_key.setEditText(key)
        self.custom_value.setText(value)
        self.require_consent.setChecked(campaign.require_consent)
        self.recent.setChecked(campaign.recent_days is not None)
        self.recent_days.setValue(campaign.recent_days or 30)
        for box in list(self.variants):
            self._drop_variant(box)
        for body in [campaign.template, *campaign.variants]:
            self._add_variant(body)
        if not self.variants:
            self._add_variant("")
        self.stricter.setChecked(bool(campaign.pace))
        for key, spin in self.pace.items():
            spin.setValue(int(float(campaign.pace.get(key) or 0)))
        self._filling = False
        self._recent()
        self._stricter()
        self._previews()
        self.count = None
        self.recount()

    def set_read_only(self, read_only: bool) -> None:
        fields: list[QtWidgets.QWidget] = [self.name, self.add_variant, *self.variable_buttons, self.require_consent,
                                           self.recent, self.stricter, self.labels_any, self.labels_none, self.stages,
                                           self.lifecycle, self.contacted, self.bought, self.products, self.ltv_min,
                                           self.ltv_max, self.custom_key, self.custom_value]  # fmt: skip
        for widget in fields:
            widget.setEnabled(not read_only)
        for box in self.variants:
            box.text.setReadOnly(read_only)
            box.remove.setEnabled(not read_only)
        if not read_only:
            self._recent()
            self._stricter()
        else:
            self.recent_days.setEnabled(False)
            for spin in self.pace.values():
                spin.setEnabled(False)

    # ---- values ----------------------------------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The audience's filters as ``audience.Filters`` takes them; InvalidInput for an amount that is not one."""
        within, not_within = self.contacted.value()
        bought, not_bought = self.bought.value()
        out: dict[str, Any] = {
            "labels_any": self.labels_any.chosen(),
            "labels_none": self.labels_none.chosen(),
            "stage_ids": self.stages.chosen(),
            "lifecycle": self.lifecycle.chosen(),
            "contacted_within_days": within,
            "not_contacted_within_days": not_within,
            "bought_within_days": bought,
            "not_bought_within_days": not_bought,
            "product_ids": self.products.chosen(),
            "ltv_min_minor": _amount(self.ltv_min.text(), "The lowest lifetime value"),
            "ltv_max_minor": _amount(self.ltv_max.text(), "The highest lifetime value"),
        }
        key = self.custom_key.currentData() if self.custom_key.currentIndex() >= 0 else None
        typed = self.custom_key.currentText().strip()
        if self.custom_key.currentIndex() < 0 or self.custom_key.itemText(self.custom_key.currentIndex()) != typed:
            key = typed
        if key and self.custom_value.text().strip():
            out["custom"] = {str(key): self.custom_value.text().strip()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}

    def bodies(self) -> list[str]:
        return [box.text.toPlainText() for box in self.variants]

    def values(self) -> dict[str, Any]:
        """What Save writes (``ops.campaigns.edit_draft``'s keywords)."""
        bodies = self.bodies()
        pace = (
            {key: spin.value() for key, spin in self.pace.items() if spin.value() > 0}
            if self.stricter.isChecked()
            else {}
        )
        return {
            "name": self.name.text(),
            "template": bodies[0] if bodies else "",
            "variants": [b for b in bodies[1:] if b.strip()],
            "audience": self.filters(),
            "pace": pace,
            "require_consent": self.require_consent.isChecked(),
            "recent_days": self.recent_days.value() if self.recent.isChecked() else None,
        }

    def is_edited(self) -> bool:
        c = self.campaign
        if c is None:
            return False
        try:
            now = self.values()
            saved_filters = _comparable(c.audience)
            filters = _comparable(now["audience"])
        except InvalidInput:
            return True
        saved_pace = {k: int(float(v)) for k, v in c.pace.items()}
        return (
            " ".join(now["name"].split()) != c.name
            or now["template"].strip() != c.template.strip()
            or [v.strip() for v in now["variants"]] != [v.strip() for v in c.variants]
            or filters != saved_filters
            or now["pace"] != saved_pace
            or now["require_consent"] != c.require_consent
            or now["recent_days"] != c.recent_days
        )

    # ---- the message's versions --------------------------------------------------------------------------------
    def _add_variant(self, body: str, *, focus: bool = False) -> VariantBox:
        box = VariantBox(len(self.variants))
        box.text.setPlainText(body)
        box.removed.connect(self._remove_variant)
        box.edited.connect(self._message_changed)
        box.focused.connect(self._focused)
        self.variants.append(box)
        self.variants_column.addWidget(box)
        self.add_variant.setEnabled(len(self.variants) < content.MAX_VARIANTS)
        if focus:
            box.text.setFocus()
            self._message_changed()
        return box

    def _drop_variant(self, box: VariantBox) -> None:
        self.variants.remove(box)
        self.variants_column.removeWidget(box)
        box.hide()
        box.deleteLater()
        if self._target is box:
            self._target = None

    def _remove_variant(self, box: VariantBox) -> None:
        at = self.variants.index(box)
        self._drop_variant(box)
        for n, other in enumerate(self.variants):
            other.set_index(n)
        self.add_variant.setEnabled(len(self.variants) < content.MAX_VARIANTS)
        self.variants[max(0, at - 1)].text.setFocus()
        self._message_changed()

    def _focused(self, box: VariantBox) -> None:
        self._target = box

    def insert_variable(self, name: str) -> None:
        """Put ``{name}`` where the cursor is in the version last written in (the first one otherwise)."""
        box = self._target if self._target in self.variants else self.variants[0]
        assert box is not None
        box.text.insertPlainText("{" + name + "}")
        box.text.setFocus()

    def _message_changed(self) -> None:
        self._previews()
        self._warn()
        self._changed()

    def _previews(self) -> None:
        sample = self.options.sample
        person = content.Person(sample.name, sample.product)
        who = sample.name or "a contact without a name"
        self.sample_note.setText(f"Previews are written for {who}; each recipient gets their own name.")
        for box in self.variants:
            body = box.text.toPlainText()
            try:
                content.check_bodies(body or "x", [])
                text = content.render(body, person, self.options.business) if body.strip() else ""
                box.preview.setObjectName("hint")
                box.preview.setText(f"Preview: {text}" if text else "Preview: (empty)")
            except InvalidInput as exc:
                box.preview.setObjectName("error")
                box.preview.setText(str(exc))
            box.preview.style().unpolish(box.preview)
            box.preview.style().polish(box.preview)

    def _warn(self) -> None:
        """Many people with nearly one text: the same sentence ``prepare`` gives, from the live count."""
        versions = sum(1 for b in self.bodies() if b.strip())
        if self.count is None or versions == 0:  # nothing written yet: nothing to be alike
            self.warning.hide()
            return
        share = math.ceil(self.count / versions)
        found = content.near_identical(dict.fromkeys(range(versions), share))
        text = found[0] if found else ""
        self.warning.setText(text.replace("(version 1)", "(each version)") if versions > 1 else text)
        self.warning.setVisible(bool(found))

    # ---- changes and the live count ----------------------------------------------------------------------------
    def _recent(self, *_args: object) -> None:
        self.recent_days.setEnabled(self.recent.isChecked() and self.recent.isEnabled())
        self._changed()

    def _stricter(self, *_args: object) -> None:
        for spin in self.pace.values():
            spin.setEnabled(self.stricter.isChecked() and self.stricter.isEnabled())
        self._changed()

    def _changed(self, *_args: object) -> None:
        if not self._filling:
            self.edited.emit()

    def _filters_changed(self, *_args: object) -> None:
        if self._filling:
            return
        self.count_label.setText("Counting…")
        self._timer.start()
        self.edited.emit()

    def recount(self) -> None:
        """Read how many contacts the filters match, on a worker; only the newest answer is shown."""
        self._timer.stop()
        try:
            filters = self.filters()
            audience.parse_filters(filters)
        except InvalidInput as exc:
            self.filter_error.setText(str(exc))
            self.filter_error.show()
            self.count_label.setText("—")
            return
        self.filter_error.hide()
        self._counts += 1
        seq, store = self._counts, self.ctx.store

        def done(n: int) -> None:
            if seq == self._counts:
                self.count = n
                self.count_label.setText(f"{n:,} contact{'s' if n != 1 else ''} match")
                self._warn()
                self.counted.emit(n)

        def failed(message: str) -> None:
            if seq == self._counts:
                self.filter_error.setText(message)
                self.filter_error.show()

        self.ctx.tasks.start(
            "Counting the audience", lambda: audience.count(store, filters, utc_now()), done, failed, owner=self,
            quiet=True,
        )  # fmt: skip


def _comparable(filters: dict[str, Any]) -> dict[str, Any]:
    """Filters as saved, with their lists in one order (the menus list labels in their own order)."""
    dumped = audience.parse_filters(filters).model_dump(exclude_defaults=True)
    return {k: sorted(v) if isinstance(v, list) else v for k, v in dumped.items()}


def _amount(text: str, what: str) -> int | None:
    if not text.strip():
        return None
    try:
        return parse_money(text)
    except InvalidInput:
        raise InvalidInput(f"{what} is not an amount; write it as 150 or 150.00.") from None
