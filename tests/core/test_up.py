"""`toolverdict up` — the README's main job — migrates, imports, serves and starts a worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.integration
def test_up_serves_the_seed_comparison_from_a_fresh_data_dir(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite in the data dir
    env.update(
        {
            "TOOLVERDICT_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT / "src"),
            # the worker would start reviewing the catalog with the bundled model; this test
            # is about the wiring, the panel tests exercise the model
            "TOOLVERDICT_PANEL_MODEL": env.get("TOOLVERDICT_PANEL_MODEL", "local:smollm2"),
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolverdict.cli", "up", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        body = ""
        for _ in range(240):
            try:
                with urllib.request.urlopen(  # noqa: S310 - loopback http
                    f"http://127.0.0.1:{port}/compare/claude-4-sonnet-vs-smolvlm-2-5/", timeout=2
                ) as response:
                    body = response.read().decode()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert "Which one should you ship with?" in body
        assert (tmp_path / "toolverdict.sqlite3").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert "created" in output  # the starter catalog was imported
    assert "task worker started" in output
