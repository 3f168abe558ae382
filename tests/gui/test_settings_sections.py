"""Settings as a section list with search (issue 16, "Settings"): one section shown at a time, remembered; a search
across sections that shows the matching settings under their sections' names and says so when nothing matches; the
status bar's sync indicator lands on the Team section; no backend class names anywhere on the page; and the keyring
option disabled, with the reason beside it, on a computer with no usable keyring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.core.settings import SETTINGS, Setting
from app.qt import Qt, QtWidgets
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.pages.settings import SettingsPage
from app.ui.sync_bridge import SyncBridge

PASS = "correct horse battery"
EXPECTED_SECTIONS = [
    "Workspace",
    "Appearance",
    "Notifications",
    "Inbox",
    "WhatsApp",
    "Business hours",
    "AI",
    "Finance",
    "Security",
    "Backup",
]


def open_page(qtbot: QtBot, ctx: AppContext) -> SettingsPage:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 720)
    page.show()
    qtbot.waitExposed(page)
    return page


@pytest.fixture
def page(qtbot: QtBot, ctx: AppContext) -> SettingsPage:
    return open_page(qtbot, ctx)


def list_items(page: SettingsPage, *, shown_only: bool = False) -> list[str]:
    items = [page.nav.list.item(i) for i in range(page.nav.list.count())]
    return [item.text() for item in items if not (shown_only and item.isHidden())]


def visible_editors(page: SettingsPage) -> set[str]:
    return {key for key, editor in page.editors.items() if editor.isVisible()}


def matches(setting: Setting[object], word: str) -> bool:
    return any(word in text.lower() for text in (setting.label, setting.help, setting.section))


# ---- one section at a time ----------------------------------------------------------------------------------------
def test_the_section_list_shows_one_section_at_a_time_and_the_keyboard_moves_through_it(
    qtbot: QtBot, page: SettingsPage
) -> None:
    assert list_items(page) == EXPECTED_SECTIONS, "no Team section without team sync in this window"
    assert page.current_section == "Workspace"
    assert page.business.isVisible()
    assert not visible_editors(page), "the declared settings are in their own sections"

    page.nav.list.setFocus()
    qtbot.keyClick(page.nav.list, Qt.Key.Key_Down)
    assert page.current_section == "Appearance"
    assert visible_editors(page) == {"appearance.theme"}
    assert not page.business.isVisible()

    page.select_section("WhatsApp")
    assert page.nav.list.currentItem().text() == "WhatsApp"
    assert visible_editors(page) == {s.key for s in SETTINGS if s.section == "WhatsApp"}
    assert not page.section_blocks["Appearance"].isVisible()

    page.select_section("Inbox")
    assert page.quick_replies.isVisible(), "quick replies sit in the Inbox section"
    page.select_section("AI")
    assert page.ai_providers.isVisible()
    assert "ai.mode" in visible_editors(page)
    page.select_section("Security")
    assert page.change_button.isVisible()
    assert not page.backup_button.isVisible()
    page.select_section("Backup")
    assert page.backup_button.isVisible()
    assert page.restore_button.isVisible()
    assert visible_editors(page) == {"security.backup_reminder_days"}


def test_the_chosen_section_is_remembered(qtbot: QtBot, page: SettingsPage, ctx: AppContext) -> None:
    page.select_section("WhatsApp")
    again = open_page(qtbot, ctx)  # as after a restart: a new page on the same workspace
    assert again.current_section == "WhatsApp"
    assert again.nav.list.currentItem().text() == "WhatsApp"
    assert "whatsapp.per_day" in visible_editors(again)


# ---- search -------------------------------------------------------------------------------------------------------
def test_search_shows_the_matching_settings_of_every_section_under_their_names(
    qtbot: QtBot, page: SettingsPage
) -> None:
    qtbot.keyClicks(page.nav.search, "Message")
    wanted = {s.key for s in SETTINGS if matches(s, "message")}
    sections = {s.section for s in SETTINGS if s.key in wanted}
    assert len(sections) >= 3, "the word is in several sections"
    assert visible_editors(page) == wanted
    assert set(list_items(page, shown_only=True)) == sections
    for section in sections:
        assert page.section_blocks[section].isVisible()
        assert page.section_blocks[section].heading.isVisible()
        assert page.section_blocks[section].heading.text() == section
    assert not page.section_blocks["Appearance"].isVisible()
    assert not page.section_blocks["Workspace"].isVisible()
    assert page.results_note.text() == f"{len(wanted)} settings in {len(sections)} sections match “Message”."
    assert not page.no_match.isVisible()

    page.nav.search.clear()  # back to the one chosen section, every row in it
    assert list_items(page, shown_only=True) == EXPECTED_SECTIONS
    assert page.business.isVisible()
    assert not visible_editors(page)


def test_search_finds_cards_by_what_they_hold_and_a_section_by_its_name(qtbot: QtBot, page: SettingsPage) -> None:
    qtbot.keyClicks(page.nav.search, "restore")
    assert page.restore_button.isVisible()
    assert list_items(page, shown_only=True) == ["Backup"]
    page.nav.search.setText("appearance")
    assert visible_editors(page) == {"appearance.theme"}
    page.nav.search.setText("canned")
    assert page.quick_replies.isVisible()
    assert list_items(page, shown_only=True) == ["Inbox"]
    assert not visible_editors(page)


def test_a_search_with_no_match_says_so_and_clear_brings_the_section_back(qtbot: QtBot, page: SettingsPage) -> None:
    page.select_section("AI")
    qtbot.keyClicks(page.nav.search, "zebra crossing")
    assert page.no_match.isVisible()
    assert "zebra crossing" in page.no_match.title.text()
    assert not page.scroll_area.isVisible()
    assert list_items(page, shown_only=True) == []
    assert page.no_match.button.text() == "Clear search"
    page.no_match.button.click()
    assert page.nav.search.text() == ""
    assert not page.no_match.isVisible()
    assert page.current_section == "AI"
    assert page.ai_providers.isVisible()


def test_esc_clears_the_search_and_ctrl_f_focuses_it(qtbot: QtBot, page: SettingsPage) -> None:
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    page.select_section("Appearance")
    combo = page.editors["appearance.theme"]
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    qtbot.keyClick(combo, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.nav.search.hasFocus)
    qtbot.keyClicks(page.nav.search, "quiet")
    assert visible_editors(page) == {"whatsapp.quiet_start", "whatsapp.quiet_end"}
    qtbot.keyClick(page.nav.search, Qt.Key.Key_Escape)
    assert page.nav.search.text() == ""
    assert visible_editors(page) == {"appearance.theme"}
    qtbot.keyClick(page.nav.search, Qt.Key.Key_Down)  # on to the list of sections, and through it
    qtbot.waitUntil(page.nav.list.hasFocus)
    qtbot.keyClick(page.nav.list, Qt.Key.Key_Down)
    assert page.current_section == "Notifications"


def test_clicking_a_section_while_searching_keeps_the_results_and_goes_to_it(qtbot: QtBot, page: SettingsPage) -> None:
    qtbot.keyClicks(page.nav.search, "message")
    page.nav.list.setCurrentRow(list_items(page).index("WhatsApp"))
    assert page.nav.search.text() == "message"
    assert page.section_blocks["Inbox"].isVisible(), "the other results stay"


# ---- team sync ----------------------------------------------------------------------------------------------------
def test_reveal_team_sync_selects_the_team_section(qtbot: QtBot, ctx: AppContext, bridge: SyncBridge) -> None:
    page = open_page(qtbot, ctx)
    assert list_items(page) == [*EXPECTED_SECTIONS[:-2], "Team", *EXPECTED_SECTIONS[-2:]]
    assert page.team_sync is not None
    assert not page.team_sync.isVisible()
    page.nav.search.setText("passphrase")
    page.reveal_team_sync(conflicts=True)
    assert page.nav.search.text() == "", "a search in the way is cleared"
    assert page.current_section == "Team"
    assert page.team_sync.isVisible()
    assert not page.business.isVisible()


# ---- keyring, and no class names ----------------------------------------------------------------------------------
class TestWithoutAKeyring:
    @pytest.fixture
    def keyring_backend(self) -> fail.Keyring:
        return fail.Keyring()  # what keyring picks with no D-Bus session

    @pytest.fixture
    def store(self, workspaces: Workspaces) -> Iterator[Store]:
        store = workspaces.create("Acme Boutique", "Ana Owner", passphrase=PASS)
        yield store
        store.close()

    def test_the_keyring_option_is_disabled_with_the_reason_beside_it(self, page: SettingsPage) -> None:
        page.select_section("Security")
        assert page.keyring_button.isVisible()
        assert not page.keyring_button.isEnabled()
        assert page.keyring_reason.isVisible()
        assert "no keyring service was found on this computer" in page.keyring_reason.text()
        assert page.protection.text() == "Passphrase (Argon2id)"

    def test_no_backend_class_names_anywhere_on_the_page(
        self, qtbot: QtBot, ctx: AppContext, bridge: SyncBridge
    ) -> None:
        page = open_page(qtbot, ctx)  # with the Team section too
        texts: list[str] = []
        for widget in page.findChildren(QtWidgets.QWidget):
            texts.append(widget.toolTip())
            if isinstance(widget, QtWidgets.QLabel | QtWidgets.QAbstractButton | QtWidgets.QLineEdit):
                texts.append(widget.text())
        dotted = re.compile(r"\b[a-z_]+(\.[a-z_]+)+\.[A-Z]\w*")  # keyring.backends.fail.Keyring
        shown = [t for t in texts if "keyring.backends" in t or "keyrings.alt" in t or dotted.search(t)]
        assert shown == []


def test_with_a_secure_keyring_the_option_moves_the_key_there(page: SettingsPage, ctx: AppContext) -> None:
    ctx.workspaces.change_protection(ctx.store, ctx.workspace.workspace_id, new_passphrase=PASS)
    page.refresh_security()
    page.select_section("Security")
    assert page.keyring_button.isEnabled()
    assert not page.keyring_reason.isVisible()
    page.keyring_button.click()
    dialog = page.dialog
    assert dialog is not None
    assert dialog.use_keyring.isChecked()  # type: ignore[attr-defined]
    dialog.close()


def test_in_the_keyring_already_the_option_is_not_offered_again(page: SettingsPage) -> None:
    page.select_section("Security")
    assert page.protection.text().startswith("System keyring")
    assert not page.keyring_button.isVisible()
    assert page.change_button.text() == "Use a passphrase instead…"


def test_in_the_main_window_ctrl_f_searches_the_page_that_is_shown(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    """The inbox and Settings both answer Ctrl+F; only the page on screen does, so the key is never ambiguous."""
    window = open_main_window(ctx, qapp)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page = window.show_section("settings")
    assert isinstance(page, SettingsPage)
    page.nav.list.setFocus()
    qtbot.waitUntil(page.nav.list.hasFocus)
    qtbot.keyClick(page.nav.list, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.nav.search.hasFocus)
    inbox = window.show_section("inbox")
    assert isinstance(inbox, InboxPage)
    inbox.setFocus()
    qtbot.keyClick(inbox, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(inbox.search.hasFocus)
