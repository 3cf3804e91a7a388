"""The reading pages' URLs, under the names they have always had: ``catalog:home``,
``catalog:tool``, ``catalog:category``, ``catalog:search`` and ``compare:pair`` (templates,
the page cache's table in pagecache/pages.py and readers' bookmarks all use them)."""

from django.urls import include, path, register_converter

from . import views


class PairSlugConverter:
    """A tool slug inside "<a>-vs-<b>"; slugs never contain "-vs-" (the catalog rejects it)."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PairSlugConverter, "pairslug")

catalog_pages = [
    path("", views.home, name="home"),
    path("tools/<slug:slug>/", views.tool_detail, name="tool"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("search/", views.search, name="search"),
]

comparison_pages = [
    path("compare/<pairslug:a>-vs-<pairslug:b>/", views.compare, name="pair"),
]

urlpatterns = [
    path("", include((comparison_pages, "compare"))),
    path("", include((catalog_pages, "catalog"))),
]
