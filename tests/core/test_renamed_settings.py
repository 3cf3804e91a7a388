"""Variables renamed to the TOOLVERDICT_ prefix: the old names still work, and `check` says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "from django.conf import settings as s; "
    "print(s.TOOLVERDICT_COMMUNITY_MIN_VOTES, s.SESAME_MAX_AGE, "
    "s.TOOLVERDICT_RATE_LIMITS['vote_ip'])"
)


def manage(args: list[str], extra_env: dict[str, str], tmp_path: Path) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "TOOLVERDICT_", "COMMUNITY_"))
    }
    env.update({"TOOLVERDICT_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT / "src")})
    env.update(extra_env)
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_old_community_names_are_still_read_and_check_names_each_one(tmp_path):
    old = {
        "COMMUNITY_MIN_VOTES": "7",
        "COMMUNITY_SIGNIN_LINK_MAX_AGE": "600",
        "COMMUNITY_RATE_VOTE_IP": "9/60",
    }
    assert manage(["shell", "--no-imports", "-c", SHOW], old, tmp_path).split() == [
        "7",
        "600",
        "9/60",
    ]
    report = manage(["check"], old, tmp_path)
    assert report.count("toolverdict.W001") == 3
    assert "COMMUNITY_MIN_VOTES is the old name of TOOLVERDICT_COMMUNITY_MIN_VOTES" in report


def test_the_new_name_wins_and_raises_no_warning(tmp_path):
    both = {"COMMUNITY_MIN_VOTES": "7", "TOOLVERDICT_COMMUNITY_MIN_VOTES": "3"}
    assert manage(["shell", "--no-imports", "-c", SHOW], both, tmp_path).split() == [
        "3",
        "900",
        "120/60",
    ]
    assert "toolverdict.W001" not in manage(["check"], both, tmp_path)
