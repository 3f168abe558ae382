"""Every dialog of the app has the one frame (``FormDialog``), and in none of them does Enter press a stray button.

The test walks the modules under ``app.ui``, finds every ``QDialog`` subclass defined there, and asserts that each
derives from ``FormDialog`` unless ``NOT_A_FORM`` says why not. Each dialog is then built with the test workspace
(``FACTORIES``; a new dialog must be added there or to ``NOT_BUILT`` with the reason) and shown, and no
``QPushButton`` in it may be auto-default: Qt makes a dialog's buttons auto-default unless told otherwise, and the
focused auto-default button takes Enter from the dialog's action (Enter in Unlock once opened "Join a team").
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

import app.ui
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog
from tests.support.video import VIDEO_LOG

Factory = Callable[[AppContext], QtWidgets.QDialog]

# Dialogs that are deliberately not FormDialogs, each with its reason.
NOT_A_FORM: dict[str, str] = {
    # A frameless Ctrl+K popup: a search box over a list, with no heading, no action and no buttons; Enter opens
    # the selected row (handled by the switcher itself). The form frame would only add chrome to it.
    "app.ui.quick_switcher.QuickSwitcher": "frameless popup without buttons",
    # Viewers, not forms: a photo with zoom and previous/next (the arrows and Esc are its keys), and a voice note's
    # player; neither has a field, an action or an error line.
    "app.ui.widgets.media_viewer.MediaViewer": "photo viewer without fields or action",
    "app.ui.widgets.voice_player.VoicePopup": "audio player without fields or action",
}

# Dialogs the test workspace cannot build, each with its reason (none today).
NOT_BUILT: dict[str, str] = {}


def _dialog_classes() -> dict[str, type[QtWidgets.QDialog]]:
    found: dict[str, type[QtWidgets.QDialog]] = {}
    for info in pkgutil.walk_packages(app.ui.__path__, prefix="app.ui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, QtWidgets.QDialog) and cls is not FormDialog:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


DIALOGS = _dialog_classes()


def _join(ctx: AppContext) -> QtWidgets.QDialog:
    from app.ui.dialogs.join_team import JoinTeamDialog
    from app.ui.sync_bridge import SyncLoop

    return JoinTeamDialog(ctx.workspaces, SyncLoop())


def _factories() -> dict[str, Factory]:
    from app.ui.dialogs.backup_dialogs import BackupDialog, RestoreDialog, TaskDialog
    from app.ui.dialogs.change_passphrase import ChangePassphraseDialog
    from app.ui.dialogs.contact_editor import ContactEditorDialog, MergeContactsDialog
    from app.ui.dialogs.create_workspace import CreateWorkspaceDialog
    from app.ui.dialogs.csv_import import CsvImportDialog
    from app.ui.dialogs.deal_editor import DealEditorDialog
    from app.ui.dialogs.labels_dialog import LabelsDialog
    from app.ui.dialogs.paste_knowledge import PasteKnowledgeDialog
    from app.ui.dialogs.product_editor import ProductEditorDialog
    from app.ui.dialogs.product_picker import ChatPickerDialog, ProductPickerDialog
    from app.ui.dialogs.sale_dialog import SaleDialog
    from app.ui.dialogs.unlock import UnlockDialog
    from app.ui.dialogs.unusable_workspaces import UnusableWorkspacesDialog
    from app.ui.quick_switcher import QuickSwitcher
    from app.ui.shortcuts import ShortcutsSheet
    from app.ui.widgets.chat_actions import SnoozeDialog
    from app.ui.widgets.media_viewer import MediaViewer, Viewable
    from app.ui.widgets.voice_player import VoicePopup

    def merge(ctx: AppContext) -> QtWidgets.QDialog:
        a = ctx.store.contacts.create(name="Lena Weber", phone="+49 176 1234567")
        b = ctx.store.contacts.create(name="Lena W.", phone="+49 176 1234567")
        return MergeContactsDialog(ctx, a, b)

    def deal(ctx: AppContext) -> QtWidgets.QDialog:
        stages = ctx.store.pipeline_stages.find_all(order_by="position")
        return DealEditorDialog(ctx, stages)

    def unusable(ctx: AppContext) -> QtWidgets.QDialog:
        from app.core.errors import HeaderDamaged
        from app.store.workspaces import UnusableWorkspace

        folder = ctx.workspaces.paths(ctx.workspace.workspace_id).root
        broken = UnusableWorkspace(folder, HeaderDamaged("The workspace's header is damaged."))
        return UnusableWorkspacesDialog([broken], others=False)

    return {
        "app.ui.dialogs.backup_dialogs.TaskDialog": lambda ctx: TaskDialog(ctx, "Working", "Go"),
        "app.ui.dialogs.backup_dialogs.BackupDialog": BackupDialog,
        "app.ui.dialogs.backup_dialogs.RestoreDialog": RestoreDialog,
        "app.ui.dialogs.change_passphrase.ChangePassphraseDialog": ChangePassphraseDialog,
        "app.ui.dialogs.contact_editor.ContactEditorDialog": ContactEditorDialog,
        "app.ui.dialogs.contact_editor.MergeContactsDialog": merge,
        "app.ui.dialogs.create_workspace.CreateWorkspaceDialog": lambda ctx: CreateWorkspaceDialog(
            keyring_available=True, keyring_name="test keyring"
        ),
        "app.ui.dialogs.csv_import.CsvImportDialog": CsvImportDialog,
        "app.ui.dialogs.deal_editor.DealEditorDialog": deal,
        "app.ui.dialogs.join_team.JoinTeamDialog": _join,
        "app.ui.dialogs.labels_dialog.LabelsDialog": LabelsDialog,
        "app.ui.dialogs.paste_knowledge.PasteKnowledgeDialog": PasteKnowledgeDialog,
        "app.ui.dialogs.product_editor.ProductEditorDialog": ProductEditorDialog,
        "app.ui.dialogs.product_picker.ProductPickerDialog": ProductPickerDialog,
        "app.ui.dialogs.product_picker.ChatPickerDialog": lambda ctx: ChatPickerDialog(
            ctx, ctx.store.products.create(name="Linen shirt", price_minor=3900)
        ),
        "app.ui.dialogs.sale_dialog.SaleDialog": SaleDialog,
        "app.ui.dialogs.unlock.UnlockDialog": lambda ctx: UnlockDialog(
            [ctx.workspaces.header(ctx.workspace.workspace_id)]
        ),
        "app.ui.dialogs.unusable_workspaces.UnusableWorkspacesDialog": unusable,
        "app.ui.quick_switcher.QuickSwitcher": QuickSwitcher,
        "app.ui.shortcuts.ShortcutsSheet": lambda ctx: ShortcutsSheet(),
        "app.ui.widgets.chat_actions.SnoozeDialog": lambda ctx: SnoozeDialog(),
        "app.ui.widgets.media_viewer.MediaViewer": lambda ctx: MediaViewer(
            [Viewable("m1", "Photo", "photo.jpg", "image/jpeg")], lambda _v: None
        ),
        "app.ui.widgets.voice_player.VoicePopup": lambda ctx: VoicePopup(),
    }


def test_the_walk_finds_the_dialogs() -> None:
    """A walk that found nothing would pass everything below."""
    assert "app.ui.dialogs.unlock.UnlockDialog" in DIALOGS
    assert "app.ui.quick_switcher.QuickSwitcher" in DIALOGS
    assert len(DIALOGS) >= 10


def test_every_allow_list_entry_names_a_dialog() -> None:
    stale = (set(NOT_A_FORM) | set(NOT_BUILT)) - set(DIALOGS)
    assert not stale, f"allow-list entries for dialogs that no longer exist: {sorted(stale)}"


def test_every_dialog_is_built_here_or_says_why_not() -> None:
    missing = set(DIALOGS) - set(_factories()) - set(NOT_BUILT)
    assert not missing, f"add these dialogs to FACTORIES (or NOT_BUILT with the reason): {sorted(missing)}"


@pytest.mark.parametrize("name", [name for name in sorted(DIALOGS) if name not in NOT_A_FORM])
def test_each_dialog_has_the_form_frame(name: str) -> None:
    assert issubclass(DIALOGS[name], FormDialog), f"{name} does not derive from FormDialog"


# The voice player's popup loads Qt Multimedia; when it is the first in the process to do so, the backend's probes
# (PipeWire, VA-API, no sound server) warn once.
@pytest.mark.qt_log_ignore(*VIDEO_LOG)
@pytest.mark.parametrize("name", [name for name in sorted(DIALOGS) if name not in NOT_BUILT])
def test_no_button_of_a_dialog_is_auto_default(qtbot: QtBot, ctx: AppContext, name: str) -> None:
    dialog = _factories()[name](ctx)
    qtbot.addWidget(dialog)
    try:
        assert isinstance(dialog, DIALOGS[name])
        dialog.show()
        qtbot.waitExposed(dialog)
        buttons = dialog.findChildren(QtWidgets.QPushButton)
        auto = [button.text() for button in buttons if button.autoDefault()]
        assert not auto, f"{name}: auto-default buttons {auto} would take Enter when they get the focus"
        defaults = [button.text() for button in buttons if button.isDefault() and button.isVisible()]
        assert len(defaults) <= 1, f"{name}: more than one default button: {defaults}"
    finally:
        _close_loop(dialog)


def _takes_typing(widget: QtWidgets.QWidget) -> bool:
    return isinstance(widget, QtWidgets.QLineEdit | QtWidgets.QPlainTextEdit | QtWidgets.QTextEdit) and (
        widget.isVisible() and widget.isEnabled()
    )


@pytest.mark.parametrize(
    "name",
    [name for name in sorted(DIALOGS) if name not in NOT_BUILT and name not in NOT_A_FORM],
)
def test_a_form_opens_with_the_cursor_in_a_field(qtbot: QtBot, ctx: AppContext, name: str) -> None:
    """Qt focuses a new dialog's first widget in focus order, and the frame's buttons come before the fields: each
    form opened with its action button focused, and typing went nowhere until a field was clicked."""
    dialog = _factories()[name](ctx)
    qtbot.addWidget(dialog)
    try:
        dialog.show()
        dialog.activateWindow()
        qtbot.waitExposed(dialog)
        if not any(_takes_typing(w) for w in dialog.findChildren(QtWidgets.QWidget)):
            return  # nothing to type into (a message with Continue)
        qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=5000)
        focused = dialog.focusWidget()
        assert not isinstance(focused, QtWidgets.QAbstractButton), f"{name} opens with {focused.text()!r} focused"
    finally:
        _close_loop(dialog)


def _close_loop(dialog: QtWidgets.QDialog) -> None:
    loop = getattr(dialog, "loop", None)  # the join dialog's sync loop: a thread of its own
    if loop is not None and hasattr(loop, "close"):
        loop.close()


def test_a_form_can_start_in_another_field(qtbot: QtBot, ctx: AppContext) -> None:
    """Backup's destination is filled in already: the cursor starts in the passphrase, not selecting the path."""
    from app.ui.dialogs.backup_dialogs import BackupDialog

    dialog = BackupDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.passphrase, timeout=5000)
    assert not dialog.dest.hasSelectedText()


