"""jindu serve's gunicorn worker (jindu.workers.BalancedThreadWorker), run by a real gunicorn
with a small WSGI application (core/tests/slow_wsgi.py)."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jindu.testing.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(workers: int, threads: int):
        port = free_port()
        env = dict(os.environ, SLOW_WSGI_MARKS=str(tmp_path))
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "core.tests.slow_wsgi:app", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "jindu.workers.BalancedThreadWorker", "--workers", str(workers),
             "--threads", str(threads), "--keep-alive", "5", "--no-control-socket"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        # Every worker up before the test begins (each answers once it has booted), then quiet:
        # a worker counts a request as finished when its main thread next runs, and a request
        # that came before that would find every thread busy (CI saw "Connection: close").
        for _ in range(workers * 4):
            get(port, "/")
        time.sleep(0.5)
        return port

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


def get(port: int, path: str, connection: http.client.HTTPConnection | None = None, timeout: float = 30):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = json.loads(response.read())
        return body["pid"], response.getheader("Connection", "")
    finally:
        if own:
            connection.close()


def in_background(port: int, path: str) -> dict:
    result = {}

    def run():
        result["pid"], result["connection"] = get(port, path)

    thread = threading.Thread(target=run)
    thread.start()
    result["thread"] = thread
    return result


def wait_for_mark(tmp_path: Path, name: str) -> int:
    deadline = time.monotonic() + 20
    while not (tmp_path / name).exists():
        assert time.monotonic() < deadline, f"request {name} was not served"
        time.sleep(0.02)
    time.sleep(0.05)  # the file is written; its content a moment later
    return int((tmp_path / name).read_text())


def test_a_busy_process_leaves_new_connections_to_an_idle_one(serve, tmp_path):
    """Two processes of one thread: while one serves a slow page, the next connection goes to
    the other every time (gunicorn's own gthread worker takes it about half the time and makes
    it wait behind the slow page)."""
    port = serve(workers=2, threads=1)
    for round_ in range(4):
        first = in_background(port, f"/?sleep=1.5&mark=a{round_}")
        busy = wait_for_mark(tmp_path, f"a{round_}")
        second = in_background(port, f"/?sleep=0.1&mark=b{round_}")
        served_by = wait_for_mark(tmp_path, f"b{round_}")
        assert served_by != busy
        first["thread"].join()
        second["thread"].join()
        assert (first["pid"], second["pid"]) == (busy, served_by)


def test_connections_are_kept_alive_while_quiet_and_closed_when_busy(serve, tmp_path):
    """A request alone keeps its connection; one that arrives while every thread is busy is
    answered with Connection: close, so the client comes back through the shared queue."""
    port = serve(workers=1, threads=2)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    _pid, header = get(port, "/", connection)
    assert header.lower() != "close"
    slow = in_background(port, "/?sleep=1.5&mark=slow")
    wait_for_mark(tmp_path, "slow")
    _pid, header = get(port, "/", connection)  # the same kept-alive connection, served meanwhile
    assert header.lower() == "close"
    slow["thread"].join()
    assert slow["connection"].lower() != "close"


def test_a_connection_without_a_request_holds_no_thread(serve):
    """A browser opens connections before it has a request to send. With one thread, gunicorn's
    gthread worker gives that thread to such a connection for up to 5 s; this worker waits for
    the request in its poller, and the next page is served meanwhile."""
    port = serve(workers=1, threads=1)
    idle = socket.create_connection(("127.0.0.1", port))
    try:
        time.sleep(0.2)  # accepted and waiting
        pid, _header = get(port, "/", timeout=3)
        assert pid
    finally:
        idle.close()
