"""Community settings in the form the code uses them, read at call time so tests can
override them.

Values and defaults are set in one place, settings.py (from the TOOLVERDICT_COMMUNITY_*
environment variables, docs/configuration.md); nothing here repeats a default.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def min_votes() -> int:
    """Below this many counted votes a Community % shows as "—"."""
    return int(settings.TOOLVERDICT_COMMUNITY_MIN_VOTES)


def new_account_delay() -> timedelta:
    """How old an account must be before its votes count in figures."""
    return timedelta(hours=float(settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS))


def burst_window() -> timedelta:
    return timedelta(minutes=float(settings.TOOLVERDICT_COMMUNITY_BURST_WINDOW_MINUTES))


def burst_min_accounts() -> int:
    return int(settings.TOOLVERDICT_COMMUNITY_BURST_MIN_ACCOUNTS)


def burst_new_account_age() -> timedelta:
    return timedelta(days=float(settings.TOOLVERDICT_COMMUNITY_BURST_NEW_ACCOUNT_DAYS))
