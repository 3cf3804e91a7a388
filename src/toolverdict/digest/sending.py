"""Send an issue: one Delivery row per recipient, each email sent at most once, ever.

The protocol (docs/digest.md has the long form):

1. The sender claims the issue (one sender per issue at a time) with one conditional
   UPDATE recording who it is: the id of its task. It runs as a worker task (the weekly
   job queues it; `toolverdict digest send` runs it as a one-task worker of its own,
   core/foreground.py), so the worker's heartbeat is its lease: a claim is taken over only
   when ``core.recovery.task_alive`` says no live process sends the issue, never by the
   clock, and the recovery step releases a dead sender's claim (``on_release``, tasks.py).
2. Rows a previous sender left in "sending" are turned into "unknown": that sender died
   between claiming a row and recording the server's answer, so the mail may or may not
   have gone out. They are never resent automatically.
3. Every confirmed subscriber without a row gets one (unique on issue + subscriber).
4. For each pending row: claim it with a conditional UPDATE (pending → sending, with a
   fresh attempt id) that commits *before* any byte goes to the mail server; send; then
   record the outcome with an UPDATE that matches that attempt id.

A crash anywhere leaves every row either untouched (pending: sent on restart), finished
(sent/failed/skipped) or "sending" (the one message in flight, which becomes unknown).
So no recipient ever gets a second copy, and everything not in flight at the crash is
sent exactly once on restart. The one unavoidable window is the in-flight message: if the
process dies after the server accepted it but before the "sent" UPDATE commits, the row
is unknown although the mail arrived; if it dies before the server accepted it, the row is
unknown and the mail did not arrive. `toolverdict digest unknown` lists such rows with
their Message-ID so an operator can check the mail server log and resolve them.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from toolverdict.core import recovery
from toolverdict.pagecache.versions import invalidate

from .models import Delivery, Issue, Subscriber
from .rendering import RenderedIssue, build_message, message_id, render_issue
from .subscriptions import unsubscribe_url_for_key
from .transport import (
    AmbiguousError,
    BackendTransport,
    ConnectionFailed,
    PermanentError,
    SenderRefused,
    SmtpTransport,
    TransientError,
    transport_for_settings,
)

log = logging.getLogger(__name__)

BATCH = 200
# Longest single sleep while only retries remain: the claim is checked between sleeps.
WAIT_STEP = 60.0
# An issue still "sending" that no task sends (its last run stopped: the mail server was
# unreachable, or unknown rows were put back) is queued again this long after the last
# enqueue at the earliest. A sender that died needs no such pause: the recovery step
# requeues its task in place.
RESUME_AFTER = timedelta(minutes=2)
# Tests replace this to make backoff instant; production sleeps for real.
sleep = time.sleep


class SendAborted(RuntimeError):
    """The run stopped early (mail server unreachable, sender refused, issue taken over)."""


@dataclass
class SendReport:
    issue: str
    sent: int = 0
    retried: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0
    unknown: int = 0
    recovered_unknown: int = 0
    held_elsewhere: bool = False
    finished: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# --- starting ------------------------------------------------------------------------


def start_sending(issue: Issue, *, enqueue: bool = True, now=None) -> bool:
    """Move an approved issue to "sending" and enqueue the send task, exactly once.

    The conditional UPDATE is the guard: two ticks (or an editor and a tick) racing here
    enqueue one task between them.
    """
    moved = Issue.objects.filter(pk=issue.pk, status=Issue.Status.APPROVED).update(
        status=Issue.Status.SENDING, send_enqueued_at=now or timezone.now()
    )
    if moved and enqueue:
        enqueue_send(issue.pk)
    return bool(moved)


def enqueue_send(issue_id: int) -> None:
    from .tasks import send_issue_task

    def enqueue() -> None:
        result = send_issue_task.enqueue(issue_id)
        Issue.objects.filter(pk=issue_id).update(send_task_id=str(result.id))

    # After commit: a worker must never pick up a task for a state change that rolled back.
    transaction.on_commit(enqueue)


def _send_task():
    from .tasks import send_issue_task

    return send_issue_task


def resume_if_stalled(issue: Issue, now=None) -> bool:
    """Queue the send again for an issue still "sending" that no task sends any more.

    That is an issue whose last run stopped early (the mail server stayed unreachable) or
    whose unknown rows an operator put back. Left alone: a send task waiting in the queue
    or running (a dead worker's task is the recovery step's to requeue, in place), a claim
    held by a sender that may be alive, and a send given up in the last day because its
    workers kept dying (it may be what kills them).
    """
    now = now or timezone.now()
    if issue.status != Issue.Status.SENDING:
        return False
    if issue.send_enqueued_at and issue.send_enqueued_at > now - RESUME_AFTER:
        return False
    task = _send_task()
    if recovery.task_queued(task, issue.pk):
        return False
    if issue.sender and sender_alive(issue):
        return False
    given_up = recovery.recently_given_up(task)
    if any(list((a or {}).get("args") or []) == [issue.pk] for a in given_up):
        return False
    moved = Issue.objects.filter(
        pk=issue.pk, status=Issue.Status.SENDING, send_enqueued_at=issue.send_enqueued_at
    ).update(send_enqueued_at=now)
    if moved:
        enqueue_send(issue.pk)
    return bool(moved)


# --- the claim -----------------------------------------------------------------------


def sender_alive(issue: Issue) -> bool:
    """True while the sender holding ``issue`` may still be sending: a live process runs
    its send task (however long it has been), or an untracked holder (a call outside any
    task) claimed it less than ``TOOLVERDICT_TASK_ORPHAN_AFTER`` ago."""
    return recovery.holder_alive(
        _send_task(), issue.pk, holder=issue.sender, since=issue.sending_since
    )


def claim_issue(issue_id: int, sender: str) -> bool:
    """Claim a sending issue for ``sender``: one conditional UPDATE when nobody holds it;
    otherwise taken over (the same UPDATE, on the holder just read) only when
    ``sender_alive`` says its holder is gone."""
    sending = Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING)
    for _ in range(2):  # a holder that let go between the two reads: claim it free
        if sending.filter(sender="").update(sender=sender, sending_since=timezone.now()):
            return True
        issue = sending.only("pk", "sender", "sending_since").first()
        if issue is None:
            return False
        if not issue.sender:
            continue
        if sender_alive(issue):
            return False
        log.warning("digest %s: taking over from sender %s (not alive)", issue_id, issue.sender)
        return bool(
            sending.filter(sender=issue.sender, sending_since=issue.sending_since).update(
                sender=sender, sending_since=timezone.now()
            )
        )
    return False


def still_claimed(issue_id: int, sender: str) -> bool:
    return Issue.objects.filter(pk=issue_id, sender=sender).exists()


def release_issue(issue_id: int, sender: str) -> None:
    Issue.objects.filter(pk=issue_id, sender=sender).update(sender="", sending_since=None)


# --- deliveries ----------------------------------------------------------------------


def materialize_deliveries(issue: Issue) -> int:
    """One pending row per confirmed subscriber that has none yet (idempotent)."""
    have = Delivery.objects.filter(issue=issue).values("subscriber_id")
    ids = list(
        Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED)
        .exclude(pk__in=have)
        .values_list("pk", flat=True)
    )
    Delivery.objects.bulk_create(
        [Delivery(issue=issue, subscriber_id=pk) for pk in ids],
        ignore_conflicts=True,
        batch_size=500,
    )
    return len(ids)


def recover_orphans(issue: Issue) -> int:
    """Rows left "sending" by a dead sender become "unknown" (not resent; see docstring)."""
    return Delivery.objects.filter(issue=issue, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.UNKNOWN,
        last_error="the sender stopped after claiming this message; it may or may not have "
        "been delivered",
    )


class Pacer:
    """Spaces sends at a fixed rate (emails per second); 0 or less means no limit."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            sleep(self.next_at - now)
            now = self.next_at
        self.next_at = max(self.next_at, now) + self.interval


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff: base, 2×base, 4×base… capped at an hour."""
    return min(settings.TOOLVERDICT_DIGEST_RETRY_BASE * (2 ** max(0, attempt - 1)), 3600.0)


def _open_with_backoff(transport) -> None:
    attempts = settings.TOOLVERDICT_DIGEST_MAX_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            transport.open()
            return
        except ConnectionFailed as exc:
            if attempt == attempts:
                raise SendAborted(f"mail server unreachable after {attempts} tries: {exc}") from exc
            log.warning("mail server unreachable (try %s/%s): %s", attempt, attempts, exc)
            sleep(backoff_seconds(attempt))


def _due_pending(issue: Issue) -> list[tuple[int, int, str, str, int]]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(issue=issue, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list(
            "pk",
            "subscriber_id",
            "subscriber__email",
            "subscriber__unsubscribe_key",
            "attempts",
        )[:BATCH]
    )


def _claim(delivery_id: int, attempt_id: str, mid: str) -> bool:
    """pending → sending for a still-confirmed subscriber; True if this call won the row.

    Plain SQL because it runs twice per email: the ORM's query building cost more than
    the database work here (bench/digest.py). Portable across SQLite and PostgreSQL.
    """
    q = connection.ops.quote_name
    delivery, subscriber = Delivery._meta.db_table, Subscriber._meta.db_table
    sql = (
        f"UPDATE {q(delivery)} SET status = %s, attempt_id = %s, claimed_at = %s, "  # noqa: S608 - names from model metadata, values are parameters
        f"attempts = attempts + 1, message_id = %s "
        f"WHERE id = %s AND status = %s AND EXISTS (SELECT 1 FROM {q(subscriber)} s "
        f"WHERE s.id = {q(delivery)}.subscriber_id AND s.status = %s)"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and connection.get_autocommit():
            # The claim must survive even a power failure: were it lost after the message
            # went out, the row would be pending again and the message sent twice. WAL with
            # synchronous=NORMAL (the site default) does not fsync each commit; FULL does.
            # (PostgreSQL commits synchronously by default.)
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(
            sql,
            [
                Delivery.Status.SENDING,
                attempt_id,
                now,
                mid,
                delivery_id,
                Delivery.Status.PENDING,
                Subscriber.Status.CONFIRMED,
            ],
        )
        return cursor.rowcount == 1


def _mark_sent(delivery_id: int, attempt_id: str) -> None:
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q(Delivery._meta.db_table)} SET status = %s, sent_at = %s "  # noqa: S608 - as in _claim
        f"WHERE id = %s AND attempt_id = %s"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [Delivery.Status.SENT, now, delivery_id, attempt_id]
    # The outcome need not be durable at once: losing it in a power failure only leaves the
    # row "sending", which becomes "unknown" and is never resent. Skipping the fsync here
    # halves the synchronous commits per email.
    if not connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    elif connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(sql, params)
    else:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(sql, params)


def _mine(delivery_id: int, attempt_id: str):
    """The row, only while it still carries this attempt's id (outcome updates match it)."""
    return Delivery.objects.filter(pk=delivery_id, attempt_id=attempt_id)


