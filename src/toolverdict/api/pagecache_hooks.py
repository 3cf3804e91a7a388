"""The JSON API's cached answers (found by the page cache's autodiscovery).

django-ninja builds the URL's view from each operation, so the pages are declared here by
URL name rather than next to the functions; the parameters come from the endpoints' own
filter schema. The API shows the same figures as the pages.
"""

from __future__ import annotations

from toolverdict.catalog.scopes import CATALOG, tool_page, tool_scope
from toolverdict.pagecache.registry import register_page, register_uncached

from .endpoints import ToolFilters


def _comparison(a: str, b: str) -> list[str]:
    return [CATALOG, tool_scope(a), tool_scope(b)]


register_page("api:list_categories", [CATALOG])
register_page(
    "api:list_tools", [CATALOG, "reviews", "votes:tools"], params=tuple(ToolFilters.model_fields)
)
register_page("api:get_tool", tool_page)
register_page("api:get_comparison", _comparison)
# Any vote (a pair vote, or an account's votes starting or stopping to count) bumps
# "votes"; the category filter is a query parameter, part of the stored page's key.
register_page("api:list_rankings", [CATALOG, "votes"], params=("category",))
register_page("api:openapi-json", [])
register_uncached("api:api-root", "django-ninja's interactive docs page, for developers")
