"""Importing contacts from a CSV file: a preview first, the import second, then a report of every row left out.

Nothing is written until the person has seen how their columns were understood and which rows have problems (in
red, with the reason in a tooltip); reading, checking and importing run on a worker with progress, and the final
report lists each failed row by its line number in the file so it can be fixed there and imported again.
"""

from __future__ import annotations

from pathlib import Path

from app.qt import QtGui, QtWidgets, Slot
from app.store.contacts_csv import CsvPreview, CsvRow, ImportReport, preview_csv
from app.store.ops import Done
from app.store.ops.contacts import import_contacts
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog, secondary_button
from app.ui.theme import colors

PREVIEW_ROWS = 200
TASK = "Importing contacts"


def _status(row: CsvRow) -> str:
    if row.errors:
        return "; ".join(row.errors)
    if row.duplicate_existing:
        return "Duplicate: a contact has this phone"
    if row.duplicate_line is not None:
        return f"Duplicate of line {row.duplicate_line}"
    return "Ready"


class CsvImportDialog(FormDialog):
    def __init__(
        self, ctx: AppContext, path: str | Path | None = None, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__("Import contacts", "Import contacts from CSV", "Import", parent, cancel="Cancel")
        self.ctx = ctx
        self.path: Path | None = None
        self.preview: CsvPreview | None = None
        self.report: ImportReport | None = None
        self._importing = False
        self.resize(860, 560)

        self.file_label = QtWidgets.QLabel("No file chosen")
        self.file_label.setObjectName("muted")
        choose = secondary_button("Choose file…")
        choose.clicked.connect(self.choose_file)
        file_row = QtWidgets.QHBoxLayout()
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(choose)
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 0)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.skip_duplicates = QtWidgets.QCheckBox(
            "Skip rows whose phone number is already in your contacts or the file"
        )
        self.skip_duplicates.setChecked(True)
        self.skip_duplicates.toggled.connect(lambda _: self._summarise())
        self.report_view = QtWidgets.QPlainTextEdit()
        self.report_view.setReadOnly(True)
        self.report_view.setMaximumHeight(140)
        self.report_view.hide()
        self.import_button = self.primary
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.close_button = self.cancel_button

        self.body.addLayout(file_row)
        self.body.addWidget(self.summary)
        self.body.addWidget(self.table, 1)
        self.body.addWidget(self.skip_duplicates)
        self.body.addWidget(self.report_view)
        if path is not None:
            self.load(Path(path))

    # ---- preview ---------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        chosen, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import contacts", str(Path.home()), "CSV files (*.csv *.txt);;All files (*)"
        )
        if chosen:
            self.load(Path(chosen))

    def load(self, path: Path) -> None:
        self.path, self.preview, self.report = path, None, None
        self.file_label.setText(str(path))
        self.summary.setText("Reading the file…")
        self.import_button.setEnabled(False)
        self.report_view.hide()
        self._show_error("")
        store = self.ctx.store
        self.ctx.tasks.start(
            "Reading the CSV file",
            lambda: preview_csv(path, store=store),
            self._show_preview,
            self._show_error,
            owner=self,
        )

    def _show_preview(self, preview: CsvPreview) -> None:
        self.preview = preview
        headers = [f"{h} → {self._field_name(preview.mapping.get(h))}" for h in preview.headers]
        self.table.clear()
        self.table.setColumnCount(2 + len(headers))
        self.table.setHorizontalHeaderLabels(["Line", "Status", *headers])
        shown = preview.rows[:PREVIEW_ROWS]
        self.table.setRowCount(len(shown))
        danger, muted = QtGui.QColor(colors().danger), QtGui.QColor(colors().muted)
        for r, row in enumerate(shown):
            cells = [str(row.line_no), _status(row), *(row.raw.get(h, "") for h in preview.headers)]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if row.errors:
                    item.setForeground(danger)
                    item.setToolTip("\n".join(row.errors))
                elif row.is_duplicate:
                    item.setForeground(muted)
                    item.setToolTip(_status(row))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self._summarise()

    @staticmethod
    def _field_name(target: str | None) -> str:
        if target is None:
            return "ignored"
        if target.startswith("custom:"):
            return f"custom field {target[len('custom:') :]!r}"
        return target.replace("_", " ")

    def _summarise(self) -> None:
        p = self.preview
        if p is None:
            return
        text = f"{p.ready:,} ready, {p.with_errors:,} with errors, {p.duplicates:,} duplicates"
        if not self.skip_duplicates.isChecked():
            text += " (duplicates will be imported too)"
        if len(p.rows) > PREVIEW_ROWS:
            text += f" — showing the first {PREVIEW_ROWS} of {len(p.rows):,} rows"
        self.summary.setText(text)
        importable = p.ready + (0 if self.skip_duplicates.isChecked() else p.duplicates)
        self.import_button.setEnabled(importable > 0 and self.report is None)

    def _show_error(self, message: str) -> None:
        # Not ``show_error``: that ends the frame's busy state, which would enable Import for a file that failed.
        if message:
            self.error.setText(message)
            self.error.show()
            self.fit_height()
        else:
            self.clear_error()
        if message and self.preview is None:
            self.summary.setText("The file could not be read.")

    # ---- import ----------------------------------------------------------------------------------------------
    def start_import(self) -> None:
        preview = self.preview
        if preview is None:
            return
        store, skip = self.ctx.store, self.skip_duplicates.isChecked()
        report_progress = self.ctx.tasks.progress_reporter(TASK)
        self.import_button.setEnabled(False)
        self.skip_duplicates.setEnabled(False)
        self.progress.setRange(0, max(1, len(preview.rows)))
        self.progress.setValue(0)
        self.progress.show()
        self._show_error("")
        self._importing = True
        self.ctx.tasks.progressed.connect(self._progress)
        self.ctx.tasks.start(
            TASK,
            lambda: import_contacts(store, preview, skip_duplicates=skip, progress=report_progress),
            self._imported,
            self._import_failed,
            owner=self,
        )

    @Slot(str, int, int)
    def _progress(self, name: str, done: int, total: int) -> None:
        if name == TASK:
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)

    def _finish(self) -> None:
        self._importing = False
        self.ctx.tasks.progressed.disconnect(self._progress)
        self.progress.hide()
        self.close_button.setText("Close")

    def _imported(self, result: Done[ImportReport]) -> None:
        report = result.value
        self._finish()
        self.report = report
        lines = [
            f"Imported {report.imported:,} contact{'s' if report.imported != 1 else ''}.",
            f"Skipped {report.skipped_duplicates:,} duplicate{'s' if report.skipped_duplicates != 1 else ''}.",
        ]
        if report.failed:
            lines.append(f"{len(report.failed):,} row{'s' if len(report.failed) != 1 else ''} could not be imported:")
            lines += [f"Line {line}: {'; '.join(errors)}" for line, errors in report.failed]
        self.report_view.setPlainText("\n".join(lines))
        self.report_view.show()
        self.summary.setText(lines[0])

    def _import_failed(self, message: str) -> None:
        self._finish()
        self.skip_duplicates.setEnabled(True)
        self._show_error(f"The import stopped: {message} Rows imported before the problem were kept.")

    def done(self, result: int) -> None:
        if self._importing:
            return  # closing mid-import would hide the report of rows that failed
        super().done(result)
