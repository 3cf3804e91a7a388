from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "toolverdict.pages"
    label = "pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from toolverdict.community.trust import provide_panel_shares

        from .panel_vs_readers import panel_shares

        # The community's rankings list where panel and readers disagree; the community
        # never imports the panel, so the pages, which compose both, supply its shares.
        provide_panel_shares(panel_shares)
