"""The business's time zone helpers (app/core/zones.py)."""

from __future__ import annotations

import pytest

from app.core.zones import is_zone, local_zone_name, zone_names


@pytest.mark.parametrize(
    ("tz", "expected"), [("Asia/Jakarta", "Asia/Jakarta"), ("Etc/UTC", "UTC"), ("Mars/Olympus", None)]
)
def test_this_computers_zone_comes_from_tz_and_reads_utc_for_its_aliases(
    monkeypatch: pytest.MonkeyPatch, tz: str, expected: str | None
) -> None:
    monkeypatch.setenv("TZ", tz)
    found = local_zone_name()
    if expected is None:  # an unknown TZ falls back to /etc/localtime, then UTC: never an unknown name
        assert is_zone(found)
    else:
        assert found == expected


def test_zone_names_are_known_zones_and_junk_is_not_one() -> None:
    names = zone_names()
    assert "Asia/Jakarta" in names
    assert "America/Sao_Paulo" in names
    assert names == sorted(names)
    for junk in ("", " Asia/Jakarta", "Mars/Olympus", "../etc/passwd", "Asia/"):
        assert not is_zone(junk)
