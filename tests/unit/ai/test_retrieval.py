"""Offline retrieval (BM25): free-text questions, safe queries, heading weight, citations, a 10k-chunk base."""

from __future__ import annotations

import random

import pytest

from app.ai.knowledge.importers import add_text
from app.ai.knowledge.retrieval import match_query, search, terms
from app.store.store import Store

DELIVERY = "Delivery times: orders reach Leeds, Manchester and the rest of the UK within 2 to 3 working days."


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "zu", "da", "fe"]
    return ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size)]


@pytest.fixture
def shop(store: Store) -> Store:
    add_text(store, "Shipping", f"## Delivery times\n\n{DELIVERY}\n\n## Packaging\n\nWe use recycled boxes.")
    add_text(store, "Returns policy", "## Refunds\n\nMoney back within 14 days of delivery, minus postage.")
    add_text(store, "About us", "A family shop in Leeds since 1998, selling linen and wool.")
    return store


def test_terms_drop_common_words_and_syntax() -> None:
    assert terms("How long does delivery to Leeds take?") == ["long", "delivery", "leeds", "take"]
    assert terms("the the") == ["the"], "a question of only common words still searches them"
    assert match_query('refund" OR price* NEAR(a b) -x ^col:y') is not None
    assert match_query("?!  ...") is None


def test_a_question_finds_the_passage_that_answers_it(shop: Store) -> None:
    [best, *rest] = search(shop, "how long does delivery to Leeds take?", limit=3)
    assert best.text == DELIVERY
    assert (best.title, best.heading, best.citation) == ("Shipping", "Delivery times", "[1] Shipping › Delivery times")
    assert [p.citation[:3] for p in rest] == ["[2]", "[3]"][: len(rest)]
    assert best.score > rest[0].score
    assert search(shop, "deliveries")[0].text == DELIVERY, "a plural finds the singular"


def test_heading_matches_weigh_more(store: Store) -> None:
    add_text(store, "Misc", "## Notes\n\nWe sometimes mention refunds in passing, among many other words here.")
    add_text(store, "Policies", "## Refunds\n\nMoney back within 14 days, among many other words here too.")
    assert search(store, "refunds")[0].heading == "Refunds"


@pytest.mark.parametrize(
    "query", ['"', "NOT", "a AND", "price*", "NEAR(x y)", "col:value", "(((", "-refund", "^start", "'; DROP TABLE x"]
)
def test_fts_syntax_in_a_question_is_harmless(shop: Store, query: str) -> None:
    search(shop, query)  # no FTS5 syntax error
    assert search(shop, f"{query} refunds")[0].heading == "Refunds"


def test_deleted_articles_are_not_found_even_before_reconciling(shop: Store) -> None:
    [shipping] = shop.knowledge_articles.find_all({"title": "Shipping"})
    shop.knowledge_articles.delete(shipping.id)
    assert all(p.article_id != shipping.id for p in search(shop, "delivery Leeds", limit=5))


def test_ten_thousand_chunks(store: Store) -> None:
    rng = random.Random(7)
    vocabulary = _vocabulary(rng)
    rows = []
    for n in range(100):  # 100 articles of 100 chunks, written straight to the tables (chunking is tested apart)
        article = store.knowledge_articles.add(store.knowledge_articles.new(title=f"Catalogue {n}", body="(bulk)"))
        rows += [
            (f"{article.id}:bulk:{p}", article.id, p, " ".join(rng.choices(vocabulary, k=110)), f"Part {p}")
            for p in range(100)
        ]
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO knowledge_chunks (id, article_id, position, body, heading) VALUES (?, ?, ?, ?, ?)", rows
        )
    add_text(store, "Shipping", f"## Delivery times\n\n{DELIVERY}")
    with store.db.read() as conn:
        assert conn.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0] == 10_001
    passages = search(store, "how long does delivery to Leeds take?", limit=5)
    assert passages[0].text == DELIVERY
    common = rows[0][3].split()[0]
    assert len(search(store, f"{common} delivery", limit=8)) == 8


def test_a_word_finds_its_longer_forms(store: Store) -> None:
    add_text(store, "Returns policy", "Returns are free within 30 days of delivery, in the original packaging.")
    add_text(store, "Sizes", "Shirts come in S, M and L.")
    found = search(store, "How much is it, and can I return it if it doesn't fit? Call me on +62 812 3456 7890", 3)
    assert [p.title for p in found][:1] == ["Returns policy"]
