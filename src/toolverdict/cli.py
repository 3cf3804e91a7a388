"""The `toolverdict` command: every subcommand is a Django management command."""

from __future__ import annotations

import os
import sys

import django


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toolverdict.settings")
    django.setup()


def main(argv: list[str] | None = None) -> None:
    """Entry point: `toolverdict COMMAND …` runs the matching management command.

    Every toolverdict command (import, review, compare, up, …) is a Django management
    command, so `toolverdict help` lists them and `toolverdict X --help` documents X.
    """
    setup_django()
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `toolverdict panel-eval` runs panel_eval
    execute_from_command_line(["toolverdict", *args])


if __name__ == "__main__":  # pragma: no cover
    main()
