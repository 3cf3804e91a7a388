from django.urls import path

from . import views
from .atom_feed import IssueFeed

app_name = "digest"

urlpatterns = [
    path("digest/subscribe/", views.subscribe, name="subscribe"),
    path("digest/confirm/", views.confirm, name="confirm"),
    path("digest/unsubscribe/<str:key>/", views.unsubscribe, name="unsubscribe"),
    path("digest/", views.archive, name="archive"),
    path("digest/feed.atom", IssueFeed(), name="feed"),
    path("digest/<int:year>-w<int:week>/", views.issue_detail, name="issue"),
]
