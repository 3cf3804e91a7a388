"""Community routes: sign-in, profile, vote endpoints, rankings, the editors' burst view."""

from django.urls import path

from . import views

app_name = "community"

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/login/sent/", views.sign_in_sent, name="login_sent"),
    path("accounts/login/link/", views.sign_in_link, name="login_link"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/me/", views.profile, name="profile"),
    path("accounts/page-bits/", views.page_bits, name="page_bits"),
    path("votes/tool/<slug:slug>/", views.vote_tool, name="vote_tool"),
    path("votes/pair/<slug:a>/<slug:b>/", views.vote_pair, name="vote_pair"),
    path("rankings/", views.rankings, name="rankings"),
    path("how-votes-count/", views.how_votes_count, name="how_votes_count"),
    path("rankings/<slug:slug>/", views.rankings, name="rankings_category"),
    path("editor/bursts/", views.bursts, name="bursts"),
]
