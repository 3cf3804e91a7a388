"""Digest pages: sign-up, confirmation, unsubscribe (incl. RFC 8058 one-click), archive.

Views only parse the request and call services; the answer to a sign-up is the same
whether or not the address is on the list.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from toolverdict.core import ratelimit
from toolverdict.core.errors import error_page
from toolverdict.core.net import client_ip
from toolverdict.pagecache.registry import cached, not_cached

from . import subscriptions
from .forms import SignupForm
from .models import Issue
from .rendering import issue_context
from .subscriptions import ConfirmOutcome

log = logging.getLogger(__name__)


def _signup_response(request: HttpRequest, template: str, context: dict, status: int = 200):
    if request.htmx:
        # htmx swaps the box in place (it swaps only 2xx answers, so the error box comes
        # back as 200); without JS the full page renders the same box with the real status.
        return render(request, "digest/_signup_box.html", context)
    return render(request, template, context, status=status)


def _same_origin(request: HttpRequest) -> bool:
    """False for a browser's cross-site POST (Sec-Fetch-Site or Origin says so).

    Every current browser sends Origin on a cross-origin POST; a request without either
    header does not come from another site's page in a browser.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


# Token-free, so the cached pages carrying the sign-up form set no csrftoken cookie. CSRF
# protects requests that carry the visitor's credentials; this one uses none (no session,
# no account: the address gets a confirmation mail, double opt-in). What a CSRF token would
# still stop, another site making its visitors' browsers post sign-ups from their
# addresses, the same-origin check stops (OWASP: verifying origin with standard headers).
@not_cached("digest:subscribe", "a sign-up: answers POST")
@csrf_exempt
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    if not _same_origin(request):
        return error_page(request, 403, "Refused", "Cross-site sign-ups are refused.")
    form = SignupForm(request.POST)
    if not ratelimit.authorize_digest_signup(client_ip(request)):
        # A refused form keeps what was typed: the box again, with the reason.
        form.add_error(
            None, "Too many sign-ups from your network just now. Please try again in an hour."
        )
        response = _signup_response(request, "digest/signup_result.html", {"form": form}, 429)
        response["Retry-After"] = str(ratelimit.limit("digest_signup_ip")[1])
        return response
    if not form.is_valid():
        return _signup_response(
            request, "digest/signup_result.html", {"signup_state": "invalid", "form": form}, 400
        )
    try:
        subscriptions.request_subscription(form.cleaned_data["email"])
    except Exception:  # noqa: BLE001 - the mail server failing must not leak as a 500
        log.exception("could not send the subscription mail")
        return _signup_response(
            request, "digest/signup_result.html", {"signup_state": "unavailable", "form": form}, 503
        )
    return _signup_response(request, "digest/signup_result.html", {"signup_state": "sent"})


@not_cached("digest:confirm", "one subscriber's signed confirmation link")
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """GET shows the outcome (or a Confirm button); POST confirms. Link scanners only GET."""
    token = request.POST.get("token") if request.method == "POST" else request.GET.get("token")
    token = token or ""
    if request.method == "POST":
        result = subscriptions.confirm(token)
    else:
        result = subscriptions.check_confirmation(token)
    status = {
        ConfirmOutcome.EXPIRED: 410,
        ConfirmOutcome.INVALID: 400,
    }.get(result.outcome, 200)
    return render(
        request,
        "digest/confirm.html",
        {"outcome": result.outcome.value, "token": token, "form": SignupForm()},
        status=status,
    )


@not_cached("digest:unsubscribe", "one subscriber's secret key")
@csrf_exempt  # authenticated by the secret key in the URL; mail clients POST with no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, key: str) -> HttpResponse:
    """GET: a page with an Unsubscribe button. POST: unsubscribe (RFC 8058 one-click too)."""
    if request.method == "POST":
        subscriber = subscriptions.unsubscribe(key)
        if subscriber is None:
            return render(request, "digest/unsubscribe.html", {"state": "invalid"}, status=404)
        return render(request, "digest/unsubscribe.html", {"state": "done"})
    subscriber = subscriptions.subscriber_for_key(key)
    if subscriber is None:
        return render(request, "digest/unsubscribe.html", {"state": "invalid"}, status=404)
    return render(
        request,
        "digest/unsubscribe.html",
        {"state": "ask", "key": key, "already": subscriber.status == "unsubscribed"},
    )


@cached("digest:archive", ["digest"])
def archive(request: HttpRequest) -> HttpResponse:
    issues = Issue.objects.filter(status=Issue.Status.SENT).order_by("-iso_year", "-iso_week")
    return render(request, "digest/archive.html", {"issues": issues})


@cached("digest:issue", ["digest"])
def issue_detail(request: HttpRequest, year: int, week: int) -> HttpResponse:
    issue = get_object_or_404(
        Issue.objects.prefetch_related("sections"),
        iso_year=year,
        iso_week=week,
        status=Issue.Status.SENT,
    )
    return render(request, "digest/issue.html", issue_context(issue))
