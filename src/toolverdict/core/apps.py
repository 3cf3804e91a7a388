from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "toolverdict.core"
    label = "core"
