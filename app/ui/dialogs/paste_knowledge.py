"""Adding pasted text (a policy, an FAQ, a price list from an e-mail) to the knowledge base.

The article and its passages are written on a worker; a missing title or empty text is said in the dialog, which
stays open so nothing typed is lost.
"""

from __future__ import annotations

from app.ai.knowledge.importers import add_text
from app.core.models import KnowledgeArticle
from app.qt import QtWidgets, Signal
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog


class PasteKnowledgeDialog(FormDialog):
    saved = Signal(str)  # the new article's id

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(
            "Paste text", "Add text to the knowledge base", "Add to knowledge base", parent, cancel="Cancel"
        )
        self.ctx = ctx
        self.resize(640, 480)
        self.title = QtWidgets.QLineEdit()
        self.title.setPlaceholderText("e.g. Returns policy")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setPlaceholderText("Paste the text here. Markdown headings (## Refunds) become sections.")
        self.save_button = self.primary
        self.save_button.clicked.connect(self.save)
        form = QtWidgets.QFormLayout()
        form.addRow("Title", self.title)
        self.body.addLayout(form)
        self.body.addWidget(self.text, 1)

    def save(self) -> None:
        title, text = self.title.text(), self.text.toPlainText()
        store = self.ctx.store
        self.error.hide()
        self.set_busy(True)

        def write() -> KnowledgeArticle:
            return add_text(store, title, text)

        self.ctx.tasks.start("Adding text to the knowledge base", write, self._saved, self.show_error, owner=self)

    def _saved(self, article: KnowledgeArticle) -> None:
        self.saved.emit(article.id)
        self.accept()
