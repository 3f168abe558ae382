"""The workspace header (``workspace.json``): identity and key protection, never a secret.

``pending_key`` is written before a rekey starts and cleared after it finishes, so a crash in between leaves a
workspace that still opens with either the old or the new key.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import DatabaseTooNew, HeaderDamaged, WorkspaceNotFound
from app.store.keys import KeyProtection
from app.store.paths import atomic_write

HEADER_FORMAT = 1

log = logging.getLogger(__name__)


class WorkspaceHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = HEADER_FORMAT
    workspace_id: str
    org_id: str
    name: str
    created_at: datetime
    key: KeyProtection
    pending_key: KeyProtection | None = None


def read_header(path: Path) -> WorkspaceHeader:
    """The header, or why it cannot be used: missing, unreadable, damaged, or written by a newer Parley."""
    folder = path.parent.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceNotFound(f"No workspace at {path.parent}.") from None
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        raise HeaderDamaged(f"Parley cannot read the header (workspace.json) of workspace {folder}.") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:  # also bad UTF-8 and an empty file
        raise HeaderDamaged(f"The header (workspace.json) of workspace {folder} is damaged.") from exc
    # The format is checked before the fields: a newer Parley may have added fields this one does not know.
    version = data.get("format") if isinstance(data, dict) else None
    if isinstance(version, int) and version > HEADER_FORMAT:
        name = data.get("name")
        label = repr(name) if isinstance(name, str) else folder
        raise DatabaseTooNew(f"Workspace {label} was made by a newer version of Parley.")
    try:
        return WorkspaceHeader.model_validate(data)
    except ValidationError as exc:
        log.warning("workspace header %s is invalid: %d errors", path, exc.error_count())
        raise HeaderDamaged(f"The header (workspace.json) of workspace {folder} is damaged.") from exc


def write_header(path: Path, header: WorkspaceHeader) -> None:
    atomic_write(path, header.model_dump_json(indent=2).encode("utf-8"))
