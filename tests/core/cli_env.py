"""Running the real `toolverdict` command in a subprocess, with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TOOLVERDICT = Path(sys.executable).parent / "toolverdict"
# A good key for runs that are not about the key (the settings refuse weak ones).
GOOD_KEY = "x7#kq2-production-secret-" + "a9Zb" * 12


def toolverdict(
    *args: str, cwd: Path, umask: int = 0o022, **environ: str
) -> subprocess.CompletedProcess:
    """``toolverdict ARGS`` as an operator would run it: none of this test run's settings
    (database, cache, data directory) leak in; ``environ`` sets what the test is about.
    The umask is the common 022, under which new files are world-readable unless made
    otherwise."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "TOOLVERDICT_"))
        and k not in ("DATABASE_URL", "CACHE_URL", "EMAIL_URL")
    }
    env.update(environ)
    return subprocess.run(
        [str(TOOLVERDICT), *args],
        cwd=cwd,
        env=env,
        umask=umask,
        capture_output=True,
        text=True,
        timeout=180,
    )
