"""Signals core sends at start-up, so the apps that have work to resume can resume it
without core naming them (the panel queues its backlog on both).

- ``worker_started``: a ``toolverdict worker`` has registered its heartbeat and recovered
  the tasks of dead workers, and is about to take tasks. Keyword: ``worker_id``.
- ``up_starting``: ``toolverdict up`` has migrated (and imported the starter catalog) and
  is about to start its children. A receiver may return a line for the console.

Both are sent with ``send_robust``: a receiver's failure is logged, never stops a start.
"""

from __future__ import annotations

from django.dispatch import Signal

worker_started = Signal()
up_starting = Signal()
