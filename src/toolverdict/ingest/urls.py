from django.urls import path

from . import views

app_name = "ingest"

urlpatterns = [
    path("submit/", views.submit, name="submit"),
    path("submit/thanks/", views.submit_thanks, name="submit_thanks"),
    path("ingest/moderation/", views.moderation, name="moderation"),
    path(
        "ingest/moderation/<int:pk>/<slug:action>/",
        views.moderate,
        name="moderate",
    ),
    path("ingest/runs/", views.runs, name="runs"),
    path("ingest/runs/<str:day>/", views.run_detail, name="run"),
]
