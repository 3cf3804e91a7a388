"""The open-data page and the files of its dumps."""

from django.urls import path

from . import views

app_name = "opendata"

urlpatterns = [
    path("data/", views.data, name="data"),
    path("data/files/<str:dump>/<str:name>", views.data_file, name="data_file"),
]
