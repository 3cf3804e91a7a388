from django.urls import path  # noqa: F401 - the api app adds its routes here

app_name = "api"

urlpatterns: list = []
