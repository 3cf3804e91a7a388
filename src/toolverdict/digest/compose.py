"""Compose the weekly issue from the week's new tools, their panel verdicts and pairs.

The composer writes plain text into editable sections (headline comparison first, then
more comparisons, then each new tool with its panel ship % and one line per persona), so
an editor can change any of it in the admin before it goes out. Panel data comes only
through toolverdict.panel.services.panel_summaries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.catalog.services import canonical_pair
from toolverdict.pages.comparison import pricing_models_line
from toolverdict.panel.services import PanelSummary, panel_summaries

from .models import Issue, Section

MAX_TOOLS = 12
MAX_COMPARISONS = 4
LINE_LIMIT = 180


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """Collapse whitespace (no line breaks survive) and cut at a word near the limit."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def week_bounds(iso_year: int, iso_week: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.fromisocalendar(iso_year, iso_week, 1).replace(tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=7)


def panel_line(summary: PanelSummary | None) -> str:
    if summary is None or not summary.reviews:
        return "The panel has not reviewed this tool yet."
    drafts = any(card.is_local_draft for card in summary.reviews.values())
    label = " (local draft)" if drafts else ""
    if summary.not_enough_evidence:
        reviewers = f"{summary.insufficient} of {len(summary.reviews)} reviewers"
        return f"Panel: not enough evidence to judge ({reviewers}){label}."
    if summary.ship_pct is None:
        return f"Panel: too few published reviews for a verdict ({summary.reviewers}){label}."
    return f"Panel: {summary.ship_pct}% ship · {summary.reviewers}{label}."


def persona_lines(summary: PanelSummary | None) -> list[str]:
    if summary is None:
        return []
    lines = []
    for persona, card in summary.reviews.items():
        if card.verdict not in {"ship", "skip"}:
            continue
        lines.append(one_line(f"{persona} ({card.verdict}): {card.reason}"))
    return lines


def comparison_pairs(new_tools: Sequence[Tool], limit: int) -> list[tuple[Tool, Tool]]:
    """Same-category pairs with at least one new tool, canonical order, each tool in one pair.

    Pairs of two new tools come first; a tool already paired is not reused while another
    peer is available, so the issue shows different tools rather than one tool N times.
    """
    if not new_tools:
        return []
    new_ids = {t.pk for t in new_tools}
    peers_by_category: dict[int, list[Tool]] = {}
    for tool in (
        Tool.objects.published()
        .filter(category_id__in={t.category_id for t in new_tools})
        .select_related("category")
        .order_by(F("published_at").desc(nulls_last=True), "pk")
    ):
        peers_by_category.setdefault(tool.category_id, []).append(tool)
    used: set[int] = set()
    candidates: list[tuple[int, int, tuple[Tool, Tool]]] = []
    for order, tool in enumerate(new_tools):
        if tool.pk in used:
            continue
        peers = [p for p in peers_by_category.get(tool.category_id, []) if p.pk != tool.pk]
        peer = next((p for p in peers if p.pk not in used), None)
        if peer is None:
            continue
        used.update({tool.pk, peer.pk})
        a, b = canonical_pair(tool.slug, peer.slug)
        pair = (tool, peer) if tool.slug == a else (peer, tool)
        candidates.append((0 if peer.pk in new_ids else 1, order, pair))
    candidates.sort(key=lambda c: (c[0], c[1]))
    return [pair for _, _, pair in candidates[:limit]]


def sentence(text: str) -> str:
    text = one_line(text)
    return text if not text or text[-1] in ".!?…" else text + "."


def pair_body(a: Tool, b: Tool, summaries: dict[int, PanelSummary]) -> str:
    def pct(tool: Tool) -> str:
        s = summaries.get(tool.pk)
        if s is None or not s.reviews:
            return "not reviewed yet"
        if s.not_enough_evidence:
            return "not enough evidence"
        return f"{s.ship_pct}% ship" if s.ship_pct is not None else "too few published reviews"

    lines = [
        f"{a.name} ({a.vendor}): {sentence(a.tagline)} Panel: {pct(a)}.",
        f"{b.name} ({b.vendor}): {sentence(b.tagline)} Panel: {pct(b)}.",
        pricing_models_line(a, b),
    ]
    return "\n".join(lines)


