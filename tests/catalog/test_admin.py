"""Editors manage the catalog in the admin; a saved tool is announced for re-review."""

from __future__ import annotations

import pytest

from toolverdict.catalog.models import Tool
from toolverdict.catalog.signals import tools_changed


@pytest.mark.django_db(transaction=True)
def test_admin_edit_saves_and_announces_the_tool(admin_client, starter_catalog):
    tool = Tool.objects.get(slug="smolvlm-2-5")
    seen = []

    def receiver(sender, tool_ids, reason, **kwargs):
        seen.append((tool_ids, reason))

    page = admin_client.get(f"/admin/catalog/tool/{tool.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "category": tool.category_id,
            "tagline": "Edited by an editor",
            "is_published": "on",
            "release_date": "",
            "context_window": "",
            "price_points-TOTAL_FORMS": "0",
            "price_points-INITIAL_FORMS": "0",
            "facts-TOTAL_FORMS": "0",
            "facts-INITIAL_FORMS": str(tool.facts.count()),
        }
    )
    for i, fact in enumerate(tool.facts.all()):
        data.update(
            {
                f"facts-{i}-id": fact.pk,
                f"facts-{i}-tool": tool.pk,
                f"facts-{i}-key": fact.key,
                f"facts-{i}-value": fact.value,
                f"facts-{i}-source_url": fact.source_url,
                f"facts-{i}-as_of": fact.as_of.isoformat() if fact.as_of else "",
                f"facts-{i}-position": fact.position,
            }
        )
    data["facts-TOTAL_FORMS"] = str(tool.facts.count())
    tools_changed.connect(receiver)
    try:
        response = admin_client.post(f"/admin/catalog/tool/{tool.pk}/change/", data)
    finally:
        tools_changed.disconnect(receiver)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tool.objects.get(pk=tool.pk).tagline == "Edited by an editor"
    assert seen == [([tool.pk], "admin")]


@pytest.mark.django_db
def test_admin_lists_and_searches_tools(admin_client, starter_catalog):
    response = admin_client.get("/admin/catalog/tool/", {"q": "anthropic"})
    assert response.status_code == 200
    assert "Claude 4 Sonnet" in response.content.decode()
    assert "SmolVLM 2.5" not in response.content.decode()


@pytest.mark.django_db
def test_admin_refuses_slugs_that_comparison_urls_cannot_route(admin_client, starter_catalog):
    category = Tool.objects.get(slug="claude-4-sonnet").category
    for bad in ("My_Tool", "alpha-vs-beta", "beta-vs"):
        response = admin_client.post(
            "/admin/catalog/tool/add/",
            {
                "slug": bad,
                "name": "Bad slug",
                "vendor": "V",
                "category": category.pk,
                "tagline": "t",
                "homepage": "https://example.com/",
                "pricing": "free",
                "price_points-TOTAL_FORMS": "0",
                "price_points-INITIAL_FORMS": "0",
                "facts-TOTAL_FORMS": "0",
                "facts-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 200, bad  # the form is shown again with an error
        assert "slug" in response.context["adminform"].form.errors, bad
    assert not Tool.objects.filter(name="Bad slug").exists()
    assert admin_client.get("/").status_code == 200


@pytest.mark.django_db
def test_unpublish_and_republish_stamps_published_at(starter_catalog):
    from toolverdict.catalog.services import set_published

    tool = Tool.objects.get(slug="smolvlm-2-5")
    assert tool.published_at is not None
    assert set_published([tool.pk], False) == 1
    tool.refresh_from_db()
    assert (tool.is_published, tool.published_at) == (False, None)
    assert set_published([tool.pk], False) == 0  # already hidden: nothing changes
    assert set_published([tool.pk], True) == 1
    tool.refresh_from_db()
    assert tool.is_published and tool.published_at > tool.created_at


@pytest.mark.django_db
def test_published_at_is_stamped_on_the_save_that_makes_a_tool_visible(starter_catalog):
    category = Tool.objects.first().category
    hidden = Tool.objects.create(
        slug="late-tool",
        name="Late",
        vendor="V",
        category=category,
        tagline="t",
        homepage="https://example.com/",
        pricing="free",
        is_published=False,
    )
    assert hidden.published_at is None
    hidden.is_published = True
    hidden.save()
    hidden.refresh_from_db()
    assert hidden.published_at is not None and hidden.published_at >= hidden.created_at
