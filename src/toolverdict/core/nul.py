"""No address on the site contains a NUL character.

PostgreSQL refuses NUL in text, so a path parameter carrying one (/api/tools/%00,
/digest/unsubscribe/%00/) would reach the database and fail with a 500. Such a request is
answered with the ordinary 404 page before any view runs. (Search queries, ?q=, drop NUL
themselves: catalog.models.ToolQuerySet.search.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse


class RejectNulPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("no address contains a NUL character")
        return self.get_response(request)
