"""A small process supervisor: what `toolverdict up` runs its children with.

- Each child runs in its own process group (so a terminal's Ctrl-C reaches only the
  supervisor, which then stops the children in order) and is told by the kernel to get
  SIGTERM if the supervisor itself dies (``PR_SET_PDEATHSIG``: even a ``kill -9`` of the
  supervisor leaves no child running on).
- A child that exits is restarted after a backoff that doubles with each quick death
  (``base`` × 2ⁿ, capped), reset once the child has stayed up ``stable_after`` seconds.
  Every exit and restart is logged.
- SIGTERM or SIGINT stops everything: SIGTERM to every child's process group, up to
  ``grace`` seconds for them to finish, then SIGKILL to whatever is left; the supervisor
  returns only when every child has been reaped.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("toolverdict.up")

PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGTERM this child when its parent dies (Linux); exit if it already has."""

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: the stop path still covers it
            pass
        if os.getppid() != parent:
            os._exit(1)

    return preexec


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restarts: int = 0
    restart_at: float | None = None
    exits: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


class Supervisor:
    def __init__(
        self,
        children: Sequence[Child],
        *,
        grace: float = 10.0,
        backoff: float = 1.0,
        backoff_cap: float = 60.0,
        stable_after: float = 60.0,
        poll: float = 0.2,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.children = list(children)
        self.grace = grace
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.stable_after = stable_after
        self.poll = poll
        self.announce = announce or (lambda text: log.info("%s", text))
        self.stop_signal: int | None = None
        self._wake = threading.Event()

    # Starting and restarting ----------------------------------------------------------

    def spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            list(child.argv),
            env=child.env,
            process_group=0,
            preexec_fn=_die_with(os.getpid()),  # the supervisor runs no threads
        )
        child.started = time.monotonic()
        child.restart_at = None

    def delay_for(self, child: Child) -> float:
        return min(self.backoff_cap, self.backoff * 2 ** max(0, child.quick_deaths - 1))

    def check(self, child: Child, now: float) -> None:
        if child.proc is None:
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self.spawn(child)
                log.warning(
                    "%s restarted (pid %s, restart #%d)", child.name, child.pid, child.restarts
                )
            return
        code = child.proc.poll()
        if code is None:
            return
        child.exits.append(code)
        _signal_group(child.proc, signal.SIGKILL)  # whatever it left behind (its workers)
        uptime = now - child.started
        child.quick_deaths = 0 if uptime >= self.stable_after else child.quick_deaths
        child.quick_deaths += 1
        delay = self.delay_for(child)
        level = logging.ERROR if child.quick_deaths >= 5 else logging.WARNING
        log.log(
            level,
            "%s (pid %s) exited with status %s after %.1f s; restarting in %.1f s",
            child.name,
            child.pid,
            code,
            uptime,
            delay,
        )
        child.proc = None
        child.restart_at = now + delay

    # Running --------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum
        self._wake.set()

    def install_signals(self) -> dict[int, object]:
        return {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }

    def run(self) -> int:
        """Start every child, keep them running until a stop signal, then stop them all."""
        previous = self.install_signals()
        try:
            for child in self.children:
                if self.stop_signal is None:
                    self.spawn(child)
                    self.announce(f"{child.name} started (pid {child.pid})")
            while self.stop_signal is None:
                now = time.monotonic()
                for child in self.children:
                    self.check(child, now)
                self._wake.wait(self.poll)
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0

    def stop(self) -> None:
        """SIGTERM every child's group, wait up to ``grace``, SIGKILL what is left."""
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        if self.stop_signal is not None:
            log.info(
                "received %s: stopping %s (up to %.0f s)",
                signal.strsignal(self.stop_signal),
                ", ".join(c.name for c in running) or "nothing",
                self.grace,
            )
        for child in running:
            _signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in running:
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s: killing it", child.name, self.grace)
        for child in self.children:
            if child.proc is None:
                continue
            # The group too: a child's own children (gunicorn's workers) must not linger.
            _signal_group(child.proc, signal.SIGKILL)
            child.proc.wait()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)
