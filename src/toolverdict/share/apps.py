from django.apps import AppConfig


class ShareConfig(AppConfig):
    name = "toolverdict.share"
    label = "share"
    verbose_name = "Sharing and discovery"
