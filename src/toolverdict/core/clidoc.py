"""The CLI reference in docs/cli.md, generated from the real `--help` of every command.

docs/cli.md holds a cog block that calls ``reference()``; `cog -r docs/cli.md` rewrites
the reference and `cog --check docs/cli.md` (scripts/test, tests/test_docs.py) fails when
a command's options changed without the doc.
"""

from __future__ import annotations

import os

# The toolverdict commands, in the order the reference lists them.
COMMANDS = (
    "up",
    "import",
    "review",
    "status",
    "compare",
    "panel_eval",
    "check_claims",
    "ingest",
    "check_sources",
    "enrich",
    "export",
    "digest",
    "worker",
    "scheduler",
)
# The width the reference is wrapped at, whatever the terminal running cog.
WIDTH = "100"


def help_text(command: str) -> str:
    """Exactly what `toolverdict <command> --help` prints (at WIDTH columns)."""
    from django.core.management import ManagementUtility

    os.environ["COLUMNS"] = WIDTH
    utility = ManagementUtility(["toolverdict", command])
    parser = utility.fetch_command(command).create_parser("toolverdict", command)
    return parser.format_help()


def reference() -> str:
    """Every command's help, as Markdown sections."""
    import django

    # Some help texts show a default read from the environment (the scheduler's interval):
    # the reference shows the built-in defaults, whatever this shell or a .env file sets.
    for name in [n for n in os.environ if n.startswith("TOOLVERDICT_")]:
        if name != "TOOLVERDICT_DATA_DIR":
            del os.environ[name]
    os.environ["TOOLVERDICT_ENV_FILE"] = os.devnull
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toolverdict.settings")
    django.setup()
    sections = []
    for command in COMMANDS:
        name = command.replace("_", "-")
        sections.append(f"## toolverdict {name}\n\n```\n{help_text(command).rstrip()}\n```\n")
    return "\n".join(sections)
