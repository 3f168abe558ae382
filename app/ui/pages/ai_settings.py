"""The AI providers card of the Settings page: the fallback chain in order, and a key for each entry.

The scalar AI settings (mode, creativity, brand voice, redaction, transcripts) are declared settings and render in
the page's "AI" section; this card holds what is not a scalar: the ordered provider entries (add, remove, move up
and down; kind, model, base URL for an OpenAI-compatible server, embedding model), saved as validated JSON at each
change, and each entry's key, written where the workspace keeps its secrets (this computer's keyring, or inside
the encrypted workspace when there is no secure keyring: the card says which) and only ever shown masked. "Test
key" makes a tiny call through that entry alone, on the service loop like every AI call, and shows the outcome.
"""

from __future__ import annotations

from app.ai.config import DEFAULT_MODELS, entry_label, load_entries, new_entry_id, save_entries
from app.ai.keys import ProviderKeys, provider_keys
from app.ai.service import AiService
from app.ai.types import ProviderEntry, ProviderKind, Usage
from app.core.errors import ParleyError, describe
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.widgets.provider_fields import provider_fields, provider_list
from app.ui.widgets.secrets_home import SecretsHomeNote

UNREADABLE = "\0unreadable"  # ``_masked``: there may be a key, but the keyring cannot be read now


def _muted(text: str, name: str = "muted") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


