"""Sign-in by emailed one-time link, sign-out by POST, and the profile page."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from toolverdict.community.models import Member
from toolverdict.community.votes import cast_pair_vote, cast_tool_vote

from .conftest import create_member

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/accounts/login/link/\?\S+")


def request_link(client: Client, email: str, next_url: str = "") -> str:
    response = client.post(reverse("community:login"), {"email": email, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("community:login_sent")
    return LINK.search(mail.outbox[-1].body).group(0)


def test_sign_in_by_emailed_link(tools):
    client = Client()
    page = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
    link = request_link(client, "New.Reader@Example.com ", page)
    assert mail.outbox[-1].to == ["new.reader@example.com"]
    user = get_user_model().objects.get(email="new.reader@example.com")
    assert not user.has_usable_password()
    assert Member.objects.get(user=user).email_confirmed_at is None

    # Opening the link shows a button; only the POST signs in (mail scanners GET links).
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "Sign in as new.reader@example.com?" in confirm.content.decode()
    assert "_auth_user_id" not in client.session

    token = re.search(r'name="sesame" value="([^"]+)"', confirm.content.decode()).group(1)
    response = client.post(
        reverse("community:login_link"),
        {"sesame": token, "next": "/compare/claude-4-sonnet-vs-smolvlm-2-5/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Member.objects.get(user=user).email_confirmed_at is not None

    # The link works once.
    again = Client().post(reverse("community:login_link"), {"sesame": token})
    assert again.status_code == 400


def test_a_forged_token_is_refused(db):
    response = Client().get(reverse("community:login_link"), {"sesame": "x" * 30})
    assert response.status_code == 400
    assert "no longer works" in response.content.decode()


def test_same_answer_for_known_and_unknown_addresses(db):
    create_member("known@example.com")
    first = Client().post(reverse("community:login"), {"email": "known@example.com"})
    second = Client().post(reverse("community:login"), {"email": "unknown@example.com"})
    assert first["Location"] == second["Location"]
    assert len(mail.outbox) == 2


def test_bad_email_gets_a_clear_error_and_creates_nothing(db):
    response = Client().post(reverse("community:login"), {"email": "not-an-email"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not get_user_model().objects.exists()
    assert mail.outbox == []


def test_sign_in_emails_are_rate_limited_per_address(settings, db):
    settings.TOOLVERDICT_RATE_LIMITS = {
        **settings.TOOLVERDICT_RATE_LIMITS,
        "signin_email": "2/3600",
    }
    client = Client()
    for _ in range(2):
        client.post(reverse("community:login"), {"email": "flood@example.com"})
    response = client.post(reverse("community:login"), {"email": "flood@example.com"})
    assert response.status_code == 429
    assert len(mail.outbox) == 2


def test_sign_out_is_a_post(member_client):
    assert member_client.get(reverse("community:logout")).status_code == 405
    assert "_auth_user_id" in member_client.session
    response = member_client.post(reverse("community:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in member_client.session


def test_header_shows_sign_in_or_account_links(member_client, db):
    anonymous = Client().get(reverse("community:rankings")).content.decode()
    assert 'href="/accounts/login/?next=/rankings/"' in anonymous
    signed_in = member_client.get(reverse("community:rankings")).content.decode()
    assert 'href="/accounts/me/">My votes</a>' in signed_in
    assert 'action="/accounts/logout/"' in signed_in


def test_profile_lists_my_votes(member, member_client, tools):
    cast_tool_vote(member, tools["cursor"], "ship")
    cast_pair_vote(member, tools["aider"], tools["cursor"], tools["aider"])
    other = create_member("other@example.com")
    cast_tool_vote(other, tools["gpt-4o"], "skip")
    body = member_client.get(reverse("community:profile")).content.decode()
    assert "Cursor" in body and "Ship" in body
    assert "Aider vs Cursor" in body
    assert "GPT-4o" not in body
    assert "Your votes count in the community figures." in body


def test_profile_says_when_a_new_account_starts_counting(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 24
    from datetime import timedelta

    user = create_member("young@example.com", joined_ago=timedelta(hours=2))
    client = Client()
    client.force_login(user)
    body = client.get(reverse("community:profile")).content.decode()
    assert "count in the figures from" in body


def test_profile_needs_sign_in(db):
    response = Client().get(reverse("community:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.integration
def test_sign_in_link_over_real_smtp(settings, db):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Collect(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    controller = Controller(Collect(message_class=None), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_USE_TLS = False
        response = Client().post(reverse("community:login"), {"email": "smtp@example.com"})
        assert response.status_code == 302
    finally:
        controller.stop()
    assert len(received) == 1
    parsed = message_from_bytes(received[0].as_bytes())
    assert parsed["To"] == "smtp@example.com"
    link = LINK.search(parsed.get_payload(decode=True).decode()).group(0)
    assert Client().get(link).status_code == 200


def test_sign_in_link_is_on_site_url_whatever_the_host_header(settings, db):
    settings.SITE_URL = "https://toolverdict.example"
    settings.ALLOWED_HOSTS = ["toolverdict.example", "attacker.example"]
    response = Client().post(
        reverse("community:login"),
        {"email": "reader@example.com", "next": "https://attacker.example/phish"},
        HTTP_HOST="attacker.example",
    )
    assert response.status_code == 302
    body = mail.outbox[-1].body
    link = LINK.search(body).group(0)
    assert link.startswith("https://toolverdict.example/accounts/login/link/?")
    assert "attacker.example" not in body  # neither the link's host nor its "next"


def test_sign_in_link_keeps_a_next_path_on_the_site(settings, db):
    settings.SITE_URL = "https://toolverdict.example"
    settings.ALLOWED_HOSTS = ["toolverdict.example", "attacker.example"]
    Client().post(
        reverse("community:login"),
        {"email": "reader@example.com", "next": "/compare/a-vs-b/"},
        HTTP_HOST="attacker.example",
    )
    link = LINK.search(mail.outbox[-1].body).group(0)
    assert "next=%2Fcompare%2Fa-vs-b%2F" in link
