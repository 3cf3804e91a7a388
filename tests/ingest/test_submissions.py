"""Maker submissions: the public form, abuse limits, moderation, and what approval does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.signals import tools_changed
from toolverdict.core.net import client_hash
from toolverdict.ingest import submissions
from toolverdict.ingest.forms import parse_facts
from toolverdict.ingest.models import DailyComparison, Submission, SubmissionStatus

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict[str, str]:
    data = {
        "name": "Lintly",
        "vendor": "Lintly Labs",
        "homepage": "https://lintly.example/",
        "category": str(Category.objects.get(slug="developer-tools").pk),
        "pricing": "freemium",
        "tagline": "A linter that explains every warning in plain words",
        "description": "Lintly reads your code and explains each warning.",
        "facts_text": "Languages: Python and Go | https://lintly.example/docs\n"
        "Free tier: 3 repositories | https://lintly.example/pricing",
        "contact_email": "maker@lintly.example",
        "website": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("editor", password="pw", is_staff=True)


def test_the_form_renders_with_a_hidden_honeypot(client, starter_catalog):
    page = client.get(reverse("ingest:submit")).content.decode()
    assert 'name="website"' in page and 'class="visually-hidden"' in page
    assert "Facts with sources" in page


def test_a_valid_submission_waits_for_moderation(client, starter_catalog):
    response = client.post(reverse("ingest:submit"), form_data(), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302 and response.url == reverse("ingest:submit_thanks")
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.PENDING
    assert submission.facts == [
        {"key": "languages", "value": "Python and Go", "source": "https://lintly.example/docs"},
        {"key": "free_tier", "value": "3 repositories", "source": "https://lintly.example/pricing"},
    ]
    assert submission.client_hash == client_hash("198.51.100.7")
    assert "198.51.100.7" not in submission.client_hash
    assert not Tool.objects.filter(name="Lintly").exists()  # nothing public yet


def test_the_honeypot_stores_nothing(client, starter_catalog):
    response = client.post(reverse("ingest:submit"), form_data(website="http://spam.example"))
    assert response.status_code == 302
    assert Submission.objects.count() == 0


def test_submissions_per_address_are_rate_limited(client, starter_catalog):
    for n in range(5):
        response = client.post(
            reverse("ingest:submit"), form_data(name=f"Tool {n}"), REMOTE_ADDR="203.0.113.5"
        )
        assert response.status_code == 302
    response = client.post(
        reverse("ingest:submit"), form_data(name="Tool 6"), REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 429
    assert "Too many submissions" in response.content.decode()
    assert 'value="Tool 6"' in response.content.decode()  # the form again, nothing lost
    assert Submission.objects.count() == 5
    other = client.post(reverse("ingest:submit"), form_data(), REMOTE_ADDR="203.0.113.6")
    assert other.status_code == 302  # the limit is per address


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("homepage", "javascript:alert(1)", "Enter a valid URL"),
        ("homepage", "ftp://files.example/tool", "Only http:// or https:// addresses"),
        ("name", "x" * 81, "at most 80 characters"),
        ("tagline", "", "This field is required"),
        ("description", "d" * 1501, "at most 1500 characters"),
        ("facts_text", "Languages Python", "Label: value | https://source"),
        ("facts_text", "Languages: Python | javascript:alert(1)", "must be an http(s) address"),
        ("facts_text", "\n".join(f"K{i}: v | https://s.example/" for i in range(21)), "At most 20"),
        ("pricing", "priceless", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error_and_stores_nothing(
    client, starter_catalog, field, value, message
):
    response = client.post(reverse("ingest:submit"), form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Submission.objects.count() == 0


def test_facts_parser_normalises_labels():
    assert parse_facts("Context Window: 200k tokens | https://a.example/x") == [
        {"key": "context_window", "value": "200k tokens", "source": "https://a.example/x"}
    ]
    assert parse_facts("  \n") == []


def test_moderation_is_for_staff_only(client, starter_catalog, django_user_model):
    assert client.get(reverse("ingest:moderation")).status_code == 302
    user = django_user_model.objects.create_user("reader", password="pw")
    client.force_login(user)
    assert client.get(reverse("ingest:moderation")).status_code == 302
    submission = Submission.objects.create(
        name="X",
        vendor="Y",
        homepage="https://x.example/",
        category=Category.objects.first(),
        pricing="free",
        tagline="t",
    )
    url = reverse("ingest:moderate", args=[submission.pk, "approve"])
    assert client.post(url).status_code == 302
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING


def test_submitted_text_is_escaped_on_the_moderation_page(client, starter_catalog, staff):
    client.post(
        reverse("ingest:submit"),
        form_data(
            name="<script>alert(1)</script>",
            tagline='<img src=x onerror="alert(2)">',
            description="<b>bold</b>",
        ),
    )
    client.force_login(staff)
    page = client.get(reverse("ingest:moderation")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>bold</b>" not in page


def test_moderation_flags_a_possible_duplicate(client, starter_catalog, staff):
    client.post(reverse("ingest:submit"), form_data(name="Cursor", homepage="https://cursor.com/"))
    client.force_login(staff)
    page = client.get(reverse("ingest:moderation")).content.decode()
    assert "Possible duplicate of" in page and 'href="/tools/cursor/"' in page


def test_submission_to_published_tool_with_panel_and_comparison(
    client, starter_catalog, staff, fake_panel, immediate_tasks, django_capture_on_commit_callbacks
):
    client.post(reverse("ingest:submit"), form_data())
    submission = Submission.objects.get()
    client.force_login(staff)
    signals = []

    def listener(sender, tool_ids, reason, **kwargs):
        signals.append((reason, list(tool_ids)))

    tools_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("ingest:moderate", args=[submission.pk, "approve"]))
    finally:
        tools_changed.disconnect(listener)
    assert response.status_code == 302
    submission.refresh_from_db()
    tool = submission.tool
    assert submission.status == SubmissionStatus.APPROVED and submission.moderator == staff
    assert (tool.slug, tool.is_published, tool.category.slug) == ("lintly", True, "developer-tools")
    assert [f.key for f in tool.facts.all()] == ["languages", "free_tier"]
    assert ("submission", [tool.pk]) in signals
    # The follow-up task ran the panel on the tool and chose its comparison.
    assert [tool.pk] in fake_panel.calls
    pair = DailyComparison.objects.get(tool=tool)
    assert pair.source == "submission" and pair.rival.category_id == tool.category_id
    page = client.get(pair.get_absolute_url())
    assert page.status_code == 200
    assert "Lintly" in page.content.decode() and pair.rival.name in page.content.decode()
    assert client.get(tool.get_absolute_url()).status_code == 200


def test_approving_twice_or_after_rejection_is_refused(starter_catalog, staff, fake_panel):
    submission = Submission.objects.create(
        name="Twice",
        vendor="V",
        homepage="https://twice.example/",
        category=Category.objects.get(slug="developer-tools"),
        pricing="free",
        tagline="Once",
    )
    submissions.approve_submission(submission, staff)
    with pytest.raises(submissions.ModerationError, match="already approved"):
        submissions.approve_submission(submission, staff)
    with pytest.raises(submissions.ModerationError, match="only a pending"):
        submissions.reject_submission(submission, staff)
    assert Tool.objects.filter(name="Twice").count() == 1


def test_reject_keeps_the_catalog_unchanged(client, starter_catalog, staff):
    client.post(reverse("ingest:submit"), form_data())
    submission = Submission.objects.get()
    tools = Tool.objects.count()
    client.force_login(staff)
    client.post(
        reverse("ingest:moderate", args=[submission.pk, "reject"]), {"note": "not an AI tool"}
    )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REJECTED
    assert submission.moderation_note == "not an AI tool"
    assert Tool.objects.count() == tools


def test_an_edit_that_breaks_the_schema_blocks_approval(starter_catalog, staff):
    submission = Submission.objects.create(
        name="Edited",
        vendor="V",
        homepage="https://edited.example/",
        category=Category.objects.get(slug="developer-tools"),
        pricing="free",
        tagline="Ok",
        facts=[{"key": "Bad Key", "value": "v", "source": "https://s.example/"}],
    )
    with pytest.raises(submissions.ModerationError, match="facts.0.key"):
        submissions.approve_submission(submission, staff)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING
    assert not Tool.objects.filter(name="Edited").exists()


def test_admin_actions_approve_and_reject(client, starter_catalog, fake_panel, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    category = Category.objects.get(slug="developer-tools")
    a = Submission.objects.create(
        name="Alpha Tool",
        vendor="V",
        homepage="https://alpha.example/",
        category=category,
        pricing="free",
        tagline="A",
    )
    b = Submission.objects.create(
        name="Beta Tool",
        vendor="V",
        homepage="https://beta.example/",
        category=category,
        pricing="free",
        tagline="B",
    )
    client.force_login(admin_user)
    url = reverse("admin:ingest_submission_changelist")
    client.post(url, {"action": "approve", "_selected_action": [a.pk]})
    client.post(url, {"action": "reject", "_selected_action": [b.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED)
    assert a.tool.name == "Alpha Tool"


@pytest.mark.parametrize(
    "name",
    [
        "admin:ingest_feed_changelist",
        "admin:ingest_feed_add",
        "admin:ingest_feedentry_changelist",
        "admin:ingest_candidate_changelist",
        "admin:ingest_submission_changelist",
        "admin:ingest_pipelinerun_changelist",
    ],
)
def test_admin_pages_open(client, starter_catalog, django_user_model, name):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    assert client.get(reverse(name)).status_code == 200
