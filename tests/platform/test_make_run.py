"""`make run` for real: the Makefile and bin/ in a copy of the project (a fresh clone: no var/, no .env).

Most tests give it a fake venv (a `python` whose runserver and a `celery` that only sleep and write down
their environment, and that runs bin/dev_env.py for real), so no Django starts; one starts everything."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings

from tests.factories.integrations import ProcessorConnectionFactory
from tests.workers import wait_until

ROOT = Path(settings.BASE_DIR)
FAKE_PYTHON = f"""#!/bin/sh
case "$1 $2" in
    "manage.py runserver") env > web.env; echo $$ >> web.pids; exec sleep 600;;
    "bin/dev_env.py "*) exec {sys.executable} "$@";;
esac
"""
FAKE_CELERY = """#!/bin/sh
env > worker.env
echo $$ >> worker.pids
[ -e worker.dies ] && exit 3
exec sleep 600
"""
# A worker whose main process stops its pool process in order on SIGTERM, as Celery's warm shutdown does; the
# pool process writes down a SIGTERM that reached it directly (a real one may then die holding the pool's
# queue lock, and the main process waits for that lock forever).
POOL_CELERY = """#!/bin/sh
echo $$ >> worker.pids
sh -c 'trap "echo pool >> direct.signals" TERM; trap "stop=1" USR1; echo $$ >> pool.pids
       while [ -z "$stop" ]; do sleep 1; done' &
