"""CSV preview, import and export: forgiving reading, strict per-row checks, duplicates and a lossless round trip."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.store.contacts_csv import (
    export_csv,
    guess_mapping,
    import_csv,
    normalise_phone,
    preview_csv,
    sniff_delimiter,
)
from app.store.store import Store
from app.store.workspaces import Workspaces


def test_comma_file_with_bom_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes("\ufeffName,Phone\r\nAna,+351 912 345 678\r\n".encode())
    preview = preview_csv(path)
    assert preview.delimiter == ","
    assert preview.headers == ["Name", "Phone"]  # the BOM is not part of the first header
    assert preview.rows[0].fields == {"name": "Ana", "phone": "+351912345678"}


def test_path_given_as_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("name\nBea\n", encoding="utf-8")
    assert [r.fields["name"] for r in preview_csv(str(path)).rows] == ["Bea"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected(delimiter: str) -> None:
    text = delimiter.join(["name", "phone", "email"]) + "\n" + delimiter.join(["Ana", "+351912345678", "a@x.pt"])
    preview = preview_csv(text + "\n")
    assert preview.delimiter == delimiter
    assert preview.rows[0].fields["email"] == "a@x.pt"


def test_semicolons_inside_cells_do_not_fool_the_sniffer() -> None:
    text = "name,phone,tags\nAna,+351912345678,vip;gold\nBo,+351912345679,new\nCy,+351912345670,a|b;c\n"
    assert sniff_delimiter(text) == ","
    assert preview_csv(text).rows[2].fields["tags"] == ["a", "b", "c"]


def test_single_column_falls_back_to_comma() -> None:
    assert sniff_delimiter("name\nAna\nBo\n") == ","


def test_windows_1252_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("name;phone\nJosé Müller;+4917612345678\n".encode("cp1252"))
    preview = preview_csv(path)
    assert preview.encoding == "cp1252"
    assert preview.rows[0].fields["name"] == "José Müller"


def test_headers_map_case_insensitively_and_unknown_ones_become_custom_fields() -> None:
    mapping = guess_mapping(
        ["Full Name", "MOBILE", "E-mail", "Tags", "Company", "Stage", "lead_score", "Shoe size", ""]
    )
    assert mapping == {
        "Full Name": "name",
        "MOBILE": "phone",
        "E-mail": "email",
        "Tags": "tags",
        "Company": "company",
        "Stage": "lifecycle",
        "lead_score": "lead_score",
        "Shoe size": "custom:Shoe size",
        "": None,
    }
    assert guess_mapping(["WhatsApp", "Phone"]) == {"WhatsApp": "phone", "Phone": "custom:Phone"}


def test_explicit_mapping_overrides_the_guess() -> None:
    preview = preview_csv("who,number\nAna,+351912345678\n", {"who": "name", "number": "phone"})
    assert preview.rows[0].fields == {"name": "Ana", "phone": "+351912345678"}


def test_each_row_reports_its_own_errors_with_its_line_number() -> None:
    text = (
        "name,phone,email,lifecycle,lead_score\n"
        "Ana,+351912345678,ana@example.com,customer,80\n"  # line 2: fine
        ",,,,\n"  # line 3: blank, skipped
        ",,nobody@example.com,,\n"  # line 4: neither name nor phone
        "Bo,12-34,,,\n"  # line 5: bad phone
        "Cy,,not-an-email,,\n"  # line 6: bad e-mail
        "Di,,,vip,\n"  # line 7: bad lifecycle
        "Ed,,,,lots\n"  # line 8: bad number
        '"Fay\nFaith",,,,101\n'  # lines 9-10: a quoted newline, bad number
    )
    preview = preview_csv(text)
    by_line = {r.line_no: r.errors for r in preview.rows}
    assert by_line[2] == []
    assert 3 not in by_line
    assert by_line[4] == ["missing name and phone (a row needs at least one)"]
    assert by_line[5][0].startswith("bad phone")
    assert by_line[6][0].startswith("bad e-mail")
    assert by_line[7][0].startswith("bad lifecycle")
    assert by_line[8][0].startswith("bad number")
    assert by_line[9][0].startswith("bad number")
    assert (preview.ready, preview.with_errors, preview.duplicates) == (1, 6, 0)
    assert preview.rows[0].fields["lifecycle"] == "customer"
    assert preview.rows[0].fields["lead_score"] == 80


def test_repeated_headers_and_odd_numbers() -> None:
    preview = preview_csv("name,phone,phone,lead_score,lifetime value\nAna,+351912345678,+351911111111,²,inf\n")
    assert preview.headers == ["name", "phone", "phone (2)", "lead_score", "lifetime value"]
    assert preview.mapping["phone (2)"] == "custom:phone (2)"
    assert preview.rows[0].fields["custom_fields"] == {"phone (2)": "+351911111111"}
    assert [e.split(":")[0] for e in preview.rows[0].errors] == ["bad number", "bad number"]
    with pytest.raises(ValueError, match="unknown field"):
        preview_csv("a\n1\n", {"a": "nickname"})


def test_extra_values_beyond_the_header_are_an_error() -> None:
    preview = preview_csv("name,phone\nAna,+351912345678,surprise\n")
    assert preview.rows[0].errors == ["3 values but the header has 2 columns"]


def test_phone_normalisation() -> None:
    assert normalise_phone(" +49 (176) 123-45678 ") == "+4917612345678"
    assert normalise_phone("0176 1234567") == "01761234567"
    assert normalise_phone("") is None
    with pytest.raises(ValueError, match="fewer than 7 digits"):
        normalise_phone("+1 234")
    with pytest.raises(ValueError, match="more than 15 digits"):
        normalise_phone("+1234567890123456")


def test_duplicates_of_existing_contacts_and_of_earlier_rows(store: Store) -> None:
    store.contacts.create(name="Existing", phone="+351912345678")
    text = "name,phone\nAna,+351 912 345 678\nBo,+351911111111\nBo again,+351-911-111-111\nCy,\nDi,\n"
    preview = preview_csv(text, store=store)
    rows = {r.line_no: r for r in preview.rows}
    assert rows[2].duplicate_existing
    assert rows[2].duplicate_line is None
    assert not rows[3].is_duplicate
    assert rows[4].duplicate_line == 3
    assert not rows[4].duplicate_existing
    assert not rows[5].is_duplicate  # no phone, nothing to compare
    assert not rows[6].is_duplicate
    assert (preview.ready, preview.duplicates) == (3, 2)

    report = import_csv(store, preview)
    assert (report.imported, report.skipped_duplicates, report.failed) == (3, 2, [])
    assert store.contacts.count() == 4

    again = import_csv(store, preview_csv(text), skip_duplicates=False)
    assert again.imported == 5


def test_import_writes_valid_rows_reports_failures_and_resolves_companies(store: Store) -> None:
    store.companies.create(name="Acme SA")
    text = (
        "name,phone,company,tags,Shoe size\n"
        "Ana,+351912345678,acme sa,vip;gold,38\n"
        "Bo,+351911111111,New Co,,\n"
        "Cy,+1,New Co,,\n"
        "Di,+351922222222,new co,b2b|vip,41\n"
    )
    calls: list[tuple[int, int]] = []
    report = import_csv(store, preview_csv(text, store=store), progress=lambda done, total: calls.append((done, total)))
    assert report.imported == 3
    assert report.failed == [(4, ["bad phone: phone '+1' has fewer than 7 digits"])]
    assert calls[-1] == (4, 4)
    companies = {c.name: c.id for c in store.companies.find_all()}
    assert set(companies) == {"Acme SA", "New Co"}  # matched case-insensitively, created once
    ana = store.contacts.find_by_phone("+351912345678")
    assert ana is not None
    assert ana.company_id == companies["Acme SA"]
    assert ana.tags == ["vip", "gold"]
    assert ana.custom_fields == {"Shoe size": "38"}
    di = store.contacts.find_by_phone("+351922222222")
    assert di is not None
    assert di.company_id == companies["New Co"]
    assert di.tags == ["b2b", "vip"]


def test_large_import_goes_in_batches(store: Store) -> None:
    lines = ["name,phone,tags"] + [f"Person {i},+3519{i:08d},t{i % 7}" for i in range(5000)]
    lines.insert(2500, "Broken,12,")
    calls: list[tuple[int, int]] = []
    report = import_csv(store, preview_csv("\n".join(lines)), progress=lambda d, t: calls.append((d, t)))
    assert report.imported == 5000
    assert [line for line, _ in report.failed] == [2501]
    assert store.contacts.count() == 5000
    assert [d for d, _ in calls] == [1000, 2000, 3001, 4001, 5001]  # rows looked at, once per batch written
    assert {t for _, t in calls} == {5001}
    assert store.contacts.find_by_phone("+351900004999") is not None


def test_export_then_import_round_trip(store: Store, workspaces: Workspaces) -> None:
    company = store.companies.create(name="Acme SA")
    store.contacts.create(
        name='Ana, "the boss"',
        phone="+351912345678",
        email="ana@example.com",
        company_id=company.id,
        lifecycle="customer",
        tags=["vip", "gold"],
        lead_score=90,
        lifetime_value_minor=123456,
        currency="EUR",
        language="pt",
        wa_id="351912345678@c.us",
        lid="1234@lid",
        last_contacted_at=datetime(2026, 5, 4, 10, 30, tzinfo=UTC),
        custom_fields={"Shoe size": "38", "phone": "desk line", "notes": "line one\nline two"},
    )
    store.contacts.create(name="Bo", custom_fields={"Shoe size": "41"})
    store.contacts.create(phone="+4917612345678")
    gone = store.contacts.create(name="Deleted")
    store.contacts.delete(gone.id)

    out = io.StringIO()
    assert export_csv(store, out) == 3
    header = out.getvalue().splitlines()[0]
    assert header.startswith("name,phone,email,company,lifecycle,tags,lead_score")
    assert "custom:phone" in header  # a custom field named like a standard one is kept apart

    path = Path(workspaces.home) / "export.csv"
    assert export_csv(store, path) == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    other = workspaces.create("Second Shop", "Bea Owner")
    try:
        preview = preview_csv(path, store=other)
        assert preview.with_errors == 0
        report = import_csv(other, preview)
        assert report.imported == 3
        fields = ("name", "phone", "email", "lifecycle", "tags", "lead_score", "lifetime_value_minor", "currency")
        more = ("language", "wa_id", "lid", "last_contacted_at", "custom_fields")

        def snapshot(s: Store) -> list[tuple[object, ...]]:
            names = {c.id: c.name for c in s.companies.find_all()}
            return [
                (*(getattr(c, f) for f in fields + more), names.get(c.company_id or ""))
                for c in s.contacts.find_all(order_by="rid")
            ]

        assert snapshot(other) == snapshot(store)
    finally:
        other.close()


def test_export_neutralises_formulas_and_import_reads_them_back(store: Store) -> None:
    name = '=HYPERLINK("http://evil","x")'
    tags = ["@SUM(A1)", "-2+3"]
    custom = {
        "a": "+cmd|' /C calc'!A0",
        "b": "-1",
        "c": "\tTabbed",
        "d": "'=already quoted",
        "e": "'plain quote",
        "=odd key": "''@two quotes",
    }
    store.contacts.create(name=name, phone="+351912345678", tags=tags, custom_fields=custom)
    out = io.StringIO()
    export_csv(store, out)

    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    cells = dict(zip(header, row, strict=True))
    assert "'=odd key" in header
    assert cells["name"] == "'" + name
    assert cells["phone"] == "+351912345678"  # the phone column keeps its plus
    assert cells["tags"] == "'@SUM(A1);-2+3"
    assert (cells["a"], cells["b"], cells["c"]) == ("'+cmd|' /C calc'!A0", "'-1", "'\tTabbed")
    assert (cells["d"], cells["e"], cells["'=odd key"]) == ("''=already quoted", "'plain quote", "'''@two quotes")
    unsafe = [c for c in header + row if c.startswith(("=", "@", "\t", "\r", "+", "-")) and c != cells["phone"]]
    assert unsafe == []

    preview = preview_csv(out.getvalue())
    assert preview.with_errors == 0
    fields = preview.rows[0].fields
    assert (fields["name"], fields["phone"], fields["tags"]) == (name, "+351912345678", tags)
    assert fields["custom_fields"] == custom


def test_numbers_beyond_their_bounds_are_row_errors(store: Store) -> None:
    text = (
        "name,lifetime value,lead score,last contacted\n"
        "Ana,10000000000.00,100,2026-05-04T10:30:00+00:00\n"  # line 2: exactly the limits
        "Bo,10000000000.01,,\n"  # line 3: a cent too much
        "Cy,1e999999,,\n"  # line 4: an exponent that overflows the arithmetic
        "Di,99999999999999999999999,,\n"  # line 5: too big for SQLite
        f"Ed,,{'9' * 5000},\n"  # line 6: more digits than Python turns into an int
        "Fi,,,0001-01-01T00:00:00+14:00\n"  # line 7: a date that cannot be stored
    )
    preview = preview_csv(text)
    errors = {r.line_no: r.errors for r in preview.rows}
    assert errors[2] == []
    assert preview.rows[0].fields["lifetime_value_minor"] == 10**12
    for line in (3, 4, 5):
        assert errors[line][0].startswith("bad number: lifetime value"), line
    assert errors[6][0].startswith("bad number: lead score")
    assert errors[7][0].startswith("bad date")
    report = import_csv(store, preview)
    assert report.imported == 1
    assert store.contacts.find_all()[0].lifetime_value_minor == 10**12