def _finish(issue: Issue, report: SendReport) -> None:
    open_rows = Delivery.objects.filter(
        issue=issue, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    )
    if not open_rows.exists():
        if Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(
            status=Issue.Status.SENT, sent_at=timezone.now()
        ):
            invalidate("digest")  # the archive, the issue page and the feed show it now
        report.finished = True
    report.unknown = Delivery.objects.filter(issue=issue, status=Delivery.Status.UNKNOWN).count()


class _Claim:
    """This sender's claim on the issue, checked before each batch and each wait: a sender
    that finds it gone (taken over from an untracked holder presumed dead) stops."""

    def __init__(self, issue_id: int, sender: str) -> None:
        self.issue_id, self.sender = issue_id, sender

    def check(self) -> None:
        if not still_claimed(self.issue_id, self.sender):
            raise SendAborted("another sender took this issue over")


@dataclass
class _Run:
    """What one sending run needs for every message: the issue rendered once, the open
    transport, the pace and the claim."""

    issue: Issue
    rendered: RenderedIssue
    transport: SmtpTransport | BackendTransport
    pacer: Pacer
    claim: _Claim
    report: SendReport


def _begin_sending(issue: Issue, report: SendReport) -> bool:
    """Move an approved issue to "sending"; False (with a note) when there is nothing to send."""
    # `toolverdict digest send` may be given an approved issue the weekly job has not
    # started yet.
    Issue.objects.filter(pk=issue.pk, status=Issue.Status.APPROVED).update(
        status=Issue.Status.SENDING, send_enqueued_at=timezone.now()
    )
    issue.refresh_from_db()
    if issue.status != Issue.Status.SENDING:
        report.notes.append(f"issue is {issue.status}, nothing to send")
        report.finished = issue.status == Issue.Status.SENT
        return False
    return True


