"""The GeoPackage file itself: its identity while the service runs, its integrity, the
marker that tells a first start from a lost file, and backup and restore.

A running service holds its file open. Deleting or replacing the file does not stop SQLite:
the open connections go on reading and writing the old, unlinked inode, and every change
since is lost with it. So the store records the file's identity (device and inode) when it
is opened and compares it before every write and, at most once a second, before reads
(:func:`identity`); connections open with ``mode=rw`` so that a missing file is an error
rather than a new, empty database (:func:`uri`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .base import StoreUnavailable

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
# The tables every mapservice GeoPackage has from its first day (the change log, tokens and
# address tables are added by the upgrade when missing, layer tables follow the catalog).
REQUIRED_TABLES = ("gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns", "mapservice_layer_state")
RESTORE = "restore a backup with `mapservice restore FILE`"

LOST_WRITE = (
    "The store file was removed or replaced while the service was running; nothing was "
    "written. The operator must restore it (mapservice restore) and restart the service."
)
LOST_READ = (
    "The store file was removed or replaced while the service was running; the data cannot "
    "be read until the operator restores it (mapservice restore) and restarts the service."
)
DAMAGED = "The store file is damaged; the operator must restore a backup (mapservice restore)."
DAMAGED_WRITE = (
    "The store file is damaged; nothing was written. The operator must restore a backup (mapservice restore)."
)


@dataclass(frozen=True)
class FileIdentity:
    device: int
    inode: int


def identity(path: Path) -> FileIdentity | None:
    """The file's device and inode (None: there is no file): one stat, about a microsecond."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return FileIdentity(st.st_dev, st.st_ino)


def uri(path: Path, mode: str) -> str:
    """The SQLite URI of ``path``: ``mode=rw`` fails on a missing file instead of creating one."""
    return f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={mode}"


def lost(path: Path) -> StoreUnavailable:
    """The error of a store whose file is gone or is another file than the one opened."""
    return StoreUnavailable(
        f"the store file {path} was removed or replaced while the service was running; every "
        f"request is refused and nothing is written from now on; {RESTORE} and restart the service",
        LOST_READ,
        LOST_WRITE,
    )


def damaged(path: Path, what: str, noun: str = "store", advice: str = RESTORE) -> StoreUnavailable:
    return StoreUnavailable(f"{noun} {path} {' '.join(what.split())}; {advice}", DAMAGED, DAMAGED_WRITE)


# -- first start or lost file ------------------------------------------------------------------


def marker(path: Path) -> Path:
    """The file next to the store that says a store was created here.

    Without it a lost file looks like a first start, and the service would quietly build a
    new store from the shipped data: every edit gone, and nothing would say so.
    """
    return path.with_name(path.name + ".created")


def mark_created(path: Path) -> None:
    note = marker(path)
    if note.exists():
        return
    at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    note.write_text(
        f"The store {path.name} was first opened here on {at}.\n"
        "While this file exists, mapservice refuses to build a new, empty store in place of a "
        "missing one: restore a backup with `mapservice restore FILE`, or delete this file to "
        "start again from the shipped data.\n",
        encoding="utf-8",
    )


def refuse_if_lost(path: Path) -> None:
    """Raise when ``path`` is missing but a store was created there before."""
    note = marker(path)
    if note.exists():
        raise StoreUnavailable(
            f"store {path} is missing, but a store was created there before ({note}); {RESTORE}, "
            f"or delete {note} to start again from the shipped data",
        )


# -- integrity ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What a checked file holds."""

    layers: int
    features: int
    size: int


