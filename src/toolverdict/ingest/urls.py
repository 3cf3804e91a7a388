from django.urls import path  # noqa: F401 - the ingest app adds its routes here

app_name = "ingest"

urlpatterns: list = []
