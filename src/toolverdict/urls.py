"""Root URLs: each app mounts its own."""

from django.contrib import admin
from django.urls import include, path

from toolverdict.core.login_throttle import throttled
from toolverdict.core.views import healthz
from toolverdict.pagecache.registry import register_uncached, settings_not_rendering

handler404 = "toolverdict.core.errors.not_found"
handler500 = "toolverdict.core.errors.server_error"

urlpatterns = [
    # The admin's own login view, behind the failed-sign-in throttle (core/login_throttle.py).
    path("admin/login/", throttled(admin.site.login), name="admin_login"),
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

# Mounted here, so declared here: never cached (tests/core/test_page_cache_registry.py).
register_uncached("admin:", "editors only")
register_uncached("admin_login", "the admin's sign-in form, per request")
register_uncached("healthz", "reports this process's health now")
settings_not_rendering(
    "TOOLVERDICT_ADMIN_LOGIN_LIMIT",
    "TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT",
    reason="the admin sign-in throttle refuses requests; no page shows it",
)
