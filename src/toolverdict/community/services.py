"""The community services other apps import, under the names they have always used.

Each job has its own module: ``figures`` (which votes count, the figures pages show),
``votes`` (casting votes), ``own_votes`` (an account's own votes), ``rankings`` and
``bursts``. The community's own code imports those; this module only keeps the names
that other apps (pages, share, api, the page cache) and their tests import.
"""

from __future__ import annotations

from .figures import CommunityFigure, community_figures, counted_votes
from .rankings import head_to_head_leaderboard
from .votes import cast_pair_vote, cast_tool_vote, user_tool_votes

__all__ = [
    "CommunityFigure",
    "cast_pair_vote",
    "cast_tool_vote",
    "community_figures",
    "counted_votes",
    "head_to_head_leaderboard",
    "user_tool_votes",
]
