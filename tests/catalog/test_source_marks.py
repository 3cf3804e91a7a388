"""What readers and editors see of a source check: readers the label, editors the detail.

A refused check's detail names the address the cited host resolved to; a page citing an
internal name would publish that address if readers were shown it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from toolverdict.catalog import sources
from toolverdict.catalog.models import Fact, Source
from toolverdict.ingest import source_checks

from .test_sources import make_tool

pytestmark = pytest.mark.django_db

INTERNAL = "10.20.30.40"
DETAIL = f"refused: wiki.corp.internal resolves to {INTERNAL} (private address)"


def test_a_refused_source_shows_readers_its_label_and_editors_its_detail(
    starter_catalog, admin_client
):
    fact = Fact.objects.filter(tool__slug="claude-4-sonnet").first()
    sources.record(
        [
            sources.CheckResult(
                fact.source_url, Source.Outcome.REFUSED, timezone.now(), detail=DETAIL
            )
        ]
    )
    status = sources.statuses_for([fact.source_url])[fact.source_url]
    assert status.state == "unreachable"
    page = Client().get("/tools/claude-4-sonnet/").content.decode()
    assert f">{status.label}</span>" in page
    assert INTERNAL not in page and "resolves to" not in page
    api = Client().get("/api/tools/claude-4-sonnet").content.decode()
    assert status.label in api and INTERNAL not in api
    source = Source.objects.get(url=fact.source_url)
    editor = admin_client.get(reverse("admin:catalog_source_change", args=[source.pk]))
    assert INTERNAL in editor.content.decode()


def test_a_refused_check_speaks_of_sources_not_feeds(source_server, source_settings):
    source_settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    url = source_server.add("/internal")
    make_tool([url])
    source_checks.check_sources([url])
    source = Source.objects.get(url=url)
    assert source.outcome == Source.Outcome.REFUSED
    assert "feed" not in source.detail.lower()
    page = Client().get("/tools/probe/").content.decode()
    assert "resolves to" not in page and "only public addresses" not in page
