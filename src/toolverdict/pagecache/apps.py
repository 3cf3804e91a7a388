from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "toolverdict.pagecache"
    label = "pagecache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals

        signals.connect()
