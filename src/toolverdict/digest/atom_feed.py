"""Atom feed of sent issues.

Every link and id in it is on ``SITE_URL`` (docs/digest.md), never the request's Host:
Django's feed builds them from the Host header, so the same feed fetched under another
allowed host name would hand readers links (and entry ids) on that name.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Issue
from .rendering import issue_context


class IssueFeed(Feed):
    feed_type = Atom1Feed
    title = "Weekly AI Tool Verdicts"
    subtitle = "The week's new AI tools, their panel verdicts and the headline comparison."

    def link(self) -> str:
        # Absolute, so Feed.get_feed leaves it as is instead of prefixing the Host.
        return f"{settings.SITE_URL}{reverse('digest:archive')}"

    def feed_url(self) -> str:
        return f"{settings.SITE_URL}{reverse('digest:feed')}"

    def items(self):
        return (
            Issue.objects.filter(status=Issue.Status.SENT)
            .prefetch_related("sections")
            .order_by("-sent_at")[:20]
        )

    def item_title(self, item: Issue) -> str:
        return " ".join(item.subject.split())

    def item_description(self, item: Issue) -> str:
        # Rendered with autoescaping: tool and panel text reach feed readers as text.
        return render_to_string("digest/feed_item.html", issue_context(item))

    def item_link(self, item: Issue) -> str:
        return f"{settings.SITE_URL}{item.get_absolute_url()}"

    def item_pubdate(self, item: Issue):
        return item.sent_at

    def item_updateddate(self, item: Issue):
        return item.sent_at