def _wait_for_retries(run: _Run) -> bool:
    """Only rows waiting for a retry remain (or nothing): sleep until the earliest is due,
    at most ``WAIT_STEP`` at a time. False when no pending row is left at all."""
    earliest = Delivery.objects.filter(issue=run.issue, status=Delivery.Status.PENDING).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    if earliest is None:
        return False
    run.claim.check()
    sleep(max(0.0, min((earliest - timezone.now()).total_seconds(), WAIT_STEP)))
    return True


def _send_one(run: _Run, row: tuple[int, int, str, str, int]) -> None:
    """Pace, claim, send and record one delivery."""
    delivery_id, subscriber_id, email, key, attempts = row
    run.pacer.wait()
    _open_with_backoff(run.transport)
    attempt_id = uuid.uuid4().hex
    mid = message_id(run.issue, delivery_id, run.rendered.domain)
    prepared = run.transport.prepare(
        build_message(
            run.rendered,
            run.issue,
            email=email,
            unsubscribe_url=unsubscribe_url_for_key(key),
            delivery_id=delivery_id,
        )
    )
    # The claim commits (autocommit) before anything is sent: from here on, a crash leaves
    # this row "sending", which a restart never resends.
    if not _claim(delivery_id, attempt_id, mid):
        run.report.skipped += Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.PENDING
        ).update(status=Delivery.Status.SKIPPED)
        return
    try:
        run.transport.send_prepared(prepared)
    except (AmbiguousError, PermanentError, SenderRefused, TransientError) as exc:
        _record_failure(run.report, delivery_id, attempt_id, subscriber_id, attempts, exc)
    else:
        _mark_sent(delivery_id, attempt_id)
        run.report.sent += 1


