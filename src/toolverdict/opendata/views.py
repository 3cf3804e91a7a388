"""The /data/ page (the newest dumps and their format) and the dumps' files."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from toolverdict.pagecache.registry import cached, not_cached

from .export import DUMP_NAME, FILE_NAME, SCHEMA_VERSION, TABLES, latest_dumps

CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


# The open-data page links the newest dumps: the export job bumps "data".
@cached("opendata:data", ["data"])
def data(request: HttpRequest) -> HttpResponse:
    """The open-data page: the newest dump of each format, and the format itself."""
    latest = []
    for fmt, path in sorted(latest_dumps(settings.TOOLVERDICT_EXPORT_DIR).items()):
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = sorted(manifest.get("files", {}))
        latest.append(
            {
                "format": fmt,
                "name": path.name,
                "generated_at": manifest.get("generated_at", ""),
                "files": [n for n in ["manifest.json", *files] if FILE_NAME.match(n)],
            }
        )
    return render(
        request,
        "opendata/data.html",
        {
            "latest": latest,
            "tables": TABLES,
            "schema_version": SCHEMA_VERSION,
            "license": settings.TOOLVERDICT_EXPORT_LICENSE,
            "license_url": settings.TOOLVERDICT_EXPORT_LICENSE_URL,
            "stale_days": settings.TOOLVERDICT_SOURCES_STALE_DAYS,
        },
    )


@not_cached("opendata:data_file", "a dump file, streamed from disk with its own validators")
def data_file(request: HttpRequest, dump: str, name: str) -> FileResponse:
    """One file of a dump, from the export directory: only names a dump can hold."""
    if not DUMP_NAME.match(dump) or not FILE_NAME.match(name):
        raise Http404("No such file")
    root = settings.TOOLVERDICT_EXPORT_DIR.resolve()
    path = (root / dump / name).resolve()
    if path.parent.parent != root or not path.is_file():
        raise Http404("No such file")
    response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[path.suffix])
    response["X-Content-Type-Options"] = "nosniff"
    if path.suffix == ".csv":
        response["Content-Disposition"] = f'attachment; filename="{dump}-{name}"'
    # A dump never changes under its name.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
