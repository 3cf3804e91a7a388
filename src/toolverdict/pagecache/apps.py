"""The page cache: anonymous pages stored, retired exactly on commit, personal parts filled.

It names no other app: at start-up it imports each app's ``pagecache_hooks.py`` (as the
admin imports ``admin.py``), where the app registers the models that change its pages,
its personal parts and its settings (pagecache/registry.py); pages are declared next to
their views.
"""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PageCacheConfig(AppConfig):
    name = "toolverdict.pagecache"
    label = "pagecache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import personal, registry

        # The site-wide settings every page shows (the project's context processor and
        # base template) and the page cache's own.
        registry.rendering_settings(
            "SITE_URL",
            "SITE_NAME",
            "STATIC_URL",
            "DEBUG",
            "LANGUAGE_CODE",
            "TIME_ZONE",
            "TOOLVERDICT_PAGE_SCRIPTS",
        )
        registry.settings_not_rendering(
            "TOOLVERDICT_PAGE_CACHE",
            "TOOLVERDICT_PAGE_CACHE_TIMEOUT",  # in the key as the clock bucket already
            "TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES",
            "TOOLVERDICT_PAGE_CACHE_VERSIONS",
            "TOOLVERDICT_PAGE_MAX_AGE",
            "TOOLVERDICT_PAGE_STALE_WHILE_REVALIDATE",
            reason="how pages are stored and sent, not what they show",
        )
        personal.register_own_parts()
        autodiscover_modules("pagecache_hooks")
