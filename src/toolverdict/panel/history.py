"""Verdict history: each panel generation of a tool, and what changed between them.

``record_snapshot`` runs after the panel has reviewed a tool (``services.review_tools``):
when the dossier or the current verdicts differ from the tool's last snapshot it stores a
new one (dossier items as read, ship and published counts). ``verdict_history`` compares
consecutive snapshots for the tool page: "Skip → Ship on 1 Dec 2026 after E3 'API
input' changed from $3.00 to $1.50".

Snapshots start with the first panel run that records them: generations reviewed before
this feature have their reviews kept (``Review.is_current`` False) but not the dossier
they read, so they are not in the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.pagecache.versions import invalidate

from . import shares
from .dossier import Dossier
from .models import PanelSnapshot, Review


def _figures(snapshot: PanelSnapshot) -> tuple[str | None, int | None]:
    return shares.majority(snapshot.ship, snapshot.valid), shares.ship_pct(
        snapshot.ship, snapshot.valid
    )


def _current_counts(tool_id: int) -> tuple[int, int, int]:
    row = Review.objects.filter(tool_id=tool_id, is_current=True).aggregate(
        reviews=Count("pk"),
        valid=Count("pk", filter=Q(pk__in=Review.objects.counted().values("pk"))),
        ship=Count("pk", filter=Q(status=Review.Status.PUBLISHED, verdict=Review.Verdict.SHIP)),
    )
    return row["ship"], row["valid"], row["reviews"]


def record_snapshot(tool: Tool, dossier: Dossier) -> PanelSnapshot | None:
    """Store this generation if the dossier or the verdicts changed; None if nothing did."""
    ship, valid, reviews = _current_counts(tool.pk)
    if reviews == 0:
        return None
    with transaction.atomic():
        # Lock the tool row so two workers finishing the same tool cannot both append.
        Tool.objects.select_for_update().filter(pk=tool.pk).first()
        last = PanelSnapshot.objects.filter(tool=tool).order_by("-created_at", "-pk").first()
        if last is not None and (last.dossier_hash, last.ship, last.valid, last.reviews) == (
            dossier.hash,
            ship,
            valid,
            reviews,
        ):
            return None
        snapshot = PanelSnapshot.objects.create(
            tool=tool,
            dossier_hash=dossier.hash,
            evidence=[[e.id, e.label, e.text] for e in dossier.evidence],
            ship=ship,
            valid=valid,
            reviews=reviews,
            created_at=timezone.now(),
        )
        invalidate("reviews", tools=[tool.pk])
    return snapshot


@dataclass(frozen=True)
class ItemChange:
    """One dossier item that differs between two generations."""

    evidence_id: str  # the id in the newer generation (the older one's if removed)
    label: str
    before: str | None  # None: the item is new
    after: str | None  # None: the item was removed

    @property
    def sentence(self) -> str:
        if self.before is None:
            return f"{self.evidence_id} '{self.label}' was added: {self.after}"
        if self.after is None:
            return f"{self.evidence_id} '{self.label}' was removed (was {self.before})"
        return f"{self.evidence_id} '{self.label}' changed from {self.before} to {self.after}"


def _short_label(label: str) -> str:
    for prefix in ("Price: ", "Fact: ", "Peer: "):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label


def _value(label: str, text: str) -> str:
    """A price item reads "API input: $3.00 (USD) per 1M tokens"; drop the repeated tier."""
    short = _short_label(label)
    return text[len(short) + 2 :] if text.startswith(f"{short}: ") else text


def dossier_changes(before: list, after: list) -> list[ItemChange]:
    """Items added, removed or changed, matched by label (ids shift when items are added)."""
    old = {label: (eid, text) for eid, label, text in before}
    new = {label: (eid, text) for eid, label, text in after}
    changes = []
    for eid, label, text in after:
        if label not in old:
            changes.append(ItemChange(eid, _short_label(label), None, _value(label, text)))
        elif old[label][1] != text:
            changes.append(
                ItemChange(
                    eid, _short_label(label), _value(label, old[label][1]), _value(label, text)
                )
            )
    for eid, label, text in before:
        if label not in new:
            changes.append(ItemChange(eid, _short_label(label), _value(label, text), None))
    return changes


@dataclass
class HistoryEntry:
    """One change of the panel's verdict or ship %, and what changed in the dossier."""

    at: datetime
    verdict_before: str | None
    verdict_after: str | None
    pct_before: int | None
    pct_after: int | None
    changes: list[ItemChange] = field(default_factory=list)

    @property
    def verdict_changed(self) -> bool:
        return self.verdict_before != self.verdict_after

    @property
    def headline(self) -> str:
        """ "Skip → Ship" or "Ship % 50% → 75%"."""

        def word(w: str | None) -> str:
            return (w or "no verdict").capitalize()

        def pct(p: int | None) -> str:
            return f"{p}%" if p is not None else "—"

        if self.verdict_changed:
            return f"{word(self.verdict_before)} → {word(self.verdict_after)}"
        return f"Panel ship {pct(self.pct_before)} → {pct(self.pct_after)}"


def verdict_history(tool: Tool, limit: int = 20) -> list[HistoryEntry]:
    """Newest first: each generation where the verdict or ship % changed (one query)."""
    snapshots = list(PanelSnapshot.objects.filter(tool=tool).order_by("created_at", "pk"))
    entries = []
    # The dossier changes behind a new verdict are those since the previous verdict was
    # first reached (a run can store a generation whose reviews change only later).
    anchor = snapshots[0] if snapshots else None
    for older, newer in zip(snapshots, snapshots[1:], strict=False):
        before = (
            shares.majority(older.ship, older.valid),
            shares.ship_pct(older.ship, older.valid),
        )
        after = (shares.majority(newer.ship, newer.valid), shares.ship_pct(newer.ship, newer.valid))
        if before == after:
            continue
        changes = (
            dossier_changes(anchor.evidence, newer.evidence)
            if anchor.dossier_hash != newer.dossier_hash
            else []
        )
        anchor = newer
        entries.append(
            HistoryEntry(newer.created_at, before[0], after[0], before[1], after[1], changes)
        )
    entries.reverse()
    return entries[:limit]