def check_file(path: Path, quick_check: bool = True, noun: str = "store", advice: str = RESTORE) -> Summary:
    """Raise :class:`StoreUnavailable` with one line saying what is wrong with the file.

    Without ``quick_check`` only the header and the tables are looked at (milliseconds, on
    every open); with it SQLite also reads every page (``PRAGMA quick_check``: `serve`,
    `check`, `backup`, `restore`).
    """
    if not path.exists():
        raise damaged(path, "is missing", noun, advice)
    if not path.is_file():
        raise damaged(path, "is not a file", noun, advice)
    size = path.stat().st_size
    if size == 0:
        raise damaged(path, "is an empty file (0 bytes), not a GeoPackage", noun, advice)
    with open(path, "rb") as f:
        head = f.read(100)
    if not head.startswith(SQLITE_HEADER):
        raise damaged(
            path, "is not a SQLite database (it does not start with 'SQLite format 3')", noun, advice
        )
    if len(head) < 100:
        raise damaged(path, f"is truncated ({size} bytes, not even the 100-byte header)", noun, advice)
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The page count in the header is valid when its change counter matches (offset 92 = 24),
    # and the file holds all pages when no -wal is beside it (a checkpoint that grows the
    # file may write page 1 first; quick_check then still reads every page).
    wal = path.with_name(path.name + "-wal")
    settled = not wal.exists() or wal.stat().st_size == 0
    if settled and head[92:96] == head[24:28] and size < pages * page_size:
        raise damaged(path, f"is truncated ({size:,} of {pages * page_size:,} bytes)", noun, advice)
    try:
        conn = sqlite3.connect(uri(path, "ro"), uri=True)
    except sqlite3.Error as exc:
        raise damaged(path, f"cannot be opened ({exc})", noun, advice) from exc
    try:
        if quick_check:
            problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
                raise damaged(path, f"is damaged (quick_check: {problems[0]}{more})", noun, advice)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != GPKG_APPLICATION_ID:
            raise damaged(path, f"is not a GeoPackage (application_id {app_id:#x})", noun, advice)
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in REQUIRED_TABLES if t not in names]
        if missing:
            raise damaged(
                path, f"is not a mapservice store or is damaged (no table {', '.join(missing)})", noun, advice
            )
        layers = [
            str(row[0])
            for row in conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
        ]
        registered = [str(row[0]) for row in conn.execute("SELECT table_name FROM gpkg_contents")]
        indexes = [
            f"rtree_{row[0]}_{row[1]}"
            for row in conn.execute(
                "SELECT table_name, column_name FROM gpkg_extensions "
                "WHERE extension_name = 'gpkg_rtree_index'"
            )
        ]
        missing = [t for t in (*registered, *indexes) if t not in names]
        if missing:
            raise damaged(path, f"is damaged (registered tables missing: {', '.join(missing)})", noun, advice)
        features = 0
        for name in layers if quick_check else ():  # counting is a scan: only in the full check
            if name.startswith("mapservice_"):
                continue  # the gazetteer's address points are no layer's features
            features += int(
                conn.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
            )
    except sqlite3.DatabaseError as exc:
        raise damaged(path, f"is damaged ({exc})", noun, advice) from exc
    finally:
        conn.close()
    return Summary(len([n for n in layers if not n.startswith("mapservice_")]), features, size)


# -- backup and restore -------------------------------------------------------------------------


def _copy(source: Path, target: Path, journal_mode: str) -> None:
    """A consistent copy of ``source`` (SQLite's online backup: one snapshot, while writers
    go on in WAL mode) into the new file ``target``, fsynced."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(uri(source, "ro"), uri=True)
    try:
        dst = sqlite3.connect(uri(target, "rwc"), uri=True)
        try:
            src.backup(dst)
            mode = dst.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()[0]
            if str(mode).lower() != journal_mode.lower():
                raise OSError(f"{target}: could not set journal mode {journal_mode}")
        finally:
            dst.close()  # the last connection: the WAL is checkpointed into the file and removed
    finally:
        src.close()
    with open(target, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(store: Path, target: Path) -> Summary:
    """Copy the store to ``target`` while the service may run: checked, then moved into place.

    The copy is one self-contained file (journal mode DELETE, no -wal beside it), so it can
    be copied on as it is. Raises StoreUnavailable (the store or the copy is damaged) or
    OSError (the target cannot be written).
    """
    check_file(store)
    if target.exists() and identity(target) == identity(store):
        raise OSError(f"{target} is the store itself; name another file")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        _copy(store, tmp, "DELETE")
        summary = check_file(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(target.parent)
    return summary


def restore(source: Path, store: Path) -> tuple[Summary, Path | None]:
    """Replace the store by the backup ``source`` in one step; the current file is kept aside.

    ``source`` must be a complete mapservice store (quick_check and tables). Returns what it
    holds and where the previous file (with its -wal) was kept, if there was one.
    """
    check_file(source, noun="backup", advice="nothing was restored; choose another backup")
    if identity(source) == identity(store):
        raise OSError(f"{source} is the store itself; name a backup")
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".{store.name}.restore.{os.getpid()}.tmp")
    try:
        # The service runs in WAL mode: the restored file is put in it before it is in place.
        _copy(source, tmp, "WAL")
        summary = check_file(tmp)
        aside: Path | None = None
        if store.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = store.with_name(f"{store.name}.before-restore-{stamp}")
            try:
                os.link(store, aside)  # the previous file stays, under another name
            except OSError:  # a file system without hard links
                shutil.copy2(store, aside)
        # The previous file's -wal and -shm belong to it: SQLite would replay them into the
        # restored one. They go with the kept file.
        for suffix in ("-wal", "-shm"):
            extra = store.with_name(store.name + suffix)
            if extra.exists():
                if aside is not None:
                    os.replace(extra, aside.with_name(aside.name + suffix))
                else:
                    extra.unlink()
        os.replace(tmp, store)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(store.parent)
    mark_created(store)
    return summary, aside
