"""The Knowledge page on a real workspace: importing files with progress, pasting, reading, deleting, test queries."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.knowledge.chunks import chunk_counts
from app.ai.knowledge.importers import add_text
from app.ai.service import AiService
from app.ai.types import ProviderEntry
from app.qt import QtWidgets
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.dialogs.paste_knowledge import PasteKnowledgeDialog
from app.ui.pages.knowledge import IMPORT_TASK, KnowledgePage
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import KEY, warm_litellm
from tests.support.gui import wait_idle
from tests.support.keyrings import InMemoryKeyring
from tests.unit.ai.pdfs import blank_pdf, text_pdf


def _page(qtbot: QtBot, ctx: AppContext) -> KnowledgePage:
    page = KnowledgePage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    wait_idle(qtbot, ctx)
    return page


def _column(table: QtWidgets.QTableWidget, column: int) -> list[str]:
    items = [table.item(r, column) for r in range(table.rowCount())]
    return [item.text() if item is not None else "" for item in items]


def test_import_several_files_with_progress(qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path) -> None:
    (tmp_path / "shipping.txt").write_text("We ship within 2 days.\n\nDelivery takes 3 to 5 days.")
    (tmp_path / "returns.md").write_text("# Returns policy\n\n## Refunds\n\nMoney back within 14 days.\n")
    (tmp_path / "prices.pdf").write_bytes(text_pdf([["Linen shirt 39.90"], ["Wool scarf 25.00"]]))
    (tmp_path / "scan.pdf").write_bytes(blank_pdf())
    page = _page(qtbot, ctx)
    assert page.table.rowCount() == 0
    steps: list[tuple[int, int]] = []
    ctx.tasks.progressed.connect(lambda name, done, total: steps.append((done, total)) if name == IMPORT_TASK else None)

    paths = [tmp_path / n for n in ("shipping.txt", "returns.md", "prices.pdf", "scan.pdf")]
    with qtbot.waitSignal(page.imported, timeout=15000) as blocker:
        page.import_paths(paths)
        assert page.progress.isVisible()
        assert not page.import_button.isEnabled()
    report = blocker.args[0]
    assert [a.title for a in report.articles] == ["Shipping", "Returns policy", "Prices"]
    qtbot.waitUntil(lambda: steps[-1:] == [(4, 4)] and page.progress.value() == 4, timeout=5000)
    assert steps[0] == (0, 4)
    assert page.progress.isHidden()
    assert page.import_button.isEnabled()
    assert "scan.pdf has no text" in page.error.text()

    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=5000)
    assert sorted(_column(page.table, 0)) == ["Prices", "Returns policy", "Shipping"]
    assert "PDF · prices.pdf" in _column(page.table, 1)
    assert sorted(_column(page.table, 2)) == ["1", "1", "2"]
    assert page.summary.text() == "3 articles · 4 passages"


def test_paste_text_then_read_it(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    dialog = page.open_paste()
    assert isinstance(dialog, PasteKnowledgeDialog)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.error.text() == "Give the text a title.", timeout=5000)
    assert store.knowledge_articles.count() == 0
    dialog.title.setText("Opening hours")
    dialog.text.setPlainText("## Weekdays\n\nMonday to Friday, 9 to 18.\n\n## Weekends\n\nSaturday 10 to 14.")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as saved:
        dialog.save_button.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.dialog is None
    assert _column(page.table, 1) == ["Pasted text"]
    assert _column(page.table, 2) == ["2"]

    with qtbot.waitSignal(page.article_shown, timeout=5000):
        page.select(saved.args[0])
    assert page.viewer_title.text() == "Opening hours"
    assert "Saturday 10 to 14." in page.viewer.toPlainText()
    assert "2 passages" in page.viewer_meta.text()


def test_delete_asks_first(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    keep = add_text(store, "Keep", "kept text")
    doomed = add_text(store, "Doomed", "text to delete")
    page = _page(qtbot, ctx)
    assert page.table.rowCount() == 2

    def answer(role: QtWidgets.QMessageBox.ButtonRole) -> None:
        box = page.confirm_box  # open, not exec'd: the page's event loop goes on
        assert "“Doomed”" in box.text()
        next(b for b in box.buttons() if box.buttonRole(b) == role).click()

    page.select(doomed.id)
    page.delete_button.click()
    answer(QtWidgets.QMessageBox.ButtonRole.RejectRole)
    wait_idle(qtbot, ctx)
    assert page.table.rowCount() == 2
    assert store.knowledge_articles.get(doomed.id).deleted_at is None

    page.delete_button.click()
    answer(QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert _column(page.table, 0) == ["Keep"]
    deleted = store.knowledge_articles.get(doomed.id, include_deleted=True)
    assert deleted.deleted_at is not None, "tombstoned, so the delete syncs"
    assert chunk_counts(store) == {keep.id: 1}


def test_test_a_question_shows_cited_passages(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    add_text(store, "Shipping", "## Delivery times\n\nOrders reach Leeds within 2 to 3 working days.")
    add_text(store, "Returns policy", "## Refunds\n\nMoney back within 14 days of delivery.")
    page = _page(qtbot, ctx)
    page.question.setText("how long does delivery to Leeds take?")
    with qtbot.waitSignal(page.results_shown, timeout=5000):
        page.ask_button.click()
    citations = _column(page.results, 0)
    assert citations[0] == "[1] Shipping › Delivery times"
    assert len(citations) == 2
    scores = [float(s) for s in _column(page.results, 1)]
    assert scores == sorted(scores, reverse=True)
    assert _column(page.results, 2)[0] == "Orders reach Leeds within 2 to 3 working days."

    page.question.setText("zzyzx")
    with qtbot.waitSignal(page.results_shown, timeout=5000):
        page.question.returnPressed.emit()
    assert page.results.rowCount() == 0
    assert "No passage matches" in page.results_note.text()


def test_test_a_question_on_an_empty_base(qtbot: QtBot, ctx: AppContext) -> None:
    page = _page(qtbot, ctx)
    page.question.setText("do you ship abroad?")
    with qtbot.waitSignal(page.results_shown, timeout=5000):
        page.ask_button.click()
    assert page.results.rowCount() == 0
    assert page.results_note.text() == "Nothing to search yet: import files or paste text first."
    assert page.viewer_meta.text() == "Import files or paste text to start."


def test_with_a_key_that_embeds_imports_are_embedded_and_questions_ranked_hybrid(
    qtbot: QtBot, ctx: AppContext, store: Store, tmp_path: Path, keyring_backend: InMemoryKeyring
) -> None:
    warm_litellm()
    server = OpenAIServer(keys={KEY}).start()
    try:
        keys = ProviderKeys(keyring_backend)
        main = ProviderEntry(
            id="local", kind="openai_compatible", model="chat", base_url=server.base_url, embedding_model="embed"
        )
        save_entries(store.settings, [main])
        keys.set("local", KEY)
        ctx.settings.ai.mode = "byok"
        ctx.ai = AiService(store, ctx.settings, keys)
        (tmp_path / "shipping.txt").write_text("We ship within 2 days.\n\nDelivery takes 3 to 5 days.")
        page = _page(qtbot, ctx)
        with qtbot.waitSignal(page.imported, timeout=15000):
            page.import_paths([tmp_path / "shipping.txt"])
        wait_idle(qtbot, ctx)
        with store.db.read() as conn:
            stored = conn.execute("SELECT count(*), min(model) FROM knowledge_embeddings").fetchone()
        assert stored[0] == sum(chunk_counts(store).values()) > 0
        assert stored[1] == "embed"
        embedded = len(server.calls("/v1/embeddings"))

        page.question.setText("how long is delivery?")
        page.ask()
        qtbot.waitUntil(lambda: page.results.rowCount() > 0, timeout=15000)
        assert len(server.calls("/v1/embeddings")) == embedded + 1, "the question was embedded too"
        assert "Delivery takes 3 to 5 days" in page.passages[0].text
    finally:
        server.stop()
