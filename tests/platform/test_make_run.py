"""`make run` keeps its worker running: the real Makefile and bin/supervise, run in a copy of the project
whose venv is a fake (a `python` whose runserver and a `celery` that only sleep), so no Django starts."""

import os
import shutil
import signal
import subprocess
from contextlib import suppress
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import wait_until

ROOT = Path(settings.BASE_DIR)
FAKE_PYTHON = """#!/bin/sh
case "$2" in runserver) echo $$ >> web.pids; exec sleep 600;; esac
"""
FAKE_CELERY = """#!/bin/sh
echo $$ >> worker.pids
[ -e worker.dies ] && exit 3
exec sleep 600
"""


@pytest.fixture
def project(tmp_path):
    for name in ("Makefile", "requirements.txt", "bin/supervise"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    venv = tmp_path / "fake-venv" / "bin"
    venv.mkdir(parents=True)
    for name, script in (("python", FAKE_PYTHON), ("celery", FAKE_CELERY)):
        (venv / name).write_text(script)
        (venv / name).chmod(0o755)
    (venv.parent / ".runtime").touch()  # installed, as far as make knows
    return tmp_path


def _make_run(project: Path) -> subprocess.Popen:
    # A session of its own, like a terminal's: Ctrl-C is SIGINT to the whole process group.
    with (project / "terminal").open("w") as terminal:
        return subprocess.Popen(
            ["make", "run", "VENV=fake-venv", "PORT=8123"],
            cwd=project,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill_all(make: subprocess.Popen) -> None:
    """Whatever a failed test left of make run's processes."""
    with suppress(ProcessLookupError):
        os.killpg(make.pid, signal.SIGKILL)
    make.wait()


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_worker_that_died_is_started_again_with_a_line_saying_so_and_ctrl_c_stops_everything(project):
    make = _make_run(project)
    try:
        (worker,) = wait_until(lambda: _pids(project / "worker.pids"), "the worker did not start")
        (web,) = wait_until(lambda: _pids(project / "web.pids"), "the web server did not start")

        os.kill(worker, signal.SIGKILL)
        restarted = wait_until(lambda: _pids(project / "worker.pids")[1:], "the worker was not started again")
        line = "background worker exited (killed by signal 9), restarting — see var/worker.log"
        wait_until(lambda: line in (project / "terminal").read_text(), "no line in the terminal")
        assert line in (project / "var" / "worker.log").read_text()

        os.killpg(make.pid, signal.SIGINT)
        assert make.wait(timeout=20) != 0
    finally:
        _kill_all(make)
    assert [pid for pid in (web, *restarted) if _alive(pid)] == []


def test_a_worker_that_keeps_dying_stops_make_run_with_a_message(project):
    (project / "worker.dies").touch()
    make = _make_run(project)
    try:
        assert make.wait(timeout=30) != 0
    finally:
        _kill_all(make)

    terminal = (project / "terminal").read_text()
    assert terminal.count("background worker exited (status 3), restarting") == 4
    assert "background worker exited (status 3), the 5th time within a minute: not restarting it" in terminal
    assert "make run stops: the background worker keeps dying (see var/worker.log)" in terminal
    assert len(_pids(project / "worker.pids")) == 5
    assert [pid for pid in _pids(project / "web.pids") if _alive(pid)] == []
