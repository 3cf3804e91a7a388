"""Friendly error pages that never depend on the database."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    body = loader.render_to_string("404.html", {"request_path": request.path}, request)
    return HttpResponse(body, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    body = loader.render_to_string("500.html")
    return HttpResponse(body, status=500)
