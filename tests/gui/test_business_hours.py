"""Settings › Business hours: the weekly grid, holidays, the zone shown, and the welcome / away templates with their
variables, live preview and sentences — all saved through the operations, refusals shown and nothing saved."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.agents.greetings import load_config
from app.qt import QtCore, QtWidgets
from app.store.ops.business_hours import save_business_hours
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.settings import SettingsPage
from app.ui.pages.settings_hours import GreetingsCard, HoursCard


@pytest.fixture
def page(qtbot: QtBot, ctx: AppContext, store: Store) -> SettingsPage:
    store.orgs.update(store.org_id, timezone="America/Sao_Paulo")
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 760)
    page.show()
    qtbot.waitExposed(page)
    page.select_section("Business hours")
    qtbot.waitUntil(lambda: page.hours_card.loaded and page.greetings_card.loaded)
    return page


def hours_of(page: SettingsPage) -> HoursCard:
    return page.hours_card


def greetings_of(page: SettingsPage) -> GreetingsCard:
    return page.greetings_card


def stored(store: Store) -> dict[str, object]:
    return store.orgs.get(store.org_id).business_hours


def test_the_section_is_listed_and_shows_the_org_zone(page: SettingsPage) -> None:
    items = [page.nav.list.item(i).text() for i in range(page.nav.list.count())]
    assert items.index("Business hours") == items.index("WhatsApp") + 1
    card = hours_of(page)
    assert card.isVisible()
    assert card.zone.currentText() == "America/Sao_Paulo"
    assert "shared with your team" in card.zone_note.text()
    assert not card.use.isChecked()  # no schedule yet: always open
    assert "always open" in card.now_note.text()


def test_a_week_with_a_lunch_break_a_night_and_a_holiday_is_saved(
    qtbot: QtBot, page: SettingsPage, store: Store
) -> None:
    card = hours_of(page)
    card.use.setChecked(True)
    monday = card.days["mon"]
    monday.open.setChecked(True)  # opens with 09:00-18:00
    monday.rows[0].end.setTime(QtCore.QTime(12, 0))
    monday.add_interval()
    monday.rows[1].start.setTime(QtCore.QTime(14, 0))
    monday.rows[1].end.setTime(QtCore.QTime(18, 0))
    friday = card.days["fri"]
    friday.open.setChecked(True)
    friday.rows[0].start.setTime(QtCore.QTime(22, 0))
    friday.rows[0].end.setTime(QtCore.QTime(2, 0))  # past midnight
    assert friday.rows[0].next_day.isVisibleTo(friday)
    assert not monday.rows[0].next_day.isVisibleTo(monday)
    saturday = card.days["sat"]
    saturday.open.setChecked(True)
    saturday.rows[0].start.setTime(QtCore.QTime(10, 0))
    saturday.rows[0].end.setTime(QtCore.QTime(0, 0))  # to midnight
    card.holiday_date.setDate(QtCore.QDate(2026, 12, 25))
    card.holiday_name.setText("Christmas")
    card.add_holiday_button.click()
    assert card.holiday_list.count() == 1
    card.save_button.click()
    expected = {
        "week": {
            "mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
            "fri": [{"start": "22:00", "end": "02:00"}],
            "sat": [{"start": "10:00", "end": "24:00"}],
        },
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    }
    qtbot.waitUntil(lambda: stored(store) == expected)
    qtbot.waitUntil(lambda: card.status.text() == "Saved.")
    assert not card.error.isVisible()


def test_overlapping_intervals_are_refused_with_a_sentence(qtbot: QtBot, page: SettingsPage, store: Store) -> None:
    card = hours_of(page)
    card.use.setChecked(True)
    tuesday = card.days["tue"]
    tuesday.open.setChecked(True)
    tuesday.rows[0].end.setTime(QtCore.QTime(13, 0))
    tuesday.add_interval()
    tuesday.rows[1].start.setTime(QtCore.QTime(12, 0))
    assert "overlap" in card.now_note.text()  # said while editing
    card.save_button.click()
    qtbot.waitUntil(card.error.isVisible)
    assert card.error.text() == "Tuesday: 09:00–13:00 and 12:00–14:00 overlap; join them or move one."
    assert stored(store) == {}


def test_stored_hours_are_shown_and_a_removed_day_and_holiday_are_saved(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    save_business_hours(
        store,
        {"week": {"wed": [{"start": "08:30", "end": "17:00"}]}, "holidays": [{"date": "2027-01-01", "name": ""}]},
    )
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.select_section("Business hours")
    card = hours_of(page)
    qtbot.waitUntil(lambda: card.loaded)
    wednesday = card.days["wed"]
    assert card.use.isChecked()
    assert wednesday.open.isChecked()
    assert wednesday.rows[0].start.time() == QtCore.QTime(8, 30)
    assert card.holiday_list.item(0).text() == "2027-01-01"
    wednesday.rows[0].remove.click()
    assert not wednesday.open.isChecked()
    card.remove_holiday_button.click()
    card.save_button.click()
    qtbot.waitUntil(lambda: stored(store) == {"week": {}})


def test_templates_show_variables_a_live_preview_and_refuse_unknown_ones(
    qtbot: QtBot, page: SettingsPage, store: Store, ctx: AppContext
) -> None:
    card = greetings_of(page)
    for name in ("{first_name}", "{name}", "{business_name}", "{next_opening}"):
        assert name in card.variables.text()
    card.welcome.text.setPlainText("Hi {first_name}, welcome to {business_name}!")
    assert card.welcome.preview.text() == f"Preview: Hi Ana, welcome to {ctx.business_name}!"
    card.away.enabled.setChecked(True)
    card.away.text.setPlainText("Back {when}")
    assert card.away.warning.isVisible()
    assert card.away.warning.text().startswith("The away message uses the unknown variable {when}.")
    card.save_button.click()
    qtbot.waitUntil(card.error.isVisible)
    assert "{when}" in card.error.text()
    assert load_config(store)[1] == 0  # nothing saved
    card.away.text.setPlainText("Closed; back {next_opening}.")
    assert not card.away.warning.isVisible()
    assert card.away.preview.text() == "Preview: Closed; back soon."  # no hours: no next opening
    card.welcome.enabled.setChecked(True)
    card.every.setValue(6)
    card.save_button.click()
    qtbot.waitUntil(lambda: load_config(store)[1] == 1)
    config = load_config(store)[0]
    assert (config.welcome_enabled, config.away_enabled, config.away_every_hours) == (True, True, 6)
    assert config.away_text == "Closed; back {next_opening}."
    qtbot.waitUntil(lambda: card.status.text() == "Saved.")


def test_the_section_is_found_by_search(qtbot: QtBot, page: SettingsPage) -> None:
    page.nav.search.setText("away greeting")
    qtbot.waitUntil(lambda: greetings_of(page).isVisible())
    assert isinstance(page.right.currentWidget(), QtWidgets.QScrollArea)


def next_tab_stop(widget: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """Where Tab goes from ``widget``: the next widget in the focus chain that takes Tab focus and is shown."""
    found = widget.nextInFocusChain()
    while found is not widget:
        tab = bool(found.focusPolicy() & QtCore.Qt.FocusPolicy.TabFocus)
        if tab and found.isVisible() and found.isEnabled() and found.focusProxy() is None:
            return found
        found = found.nextInFocusChain()
    return widget


def within(widget: QtWidgets.QWidget, owner: QtWidgets.QWidget) -> bool:
    return widget is owner or owner.isAncestorOf(widget)


def test_tab_goes_through_a_day_as_it_reads(page: SettingsPage) -> None:
    """Seen in the app: Tab from "Monday" went to "Add interval" and then Tuesday, skipping the times."""
    card = hours_of(page)
    card.use.setChecked(True)
    monday = card.days["mon"]
    monday.open.setChecked(True)  # 09:00–18:00
    monday.add_interval()
    first, second = monday.rows
    stops = [monday.open]
    for _ in range(7):
        stops.append(next_tab_stop(stops[-1]))
    owners = [monday.open, first.start, first.end, first.remove, second.start, second.end, second.remove, monday.add]
    assert all(within(stop, owner) for stop, owner in zip(stops, owners, strict=True)), [
        s.objectName() or type(s).__name__ for s in stops
    ]


def test_the_business_time_zone_is_chosen_here_and_a_made_up_one_is_refused(
    qtbot: QtBot, page: SettingsPage, store: Store
) -> None:
    """It used to be shown only (every workspace stayed on UTC) while WhatsApp's quiet hours had a zone of their
    own in another section: one zone now, the org's, chosen here."""
    card = hours_of(page)
    card.zone.setCurrentText("Mars/Olympus")  # typed (keys would open the completer's popup: no keyboard grab here)
    card.save_button.click()
    qtbot.waitUntil(card.error.isVisible)
    assert card.error.text().startswith("“Mars/Olympus” is not a time zone Parley knows")
    assert store.orgs.get(store.org_id).timezone == "America/Sao_Paulo"
    card.zone.setCurrentText("Asia/Jakarta")
    assert "Asia/Jakarta" in [card.zone.itemText(i) for i in range(card.zone.count())]
    card.save_button.click()
    qtbot.waitUntil(lambda: store.orgs.get(store.org_id).timezone == "Asia/Jakarta")
    qtbot.waitUntil(lambda: card.status.text() == "Saved.")


