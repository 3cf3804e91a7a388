from django.urls import path  # noqa: F401 - the community app adds its routes here

app_name = "community"

urlpatterns: list = []
