"""A throwaway PostgreSQL server started from the machine's binaries (tests, `make bench`).

PostgreSQL refuses to run as root; when we are root the cluster is created and run as the
``postgres`` system user that Debian's package creates, in a private directory, on a private
port, with its socket in that directory. Nothing of the machine's own clusters is touched.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path


def find_bindir() -> Path:
    candidates = []
    if os.environ.get("JINDU_PG_BINDIR"):
        candidates.append(os.environ["JINDU_PG_BINDIR"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    if which := shutil.which("initdb"):
        candidates.append(str(Path(which).resolve().parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TemporaryPostgres:
    def __init__(self, port: int | None = None, settings: dict | None = None):
        self.bindir = find_bindir()
        self.port = port or free_port()
        self.settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                         "max_connections": "200", **(settings or {})}
        self.directory: Path | None = None
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = pwd.getpwnam(os.environ.get("JINDU_PG_USER", "postgres"))

    @property
    def url(self) -> str:
        return f"postgres://jindu@127.0.0.1:{self.port}/jindu"

    @property
    def socket_url(self) -> str:
        """The same database through the server's Unix socket (in its private directory), as a
        deployment on one machine connects: a round trip costs both processes less than over
        TCP loopback (`make bench`'s 50 clients: about 5 % more pages a second, alternated)."""
        return f"postgres://jindu@{urllib.parse.quote(str(self.directory), safe='')}:{self.port}/jindu"

    def _run(self, args: list[str], **kwargs):
        if self.run_as is not None:
            args = ["runuser", "-u", self.run_as.pw_name, "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> "TemporaryPostgres":
        self.directory = Path(tempfile.mkdtemp(prefix="jindu-pg-"))
        if self.run_as is not None:
            os.chown(self.directory, self.run_as.pw_uid, self.run_as.pw_gid)
        data = self.directory / "data"
        self._run([str(self.bindir / "initdb"), "-D", str(data), "-U", "jindu", "--auth=trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"], cwd="/")
        options = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        options += f" -p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run([str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "log"), "-w",
                   "-o", options, "start"], cwd="/")
        self._run([str(self.bindir / "createdb"), "-h", str(self.directory), "-p", str(self.port), "-U", "jindu",
                   "jindu"], cwd="/")
        return self

    def stop(self) -> None:
        if self.directory is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate",
                       "-w", "stop"], cwd="/")
        for _ in range(20):
            try:
                shutil.rmtree(self.directory)
                break
            except OSError:
                time.sleep(0.1)
        self.directory = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
