"""The digest's registrations with the page cache (found by its autodiscovery).

Any save of an issue or its sections retires the archive, the issue pages and the feed;
the sender's conditional status updates bump ``digest`` themselves (digest/sending.py).
"""

from __future__ import annotations

from toolverdict.pagecache.registry import register_page, settings_not_rendering, watch

from .models import Issue, Section

watch(Issue, Section, scopes=["digest"])
# The Atom feed is a Feed instance, not a view function to decorate.
register_page("digest:feed", ["digest"])
settings_not_rendering(
    "TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR",
    "TOOLVERDICT_DIGEST_CONFIRM_MAX_AGE",
    reason="limits on sign-ups and their links: they refuse requests, no page shows them",
)
