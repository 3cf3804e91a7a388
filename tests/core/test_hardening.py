"""Security hardening: the secret key, the admin sign-in throttle, Content-Security-Policy."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from toolverdict.core import secret_key
from toolverdict.core.checks import check_secret_key

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = next(iter(secret_key.PUBLISHED_KEYS))
GOOD_KEY = "x7#kq2-production-secret-" + "a9Zb" * 12


# --- 1. the secret key --------------------------------------------------------------------


def test_generated_key_is_owner_only_and_reused(tmp_path):
    data_dir = tmp_path / "data"  # not there yet: created on first use
    first = secret_key.load_or_create(data_dir)
    path = data_dir / secret_key.KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key.weakness(first) is None
    assert len(first) >= 50
    assert secret_key.load_or_create(data_dir) == first
    assert secret_key.load_or_create(tmp_path / "elsewhere") != first
    assert [p.name for p in data_dir.iterdir()] == [secret_key.KEY_FILE_NAME]  # no temp files


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(secret_key.load_or_create(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / secret_key.KEY_FILE_NAME).read_text().strip() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == [secret_key.KEY_FILE_NAME]


def test_a_weak_stored_key_is_refused(tmp_path):
    (tmp_path / secret_key.KEY_FILE_NAME).write_text(PUBLISHED)
    with pytest.raises(secret_key.SecretKeyError, match="published development key"):
        secret_key.load_or_create(tmp_path)


def _settings_key(data_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOOLVERDICT_"))}
    env.update({"TOOLVERDICT_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT / "src"), **extra})
    code = "import toolverdict.settings as s; print(s.SECRET_KEY)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_settings_without_a_configured_key_reuse_the_generated_one(tmp_path):
    first, second = _settings_key(tmp_path), _settings_key(tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    key = first.stdout.strip()
    assert key == second.stdout.strip()
    assert key not in secret_key.PUBLISHED_KEYS
    assert (tmp_path / secret_key.KEY_FILE_NAME).read_text().strip() == key


def test_settings_refuse_the_published_development_key(tmp_path):
    result = _settings_key(tmp_path, DJANGO_SECRET_KEY=PUBLISHED)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "published development key" in result.stderr
    assert PUBLISHED not in result.stdout


def test_configured_key_wins_and_no_file_is_written(tmp_path):
    result = _settings_key(tmp_path, DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_KEY
    assert not (tmp_path / secret_key.KEY_FILE_NAME).exists()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (PUBLISHED, "published development key"),
        ("django-insecure-" + "k3y" * 20, "django-insecure-"),
        ("short-but-random-9f8e7d", "shorter than 50"),
        ("ab" * 40, "fewer than 5 distinct"),
    ],
)
def test_deploy_check_errors_on_a_weak_key(settings, key, reason):
    settings.SECRET_KEY = key
    errors = check_secret_key()
    assert [e.id for e in errors] == ["toolverdict.E001"]
    assert errors[0].is_serious()  # Error level: fails check --deploy
    assert reason in errors[0].msg


def test_deploy_check_errors_on_a_published_fallback_key(settings):
    settings.SECRET_KEY = GOOD_KEY
    settings.SECRET_KEY_FALLBACKS = [PUBLISHED]
    errors = check_secret_key()
    assert [e.id for e in errors] == ["toolverdict.E001"]
    assert errors[0].msg.startswith("SECRET_KEY_FALLBACKS[0]")


def test_check_deploy_command_fails_on_the_development_key(settings):
    settings.SECRET_KEY = PUBLISHED
    with pytest.raises(SystemCheckError, match="toolverdict.E001"):
        call_command("check", deploy=True, stdout=io.StringIO(), stderr=io.StringIO())
    settings.SECRET_KEY = GOOD_KEY
    assert check_secret_key() == []


# --- 2. the admin sign-in throttle ----------------------------------------------------------

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def editor(db):
    cache.clear()
    yield get_user_model().objects.create_superuser("editor", "editor@example.com", PASSWORD)
    cache.clear()


def sign_in(client, password: str, ip: str, username: str = "editor", **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        **extra,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_block_the_sixth_attempt_even_with_the_right_password(client, editor):
    for _ in range(5):
        response = sign_in(client, "wrong-password", "203.0.113.7")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    with mock.patch.object(ModelBackend, "authenticate", autospec=True) as backend:
        blocked = sign_in(client, PASSWORD, "203.0.113.7")
    assert blocked.status_code == 429
    backend.assert_not_called()  # the password was never checked
    assert not signed_in(client)
    assert int(blocked["Retry-After"]) >= 60
    body = blocked.content.decode()
    assert "Too many attempts" in body
    assert 'class="site-header"' in body  # the site's page, not a bare error


def test_another_address_is_not_blocked(client, editor):
    for _ in range(5):
        sign_in(client, "wrong-password", "203.0.113.7")
    assert sign_in(client, PASSWORD, "203.0.113.7").status_code == 429
    response = sign_in(client, PASSWORD, "198.51.100.20")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in(client)


def test_four_failures_then_the_right_password_signs_in(client, editor):
    for _ in range(4):
        sign_in(client, "wrong-password", "203.0.113.7")
    assert sign_in(client, PASSWORD, "203.0.113.7").status_code == 302
    assert signed_in(client)


def test_one_username_guessed_from_many_addresses_is_blocked(client, editor, settings):
    settings.TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT = "3/900"
    for i in range(3):
        assert sign_in(client, "wrong-password", f"192.0.2.{i + 1}").status_code == 200
    assert sign_in(client, PASSWORD, "192.0.2.99", username="Editor ").status_code == 429
    assert not signed_in(client)


def test_forged_forwarded_entries_do_not_reset_the_count(client, editor, settings):
    settings.TOOLVERDICT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for i in range(5):
        sign_in(
            client,
            "wrong-password",
            "10.0.0.1",
            username=f"user{i}",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.7",
        )
    response = sign_in(client, PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")
    assert response.status_code == 429


def test_get_of_the_login_page_is_never_blocked(client, editor):
    for _ in range(6):
        sign_in(client, "wrong-password", "203.0.113.7")
    assert client.get("/admin/login/", REMOTE_ADDR="203.0.113.7").status_code == 200


# --- 3. Content-Security-Policy ------------------------------------------------------------


class _ScriptAudit(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' for scripts would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts = 0
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            self.scripts += 1
            executable = attributes.get("type") in (None, "", "text/javascript", "module")
            self._in_inline_script = (
                executable and not attributes.get("src") and "nonce" not in attributes
            )

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")


def csp_pages() -> list[str]:
    return [
        "/",
        reverse("catalog:tool", args=["claude-4-sonnet"]),
        reverse("compare:pair", args=["claude-4-sonnet", "smolvlm-2-5"]),
        "/search/?q=claude",
    ]


@pytest.mark.django_db
def test_pages_carry_the_policy_and_have_no_inline_script(client, starter_catalog, settings):
    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # so there are scripts to audit
    for url in csp_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert policy == settings.TOOLVERDICT_CSP
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"  # no inline or eval'd script
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'self'"
        assert directives["form-action"] == "'self'"
        audit = _ScriptAudit()
        audit.feed(response.content.decode())
        assert audit.scripts >= 1, url  # htmx, from /static/
        assert audit.problems == [], (url, audit.problems)


@pytest.mark.django_db
def test_error_and_admin_pages_carry_the_policy(client, settings):
    assert client.get("/no-such-page/")["Content-Security-Policy"] == settings.TOOLVERDICT_CSP
    assert client.get("/admin/login/")["Content-Security-Policy"] == settings.TOOLVERDICT_CSP


@pytest.mark.django_db
def test_api_responses_get_the_closed_policy(client, starter_catalog):
    response = client.get("/api/tools")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_empty_setting_sends_no_header(client, settings):
    settings.TOOLVERDICT_CSP = ""
    settings.TOOLVERDICT_CSP_NON_HTML = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


# --- 6. NUL in an address -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/tools/%00",
        "/api/compare/%00/claude-4-sonnet",
        "/api/compare/claude-4-sonnet/a%00",
        "/digest/unsubscribe/%00/",
        "/tools/%00/",
    ],
)
def test_nul_in_a_path_is_a_404_not_a_database_error(client, starter_catalog, url):
    # On PostgreSQL these reached the database and failed with a 500 before.
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
