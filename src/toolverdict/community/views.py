"""Community pages and vote endpoints. Thin: parse, check limits, call services, render.

Vote endpoints answer a plain form POST with a redirect back to the page (no JavaScript
needed) and an htmx POST with the re-rendered vote box, plus an out-of-band update of the
card's Community figure.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.services import canonical_pair, categories_with_counts
from toolverdict.core import ratelimit
from toolverdict.core.errors import error_page, too_many_requests
from toolverdict.core.net import client_ip

from . import accounts, blind, conf, figures, own_votes, trust, votes
from .bursts import suspicious_bursts
from .forms import PairVoteForm, SignInForm, ToolVoteForm
from .rankings import head_to_head_leaderboard
from .rankings import rankings as ranked_tools

ACCEPTED_HEADER = "X-Vote-Accepted"


def _safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _safe_next_on_site(candidate: str | None) -> str:
    """A "next" for a mailed link: a path, or an absolute URL on SITE_URL's host only."""
    site = urlsplit(settings.SITE_URL)
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={site.netloc}, require_https=site.scheme == "https"
    ):
        return candidate
    return ""


def _next_url(request: HttpRequest) -> str:
    # htmx sends the page address in HX-Current-URL; a plain form posts it as "next".
    return _safe_next(request, request.POST.get("next") or request.headers.get("HX-Current-URL"))


def _sign_in_required(request: HttpRequest, next_url: str) -> HttpResponse:
    login_url = f"{reverse('community:login')}?{urlencode({'next': next_url})}"
    if request.htmx:
        response = HttpResponse(status=401)
        response["HX-Redirect"] = login_url
        return response
    return redirect_to_login(next_url, reverse("community:login"))


def _within_limits(request: HttpRequest) -> bool:
    return ratelimit.authorize_vote(request.user.pk, client_ip(request))


TOO_MANY = "Too many votes in a short time. Please wait a minute and try again."


def _refused(request: HttpRequest, template: str, context: dict, status: int) -> HttpResponse:
    if request.htmx:
        # htmx swaps only 2xx answers; the box itself carries the error for the reader.
        response = render(request, template, {**context, "error": TOO_MANY})
        response[ACCEPTED_HEADER] = "0"
        return response
    return too_many_requests(
        request,
        TOO_MANY,
        retry_after=max(ratelimit.limit("vote_user")[1], ratelimit.limit("vote_ip")[1]),
        back_url=context["next_url"],
        back_label="Back to the page you voted on",
    )


def _bad_vote(request: HttpRequest, message: str, next_url: str) -> HttpResponse:
    return error_page(
        request,
        400,
        "That vote could not be counted",
        message,
        back_url=next_url,
        back_label="Back to the page you voted on",
    )


@require_POST
def vote_tool(request: HttpRequest, slug: str) -> HttpResponse:
    tool = get_object_or_404(Tool.objects.published().select_related("category"), slug=slug)
    next_url = _next_url(request)
    if not request.user.is_authenticated:
        return _sign_in_required(request, next_url)
    form = ToolVoteForm(request.POST)
    if not form.is_valid():
        return _bad_vote(request, "A vote is ship or skip.", next_url)
    context = {"tool": tool, "next_url": next_url, "oob": True}
    if not _within_limits(request):
        context["community"] = figures.community_figures([tool])[tool.pk]
        return _refused(request, "community/_tool_vote.html", context, 429)
    value = form.cleaned_data["value"]
    votes.cast_tool_vote(request.user, tool, value, ip=client_ip(request))
    if request.htmx:
        context["community"] = figures.community_figures([tool])[tool.pk]
        response = render(request, "community/_tool_vote.html", context)
    else:
        messages.success(request, f"Your vote on {tool.name} is saved: {value}.")
        response = redirect(next_url)
    response[ACCEPTED_HEADER] = "1"
    return response


@require_POST
def vote_pair(request: HttpRequest, a: str, b: str) -> HttpResponse:
    if (a, b) != canonical_pair(a, b) or a == b:
        return _bad_vote(request, "Pairs are named in canonical order.", _next_url(request))
    published = Tool.objects.published()
    left = get_object_or_404(published, slug=a)
    right = get_object_or_404(published, slug=b)
    next_url = _next_url(request)
    if not request.user.is_authenticated:
        return _sign_in_required(request, next_url)
    form = PairVoteForm(request.POST)
    if not form.is_valid() or form.cleaned_data["winner"] not in (a, b):
        return _bad_vote(request, "Choose one of the two tools.", next_url)
    context = {"left": left, "right": right, "next_url": next_url}
    if not _within_limits(request):
        return _refused(request, "community/_pair_vote.html", context, 429)
    winner = left if form.cleaned_data["winner"] == a else right
    # The order this reader's buttons always show, computed here: an order sent with the
    # form would let a reader choose what the position-bias figure records.
    first = blind.button_order(request.user, left, right)[0]
    votes.cast_pair_vote(
        request.user, left, right, winner, ip=client_ip(request), shown_first=first
    )
    if request.htmx:
        # The box, and the split out of band (results.js opens the results around it).
        response = render(request, "community/_pair_vote.html", {**context, "oob": True})
    else:
        messages.success(request, f"Your head-to-head vote is saved: {winner.name}.")
        response = redirect(next_url)
    response[ACCEPTED_HEADER] = "1"
    return response


