"""Routes for discovery and sharing: robots.txt, the sitemap, share images, badges."""

from django.urls import path

from toolverdict.pages.urls import PairSlugConverter  # noqa: F401 - registers "pairslug"

from . import views

app_name = "share"

urlpatterns = [
    path("robots.txt", views.robots, name="robots"),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", views.sitemap_section, name="sitemap_section"),
    path("badge/<slug:slug>.svg", views.badge, name="badge"),
    path("share/site.png", views.site_image, name="site_image"),
    path("share/tools/<slug:slug>.png", views.tool_image, name="tool_image"),
    path("share/compare/<pairslug:a>-vs-<pairslug:b>.png", views.pair_image, name="pair_image"),
]
