"""Catalog signals: other apps listen here instead of reaching into catalog tables.

``tools_changed`` is sent after the transaction that created or changed tools commits,
with ``tool_ids`` (list of primary keys) and ``reason`` (import, admin, submission, feed).
The panel listens to enqueue reviews.

``sources_changed`` is sent after a source check changed what pages say about some cited
URLs (catalog/sources.py), with ``urls`` and ``tool_ids`` (the tools citing them). The page
cache listens to retire those tools' pages.
"""

from django.dispatch import Signal

tools_changed = Signal()
sources_changed = Signal()
