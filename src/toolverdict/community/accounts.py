"""Sign-in by emailed link (django-sesame tokens), and the member record behind it.

The link opens a page with a "Sign in" button rather than signing in on GET: mail
scanners that prefetch links would otherwise spend the one-time token. The token is
scoped, expires after SESAME_MAX_AGE seconds and dies at the first sign-in
(SESAME_ONE_TIME), because signing in updates ``last_login``, which the token covers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from sesame.utils import get_token, get_user

from .models import Member

SIGN_IN_SCOPE = "community:sign-in"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_for_email(email: str) -> AbstractBaseUser:
    """The account for an address, created (unconfirmed, without a password) if new."""
    email = normalise_email(email)
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=email, defaults={"email": email})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Member.objects.get_or_create(user=user)
    return user


def send_sign_in_link(email: str, link_base: str, next_url: str = "") -> None:
    """Email a one-time sign-in link. ``link_base`` is the absolute URL of the link page."""
    user = account_for_email(email)
    query = {settings.SESAME_TOKEN_NAME: get_token(user, scope=SIGN_IN_SCOPE)}
    if next_url:
        query["next"] = next_url
    link = f"{link_base}?{urlencode(query)}"
    minutes = max(1, int(settings.SESAME_MAX_AGE) // 60)
    context = {"link": link, "minutes": minutes, "site_name": settings.SITE_NAME}
    send_mail(
        subject=f"Your {settings.SITE_NAME} sign-in link",
        message=render_to_string("community/email/sign_in.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def user_for_token(token: str) -> AbstractBaseUser | None:
    """The account a still-valid sign-in token names, without spending the token."""
    if not token:
        return None
    return get_user(token, scope=SIGN_IN_SCOPE, update_last_login=False)


def confirm_email(user: AbstractBaseUser) -> Member:
    """Following the emailed link proves the address: record that once."""
    member, _ = Member.objects.get_or_create(user=user)
    if member.email_confirmed_at is None:
        member.email_confirmed_at = timezone.now()
        member.save(update_fields=["email_confirmed_at"])
    return member
