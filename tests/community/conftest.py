"""Community fixtures: members who may vote, and settings that make every vote count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from toolverdict.community.models import Member

GENEROUS_LIMITS = {
    "vote_user": "100000/60",
    "vote_ip": "100000/60",
    "signin_ip": "1000/60",
    "signin_email": "1000/60",
}


@pytest.fixture(autouse=True)
def community_settings(settings):
    """Votes count at once and from the first one, unless a test says otherwise."""
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    settings.TOOLVERDICT_RATE_LIMITS = dict(GENEROUS_LIMITS)
    cache.clear()
    yield settings
    cache.clear()


def create_member(
    email: str,
    *,
    confirmed: bool = True,
    joined_ago: timedelta = timedelta(days=30),
    is_staff: bool = False,
):
    user = get_user_model().objects.create_user(
        username=email, email=email, is_staff=is_staff, is_superuser=is_staff
    )
    user.date_joined = timezone.now() - joined_ago
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now() if confirmed else None)
    return user


@pytest.fixture
def member(db):
    return create_member("reader@example.com")


@pytest.fixture
def member_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def tools(starter_catalog):
    from toolverdict.catalog.models import Tool

    return {t.slug: t for t in Tool.objects.select_related("category")}
