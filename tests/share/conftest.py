"""Helpers for the sharing tests: panel reviews and counted votes made directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_tool_vote
from toolverdict.panel.models import Review

PERSONAS = ["Builder", "Skeptic", "Futurist", "Buyer"]
HOSTILE = '"><script>alert(1)</script> & </title><!-- \u202eevil Café'


@pytest.fixture(autouse=True)
def votes_count_at_once(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0


def add_reviews(tool: Tool, verdicts: list[str], status: str = "published") -> None:
    """One current review per verdict ("ship", "skip" or "failed"), one persona each."""
    for i, verdict in enumerate(verdicts):
        failed = verdict == "failed"
        Review.objects.create(
            tool=tool,
            persona=PERSONAS[i].lower(),
            persona_name=PERSONAS[i],
            persona_order=i,
            status=Review.Status.FAILED if failed else status,
            verdict="" if failed else verdict,
            reason="A test review.",
            model_id="test:direct",
            prompt_version="t",
            dossier_hash=f"h{i}",
        )


def add_votes(tool: Tool, ship: int, skip: int = 0) -> None:
    """Counted ship/skip votes from confirmed, old-enough members."""
    users = get_user_model()
    for i in range(ship + skip):
        email = f"voter{i}-{tool.slug}@example.com"
        user = users.objects.create_user(username=email, email=email)
        user.date_joined = timezone.now() - timedelta(days=30)
        user.save(update_fields=["date_joined"])
        Member.objects.create(user=user, email_confirmed_at=timezone.now())
        cast_tool_vote(user, tool, "ship" if i < ship else "skip")


def hostile_tool(slug: str = "hostile-tool") -> Tool:
    """A published tool whose every text field is an attack on some format."""
    other = Tool.objects.get(slug="claude-4-sonnet")
    return Tool.objects.create(
        slug=slug,
        name=HOSTILE[:80],
        vendor='Evil "Vendor" <b>',
        category=other.category,
        tagline="</script><script>alert('tagline')</script>]] > & \u2028 done",
        homepage="https://example.com/",
        pricing="free",
        license="MIT",
    )
