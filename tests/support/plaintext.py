"""Looking for a secret on disk: every file under the given folders that holds its bytes (as UTF-8 or UTF-16, the
two ways a text value is written). The workspace database is encrypted, so a secret kept inside it is never found."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def files_containing(secret: str, *roots: Path, since: float | None = None) -> list[Path]:
    """Files under ``roots`` (and, with ``since``, the system temp folder's files written since then) that hold
    ``secret``. The temp folder is read only for recent files: other tests and processes write there too."""
    needles = [secret.encode("utf-8"), secret.encode("utf-16-le")]
    found: list[Path] = []
    places = [(root, None) for root in roots]
    if since is not None:
        places.append((Path(tempfile.gettempdir()), since))
    seen: set[Path] = set()
    for root, newer_than in places:
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                if path in seen:
                    continue
                seen.add(path)
                try:
                    if newer_than is not None and path.stat().st_mtime < newer_than:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue  # a socket, a file removed meanwhile, one we may not read
                if any(needle in data for needle in needles):
                    found.append(path)
    return found
