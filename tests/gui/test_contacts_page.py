"""The contacts page against a real workspace: listing, sorting, filtering, editing, CSV import and merging."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.events import ContactCreated
from app.qt import Qt, QtCore, QtWidgets, is_alive
from app.ui.context import AppContext
from app.ui.dialogs.contact_editor import ContactEditorDialog
from app.ui.pages.contacts import COLUMNS, PAGE, ContactsPage
from tests.support.gui import wait_idle


def _page(qtbot: QtBot, ctx: AppContext) -> ContactsPage:
    page = ContactsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    wait_idle(qtbot, ctx)
    return page


def _names(page: ContactsPage) -> list[str]:
    return [page.model.contact(r).name for r in range(page.model.rowCount())]


def _item(table: QtWidgets.QTableWidget, row: int, column: int) -> QtWidgets.QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None
    return item


def _click_header(qtbot: QtBot, page: ContactsPage, title: str) -> None:
    header = page.table.horizontalHeader()
    column = [c[0] for c in COLUMNS].index(title)
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    point = QtCore.QPoint(x, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)  # type: ignore[no-untyped-call]
    wait_idle(qtbot, page.ctx)


def test_lists_contacts_and_sorts_by_header_click(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    store.contacts.create(name="Carla", phone="+351911111111", lead_score=10)
    store.contacts.create(name="Ana", phone="+351922222222", lead_score=90, lifecycle="customer")
    store.contacts.create(name="Bruno", phone="+351933333333", lead_score=50)
    page = _page(qtbot, ctx)

    assert _names(page) == ["Ana", "Bruno", "Carla"]
    assert page.count_label.text() == "3 contacts"
    assert page.model.index(0, 3).data() == "Customer"

    _click_header(qtbot, page, "Lead score")  # numbers sort highest first on the first click
    assert _names(page) == ["Ana", "Bruno", "Carla"]
    assert page.model.query.order_by == "lead_score"
    assert page.model.query.descending
    _click_header(qtbot, page, "Lead score")
    assert _names(page) == ["Carla", "Bruno", "Ana"]
    _click_header(qtbot, page, "Name")
    assert _names(page) == ["Ana", "Bruno", "Carla"]
    _click_header(qtbot, page, "Name")
    assert _names(page) == ["Carla", "Bruno", "Ana"]


def test_rows_arrive_page_by_page(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.store.contacts.add_many(ctx.store.contacts.new(name=f"Person {i:04d}") for i in range(PAGE * 2 + 5))
    page = _page(qtbot, ctx)
    assert page.model.rowCount() == PAGE
    assert page.count_label.text() == f"{PAGE * 2 + 5} contacts"
    while page.model.canFetchMore(QtCore.QModelIndex()):
        page.model.fetchMore(QtCore.QModelIndex())
        wait_idle(qtbot, ctx)
    assert _names(page) == [f"Person {i:04d}" for i in range(PAGE * 2 + 5)]


def test_filter_narrows_by_text_and_stage(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    store.contacts.create(name="Ana Lima", phone="+351911111111", tags=["wholesale"], lifecycle="customer")
    store.contacts.create(name="Bruno Sousa", phone="+351922222222", email="bruno@shop.pt")
    store.contacts.create(name="Carla Lima", phone="+351933333333", lifecycle="lead")
    page = _page(qtbot, ctx)

    page.filter.setText("lima")
    qtbot.waitUntil(lambda: _names(page) == ["Ana Lima", "Carla Lima"], timeout=5000)
    page.lifecycle.setCurrentIndex(page.lifecycle.findData("lead"))
    qtbot.waitUntil(lambda: _names(page) == ["Carla Lima"], timeout=5000)
    assert page.count_label.text() == "1 matching"

    page.lifecycle.setCurrentIndex(0)
    page.filter.setText("#wholesale")
    qtbot.waitUntil(lambda: _names(page) == ["Ana Lima"], timeout=5000)
    page.filter.setText("shop.pt")
    qtbot.waitUntil(lambda: _names(page) == ["Bruno Sousa"], timeout=5000)
    page.filter.setText("93")  # short text: name or phone
    qtbot.waitUntil(lambda: _names(page) == ["Carla Lima"], timeout=5000)
    page.filter.clear()
    qtbot.waitUntil(lambda: len(_names(page)) == 3, timeout=5000)


def test_filter_finds_contacts_without_a_phone(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.store.contacts.create(name="Ana Lima", email="ana@example.com")
    page = _page(qtbot, ctx)
    page.filter.setText("lima")
    page._filter_timer.timeout.emit()
    wait_idle(qtbot, ctx)
    assert _names(page) == ["Ana Lima"]
    assert page.status.text() == ""


def test_create_contact_through_the_editor(qtbot: QtBot, ctx: AppContext) -> None:
    page = _page(qtbot, ctx)
    editor = page.open_editor(None)
    editor.name.setText("Dora Reis")
    editor.phone.setText("+351 961 234 567")
    editor.email.setText("dora@example")
    editor.save()
    assert "does not look like an e-mail" in editor.error.text()
    editor.phone.setText("12 34")
    editor.email.setText("dora@example.com")
    editor.save()
    assert "fewer than 7 digits" in editor.error.text()

    editor.phone.setText("+351 961 234 567")
    editor.company.setText("Reis & Filhos")
    editor.lifecycle.setCurrentIndex(editor.lifecycle.findData("qualified"))
    editor.score.setValue(40)
    editor.tags.setText("vip, #lisbon, vip")
    editor.add_field("Size", "M")
    created: list[ContactCreated] = []
    ctx.store.bus.subscribe(ContactCreated, created.append)
    with qtbot.waitSignal(editor.saved, timeout=5000) as saved:
        editor.save()
    wait_idle(qtbot, ctx)

    contact = ctx.store.contacts.get(saved.args[0])
    assert [e.contact_id for e in created] == [contact.id]
    assert (contact.name, contact.phone, contact.email) == ("Dora Reis", "+351961234567", "dora@example.com")
    assert (contact.lifecycle, contact.lead_score, contact.tags) == ("qualified", 40, ["vip", "lisbon"])
    assert contact.custom_fields == {"Size": "M"}
    assert contact.company_id is not None
    assert ctx.store.companies.get(contact.company_id).name == "Reis & Filhos"
    assert _names(page) == ["Dora Reis"]
    assert [c.id for c in page.selected_contacts()] == [contact.id]


def test_edit_contact_and_duplicate_phone_warning(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    ana = store.contacts.create(name="Ana", phone="+351911111111", custom_fields={"size": "S"})
    bo = store.contacts.create(name="Bo", phone="+351922222222")
    page = _page(qtbot, ctx)
    page.select_contact(bo.id)
    wait_idle(qtbot, ctx)
    page.edit_selected()
    editor = page.editor
    assert isinstance(editor, ContactEditorDialog)
    assert editor.name.text() == "Bo"

    asked: list[str] = []

    def open_existing(other: object) -> str:
        asked.append(getattr(other, "id", ""))
        return "open"

    editor.ask_duplicate = open_existing  # type: ignore[method-assign,assignment]
    editor.phone.setText("+351 911 111 111")
    editor.save()
    wait_idle(qtbot, ctx)
    assert asked == [ana.id]
    assert editor.contact is not None
    assert editor.contact.id == ana.id  # opened instead of saving
    assert store.contacts.get(bo.id).phone == "+351922222222"

    editor.name.setText("Ana Lima")
    _item(editor.fields, 0, 1).setText("M")
    with qtbot.waitSignal(editor.saved, timeout=5000):
        editor.save()  # her own phone is not a duplicate of herself
    wait_idle(qtbot, ctx)
    updated = store.contacts.get(ana.id)
    assert (updated.name, updated.custom_fields) == ("Ana Lima", {"size": "M"})
    assert asked == [ana.id]
    assert "Ana Lima" in _names(page)


def test_csv_import_reports_the_bad_row_and_imports_the_rest(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    ctx.store.contacts.create(name="Already here", phone="+351900000000")
    path = tmp_path / "list.csv"
    path.write_text(
        "Name;Mobile;E-mail;Tags\n"
        "Ana;+351 911 111 111;ana@example.com;vip|gold\n"
        "Bo;+351922222222;not-an-email;\n"
        "Cy;+351933333333;;\n"
        "Dup;+351900000000;;\n",
        encoding="utf-8-sig",
    )
    page = _page(qtbot, ctx)
    dialog = page.import_csv(path)
    assert dialog is not None
    wait_idle(qtbot, ctx)
    assert dialog.preview is not None
    assert dialog.summary.text() == "2 ready, 1 with errors, 1 duplicates"
    assert dialog.table.rowCount() == 4
    assert _item(dialog.table, 1, 0).text() == "3"
    assert "bad e-mail" in _item(dialog.table, 1, 1).toolTip()
    assert dialog.import_button.isEnabled()
    created: list[ContactCreated] = []
    ctx.store.bus.subscribe(ContactCreated, created.append)

    dialog.import_button.click()
    wait_idle(qtbot, ctx)
    assert dialog.report is not None
    assert dialog.report.imported == 2
    # The same event as a contact made in the editor (the import published none before the operations).
    assert sorted(ctx.store.contacts.get(e.contact_id).name for e in created) == ["Ana", "Cy"]
    assert dialog.report.skipped_duplicates == 1
    assert dialog.report.failed == [(3, ["bad e-mail: 'not-an-email'"])]
    assert "Line 3: bad e-mail" in dialog.report_view.toPlainText()
    assert ctx.store.contacts.count() == 3
    assert not dialog.import_button.isEnabled()
    qtbot.waitUntil(lambda: page.model.total == 3, timeout=5000)
    dialog.accept()


def test_export_writes_a_file(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    ctx.store.contacts.create(name="Ana", phone="+351911111111", tags=["a", "b"])
    page = _page(qtbot, ctx)
    target = tmp_path / "out.csv"
    page.export_csv(target)
    wait_idle(qtbot, ctx)
    assert page.status.text() == "Exported 1 contact to out.csv"
    assert "Ana,+351911111111" in target.read_text(encoding="utf-8-sig")


def test_merge_two_contacts_from_the_page(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    ana = store.contacts.create(name="Ana", phone="+351911111111", tags=["vip"])
    ana2 = store.contacts.create(name="Ana L.", email="ana@example.com", tags=["gold", "vip"])
    chat = store.chats.create(contact_id=ana2.id, title="Ana")
    store.contacts.create(name="Zed")
    page = _page(qtbot, ctx)

    page.select_contact(ana.id)
    wait_idle(qtbot, ctx)
    assert page.merge_selected() is None
    assert page.status.text() == "Select exactly two contacts to merge."
    assert not page.merge_button.isEnabled()

    page.table.selectRow(page.model.row_of(ana.id))
    page.table.selectionModel().select(
        page.model.index(page.model.row_of(ana2.id), 0),
        QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows,
    )
    assert page.merge_button.isEnabled()
    page.merge_button.click()
    dialog = page.merge_dialog
    assert dialog is not None
    assert dialog.keep_a.isChecked()  # the older contact is offered as the one to keep
    assert [c.id for c in dialog.keep_and_merge] == [ana.id, ana2.id]
    with qtbot.waitSignal(dialog.merged, timeout=5000):
        dialog.merge_button.click()
    wait_idle(qtbot, ctx)

    kept = store.contacts.get(ana.id)
    assert kept.tags == ["vip", "gold"]
    assert kept.email == "ana@example.com"
    assert store.contacts.find(ana2.id) is None
    assert store.chats.get(chat.id).contact_id == ana.id
    assert store.contacts.count() == 2
    qtbot.waitUntil(lambda: sorted(_names(page)) == ["Ana", "Zed"], timeout=5000)
    assert [c.id for c in page.selected_contacts()] == [ana.id]


def test_select_contact_clears_a_filter_that_hides_it(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    store.contacts.add_many(store.contacts.new(name=f"A{i:04d}", phone=f"+35191{i:07d}") for i in range(PAGE + 20))
    last = store.contacts.create(name="Zoe", lifecycle="customer")
    page = _page(qtbot, ctx)
    page.filter.setText("A0001")
    qtbot.waitUntil(lambda: page.model.total == 1, timeout=5000)
    page.select_contact(last.id)
    wait_idle(qtbot, ctx)
    assert page.filter.text() == ""
    assert [c.id for c in page.selected_contacts()] == [last.id]


def test_closed_dialogs_are_deleted_and_forgotten(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    store = ctx.store
    ana = store.contacts.create(name="Ana", phone="+351911111111")
    bo = store.contacts.create(name="Bo", phone="+351922222222")
    path = tmp_path / "list.csv"
    path.write_text("Name;Mobile\nCy;+351933333333\n", encoding="utf-8")
    page = _page(qtbot, ctx)

    editor = page.open_editor(ana.id)
    editor.reject()
    assert page.editor is None
    qtbot.waitUntil(lambda: not is_alive(editor))

    page.table.selectRow(page.model.row_of(ana.id))
    page.table.selectionModel().select(
        page.model.index(page.model.row_of(bo.id), 0),
        QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows,
    )
    merge = page.merge_selected()
    assert merge is not None
    merge.reject()
    assert page.merge_dialog is None
    qtbot.waitUntil(lambda: not is_alive(merge))

    importer = page.import_csv(path)
    assert importer is not None
    importer.reject()  # while the preview is still being read: its result is dropped
    assert page.import_dialog is None
    qtbot.waitUntil(lambda: not is_alive(importer))
    wait_idle(qtbot, ctx)

    assert page.findChildren(QtWidgets.QDialog) == []
    assert store.contacts.count() == 2