def build_sections(new_tools: Sequence[Tool]) -> tuple[str, str, list[Section]]:
    """Subject, intro and unsaved sections for an issue covering these new tools."""
    pairs = comparison_pairs(new_tools, MAX_COMPARISONS)
    everyone = {t.pk: t for t in new_tools}
    for a, b in pairs:
        everyone.setdefault(a.pk, a)
        everyone.setdefault(b.pk, b)
    summaries = panel_summaries(list(everyone.values()))
    sections: list[Section] = []
    for index, (a, b) in enumerate(pairs):
        sections.append(
            Section(
                kind=Section.Kind.HEADLINE if index == 0 else Section.Kind.COMPARISON,
                heading=one_line(f"{a.name} vs {b.name}", 200),
                url=reverse("compare:pair", kwargs={"a": a.slug, "b": b.slug}),
                body=pair_body(a, b, summaries),
            )
        )
    for tool in new_tools[:MAX_TOOLS]:
        summary = summaries.get(tool.pk)
        lines = [one_line(tool.tagline), panel_line(summary), *persona_lines(summary)]
        sections.append(
            Section(
                kind=Section.Kind.TOOL,
                heading=one_line(f"{tool.name} by {tool.vendor}", 200),
                url=tool.get_absolute_url(),
                ship_pct=summary.ship_pct if summary else None,
                body="\n".join(lines),
            )
        )
    for position, section in enumerate(sections):
        section.position = position
    if pairs:
        a, b = pairs[0]
        subject = one_line(f"Weekly AI Tool Verdicts: {a.name} vs {b.name}", 200)
    elif new_tools:
        subject = one_line(f"Weekly AI Tool Verdicts: {new_tools[0].name} and more", 200)
    else:
        subject = "Weekly AI Tool Verdicts"
    count = len(new_tools)
    intro = (
        f"{count} new tool{'s' if count != 1 else ''} reached the catalog this week. "
        "Here is how the panel sees them, and how they compare with what you already use."
        if count
        else ""
    )
    return subject, intro, sections


def new_tools_between(start: dt.datetime, end: dt.datetime) -> list[Tool]:
    """Tools that became visible to readers in [start, end).

    The window is on ``published_at``, not ``created_at``: ingestion creates tools hidden
    and publishes them later, and a tool created before one issue but published after it
    is news for the next issue, not for neither.
    """
    return list(
        Tool.objects.published()
        .filter(published_at__gte=start, published_at__lt=end)
        .select_related("category")
        .order_by("published_at", "pk")
    )


def compose_issue(iso_year: int, iso_week: int, *, now: dt.datetime, auto_send: bool) -> Issue:
    """The issue for an ISO week, composed once; a second call returns the same row.

    The content window starts where the previous issue's ended, so a week that was never
    composed (the site was down all week) loses no tools: they roll into the next issue.
    An issue with nothing new is stored as skipped, so the week is still settled.
    """
    existing = Issue.objects.filter(iso_year=iso_year, iso_week=iso_week).first()
    if existing is not None:
        return existing
    previous = (
        Issue.objects.filter(period_end__lte=now).order_by("-period_end").only("period_end").first()
    )
    week_start, _ = week_bounds(iso_year, iso_week)
    start = previous.period_end if previous else week_start - dt.timedelta(days=7)
    tools = new_tools_between(start, now)
    subject, intro, sections = build_sections(tools)
    if not tools:
        status = Issue.Status.SKIPPED
    elif auto_send:
        status = Issue.Status.APPROVED
    else:
        status = Issue.Status.DRAFT
    try:
        with transaction.atomic():
            issue = Issue.objects.create(
                iso_year=iso_year,
                iso_week=iso_week,
                subject=subject,
                intro=intro,
                status=status,
                period_start=start,
                period_end=now,
                approved_at=now if status == Issue.Status.APPROVED else None,
            )
            for section in sections:
                section.issue = issue
            Section.objects.bulk_create(sections)
    except IntegrityError:
        # A doubled trigger composed the same week concurrently: keep the first one.
        return Issue.objects.get(iso_year=iso_year, iso_week=iso_week)
    return issue
