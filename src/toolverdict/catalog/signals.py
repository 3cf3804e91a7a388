"""Catalog signals: other apps listen here instead of reaching into catalog tables.

``tools_changed`` is sent after the transaction that created or changed tools commits,
with ``tool_ids`` (list of primary keys) and ``reason`` (import, admin, submission, feed).
The panel listens to enqueue reviews.
"""

from django.dispatch import Signal

tools_changed = Signal()
