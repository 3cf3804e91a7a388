from django.apps import AppConfig


class EnrichConfig(AppConfig):
    name = "toolverdict.enrich"
    label = "enrich"
    verbose_name = "Enrichment from tools' own pages"