LONG_ERROR = (
    "The change of passphrase of workspace 'Lumen Boutique' did not finish: enter the previous passphrase. "
    "Parley keeps the workspace as it was until the change completes, so nothing is lost; try the previous "
    "passphrase, and if that is refused too, restore the backup made before the change. "
) * 2


FIELDS = (QtWidgets.QLineEdit, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QAbstractButton)
# Parts of a composite widget, sized by it: a combo box's or spin box's line edit, a table's header and viewport.
COMPOSITES = (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QAbstractScrollArea)


def _inside_composite(widget: QtWidgets.QWidget, dialog: QtWidgets.QDialog) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not dialog:
        if isinstance(parent, COMPOSITES):
            return True
        parent = parent.parentWidget()
    return False


def _heights(dialog: QtWidgets.QDialog) -> dict[QtWidgets.QWidget, int]:
    """The visible fields, labels and boxes of ``dialog`` (not the parts of composite widgets) and their heights."""
    return {
        widget: widget.height()
        for widget in dialog.findChildren(QtWidgets.QWidget)
        if widget.isVisible()
        and isinstance(widget, (*FIELDS, QtWidgets.QLabel, QtWidgets.QAbstractScrollArea))
        and not _inside_composite(widget, dialog)
    }


def _describe(widget: QtWidgets.QWidget) -> str:
    text = getattr(widget, "text", None)
    return f"{type(widget).__name__} {str(text() if callable(text) else '')[:40]!r}"


