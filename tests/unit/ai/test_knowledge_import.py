"""Importing .txt, .md, .pdf and pasted text into a real workspace, and keeping chunks in step with articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ai.knowledge.chunks import chunk_counts, generation, rebuild_chunks, sync_chunks
from app.ai.knowledge.importers import KnowledgeImportError, add_text, import_files, read_document
from app.core.ids import new_id, utc_now
from app.store.store import Store
from tests.unit.ai.pdfs import blank_pdf, encrypted_pdf, text_pdf


def _chunks(store: Store, article_id: str) -> list[tuple[str, str, str]]:
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT id, heading, body FROM knowledge_chunks WHERE article_id = ? ORDER BY position", (article_id,)
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _fts_count(store: Store, word: str) -> int:
    with store.db.read() as conn:
        return int(
            conn.execute("SELECT count(*) FROM knowledge_fts WHERE knowledge_fts MATCH ?", (word,)).fetchone()[0]
        )


def test_text_markdown_and_pdf_files(store: Store, tmp_path: Path) -> None:
    (tmp_path / "shipping_times.txt").write_text("We ship within 2 days.\n\nDelivery takes 3 to 5 days.")
    (tmp_path / "returns.md").write_text("# Returns policy\n\n## Refunds\n\nMoney back within 14 days.\n")
    (tmp_path / "prices.pdf").write_bytes(text_pdf([["Linen shirt 39.90"], ["Wool scarf 25.00"]]))
    seen: list[tuple[int, int]] = []
    report = import_files(
        store,
        [tmp_path / n for n in ("shipping_times.txt", "returns.md", "prices.pdf")],
        lambda d, t: seen.append((d, t)),
    )
    assert report.errors == []
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    text, md, pdf = report.articles
    assert (text.title, text.source_kind, text.source_name) == ("Shipping times", "text", "shipping_times.txt")
    assert (md.title, md.source_kind) == ("Returns policy", "markdown")
    assert (pdf.title, pdf.source_kind) == ("Prices", "pdf")
    assert [a.id for a in store.knowledge_articles.find_all()] == [text.id, md.id, pdf.id]
    assert [(h, b) for _, h, b in _chunks(store, md.id)] == [("Refunds", "Money back within 14 days.")]
    assert [h for _, h, _ in _chunks(store, pdf.id)] == ["Page 1", "Page 2"]
    assert _fts_count(store, "scarf") == 1
    assert _fts_count(store, "refunds") == 1
    with store.db.read() as conn:
        synced = {r[0] for r in conn.execute("SELECT row_id FROM outbox WHERE table_name = 'knowledge_articles'")}
    assert synced == {text.id, md.id, pdf.id}, "articles sync; chunks are local"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", blank_pdf(), "no text Parley can read"),
        ("locked.pdf", encrypted_pdf(text_pdf([["secret prices"]]), "pw"), "protected by a password"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "could not be read as a PDF"),
        ("empty.txt", b"   \n", "is empty"),
        ("sheet.xlsx", b"PK", "only .txt, .md and .pdf"),
    ],
)
def test_unusable_files_import_nothing_and_say_why(
    store: Store, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A good file.")
    with pytest.raises(KnowledgeImportError, match=message):
        read_document(tmp_path / name)
    report = import_files(store, [tmp_path / name, tmp_path / "good.txt"])
    assert [n for n, _ in report.errors] == [name]
    assert message in report.errors[0][1]
    assert [a.title for a in store.knowledge_articles.find_all()] == ["Good"]
    assert sum(chunk_counts(store).values()) == 1


def test_a_failed_chunk_write_leaves_no_article(store: Store, tmp_path: Path) -> None:
    with store.db.transaction() as conn:  # make every chunk insert fail
        conn.execute(
            "CREATE TEMP TRIGGER no_chunks BEFORE INSERT ON knowledge_chunks BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(Exception, match="x"):
        import_files(store, [tmp_path / "a.txt"])
    assert store.knowledge_articles.count() == 0


def test_pasted_text(store: Store) -> None:
    with pytest.raises(ValueError, match="title"):
        add_text(store, "  ", "body")
    with pytest.raises(ValueError, match="Paste"):
        add_text(store, "FAQ", " ")
    plain = add_text(store, "Opening hours", "Mon–Sat 9 to 18.")
    md = add_text(store, "FAQ", "## Sizes\n\nS to XL.")
    assert (plain.source_kind, plain.source_name, md.source_kind) == ("text", None, "markdown")
    assert [h for _, h, _ in _chunks(store, plain.id)] == ["Opening hours"]
    assert [h for _, h, _ in _chunks(store, md.id)] == ["Sizes"]


def test_sync_chunks_follows_edits_deletes_and_purges(store: Store) -> None:
    kept = add_text(store, "Kept", "unchanged text")
    edited = add_text(store, "Edited", "old words")
    deleted = add_text(store, "Deleted", "doomed words")
    purged = add_text(store, "Purged", "gone words")
    with store.db.transaction() as conn:
        first = _chunks(store, edited.id)[0][0]
        conn.execute("INSERT INTO knowledge_embeddings VALUES (?, 'm', 1, x'0000803f')", (first,))
    headings_only = add_text(store, "Headings", "# Only\n\n## Headings")
    assert _chunks(store, headings_only.id) == []
    before = generation(store)
    assert sync_chunks(store).rebuilt == 0, "nothing changed since import"
    assert generation(store) == before, "and nothing was written"

    # What sync does when rows arrive from another device: plain writes to the articles, no chunking.
    store.knowledge_articles.update(edited.id, body="new words entirely")
    store.knowledge_articles.delete(deleted.id)
    store.knowledge_articles.purge(purged.id)
    remote = store.knowledge_articles.new(id=new_id(), title="From sync", body="remote words", updated_at=utc_now())
    store.knowledge_articles.add(remote)

    result = sync_chunks(store)
    assert (result.rebuilt, result.removed) == (2, 2)
    assert [b for _, _, b in _chunks(store, edited.id)] == ["new words entirely"]
    assert _chunks(store, deleted.id) == []
    assert _chunks(store, purged.id) == []
    assert [b for _, _, b in _chunks(store, remote.id)] == ["remote words"]
    assert [b for _, _, b in _chunks(store, kept.id)] == ["unchanged text"]
    assert _fts_count(store, "old") == 0
    assert _fts_count(store, "doomed") == 0
    assert _fts_count(store, "remote") == 1
    with store.db.read() as conn:
        assert conn.execute("SELECT count(*) FROM knowledge_embeddings").fetchone()[0] == 0, "stale vectors dropped"
    assert sync_chunks(store) == type(result)(), "and then nothing to do"


def test_rebuild_is_atomic(store: Store) -> None:
    article = add_text(store, "Doc", "first version")
    before = _chunks(store, article.id)
    changed = store.knowledge_articles.update(article.id, body="second version")
    with store.db.transaction() as conn:
        conn.execute(
            "CREATE TEMP TRIGGER no_chunks BEFORE INSERT ON knowledge_chunks BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
    with pytest.raises(Exception, match="x"):
        rebuild_chunks(store, changed)
    assert _chunks(store, article.id) == before, "old chunks kept when the rebuild fails"
