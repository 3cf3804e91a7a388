"""The page cache's alias is "pagecache"; a local_settings.py naming the old "pages" still
configures it (docs/caching.md, "Where versions and pages live")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.cache import caches

from toolverdict.pagecache import versions

ROOT = Path(__file__).resolve().parents[2]
DUMMY = "django.core.cache.backends.dummy.DummyCache"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"

# Loads the settings with a stand-in local_settings.py holding ``CACHES`` (a JSON argument),
# then prints the aliases and each one's backend.
PROBE = """
import json, sys, types
caches = json.loads(sys.argv[1])
if caches is not None:
    local = types.ModuleType("toolverdict.local_settings")
    local.CACHES = caches
    sys.modules["toolverdict.local_settings"] = local
from django.conf import settings
print(json.dumps({alias: c["BACKEND"] for alias, c in settings.CACHES.items()}))
"""


def aliases(tmp_path: Path, local_caches: dict | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOOLVERDICT_"))}
    env.pop("CACHE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(local_caches)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_page_cache_uses_its_own_alias():
    assert versions.ALIAS == "pagecache"
    assert "pagecache" in settings.CACHES and "pages" not in settings.CACHES
    assert caches["pagecache"] is not caches["default"]


def test_without_local_settings_there_is_no_pages_alias(tmp_path):
    assert aliases(tmp_path, None) == {"default": LOCMEM, "pagecache": LOCMEM}


def test_a_local_settings_naming_the_old_alias_still_configures_the_page_cache(tmp_path):
    old = {"default": {"BACKEND": LOCMEM}, "pages": {"BACKEND": DUMMY}}
    assert aliases(tmp_path, old) == {"default": LOCMEM, "pagecache": DUMMY}


def test_where_a_local_settings_names_both_the_new_alias_wins(tmp_path):
    both = {
        "default": {"BACKEND": LOCMEM},
        "pages": {"BACKEND": LOCMEM},
        "pagecache": {"BACKEND": DUMMY},
    }
    assert aliases(tmp_path, both) == {"default": LOCMEM, "pagecache": DUMMY}
