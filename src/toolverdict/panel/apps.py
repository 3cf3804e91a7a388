"""The AI reviewer panel: personas, dossiers, grounded reviews and verdicts."""

from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "toolverdict.panel"
    label = "panel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from toolverdict.catalog.models import Tool
        from toolverdict.catalog.signals import tools_changed

        from .services import on_tools_changed

        tools_changed.connect(on_tools_changed, sender=Tool, dispatch_uid="panel.enqueue")
