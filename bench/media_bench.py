"""Where media bytes live: (a) a table in the SQLCipher database, or (b) a folder of files each encrypted with
AES-256-GCM under a key derived (HKDF) from the workspace key. Prints, for each: a 10 MB photo written and read
back, 200 photos of 200–500 KB written and then all read, the store's growth, and a backup's size and time.

    .venv/bin/python -m bench.media_bench [--photos 200] [--rounds 3]

Photo bytes are random (JPEG does not compress, so random bytes cost what photos cost). (b)'s backup is its lower
bound: the database backup plus a raw copy of the already encrypted files (a real one would also re-wrap the key
or re-encrypt each file for the backup's passphrase). Backups use a cheap KDF so the figure is the I/O, not Argon2.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.ids import new_id
from app.store import keys
from app.store.backup import create_backup
from app.store.database import Database
from app.store.keys import KdfParams
from app.store.media import blob_id_for
from app.store.store import Store

MB = 1024 * 1024
FAST_KDF = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


class FolderMedia:
    """Option (b): one file per blob, ``nonce || AES-GCM(ciphertext+tag)``, written to a temp name then renamed."""

    def __init__(self, folder: Path, workspace_key: bytes) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"parley media v1").derive(workspace_key)
        self.aead = AESGCM(key)

    def put(self, data: bytes, mime: str) -> str:
        blob_id = blob_id_for(data)
        path = self.folder / blob_id
        if not path.exists():
            nonce = os.urandom(12)
            sealed = nonce + self.aead.encrypt(nonce, data, blob_id.encode())
            part = path.with_suffix(".part")
            part.write_bytes(sealed)
            os.replace(part, path)
        return blob_id

    def get(self, blob_id: str) -> bytes:
        sealed = (self.folder / blob_id).read_bytes()
        return self.aead.decrypt(sealed[:12], sealed[12:], blob_id.encode())


def disk_size(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total


def db_files(db_path: Path) -> list[Path]:
    return [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_option(option: str, root: Path, photos: list[bytes], big: bytes) -> dict[str, float]:
    root.mkdir()
    key = keys.random_key()
    db_path = root / "parley.db"
    store = Store(Database.open(db_path, key), new_id())
    store.db.checkpoint()
    media_dir = root / "media"
    put: Callable[[bytes, str], str]
    get: Callable[[str], bytes]
    if option == "a_database":
        put, get = store.media.put, store.media.get
    else:
        folder = FolderMedia(media_dir, key)
        put, get = folder.put, folder.get
    base = disk_size(*db_files(db_path), media_dir)
    r: dict[str, float] = {}
    ids: list[str] = []
    r["big_write_s"] = timed(lambda: ids.append(put(big, "image/jpeg")))
    r["big_read_s"] = timed(lambda: get(ids[0]))
    assert get(ids[0]) == big
    batch: list[str] = []
    r["photos_write_s"] = timed(lambda: batch.extend(put(p, "image/jpeg") for p in photos))
    r["photos_read_s"] = timed(lambda: [get(b) for b in batch])
    store.db.checkpoint()
    r["growth_mb"] = (disk_size(*db_files(db_path), media_dir) - base) / MB
    backup = root / "backup.parley"

    def make_backup() -> None:
        create_backup(store, backup, "bench passphrase", workspace_name="Bench", scratch=root / "tmp", kdf=FAST_KDF)
        if option == "b_folder":
            shutil.copytree(media_dir, root / "backup-media")

    r["backup_s"] = timed(make_backup)
    r["backup_mb"] = disk_size(backup, root / "backup-media") / MB
    store.close()
    return r


def run_once(work: Path, photos: list[bytes], big: bytes) -> dict[str, dict[str, float]]:
    return {option: run_option(option, work / option, photos, big) for option in ("a_database", "b_folder")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(17)
    photos = [rng.randbytes(rng.randint(200 * 1024, 500 * 1024)) for _ in range(args.photos)]
    big = rng.randbytes(10 * MB)
    print(f"{args.photos} photos, {sum(map(len, photos)) / MB:.1f} MB in all; one photo of 10 MB; {args.rounds} rounds")
    rounds: list[dict[str, dict[str, float]]] = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="media-bench-") as tmp:  # random bench bytes, no customer data
            rounds.append(run_once(Path(tmp), photos, big))
    metrics = list(rounds[0]["a_database"])
    print(f"{'median of rounds':<18}" + "".join(f"{m:>15}" for m in metrics))
    for option in ("a_database", "b_folder"):
        row = [statistics.median(r[option][m] for r in rounds) for m in metrics]
        print(f"{option:<18}" + "".join(f"{v:>15.3f}" for v in row))


if __name__ == "__main__":
    main()
