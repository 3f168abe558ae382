"""The pipeline board on a real workspace: columns from the store, drag and drop through Qt's drop path, the editor."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from pytestqt.qtbot import QtBot

from app.core.models import Deal, PipelineStage
from app.qt import Qt, QtCore, QtGui, QtWidgets, is_alive
from app.store.deals import create_deal, default_pipeline_id
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.pipeline import COLUMN_WIDTH, MIME, CardRole, PipelinePage, StageList
from tests.support.gui import wait_idle

STAGES = ["New lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]


def _stages(store: Store) -> dict[str, PipelineStage]:
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    return {s.name: s for s in store.pipeline_stages.find_all({"pipeline_id": pipeline_id})}


def _page(qtbot: QtBot, ctx: AppContext) -> PipelinePage:
    page = PipelinePage(ctx)
    qtbot.addWidget(page)
    page.resize(1400, 700)
    page.show()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.columns[0].list.viewport().width() < COLUMN_WIDTH)  # columns laid out
    return page


def _titles(page: PipelinePage, stage: PipelineStage) -> list[str]:
    lst = page.column(stage.id).list
    return [lst.item(r).data(CardRole).deal.title for r in range(lst.count())]


E = TypeVar("E", QtGui.QDragEnterEvent, QtGui.QDragMoveEvent)


def _drag_event(cls: type[E], pos: QtCore.QPoint, *args: Any) -> E:
    """PySide6 from 6.12 takes a QPointF (and deprecates QPoint); earlier versions only take a QPoint."""
    try:
        return cls(QtCore.QPointF(pos), *args)
    except TypeError:
        return cls(pos, *args)


def _drop(target: StageList, source: StageList, deal_id: str, pos: QtCore.QPoint) -> QtGui.QDropEvent:
    """What a mouse drag does on the target: enter, move, drop, with the source's own MIME data."""
    row = source.row_of(deal_id)
    assert row >= 0
    return _deliver(target, source.mimeData([source.item(row)]), pos)


def _deliver(target: StageList, mime: QtCore.QMimeData, pos: QtCore.QPoint) -> QtGui.QDropEvent:
    assert mime.hasFormat(MIME)
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    viewport = target.viewport()
    enter = _drag_event(QtGui.QDragEnterEvent, pos, *args)
    QtWidgets.QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted(), "the column accepts a dragged card"
    move = _drag_event(QtGui.QDragMoveEvent, pos, *args)
    QtWidgets.QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    drop = QtGui.QDropEvent(QtCore.QPointF(pos), *args)
    QtWidgets.QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
    assert drop.dropAction() == Qt.DropAction.MoveAction
    return drop


