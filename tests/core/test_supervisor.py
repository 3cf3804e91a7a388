"""`toolverdict up` as a supervisor: gunicorn, worker and scheduler; restarts; bounded stop.

The unit tests drive core/supervisor.py with small stand-in children; the integration
tests start `toolverdict up` in its own session (setsid) and look for leftover processes
of that session in /proc.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from toolverdict.core.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def session_pids(sid: int) -> set[int]:
    """Live processes whose session id is ``sid`` (zombies excluded)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.add(int(entry))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


# --- the supervisor itself ------------------------------------------------------------


def test_a_child_that_dies_is_restarted_with_a_doubling_backoff(caplog):
    child = Child("flaky", [PY, "-c", "import sys; sys.exit(3)"])
    sup = Supervisor([child], backoff=1.0, backoff_cap=4.0, stable_after=60)
    caplog.set_level(logging.WARNING, logger="toolverdict.up")
    sup.spawn(child)
    delays = []
    now = 0.0
    try:
        for _ in range(4):
            child.proc.wait(timeout=30)
            now = child.started + 0.5  # a quick death
            sup.check(child, now)
            assert child.proc is None
            delays.append(child.restart_at - now)
            sup.check(child, child.restart_at - 0.01)  # not yet
            assert child.proc is None
            sup.check(child, child.restart_at)
            assert child.proc is not None
    finally:
        sup.stop()
    assert delays == [1.0, 2.0, 4.0, 4.0]  # doubled, then capped
    assert child.exits == [3, 3, 3, 3]
    assert child.restarts == 4
    text = caplog.text
    assert "flaky (pid" in text and "exited with status 3" in text
    assert "flaky restarted" in text


def test_a_child_that_ran_long_enough_restarts_quickly_again():
    child = Child("steady", [PY, "-c", "pass"])
    sup = Supervisor([child], backoff=1.0, backoff_cap=60, stable_after=10)
    child.quick_deaths = 5
    sup.spawn(child)
    try:
        child.proc.wait(timeout=30)
        sup.check(child, child.started + 11)  # it had been up longer than stable_after
    finally:
        sup.stop()
    assert child.quick_deaths == 1
    assert child.restart_at == child.started + 11 + 1.0


def test_stop_ends_every_child_and_grandchild_within_the_grace(tmp_path):
    stubborn = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"g = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(tmp_path / 'grandchild')!r}, 'w').write(str(g.pid))\n"
        "time.sleep(120)\n"
    )
    polite = Child("polite", [PY, "-c", "import time; time.sleep(120)"])
    rude = Child("stubborn", [PY, "-c", stubborn])
    sup = Supervisor([polite, rude], grace=1.0)
    for child in (polite, rude):
        sup.spawn(child)
    assert wait_until(lambda: (tmp_path / "grandchild").exists(), 30)
    grandchild = int((tmp_path / "grandchild").read_text())
    pids = [polite.pid, rude.pid, grandchild]
    started = time.monotonic()
    sup.stop()
    took = time.monotonic() - started
    assert polite.proc.returncode == -signal.SIGTERM
    assert rude.proc.returncode == -signal.SIGKILL  # ignored SIGTERM: killed after the grace
    assert wait_until(lambda: not any(alive(p) for p in pids), 10), [cmdline(p) for p in pids]
    assert took < 10  # bounded by the grace, not by the children


