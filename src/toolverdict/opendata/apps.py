from django.apps import AppConfig


class OpendataConfig(AppConfig):
    name = "toolverdict.opendata"
    label = "opendata"
    verbose_name = "Open data"
