"""Unsubscribe: a page with a button, and RFC 8058 one-click POST without cookies or CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from toolverdict.digest import subscriptions
from toolverdict.digest.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return Subscriber.objects.create(email="reader@example.com", status=Subscriber.Status.CONFIRMED)


def test_get_shows_a_button_and_changes_nothing(client, member):
    response = client.get(reverse("digest:unsubscribe", args=[member.unsubscribe_key]))
    assert response.status_code == 200
    assert b"<button" in response.content
    member.refresh_from_db()
    assert member.status == Subscriber.Status.CONFIRMED


def test_one_click_post_unsubscribes_without_csrf(member):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("digest:unsubscribe", args=[member.unsubscribe_key]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.status == Subscriber.Status.UNSUBSCRIBED
    assert member.unsubscribed_at is not None
    # Idempotent: a second click is fine.
    again = client.post(reverse("digest:unsubscribe", args=[member.unsubscribe_key]))
    assert again.status_code == 200


def test_unknown_or_tampered_key_is_refused(client, member):
    for key in ["nope", member.unsubscribe_key[:-1] + "x"]:
        response = client.post(reverse("digest:unsubscribe", args=[key]))
        assert response.status_code == 404
    member.refresh_from_db()
    assert member.status == Subscriber.Status.CONFIRMED


def test_unsubscribing_voids_old_confirmation_links(client, member):
    token = subscriptions.confirmation_token(member)
    client.post(reverse("digest:unsubscribe", args=[member.unsubscribe_key]))
    response = client.post(reverse("digest:confirm"), {"token": token})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == Subscriber.Status.UNSUBSCRIBED
