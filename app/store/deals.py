"""Moving deals through a pipeline, and reading a pipeline as a board.

A move is one transaction: the deal's stage, position, status and ``closed_at`` change together, the move is
audited, and ``DealStageChanged`` is published only once the transaction commits (and only when the stage really
changed; reordering inside a column is not a stage change). Card order within a stage is a float ``position`` so a
card dropped between two others takes the midpoint and no other row needs rewriting; when two neighbours get too
close for a midpoint the stage is renumbered first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.core.events import DealStageChanged
from app.core.ids import utc_now
from app.core.models import Deal, PipelineStage
from app.store.store import Store

# Below this gap a midpoint is no longer reliably distinct from its neighbours: renumber the stage instead.
MIN_GAP = 1e-6

Board = list[tuple[PipelineStage, list[Deal]]]


def position_between(before: float | None, after: float | None) -> float:
    """A position strictly between two neighbours' positions (``None``: no neighbour on that side)."""
    if before is None and after is None:
        return 1.0
    if before is None:
        assert after is not None
        return after - 1.0
    if after is None:
        return before + 1.0
    return (before + after) / 2


def stage_deals(store: Store, stage_id: str, *, excluding: str | None = None) -> list[Deal]:
    """The cards of a stage in board order."""
    return [d for d in store.deals.find_all({"stage_id": stage_id}, order_by="position") if d.id != excluding]


def _renumber(store: Store, deals: list[Deal]) -> list[Deal]:
    """Spread the positions of ``deals`` (already in order) to 1, 2, 3… and return them updated."""
    return [store.deals.update(d.id, position=float(n)) for n, d in enumerate(deals, start=1)]


def position_at(store: Store, stage_id: str, index: int, *, moving_id: str | None = None) -> float:
    """The position for a card inserted at ``index`` among the stage's other cards (may renumber the stage)."""
    with store.db.transaction():
        others = stage_deals(store, stage_id, excluding=moving_id)
        index = max(0, min(index, len(others)))
        before = others[index - 1].position if index > 0 else None
        after = others[index].position if index < len(others) else None
        if before is not None and after is not None and after - before < MIN_GAP:
            others = _renumber(store, others)
            before, after = others[index - 1].position, others[index].position
        return position_between(before, after)


def move_deal(
    store: Store,
    deal_id: str,
    stage_id: str,
    position: float | None = None,
    *,
    index: int | None = None,
) -> Deal:
    """Put a deal in ``stage_id`` at ``position`` (or at card ``index``; neither: after the stage's last card).

    The status follows the stage's kind; ``closed_at`` is set when the deal enters a won or lost stage and cleared
    when it goes back to an open one.
    """
    with store.db.transaction():
        deal = store.deals.get(deal_id)
        stage = store.pipeline_stages.get(stage_id)
        if position is None:
            if index is None:
                others = stage_deals(store, stage_id, excluding=deal_id)
                position = position_between(others[-1].position if others else None, None)
            else:
                position = position_at(store, stage_id, index, moving_id=deal_id)
        status = stage.stage_kind
        closed_at = deal.closed_at
        if status == "open":
            closed_at = None
        elif status != deal.status or closed_at is None:
            closed_at = utc_now()
        moved = store.deals.update(
            deal_id,
            pipeline_id=stage.pipeline_id,
            stage_id=stage_id,
            position=position,
            status=status,
            closed_at=closed_at,
        )
        store.audit_log.create(
            action="deal.moved",
            actor_user_id=store.local_user_id,
            entity="deal",
            entity_id=deal_id,
            detail={"from_stage_id": deal.stage_id, "to_stage_id": stage_id, "position": position, "status": status},
        )
        if stage_id != deal.stage_id:
            store.emit(
                DealStageChanged(
                    org_id=store.org_id, deal_id=deal_id, from_stage_id=deal.stage_id, to_stage_id=stage_id
                )
            )
    return moved


def create_deal(store: Store, stage_id: str, title: str, **fields: Any) -> Deal:
    """A new deal at the bottom of ``stage_id``, owned by this device's user unless ``owner_user_id`` is given.

    Entering the board counts as a stage change (from no stage), so automations see new deals too.
    """
    with store.db.transaction():
        stage = store.pipeline_stages.get(stage_id)
        fields.setdefault("owner_user_id", store.local_user_id)
        deal = store.deals.create(
            pipeline_id=stage.pipeline_id,
            stage_id=stage_id,
            title=title,
            position=next_position(store, stage_id),
            status=stage.stage_kind,
            closed_at=None if stage.stage_kind == "open" else utc_now(),
            **fields,
        )
        store.audit_log.create(
            action="deal.created", actor_user_id=store.local_user_id, entity="deal", entity_id=deal.id
        )
        store.emit(DealStageChanged(org_id=store.org_id, deal_id=deal.id, from_stage_id=None, to_stage_id=stage_id))
    return deal


def next_position(store: Store, stage_id: str) -> float:
    """The position of a new card added at the bottom of a stage."""
    others = stage_deals(store, stage_id)
    return position_between(others[-1].position if others else None, None)


def pipeline_board(store: Store, pipeline_id: str) -> Board:
    """Every stage of a pipeline (by stage position) with its deals (by card position)."""
    stages = store.pipeline_stages.find_all({"pipeline_id": pipeline_id}, order_by="position")
    columns: dict[str, list[Deal]] = {s.id: [] for s in stages}
    for deal in store.deals.find_all({"pipeline_id": pipeline_id}, order_by="position"):
        if deal.stage_id in columns:
            columns[deal.stage_id].append(deal)
    return [(s, columns[s.id]) for s in stages]


def default_pipeline_id(store: Store) -> str | None:
    """The pipeline a board opens on: the one marked default, else the first."""
    pipelines = store.pipelines.find_all(order_by="position")
    chosen = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
    return chosen.id if chosen else None


@dataclass
class StageTotals:
    """A column's figures; amounts are per currency since a board may mix them."""

    count: int = 0
    value: dict[str, int] = field(default_factory=dict)
    weighted: dict[str, int] = field(default_factory=dict)


def stage_totals(stage: PipelineStage, deals: Iterable[Deal]) -> StageTotals:
    """Count, sum of values and value weighted by the stage's probability (rounded to a minor unit)."""
    totals = StageTotals()
    for deal in deals:
        totals.count += 1
        totals.value[deal.currency] = totals.value.get(deal.currency, 0) + deal.value_minor
    totals.weighted = {cur: round(amount * stage.probability / 100) for cur, amount in totals.value.items()}
    return totals


def board_totals(board: Board) -> dict[str, StageTotals]:
    """Totals for every column of a board, keyed by stage id."""
    return {stage.id: stage_totals(stage, deals) for stage, deals in board}


def contact_names(store: Store, contact_ids: Iterable[str | None]) -> dict[str, str]:
    """Display names (name, else phone) of the given contacts, in one query."""
    ids = sorted({c for c in contact_ids if c})
    if not ids:
        return {}
    names: dict[str, str] = {}
    with store.db.read() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(
                f"SELECT id, name, phone FROM contacts WHERE org_id = ? AND deleted_at IS NULL AND id IN ({marks})",
                [store.org_id, *chunk],
            )
            for contact_id, name, phone in rows:
                names[str(contact_id)] = str(name or phone or "")
    return names
