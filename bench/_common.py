"""Shared helpers for the benchmarks: a throwaway data dir and a real server process."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The gunicorn master's process id for each running server, by base URL.
SERVER_PIDS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT / "src"),
            "TOOLVERDICT_LOG_LEVEL": "WARNING",
            # Reviews are not needed to measure page rendering; keep the queue idle.
            "TOOLVERDICT_TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "toolverdict.cli", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def temp_data_dir():
    with tempfile.TemporaryDirectory(prefix="toolverdict-bench-") as tmp:
        yield Path(tmp)


def gunicorn_command(port: int, workers: int, *extra: str) -> list[str]:
    """The command line that serves the site on loopback with gunicorn."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "toolverdict.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *extra,
    ]


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, port: int | None = None):
    port = port or free_port()
    proc = subprocess.Popen(gunicorn_command(port, workers, "--log-level", "warning"), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310 - http://127.0.0.1
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        proc.terminate()
        proc.wait(timeout=10)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (a gunicorn master and its workers); Linux /proc only."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each live process in ``pids``."""
    tick = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        fields = _stat(pid)
        if fields:
            times[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two ``cpu_seconds`` readings (new processes from zero)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": 1000 * statistics.median(samples),
        "p99_ms": 1000 * percentile(samples, 99),
    }
