"""Turning files and pasted text into knowledge articles.

A file is read and checked completely before anything is written; the article (synced) and its chunks (local) are
then written in one transaction, so a file that fails — encrypted, damaged, or a scanned PDF with no text — leaves
nothing behind, and the error says which file and why. Several files import independently: one bad file does not
stop the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app.ai.knowledge.chunking import PAGE_BREAK
from app.ai.knowledge.chunks import rebuild_chunks
from app.core.errors import InvalidInput, ParleyError
from app.core.models import KnowledgeArticle
from app.store.store import Store

log = logging.getLogger(__name__)

SourceKind = Literal["text", "markdown", "pdf"]
SUFFIXES: dict[str, SourceKind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}
MAX_FILE_BYTES = 50 * 1024 * 1024

_H1 = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)


class KnowledgeImportError(ParleyError):
    hint = "Nothing was imported from this file."


@dataclass(frozen=True)
class Document:
    """A file's text, read and checked, not yet stored."""

    title: str
    body: str
    kind: SourceKind
    source_name: str | None = None


@dataclass
class ImportReport:
    articles: list[KnowledgeArticle] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file name, message)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _title_from_name(path: Path) -> str:
    """``price_list-2024.pdf`` → ``Price list 2024``."""
    words = " ".join(re.sub(r"[_\-]+", " ", path.stem).split())
    return words[:1].upper() + words[1:] if words else path.name


def _pdf_text(path: Path, data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeImportError(f"{path.name} is protected by a password.", hint="Save an unprotected copy.")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except KnowledgeImportError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        log.info("reading a PDF failed: %s", type(exc).__name__)
        raise KnowledgeImportError(
            f"{path.name} could not be read as a PDF: the file is damaged or is not really a PDF.",
            hint="Open it in a PDF reader and save or print it to a new PDF, then import that. Nothing was imported.",
        ) from exc
    if not any(pages):
        raise KnowledgeImportError(
            f"{path.name} has no text Parley can read; it is probably scanned pages (images).",
            hint="Export it with text (or run it through OCR) and import it again. Nothing was imported.",
        )
    return PAGE_BREAK.join(pages)


def read_document(path: Path) -> Document:
    """Read a .txt, .md or .pdf file into a document; ``KnowledgeImportError`` when it cannot be used."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise KnowledgeImportError(f"{path.name}: only .txt, .md and .pdf files can be imported.")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise KnowledgeImportError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeImportError(f"{path.name} could not be opened: {exc.strerror or exc}.") from exc
    title = _title_from_name(path)
    if kind == "pdf":
        body = _pdf_text(path, data)
    else:
        body = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
        if kind == "markdown" and (h1 := _H1.search(body)):
            title = h1.group(1).strip()
    if not body.strip():
        raise KnowledgeImportError(f"{path.name} is empty.")
    return Document(title=title, body=body, kind=kind, source_name=path.name)


def add_document(store: Store, document: Document) -> KnowledgeArticle:
    """Store the article and its chunks together (both or neither)."""
    article = store.knowledge_articles.new(
        title=document.title, body=document.body, source_kind=document.kind, source_name=document.source_name
    )
    with store.db.transaction():
        store.knowledge_articles.add(article)
        rebuild_chunks(store, article)
    return article


def add_text(store: Store, title: str, body: str) -> KnowledgeArticle:
    """An article from pasted text (Markdown headings, if any, become chunk headings)."""
    title, body = title.strip(), body.strip()
    if not title:
        raise InvalidInput("Give the text a title.")
    if not body:
        raise InvalidInput("Paste the text to add.")
    kind: SourceKind = "markdown" if re.search(r"^\s{0,3}#{1,6}\s", body, re.MULTILINE) else "text"
    return add_document(store, Document(title=title, body=body, kind=kind, source_name=None))


def import_files(
    store: Store, paths: Sequence[Path], progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """Import each file on its own; report the articles added and, per failed file, why it failed."""
    report = ImportReport()
    total = len(paths)
    for done, path in enumerate(paths):
        if progress is not None:
            progress(done, total)
        try:
            report.articles.append(add_document(store, read_document(path)))
        except KnowledgeImportError as exc:
            report.errors.append((path.name, str(exc)))
    if progress is not None:
        progress(total, total)
    return report
