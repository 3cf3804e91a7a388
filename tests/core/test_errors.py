"""Errors in one shape: one HTML error page (status, title, message, a way back) and one
JSON body for the API ({"detail": …})."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from toolverdict.api import endpoints
from toolverdict.core.errors import error_page, server_error


@pytest.mark.django_db
def test_an_unknown_page_is_the_error_page_with_a_way_back(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Not found</h1>" in body
    assert "There is no page at /no-such-page/." in body
    assert 'href="/">Back to the latest verdicts</a>' in body
    assert 'href="/search/">search the catalog</a>' in body


def test_the_error_page_escapes_its_message_and_sets_retry_after():
    response = error_page(
        RequestFactory().get("/"),
        429,
        "Too many attempts",
        "<script>alert(1)</script>",
        back_url="/tools/a/",
        back_label="Back to the tool",
        retry_after=60,
    )
    body = response.content.decode()
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert '<a href="/tools/a/">Back to the tool</a>' in body
    assert "<title>Too many attempts · toolverdict</title>" in body


def test_a_server_error_page_renders_without_the_database():
    # No django_db mark: any query here would fail the test.
    response = server_error(RequestFactory().get("/tools/x/"))
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.content.decode()


def test_api_errors_outside_the_api_views_are_json_too():
    response = server_error(RequestFactory().get("/api/tools"))
    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Internal server error"}


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found"}


@pytest.mark.django_db
def test_an_api_view_that_fails_answers_json_not_a_page(client, monkeypatch, settings):
    settings.TOOLVERDICT_PAGE_CACHE = False

    def broken(tools):
        raise RuntimeError("panel store unavailable")

    monkeypatch.setattr(endpoints, "panel_summaries", broken)
    response = client.get("/api/tools")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
