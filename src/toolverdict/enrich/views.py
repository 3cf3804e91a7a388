"""The editor's queue of extracted values (staff only): each value beside the page text it
was read from, to accept, correct or reject in one click. Thin: review.py does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from toolverdict.ingest.models import Candidate

from . import review


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    rows = review.queue()
    # The feed's pricing, kept on its candidate: a hint for the editor, never a fact.
    hints = dict(
        Candidate.objects.filter(tool_id__in=[tool.pk for tool, _, _ in rows])
        .exclude(pricing="unknown")
        .values_list("tool_id", "pricing")
    )
    return render(request, "enrich/queue.html", {"rows": rows, "hints": hints})


@staff_member_required
@require_POST
def act(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    try:
        if action == "accept":
            review.accept(kind, pk, request.user)
            messages.success(request, "Accepted.")
        elif action == "correct":
            review.accept(kind, pk, request.user, value=request.POST.get("value", ""))
            messages.success(request, "Corrected and accepted.")
        elif action == "reject":
            review.reject(kind, pk, request.user)
            messages.success(request, "Rejected; it will not be extracted again.")
        else:
            messages.error(request, f"Unknown action {action!r}.")
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("enrich:queue")
