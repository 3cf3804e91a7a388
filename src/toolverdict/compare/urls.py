from django.urls import path, register_converter

from . import views


class PairSlugConverter:
    """A tool slug inside "<a>-vs-<b>"; slugs never contain "-vs-" (the catalog rejects it)."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PairSlugConverter, "pairslug")

app_name = "compare"

urlpatterns = [
    path("compare/<pairslug:a>-vs-<pairslug:b>/", views.compare, name="pair"),
]
