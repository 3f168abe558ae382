"""Knowledge: the policies, FAQs and price lists AI drafts may cite — import, paste, read, delete, and try a question.

Everything touching the store runs on a worker (house rule 3): reading the list (after reconciling passages with
articles changed by sync), importing files with a progress bar, deleting, and the test search. The test box shows
exactly what a suggestion would be given: the top passages, their scores and the citation each would carry.
"""

from __future__ import annotations

from pathlib import Path

from app.ai.knowledge import assist
from app.ai.knowledge.chunks import sync_chunks
from app.ai.knowledge.embedding import VectorIndex
from app.ai.knowledge.importers import ImportReport, import_files
from app.ai.knowledge.library import ArticleSummary, article_summaries, delete_article
from app.ai.knowledge.retrieval import Passage
from app.core.models import KnowledgeArticle
from app.qt import Qt, QtWidgets, Signal
from app.store.store import Store
from app.ui import kit
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.paste_knowledge import PasteKnowledgeDialog
from app.ui.dialogs.tracker import DialogTracker
from app.ui.layout_memory import remember_splitter
from app.ui.widgets.tables import cell, read_only_table

IdRole = Qt.ItemDataRole.UserRole + 1
EMBED_TASK = "Preparing passages for AI search"
IMPORT_TASK = "Importing into the knowledge base"
SOURCE_LABELS = {"text": "Text file", "markdown": "Markdown", "pdf": "PDF", "url": "Web page"}
FILE_FILTER = "Text, Markdown or PDF (*.txt *.md *.markdown *.pdf);;All files (*)"
TEST_RESULTS = 5


def read_list(store: Store) -> list[ArticleSummary]:
    sync_chunks(store)  # articles edited or deleted on another device get their passages cut again first
    return article_summaries(store)


