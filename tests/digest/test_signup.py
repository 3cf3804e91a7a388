"""Sign-up, double opt-in and confirmation pages; nothing reveals who is subscribed."""

from __future__ import annotations

import pytest
from django.core import mail, signing
from django.db import IntegrityError
from django.test import override_settings
from django.urls import reverse

from toolverdict.digest import subscriptions
from toolverdict.digest.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()


def subscribe(client, address, **extra):
    return client.post(reverse("digest:subscribe"), {"email": address}, **extra)


def confirm_url_from(message) -> str:
    for line in message.body.splitlines():
        if "/digest/confirm/?token=" in line:
            return line.strip().split("testserver", 1)[-1].split("8000", 1)[-1]
    raise AssertionError("no confirmation link in the mail")


def token_from(message) -> str:
    return confirm_url_from(message).split("token=", 1)[1]


def test_signup_sends_one_confirmation_and_creates_a_pending_subscriber(client):
    response = subscribe(client, "Reader@Example.com")
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.com"
    assert subscriber.status == Subscriber.Status.PENDING
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.com"]
    assert "Confirm" in mail.outbox[0].subject
    assert "/digest/confirm/?token=" in mail.outbox[0].body


def test_same_address_twice_is_one_subscriber(client):
    subscribe(client, "reader@example.com")
    subscribe(client, "  READER@example.COM ")
    assert Subscriber.objects.count() == 1


def test_database_refuses_a_duplicate_row():
    Subscriber.objects.create(email="reader@example.com")
    with pytest.raises(IntegrityError):
        Subscriber.objects.create(email="reader@example.com")


def test_response_is_identical_for_new_pending_and_confirmed_addresses(client):
    Subscriber.objects.create(email="member@example.com", status=Subscriber.Status.CONFIRMED)
    Subscriber.objects.create(email="gone@example.com", status=Subscriber.Status.UNSUBSCRIBED)
    bodies = {
        address: (subscribe(client, address).status_code, subscribe(client, address).content)
        for address in ["new@example.com", "member@example.com", "gone@example.com"]
    }
    assert len(set(bodies.values())) == 1
    # Only the mailbox owner learns the truth: a confirmed member gets a notice, not a link.
    notice = next(m for m in mail.outbox if m.to == ["member@example.com"])
    assert "already subscribed" in notice.subject
    assert "/digest/confirm/" not in notice.body
    assert "/digest/unsubscribe/" in notice.body


def test_repeated_signups_do_not_mail_bomb_the_owner(client):
    for _ in range(4):
        subscribe(client, "reader@example.com")
    assert len(mail.outbox) == 1


def test_malformed_address_gets_a_clear_error_and_creates_nothing(client):
    response = subscribe(client, "not an address")
    assert response.status_code == 400
    assert b"cannot contain spaces" in response.content
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_header_injection_in_address_is_refused(client):
    response = subscribe(client, "reader@example.com\r\nBcc: victim@example.org")
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


