"""Operational endpoints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe: answers without touching the database (also the benchmark baseline)."""
    return HttpResponse("ok", content_type="text/plain")
