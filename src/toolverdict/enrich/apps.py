from django.apps import AppConfig


class EnrichConfig(AppConfig):
    name = "toolverdict.enrich"
    label = "enrich"
    verbose_name = "Enrichment from tools' own pages"

    def ready(self) -> None:
        from toolverdict.ingest.arrivals import on_arrival

        from .services import on_tools_arrived

        on_arrival("enrich", on_tools_arrived)
