"""Adding pasted text (a policy, an FAQ, a price list from an e-mail) to the knowledge base.

The article and its passages are written on a worker; a missing title or empty text is said in the dialog, which
stays open so nothing typed is lost.
"""

from __future__ import annotations

from app.ai.knowledge.importers import add_text
from app.core.models import KnowledgeArticle
from app.qt import QtWidgets, Signal
from app.ui.context import AppContext


class PasteKnowledgeDialog(QtWidgets.QDialog):
    saved = Signal(str)  # the new article's id

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Paste text")
        self.resize(640, 480)
        self.title = QtWidgets.QLineEdit()
        self.title.setPlaceholderText("e.g. Returns policy")
        self.body = QtWidgets.QPlainTextEdit()
        self.body.setPlaceholderText("Paste the text here. Markdown headings (## Refunds) become sections.")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.save_button = QtWidgets.QPushButton("Add to knowledge base")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        cancel = QtWidgets.QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        form = QtWidgets.QFormLayout()
        form.addRow("Title", self.title)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def save(self) -> None:
        title, body = self.title.text(), self.body.toPlainText()
        store = self.ctx.store
        self.save_button.setEnabled(False)
        self.show_error("")

        def write() -> KnowledgeArticle:
            return add_text(store, title, body)

        self.ctx.tasks.start("Adding text to the knowledge base", write, self._saved, self._failed, owner=self)

    def _saved(self, article: KnowledgeArticle) -> None:
        self.saved.emit(article.id)
        self.accept()

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.show_error(message)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
