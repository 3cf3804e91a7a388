from django.urls import path  # noqa: F401 - the panel app adds its routes here

app_name = "panel"

urlpatterns: list = []
