"""Moving deals on the board: status and closing follow the stage, one event per stage change, midpoint ordering."""

from __future__ import annotations

import pytest

from app.core.errors import NotFound
from app.core.events import DealStageChanged
from app.core.models import Deal, PipelineStage
from app.store.deals import (
    board_totals,
    contact_names,
    create_deal,
    default_pipeline_id,
    move_deal,
    next_position,
    pipeline_board,
    position_between,
    stage_deals,
    stage_totals,
)
from app.store.store import Store


def _stages(store: Store) -> dict[str, PipelineStage]:
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    return {s.name: s for s in store.pipeline_stages.find_all({"pipeline_id": pipeline_id})}


def _deal(store: Store, stage: PipelineStage, title: str, value: int = 0, position: float | None = None) -> Deal:
    return store.deals.create(
        pipeline_id=stage.pipeline_id,
        stage_id=stage.id,
        title=title,
        value_minor=value,
        position=next_position(store, stage.id) if position is None else position,
    )


def test_move_across_stages_sets_status_closing_and_one_event_after_commit(store: Store) -> None:
    stages = _stages(store)
    deal = _deal(store, stages["New lead"], "Wedding dresses")
    got: list[DealStageChanged] = []
    store.bus.subscribe(DealStageChanged, got.append)

    with store.db.transaction():
        won = move_deal(store, deal.id, stages["Won"].id)
        assert got == [], "published only after the commit"
    assert (won.status, won.stage_id) == ("won", stages["Won"].id)
    assert won.closed_at is not None
    assert store.deals.get(deal.id) == won
    assert [(e.deal_id, e.from_stage_id, e.to_stage_id) for e in got] == [
        (deal.id, stages["New lead"].id, stages["Won"].id)
    ]
    assert [s.name for s in store.events.pending()] == ["deal.stage_changed"]

    again = move_deal(store, deal.id, stages["Won"].id, 5.0)  # reordering inside the column
    assert len(got) == 1, "no stage change, no event"
    assert again.closed_at == won.closed_at, "still the same closing"

    lost = move_deal(store, deal.id, stages["Lost"].id)
    assert lost.status == "lost"
    assert lost.closed_at is not None

    reopened = move_deal(store, deal.id, stages["Proposal"].id)
    assert (reopened.status, reopened.closed_at) == ("open", None)
    assert len(got) == 3
    audit = store.audit_log.find_all({"entity_id": deal.id})
    assert [a.detail["to_stage_id"] for a in audit] == [stages[n].id for n in ("Won", "Won", "Lost", "Proposal")]


def test_a_failed_move_changes_nothing(store: Store) -> None:
    stages = _stages(store)
    deal = _deal(store, stages["New lead"], "Order")
    got: list[DealStageChanged] = []
    store.bus.subscribe(DealStageChanged, got.append)
    with pytest.raises(NotFound):
        move_deal(store, deal.id, "no-such-stage")
    with pytest.raises(RuntimeError), store.db.transaction():
        move_deal(store, deal.id, stages["Won"].id)
        raise RuntimeError("rolled back")
    assert store.deals.get(deal.id).status == "open"
    assert got == []
    assert store.events.pending() == []


def test_drops_between_cards_take_the_midpoint(store: Store) -> None:
    stages = _stages(store)
    new, qualified = stages["New lead"], stages["Qualified"]
    a, b, c = (_deal(store, new, t) for t in "abc")
    assert [d.position for d in stage_deals(store, new.id)] == [1.0, 2.0, 3.0]

    move_deal(store, c.id, new.id, index=1)  # c between a and b
    assert [d.title for d in stage_deals(store, new.id)] == ["a", "c", "b"]
    assert store.deals.get(c.id).position == 1.5

    move_deal(store, a.id, new.id, index=3)  # a to the bottom (index counted without a itself)
    assert [d.title for d in stage_deals(store, new.id)] == ["c", "b", "a"]

    x = _deal(store, qualified, "x")
    move_deal(store, x.id, new.id, index=0)
    assert [d.title for d in stage_deals(store, new.id)] == ["x", "c", "b", "a"]
    assert store.deals.get(x.id).position < store.deals.get(c.id).position
    move_deal(store, b.id, qualified.id)  # no position: after the last card
    assert [d.title for d in stage_deals(store, qualified.id)] == ["b"]


