"""The JSON API returns the same figures as the pages, and a valid OpenAPI schema."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_tool_list_filters_by_category_and_search(client, starter_catalog):
    everything = client.get("/api/tools").json()
    assert len(everything) >= 22
    dev = client.get("/api/tools", {"category": "developer-tools"}).json()
    assert {"claude-4-sonnet", "smolvlm-2-5"} <= {t["slug"] for t in dev}
    assert all(t["category"] == "developer-tools" for t in dev)
    found = client.get("/api/tools", {"q": "anthropic"}).json()
    assert "claude-4-sonnet" in {t["slug"] for t in found}
    assert "smolvlm-2-5" not in {t["slug"] for t in found}


def test_tool_detail_has_sourced_facts_and_prices(client, starter_catalog):
    tool = client.get("/api/tools/claude-4-sonnet").json()
    assert tool["vendor"] == "Anthropic"
    assert tool["entry_price"] == "Paid"
    assert tool["context_window"] == 1_000_000
    assert all(f["source"].startswith("https://") for f in tool["facts"])
    assert {p["unit"] for p in tool["price_points"]} >= {"1M input tokens"}


def test_unknown_tool_is_404_json(client, starter_catalog):
    response = client.get("/api/tools/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "no tool 'nope'"}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_wrong_method_is_a_405_in_the_apis_json_shape(client, starter_catalog, method):
    response = getattr(client, method)("/api/tools/claude-4-sonnet")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": f"Method {method.upper()} is not allowed here; use GET."}
    assert client.get("/api/tools/claude-4-sonnet").status_code == 200


def test_a_wrong_method_outside_the_api_is_left_alone(client, starter_catalog):
    response = client.get("/votes/tool/claude-4-sonnet/")  # voting is POST only
    assert response.status_code == 405
    assert not response["Content-Type"].startswith("application/json")


def test_comparison_is_canonical_and_side_by_side(client, starter_catalog):
    data = client.get("/api/compare/smolvlm-2-5/claude-4-sonnet").json()
    assert data["url"] == "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
    assert [t["slug"] for t in data["tools"]] == ["claude-4-sonnet", "smolvlm-2-5"]
    assert data["title"].endswith("Which one should you ship with?")
    assert set(data["scorecard"]) == {"claude-4-sonnet", "smolvlm-2-5"}
    personas = [take["persona"] for take in data["scorecard"]["claude-4-sonnet"]]
    assert len(personas) == 4
    assert client.get("/api/compare/claude-4-sonnet/claude-4-sonnet").status_code == 404
    assert client.get("/api/compare/claude-4-sonnet/nope").status_code == 404


def test_openapi_schema_lists_the_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/tools", "/api/tools/{slug}", "/api/compare/{a}/{b}", "/api/categories"} <= set(
        schema["paths"]
    )


def _constrained(schema: dict) -> str | None:
    """A value the parameter's schema refuses, if it constrains the value at all."""
    for option in [schema, *schema.get("anyOf", [])]:
        if "enum" in option or option.get("type") in ("boolean", "integer", "number"):
            return "not-a-valid-value"
    return None


def test_every_answer_the_api_gives_for_a_refused_parameter_is_in_the_schema(
    client, starter_catalog
):
    schema = client.get("/api/openapi.json").json()
    probed = []
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                bad = parameter["in"] == "query" and _constrained(parameter["schema"])
                if not bad:
                    continue
                response = client.get(path, {parameter["name"]: bad})
                assert response.status_code == 422, (path, parameter["name"])
                assert set(response.json()) == {"detail"}
                documented = operation["responses"].get("422")
                assert documented, (path, "422 missing from the schema")
                ref = documented["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut")
                probed.append((path, parameter["name"]))
    assert ("/api/tools", "sort") in probed and ("/api/tools", "open_weights") in probed
