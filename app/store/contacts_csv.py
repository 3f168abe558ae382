"""Contacts in and out of spreadsheets: a checked preview before anything is written, then a batched import.

People bring contacts from Excel, Google Sheets or another CRM, so the file is read forgivingly (delimiter sniffed,
UTF-8 with or without BOM, headers matched case-insensitively under their usual names) but every row is validated
before import and reported with its line number, so nothing is silently dropped or half-written. Unknown columns
become custom fields, which is also how ``export_csv`` writes them, so export → import keeps the data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, get_args

from app.core.errors import InvalidInput
from app.core.events import ContactCreated
from app.core.ids import utc_now
from app.core.models import Contact, Lifecycle
from app.store import labels
from app.store.ops import op_transaction
from app.store.store import Store

LIFECYCLES: tuple[str, ...] = get_args(Lifecycle)
BATCH = 1000
CUSTOM_PREFIX = "custom:"
_DELIMITERS = ",;\t|"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_TAG_SPLIT = re.compile(r"[;|,]")
# Upper bounds that keep every number a plain SQLite integer (a bigger one would fail mid-import, not in preview).
MAX_LIFETIME_MINOR = 10**12
MAX_LEAD_SCORE = 100
_EARLIEST, _LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
# Cells a spreadsheet would run as a formula when they start with one of these ("CSV injection"). Signs also start
# a formula, but a phone number starts with "+", so the phone column keeps its signs.
_FORMULA_START = ("=", "@", "\t", "\r")
_SIGNS = ("+", "-")

# Every standard field with the headers it is known under (compared case-insensitively, "_"/"-" as spaces).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "fullname", "contact name", "contact"),
    "phone": ("phone", "mobile", "whatsapp", "phone number", "mobile number", "whatsapp number", "telephone", "tel"),
    "email": ("email", "e mail", "mail", "email address", "e mail address"),
    "company": ("company", "company name", "organisation", "organization"),
    "lifecycle": ("lifecycle", "stage", "lifecycle stage"),
    "tags": ("tags", "tag", "labels"),
    "lead_score": ("lead score", "score"),
    "lifetime_value": ("lifetime value", "ltv"),
    "currency": ("currency",),
    "language": ("language",),
    "wa_id": ("wa id",),
    "lid": ("lid",),
    "last_contacted_at": ("last contacted at", "last contacted"),
}
FIELDS = tuple(ALIASES)
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


def _header_key(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").replace("-", " ").split())


def neutralised(cell: str, *, signs: bool = True) -> str:
    """``cell`` as a spreadsheet shows it without running it: a ``'`` goes before text that would start a formula.

    Text that already starts with quotes before such a character gets one more, so :func:`unneutralised` (which
    removes exactly one) gives back what was written. ``signs=False`` leaves a leading ``+``/``-`` alone (phones).
    """
    starters = _FORMULA_START + _SIGNS if signs else _FORMULA_START
    return "'" + cell if cell.lstrip("'").startswith(starters) else cell


def unneutralised(cell: str) -> str:
    """``cell`` without the ``'`` that :func:`neutralised` (or a spreadsheet) put before a formula character."""
    if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_START + _SIGNS):
        return cell[1:]
    return cell


def normalise_phone(text: str) -> str | None:
    """'+49 (176) 123-45678' → '+4917612345678'; '' → None; fewer than 7 or more than 15 digits → ValueError."""
    text = text.strip()
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 7:
        raise InvalidInput(f"phone {text!r} has fewer than 7 digits")
    if len(digits) > 15:
        raise InvalidInput(f"phone {text!r} has more than 15 digits")
    return ("+" if text.startswith("+") else "") + digits


def valid_email(text: str) -> bool:
    return bool(_EMAIL.match(text))


def split_tags(text: str, *, separators: re.Pattern[str] = _TAG_SPLIT) -> list[str]:
    tags: list[str] = []
    for tag in separators.split(text):
        tag = tag.strip().lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def find_or_create_company(store: Store, name: str, known: dict[str, str] | None = None) -> str:
    """The id of the company called ``name`` (case-insensitive), created when there is none. Call in a transaction."""
    key = name.strip().casefold()
    if known is None:
        known = company_ids(store)
    if key not in known:
        known[key] = store.companies.create(name=name.strip()).id
    return known[key]


