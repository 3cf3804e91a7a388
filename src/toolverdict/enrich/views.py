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
from .models import Enrichment
from .spans import PICKED_NOTE


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    rows = review.queue()
    # The feed's pricing, kept on its candidate: a hint for the editor, never a fact.
    hints = dict(
        Candidate.objects.filter(tool_id__in=[tool.pk for tool, _, _ in rows])
        .exclude(pricing="unknown")
        .values_list("tool_id", "pricing")
    )
    # Values whose line the model picked (spans.py) are marked as such beside the snippet.
    picked = {
        (tool_id, note.removeprefix(PICKED_NOTE).split(":", 1)[0])
        for tool_id, notes in Enrichment.objects.filter(
            tool_id__in=[tool.pk for tool, _, _ in rows]
        ).values_list("tool_id", "notes")
        for note in notes
        if isinstance(note, str) and note.startswith(PICKED_NOTE)
    }
    for tool, _prices, facts in rows:
        for fact in facts:
            fact.picked_by_model = (tool.pk, f"{fact.key}={fact.value}") in picked
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
