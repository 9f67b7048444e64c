"""`jindu serve` as an operator runs it: a fresh data directory, `jindu migrate`, then the
web server, task worker and scheduler; static files by WhiteNoise with hashed names; Ctrl-C
stops every process it started."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser  # end-to-end and slow: runs with the browser tests

JINDU = Path(sys.executable).with_name("jindu")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def operator_environment(data_dir: Path) -> dict:
    """A production-like environment: none of the test run's settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JINDU_", "DJANGO_", "DATABASE_URL"))}
    env["JINDU_DATA_DIR"] = str(data_dir)
    return env


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_serve_starts_serves_static_files_and_stops_cleanly(tmp_path):
    env = operator_environment(tmp_path / "data")
    subprocess.run([JINDU, "migrate", "--verbosity", "0"], env=env, check=True, timeout=180)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen([JINDU, "serve", "--port", str(port), "--workers", "1"], env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    started = set()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no answer on /healthz within 60 s"
            time.sleep(0.3)

        status, _, body = get(f"{base}/accounts/login/")
        page = body.decode()
        assert status == 200
        assert "禁毒工作综合管理平台" in page and "账号登录" in page
        stylesheet = re.search(r'href="(/static/jindu/app\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, "app.css is not served under a hashed name"
        status, content_type, css = get(base + stylesheet.group(1))
        assert status == 200 and content_type.startswith("text/css")
        assert b"--tblr-font-sans-serif" in css

        started = descendants(serve.pid)
        assert len(started) >= 3, "expected gunicorn (master and worker) and the task worker"
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(is_running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in started if is_running(pid)], "serve left processes behind"
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        for pid in started:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp_path / "data", ignore_errors=True)
