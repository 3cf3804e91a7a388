"""`manage.py check --deploy` passes with production settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOOLVERDICT_"))}
    env.update({"TOOLVERDICT_DATA_DIR": str(tmp_path), **extra_env})
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_env(tmp_path):
    result = run_check(
        {
            "DJANGO_SECRET_KEY": "x7#kq2-production-secret-" + "a9Zb" * 12,
            "DJANGO_ALLOWED_HOSTS": "verdicts.example.com",
            "TOOLVERDICT_HTTPS": "true",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_passes_on_the_key_generated_without_one(tmp_path):
    # No DJANGO_SECRET_KEY: a random key is generated into the data directory, not a
    # published fallback, so the deployment check has nothing to object to.
    result = run_check(
        {"DJANGO_ALLOWED_HOSTS": "verdicts.example.com", "TOOLVERDICT_HTTPS": "true"}, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_check_deploy_fails_on_a_short_key(tmp_path):
    result = run_check(
        {
            "DJANGO_SECRET_KEY": "too-short-a-secret",
            "DJANGO_ALLOWED_HOSTS": "verdicts.example.com",
            "TOOLVERDICT_HTTPS": "true",
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "toolverdict.E001" in result.stdout + result.stderr
    assert "shorter than 50 characters" in result.stdout + result.stderr


def test_debug_is_off_unless_asked(tmp_path):
    code = "import django,os;django.setup();from django.conf import settings;print(settings.DEBUG)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_SETTINGS_MODULE"] = "toolverdict.settings"
    env["TOOLVERDICT_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(ROOT / "src")
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    on = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
    )
    assert off.stdout.strip() == "False", off.stderr
    assert on.stdout.strip() == "True", on.stderr