def company_ids(store: Store) -> dict[str, str]:
    return {c.name.strip().casefold(): c.id for c in store.companies.find_all(order_by="rid")}


def existing_phones(store: Store) -> set[str]:
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT phone FROM contacts WHERE org_id = ? AND deleted_at IS NULL AND phone IS NOT NULL", (store.org_id,)
        ).fetchall()
    return {str(r[0]) for r in rows}


# ---- preview ---------------------------------------------------------------------------------------------------
@dataclass
class CsvRow:
    line_no: int  # line of the file where the row starts (the header is line 1)
    raw: dict[str, str]  # header → cell, as in the file
    fields: dict[str, Any] = field(default_factory=dict)  # Contact fields (+ "company" as a name)
    errors: list[str] = field(default_factory=list)
    duplicate_existing: bool = False  # an existing contact has this phone
    duplicate_line: int | None = None  # an earlier row of the file has this phone

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_existing or self.duplicate_line is not None


@dataclass
class CsvPreview:
    headers: list[str]
    mapping: dict[str, str | None]  # header → field name, "custom:<key>", or None (ignored)
    rows: list[CsvRow]
    delimiter: str
    encoding: str

    @property
    def ready(self) -> int:
        return sum(1 for r in self.rows if r.ok and not r.is_duplicate)

    @property
    def with_errors(self) -> int:
        return sum(1 for r in self.rows if not r.ok)

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.rows if r.ok and r.is_duplicate)


def guess_mapping(headers: Iterable[str]) -> dict[str, str | None]:
    """Map each header to a field; unknown headers become custom fields, blank ones are ignored."""
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for header in headers:
        key = _header_key(header)
        if key.startswith(CUSTOM_PREFIX):
            custom = header.strip()[len(CUSTOM_PREFIX) :].strip()
            mapping[header] = CUSTOM_PREFIX + custom if custom else None
            continue
        target = _LOOKUP.get(key)
        if target is not None and target not in taken:
            taken.add(target)
            mapping[header] = target
        else:
            mapping[header] = CUSTOM_PREFIX + header.strip() if header.strip() else None
    return mapping


def read_text(source: str | Path | bytes) -> tuple[str, str]:
    """(text, encoding) of a path, bytes or the CSV text itself; UTF-8 (BOM or not), else Windows-1252."""
    data: bytes
    if isinstance(source, Path):
        data = source.read_bytes()
    elif isinstance(source, bytes):
        data = source
    elif "\n" not in source and "\r" not in source and Path(source).is_file():
        data = Path(source).read_bytes()
    else:
        return source.removeprefix("\ufeff"), "text"
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    sample = text[: 64 * 1024]
    header = sample.splitlines()[0] if sample.strip() else ""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if delimiter not in header:
        # Sniffer can be fooled by separators inside cells (tags "a;b"); the header line settles it.
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","
    return delimiter


def preview_csv(
    source: str | Path | bytes, mapping: dict[str, str | None] | None = None, *, store: Store | None = None
) -> CsvPreview:
    """Parse and validate every row without writing anything. With ``store``, phones already on file are flagged."""
    text, encoding = read_text(source)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = _unique([unneutralised(h.strip()) for h in next(reader, [])])
    guessed = guess_mapping(headers)
    mapping = guessed if mapping is None else {h: mapping.get(h, guessed[h]) for h in headers}
    wrong = [t for t in mapping.values() if t is not None and t not in FIELDS and not t.startswith(CUSTOM_PREFIX)]
    if wrong:
        raise ValueError(f"unknown field(s) in the column mapping: {', '.join(map(repr, wrong))}")
    known = existing_phones(store) if store is not None else set()
    seen: dict[str, int] = {}
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        row = CsvRow(start, dict(zip(headers, cells, strict=False)))
        if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers) :]):
            row.errors.append(f"{len(cells)} values but the header has {len(headers)} columns")
        _validate(row, mapping)
        phone = row.fields.get("phone")
        if row.ok and phone:
            row.duplicate_existing = phone in known
            if phone in seen:
                row.duplicate_line = seen[phone]
            else:
                seen[phone] = start
        rows.append(row)
    return CsvPreview(headers, mapping, rows, delimiter, encoding)


