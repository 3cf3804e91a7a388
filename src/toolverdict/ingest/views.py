"""Ingestion pages: the public submission form, the moderation queue and the run records.

Thin: parse the request, call services, render. Submitted text is untrusted and is only
ever rendered through auto-escaping templates.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from toolverdict.core import ratelimit
from toolverdict.core.net import client_hash, client_ip

from . import submissions
from .candidates import feed_error_rows
from .forms import SubmissionForm
from .models import (
    Candidate,
    DailyComparison,
    PipelineRun,
    Submission,
    SubmissionStatus,
)


def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SubmissionForm(request.POST)
        if form.is_bot:
            # Look like success, so the bot learns nothing; nothing is stored.
            return redirect("ingest:submit_thanks")
        address = client_ip(request)
        if not ratelimit.authorize_submission(address):
            # A refused form keeps what was typed: the form again, with the reason.
            form.add_error(
                None, "Too many submissions from your address for now. Please try again in an hour."
            )
            response = render(request, "ingest/submit.html", {"form": form}, status=429)
            response["Retry-After"] = str(ratelimit.limit("submission_ip")[1])
            return response
        if form.is_valid():
            submission = form.save(commit=False)
            submission.client_hash = client_hash(address)
            submission.save()
            return redirect("ingest:submit_thanks")
    else:
        form = SubmissionForm()
    return render(request, "ingest/submit.html", {"form": form})


def submit_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "ingest/submit_thanks.html")


@staff_member_required
def moderation(request: HttpRequest) -> HttpResponse:
    pending = list(
        Submission.objects.filter(status=SubmissionStatus.PENDING)
        .select_related("category")
        .order_by("created_at", "pk")[:100]
    )
    duplicates = submissions.possible_duplicates(pending)
    recent = Submission.objects.exclude(status=SubmissionStatus.PENDING).select_related(
        "tool", "moderator"
    )[:20]
    return render(
        request,
        "ingest/moderation.html",
        {
            "rows": [(s, duplicates.get(s.pk)) for s in pending],
            "recent": recent,
        },
    )


@staff_member_required
@require_POST
def moderate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    submission = get_object_or_404(Submission, pk=pk)
    try:
        if action == "approve":
            tool = submissions.approve_submission(submission, request.user)
            messages.success(request, f"Approved: {tool.name} is in the catalog.")
        elif action == "reject":
            submissions.reject_submission(submission, request.user, request.POST.get("note", ""))
            messages.success(request, f"Rejected: {submission.name}.")
        else:
            raise Http404("Unknown action")
    except submissions.ModerationError as exc:
        messages.error(request, f"{submission.name}: {exc}")
    return redirect("ingest:moderation")


@staff_member_required
def runs(request: HttpRequest) -> HttpResponse:
    return render(request, "ingest/runs.html", {"runs": PipelineRun.objects.all()[:60]})


@staff_member_required
def run_detail(request: HttpRequest, day: str) -> HttpResponse:
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise Http404("Not a date") from exc
    run = get_object_or_404(PipelineRun, day=parsed)
    candidates = Candidate.objects.filter(run=run).select_related(
        "tool", "duplicate_of", "duplicate_of_candidate", "category"
    )
    comparisons = DailyComparison.objects.filter(run=run).select_related("tool", "rival")
    return render(
        request,
        "ingest/run_detail.html",
        {
            "run": run,
            "candidates": candidates[:500],
            "comparisons": comparisons,
            "feed_errors": feed_error_rows(run),
        },
    )
