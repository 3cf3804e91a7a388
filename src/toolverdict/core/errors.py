"""Every error in one shape: one HTML page, one JSON body.

Pages: ``error_page`` renders ``error.html`` with a status, a title, a message and a way
back; 404 and 500 (Django's handlers), the admin sign-in throttle, refused and malformed
votes and cross-site sign-ups all answer through it. A refused *form* (sign-in link,
digest sign-up, maker submission) is not an error page: it shows its form again with the
reason as a form error, so nothing typed is lost. The JSON API answers every error as
``{"detail": "<one sentence>"}`` (``api_error``; api/endpoints.py routes django-ninja's
own errors through it, and ``ApiMethodMiddleware`` the 405 that django-ninja answers as
plain text before any handler runs).

None of this touches the database: a 500 page must render when the database is the fault.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def error_page(
    request: HttpRequest | None,
    status: int,
    title: str,
    message: str,
    *,
    back_url: str = "",
    back_label: str = "",
    retry_after: int | None = None,
) -> HttpResponse:
    """The error page: status, title, message (plain text, escaped) and a way back (the
    home page unless ``back_url`` says otherwise)."""
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "status": status,
        "title": title,
        "message": message,
        "back_url": back_url or reverse("catalog:home"),
        "back_label": back_label or "Back to the latest verdicts",
    }
    body = loader.render_to_string("error.html", context, request)
    response = HttpResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def too_many_requests(
    request: HttpRequest,
    message: str,
    *,
    retry_after: int,
    back_url: str = "",
    back_label: str = "",
) -> HttpResponse:
    """429 with Retry-After, in the error page's shape."""
    return error_page(
        request,
        429,
        "Too many attempts",
        message,
        back_url=back_url,
        back_label=back_label,
        retry_after=retry_after,
    )


def api_error(status: int, detail: str) -> JsonResponse:
    """The API's one error shape."""
    return JsonResponse({"detail": detail}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(404, "Not found")
    return error_page(
        request,
        404,
        "Not found",
        f"There is no page at {request.path}. The tool may have been renamed or never listed.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(500, "Internal server error")
    try:
        # Without the request: no context processor (sessions, the signed-in user) runs.
        return error_page(
            None,
            500,
            "Something went wrong",
            "The error has been logged. Please try again in a moment.",
        )
    except Exception:  # noqa: BLE001 - the error page itself failed: answer plainly
        log.exception("the error page could not be rendered")
        return HttpResponse(
            "<!doctype html><title>Server error</title><h1>Something went wrong</h1>",
            status=500,
        )


class ApiMethodMiddleware:
    """A wrong method on the API (POST to a read-only endpoint) answers in the API's shape.

    django-ninja answers it itself, as ``text/html`` "Method not allowed"; this keeps its
    status and ``Allow`` header and gives the JSON body every other API error has.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or not request.path.startswith(API_PREFIX):
            return response
        allowed = response.get("Allow", "")
        json = api_error(405, f"Method {request.method} is not allowed here; use {allowed}.")
        json["Allow"] = allowed
        return json