def test_crowded_neighbours_are_renumbered(store: Store) -> None:
    new = _stages(store)["New lead"]
    _deal(store, new, "a", position=1.0)
    _deal(store, new, "b", position=1.0 + 1e-9)
    c = _deal(store, new, "c")
    move_deal(store, c.id, new.id, index=1)
    ordered = stage_deals(store, new.id)
    assert [d.title for d in ordered] == ["a", "c", "b"]
    assert len({d.position for d in ordered}) == 3


def test_position_between() -> None:
    assert position_between(None, None) == 1.0
    assert position_between(None, 4.0) == 3.0
    assert position_between(4.0, None) == 5.0
    assert position_between(1.0, 2.0) == 1.5


def test_board_orders_stages_and_cards(store: Store) -> None:
    stages = _stages(store)
    pipeline_id = stages["Won"].pipeline_id
    _deal(store, stages["Qualified"], "second", position=2.0)
    _deal(store, stages["Qualified"], "first", position=1.0)
    _deal(store, stages["Won"], "done")
    other = store.pipelines.create(name="Wholesale")
    other_stage = store.pipeline_stages.create(pipeline_id=other.id, name="Inbound")
    _deal(store, other_stage, "elsewhere")

    board = pipeline_board(store, pipeline_id)
    assert [s.name for s, _ in board] == ["New lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    columns = {s.name: [d.title for d in deals] for s, deals in board}
    assert columns["Qualified"] == ["first", "second"]
    assert columns["Won"] == ["done"]
    assert sum(len(d) for d in columns.values()) == 3
    assert [s.name for s, _ in pipeline_board(store, other.id)] == ["Inbound"]


def test_totals_sum_and_weight_by_probability(store: Store) -> None:
    stages = _stages(store)
    proposal = stages["Proposal"]  # 60 %
    _deal(store, proposal, "a", value=10_000)
    _deal(store, proposal, "b", value=2_555)
    eur = _deal(store, proposal, "c", value=1_000)
    store.deals.update(eur.id, currency="EUR")

    totals = stage_totals(proposal, stage_deals(store, proposal.id))
    assert totals.count == 3
    assert totals.value == {"USD": 12_555, "EUR": 1_000}
    assert totals.weighted == {"USD": 7_533, "EUR": 600}

    by_stage = board_totals(pipeline_board(store, proposal.pipeline_id))
    assert by_stage[proposal.id].value == totals.value
    assert by_stage[stages["Lost"].id].count == 0
    assert by_stage[stages["Lost"].id].value == {}


def test_contact_names(store: Store) -> None:
    ana = store.contacts.create(name="Ana")
    anon = store.contacts.create(phone="+34600000000")
    assert contact_names(store, [ana.id, anon.id, None, "missing"]) == {ana.id: "Ana", anon.id: "+34600000000"}
    assert contact_names(store, []) == {}


def test_create_deal_enters_the_board_at_the_bottom(store: Store) -> None:
    stages = _stages(store)
    got: list[DealStageChanged] = []
    store.bus.subscribe(DealStageChanged, got.append)
    first = create_deal(store, stages["Qualified"].id, "First", value_minor=100)
    second = create_deal(store, stages["Qualified"].id, "Second")
    assert (first.status, first.closed_at, first.owner_user_id) == ("open", None, store.local_user_id)
    assert second.position > first.position
    won = create_deal(store, stages["Won"].id, "Walk-in", owner_user_id=None)
    assert won.status == "won"
    assert won.closed_at is not None
    assert won.owner_user_id is None
    assert [(e.from_stage_id, e.to_stage_id) for e in got][-1] == (None, stages["Won"].id)
    assert len(got) == 3
    assert store.audit_log.count({"action": "deal.created"}) == 3
