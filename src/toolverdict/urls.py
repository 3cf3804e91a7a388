"""Root URLs: each app mounts its own."""

from django.contrib import admin
from django.urls import include, path

from toolverdict.core.login_throttle import throttled
from toolverdict.core.views import healthz

handler404 = "toolverdict.core.errors.not_found"
handler500 = "toolverdict.core.errors.server_error"

urlpatterns = [
    # The admin's own login view, behind the failed-sign-in throttle (core/login_throttle.py).
    path("admin/login/", throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Home, tool, category, search and "A vs B": the pages composing several apps.
    path("", include("toolverdict.pages.urls")),
    path("", include("toolverdict.community.urls")),
    path("", include("toolverdict.digest.urls")),
    path("", include("toolverdict.ingest.urls")),
    path("", include("toolverdict.enrich.urls")),  # /enrich/queue/: extracted values to review
    path("", include("toolverdict.share.urls")),
    path("", include("toolverdict.opendata.urls")),  # /data/
    path("api/", include("toolverdict.api.urls")),  # /api/openapi.json
]
