"""The comparison page: "A vs B — Which one should you ship with?"."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from toolverdict.catalog.services import canonical_pair
from toolverdict.share import seo

from . import services


def compare(request: HttpRequest, a: str, b: str) -> HttpResponse:
    if a == b:
        raise Http404("A comparison needs two different tools")
    first, second = canonical_pair(a, b)
    page = services.comparison(first, second)
    if page is None:
        raise Http404("No such tool")
    if (first, second) != (a, b):
        return redirect("compare:pair", a=first, b=second, permanent=True)
    sides = [(s.tool, s.panel, s.community) for s in page.sides]
    return render(
        request,
        "compare/compare.html",
        {
            "page": page,
            "json_ld": seo.pair_json_ld(sides),
            "share_image": seo.pair_image_path(first, second),
            "share_image_alt": f"{page.title}: both cards with the panel's verdicts",
        },
    )
