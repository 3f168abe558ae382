"""Settings › AI › "Team AI (Parley server)": the team's AI gateway as the owner sets it up, and this month's use.

Shown while this workspace is signed in to a team as its owner or an admin (staff never see it: the server would
refuse them). The owner edits the ordered provider entries (kind, model, base URL for an OpenAI-compatible server,
embedding model, key), the monthly budget and the requests per minute, and saves them all at once; admins see the
same read-only. Keys are write-only on the server: an entry shows "key set ••••1234" when the server holds one, and
an empty key field keeps it (the server keeps the stored key of the same position, kind and model). A typed key lives
in memory only until the save, is then cleared from the field, and is never logged.

Every call runs on the sync loop through ``SyncBridge.call``; the answers (or the server's sentence when it refused)
come back on the main thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ai.config import DEFAULT_MODELS, KIND_LABELS
from app.qt import Qt, QtWidgets
from app.sync.protocol import GatewayPolicy, GatewayProvider, GatewayUsage, MemberInfo
from app.sync.status import SyncState, SyncStatus
from app.ui import kit
from app.ui.context import AppContext
from app.ui.pages.sync_lists import fit_rows
from app.ui.sync_bridge import SyncBridge
from app.ui.widgets.provider_fields import provider_fields, provider_list
from app.ui.widgets.tables import cell, read_only_table

ADMIN_ROLES = ("owner", "admin")
MASK = "••••"


@dataclass
class Entry:
    """One provider entry being edited: the wire entry (without a key) and the key typed for it, if any."""

    provider: GatewayProvider
    typed_key: str | None = None


class TeamAiCard(kit.Card):
    def __init__(self, ctx: AppContext, bridge: SyncBridge, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Team AI (Parley server)", parent)
        self.ctx = ctx
        self.bridge = bridge
        self.entries: list[Entry] = []
        self.stored: list[GatewayProvider] = []  # the server's entries as last read: which keys it keeps
        self.usage_rows: list[GatewayUsage] = []
        self._loaded_for: tuple[str | None, str | None, str | None] | None = None
        self._owner = False
        self.loads = 0  # completed loads (settings, members and use), for whoever waits on one

        layout = self.body
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.load)
        self.add_to_top(self.refresh_button)
        layout.addWidget(
            kit.note(
                "With “AI replies” set to the team's server, everyone's AI requests go through it with these keys, "
                "in this order: when one fails, the next one answers. Keys are kept on the server, sealed, and are "
                "never shown again."
            )
        )
        self.role_note = kit.note("Only the team's owner can change these.", "hint")
        layout.addWidget(self.role_note)

        entries = provider_list()
        self.list, self.list_buttons = entries.list, entries.widget
        self.add_button, self.remove_button = entries.add_button, entries.remove_button
        self.up_button, self.down_button = entries.up_button, entries.down_button
        self.list.currentRowChanged.connect(self._show_entry)
        layout.addWidget(self.list)
        layout.addWidget(self.list_buttons)
        self.add_button.clicked.connect(self.add_entry)
        self.remove_button.clicked.connect(self.remove_entry)
        self.up_button.clicked.connect(lambda: self.move_entry(-1))
        self.down_button.clicked.connect(lambda: self.move_entry(1))

        fields = provider_fields("http://ai.internal:11434/v1")
        self.editor, self.form, self.kind, self.model = fields.editor, fields.form, fields.kind, fields.model
        self.base_url, self.embedding, self.key = fields.base_url, fields.embedding, fields.key
        form = self.form
        self.key_state = QtWidgets.QLabel()
        self.key_state.setObjectName("muted")
        form.addRow("Provider", self.kind)
        form.addRow("Model", self.model)
        form.addRow("Server address", self.base_url)
        form.addRow("Embedding model", self.embedding)
        form.addRow("Key", self.key)
        form.addRow("", self.key_state)
        layout.addWidget(self.editor)
        self.kind.currentIndexChanged.connect(lambda _i: self._edited())
        for edit in (self.model, self.base_url, self.embedding, self.key):
            edit.editingFinished.connect(self._edited)

        layout.addSpacing(4)
        layout.addWidget(kit.subheading("Limits for the whole team"))
        limits = QtWidgets.QFormLayout()
        self.budget = QtWidgets.QDoubleSpinBox()
        self.budget.setRange(0.0, 1_000_000.0)
        self.budget.setDecimals(2)
        self.budget.setPrefix("$ ")
        self.budget.setSingleStep(10.0)
        self.rate = QtWidgets.QSpinBox()
        self.rate.setRange(1, 100_000)
        self.rate.setSuffix(" requests per minute")
        for spin in (self.budget, self.rate):
            spin.setMinimumWidth(240)
            spin.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        limits.addRow("Monthly budget (USD)", self.budget)
        limits.addRow("Rate limit", self.rate)
        layout.addLayout(limits)

        self.save_button = kit.primary_button("Save")
        self.save_button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        self.save_button.clicked.connect(self.save)
        self.saved_note = kit.note("", "hint")
        self.saved_note.hide()
        save_row = QtWidgets.QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addWidget(self.saved_note, 1)
        save_row.addStretch(0)  # keeps the button at its size on the left while the note is hidden
        layout.addLayout(save_row)
        self.error = kit.note("", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)

        layout.addSpacing(6)
        layout.addWidget(kit.subheading("This month's use"))
        self.usage = read_only_table(["Member", "Requests", "Tokens", "Cost"], 0)
        fit_rows(self.usage)
        layout.addWidget(self.usage)
        self.no_usage = kit.note("No AI requests through the team's server this month.")
        layout.addWidget(self.no_usage)

        self._refresh_list(0)
        self._set_editable(False)
        bridge.statusChanged.connect(self.show_status)
        self.show_status(bridge.status)

    # ---- status ------------------------------------------------------------------------------------------------
    def show_status(self, status: SyncStatus) -> None:
        shown = status.signed_in and status.role in ADMIN_ROLES
        self.setVisible(shown)
        if not shown:
            self._loaded_for = None
            return
        self._owner = status.role == "owner"
        self._set_editable(self._owner)
        key = (status.server_url, status.email, status.role)
        if self._loaded_for != key and status.state is SyncState.SYNCED:
            self._loaded_for = key  # the first time the server answered since signing in (or the role changed)
            self.load()

    def _set_editable(self, editable: bool) -> None:
        self.role_note.setVisible(not editable)
        self.list_buttons.setVisible(editable)
        self.save_button.setVisible(editable)
        self.form.setRowVisible(self.key, editable)
        for widget in (self.kind, self.model, self.base_url, self.embedding, self.budget, self.rate):
            widget.setEnabled(editable)
        if editable:
            self._show_entry(self.list.currentRow())

    # ---- loading -----------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the settings, then the members (for names) and this month's use, on the sync loop."""
        self.refresh_button.setEnabled(False)
        self.error.hide()
        members: list[MemberInfo] = []

        def failed(message: str) -> None:
            self.refresh_button.setEnabled(True)
            self._failed(message)

        def got_settings(settings: GatewayPolicy) -> None:
            self._show_settings(settings)
            self.bridge.call("List members", self.bridge.service.members, got_members, failed, owner=self)

        def got_members(found: list[MemberInfo]) -> None:
            members.extend(found)
            self.bridge.call("Read team AI use", self.bridge.service.ai_usage, got_usage, failed, owner=self)

        def got_usage(rows: list[GatewayUsage]) -> None:
            self.refresh_button.setEnabled(True)
            self._show_usage(rows, {m.id: m.name for m in members})
            self.loads += 1

        self.bridge.call("Read team AI settings", self.bridge.service.ai_settings, got_settings, failed, owner=self)

    def _show_settings(self, settings: GatewayPolicy) -> None:
        self.stored = [p.model_copy(update={"api_key": None}) for p in settings.providers]
        self.entries = [Entry(p) for p in self.stored]
        self.budget.setValue(settings.monthly_budget_usd)
        self.rate.setValue(settings.requests_per_minute)
        self._refresh_list(max(0, self.list.currentRow()))

    def _show_usage(self, rows: list[GatewayUsage], names: dict[str, str]) -> None:
        self.usage_rows = sorted(rows, key=lambda r: (-r.cost_usd, -r.requests, names.get(r.user_id, "")))
        self.usage.setRowCount(len(self.usage_rows))
        for row, use in enumerate(self.usage_rows):
            tokens = use.prompt_tokens + use.completion_tokens
            tip = f"{use.prompt_tokens:,} in, {use.completion_tokens:,} out"
            self.usage.setItem(row, 0, cell(names.get(use.user_id, "Former member"), tip=use.user_id))
            self.usage.setItem(row, 1, cell(f"{use.requests:,}", right=True))
            self.usage.setItem(row, 2, cell(f"{tokens:,}", right=True, tip=tip))
            self.usage.setItem(row, 3, cell(f"${use.cost_usd:,.2f}", right=True))
        fit_rows(self.usage)
        self.usage.setVisible(bool(self.usage_rows))
        self.no_usage.setVisible(not self.usage_rows)

    # ---- the list ------------------------------------------------------------------------------------------------
    @property
    def current(self) -> Entry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def key_text(self, row: int) -> str:
        """What the server will have as this entry's key after a save: the typed one, the kept one, or none."""
        entry = self.entries[row]
        if entry.typed_key:
            return "new key, saved with Save"
        p = entry.provider
        old = self.stored[row] if row < len(self.stored) else None
        if old is not None and old.key_set and (old.kind, old.model) == (p.kind, p.model):
            return f"key set {MASK}{old.key_last4 or ''}"
        if old is not None and old.key_set:
            return "no key: type it again (the saved key stays only with the same place, provider and model)"
        return "no key needed" if p.kind == "openai_compatible" else "no key yet"

    def _refresh_list(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for row, entry in enumerate(self.entries):
            p = entry.provider
            self.list.addItem(f"{row + 1}. {KIND_LABELS[p.kind]} · {p.model} — {self.key_text(row)}")
        self.list.blockSignals(False)
        if self.entries:
            self.list.setCurrentRow(max(0, min(select, len(self.entries) - 1)))
        row_height = max(self.list.sizeHintForRow(0) if self.entries else 0, self.list.fontMetrics().height() + 10)
        shown = max(1, min(5, len(self.entries)))  # as tall as the entries, not a block of empty space
        self.list.setFixedHeight(shown * row_height + 2 * self.list.frameWidth() + 4)
        self._show_entry(self.list.currentRow())

    def add_entry(self) -> None:
        self.entries.append(Entry(GatewayProvider(kind="openai", model=DEFAULT_MODELS["openai"])))
        self._refresh_list(len(self.entries) - 1)

    def remove_entry(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.entries):
            del self.entries[row]
            self._refresh_list(row)

    def move_entry(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if 0 <= row < len(self.entries) and 0 <= target < len(self.entries):
            self.entries[row], self.entries[target] = self.entries[target], self.entries[row]
            self._refresh_list(target)

    # ---- one entry -----------------------------------------------------------------------------------------------
    def _show_entry(self, row: int) -> None:
        entry = self.current
        editable = self._owner
        self.editor.setVisible(entry is not None)
        self.remove_button.setEnabled(entry is not None)
        self.up_button.setEnabled(entry is not None and row > 0)
        self.down_button.setEnabled(entry is not None and row < len(self.entries) - 1)
        widgets = (self.kind, self.model, self.base_url, self.embedding, self.key)
        for widget in widgets:
            widget.blockSignals(True)
        self.key.clear()
        if entry is not None:
            p = entry.provider
            self.kind.setCurrentIndex(max(0, self.kind.findData(p.kind)))
            self.model.setText(p.model)
            self.base_url.setText(p.base_url or "")
            self.embedding.setText(p.embedding_model or "")
            self.key.setText(entry.typed_key or "")
            self.key_state.setText(self.key_text(row))
            self.key.setPlaceholderText(
                "Leave empty to keep the saved key" if "key set" in self.key_text(row) else "Paste the key"
            )
            self.base_url.setEnabled(editable and p.kind == "openai_compatible")
        for widget in widgets:
            widget.blockSignals(False)

    def _edited(self) -> None:
        row = self.list.currentRow()
        entry = self.current
        if entry is None or not self._owner:
            return
        kind = self.kind.currentData()
        model = self.model.text().strip()
        if kind != entry.provider.kind and model == DEFAULT_MODELS[entry.provider.kind]:
            model = DEFAULT_MODELS[kind]  # switching provider swaps the untouched default model too
        self.base_url.setEnabled(kind == "openai_compatible")
        entry.provider = entry.provider.model_copy(
            update={
                "kind": kind,
                "model": model,
                "base_url": (self.base_url.text().strip() or None) if kind == "openai_compatible" else None,
                "embedding_model": self.embedding.text().strip() or None,
            }
        )
        entry.typed_key = self.key.text().strip() or None
        self.saved_note.hide()
        self._refresh_list(row)

    # ---- saving --------------------------------------------------------------------------------------------------
    def settings(self) -> GatewayPolicy:
        """What Save sends: the entries in order with any typed keys, and the limits (typed keys included)."""
        self._edited()  # the field being typed in counts even before it lost focus
        providers = []
        for entry in self.entries:
            p = entry.provider
            providers.append(
                GatewayProvider(
                    kind=p.kind,
                    model=p.model,
                    base_url=p.base_url,
                    embedding_model=p.embedding_model,
                    api_key=entry.typed_key,
                )
            )
        return GatewayPolicy(
            providers=providers, monthly_budget_usd=self.budget.value(), requests_per_minute=self.rate.value()
        )

    def save(self) -> None:
        self.error.hide()
        self.saved_note.hide()
        for row, entry in enumerate(self.entries):
            if not entry.provider.model.strip():
                self._failed(f"Provider {row + 1} needs a model name.")
                return
        settings = self.settings()
        for entry in self.entries:
            entry.typed_key = None  # the keys leave the widget now; only the request carries them
        self.key.clear()
        self.save_button.setEnabled(False)

        def done(saved: GatewayPolicy) -> None:
            self.save_button.setEnabled(True)
            self._show_settings(saved)
            self.saved_note.setText("Saved: the team's AI requests use these settings now.")
            self.saved_note.show()

        def failed(message: str) -> None:
            self.save_button.setEnabled(True)
            self._refresh_list(self.list.currentRow())
            self._failed(message)

        self.bridge.call(
            "Save team AI settings", lambda: self.bridge.service.save_ai_settings(settings), done, failed, owner=self
        )

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
