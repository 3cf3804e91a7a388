"""The data directory and the private files in it, readable by their owner only.

The data directory holds what another local user must not read: the SQLite database and
its WAL and shared-memory files (sessions, so signed-in accounts), the generated secret
key, and the mail outbox (sign-in links valid for 15 minutes). The directory is made
0700 and those files 0600, and an existing directory or file that is more open is
tightened at start. Public data written under it (the open-data dumps, collected static
files, model weights) keeps its own modes; the directory's 0700 alone keeps other users
out of it.

Imported by settings.py, so nothing here may touch django.conf.settings.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of a database file: each is created with the database's own mode.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def tighten(path: Path, mode: int) -> None:
    """Remove every permission bit beyond ``mode`` from ``path``, if it is ours."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.geteuid():
        return  # not ours to change (a shared mount): the operator decides
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode:
        os.chmod(path, current & mode)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only, or tighten it if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def private_sqlite(database: Path) -> None:
    """Make the SQLite database at ``database`` owner-only before SQLite opens it.

    SQLite creates a new database file with the process's umask (0644 as a rule) and
    gives its -wal, -shm and -journal files the database file's mode, so an empty 0600
    file created here first (an empty file is a valid empty database) makes all of them
    owner-only; files from an earlier start are tightened.
    """
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for suffix in SQLITE_SUFFIXES:
        tighten(Path(f"{database}{suffix}"), FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new owner-only file ``path`` (replacing one left there)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tighten(path, FILE_MODE)  # a file left by an earlier version kept its old mode
