"""Enrichment's pages are editors' and never cached; accepted values reach the public
pages through the catalog's own writes."""

from __future__ import annotations

from toolverdict.pagecache.registry import register_uncached

register_uncached("enrich:", "the editors' review queue")
