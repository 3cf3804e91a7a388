"""Discovery and sharing: robots.txt, the sitemap, share images, badges, JSON-LD."""

from django.apps import AppConfig


class ShareConfig(AppConfig):
    name = "toolverdict.share"
    label = "share"
    verbose_name = "Sharing and discovery"

    def ready(self) -> None:
        from . import page_extras  # noqa: F401 - registers share's parts of the pages
        from .sitemaps import register

        register()
