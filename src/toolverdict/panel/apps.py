"""The AI reviewer panel: personas, dossiers, grounded reviews and verdicts."""

from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "toolverdict.panel"
    label = "panel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from toolverdict.catalog.models import Tool
        from toolverdict.catalog.signals import tools_changed
        from toolverdict.core.signals import up_starting, worker_started

        from .periodic import on_up_starting, on_worker_started
        from .services import on_tools_changed

        tools_changed.connect(on_tools_changed, sender=Tool, dispatch_uid="panel.enqueue")
        # Resume the backlog whenever a worker or the whole site starts (core names no app).
        worker_started.connect(on_worker_started, dispatch_uid="panel.backlog.worker")
        up_starting.connect(on_up_starting, dispatch_uid="panel.backlog.up")