class AiProvidersCard(QtWidgets.QFrame):
    def __init__(
        self, ctx: AppContext, service: AiService | None = None, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.keys: ProviderKeys = service.keys if service is not None else provider_keys(ctx.workspaces, ctx.store)
        self.service = service or AiService(ctx.store, ctx.settings, self.keys)
        self.entries: list[ProviderEntry] = load_entries(ctx.store.settings)
        self.setObjectName("card")

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 16)
        layout.setSpacing(8)
        heading = QtWidgets.QLabel("AI providers")
        heading.setObjectName("emptyTitle")
        layout.addWidget(heading)
        layout.addWidget(
            _muted(
                "With your own keys, Parley asks these in order: when one fails or is slow, the next one answers. "
                "Prompts go straight to the provider."
            )
        )
        self.where = SecretsHomeNote(
            ctx,
            self.keys.secrets,
            "Keys are",
            backups="They travel with the workspace's encrypted backups.",
            moved=lambda: self._refresh_list(self.list.currentRow()),
        )
        layout.addWidget(self.where)

        # What the chosen mode means for this list, kept current as the mode changes.
        self.mode_note = QtWidgets.QLabel()
        self.mode_note.setObjectName("hint")
        self.mode_note.setWordWrap(True)
        layout.addWidget(self.mode_note)
        ctx.changes.changed.connect(self._settings_changed)
        self._show_mode()

        entries = provider_list()
        self.list = entries.list
        self.add_button, self.remove_button = entries.add_button, entries.remove_button
        self.up_button, self.down_button = entries.up_button, entries.down_button
        self.list.setMaximumHeight(130)
        self.list.currentRowChanged.connect(self._show_entry)
        layout.addWidget(self.list)
        layout.addWidget(entries.widget)
        self.add_button.clicked.connect(self.add_entry)
        self.remove_button.clicked.connect(self.remove_entry)
        self.up_button.clicked.connect(lambda: self.move_entry(-1))
        self.down_button.clicked.connect(lambda: self.move_entry(1))

        fields = provider_fields("http://localhost:11434/v1")
        self.editor, form, self.kind, self.model = fields.editor, fields.form, fields.kind, fields.model
        self.base_url, self.embedding, self.key = fields.base_url, fields.embedding, fields.key
        self.key.setPlaceholderText("Paste the key")
        self.save_key_button = QtWidgets.QPushButton("Save key")
        self.test_button = QtWidgets.QPushButton("Test key")
        key_row = QtWidgets.QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.save_key_button)
        key_row.addWidget(self.test_button)
        self.key_state = QtWidgets.QLabel()
        self.test_result = _muted("")
        self.test_result.hide()
        form.addRow("Provider", self.kind)
        form.addRow("Model", self.model)
        form.addRow("Server address", self.base_url)
        form.addRow("Embedding model", self.embedding)
        form.addRow("Key", key_row)
        form.addRow("", self.key_state)
        form.addRow("", self.test_result)
        layout.addWidget(self.editor)
        self.error = _muted("", "error")
        self.error.hide()
        layout.addWidget(self.error)

        self.kind.currentIndexChanged.connect(lambda _i: self._edited())
        for edit in (self.model, self.base_url, self.embedding):
            edit.editingFinished.connect(self._edited)
        self.key.returnPressed.connect(self.save_key)
        self.save_key_button.clicked.connect(self.save_key)
        self.test_button.clicked.connect(self.test_key)
        self._refresh_list(0)

    # ---- the list ------------------------------------------------------------------------------------------------
    @property
    def current(self) -> ProviderEntry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _masked(self, entry_id: str) -> str | None:
        """The masked key, ``None`` when there is none, or ``UNREADABLE``; a locked or missing keyring shows as its
        message instead of breaking the page (a keyring that is gone is said by the note above the list)."""
        try:
            return self.keys.masked(entry_id)
        except ParleyError as exc:
            if not self.keys.secrets.keyring_missing():
                self._failed(describe(exc))
            return UNREADABLE

    def _item_text(self, entry: ProviderEntry) -> str:
        masked = self._masked(entry.id)
        if masked == UNREADABLE:
            state = "key cannot be read now"
        elif masked is not None:
            state = f"key {masked}"
        elif entry.kind == "openai_compatible":
            state = "no key needed"
        else:
            state = "no key yet"
        return f"{entry_label(entry)} — {state}"

    def _refresh_list(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for position, entry in enumerate(self.entries, start=1):
            self.list.addItem(f"{position}. {self._item_text(entry)}")
        self.list.blockSignals(False)
        if self.entries:
            self.list.setCurrentRow(max(0, min(select, len(self.entries) - 1)))
        self._show_entry(self.list.currentRow())

    def _save(self, entries: list[ProviderEntry], select: int) -> bool:
        try:
            save_entries(self.ctx.store.settings, entries)
        except ValueError as exc:
            self.error.setText(describe(exc, doing="saving the AI providers"))
            self.error.show()
            return False
        self.error.hide()
        self.entries = entries
        self._refresh_list(select)
        return True

    def add_entry(self) -> None:
        kind: ProviderKind = "openai"
        entry = ProviderEntry(id=new_entry_id(), kind=kind, model=DEFAULT_MODELS[kind])
        self._save([*self.entries, entry], len(self.entries))

    def remove_entry(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.entries):
            return
        removed = self.entries[row]
        if self._save(self.entries[:row] + self.entries[row + 1 :], row):
            self.ctx.tasks.start("Remove AI key", lambda: self.keys.delete(removed.id), owner=self)

    def move_entry(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if not (0 <= row < len(self.entries) and 0 <= target < len(self.entries)):
            return
        entries = list(self.entries)
        entries[row], entries[target] = entries[target], entries[row]
        self._save(entries, target)

    # ---- one entry -----------------------------------------------------------------------------------------------
    def _show_entry(self, row: int) -> None:
        entry = self.current
        self.editor.setEnabled(entry is not None)
        self.remove_button.setEnabled(entry is not None)
        self.up_button.setEnabled(entry is not None and row > 0)
        self.down_button.setEnabled(entry is not None and row < len(self.entries) - 1)
        self.test_result.hide()
        for widget in (self.kind, self.model, self.base_url, self.embedding):
            widget.blockSignals(True)
        if entry is None:
            self.model.clear()
            self.base_url.clear()
            self.embedding.clear()
            self.key_state.setText("Add a provider to use AI replies with your own key.")
        else:
            self.kind.setCurrentIndex(max(0, self.kind.findData(entry.kind)))
            self.model.setText(entry.model)
            self.base_url.setText(entry.base_url or "")
            self.embedding.setText(entry.embedding_model or "")
            masked = self._masked(entry.id)
            if masked == UNREADABLE:
                self.key_state.setText("The saved key cannot be read now.")
            else:
                self.key_state.setText(f"Saved key: {masked}" if masked else "No key saved for this provider.")
        self.base_url.setEnabled(entry is not None and entry.kind == "openai_compatible")
        for widget in (self.kind, self.model, self.base_url, self.embedding):
            widget.blockSignals(False)
        self.key.clear()

    def _edited(self) -> None:
        entry = self.current
        if entry is None:
            return
        kind = self.kind.currentData()
        self.base_url.setEnabled(kind == "openai_compatible")
        model = self.model.text().strip()
        if kind != entry.kind and model == DEFAULT_MODELS[entry.kind]:
            model = DEFAULT_MODELS[kind]  # switching provider swaps the untouched default model too
        fields = {
            "kind": kind,
            "model": model,
            "base_url": (self.base_url.text().strip() or None) if kind == "openai_compatible" else None,
            "embedding_model": self.embedding.text().strip() or None,
        }
        if fields == {k: getattr(entry, k) for k in fields}:
            return
        if not model:
            self.error.setText("The model name cannot be empty.")
            self.error.show()
            self.model.setText(entry.model)
            return
        if kind == "openai_compatible" and not fields["base_url"]:
            self.error.setText("Enter the server's address (e.g. http://localhost:11434/v1) to save this provider.")
            self.error.show()
            self.model.setText(model)
            return
        row = self.list.currentRow()
        updated = entry.model_copy(update=fields)
        entries = list(self.entries)
        entries[row] = updated
        self._save(entries, row)

    def save_key(self) -> None:
        entry = self.current
        text = self.key.text().strip()
        if entry is None or not text:
            return
        self.key.clear()  # the key leaves the widget at once; only the keyring (or the encrypted workspace) holds it

        def store() -> None:
            self.keys.set(entry.id, text)

        def stored(_: None) -> None:
            self.service.key_changed(entry.id)
            self.error.hide()
            self.where.refresh()  # the first key saved records where keys are kept
            self._refresh_list(self.list.currentRow())

        self.ctx.tasks.start("Save AI key", store, stored, self._failed, owner=self)

    def test_key(self) -> None:
        entry = self.current
        if entry is None:
            return
        self.test_button.setEnabled(False)
        self.test_result.setObjectName("muted")
        self.test_result.setText(f"Testing {entry_label(entry)}…")
        self.test_result.show()

        service = self.service
        self.ctx.tasks.submit(  # on the service loop, like every AI call
            "Test AI key", lambda: service.test_entry(entry), self._tested, self._test_failed, owner=self
        )

    def _tested(self, usage: Usage) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(f"It works: {usage.model} answered in {usage.latency_ms} ms.")
        self._restyle(self.test_result, "muted")

    def _test_failed(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(message)
        self._restyle(self.test_result, "error")

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    @staticmethod
    def _restyle(label: QtWidgets.QLabel, name: str) -> None:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)
        label.show()

    # ---- the mode ----------------------------------------------------------------------------------------------
    def _settings_changed(self, tables: frozenset[str]) -> None:
        if "settings" in tables:
            self._show_mode()

    def _show_mode(self) -> None:
        mode = str(self.ctx.settings.ai.mode)
        notes = {
            "off": "AI replies are off: set “AI replies” above to your own provider keys to use these.",
            "cloud": "AI replies go through your team's Parley server, with its keys: these are not used now.",
        }
        self.mode_note.setText(notes.get(mode, ""))
        self.mode_note.setVisible(mode in notes)
