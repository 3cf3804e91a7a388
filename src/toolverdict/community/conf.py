"""Community settings with their defaults, read at call time so tests can override them.

Every name here is documented in docs/community.md.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

# "count/seconds" strings: how many actions one key may take per fixed window.
DEFAULT_RATE_LIMITS = {
    "vote_user": "30/60",  # votes per signed-in account per minute
    "vote_ip": "120/60",  # votes per client IP per minute (a shared office NAT gets room)
    "signin_ip": "10/3600",  # sign-in emails requested per IP per hour
    "signin_email": "5/3600",  # sign-in emails per address per hour (no mail bombing)
}


def min_votes() -> int:
    """Below this many counted votes a Community % shows as "—"."""
    return int(getattr(settings, "COMMUNITY_MIN_VOTES", 5))


def new_account_delay() -> timedelta:
    """How old an account must be before its votes count in figures."""
    return timedelta(hours=float(getattr(settings, "COMMUNITY_NEW_ACCOUNT_DELAY_HOURS", 24)))


def rate_limit(name: str) -> tuple[int, int]:
    """(count, window seconds) for a named limit."""
    limits = {**DEFAULT_RATE_LIMITS, **getattr(settings, "COMMUNITY_RATE_LIMITS", {})}
    count, seconds = str(limits[name]).split("/", 1)
    return int(count), int(seconds)


def burst_window() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "COMMUNITY_BURST_WINDOW_MINUTES", 60)))


def burst_min_accounts() -> int:
    return int(getattr(settings, "COMMUNITY_BURST_MIN_ACCOUNTS", 5))


def burst_new_account_age() -> timedelta:
    return timedelta(days=float(getattr(settings, "COMMUNITY_BURST_NEW_ACCOUNT_DAYS", 7)))


def signin_link_max_age() -> int:
    return int(getattr(settings, "SESAME_MAX_AGE", 900))


def interval_method() -> str:
    """How the head-to-head leaderboard's 95% intervals are computed: sandwich or bootstrap."""
    method = str(getattr(settings, "COMMUNITY_INTERVAL_METHOD", "sandwich")).lower()
    if method not in ("sandwich", "bootstrap"):
        raise ValueError(f"COMMUNITY_INTERVAL_METHOD must be sandwich or bootstrap, not {method!r}")
    return method


def bootstrap_resamples() -> int:
    """Resamples per bootstrap fit (COMMUNITY_INTERVAL_METHOD=bootstrap)."""
    return max(1, int(getattr(settings, "COMMUNITY_BOOTSTRAP_RESAMPLES", 1000)))