def _unique(headers: list[str]) -> list[str]:
    """Two columns with the same title stay two columns: 'Phone', 'Phone (2)'."""
    out: list[str] = []
    for header in headers:
        name, n = header, 1
        while name in out:
            n += 1
            name = f"{header} ({n})"
        out.append(name)
    return out


def _validate(row: CsvRow, mapping: dict[str, str | None]) -> None:
    out, errors = row.fields, row.errors
    custom: dict[str, Any] = {}
    for header, cell in row.raw.items():
        target, value = mapping.get(header), unneutralised(cell.strip())
        if target is None or not value:
            continue
        if target.startswith(CUSTOM_PREFIX):
            custom[target[len(CUSTOM_PREFIX) :]] = value
        elif target in ("name", "company", "language", "wa_id", "lid"):
            out[target] = value
        elif target == "phone":
            try:
                out["phone"] = normalise_phone(value)
            except ValueError as exc:
                errors.append(f"bad phone: {exc}")
        elif target == "email":
            if valid_email(value):
                out["email"] = value
            else:
                errors.append(f"bad e-mail: {value!r}")
        elif target == "lifecycle":
            if value.lower() in LIFECYCLES:
                out["lifecycle"] = value.lower()
            else:
                errors.append(f"bad lifecycle: {value!r} (use one of {', '.join(LIFECYCLES)})")
        elif target == "tags":
            out["tags"] = split_tags(value)
        elif target == "lead_score":
            if value.isascii() and value.isdigit() and len(value) <= 3 and int(value) <= MAX_LEAD_SCORE:
                out["lead_score"] = int(value)
            else:
                errors.append(f"bad number: lead score {value!r} must be a whole number from 0 to {MAX_LEAD_SCORE}")
        elif target == "lifetime_value":
            try:
                minor = Decimal(value.replace(",", "")) * 100
                if not minor.is_finite() or minor < 0 or minor != minor.to_integral_value():
                    raise InvalidOperation
                if minor > MAX_LIFETIME_MINOR:
                    errors.append(f"bad number: lifetime value {value!r} is more than {MAX_LIFETIME_MINOR // 100:,}")
                else:
                    out["lifetime_value_minor"] = int(minor)
            except ArithmeticError:  # InvalidOperation, and Overflow for exponents like 1e999999
                errors.append(f"bad number: lifetime value {value!r}")
        elif target == "currency":
            if len(value) == 3 and value.isalpha():
                out["currency"] = value.upper()
            else:
                errors.append(f"bad currency: {value!r} (a three-letter code such as EUR)")
        elif target == "last_contacted_at":
            try:
                at = datetime.fromisoformat(value)
                if at.tzinfo is None:
                    raise ValueError
                if not _EARLIEST <= at < _LATEST:
                    raise ValueError
                out["last_contacted_at"] = at
            except (ValueError, OverflowError):
                errors.append(f"bad date: last contacted {value!r} (ISO 8601 with a time zone, years 1900 to 9998)")
    if custom:
        out["custom_fields"] = custom
    if not out.get("name") and not out.get("phone") and not any("phone" in e for e in errors):
        errors.insert(0, "missing name and phone (a row needs at least one)")


# ---- import ----------------------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    imported: int = 0
    skipped_duplicates: int = 0
    failed: list[tuple[int, list[str]]] = field(default_factory=list)
    tables: frozenset[str] = frozenset()  # what the import's transactions wrote (contacts, new companies)


