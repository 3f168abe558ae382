"""Chunking: sections from Markdown headings and PDF pages, sizes near the target, overlap, words kept whole."""

from __future__ import annotations

import itertools
import re

from app.ai.knowledge.chunking import OVERLAP_CHARS, TARGET_CHARS, chunk_article, estimate_tokens

WORDS = ["refund", "parcel", "courier", "invoice", "receipt", "warranty", "exchange", "voucher", "delivery", "tracking"]


def _prose(n_words: int, seed: int = 0) -> str:
    words = [WORDS[(i * 7 + seed) % len(WORDS)] + str(i) for i in range(n_words)]
    sentences = [" ".join(words[i : i + 12]).capitalize() + "." for i in range(0, n_words, 12)]
    return " ".join(sentences)


def test_markdown_headings_become_chunk_headings() -> None:
    body = "# Returns policy\n\nIntro line.\n\n## Refunds\n\nMoney back in 14 days.\n\n## Exchanges\n\nSwap any size."
    chunks = chunk_article("Returns policy", body, "markdown")
    assert [(c.heading, c.body) for c in chunks] == [
        ("Returns policy", "Intro line."),
        ("Refunds", "Money back in 14 days."),
        ("Exchanges", "Swap any size."),
    ]


def test_text_without_headings_uses_the_title_and_a_hash_in_code_is_not_a_heading() -> None:
    assert [c.heading for c in chunk_article("Notes", "one\n\ntwo", "text")] == ["Notes"]
    body = "```\n# not a heading\n```\n\nafter"
    assert {c.heading for c in chunk_article("Doc", body, "markdown")} == {"Doc"}


def test_pdf_pages_are_sections() -> None:
    chunks = chunk_article("Price list", "first page\fsecond page", "pdf")
    assert [(c.heading, c.body) for c in chunks] == [("Page 1", "first page"), ("Page 2", "second page")]


def test_long_text_is_cut_near_the_target_with_overlap_and_whole_words() -> None:
    text = "\n\n".join(_prose(60, seed) for seed in range(12))  # ~12 paragraphs of ~500 characters
    chunks = chunk_article("Policy", text, "text")
    assert len(chunks) > 5
    source_words = set(re.findall(r"\S+", text))
    for chunk in chunks:
        assert len(chunk.body) <= TARGET_CHARS + OVERLAP_CHARS + 1
        assert set(re.findall(r"\S+", chunk.body)) <= source_words, "no word was cut in two"
        assert chunk.token_count == estimate_tokens(chunk.body)
    for before, after in itertools.pairwise(chunks):
        assert after.body.split()[0] in before.body, "consecutive chunks share some text"
    assert sum(len(c.body) for c in chunks) < len(text) * 1.4


def test_one_huge_paragraph_and_one_huge_word() -> None:
    text = _prose(400)
    chunks = chunk_article("T", text, "text")
    assert all(len(c.body) <= TARGET_CHARS + OVERLAP_CHARS + 1 for c in chunks)
    assert all(c.body[-1] in ".0123456789" or c.body.split()[-1] in text.split() for c in chunks)
    giant = "x" * 2000
    [only] = chunk_article("T", giant, "text")
    assert only.body == giant


def test_empty_body_has_no_chunks() -> None:
    assert chunk_article("T", "  \n\n ", "text") == []
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
