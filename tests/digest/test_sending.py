"""The sender against a real SMTP server on loopback: once per recipient, retries, bounces."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.core import recovery
from toolverdict.digest import sending
from toolverdict.digest.models import Delivery, Issue, Section, Subscriber
from toolverdict.digest.tasks import send_issue_task
from toolverdict.digest.transport import AmbiguousError, SmtpTransport

from .conftest import free_port, make_subscribers, running, worker

pytestmark = pytest.mark.django_db


def approved_issue(week: int = 48) -> Issue:
    now = timezone.now()
    issue = Issue.objects.create(
        iso_year=2026,
        iso_week=week,
        subject=f"Weekly AI Tool Verdicts {week}",
        intro="Hello.",
        status=Issue.Status.APPROVED,
        period_start=now - dt.timedelta(days=7),
        period_end=now,
    )
    Section.objects.create(issue=issue, kind="tool", heading="A by Acme", body="The A tool.")
    return issue


def statuses(issue: Issue) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in Delivery.objects.filter(issue=issue).values_list("status", flat=True):
        out[s] = out.get(s, 0) + 1
    return out


def test_each_confirmed_subscriber_gets_exactly_one_copy(smtp_sink, no_sleep):
    readers = make_subscribers(5)
    make_subscribers(2, status=Subscriber.Status.PENDING, prefix="pending")
    make_subscribers(1, status=Subscriber.Status.UNSUBSCRIBED, prefix="left")
    issue = approved_issue()
    report = sending.send_issue(issue.pk, rate=0)
    assert report.sent == 5 and report.finished
    copies = smtp_sink.handler.copies()
    assert copies == {r.email: 1 for r in readers}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.sender == ""
    # Running it again (a doubled task) sends nothing more.
    again = sending.send_issue(issue.pk, rate=0)
    assert again.sent == 0
    assert smtp_sink.handler.copies() == copies


def test_each_message_is_personal_and_well_formed(smtp_sink, no_sleep):
    readers = make_subscribers(2)
    issue = approved_issue()
    sending.send_issue(issue.pk, rate=0)
    seen_ids = set()
    for reader in readers:
        (received,) = smtp_sink.handler.to(reader.email)
        msg = email.message_from_bytes(received.content, policy=email.policy.default)
        assert reader.unsubscribe_key in msg["List-Unsubscribe"]
        assert reader.unsubscribe_key in msg.get_body(("plain",)).get_content()
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        seen_ids.add(msg["Message-ID"])
        delivery = Delivery.objects.get(subscriber=reader)
        assert delivery.message_id == msg["Message-ID"]
    assert len(seen_ids) == 2


@override_settings(TOOLVERDICT_DIGEST_RETRY_BASE=0.01)
def test_transient_errors_are_retried_with_backoff(smtp_sink):
    (reader,) = make_subscribers(1)
    smtp_sink.handler.rcpt_replies[reader.email] = ["451 4.3.0 try later", "421 4.7.0 busy"]
    issue = approved_issue()
    report = sending.send_issue(issue.pk, rate=0)
    assert report.retried == 2 and report.sent == 1
    assert smtp_sink.handler.copies()[reader.email] == 1
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3 and delivery.status == Delivery.Status.SENT
    assert "421" in delivery.last_error


@override_settings(TOOLVERDICT_DIGEST_RETRY_BASE=30.0)
def test_backoff_doubles_and_is_capped():
    assert [sending.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30.0, 60.0, 120.0, 240.0]
    assert sending.backoff_seconds(20) == 3600.0


@override_settings(TOOLVERDICT_DIGEST_MAX_ATTEMPTS=2, TOOLVERDICT_DIGEST_RETRY_BASE=0.0)
def test_transient_errors_give_up_after_max_attempts(smtp_sink, no_sleep):
    (reader,) = make_subscribers(1)
    smtp_sink.handler.rcpt_replies[reader.email] = ["451 later"] * 5
    issue = approved_issue()
    report = sending.send_issue(issue.pk, rate=0)
    assert report.failed == 1
    assert statuses(issue) == {"failed": 1}
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.CONFIRMED  # not a bounce


def test_permanent_failure_marks_the_subscriber_bounced(smtp_sink, no_sleep):
    good, bad = make_subscribers(2)
    smtp_sink.handler.rcpt_replies[bad.email] = ["550 5.1.1 no such user"]
    issue = approved_issue()
    report = sending.send_issue(issue.pk, rate=0)
    assert report.sent == 1 and report.bounced == 1
    bad.refresh_from_db()
    assert bad.status == Subscriber.Status.BOUNCED
    assert "550" in bad.bounce_reason
    assert smtp_sink.handler.copies() == {good.email: 1}
    # A bounced address is not in the next issue.
    nxt = approved_issue(week=49)
    sending.send_issue(nxt.pk, rate=0)
    assert not Delivery.objects.filter(issue=nxt, subscriber=bad).exists()


def test_unsubscribed_after_rows_were_made_is_skipped(smtp_sink, no_sleep):
    a, b = make_subscribers(2)
    issue = approved_issue()
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    sending.materialize_deliveries(issue)
    Subscriber.objects.filter(pk=b.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    report = sending.send_issue(issue.pk, rate=0)
    assert report.skipped == 1
    assert smtp_sink.handler.copies() == {a.email: 1}


def test_rows_left_sending_by_a_dead_sender_are_never_resent(smtp_sink, no_sleep):
    a, b, c = make_subscribers(3)
    issue = approved_issue()
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    sending.materialize_deliveries(issue)
    Delivery.objects.filter(subscriber=b).update(status=Delivery.Status.SENDING, attempt_id="dead")
    report = sending.send_issue(issue.pk, rate=0)
    assert report.recovered_unknown == 1 and report.unknown == 1
    assert smtp_sink.handler.copies() == {a.email: 1, c.email: 1}
    assert Delivery.objects.get(subscriber=b).status == Delivery.Status.UNKNOWN
    # The operator checks the mail log and settles it; --resend sends it once.
    assert sending.resolve_unknown(issue, as_sent=False) == 1
    sending.send_issue(issue.pk, rate=0)
    assert smtp_sink.handler.copies() == {a.email: 1, b.email: 1, c.email: 1}


def held_by(issue: Issue, sender: str, *, ago: float = 0) -> None:
    """The issue sending, claimed by ``sender`` ``ago`` seconds ago."""
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SENDING,
        sender=sender,
        sending_since=timezone.now() - dt.timedelta(seconds=ago),
    )


def test_a_sender_on_a_live_worker_is_never_taken_over_however_long_it_runs(
    fast, smtp_sink, no_sleep
):
    """No lease to lapse: the worker's heartbeat says it lives, on whatever machine, and
    that is all a second sender asks."""
    make_subscribers(2)
    issue = approved_issue()
    worker("elsewhere", host="another-machine", beat_ago=0.5)
    task = running(send_issue_task, issue.pk, worker_id="elsewhere", started_ago=6 * 3600)
    held_by(issue, str(task.pk), ago=6 * 3600)

    report = sending.send_issue(issue.pk, rate=0)

    assert report.held_elsewhere and report.sent == 0
    assert smtp_sink.handler.copies() == {}
    issue.refresh_from_db()
    assert issue.sender == str(task.pk)
    # Nor does the weekly job queue another send beside it.
    assert not sending.resume_if_stalled(issue, now=timezone.now() + dt.timedelta(hours=1))


def test_a_dead_senders_issue_is_taken_over_at_once_wherever_it_ran(fast, smtp_sink, no_sleep):
    """Its worker on another machine stopped beating: taken over at once (claimed a second
    ago, no lease to wait out), its message in flight unknown, the rest sent once."""
    a, b, c = make_subscribers(3)
    issue = approved_issue()
    worker("gone", host="another-machine", beat_ago=10)  # STALE_AFTER is 3 s here
    task = running(send_issue_task, issue.pk, worker_id="gone")
    held_by(issue, str(task.pk), ago=1)
    sending.materialize_deliveries(issue)
    Delivery.objects.filter(subscriber=b).update(status=Delivery.Status.SENDING, attempt_id="x")

    report = sending.send_issue(issue.pk, rate=0)

    assert not report.held_elsewhere
    assert (report.sent, report.recovered_unknown, report.finished) == (2, 1, True)
    assert smtp_sink.handler.copies() == {a.email: 1, c.email: 1}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.sender == ""


def test_the_recovery_step_releases_a_dead_senders_claim_only(fast):
    """Its task goes back to the queue and the issue is free for it; a claim that another
    running send task holds (it took the issue over) is left alone."""
    issue = approved_issue()
    worker("gone", beat_ago=10)
    lost = running(send_issue_task, issue.pk, worker_id="gone")
    held_by(issue, str(lost.pk))
    assert recovery.recover_lost_tasks().requeued == 1
    assert DBTaskResult.objects.get(pk=lost.pk).status == TaskResultStatus.READY
    issue.refresh_from_db()
    assert (issue.sender, issue.sending_since, issue.status) == ("", None, Issue.Status.SENDING)

    DBTaskResult.objects.filter(pk=lost.pk).update(
        status=TaskResultStatus.RUNNING, worker_ids=["gone", "gone-too"]
    )
    worker("gone-too", beat_ago=10)
    worker("alive", beat_ago=0.5)
    taker = running(send_issue_task, issue.pk, worker_id="alive")
    held_by(issue, str(taker.pk))
    assert recovery.recover_lost_tasks().requeued == 1
    issue.refresh_from_db()
    assert issue.sender == str(taker.pk)


def test_a_sender_outside_any_task_is_presumed_alive_for_the_orphan_bound(
    fast, smtp_sink, no_sleep
):
    """send_issue called directly (or on a task backend other than the database's): no
    heartbeat vouches for it, so only TOOLVERDICT_TASK_ORPHAN_AFTER (1 h here) frees it."""
    (reader,) = make_subscribers(1)
    issue = approved_issue()
    held_by(issue, f"{recovery.UNTRACKED}someone", ago=3000)
    assert sending.send_issue(issue.pk, rate=0).held_elsewhere
    held_by(issue, f"{recovery.UNTRACKED}someone", ago=3700)
    assert sending.send_issue(issue.pk, rate=0).sent == 1
    assert smtp_sink.handler.copies() == {reader.email: 1}


def test_a_sender_that_finds_its_claim_gone_stops(smtp_sink, no_sleep, monkeypatch):
    make_subscribers(3)
    issue = approved_issue()
    real = sending.materialize_deliveries

    def then_taken_over(issue):
        made = real(issue)
        Issue.objects.filter(pk=issue.pk).update(sender=f"{recovery.UNTRACKED}other")
        return made

    monkeypatch.setattr(sending, "materialize_deliveries", then_taken_over)
    with pytest.raises(sending.SendAborted, match="took this issue over"):
        sending.send_issue(issue.pk, rate=0)
    assert smtp_sink.handler.copies() == {}
    assert Issue.objects.get(pk=issue.pk).sender == f"{recovery.UNTRACKED}other"  # not ours


def test_unreachable_server_aborts_without_touching_rows(no_sleep):
    make_subscribers(2)
    issue = approved_issue()
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
            TOOLVERDICT_DIGEST_MAX_ATTEMPTS=3,
        ),
        pytest.raises(sending.SendAborted),
    ):
        sending.send_issue(issue.pk, rate=0)
    assert statuses(issue) == {"pending": 2}
    assert len(no_sleep) == 2  # backed off between the three tries
    issue.refresh_from_db()
    assert issue.sender == ""  # released for the next run


def test_file_outbox_is_the_default_path(tmp_path, no_sleep):
    readers = make_subscribers(3)
    issue = approved_issue()
    with override_settings(
        EMAIL_BACKEND="toolverdict.mail.EmlFileBackend", EMAIL_FILE_PATH=str(tmp_path)
    ):
        sending.send_issue(issue.pk, rate=0)
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 3
    recipients = {
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"] for f in files
    }
    assert recipients == {r.email for r in readers}


def test_pacer_spaces_sends_at_the_configured_rate(monkeypatch):
    clock = [100.0]
    slept: list[float] = []

    def fake_sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(sending.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(sending, "sleep", fake_sleep)
    pacer = sending.Pacer(rate=4.0)
    for _ in range(9):
        pacer.wait()
    assert clock[0] - 100.0 == pytest.approx(2.0)  # 8 gaps of 0.25 s
    assert sending.Pacer(rate=0).interval == 0


class SilentAfterData(threading.Thread):
    """A minimal SMTP server that takes a whole message and then hangs up without a reply:
    the one case where the sender cannot know whether the mail was accepted."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.got_message = threading.Event()

    def run(self):
        conn, _ = self.sock.accept()
        f = conn.makefile("rb")
        conn.sendall(b"220 silent ESMTP\r\n")
        while line := f.readline():
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                conn.sendall(b"250 silent\r\n")
            elif cmd.startswith((b"MAIL", b"RCPT", b"RSET")):
                conn.sendall(b"250 OK\r\n")
            elif cmd == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                self.got_message.set()
                conn.close()
                return
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                conn.close()
                return


def test_no_reply_after_a_complete_message_is_unknown_and_not_retried(no_sleep):
    (reader,) = make_subscribers(1)
    server = SilentAfterData()
    server.start()
    issue = approved_issue()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
    ):
        report = sending.send_issue(issue.pk, rate=0)
    assert server.got_message.is_set()
    assert report.unknown == 1 and report.sent == 0 and report.retried == 0
    assert Delivery.objects.get().status == Delivery.Status.UNKNOWN
    assert Delivery.objects.get().attempts == 1


def test_transport_classifies_the_silent_hangup_as_ambiguous():
    server = SilentAfterData()
    server.start()
    with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port):
        transport = SmtpTransport()
    from django.core.mail import EmailMessage

    with pytest.raises(AmbiguousError):
        transport.send(EmailMessage("s", "b", "from@example.com", ["to@example.com"]))
