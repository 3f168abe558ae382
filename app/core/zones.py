"""The business's time zone: one IANA name, ``orgs.timezone``, for everything that depends on the hour of the day.

Business hours, welcome and away messages, follow-up times and WhatsApp's quiet hours all read the org's zone (synced,
so every teammate's computer agrees whatever zone it is set to). A new workspace takes this computer's zone; the owner
changes it in Settings › Business hours.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_UTC_ALIASES = frozenset({"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu", "Etc/GMT"})


def local_zone_name() -> str:
    """This computer's IANA time zone name (``TZ``, else /etc/localtime's target), ``UTC`` when unknown."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if not name:
            continue
        if is_zone(name):
            return "UTC" if name in _UTC_ALIASES else name
    return "UTC"


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this computer knows (``Asia/Jakarta``, ``UTC``)."""
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_names() -> list[str]:
    """Every IANA zone this computer knows, sorted (for a picker)."""
    return sorted(available_timezones())
