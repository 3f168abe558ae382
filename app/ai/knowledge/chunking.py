"""Cutting an article into passages small enough to cite and to fit in a prompt.

A chunk never spans two sections: Markdown headings (and PDF pages) start a new one, and each chunk carries the
heading it sits under so search can weigh it and a citation can name it. Inside a section, whole paragraphs are
packed up to ``TARGET_CHARS``; a paragraph longer than that is cut at a sentence end, else at a space — never
inside a word (a single word longer than the target stays whole). Consecutive chunks of a section share about
``OVERLAP_CHARS`` of text, so a fact cut at a boundary is still found with its context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_CHARS = 800
OVERLAP_CHARS = 120
PAGE_BREAK = "\f"  # PDF importers separate pages with it; each page becomes a section "Page N"
CHUNKING_VERSION = 1  # bump when the rules change, so every article is chunked again

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BLANK_LINES = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?…:;]\s")


@dataclass(frozen=True)
class ChunkDraft:
    heading: str
    body: str
    token_count: int


def estimate_tokens(text: str) -> int:
    """About four characters per token for English-like text (what the prompt budget needs, not an exact count)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def sections(title: str, body: str, kind: str) -> list[tuple[str, str]]:
    """(heading, text) pairs: Markdown split at its headings, PDF at its pages, anything else one section."""
    if kind == "pdf" and PAGE_BREAK in body:
        return [(f"Page {n}", page) for n, page in enumerate(body.split(PAGE_BREAK), start=1)]
    if kind != "markdown":
        return [(title, body)]
    out: list[tuple[str, str]] = []
    heading, lines = title, list[str]()
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            out.append((heading, "\n".join(lines)))
            heading, lines = match.group(2).strip(), []
        else:
            lines.append(line)
    out.append((heading, "\n".join(lines)))
    return out


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in _BLANK_LINES.split(text) if p.strip()]


def _cut(text: str, limit: int) -> int:
    """Where to end a piece of ``text`` of at most ``limit`` characters: after a sentence, else at a space."""
    if len(text) <= limit:
        return len(text)
    window = text[: limit + 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] > limit // 2:
        return ends[-1]
    space = window.rfind(" ")
    if space > 0:
        return space + 1
    space = text.find(" ", limit)  # one word longer than the limit: keep it whole
    return len(text) if space < 0 else space + 1


def _pieces(paragraph: str, limit: int) -> list[str]:
    out = []
    rest = paragraph
    while rest:
        end = _cut(rest, limit)
        out.append(rest[:end].strip())
        rest = rest[end:].lstrip()
    return [p for p in out if p]


def _tail(text: str, size: int) -> str:
    """The last ``size`` or so characters of ``text``, starting at a word."""
    if size <= 0 or len(text) <= size:
        return "" if size <= 0 else text
    start = text.find(" ", len(text) - size)
    return "" if start < 0 else text[start + 1 :]


def chunk_section(heading: str, text: str, *, target: int = TARGET_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """The chunk bodies of one section."""
    chunks: list[str] = []
    current = ""
    for paragraph in _paragraphs(text):
        for piece in _pieces(paragraph, target):
            joined = f"{current}\n\n{piece}" if current else piece
            if not current or len(joined) <= target:
                current = joined
                continue
            chunks.append(current)
            carry = _tail(current, overlap)
            current = f"{carry} {piece}" if carry and len(carry) + 1 + len(piece) <= target + overlap else piece
    if current:
        chunks.append(current)
    return chunks


def chunk_article(
    title: str, body: str, kind: str = "text", *, target: int = TARGET_CHARS, overlap: int = OVERLAP_CHARS
) -> list[ChunkDraft]:
    """Every chunk of an article, in reading order (none for an empty body)."""
    drafts: list[ChunkDraft] = []
    for heading, text in sections(title, body, kind):
        for chunk in chunk_section(heading, text, target=target, overlap=overlap):
            drafts.append(ChunkDraft(heading=heading or title, body=chunk, token_count=estimate_tokens(chunk)))
    return drafts
