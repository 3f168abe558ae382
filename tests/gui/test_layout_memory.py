"""Splitters, panels and the window come back as they were left: a new page over the same workspace (what a restart
builds) gets the sizes a drag or a quit saved, per device in the workspace's settings, and a saved layout that does
not fit (another screen, a collapsed pane, absurd numbers) never squeezes a pane below its minimum."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.context import AppContext
from app.ui.layout_memory import SplitterMemory, fit
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage
from app.ui.pages.knowledge import KnowledgePage
from tests.support.inbox import make_page


def drag_handle(qtbot: QtBot, splitter: QtWidgets.QSplitter, index: int, dx: int) -> None:
    """Drag the handle before pane ``index`` by ``dx`` pixels, as a mouse does (QSplitterHandle reads the global
    position of each move)."""
    handle = splitter.handle(index)
    start = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    end = start + QtCore.QPoint(dx, 0)
    move = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPointF(end),
        QtCore.QPointF(handle.mapToGlobal(end)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(handle, move)
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=end)


def saved(ctx: AppContext, name: str) -> object:
    return ctx.settings.internal.layout.get(name)


def minimums(splitter: QtWidgets.QSplitter) -> list[int]:
    memory = splitter.findChild(SplitterMemory)
    assert memory is not None, "the splitter is remembered"
    return memory.minimums()


def test_a_dragged_inbox_splitter_comes_back_in_a_new_page(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    before = page.splitter.sizes()
    drag_handle(qtbot, page.splitter, 1, 90)  # a wider chat list
    sizes = page.splitter.sizes()
    assert sizes[0] > before[0]
    qtbot.waitUntil(lambda: saved(ctx, "splitter:inbox") is not None)  # written once the drag settled
    again = make_page(qtbot, ctx)  # what a restart builds, over the same workspace
    assert again.splitter.sizes() == sizes


def test_sizes_set_without_a_drag_are_saved_at_quit(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    page = make_page(qtbot, ctx)
    page.splitter.setSizes([420, 500, 260])  # no splitterMoved: only the quit saves it
    sizes = page.splitter.sizes()
    qapp.aboutToQuit.emit()  # Ctrl+Q ends the loop without closing the window
    assert saved(ctx, "splitter:inbox") == {"sizes": sizes}
    assert make_page(qtbot, ctx).splitter.sizes() == sizes


def test_the_ai_panel_stays_open_after_a_restart(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    assert not page.ai_panel.toggle.isChecked()
    page.ai_panel.toggle.setChecked(True)
    again = make_page(qtbot, ctx)
    assert again.ai_panel.toggle.isChecked()
    again.ai_panel.toggle.setChecked(False)
    assert not make_page(qtbot, ctx).ai_panel.toggle.isChecked()


def test_a_layout_from_a_bigger_screen_keeps_every_pane_readable(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.settings.internal.layout = {"splitter:inbox": {"sizes": [900, 2600, 700]}}  # a 4K screen's layout
    page = make_page(qtbot, ctx)  # 1200 px wide
    sizes, least = page.splitter.sizes(), minimums(page.splitter)
    assert all(s >= m for s, m in zip(sizes, least, strict=True)), (sizes, least)
    handles = page.splitter.handleWidth() * 2
    assert sum(sizes) == page.splitter.width() - handles
    assert sizes[0] > least[0], "the side panels shrink in proportion, not to nothing"
    assert sizes[2] > least[2]


def test_a_collapsed_or_absurd_saved_layout_cannot_hide_the_chat(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.settings.internal.layout = {"splitter:inbox": {"sizes": [0, 0, 100_000]}}
    page = make_page(qtbot, ctx)
    sizes, least = page.splitter.sizes(), minimums(page.splitter)
    assert all(s >= m for s, m in zip(sizes, least, strict=True)), (sizes, least)
    assert sizes[0] >= 280, "the chat list keeps its minimum"
    assert page.centre.width() >= 340, "the chat keeps room to read and write"
    assert page.centre.visibleRegion().boundingRect().width() >= 340


def test_a_saved_layout_for_other_panes_is_ignored(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.settings.internal.layout = {"splitter:inbox": {"sizes": [500, 500]}, "other": "kept"}
    default = make_page(qtbot, ctx).splitter.sizes()
    ctx.settings.internal.layout = {"splitter:inbox": {"sizes": "nonsense"}}
    assert make_page(qtbot, ctx).splitter.sizes() == default


def test_the_knowledge_splitter_is_remembered(qtbot: QtBot, ctx: AppContext) -> None:
    def page() -> KnowledgePage:
        built = KnowledgePage(ctx)
        qtbot.addWidget(built)
        built.resize(1100, 700)
        built.show()
        qtbot.waitExposed(built)
        return built

    first = page()
    split = first.findChild(QtWidgets.QSplitter)
    assert split is not None
    drag_handle(qtbot, split, 1, -150)
    sizes = split.sizes()
    qtbot.waitUntil(lambda: saved(ctx, "splitter:knowledge") is not None)
    second = page().findChild(QtWidgets.QSplitter)
    assert second is not None
    assert second.sizes() == sizes


def window_for(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> MainWindow:
    window = open_main_window(ctx, qapp)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    return window


def test_the_window_and_the_inbox_come_back_after_ctrl_q(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    window = window_for(qtbot, ctx, qapp)
    window.resize(900, 640)  # the offscreen screen is 800 px wide: only the height can differ from the minimum
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    inbox.ai_panel.toggle.setChecked(True)
    qapp.aboutToQuit.emit()  # what Ctrl+Q does: the loop ends, the window is never closed
    assert saved(ctx, "splitter:inbox") == {"sizes": inbox.splitter.sizes()}
    again = window_for(qtbot, ctx, qapp)
    assert again.height() == 640
    second = again.pages["inbox"]
    assert isinstance(second, InboxPage)
    assert second.ai_panel.toggle.isChecked()


def test_fit_gives_spare_room_to_the_stretch_pane() -> None:
    assert fit([300, 600, 300], [280, 340, 260], 1400, stretch=1) == [300, 800, 300]


def test_fit_raises_collapsed_panes_to_their_minimum() -> None:
    assert fit([0, 900, 0], [280, 340, 260], 1200, stretch=1) == [280, 660, 260]


def test_fit_shrinks_in_proportion_above_the_minimums() -> None:
    sizes = fit([900, 2600, 700], [280, 340, 260], 1180, stretch=1)
    assert sum(sizes) == 1180
    assert all(s >= m for s, m in zip(sizes, [280, 340, 260], strict=True))
    assert sizes[1] > sizes[0] > sizes[2]


def test_fit_never_goes_below_the_minimums_even_without_room() -> None:
    assert fit([500, 500, 500], [280, 340, 260], 600, stretch=1) == [280, 340, 260]
