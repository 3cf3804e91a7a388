"""A value a program extracted from the vendor's page says so in the API and the dump."""

from __future__ import annotations

import pytest
from django.utils import timezone

from toolverdict.catalog.models import Fact, Origin, Tool
from toolverdict.opendata.export import collect

pytestmark = pytest.mark.django_db


def test_an_unreviewed_extraction_is_labelled_in_the_api_and_the_dump(client, starter_catalog):
    tool = Tool.objects.get(slug="cursor")
    fetched = timezone.now().replace(microsecond=0)
    Fact.objects.create(
        tool=tool,
        key="context_window",
        value="200,000 tokens",
        source_url="https://cursor.com/docs/models",
        origin=Origin.EXTRACTED,
        fetched_at=fetched,
        position=99,
    )
    facts = client.get("/api/tools/cursor").json()["facts"]
    extracted = next(f for f in facts if f["key"] == "context_window")
    assert (extracted["origin"], extracted["reviewed"]) == ("extracted", False)
    assert extracted["fetched_at"] is not None
    assert all(f["reviewed"] for f in facts if f["origin"] == "editor")
    rows = [r for r in collect()["facts"] if r["tool"] == "cursor"]
    row = next(r for r in rows if r["key"] == "context_window")
    assert (row["origin"], row["fetched_at"], row["reviewed_at"]) == (
        "extracted",
        fetched.isoformat(),
        None,
    )