def import_csv(
    store: Store,
    preview: CsvPreview,
    *,
    skip_duplicates: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Write the valid rows in transactions of ``BATCH``; rows with errors are reported, never written.

    Each contact created publishes ``ContactCreated`` once its batch commits, as a contact created in the editor
    or by WhatsApp intake does (agents listen to it whichever way the contact arrived).
    """
    report = ImportReport()
    known = existing_phones(store)  # the store may have changed since the preview
    seen: set[str] = set()
    companies = company_ids(store)
    total = len(preview.rows)
    batch: list[tuple[Contact, str | None]] = []  # company names resolve inside the batch's transaction

    def flush(done: int) -> None:
        if batch:
            with op_transaction(store) as tx:
                spelled = labels.spellings(store, (t for contact, _ in batch for t in contact.tags))
                for contact, company in batch:
                    contact.tags = list(dict.fromkeys(spelled[" ".join(t.split()).casefold()] for t in contact.tags))
                    if company:
                        contact.company_id = find_or_create_company(store, company, companies)
                store.contacts.add_many(contact for contact, _ in batch)
                for contact, _ in batch:
                    store.emit(ContactCreated(org_id=store.org_id, contact_id=contact.id))
            report.tables |= tx.tables
            report.imported += len(batch)
            batch.clear()
        if progress is not None:
            progress(done, total)

    for i, row in enumerate(preview.rows, start=1):
        if not row.ok:
            report.failed.append((row.line_no, list(row.errors)))
        else:
            phone = row.fields.get("phone")
            if skip_duplicates and phone and (phone in known or phone in seen):
                report.skipped_duplicates += 1
            else:
                if phone:
                    seen.add(phone)
                fields = dict(row.fields)
                company = fields.pop("company", None)
                batch.append((store.contacts.new(**fields), company))
        if len(batch) >= BATCH or i == total:
            flush(i)
    if not preview.rows and progress is not None:
        progress(0, 0)
    return report


# ---- export ----------------------------------------------------------------------------------------------------
EXPORT_COLUMNS = list(FIELDS)  # every field the importer knows, so an export reads back whole


def _custom_header(key: str) -> str:
    """A custom field's column; prefixed when its name would be read back as a standard field."""
    plain = _header_key(key)
    if plain in _LOOKUP or plain.startswith(CUSTOM_PREFIX) or not key.strip() or key != key.strip():
        return CUSTOM_PREFIX + key
    return key


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def export_csv(store: Store, target: str | Path | IO[str]) -> int:
    """Write every live contact (header row first); returns how many. Paths get UTF-8 with a BOM, for Excel."""
    contacts = store.contacts.find_all(order_by="rid")
    companies = {c.id: c.name for c in store.companies.find_all(include_deleted=True)}
    keys = sorted({k for c in contacts for k in c.custom_fields})
    if isinstance(target, str | Path):
        with Path(target).open("w", encoding="utf-8-sig", newline="") as fh:
            return _write(fh, contacts, companies, keys)
    return _write(target, contacts, companies, keys)


def _write(fh: IO[str], contacts: list[Contact], companies: dict[str, str], keys: list[str]) -> int:
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([neutralised(h) for h in EXPORT_COLUMNS + [_custom_header(k) for k in keys]])
    phone = EXPORT_COLUMNS.index("phone")
    for c in contacts:
        ltv = Decimal(c.lifetime_value_minor) / 100
        cells = [
            c.name,
            c.phone or "",
            c.email or "",
            companies.get(c.company_id, "") if c.company_id else "",
            c.lifecycle,
            ";".join(c.tags),
            str(c.lead_score),
            f"{ltv:.2f}",
            c.currency,
            c.language or "",
            c.wa_id or "",
            c.lid or "",
            c.last_contacted_at.isoformat() if c.last_contacted_at else "",
            *(_cell(c.custom_fields[k]) if k in c.custom_fields else "" for k in keys),
        ]
        writer.writerow([neutralised(cell, signs=i != phone) for i, cell in enumerate(cells)])
    return len(contacts)


def exported_now() -> str:
    """A file name suggestion: contacts-2026-05-04.csv."""
    return f"contacts-{utc_now():%Y-%m-%d}.csv"
