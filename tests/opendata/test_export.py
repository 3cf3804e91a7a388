"""The open-data dump: its content, no per-account data, JSON/CSV parity, atomic writes,
the round trip through the importer, the /data/ page and its files."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from toolverdict.catalog.file_format import CatalogFile
from toolverdict.catalog.importer import import_catalog
from toolverdict.catalog.models import Fact, Source, Tool
from toolverdict.community.models import Member, PairVote, ToolVote
from toolverdict.opendata import export
from toolverdict.opendata.periodic import tick as export_tick
from toolverdict.panel.models import Claim, Review

pytestmark = pytest.mark.django_db

VOTER = "private.voter@example.com"


@pytest.fixture
def content(starter_catalog, settings):
    """The starter catalog with one checked source, a review with a claim and votes."""
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 2
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    claude, smol = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="smolvlm-2-5")
    fact = claude.facts.first()
    Source.objects.create(
        url=fact.source_url,
        checked_at=timezone.now(),
        last_ok_at=timezone.now(),
        outcome="ok",
        http_status=200,
        final_url=fact.source_url,
        content_sha256="ab" * 32,
    )
    review = Review.objects.create(
        tool=claude,
        persona="builder",
        persona_name="Builder",
        status=Review.Status.PUBLISHED,
        verdict="ship",
        reason="Reads whole repositories",
        support_rate=1.0,
        model_id="test:hand",
        prompt_version="v1",
        dossier_hash="h",
    )
    Claim.objects.create(
        review=review,
        kind="fact",
        text="1M tokens of context",
        evidence_ids=["E3"],
        support="supported",
    )
    Review.objects.create(
        tool=claude,
        persona="skeptic",
        persona_name="Skeptic",
        status=Review.Status.WITHHELD,
        reason="the model's own withheld text",
        model_id="test:hand",
        prompt_version="v1",
        dossier_hash="h",
    )
    for i, email in enumerate([VOTER, "second.voter@example.com"]):
        user = get_user_model().objects.create_user(username=email, email=email)
        user.date_joined = timezone.now() - timedelta(days=30)
        user.save(update_fields=["date_joined"])
        Member.objects.create(user=user, email_confirmed_at=timezone.now())
        now = timezone.now()
        ToolVote.objects.create(
            user=user,
            tool=claude,
            value="ship" if i == 0 else "skip",
            created_at=now,
            updated_at=now,
        )
        PairVote.objects.create(
            user=user, tool_a=claude, tool_b=smol, winner=claude, created_at=now, updated_at=now
        )
    return claude


def read_json(path: Path) -> dict:
    return json.loads((path / "data.json").read_text(encoding="utf-8"))


def read_csv(path: Path, table: str) -> list[dict[str, str]]:
    with (path / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_json_dump_holds_catalog_checks_reviews_and_vote_aggregates(content, tmp_path):
    path = export.write_dump(tmp_path, "json")
    data = read_json(path)
    assert data["schema_version"] == export.SCHEMA_VERSION
    assert "CC BY 4.0" in data["license"]["name"]
    tables = data["tables"]
    assert len(tables["tools"]) == Tool.objects.published().count()
    assert {c["slug"] for c in tables["categories"]} >= {"developer-tools"}
    claude_prices = [p for p in tables["price_points"] if p["tool"] == "claude-4-sonnet"]
    assert claude_prices[0]["amount"] == "3" and claude_prices[0]["currency"] == "USD"
    facts = [f for f in tables["facts"] if f["tool"] == "claude-4-sonnet"]
    assert facts[0]["check_state"] == "ok" and facts[0]["check_http_status"] == 200
    assert facts[0]["check_content_sha256"] == "ab" * 32
    assert facts[1]["check_state"] == "unchecked" and facts[1]["checked_at"] is None
    assert all(f["as_of"] is None for f in tables["facts"])
    # Published current reviews only: the withheld one's own text stays private.
    assert [(r["tool"], r["persona"], r["verdict"]) for r in tables["reviews"]] == [
        ("claude-4-sonnet", "builder", "ship")
    ]
    assert "withheld text" not in json.dumps(data)
    assert tables["claims"] == [
        {
            "tool": "claude-4-sonnet",
            "persona": "builder",
            "position": 0,
            "kind": "fact",
            "text": "1M tokens of context",
            "evidence_ids": ["E3"],
            "support": "supported",
        }
    ]
    votes = {v["tool"]: v for v in tables["tool_votes"]}
    assert votes["claude-4-sonnet"] == {
        "tool": "claude-4-sonnet",
        "votes": 2,
        "ship": 1,
        "skip": 1,
        "community_pct": 50,
    }
    assert tables["pair_votes"] == [
        {
            "tool_a": "claude-4-sonnet",
            "tool_b": "smolvlm-2-5",
            "votes": 2,
            "tool_a_votes": 2,
            "tool_b_votes": 0,
        }
    ]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["tables"]["tools"]["rows"] == len(tables["tools"])
    assert set(manifest["files"]) == {"data.json", "LICENSE.txt"}
    assert "CC BY 4.0" in (path / "LICENSE.txt").read_text()


def test_under_the_minimum_only_the_total_is_published(content, tmp_path, settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 5
    tables = read_json(export.write_dump(tmp_path, "json"))["tables"]
    votes = {v["tool"]: v for v in tables["tool_votes"]}
    assert votes["claude-4-sonnet"] == {
        "tool": "claude-4-sonnet",
        "votes": 2,
        "ship": None,
        "skip": None,
        "community_pct": None,
    }
    assert tables["pair_votes"][0]["tool_a_votes"] is None


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_no_per_account_data_leaves(content, tmp_path, fmt):
    path = export.write_dump(tmp_path, fmt)
    text = "\n".join(p.read_text(encoding="utf-8") for p in path.iterdir())
    assert VOTER not in text and "private.voter" not in text
    assert "second.voter" not in text
    user_ids = {str(pk) for pk in get_user_model().objects.values_list("pk", flat=True)}
    for table in ("tool_votes", "pair_votes"):
        assert "user" not in " ".join(export.TABLES[table])
    assert user_ids  # the accounts exist; only their aggregates are exported


def test_csv_and_json_carry_the_same_rows(content, tmp_path):
    now = timezone.now()
    json_dump = read_json(export.write_dump(tmp_path, "json", now))
    csv_path = export.write_dump(tmp_path, "csv", now)
    for table, columns in export.TABLES.items():
        rows = read_csv(csv_path, table)
        assert rows == [
            {c: export.csv_cell(row[c]) for c in columns} for row in json_dump["tables"][table]
        ], table
        with (csv_path / f"{table}.csv").open(encoding="utf-8") as handle:
            assert handle.readline().strip() == ",".join(columns)
    assert read_csv(csv_path, "claims")[0]["evidence_ids"] == "E3"


def test_the_dumped_catalog_imports_back_unchanged(content, tmp_path):
    tables = read_json(export.write_dump(tmp_path, "json"))["tables"]
    by_tool: dict[str, dict] = {}
    for t in tables["tools"]:
        by_tool[t["slug"]] = {
            k: v for k, v in t.items() if k not in ("url", "published_at") and v is not None
        } | {"price_points": [], "facts": []}
    for p in tables["price_points"]:
        by_tool[p["tool"]]["price_points"].append(
            {k: p[k] for k in ("tier", "amount", "currency", "unit", "source")}
        )
    for f in tables["facts"]:
        fact = {k: f[k] for k in ("key", "value", "source")}
        if f["as_of"]:
            fact["as_of"] = f["as_of"]
        by_tool[f["tool"]]["facts"].append(fact)
    catalog = CatalogFile.model_validate(
        {"categories": tables["categories"], "tools": list(by_tool.values())}
    )
    report = import_catalog(catalog)
    assert report.changed == []
    assert len(report.unchanged) == len(tables["tools"])


def test_a_failed_export_leaves_nothing_behind(content, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_write_tables", broken)
    with pytest.raises(export.ExportError, match="No space left"):
        export.write_dump(tmp_path, "csv")
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_a_dump_and_prints_its_path(content, tmp_path, capsys):
    call_command("export", "--format", "csv", str(tmp_path))
    printed = Path(capsys.readouterr().out.strip())
    assert printed.parent == tmp_path
    assert export.DUMP_NAME.match(printed.name)
    assert {p.name for p in printed.iterdir()} >= {"tools.csv", "facts.csv", "manifest.json"}


# --- the periodic job and the /data/ page -------------------------------------------------


def test_the_export_job_writes_both_formats_once_per_period(content, tmp_path, settings):
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path
    settings.TOOLVERDICT_EXPORT_EVERY_HOURS = 24
    settings.TOOLVERDICT_EXPORT_KEEP = 1
    now = timezone.now()
    assert export_tick(now).startswith("export: wrote toolverdict-json-")
    assert export_tick(now + timedelta(hours=1)) == "export: nothing due"
    assert export_tick(now + timedelta(hours=25)).startswith("export: wrote")
    assert sorted(fmt for fmt, _w, _p in export.dumps(tmp_path)) == ["csv", "json"]  # pruned


def test_the_data_page_links_the_latest_dump_and_serves_its_files(content, tmp_path, settings):
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path
    client = Client()
    assert "No dump has been written yet" in client.get("/data/").content.decode()
    export_tick()
    page = client.get("/data/").content.decode()
    latest = export.latest_dumps(tmp_path)
    link = f"/data/files/{latest['csv'].name}/tools.csv"
    assert link in page and "creativecommons.org/licenses/by/4.0" in page
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"slug,name,vendor")
    data = client.get(f"/data/files/{latest['json'].name}/data.json")
    assert json.loads(b"".join(data.streaming_content))["schema_version"] == "1.0"


def test_data_files_are_served_only_from_dumps(content, tmp_path, settings):
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path / "export"
    export.write_dump(settings.TOOLVERDICT_EXPORT_DIR, "json")
    (tmp_path / "secret.txt").write_text("not for readers")
    name = export.latest_dumps(settings.TOOLVERDICT_EXPORT_DIR)["json"].name
    client = Client()
    for url in (
        f"/data/files/{name}/..%2F..%2Fsecret.txt",
        f"/data/files/{name}/secret.txt",
        "/data/files/..%2F/secret.txt",
        f"/data/files/{name}/data.JSON",
        "/data/files/toolverdict-json-20990101T000000Z/data.json",
    ):
        assert client.get(url).status_code == 404, url


def test_the_api_reports_as_of_and_the_check_of_each_fact(content):
    data = Client().get("/api/tools/claude-4-sonnet").json()
    first, second = data["facts"][0], data["facts"][1]
    assert first["check"]["state"] == "ok" and first["check"]["label"] == "checked today"
    assert second["check"] == {
        "state": "unchecked",
        "label": "source cited, not yet checked",
        "checked_at": None,
    }
    assert first["as_of"] is None and "retrieved" not in first
    assert Fact.objects.filter(tool__slug="claude-4-sonnet").count() == len(data["facts"])
