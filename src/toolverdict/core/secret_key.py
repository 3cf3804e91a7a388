"""The secret key: DJANGO_SECRET_KEY, or a random key generated once into the data directory.

Imported by settings.py, so nothing here may touch django.conf.settings. The key that used
to be the fallback was published in this repository; it is refused outright, and
`manage.py check --deploy` fails on it (and on any short or repetitive key) with
toolverdict.E001 (core/checks.py).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .datadir import FILE_MODE, private_dir, tighten

# Keys that anyone can read in this repository's history: nothing may be signed with them.
PUBLISHED_KEYS = frozenset({"django-insecure-toolverdict-development-key-do-not-use-in-production"})
KEY_FILE_NAME = "secret_key"
# Django's own bar for security.W009.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5


class SecretKeyError(ImproperlyConfigured):
    """The configured or stored key cannot be used."""


def weakness(key: str) -> str | None:
    """Why ``key`` must not sign anything, or None when it is acceptable."""
    if key in PUBLISHED_KEYS:
        return "is the published development key"
    if key.startswith("django-insecure-"):
        return "starts with 'django-insecure-' (a generated development key)"
    if len(key) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {MIN_UNIQUE_CHARACTERS} distinct characters"
    return None


def _read(path: Path) -> str:
    tighten(path, FILE_MODE)  # a key file copied in with a looser mode
    try:
        key = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError as exc:
        raise SecretKeyError(
            f"the secret key file {path} is not ASCII text (byte {exc.start}); delete it to "
            "generate a new one (signed-in sessions and pending links then stop working) "
            "or set DJANGO_SECRET_KEY"
        ) from exc
    except (IsADirectoryError, PermissionError) as exc:
        raise SecretKeyError(
            f"cannot read the secret key file {path}: {exc.strerror}; fix its owner and "
            "mode (0600) or set DJANGO_SECRET_KEY"
        ) from exc
    problem = weakness(key)
    if problem:
        raise SecretKeyError(
            f"the secret key in {path} {problem}; delete the file to generate a new one "
            "(signed-in sessions and pending links then stop working) or set DJANGO_SECRET_KEY"
        )
    return key


def load_or_create(data_dir: Path) -> str:
    """The key stored in ``data_dir``, created (owner-only, 0600) on first use.

    The new key is written to a private temporary file and hard-linked into place, so the
    key file appears complete or not at all, and when two processes start at once the first
    link wins and both use that key.
    """
    path = data_dir / KEY_FILE_NAME
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    private_dir(data_dir)
    tmp = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(64) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # a concurrent start created it first: use that one
        except OSError:
            # No hard links on this filesystem: claim the name exclusively instead; a
            # concurrent reader may briefly see it empty, hence the retry below.
            _create_exclusive(path, tmp.read_text(encoding="ascii"))
    finally:
        tmp.unlink(missing_ok=True)
    for _ in range(50):
        try:
            return _read(path)
        except SecretKeyError:
            if path.stat().st_size:
                raise
            time.sleep(0.05)  # the fallback writer has the name but not yet the key
    return _read(path)


def _create_exclusive(path: Path, key: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
