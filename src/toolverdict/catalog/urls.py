from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("tools/<slug:slug>/", views.tool_detail, name="tool"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("search/", views.search, name="search"),
    path("data/", views.data, name="data"),
    path("data/files/<str:dump>/<str:name>", views.data_file, name="data_file"),
]
