"""Data at rest is readable by the site's own user only: the data directory 0700, the
database with its WAL and shared-memory files, the secret key and the outbox's messages
0600, whatever the umask; an empty TOOLVERDICT_DATA_DIR is the default ./var."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from django.core.mail import EmailMessage

from toolverdict.core import secret_key
from toolverdict.mail import EmlFileBackend

from .cli_env import GOOD_KEY, toolverdict

# Run inside `toolverdict shell`: write to the database (so SQLite opens its WAL and
# shared-memory files) and report every mode while the connection is still open.
WRITE_AND_STAT = """
import json, os, stat
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE probe (x INTEGER)")
    cursor.execute("INSERT INTO probe VALUES (1)")
db = str(settings.DATABASES["default"]["NAME"])
paths = [str(settings.DATA_DIR), db, db + "-wal", db + "-shm",
         str(settings.DATA_DIR / "secret_key")]
print(json.dumps({p: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in paths}))
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_directory_and_everything_private_in_it_are_owner_only(tmp_path):
    data = tmp_path / "data"
    result = toolverdict(
        "shell", "-c", WRITE_AND_STAT, cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(data)
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.strip().splitlines()[-1])
    db = data / "toolverdict.sqlite3"
    assert modes == {
        str(data): "0o700",
        str(db): "0o600",
        f"{db}-wal": "0o600",
        f"{db}-shm": "0o600",
        str(data / "secret_key"): "0o600",
    }


def test_a_data_directory_left_open_by_an_earlier_version_is_tightened(tmp_path):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # noqa: S103 - the too open mode under test
    db = data / "toolverdict.sqlite3"
    files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), data / "secret_key"]
    for path in files[:3]:
        path.write_bytes(b"")
    files[3].write_text(GOOD_KEY + "\n")
    for path in files:
        os.chmod(path, 0o644)
    result = toolverdict("check", cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_empty_data_dir_variable_means_the_default_not_the_working_directory(tmp_path):
    result = toolverdict("check", cwd=tmp_path, TOOLVERDICT_DATA_DIR="")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["var"]  # nothing loose in cwd
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / secret_key.KEY_FILE_NAME) == 0o600
    assert mode(tmp_path / "var" / "toolverdict.sqlite3") == 0o600


@pytest.fixture
def common_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_outbox_messages_are_owner_only(tmp_path, common_umask):
    outbox = tmp_path / "outbox"
    message = EmailMessage(
        "Your sign-in link", "https://example.test/accounts/login/?sesame=x", to=["a@example.com"]
    )
    assert EmlFileBackend(file_path=str(outbox)).send_messages([message]) == 1
    [eml] = list(outbox.iterdir())
    assert eml.suffix == ".eml"
    assert mode(outbox) == 0o700
    assert mode(eml) == 0o600


def test_an_existing_open_outbox_is_tightened(tmp_path, common_umask):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    os.chmod(outbox, 0o755)  # noqa: S103 - the too open mode under test
    message = EmailMessage("Confirm", "link", to=["a@example.com"])
    EmlFileBackend(file_path=str(outbox)).send_messages([message])
    assert mode(outbox) == 0o700