class KnowledgePage(QtWidgets.QWidget):
    loaded = Signal()
    article_shown = Signal(str)
    imported = Signal(object)  # ImportReport
    results_shown = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.articles: list[ArticleSummary] = []
        self.passages: list[Passage] = []
        self._dialogs = DialogTracker[QtWidgets.QDialog]()
        self._vectors = VectorIndex()  # stored vectors kept in memory between questions
        self._shown_id: str | None = None

        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("muted")
        top = kit.title_row(kit.page_title("Knowledge base"), self.summary)
        hint = kit.note(
            "Policies, FAQs and price lists that AI replies may quote, with a citation. They are searched on this "
            "device, even offline.",
            "hint",
        )

        self.import_button = kit.primary_button("Import files…")
        self.paste_button = QtWidgets.QPushButton("Paste text…")
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFixedWidth(220)
        self.progress.setFormat("%v of %m files")
        self.progress.hide()
        bar = kit.button_row(self.import_button, self.paste_button, self.delete_button, align="left")
        bar.addWidget(self.progress)
        self.error = kit.note(kind="error")
        self.error.hide()

        self.table = read_only_table(["Title", "Source", "Passages", "Added"], stretch=0)
        viewer = kit.Card("No article selected", kind="panel")
        viewer_layout, self.viewer_title = viewer.body, viewer.heading
        self.viewer_meta = QtWidgets.QLabel("Import files or paste text to start.")
        self.viewer_meta.setObjectName("muted")
        self.viewer = QtWidgets.QPlainTextEdit()
        self.viewer.setReadOnly(True)
        viewer_layout.addWidget(self.viewer_meta)
        viewer_layout.addWidget(self.viewer, 1)
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(viewer)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        remember_splitter(split, "knowledge", ctx.settings)

        tester = kit.Card("Test a question", kind="panel")
        tester_layout = tester.body
        self.question = QtWidgets.QLineEdit()
        self.question.setPlaceholderText("Ask what a customer might ask, e.g. How long does delivery take?")
        self.ask_button = QtWidgets.QPushButton("Search")
        ask_row = QtWidgets.QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        self.results = read_only_table(["Citation", "Score", "Passage"], stretch=2)
        self.results.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.results_note = QtWidgets.QLabel("The passages an AI reply would be given, best first.")
        self.results_note.setObjectName("muted")
        tester_layout.addLayout(ask_row)
        tester_layout.addWidget(self.results_note)
        tester_layout.addWidget(self.results, 1)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        layout.addWidget(split, 3)
        layout.addWidget(tester, 2)

        self.import_button.clicked.connect(self.choose_files)
        self.paste_button.clicked.connect(lambda: self.open_paste())
        self.delete_button.clicked.connect(self.delete_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.ask_button.clicked.connect(self.ask)
        self.question.returnPressed.connect(self.ask)
        ctx.tasks.progressed.connect(self._progressed)
        # Articles only: listing reconciles the derived passages, which must not trigger another listing.
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"knowledge_articles"}), self._changed)
        self._selection_changed()
        self.reload()

    # ---- the list ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        store = self.ctx.store
        self.ctx.tasks.start(
            "Loading the knowledge base", lambda: read_list(store), self._show, self._show_error, owner=self
        )

    def _show(self, articles: list[ArticleSummary]) -> None:
        chosen = self.selected_id()
        self.articles = articles
        table = self.table
        table.setRowCount(0)
        table.setRowCount(len(articles))
        for r, a in enumerate(articles):
            name = cell(a.title, tip=a.source_name)
            name.setData(IdRole, a.id)
            table.setItem(r, 0, name)
            source = SOURCE_LABELS.get(a.source_kind, a.source_kind)
            table.setItem(r, 1, cell(f"{source} · {a.source_name}" if a.source_name else "Pasted text"))
            table.setItem(r, 2, cell(str(a.chunks), right=True))
            table.setItem(r, 3, cell(f"{a.created_at.astimezone():%d %b %Y}"))
            if a.id == chosen:
                table.selectRow(r)
        total = sum(a.chunks for a in articles)
        self.summary.setText(f"{len(articles)} articles · {total} passages" if articles else "")
        self._selection_changed()
        self.loaded.emit()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        value = item.data(IdRole) if item is not None else None
        return str(value) if value else None

    def select(self, article_id: str) -> None:
        for r, a in enumerate(self.articles):
            if a.id == article_id:
                self.table.selectRow(r)

    def _selection_changed(self) -> None:
        article_id = self.selected_id()
        self.delete_button.setEnabled(article_id is not None)
        if article_id is None:
            self._shown_id = None
            self.viewer_title.setText("No article selected")
            self.viewer_meta.setText(
                "Select an article to read it." if self.articles else "Import files or paste text to start."
            )
            self.viewer.clear()
        elif article_id != self._shown_id:
            self._shown_id = article_id
            store = self.ctx.store
            self.ctx.tasks.start(
                "Opening the article",
                lambda: store.knowledge_articles.find(article_id),
                self._show_article,
                self._show_error,
                owner=self,
            )

    def _show_article(self, article: KnowledgeArticle | None) -> None:
        if article is None or article.id != self._shown_id:
            return
        summary = next((a for a in self.articles if a.id == article.id), None)
        self.viewer_title.setText(article.title)
        parts = [article.source_name or "Pasted text", f"{len(article.body):,} characters"]
        if summary is not None:
            parts.append(f"{summary.chunks} passages")
        self.viewer_meta.setText(" · ".join(parts))
        self.viewer.setPlainText(article.body.replace("\f", "\n\n"))
        self.article_shown.emit(article.id)

    # ---- adding --------------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        chosen, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Import into the knowledge base", str(Path.home()), FILE_FILTER
        )
        if chosen:
            self.import_paths([Path(p) for p in chosen])

    def import_paths(self, paths: list[Path]) -> None:
        store = self.ctx.store
        progress = self.ctx.tasks.progress_reporter(IMPORT_TASK)
        self.import_button.setEnabled(False)
        self.progress.setRange(0, len(paths))
        self.progress.setValue(0)
        self.progress.show()
        self._show_error("")

        def work() -> ImportReport:
            return import_files(store, paths, progress)

        self.ctx.tasks.start(IMPORT_TASK, work, self._imported, self._import_failed, owner=self)

    def _progressed(self, name: str, done: int, total: int) -> None:
        if name == IMPORT_TASK:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _imported(self, report: ImportReport) -> None:
        self.import_button.setEnabled(True)
        self.progress.hide()
        if report.errors:
            self._show_error("\n".join(message for _, message in report.errors))
        if report.articles:
            self._shown_id = None
        self.imported.emit(report)
        if report.articles:
            self.embed()

    def embed(self) -> None:
        """With a key that can embed, give new passages their vectors in the background (hybrid search)."""
        if assist.embedding_model(self.ctx.ai) is None:
            return
        ai, store = self.ctx.ai, self.ctx.store
        progress = self.ctx.tasks.progress_reporter(EMBED_TASK)
        self.ctx.tasks.start(
            EMBED_TASK,
            lambda: assist.embed_missing(ai, store, progress),
            None,
            lambda message: self._show_error(f"Passages were added, but not prepared for AI search: {message}"),
            owner=self,
        )

    def _import_failed(self, message: str) -> None:
        self.import_button.setEnabled(True)
        self.progress.hide()
        self._show_error(message)

    def open_paste(self) -> PasteKnowledgeDialog:
        dialog = PasteKnowledgeDialog(self.ctx, parent=self)
        self._dialogs.show(dialog)
        return dialog

    @property
    def dialog(self) -> QtWidgets.QDialog | None:
        return self._dialogs.current

    # ---- deleting ------------------------------------------------------------------------------------------
    def delete_selected(self) -> None:
        """Ask first, in a box that does not block (no nested event loop); delete on its Delete button."""
        article_id = self.selected_id()
        article = next((a for a in self.articles if a.id == article_id), None)
        if article is None:
            return
        store = self.ctx.store

        def delete() -> None:
            self.ctx.tasks.start(
                "Deleting the article", lambda: delete_article(store, article.id), None, self._show_error, owner=self
            )

        self.confirm_box = kit.confirm(
            self,
            "Delete article",
            f"Delete “{article.title}” from the knowledge base? AI replies will no longer cite it, on every device "
            "of this workspace.",
            "Delete",
            delete,
        )

    # ---- testing a question --------------------------------------------------------------------------------
    def ask(self) -> None:
        text = self.question.text().strip()
        if not text:
            return
        store = self.ctx.store
        ai, index = self.ctx.ai, self._vectors
        self.ctx.tasks.start(
            "Searching the knowledge base",
            lambda: assist.search(ai, store, text, TEST_RESULTS, index),
            self._show_results,
            self._show_error,
            owner=self,
        )

    def _show_results(self, passages: list[Passage]) -> None:
        self.passages = passages
        table = self.results
        table.setRowCount(0)
        table.setRowCount(len(passages))
        for r, p in enumerate(passages):
            table.setItem(r, 0, cell(p.citation))
            table.setItem(r, 1, cell(f"{p.score:.2f}", right=True))
            table.setItem(r, 2, cell(" ".join(p.text.split()), tip=p.text))
        if passages:
            note = "The passages an AI reply would be given, best first (BM25 score: higher matches better)."
        elif not self.articles:
            note = "Nothing to search yet: import files or paste text first."
        else:
            note = "No passage matches. Try other words, or add the text that answers it."
        self.results_note.setText(note)
        self.results_shown.emit()

    # ---- shared --------------------------------------------------------------------------------------------
    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _changed(self, _tables: frozenset[str]) -> None:
        self.reload()
