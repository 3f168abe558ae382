"""Pipeline columns fit the page when they can and scroll sideways with a visible bar when they cannot: every column
keeps a readable width, Shift+wheel scrolls the board sideways, and a card dragged to the board's edge scrolls it."""

from __future__ import annotations

from typing import Any, TypeVar

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.deals import create_deal, default_pipeline_id
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.pipeline import CardRole, PipelinePage, StageList
from tests.support.gui import wait_idle

READABLE = 200  # a card's title, contact, value and owner still fit


def add_stages(store: Store, count: int) -> None:
    """The default pipeline with ``count`` more stages after its own six."""
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    for n in range(count):
        store.pipeline_stages.create(pipeline_id=pipeline_id, name=f"Extra {n + 1}", position=100 + n)


def page_at(qtbot: QtBot, ctx: AppContext, width: int) -> PipelinePage:
    page = PipelinePage(ctx)
    qtbot.addWidget(page)
    page.resize(width, 600)
    page.show()
    qtbot.waitExposed(page)
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: bool(page.columns) and page.columns[-1].width() > 0)
    qtbot.waitUntil(lambda: page.strip.width() >= page.strip_layout.minimumSize().width())  # the board laid out
    return page


def test_many_stages_scroll_sideways_with_a_visible_bar(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    add_stages(store, 3)  # nine columns
    page = page_at(qtbot, ctx, 800)
    assert len(page.columns) == 9
    bar = page.board_scroll.horizontalScrollBar()
    qtbot.waitUntil(bar.isVisible)
    assert bar.maximum() > 0
    for column in page.columns:
        assert column.width() >= READABLE, column.stage.name
    bar.setValue(bar.maximum())
    last = page.columns[-1]
    viewport = page.board_scroll.viewport()
    right = last.mapTo(viewport, QtCore.QPoint(last.width() - 1, 0)).x()
    assert right < viewport.width(), "scrolled to the end, the last column is shown whole"


def test_a_few_stages_fit_the_page_without_a_bar(qtbot: QtBot, ctx: AppContext) -> None:
    page = page_at(qtbot, ctx, 1300)  # six columns of 250 px would not fit; of 200 px and more they do
    bar = page.board_scroll.horizontalScrollBar()
    qtbot.waitUntil(lambda: page.strip.width() <= page.board_scroll.viewport().width())
    assert not bar.isVisible()
    viewport = page.board_scroll.viewport()
    for column in page.columns:
        assert column.width() >= READABLE
        assert column.mapTo(viewport, QtCore.QPoint(column.width(), 0)).x() <= viewport.width(), column.stage.name


def wheel(target: QtWidgets.QWidget, dy: int, modifiers: Qt.KeyboardModifier) -> None:
    pos = QtCore.QPointF(target.rect().center())
    event = QtGui.QWheelEvent(
        pos,
        QtCore.QPointF(target.mapToGlobal(pos.toPoint())),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, dy),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(target, event)


def test_shift_wheel_scrolls_the_board_sideways(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    add_stages(store, 3)
    page = page_at(qtbot, ctx, 800)
    bar = page.board_scroll.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    column = page.columns[0].list.viewport()
    wheel(column, -120, Qt.KeyboardModifier.ShiftModifier)  # one notch down: to the right
    assert bar.value() > 0
    moved = bar.value()
    wheel(column, 120, Qt.KeyboardModifier.ShiftModifier)
    assert bar.value() < moved
    wheel(column, -120, Qt.KeyboardModifier.NoModifier)  # without Shift the wheel is the column's own
    assert bar.value() < moved


E = TypeVar("E", QtGui.QDragEnterEvent, QtGui.QDragMoveEvent)


def _drag_event(cls: type[E], pos: QtCore.QPoint, *args: Any) -> E:
    try:
        return cls(QtCore.QPointF(pos), *args)
    except TypeError:  # PySide6 before 6.12 takes a QPoint
        return cls(pos, *args)


def _under(widget: QtWidgets.QWidget, point: QtCore.QPoint) -> bool:
    return widget.rect().contains(widget.mapFromGlobal(point))


def test_a_card_dragged_to_the_edge_scrolls_the_board(qtbot: QtBot, ctx: AppContext, store: Store) -> None:
    add_stages(store, 3)
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    first = store.pipeline_stages.find_all({"pipeline_id": pipeline_id}, order_by="position")[0]
    deal = create_deal(store, first.id, "Hotel linens")
    page = page_at(qtbot, ctx, 800)
    bar = page.board_scroll.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and page.columns[0].list.count() == 1)
    source = page.columns[0].list
    mime = source.mimeData([source.item(0)])
    viewport = page.board_scroll.viewport()
    edge = viewport.mapToGlobal(QtCore.QPoint(viewport.width() - 5, viewport.height() // 2))
    target: StageList = next(c.list for c in page.columns if _under(c.list.viewport(), edge))
    pos = target.viewport().mapFromGlobal(edge)
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(target.viewport(), _drag_event(QtGui.QDragEnterEvent, pos, *args))
    QtWidgets.QApplication.sendEvent(target.viewport(), _drag_event(QtGui.QDragMoveEvent, pos, *args))
    qtbot.waitUntil(lambda: bar.value() >= min(bar.maximum(), 100))
    QtWidgets.QApplication.sendEvent(target.viewport(), QtGui.QDragLeaveEvent())
    assert not page.edge_scroll.active, "leaving the column stops the scrolling"
    assert deal.id in _titles_and_ids(page)


def _titles_and_ids(page: PipelinePage) -> set[str]:
    return {c.list.item(r).data(CardRole).deal.id for c in page.columns for r in range(c.list.count())}