def test_board_shows_the_default_pipeline_with_its_deals(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stages = _stages(store)
    lena = store.contacts.create(name="Lena Weber", phone="+4917612345678")
    create_deal(store, stages["Qualified"].id, "Hotel linens", contact_id=lena.id, value_minor=123_450)
    create_deal(store, stages["Qualified"].id, "Spare buttons", value_minor=550)
    create_deal(store, stages["Won"].id, "Gift cards", value_minor=10_000)

    page = _page(qtbot, ctx)
    assert [c.stage.name for c in page.columns] == STAGES
    assert not page.pipelines.isVisible(), "one pipeline: no selector"
    assert _titles(page, stages["Qualified"]) == ["Hotel linens", "Spare buttons"]
    assert _titles(page, stages["Won"]) == ["Gift cards"]
    assert _titles(page, stages["New lead"]) == []
    qualified = page.column(stages["Qualified"].id)
    assert qualified.count.text() == "2"
    assert qualified.total.text() == "$1,240.00"
    card = qualified.list.item(0).data(CardRole)
    assert (card.contact, card.owner) == ("Lena Weber", "Ana Owner")

    store.contacts.update(lena.id, name="Lena W.")
    qtbot.waitUntil(lambda: page.column(stages["Qualified"].id).list.item(0).data(CardRole).contact == "Lena W.")


def test_dragging_a_card_to_another_column_moves_the_deal(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stages = _stages(store)
    deal = create_deal(store, stages["New lead"].id, "Wedding dresses", value_minor=90_000)
    create_deal(store, stages["Proposal"].id, "Already there")
    page = _page(qtbot, ctx)
    source = page.column(stages["New lead"].id).list
    target = page.column(stages["Proposal"].id).list

    below_last = QtCore.QPoint(20, target.viewport().height() - 5)
    _drop(target, source, deal.id, below_last)
    assert _titles(page, stages["Proposal"]) == ["Already there", "Wedding dresses"], "shown at once"
    wait_idle(qtbot, ctx)

    moved: Deal = store.deals.get(deal.id)
    assert (moved.stage_id, moved.status) == (stages["Proposal"].id, "open")
    assert _titles(page, stages["Proposal"]) == ["Already there", "Wedding dresses"]
    assert _titles(page, stages["New lead"]) == []
    assert page.column(stages["Proposal"].id).count.text() == "2"
    assert page.column(stages["New lead"].id).total.text() == "$0.00"

    won = page.column(stages["Won"].id).list
    _drop(won, target, deal.id, QtCore.QPoint(20, 10))
    wait_idle(qtbot, ctx)
    closed = store.deals.get(deal.id)
    assert (closed.stage_id, closed.status) == (stages["Won"].id, "won")
    assert closed.closed_at is not None
    assert _titles(page, stages["Won"]) == ["Wedding dresses"]


def test_a_mouse_drag_carries_the_deal_to_the_drop(
    qtbot: QtBot, ctx: AppContext, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Press and move on a card starts a QDrag; the offscreen platform cannot run one, so its exec delivers it."""
    stages = _stages(store)
    deal = create_deal(store, stages["New lead"].id, "Dress")
    page = _page(qtbot, ctx)
    source = page.column(stages["New lead"].id).list
    target = page.column(stages["Negotiation"].id).list
    started: list[QtGui.QDrag] = []

    def exec_(drag: QtGui.QDrag, *actions: Qt.DropAction) -> Qt.DropAction:
        started.append(drag)
        assert not drag.pixmap().isNull()
        return _deliver(target, drag.mimeData(), QtCore.QPoint(20, 20)).dropAction()

    monkeypatch.setattr(QtGui.QDrag, "exec", exec_)
    start = source.visualItemRect(source.item(0)).center()
    qtbot.mousePress(source.viewport(), Qt.MouseButton.LeftButton, pos=start)
    distance = QtWidgets.QApplication.startDragDistance() + 5
    qtbot.mouseMove(source.viewport(), start + QtCore.QPoint(distance, distance))
    assert len(started) == 1
    qtbot.mouseRelease(source.viewport(), Qt.MouseButton.LeftButton, pos=start)
    wait_idle(qtbot, ctx)
    assert store.deals.get(deal.id).stage_id == stages["Negotiation"].id
    assert _titles(page, stages["Negotiation"]) == ["Dress"]


def test_dropping_inside_a_column_reorders(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stage = _stages(store)["Qualified"]
    for title in ("a", "b", "c"):
        create_deal(store, stage.id, title)
    page = _page(qtbot, ctx)
    lst = page.column(stage.id).list
    c_id = lst.item(2).data(CardRole).deal.id

    top_of_first = lst.visualItemRect(lst.item(0)).topLeft() + QtCore.QPoint(10, 3)
    _drop(lst, lst, c_id, top_of_first)
    wait_idle(qtbot, ctx)
    assert _titles(page, stage) == ["c", "a", "b"]
    assert [d.title for d in store.deals.find_all({"stage_id": stage.id}, order_by="position")] == ["c", "a", "b"]

    a_id = lst.item(1).data(CardRole).deal.id
    _drop(lst, lst, a_id, lst.visualItemRect(lst.item(2)).bottomLeft() + QtCore.QPoint(10, -3))
    wait_idle(qtbot, ctx)
    assert [d.title for d in store.deals.find_all({"stage_id": stage.id}, order_by="position")] == ["c", "b", "a"]
    assert _titles(page, stage) == ["c", "b", "a"]


def test_a_foreign_drop_is_refused(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    lst = page.columns[0].list
    mime = QtCore.QMimeData()
    mime.setText("not a deal")
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = _drag_event(QtGui.QDragEnterEvent, QtCore.QPoint(10, 10), *args)
    QtWidgets.QApplication.sendEvent(lst.viewport(), enter)
    assert not enter.isAccepted()
    drop = QtGui.QDropEvent(QtCore.QPointF(10, 10), *args)
    QtWidgets.QApplication.sendEvent(lst.viewport(), drop)
    assert not drop.isAccepted()
    assert ctx.tasks.idle


def test_new_deal_through_the_editor(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stages = _stages(store)
    lena = store.contacts.create(name="Lena Weber", phone="+4917612345678")
    store.contacts.create(name="Rui Costa")
    page = _page(qtbot, ctx)

    page.new_button.click()
    dialog = page.editor
    assert dialog is not None
    wait_idle(qtbot, ctx)  # the contact list loads when the dialog shows
    assert dialog.contact.is_loaded
    dialog.save_button.click()
    assert dialog.error.text() == "Give the deal a title."
    dialog.title.setText("Summer collection")
    dialog.value.setText("abc")
    dialog.save_button.click()
    assert "not an amount" in dialog.error.text()
    dialog.value.setText("1,200.50")
    dialog.contact.setEditText("Nobody")
    dialog.save_button.click()
    assert "No contact called" in dialog.error.text()
    dialog.contact.select_text("Lena")
    dialog.stage.setCurrentIndex(dialog.stage.findText("Proposal"))
    dialog.close_check.setChecked(True)
    dialog.close_date.setDate(QtCore.QDate(2030, 6, 15))
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()
    wait_idle(qtbot, ctx)

    [deal] = store.deals.find_all({"title": "Summer collection"})
    assert (deal.stage_id, deal.contact_id, deal.value_minor, deal.currency) == (
        stages["Proposal"].id,
        lena.id,
        120_050,
        "USD",
    )
    assert deal.owner_user_id == store.local_user_id
    assert deal.expected_close_at is not None
    assert deal.expected_close_at.astimezone().date().isoformat() == "2030-06-15"
    assert _titles(page, stages["Proposal"]) == ["Summer collection"]
    assert page.editor is None


def test_double_click_edits_and_moves_through_the_editor(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stages = _stages(store)
    deal = create_deal(store, stages["Negotiation"].id, "Uniforms", value_minor=5_000)
    page = _page(qtbot, ctx)
    lst = page.column(stages["Negotiation"].id).list
    rect = lst.visualItemRect(lst.item(0))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = page.editor
    assert dialog is not None
    shown = (dialog.title.text(), dialog.value.text(), dialog.stage.currentText())
    assert shown == ("Uniforms", "50.00", "Negotiation")
    wait_idle(qtbot, ctx)
    dialog.value.setText("75")
    dialog.stage.setCurrentIndex(dialog.stage.findText("Won"))
    dialog.save_button.click()
    wait_idle(qtbot, ctx)
    saved = store.deals.get(deal.id)
    assert (saved.value_minor, saved.status, saved.stage_id) == (7_500, "won", stages["Won"].id)
    assert _titles(page, stages["Won"]) == ["Uniforms"]


def test_several_pipelines_get_a_selector(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    wholesale = store.pipelines.create(name="Wholesale", position=1)
    inbound = store.pipeline_stages.create(pipeline_id=wholesale.id, name="Inbound", position=0)
    store.pipeline_stages.create(pipeline_id=wholesale.id, name="Shipped", position=1, stage_kind="won")
    create_deal(store, inbound.id, "Pallet of shirts")
    qtbot.waitUntil(page.pipelines.isVisible)
    assert [c.stage.name for c in page.columns] == STAGES, "stays on the default pipeline"

    page.pipelines.setCurrentIndex(page.pipelines.findData(wholesale.id))
    wait_idle(qtbot, ctx)
    assert [c.stage.name for c in page.columns] == ["Inbound", "Shipped"]
    assert _titles(page, inbound) == ["Pallet of shirts"]
    dialog = page.new_deal()
    assert [dialog.stage.itemText(i) for i in range(dialog.stage.count())] == ["Inbound", "Shipped"]
    dialog.reject()


def test_the_card_menu_moves_without_dragging(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    stages = _stages(store)
    deal = create_deal(store, stages["Proposal"].id, "Uniforms")
    page = _page(qtbot, ctx)
    menu = page.card_menu(deal.id)  # what a right click on the card pops up
    [move_to] = [a.menu() for a in menu.actions() if a.text() == "Move to"]
    assert isinstance(move_to, QtWidgets.QMenu)
    assert [a.text() for a in move_to.actions()] == [s for s in STAGES if s != "Proposal"]
    next(a for a in move_to.actions() if a.text() == "Lost").trigger()
    wait_idle(qtbot, ctx)
    assert store.deals.get(deal.id).status == "lost"
    assert _titles(page, stages["Lost"]) == ["Uniforms"]


def test_a_closed_deal_editor_is_deleted_and_forgotten(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    page = _page(qtbot, ctx)
    dialogs = []
    for _ in range(3):
        dialog = page.new_deal()
        dialogs.append(dialog)
        assert page.editor is dialog
        dialog.reject()
        assert page.editor is None
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: not any(is_alive(d) for d in dialogs))
    assert page.findChildren(QtWidgets.QDialog) == []
