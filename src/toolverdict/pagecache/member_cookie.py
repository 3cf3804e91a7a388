"""``tv_member=1`` while a session is signed in: tells a cached page's script to ask for
the reader's own parts (only with ``TOOLVERDICT_PAGE_SCRIPTS=all``; docs/caching.md)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

MEMBER_COOKIE = "tv_member"


class MemberCookieMiddleware:
    """Sets ``tv_member=1`` while a session is signed in, deletes it when not.

    Only when the request already looked at its user: pages that never load the session
    stay free of it. The cookie is no credential; it only tells the cached page's script
    that a personal fragment is worth fetching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "_page_cache_render", False):
            return response
        user = getattr(request, "user", None)
        if user is None or getattr(user, "_wrapped", None) is empty:
            return response
        has = request.COOKIES.get(MEMBER_COOKIE) == "1"
        if user.is_authenticated and not has:
            response.set_cookie(
                MEMBER_COOKIE,
                "1",
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
                httponly=False,  # read by static/site.js; not a credential
            )
        elif not user.is_authenticated and MEMBER_COOKIE in request.COOKIES:
            response.delete_cookie(MEMBER_COOKIE, samesite="Lax")
        return response
