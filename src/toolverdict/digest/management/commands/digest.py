"""`toolverdict digest …`: run the weekly schedule, send or resume an issue, settle unknowns."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.core.foreground import run_in_foreground
from toolverdict.digest.models import Delivery, Issue
from toolverdict.digest.periodic import tick
from toolverdict.digest.sending import SendAborted, resolve_unknown
from toolverdict.digest.tasks import send_issue_task


def find_issue(ref: str) -> Issue:
    """An issue by id or by key (2026-w48)."""
    if ref.isdigit():
        issue = Issue.objects.filter(pk=int(ref)).first()
    else:
        year, _, week = ref.lower().partition("-w")
        issue = (
            Issue.objects.filter(iso_year=int(year), iso_week=int(week)).first()
            if year.isdigit() and week.isdigit()
            else None
        )
    if issue is None:
        raise CommandError(f"no issue {ref!r} (use an id or a key like 2026-w48)")
    return issue


class Command(BaseCommand):
    help = (
        "Weekly AI Tool Verdicts. `tick`: compose this week's issue if due and queue what "
        "is approved. `send ISSUE`: send or resume an issue in this process, as a one-task "
        "worker (each recipient at most once; safe to rerun after a crash; waits while a "
        "worker is sending the issue). `status ISSUE`: delivery counts. "
        "`unknown ISSUE`: deliveries a crashed sender left undecided, with Message-IDs. "
        "`resolve ISSUE --as-sent|--resend`: settle them after checking the mail log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("tick", help="compose the week's issue if due; queue approved issues")
        send = sub.add_parser(
            "send", help="send or resume an issue now, in this process (as a one-task worker)"
        )
        send.add_argument("issue", help="issue id or key (2026-w48)")
        send.add_argument(
            "--rate", type=float, default=None, help="emails per second (default: setting)"
        )
        status = sub.add_parser("status", help="delivery counts of an issue")
        status.add_argument("issue")
        unknown = sub.add_parser("unknown", help="list deliveries in the unknown state")
        unknown.add_argument("issue")
        resolve = sub.add_parser("resolve", help="settle unknown deliveries")
        resolve.add_argument("issue")
        how = resolve.add_mutually_exclusive_group(required=True)
        how.add_argument("--as-sent", action="store_true", help="the mail log shows them sent")
        how.add_argument("--resend", action="store_true", help="the log shows they never left")

    def handle(self, *args, action: str, **options) -> None:
        if action == "tick":
            self.stdout.write(tick())
            return
        issue = find_issue(options["issue"])
        if action == "send":
            # A task of this process, registered like a worker's: task_alive sees it, and
            # if it dies the recovery step requeues it and releases the issue.
            rate = {"rate": options["rate"]} if options["rate"] is not None else {}

            def waiting() -> None:
                self.stderr.write(
                    f"{issue.key}: a worker is sending this issue; waiting for it to finish"
                )

            try:
                report = run_in_foreground(send_issue_task, issue.pk, on_wait=waiting, **rate)
            except SendAborted as exc:
                raise CommandError(f"sending stopped: {exc}; run the command again") from exc
            self.stdout.write(json.dumps(report))
        elif action == "status":
            counts: dict[str, int] = {}
            for s in Delivery.objects.filter(issue=issue).values_list("status", flat=True):
                counts[s] = counts.get(s, 0) + 1
            self.stdout.write(json.dumps({"issue": issue.key, "status": issue.status, **counts}))
        elif action == "unknown":
            rows = Delivery.objects.filter(issue=issue, status=Delivery.Status.UNKNOWN)
            for d in rows.select_related("subscriber"):
                self.stdout.write(f"{d.message_id}\t{d.subscriber.email}\t{d.last_error}")
        elif action == "resolve":
            count = resolve_unknown(issue, as_sent=options["as_sent"])
            self.stdout.write(f"{count} delivery(ies) settled")
