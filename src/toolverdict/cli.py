"""The `toolverdict` command: every subcommand is a Django management command.

A configuration mistake (an unusable secret key, a variable that does not parse) or a
database that was never migrated ends the command with one line on stderr saying what to
fix, and exit status 1, not a traceback; `--traceback` still shows one.
"""

from __future__ import annotations

import os
import re
import sys
from typing import NoReturn

import django
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

# SQLite's and PostgreSQL's words for a table or column that migrations would have made.
_UNMIGRATED = re.compile(
    r"no such (?P<kind>table|column): (?P<name>[\w.]+)"
    r'|(?P<pg_kind>relation|column) "(?P<pg_name>[^"]+)" does not exist'
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toolverdict.settings")
    django.setup()


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"toolverdict: {message}\n")
    sys.exit(1)


def unmigrated(exc: BaseException) -> str | None:
    """What a database error says is missing ("table catalog_tool"), when it is something
    migrating would create; None for any other error."""
    match = _UNMIGRATED.search(str(exc))
    if match is None:
        return None
    if match.group("name"):
        return f"{match.group('kind')} {match.group('name')}"
    kind = "table" if match.group("pg_kind") == "relation" else "column"
    return f"{kind} {match.group('pg_name')}"


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"].get("NAME", ""))


def main(argv: list[str] | None = None) -> None:
    """Entry point: `toolverdict COMMAND …` runs the matching management command.

    Every toolverdict command (import, review, compare, up, …) is a Django management
    command, so `toolverdict help` lists them and `toolverdict X --help` documents X.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `toolverdict panel-eval` runs panel_eval
    traceback = "--traceback" in args
    try:
        setup_django()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["toolverdict", *args])
    except ImproperlyConfigured as exc:
        if traceback:
            raise
        _fail(f"configuration error: {exc}")
    except DatabaseError as exc:
        missing = unmigrated(exc)
        if traceback or missing is None:
            raise
        _fail(
            f"the database {_database_name()} is not migrated (no {missing}): "
            "run `toolverdict migrate` first"
        )


if __name__ == "__main__":  # pragma: no cover
    main()
