"""Parsing what the WhatsApp Web page shows about a message row: its ``data-id``, ``data-pre-plain-text`` and ticks.

Pure functions (no Playwright): the driver, the sender and the backfill share them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["RowId", "ack_level", "parse_data_id", "parse_pre_plain_text", "row_dates", "time_on"]

_PRE = re.compile(r"^\s*\[(?P<time>[^,\]]+),\s*(?P<date>[^\]]+)\]\s*(?P<author>.*?):\s*$", re.S)
_TIME_FORMATS = ("%H:%M", "%I:%M %p", "%H.%M")
_DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y")
_SERIALIZED = re.compile(r"^(?P<me>true|false)_(?P<chat>[^_]+@[^_]+)_(?P<id>[^_]+)(?:_(?P<participant>.+))?$")


@dataclass(frozen=True)
class RowId:
    wa_id: str
    chat_jid: str | None
    from_me: bool | None
    participant: str | None = None


def parse_data_id(data_id: str) -> RowId:
    """``false_6590000001@c.us_3A12`` → its parts; a bare id (2026 markup) knows neither chat nor direction."""
    match = _SERIALIZED.match(data_id.strip())
    if match is None:
        return RowId(data_id.strip(), None, None)
    return RowId(match["id"], match["chat"], match["me"] == "true", match["participant"])


def parse_pre_plain_text(pre: str | None, *, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """``"[14:05, 22/11/2026] Alice: "`` → (local aware time, "Alice"); (None, None) when it does not parse.

    WhatsApp writes the date in the browser locale's order; day-first is tried first and a month-first reading is
    taken instead when the day-first one lies in the future (the page only shows messages from the past).
    """
    if not pre:
        return None, None
    match = _PRE.match(pre)
    if match is None:
        return None, None
    author = match["author"].strip() or None
    now = now or datetime.now().astimezone()
    time_text = match["time"].replace("\u202f", " ").replace("\xa0", " ").strip().upper()
    date_text = match["date"].strip()
    candidates: list[datetime] = []
    for date_format in _DATE_FORMATS:
        for time_format in _TIME_FORMATS:
            with contextlib.suppress(ValueError):
                candidates.append(datetime.strptime(f"{date_text} {time_text}", f"{date_format} {time_format}"))
    for candidate in candidates:
        aware = candidate.astimezone()  # naive = the browser's (this machine's) local time
        if aware <= now + timedelta(days=1):
            return aware, author
    return (candidates[0].astimezone() if candidates else None), author


def ack_level(icon: str | None, label: str = "") -> int | None:
    """``msg-time`` 0, ``msg-check`` 1, ``msg-dblcheck`` 2 (3 when labelled Read), ``msg-dblcheck-ack`` 3."""
    if not icon:
        return None
    name = icon.removeprefix("msg-").removeprefix("status-")
    if "error" in name:
        return -1
    if name == "time":
        return 0
    if name == "check":
        return 1
    if name == "dblcheck-ack" or name.startswith("read"):
        return 3
    if name.startswith("dblcheck"):
        return 3 if "read" in label.lower() else 2
    if "played" in name:
        return 4
    return None


def time_on(day: date | None, text: str | None, *, now: datetime | None = None) -> datetime | None:
    """A bubble's own time (``"14:05"``, ``"2:05 PM"``, from its msg-meta) on ``day`` (today when unknown), as a local
    aware time; a moment in the future means the day before. None when it does not parse."""
    if not text:
        return None
    clean = text.replace("\u202f", " ").replace("\xa0", " ").strip().upper()
    now = now or datetime.now().astimezone()
    for time_format in _TIME_FORMATS:
        with contextlib.suppress(ValueError):
            clock = datetime.strptime(clean, time_format).time()
            when = datetime.combine(day or now.date(), clock).astimezone()
            return when - timedelta(days=1) if day is None and when > now + timedelta(minutes=1) else when
    return None


def row_dates(rows: list[dict[str, Any]]) -> dict[str, date]:
    """For rows without ``data-pre-plain-text`` (media without a caption), the date of the nearest row above that has
    one, by ``data-id``; rows are top to bottom."""
    dates: dict[str, date] = {}
    current: date | None = None
    for row in rows:
        when, _author = parse_pre_plain_text(row.get("pre"))
        if when is not None:
            current = when.date()
        elif current is not None and row.get("id"):
            dates[str(row["id"])] = current
    return dates