pool=$!
trap 'kill -USR1 $pool; wait $pool; exit 0' TERM
wait $pool
"""
# The venv the tests run in, behind a venv of the copy's own that make sees installed (so it never runs pip).
REAL_PYTHON = f'#!/bin/sh\nexec {sys.executable} "$@"\n'
REAL_CELERY = f'#!/bin/sh\nexec {sys.executable} -m celery "$@"\n'
# What the user's shell would carry: nothing of TrackRev's (CI exports DATABASE_URL and CELERY_BROKER_URL;
# the test settings TRACKREV_ENV_FILE), so make run is in embedded mode on the copy's own var/ and .env.
SHELL_ENV = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
RECORD = re.compile(r"^(?:\d{4}-\d\d-\d\d [\d:,]+ [A-Z]+ \S+|\[\d{4}-\d\d-\d\d [\d:,]+: [A-Z]+/\w+\]) (.*)$")


def _project(root: Path, python: str, celery: str) -> Path:
    shutil.copytree(
        ROOT, root, ignore=shutil.ignore_patterns(".git", ".venv", "var", ".env", "tests", "docs", ".*cache")
    )
    venv = root / "venv" / "bin"
    venv.mkdir(parents=True)
    for name, script in (("python", python), ("celery", celery)):
        (venv / name).write_text(script)
        (venv / name).chmod(0o755)
    (venv.parent / ".runtime").touch()  # installed, as far as make knows
    return root


@pytest.fixture
def project(tmp_path):
    return _project(tmp_path / "clone", FAKE_PYTHON, FAKE_CELERY)


def _make_run(project: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    # A session of its own, like a terminal's: Ctrl-C is SIGINT to the whole process group.
    with (project / "terminal").open("w") as terminal:
        return subprocess.Popen(
            ["make", "run", "VENV=venv", *args],
            cwd=project,
            env={**SHELL_ENV, **(env or {})},
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _ctrl_c(make: subprocess.Popen) -> None:
    os.killpg(make.pid, signal.SIGINT)
    assert make.wait(timeout=30) != 0


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


def _environment(path: Path) -> dict[str, str]:
    """`NAME=value` lines (`env`'s output, a .env file) as a dict."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _run_and_stop(project: Path, *args: str, env: dict | None = None) -> dict[str, str]:
    """make run in the fake venv, stopped with Ctrl-C once it started both; the web server's environment."""
    make = _make_run(project, *args, env=env)
    try:
        wait_until(lambda: _pids(project / "web.pids") and _pids(project / "worker.pids"), "make run did not start")
        _ctrl_c(make)
    finally:
        _kill_all(make)
    return _environment(project / "web.env")


def test_a_worker_that_died_is_started_again_with_a_line_saying_so_and_ctrl_c_stops_everything(project):
    make = _make_run(project, "PORT=8123")
    try:
        (worker,) = wait_until(lambda: _pids(project / "worker.pids"), "the worker did not start")
        (web,) = wait_until(lambda: _pids(project / "web.pids"), "the web server did not start")

        os.kill(worker, signal.SIGKILL)
        restarted = wait_until(lambda: _pids(project / "worker.pids")[1:], "the worker was not started again")
        line = "background worker exited (killed by signal 9), restarting — see var/worker.log"
        wait_until(lambda: line in (project / "terminal").read_text(), "no line in the terminal")
        assert line in (project / "var" / "worker.log").read_text()

        _ctrl_c(make)
    finally:
        _kill_all(make)
    assert [pid for pid in (web, *restarted) if _alive(pid)] == []


def test_a_sigterm_to_make_runs_process_group_reaches_the_worker_only_through_its_supervisor(tmp_path):
    project = _project(tmp_path / "clone", FAKE_PYTHON, POOL_CELERY)
    make = _make_run(project)
    started = lambda: _pids(project / "worker.pids") + _pids(project / "pool.pids")  # noqa: E731
    try:
        wait_until(lambda: _pids(project / "web.pids") and _pids(project / "pool.pids"), "make run did not start")
        os.killpg(make.pid, signal.SIGTERM)  # `kill -- -PGID`, a service manager's stop
        assert make.wait(timeout=30) != 0
        wait_until(lambda: not any(_alive(pid) for pid in started()), "the worker outlived make run")
    finally:
        _kill_all(make)
        for pid in started():  # in a session of their own: not in make's group
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    assert not (project / "direct.signals").exists(), "the pool was signalled directly"
    assert [pid for pid in _pids(project / "web.pids") if _alive(pid)] == []


def test_a_worker_that_keeps_dying_stops_make_run_with_a_message(project):
    (project / "worker.dies").touch()
    make = _make_run(project, "PORT=8123")
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


@pytest.mark.django_db
def test_the_pixel_snippet_the_integrations_page_and_the_api_name_the_port_make_run_serves(
    project, owner_client, api_client, workspace, settings
):
    web = _run_and_stop(project, "PORT=8765")
    worker = _environment(project / "worker.env")
    assert web["TRACKREV_PUBLIC_URL"] == worker["TRACKREV_PUBLIC_URL"] == "http://127.0.0.1:8765"

    settings.TRACKREV_PUBLIC_URL = web["TRACKREV_PUBLIC_URL"]
    ProcessorConnectionFactory(workspace=workspace)
    page = owner_client.get("/app/integrations/polar/").content.decode()
    (listed,) = api_client.get("/api/v1/integrations/").json()["results"]
    webhook_url = f"http://127.0.0.1:8765/webhooks/polar/{workspace.public_id}"
    assert "&lt;script async src=&quot;http://127.0.0.1:8765/p.js&quot;" in page
    assert f'<pre class="snippet" id="polar-webhook-url">{webhook_url}</pre>' in page
    assert listed["webhook_url"] == webhook_url
    assert "make run PORT=" in (ROOT / "README.md").read_text()


def test_a_public_url_set_for_make_run_is_kept(project):
    web = _run_and_stop(project, "PORT=8765", env={"TRACKREV_PUBLIC_URL": "https://tunnel.example"})

    assert web["TRACKREV_PUBLIC_URL"] == "https://tunnel.example"


def test_a_public_url_in_env_file_is_left_for_django_to_read(project):
    (project / ".env").write_text("TRACKREV_PUBLIC_URL=https://tunnel.example\n")

    web = _run_and_stop(project, "PORT=8765")

    assert "TRACKREV_PUBLIC_URL" not in web  # not exported over it: trackrev/env.py reads .env
    assert _environment(project / ".env")["TRACKREV_PUBLIC_URL"] == "https://tunnel.example"


def test_after_make_run_manage_py_commands_need_nothing_exported(project):
    _run_and_stop(project)

    command = subprocess.run(
        [sys.executable, "manage.py", "create_workspace", "--help"],
        cwd=project,
        env=SHELL_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert command.returncode == 0, command.stderr
    assert "--owner-email" in command.stdout
    local = _environment(project / ".env")
    assert local["DJANGO_DEBUG"] == "1"
    Fernet(local["FIELD_ENCRYPTION_KEYS"])  # a valid key
    assert len(local["DJANGO_SECRET_KEY"]) >= 50 and local["EMAIL_HASH_KEY"]
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/python manage.py createsuperuser" in readme


def test_make_run_adds_only_what_an_existing_env_file_lacks(project):
    mine = "# mine\nEMAIL_HASH_KEY=kept\nDATABASE_URL=sqlite:////tmp/mine.sqlite3\nDJANGO_SECRET_KEY=\n"
    (project / ".env").write_text(mine)
    for _ in range(2):  # the second run finds nothing missing
        _run_and_stop(project)
        (project / "web.pids").unlink()

    text = (project / ".env").read_text()
    assert text.startswith(mine)
    added = re.findall(r"^(\w+)=.", text.removeprefix(mine), flags=re.M)
    assert added == ["DJANGO_DEBUG", "DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.ConnectionError:
        return None


def _printed_twice(output: str) -> list[str]:
    """Log records that a second handler printed again: bare beside the formatted line, or the same line."""
    lines = output.splitlines()
    messages = {match[1] for line in lines if (match := RECORD.match(line))}
    again = {line for line, count in Counter(lines).items() if count > 1 and RECORD.match(line)}
    return sorted(again | {line for line in lines if line in messages})


def test_make_run_on_a_fresh_clone_starts_clean_and_is_healthy_as_soon_as_its_worker_is(tmp_path):
    project = _project(tmp_path / "clone", REAL_PYTHON, REAL_CELERY)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    make = _make_run(project, f"PORT={port}")
    try:
        wait_until(lambda: "TrackRev is starting" in (project / "terminal").read_text(), "no server", timeout=90)
        starting = time.monotonic()  # the worker and the web server start now
        wait_until(lambda: _status(f"{base}/healthz") == 200, "/healthz never healthy", timeout=60)
        healthy_after = time.monotonic() - starting
        assert _status(f"{base}/nothing-here") == 404
        assert _status(f"{base}/favicon.ico") == 200
        _ctrl_c(make)
    finally:
        _kill_all(make)
        terminal = (project / "terminal").read_text()
        worker_log = project / "var" / "worker.log"
        worker = worker_log.read_text() if worker_log.exists() else ""
        print(terminal, worker)  # shown when the test fails

    # Beat's first heartbeat comes an interval (15 s) after it starts.
    assert healthy_after < 10, healthy_after
    output = terminal + worker
    assert [line for line in output.splitlines() if "ERROR" in line or "Traceback" in line] == []
    assert "WARNING" not in worker  # it once said "No hostname was supplied" again and again
    assert terminal.count("Not Found: /nothing-here") == 1
    assert _printed_twice(output) == []
