"""Every write that changes what a page shows bumps the scopes it touches, on commit.

Model signals cover saves and deletes through the ORM (imports, the admin, the panel's
``update_or_create``); writes that bypass them (bulk upserts of votes, conditional
``UPDATE``s of digest issues) call ``versions.invalidate`` where they happen.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from .versions import invalidate


def _catalog(sender, **kwargs) -> None:
    invalidate("catalog")


def _review(sender, instance, **kwargs) -> None:
    invalidate("reviews", tools=[instance.tool_id])


def _tool_vote(sender, instance, **kwargs) -> None:
    invalidate("votes", "votes:tools", tools=[instance.tool_id])


def _pair_vote(sender, instance, **kwargs) -> None:
    invalidate("votes", categories_of=[instance.tool_a_id, instance.tool_b_id])
    invalidate(pair_scope_for_ids(instance.tool_a_id, instance.tool_b_id))


def _member(sender, instance, **kwargs) -> None:
    # Confirming an address, or an editor excluding an account, changes whether its votes
    # count: retire the pages showing the tools and pairs it voted on.
    from toolverdict.community.models import PairVote, ToolVote

    tool_ids = list(
        ToolVote.objects.filter(user_id=instance.user_id).values_list("tool_id", flat=True)
    )
    pairs = list(
        PairVote.objects.filter(user_id=instance.user_id).values_list("tool_a_id", "tool_b_id")
    )
    if tool_ids or pairs:
        invalidate(
            "votes",
            "votes:tools",
            *(pair_scope_for_ids(a, b) for a, b in pairs),
            tools=tool_ids,
            categories_of=[pk for pair in pairs for pk in pair],
        )


def _digest(sender, **kwargs) -> None:
    invalidate("digest")


def pair_scope_for_ids(a_id: int, b_id: int) -> str:
    from toolverdict.catalog.models import Tool

    slugs = dict(Tool.objects.filter(pk__in=[a_id, b_id]).values_list("pk", "slug"))
    return f"pair:{slugs.get(a_id, a_id)}:{slugs.get(b_id, b_id)}"


def _tools_changed(sender, **kwargs) -> None:
    invalidate("catalog")


def _sources_changed(sender, tool_ids, **kwargs) -> None:
    # A source check changed what the pages of the tools citing it say about the source.
    invalidate(tools=tool_ids)


def connect() -> None:
    from toolverdict.catalog.models import Category, Fact, PricePoint, Tool
    from toolverdict.catalog.signals import sources_changed, tools_changed
    from toolverdict.community.models import Member, PairVote, ToolVote
    from toolverdict.digest.models import Issue, Section
    from toolverdict.panel.models import Review

    for model in (Category, Tool, PricePoint, Fact):
        post_save.connect(_catalog, sender=model, dispatch_uid=f"pagecache-{model.__name__}-s")
        post_delete.connect(_catalog, sender=model, dispatch_uid=f"pagecache-{model.__name__}-d")
    tools_changed.connect(_tools_changed, dispatch_uid="pagecache-tools-changed")
    sources_changed.connect(_sources_changed, dispatch_uid="pagecache-sources-changed")
    for model, receiver in (
        (Review, _review),
        (ToolVote, _tool_vote),
        (PairVote, _pair_vote),
        (Member, _member),
        (Issue, _digest),
        (Section, _digest),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"pagecache-{model.__name__}-s")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"pagecache-{model.__name__}-d")