def test_a_new_workspace_takes_this_computers_zone(store: Store) -> None:
    from app.core.zones import local_zone_name

    assert store.orgs.get(store.org_id).timezone == local_zone_name()


def test_save_waits_for_a_change_and_the_away_preview_follows_the_hours_being_edited(
    qtbot: QtBot, page: SettingsPage
) -> None:
    """Seen in the app under Xvfb: 'Save hours' was always on (a click saved nothing new), and the away message's
    preview said when the business opens by the saved hours, not the ones on screen."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.agents.hours import DAY_NAMES, WEEKDAYS

    card, greetings = hours_of(page), greetings_of(page)
    assert not card.save_button.isEnabled()
    assert not greetings.save_button.isEnabled()
    greetings.away.text.setPlainText("Closed; back {next_opening}.")
    assert greetings.save_button.isEnabled()
    assert greetings.away.preview.text() == "Preview: Closed; back soon."  # always open: no opening to name
    in_three_days = WEEKDAYS[(datetime.now(ZoneInfo("America/Sao_Paulo")) + timedelta(days=3)).weekday()]
    card.use.setChecked(True)
    card.days[in_three_days].open.setChecked(True)  # 09:00-18:00, the only open day
    assert card.save_button.isEnabled()
    assert greetings.away.preview.text() == f"Preview: Closed; back {DAY_NAMES[in_three_days]} 09:00."
    card.save_button.click()
    qtbot.waitUntil(lambda: card.status.text() == "Saved.")
    assert not card.save_button.isEnabled()