def _clipped(dialog: QtWidgets.QDialog) -> list[str]:
    """Visible widgets of ``dialog`` shorter than they need: a field below its size hint, a word-wrapped label
    below its height for its width (its text cut off), a box below its minimum."""
    found: list[str] = []
    for widget, height in _heights(dialog).items():
        if isinstance(widget, QtWidgets.QLabel):
            need = widget.heightForWidth(widget.width()) if widget.wordWrap() and widget.text() else 0
        elif isinstance(widget, FIELDS):
            need = widget.sizeHint().height()
        else:
            need = widget.minimumSizeHint().height()
        if height < min(need, widget.maximumHeight()):  # a box given a fixed height asks for no more
            found.append(f"{_describe(widget)}: {height} < {need}")
    return found


@pytest.mark.parametrize(
    "name",
    [name for name in sorted(DIALOGS) if name not in NOT_BUILT and name not in NOT_A_FORM],
)
def test_a_long_error_grows_the_dialog_and_clips_nothing(qtbot: QtBot, ctx: AppContext, name: str) -> None:
    """Seen under Xvfb: a long error in Unlock kept the dialog's size, squashed the passphrase field to a sliver
    and cut the sentence off. Every form grows to show its error whole, its fields at their natural height."""
    dialog = _factories()[name](ctx)
    assert isinstance(dialog, FormDialog)
    qtbot.addWidget(dialog)
    try:
        dialog.show()
        qtbot.waitExposed(dialog)
        before = dialog.height()
        assert _clipped(dialog) == [], f"{name} is clipped before any error"
        heights = _heights(dialog)

        dialog.show_error(LONG_ERROR)

        label = dialog.error
        qtbot.waitUntil(lambda: label.isVisible() and label.height() >= label.heightForWidth(label.width()))
        assert dialog.height() > before, f"{name} did not grow for its error"
        assert _clipped(dialog) == [], f"{name} squashed or cut off"
        shrunk = [f"{_describe(w)}: {h} -> {w.height()}" for w, h in heights.items() if w.height() < h]
        assert shrunk == [], f"{name} gave its fields' room to the error instead of growing"
    finally:
        _close_loop(dialog)
