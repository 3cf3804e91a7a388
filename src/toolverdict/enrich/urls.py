from django.urls import path

from . import views

app_name = "enrich"

urlpatterns = [
    path("enrich/queue/", views.queue, name="queue"),
    path("enrich/queue/<slug:kind>/<int:pk>/<slug:action>/", views.act, name="act"),
]
