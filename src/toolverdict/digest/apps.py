from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "toolverdict.digest"
    label = "digest"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .sitemaps import register

        register()
