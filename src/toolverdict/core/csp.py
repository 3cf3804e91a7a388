"""Content-Security-Policy on every response (Django 5.2 has no built-in CSP).

HTML gets TOOLVERDICT_CSP: scripts only from our own origin (the pages load htmx from
/static/ and have no inline scripts or event handlers), inline styles allowed (htmx adds
its indicator <style>, and a few templates and the admin use style attributes), no
plugins, no framing. Everything else (JSON, feeds, files) gets TOOLVERDICT_CSP_NON_HTML,
which lets nothing load. An empty setting sends no header; a header a view set itself is
left alone. Both policies' defaults are written once, in settings.py.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.split(";", 1)[0].strip().lower() == "text/html":
            policy = settings.TOOLVERDICT_CSP
        else:
            policy = settings.TOOLVERDICT_CSP_NON_HTML
        if policy:
            response["Content-Security-Policy"] = policy
        return response