@override_settings(TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR=3)
def test_signups_are_rate_limited_per_ip(client):
    for i in range(3):
        assert subscribe(client, f"r{i}@example.com").status_code == 200
    response = subscribe(client, "r9@example.com")
    assert response.status_code == 429
    assert b"Too many sign-ups" in response.content
    assert not Subscriber.objects.filter(email="r9@example.com").exists()
    # Another address (IP) still gets through.
    assert subscribe(client, "r8@example.com", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_htmx_signup_returns_just_the_box(client):
    response = subscribe(client, "reader@example.com", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<aside class="card signup"')


def test_confirm_link_shows_a_button_then_confirms_once(client):
    subscribe(client, "reader@example.com")
    token = token_from(mail.outbox[0])
    page = client.get(reverse("digest:confirm"), {"token": token})
    assert page.status_code == 200
    assert b"Confirm subscription" in page.content
    # Looking at the link (a mail scanner does) confirms nothing.
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING

    done = client.post(reverse("digest:confirm"), {"token": token})
    assert b"You&#x27;re subscribed" in done.content or b"You're subscribed" in done.content
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None

    again = client.post(reverse("digest:confirm"), {"token": token})
    assert b"Already confirmed" in again.content
    assert b"Already confirmed" in client.get(reverse("digest:confirm"), {"token": token}).content


def test_tampered_token_is_invalid(client):
    subscribe(client, "reader@example.com")
    token = token_from(mail.outbox[0])
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in [tampered, "", "garbage", token + "x"]:
        response = client.post(reverse("digest:confirm"), {"token": bad})
        assert response.status_code == 400
        assert b"not valid" in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_token_signed_for_another_purpose_is_invalid(client):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    forged = signing.TimestampSigner(salt="some.other.salt").sign_object(
        {"id": subscriber.pk, "n": subscriber.confirm_nonce}, compress=True
    )
    assert client.post(reverse("digest:confirm"), {"token": forged}).status_code == 400


def test_expired_token_gets_the_expired_page(client, monkeypatch):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 4 * 86400)
    old = subscriptions.confirmation_token(subscriber)
    monkeypatch.setattr(signing.time, "time", real_time)
    response = client.post(reverse("digest:confirm"), {"token": old})
    assert response.status_code == 410
    assert b"expired" in response.content
    assert b'name="email"' in response.content  # a fresh sign-up box is offered
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_only_the_newest_confirmation_link_works(client):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    first = subscriptions.confirmation_token(subscriber)
    Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=None)
    subscribe(client, "reader@example.com")
    assert client.post(reverse("digest:confirm"), {"token": first}).status_code == 400
    newest = token_from(mail.outbox[-1])
    assert client.post(reverse("digest:confirm"), {"token": newest}).status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_signup_box_is_on_home_and_compare_pages(client, starter_catalog):
    from toolverdict.catalog.services import suggested_pairs

    a, b = suggested_pairs(1)[0]
    for url in [
        reverse("catalog:home"),
        reverse("compare:pair", kwargs={"a": a.slug, "b": b.slug}),
    ]:
        response = client.get(url)
        html = response.content.decode()
        assert 'action="/digest/subscribe/"' in html
        # Token-free (same-origin checked instead), so the page sets no cookie.
        assert "csrfmiddlewaretoken" not in html
        assert "csrftoken" not in response.cookies


def test_a_failed_confirmation_mail_does_not_start_the_cooldown(client, smtp_sink):
    # The real SMTP server refuses the first delivery with a temporary error, once.
    smtp_sink.handler.rcpt_replies["reader@example.com"] = ["451 4.3.0 Try again later"]
    failed = subscribe(client, "reader@example.com")
    assert failed.status_code == 503
    assert smtp_sink.handler.to("reader@example.com") == []
    assert Subscriber.objects.get().confirmation_sent_at is None

    retried = subscribe(client, "reader@example.com")  # well within the cooldown
    assert retried.status_code == 200
    assert b"Check your inbox" in retried.content
    delivered = smtp_sink.handler.to("reader@example.com")
    assert len(delivered) == 1
    body = delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    token = next(line for line in body.splitlines() if "token=" in line).split("token=", 1)[1]
    assert (
        subscriptions.check_confirmation(token.strip()).outcome
        is subscriptions.ConfirmOutcome.VALID
    )

    # Once a mail did go out, the cooldown holds as before.
    assert subscribe(client, "reader@example.com").status_code == 200
    assert len(smtp_sink.handler.to("reader@example.com")) == 1


def test_a_failed_mail_keeps_the_link_that_did_arrive(client, smtp_sink):
    subscribe(client, "reader@example.com")
    first = smtp_sink.handler.to("reader@example.com")[0].message
    body = first.get_body(preferencelist=("plain",)).get_content()
    token = next(line for line in body.splitlines() if "token=" in line).split("token=", 1)[1]
    Subscriber.objects.update(confirmation_sent_at=None)  # the cooldown has passed
    smtp_sink.handler.rcpt_replies["reader@example.com"] = ["451 4.3.0 Try again later"]
    assert subscribe(client, "reader@example.com").status_code == 503
    assert (
        subscriptions.check_confirmation(token.strip()).outcome
        is subscriptions.ConfirmOutcome.VALID
    )


def test_a_cross_site_signup_is_refused_with_the_error_page(client):
    response = subscribe(client, "reader@example.com", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    body = response.content.decode()
    assert "<h1>Refused</h1>" in body and "Cross-site sign-ups are refused." in body
    assert not Subscriber.objects.exists()


@override_settings(TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR=0)
def test_a_refused_signup_keeps_the_typed_address_in_the_box(client):
    response = subscribe(client, "reader@example.com")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert 'value="reader@example.com"' in response.content.decode()