# --- accounts -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SignInForm(request.POST)
        if form.is_valid():
            email = accounts.normalise_email(form.cleaned_data["email"])
            # The link is opened on SITE_URL, so "next" must be safe there, not on
            # whatever host this request arrived under.
            next_url = _safe_next_on_site(form.cleaned_data["next"])
            if not ratelimit.authorize_sign_in_email(client_ip(request), email):
                # A refused form keeps what was typed: the form again, with the reason.
                form.add_error(None, "Too many sign-in emails requested. Try again later.")
                response = render(request, "community/sign_in.html", {"form": form}, status=429)
                response["Retry-After"] = str(ratelimit.limit("signin_ip")[1])
                return response
            # Built from SITE_URL, never the Host header: any allowed host could otherwise
            # get a real sign-in token mailed under its own domain.
            link_base = f"{settings.SITE_URL}{reverse('community:login_link')}"
            accounts.send_sign_in_link(email, link_base, next_url)
            # Same answer whether or not the address had an account: no account probing.
            return redirect("community:login_sent")
    else:
        form = SignInForm(initial={"next": request.GET.get("next", "")})
    return render(request, "community/sign_in.html", {"form": form})


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "community/sign_in_sent.html")


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest) -> HttpResponse:
    token_name = settings.SESAME_TOKEN_NAME
    source = request.POST if request.method == "POST" else request.GET
    token = source.get(token_name, "")
    next_url = _safe_next(request, source.get("next"), settings.LOGIN_REDIRECT_URL)
    user = accounts.user_for_token(token)
    if user is None:
        return error_page(
            request,
            400,
            "This sign-in link no longer works",
            "Links work once and expire after a few minutes.",
            back_url=reverse("community:login"),
            back_label="Ask for a new one",
        )
    if request.method == "GET":
        context = {"token_name": token_name, "token": token, "next": next_url, "email": user.email}
        return render(request, "community/sign_in_confirm.html", context)
    accounts.confirm_email(user)
    login(request, user)  # updates last_login, which spends the one-time token
    messages.success(request, f"Signed in as {user.email}.")
    return redirect(next_url)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "community/profile.html", {"mine": own_votes.my_votes(request.user)})


@require_GET
def page_bits(request: HttpRequest) -> HttpResponse:
    """A cached page's personal part: account menu, the reader's votes, their messages.

    The cached page is the same for every reader; static/site.js asks for this once
    when the reader is signed in, naming the page's vote boxes (``tools``, ``pair``) and
    the page itself (``next``). Never cached: it carries the reader's CSRF token.
    """
    # No slug holds a NUL character, and PostgreSQL refuses one in a query: dropped.
    slugs = [s for s in request.GET.get("tools", "").split(",") if s and "\x00" not in s][:100]
    pair = [s for s in request.GET.get("pair", "").split(",") if s and "\x00" not in s]
    next_url = _safe_next(request, request.GET.get("next"), "/")
    context: dict = {"tools": [], "next_url": next_url}
    if request.user.is_authenticated:
        published = Tool.objects.published()
        found = {t.slug: t for t in published.filter(slug__in=slugs)}
        context["tools"] = [found[s] for s in slugs if s in found]
        if len(pair) == 2 and tuple(pair) == canonical_pair(*pair) and pair[0] != pair[1]:
            both = {t.slug: t for t in published.filter(slug__in=pair)}
            if len(both) == 2:
                context["left"], context["right"] = both[pair[0]], both[pair[1]]
    response = render(request, "community/_page_bits.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


# --- rankings and editors -------------------------------------------------------------


@require_GET
def rankings(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug) if slug else None
    context = {
        "category": category,
        "categories": categories_with_counts(),
        "rankings": ranked_tools(category),
        "leaderboard": head_to_head_leaderboard(category),
        "disagreements": trust.disagreements(category),
        "minimum": conf.min_votes(),
    }
    return render(request, "community/rankings.html", context)


@require_GET
def how_votes_count(request: HttpRequest) -> HttpResponse:
    """The public rules: which votes count, the excluded ones by reason, how sure figures are.

    Thresholds of the abuse detectors stay in settings; the page names the rules only.
    """
    first, total, share, interval = blind.position_bias()
    context = {
        "rules": trust.vote_rules()[None],
        "reasons": trust.EXCLUSION_REASONS,
        "minimum": conf.min_votes(),
        "method": conf.interval_method(),
        "resamples": conf.bootstrap_resamples(),
        "order": {"first": first, "total": total, "share": share, "interval": interval},
    }
    return render(request, "community/how_votes_count.html", context)


@staff_member_required
@require_GET
def bursts(request: HttpRequest) -> HttpResponse:
    context = {
        "bursts": suspicious_bursts(),
        "window": conf.burst_window(),
        "min_accounts": conf.burst_min_accounts(),
        "new_account_age": conf.burst_new_account_age(),
    }
    return render(request, "community/bursts.html", context)
