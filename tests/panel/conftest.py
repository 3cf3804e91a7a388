"""Fixtures for panel tests: a small hand-made catalog and fast retries."""

from __future__ import annotations

import pytest

SAMPLE = """
[[categories]]
slug = "developer-tools"
name = "Developer Tools"

[[tools]]
slug = "acme-coder"
name = "Acme Coder"
vendor = "Acme Labs"
category = "developer-tools"
tagline = "A coding agent for the terminal"
description = "Acme Coder edits code from the terminal. It was released in March 2025."
homepage = "https://acme.example/coder"
pricing = "freemium"
license = "MIT"
release_date = 2025-03-14
context_window = 200000

[[tools.price_points]]
tier = "Pro"
amount = 20.0
currency = "USD"
unit = "month"
source = "https://acme.example/pricing"

[[tools.facts]]
key = "languages"
value = "Supports Python, Go and Rust"
source = "https://acme.example/docs"
retrieved = 2026-11-01

[[tools.facts]]
key = "verified_install"
value = "Installed with pip and ran its first edit in 4 minutes"
source = "https://toolverdict.example/notes/acme"
retrieved = 2026-11-02

[[tools]]
slug = "bolt-ide"
name = "Bolt IDE"
vendor = "Bolt Inc"
category = "developer-tools"
tagline = "An editor with an agent"
homepage = "https://bolt.example"
pricing = "paid"

[[tools.price_points]]
tier = "Team"
amount = 30.0
currency = "USD"
unit = "seat/month"
source = "https://bolt.example/pricing"
"""


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.TOOLVERDICT_PANEL_BACKOFF = 0


@pytest.fixture
def sample_catalog(db):
    """Two tools imported for real; returns {slug: Tool} with details prefetched."""
    from toolverdict.catalog.importer import import_catalog, parse_catalog
    from toolverdict.catalog.models import Tool
    from toolverdict.panel.services import _tools

    import_catalog(parse_catalog(SAMPLE))
    return {t.slug: t for t in _tools(Tool.objects.values_list("pk", flat=True))}


@pytest.fixture
def acme(sample_catalog):
    return sample_catalog["acme-coder"]


@pytest.fixture
def acme_dossier(acme):
    from toolverdict.panel.dossier import build_dossier

    return build_dossier(acme)
