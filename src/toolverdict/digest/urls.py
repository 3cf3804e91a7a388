from django.urls import path  # noqa: F401 - the digest app adds its routes here

app_name = "digest"

urlpatterns: list = []