def test_sigint_stops_the_supervisor_and_its_children():
    """Ctrl-C reaches only the supervisor (children have their own process groups); it
    stops them and returns."""
    child = Child("sleeper", [PY, "-c", "import time; time.sleep(120)"])
    sup = Supervisor([child], grace=5.0, poll=0.05)
    timer = threading.Timer(1.0, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        assert sup.run() == 0
    finally:
        timer.cancel()
    assert sup.stop_signal == signal.SIGINT
    assert child.proc.returncode == -signal.SIGTERM
    assert os.getpgid(os.getpid()) != child.pid  # its own group: not hit by the terminal
    assert signal.getsignal(signal.SIGINT) is not sup._on_signal  # handlers restored


def test_up_runs_gunicorn_and_only_the_dev_flag_runs_the_development_server(settings):
    from toolverdict.core.management.commands.up import Command

    children = Command().children("0.0.0.0:9000", False, False, 3, 2, 12.0)
    names = [c.name for c in children]
    assert names == ["web server", "task worker 1", "task worker 2", "scheduler"]
    web = list(children[0].argv)
    assert web[1:4] == ["-m", "gunicorn", "toolverdict.wsgi:application"]
    assert web[web.index("--bind") + 1] == "0.0.0.0:9000"
    assert web[web.index("--workers") + 1] == "3"
    assert "--no-control-socket" in web
    worker = list(children[1].argv)
    assert worker[-4:] == ["--queue-name", "*", "--grace", "9.0"]  # hands back before up kills
    dev = Command().children("127.0.0.1:8000", True, True, 2, 1, 10.0)
    assert [c.name for c in dev] == ["web server"]
    assert list(dev[0].argv)[-3:] == ["runserver", "127.0.0.1:8000", "--skip-checks"]


def test_children_die_with_a_killed_supervisor(tmp_path):
    """PR_SET_PDEATHSIG: even kill -9 of the supervisor leaves no child behind."""
    script = (
        "import sys, time\n"
        "from toolverdict.core.supervisor import Child, Supervisor\n"
        f"c = Child('sleeper', [{PY!r}, '-c', 'import time; time.sleep(120)'])\n"
        "s = Supervisor([c])\n"
        "s.spawn(c)\n"
        "print(c.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [PY, "-c", script], env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        child = int(proc.stdout.readline())
        assert alive(child)
        proc.kill()
        proc.wait(timeout=10)
        assert wait_until(lambda: not alive(child), 10)
    finally:
        if session_pids(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


# --- `toolverdict up` -----------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback http
        return response.status, dict(response.headers), response.read().decode()


def worker_pids(sid: int) -> set[int]:
    return {p for p in session_pids(sid) if " worker --queue-name" in cmdline(p)}


@pytest.mark.integration
def test_up_serves_with_gunicorn_restarts_a_killed_worker_and_stops_everything(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "TOOLVERDICT_DATA_DIR": str(tmp_path),
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "TOOLVERDICT_PANEL_MODEL": "python:tests.panel.fakes.ScriptedModel",
            "TOOLVERDICT_WORKER_HEARTBEAT": "0.5",
            "TOOLVERDICT_WORKER_STALE_AFTER": "2",
        }
    )
    log = open(tmp_path / "up.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        ["setsid", PY, "-m", "toolverdict.cli", "up", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sid = proc.pid  # setsid execs in place: its pid is the session id
    output = ""
    try:
        base = f"http://127.0.0.1:{port}"
        served: list[tuple] = []

        def healthy() -> bool:
            try:
                served.append(get(base + "/healthz"))
                return True
            except OSError:
                return False

        assert wait_until(healthy, 120), (tmp_path / "up.log").read_text()
        status, headers, body = served[-1]
        assert (status, body) == (200, "ok")
        assert "gunicorn" in headers.get("Server", "").lower()
        assert any("gunicorn" in cmdline(p) for p in session_pids(sid))
        assert get(base + "/static/toolverdict.css")[0] == 200  # WhiteNoise serves static

        assert wait_until(lambda: len(worker_pids(sid)) == 1, 60)
        (old,) = worker_pids(sid)
        os.kill(old, signal.SIGKILL)
        assert wait_until(lambda: worker_pids(sid) - {old}, 60), (tmp_path / "up.log").read_text()

        before = session_pids(sid)
        assert len(before) >= 5  # up, gunicorn master + 2 workers, task worker, scheduler
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        took = time.monotonic() - started
        assert wait_until(lambda: not session_pids(sid), 10), [
            cmdline(p) for p in session_pids(sid)
        ]
        output = (tmp_path / "up.log").read_text()
    finally:
        if session_pids(sid):
            os.killpg(sid, signal.SIGKILL)
        log.close()
    assert proc.returncode == 0, output
    assert took < 30  # --grace 10, plus the children's own exit
    assert "task worker (pid" in output and "exited with status -9" in output
    assert "task worker restarted" in output
    assert "stopping web server, task worker, scheduler" in output
    assert "runserver" not in output and "development server" not in output