def _record_failure(
    report: SendReport,
    delivery_id: int,
    attempt_id: str,
    subscriber_id: int,
    attempts: int,
    exc: Exception,
) -> None:
    """What the mail server's refusal means for the row: unknown, bounced, retried later,
    failed for good, or (the sender's own fault) back to pending and the run stopped."""
    error = str(exc)[:500]
    mine = _mine(delivery_id, attempt_id)
    if isinstance(exc, AmbiguousError):
        mine.update(status=Delivery.Status.UNKNOWN, last_error=error)
        report.unknown += 1
    elif isinstance(exc, PermanentError):
        mine.update(status=Delivery.Status.FAILED, last_error=error)
        Subscriber.objects.filter(pk=subscriber_id).update(
            status=Subscriber.Status.BOUNCED, bounced_at=timezone.now(), bounce_reason=error
        )
        report.failed += 1
        report.bounced += 1
    elif isinstance(exc, SenderRefused):
        # Not this recipient's fault: put the row back and stop the run.
        mine.update(status=Delivery.Status.PENDING, last_error=error)
        raise SendAborted(str(exc)) from exc
    elif attempts + 1 >= settings.TOOLVERDICT_DIGEST_MAX_ATTEMPTS:  # transient, out of tries
        mine.update(status=Delivery.Status.FAILED, last_error=error)
        report.failed += 1
    else:  # transient: try again after a backoff
        mine.update(
            status=Delivery.Status.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts + 1)),
            last_error=error,
        )
        report.retried += 1


def send_issue(issue_id: int, *, rate: float | None = None) -> SendReport:
    """Send (or resume sending) an issue to every confirmed subscriber, each at most once.

    Runs as ``send_issue_task`` (digest/tasks.py). Steps: move an approved issue to
    "sending", claim it, turn a dead sender's in-flight rows into "unknown", give every
    confirmed subscriber a row, then send the due rows in batches (waiting for retries
    when only those remain) and mark the issue sent once no row is open.
    """
    issue = Issue.objects.get(pk=issue_id)
    report = SendReport(issue=issue.key)
    if not _begin_sending(issue, report):
        return report
    sender = recovery.holder_id()
    if not claim_issue(issue.pk, sender):
        report.held_elsewhere = True
        report.notes.append("another sender, alive, is sending this issue")
        return report
    transport = None
    try:
        transport = transport_for_settings()
        report.recovered_unknown = recover_orphans(issue)
        materialize_deliveries(issue)
        run = _Run(
            issue=issue,
            rendered=render_issue(issue),
            transport=transport,
            pacer=Pacer(settings.TOOLVERDICT_DIGEST_RATE if rate is None else rate),
            claim=_Claim(issue.pk, sender),
            report=report,
        )
        while True:
            run.claim.check()
            batch = _due_pending(issue)
            if not batch:
                if _wait_for_retries(run):
                    continue
                break
            for row in batch:
                _send_one(run, row)
        _finish(issue, report)
    finally:
        if transport is not None:
            transport.close()
        release_issue(issue.pk, sender)
    log.info("digest %s: %s", issue.key, report.as_dict())
    return report


def resolve_unknown(issue: Issue, *, as_sent: bool) -> int:
    """Operator decision for "unknown" rows after checking the mail log by Message-ID.

    as_sent=True records them as sent; as_sent=False puts them back to pending so the next
    run sends them (use only when the log shows the server never accepted them).
    """
    rows = Delivery.objects.filter(issue=issue, status=Delivery.Status.UNKNOWN)
    if as_sent:
        return rows.update(status=Delivery.Status.SENT, sent_at=timezone.now())
    count = rows.update(status=Delivery.Status.PENDING, next_attempt_at=None)
    if count and Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENT).update(
        status=Issue.Status.SENDING, sent_at=None
    ):
        invalidate("digest")
    return count
