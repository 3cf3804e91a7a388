"""Static files: compressed and cached for a year, with or without collectstatic.

``VersionedStaticFilesStorage`` adds ``?v=<content hash>`` to every ``{% static %}`` URL, so
a changed file gets a new URL; ``StaticFilesMiddleware`` (WhiteNoise) answers such URLs with
``Cache-Control: public, max-age=31536000, immutable`` and serves a gzip copy of every text
file, writing the copies once under ``$TOOLVERDICT_DATA_DIR/static-gzip`` when collectstatic has
not made them (the laptop default serves straight from the source tree).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedStaticFilesStorage

YEAR = 365 * 24 * 3600
TEXT_SUFFIXES = {".css", ".js", ".svg", ".txt", ".json", ".map", ".html", ".xml", ".ico"}


@functools.cache
def content_version(name: str) -> str:
    path = finders.find(name)
    if not path:
        candidate = Path(settings.STATIC_ROOT) / name
        path = str(candidate) if candidate.is_file() else None
    if not path:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


class VersionedStaticFilesStorage(CompressedStaticFilesStorage):
    def url(self, name: str | None) -> str:
        url = super().url(name)
        version = content_version(name) if name else ""
        return f"{url}?v={version}" if version else url


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def get_static_file(self, path, url, stat_cache=None):
        static_file = super().get_static_file(path, url, stat_cache)
        if Path(path).suffix.lower() not in TEXT_SUFFIXES or os.path.exists(path + ".gz"):
            return static_file
        compressed = self._gzip_copy(path)
        if compressed is None:
            return static_file
        if stat_cache is not None:
            stat_cache[compressed] = os.stat(compressed)
        return type(static_file)(
            path,
            self._headers(path, url),
            stat_cache=stat_cache,
            encodings={"gzip": compressed},
        )

    def _headers(self, path, url):
        from whitenoise.responders import Headers

        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        self.add_cache_headers(headers, path, url)
        if self.allow_all_origins:
            headers["Access-Control-Allow-Origin"] = "*"
        if self.add_headers_function is not None:
            self.add_headers_function(headers, path, url)
        return headers.items()

    @staticmethod
    def _gzip_copy(path: str) -> str | None:
        data = Path(path).read_bytes()
        if len(data) < 256:
            return None
        digest = hashlib.sha256(data).hexdigest()[:24]
        # Outside STATIC_ROOT: WhiteNoise scans that tree, and must not see half-written
        # copies of another worker.
        target = Path(settings.DATA_DIR) / "static-gzip" / f"{digest}.gz"
        if not target.exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
                os.replace(tmp, target)
            except OSError:
                return None
        return str(target)

    def serve(self, static_file, request):
        response = super().serve(static_file, request)
        if request.GET.get("v") and response.status_code in (200, 206, 304):
            response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
