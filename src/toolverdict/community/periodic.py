"""Periodic community housekeeping, run by `toolverdict scheduler`.

Idempotent and state-driven: each run deletes what is due, so a missed or doubled tick
is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from toolverdict.core.scheduling import periodic_job

# Asking for a sign-in link creates the account before the address is proven; accounts
# whose link was never followed are removed after this long.
UNCONFIRMED_ACCOUNT_TTL = timedelta(days=2)


@periodic_job
def prune_unconfirmed_accounts() -> int:
    """Delete never-confirmed accounts with no votes, no password and no staff rights."""
    cutoff = timezone.now() - UNCONFIRMED_ACCOUNT_TTL
    stale = get_user_model().objects.filter(
        member__email_confirmed_at__isnull=True,
        date_joined__lt=cutoff,
        last_login__isnull=True,
        is_staff=False,
        is_superuser=False,
        tool_votes__isnull=True,
        pair_votes__isnull=True,
    )
    stale = [user for user in stale.distinct() if not user.has_usable_password()]
    for user in stale:
        user.delete()
    return len(stale)
