"""The workspace header (``workspace.json``): identity and key protection, never a secret.

``pending_key`` is written before a rekey starts and cleared after it finishes, so a crash in between leaves a
workspace that still opens with either the old or the new key.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import CorruptDatabase, WorkspaceNotFound
from app.store.keys import KeyProtection
from app.store.paths import atomic_write

HEADER_FORMAT = 1


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceNotFound(f"No workspace at {path.parent}.") from None
    try:
        header = WorkspaceHeader.model_validate_json(raw)
    except ValidationError as exc:
        raise CorruptDatabase(f"The workspace header {path.name} is damaged ({exc.error_count()} errors).") from exc
    if header.format > HEADER_FORMAT:
        from app.core.errors import DatabaseTooNew

        raise DatabaseTooNew("This workspace was created by a newer version of Parley.")
    return header


def write_header(path: Path, header: WorkspaceHeader) -> None:
    atomic_write(path, header.model_dump_json(indent=2).encode("utf-8"))
