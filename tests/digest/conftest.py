"""Digest test helpers: a real SMTP sink on loopback (aiosmtpd), tools and subscribers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from toolverdict.catalog.models import Category, Tool
from toolverdict.digest import sending
from toolverdict.digest.models import Subscriber


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


@dataclass
class SinkHandler:
    """Records every accepted message; replies can be scripted per recipient."""

    received: list[Received] = field(default_factory=list)
    # address -> list of replies to give to RCPT TO, consumed in order (then "250 OK").
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    # Called with the number of messages stored so far, before the 250 reply is sent.
    after_data: Callable[[int], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            replies = self.rcpt_replies.get(address)
            reply = replies.pop(0) if replies else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
            count = len(self.received)
        if self.after_data is not None:
            self.after_data(count)
        return "250 Message accepted for delivery"

    def copies(self) -> Counter:
        with self.lock:
            return Counter(rcpt for r in self.received for rcpt in r.rcpt_tos)

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sink:
    handler: SinkHandler
    port: int

    @property
    def smtp_settings(self) -> dict:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """A real aiosmtpd server on 127.0.0.1, and Django's SMTP settings pointed at it."""
    handler = SinkHandler()
    for _ in range(5):  # the free port may be taken between probe and bind; try again
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        break
    else:  # pragma: no cover
        pytest.fail("could not start the SMTP sink")
    sink = Sink(handler, port)
    try:
        with override_settings(**sink.smtp_settings):
            yield sink
    finally:
        controller.stop()


@pytest.fixture
def no_sleep(monkeypatch) -> list[float]:
    """Backoff and pacing sleeps recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(sending, "sleep", slept.append)
    return slept


def make_tool(
    slug: str, *, category: str = "coding-agents", created: dt.datetime | None = None, **kw
) -> Tool:
    cat, _ = Category.objects.get_or_create(slug=category, defaults={"name": category.title()})
    fields = {
        "name": slug.replace("-", " ").title(),
        "vendor": "Acme",
        "tagline": f"The {slug} tool.",
        "homepage": f"https://{slug}.example.com/",
        "pricing": "freemium",
    }
    fields.update(kw)
    tool = Tool.objects.create(slug=slug, category=cat, **fields)
    if created is not None:
        # A tool made visible on creation was published then; a hidden one not yet.
        Tool.objects.filter(pk=tool.pk).update(
            created_at=created, published_at=created if tool.is_published else None
        )
        tool.refresh_from_db()
    return tool


def make_subscribers(
    count: int, status: str = Subscriber.Status.CONFIRMED, prefix: str = "reader"
) -> list[Subscriber]:
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"{prefix}{i}@example.com", status=status, confirmed_at=now)
            for i in range(count)
        ]
    )
    return list(Subscriber.objects.filter(email__startswith=prefix).order_by("pk"))


# --- workers and their tasks, by hand (as tests/core/test_recovery.py makes them) ------


@pytest.fixture
def fast(fast_workers):
    """The database queue; heartbeats every second, a worker dead after three."""
    return fast_workers


def worker(worker_id: str, *, beat_ago: float = 0, host: str = "h", **fields):
    """A worker's heartbeat row, its last beat ``beat_ago`` seconds ago."""
    from toolverdict.core.models import WorkerHeartbeat

    at = timezone.now() - dt.timedelta(seconds=beat_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, host=host, pid=1, started_at=at, beat_at=at, **fields
    )


def running(task, *args, worker_id: str, started_ago: float = 1):
    """``task(*args)`` queued and claimed by ``worker_id``, as that worker would have."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    result = task.enqueue(*args)
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=started_ago),
        worker_ids=[worker_id],
    )
    return DBTaskResult.objects.get(pk=result.id)
