"""Subscriptions: address normalisation, double opt-in, unsubscribe.

Every public function here answers the same way whether or not an address is already
subscribed, so nothing a visitor sees reveals who is on the list.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Subscriber, new_key

log = logging.getLogger(__name__)

CONFIRM_SALT = "toolverdict.digest.confirm"
# The owner of an address gets at most one confirmation / notice mail per this many seconds,
# however often someone types their address into the box.
MAIL_COOLDOWN_SECONDS = 300

_validate = EmailValidator(message="Enter a valid email address.")


class InvalidAddress(ValueError):
    """The text is not a usable email address (the message says why)."""


def normalise_email(raw: str) -> str:
    """One canonical spelling per address: trimmed, lower-case, domain in IDNA (punycode).

    Rejects control characters and inner whitespace outright, which also rules out any
    attempt to smuggle a header ("a@b.c\\r\\nBcc: …") into a message.
    """
    if not isinstance(raw, str):
        raise InvalidAddress("Enter a valid email address.")
    text = raw.strip()
    if not text:
        raise InvalidAddress("Enter your email address.")
    if len(text) > 254:
        raise InvalidAddress("That address is too long.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidAddress("An email address cannot contain spaces or line breaks.")
    local, sep, domain = text.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidAddress("Enter a valid email address.")
    if not local.isascii():
        # Non-ASCII local parts need SMTPUTF8 end to end, which many servers lack.
        raise InvalidAddress("Use an address with a plain (ASCII) name before the @.")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidAddress("That email domain is not valid.") from exc
    address = f"{local}@{domain}".lower()
    try:
        _validate(address)
    except ValidationError as exc:
        raise InvalidAddress("Enter a valid email address.") from exc
    return address


# --- tokens ---------------------------------------------------------------------------


def confirmation_token(subscriber: Subscriber) -> str:
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    return signer.sign_object({"id": subscriber.pk, "n": subscriber.confirm_nonce}, compress=True)


class ConfirmOutcome(enum.Enum):
    VALID = "valid"  # a pending (or lapsed) subscription, ready to confirm
    CONFIRMED = "confirmed"
    ALREADY = "already"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass
class ConfirmCheck:
    outcome: ConfirmOutcome
    subscriber: Subscriber | None = None


def check_confirmation(token: str) -> ConfirmCheck:
    """What a confirmation link leads to, without changing anything."""
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        data = signer.unsign_object(
            token or "", max_age=settings.TOOLVERDICT_DIGEST_CONFIRM_MAX_AGE
        )
    except signing.SignatureExpired:
        return ConfirmCheck(ConfirmOutcome.EXPIRED)
    except (signing.BadSignature, ValueError, TypeError):
        return ConfirmCheck(ConfirmOutcome.INVALID)
    if not isinstance(data, dict):
        return ConfirmCheck(ConfirmOutcome.INVALID)
    subscriber = Subscriber.objects.filter(pk=data.get("id"), confirm_nonce=data.get("n")).first()
    if subscriber is None:
        return ConfirmCheck(ConfirmOutcome.INVALID)
    if subscriber.status == Subscriber.Status.CONFIRMED:
        return ConfirmCheck(ConfirmOutcome.ALREADY, subscriber)
    return ConfirmCheck(ConfirmOutcome.VALID, subscriber)


def confirm(token: str) -> ConfirmCheck:
    """Confirm the subscription a link names; idempotent (a second click says "already")."""
    check = check_confirmation(token)
    if check.outcome is not ConfirmOutcome.VALID:
        return check
    updated = Subscriber.objects.filter(
        pk=check.subscriber.pk, confirm_nonce=check.subscriber.confirm_nonce
    ).exclude(status=Subscriber.Status.CONFIRMED)
    now = timezone.now()
    if updated.update(status=Subscriber.Status.CONFIRMED, confirmed_at=now, bounce_reason="") == 0:
        return ConfirmCheck(ConfirmOutcome.ALREADY, check.subscriber)
    check.subscriber.refresh_from_db()
    return ConfirmCheck(ConfirmOutcome.CONFIRMED, check.subscriber)


# --- sign-up --------------------------------------------------------------------------


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(subscriber: Subscriber) -> str:
    return unsubscribe_url_for_key(subscriber.unsubscribe_key)


def unsubscribe_url_for_key(key: str) -> str:
    return absolute(reverse("digest:unsubscribe", args=[key]))


def request_subscription(raw_email: str) -> None:
    """Start a double opt-in for an address; raises InvalidAddress, returns nothing else.

    A new or lapsed address gets a confirmation link; an already confirmed one gets a
    short "you are already subscribed" note instead. Either way the caller learns
    nothing, and the mailbox owner is the only one told the truth.
    """
    email = normalise_email(raw_email)
    with transaction.atomic():
        try:
            with transaction.atomic():
                subscriber, _ = Subscriber.objects.get_or_create(email=email)
        except IntegrityError:  # a concurrent request created it first
            subscriber = Subscriber.objects.get(email=email)
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        now = timezone.now()
        last = subscriber.confirmation_sent_at
        if last and (now - last).total_seconds() < MAIL_COOLDOWN_SECONDS:
            return
        previous_nonce = subscriber.confirm_nonce
        if subscriber.status != Subscriber.Status.CONFIRMED:
            # A fresh nonce: only the newest confirmation link works.
            subscriber.confirm_nonce = new_key()
        # The stamp is claimed before sending (under the row lock) so concurrent requests
        # send one mail, not one each; it is given back below if the mail does not go.
        subscriber.confirmation_sent_at = now
        subscriber.save(update_fields=["confirm_nonce", "confirmation_sent_at"])
    try:
        send_subscription_mail(subscriber)
    except Exception:
        # Nothing reached the mailbox: without this a retry within the cooldown would be
        # answered "sent" and send nothing, and the last link that did arrive would die.
        # Only our own claim is undone, never a newer request's.
        Subscriber.objects.filter(pk=subscriber.pk, confirmation_sent_at=now).update(
            confirmation_sent_at=last, confirm_nonce=previous_nonce
        )
        raise


def send_subscription_mail(subscriber: Subscriber) -> None:
    already = subscriber.status == Subscriber.Status.CONFIRMED
    context = {
        "already": already,
        "confirm_url": absolute(reverse("digest:confirm"))
        + "?token="
        + confirmation_token(subscriber),
        "unsubscribe_url": unsubscribe_url(subscriber),
        "max_age_days": max(1, settings.TOOLVERDICT_DIGEST_CONFIRM_MAX_AGE // 86400),
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
    }
    subject = (
        "You are already subscribed to Weekly AI Tool Verdicts"
        if already
        else "Confirm your subscription to Weekly AI Tool Verdicts"
    )
    text = render_to_string("digest/email/subscription.txt", context)
    html = render_to_string("digest/email/subscription.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [subscriber.email])
    message.attach_alternative(html, "text/html")
    message.send()


def unsubscribe(key: str) -> Subscriber | None:
    """Unsubscribe the owner of an unsubscribe key; idempotent; None for an unknown key."""
    subscriber = Subscriber.objects.filter(unsubscribe_key=key).first() if key else None
    if subscriber is None:
        return None
    if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
        Subscriber.objects.filter(pk=subscriber.pk).update(
            status=Subscriber.Status.UNSUBSCRIBED,
            unsubscribed_at=timezone.now(),
            confirm_nonce=new_key(),  # old confirmation links stop working
        )
        subscriber.refresh_from_db()
    return subscriber


def subscriber_for_key(key: str) -> Subscriber | None:
    return Subscriber.objects.filter(unsubscribe_key=key).first() if key else None


UNCONFIRMED_RETENTION_DAYS = 30


def prune_unconfirmed(now=None) -> int:
    """Forget addresses that never confirmed within 30 days: we keep no list of strangers."""
    from datetime import timedelta

    now = now or timezone.now()
    cutoff = now - timedelta(days=UNCONFIRMED_RETENTION_DAYS)
    stale = Subscriber.objects.filter(
        status=Subscriber.Status.PENDING, confirmed_at__isnull=True, created_at__lt=cutoff
    )
    deleted, _ = stale.delete()
    return deleted
