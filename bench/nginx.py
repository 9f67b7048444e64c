"""nginx in front of `jindu serve`, as docs/operations.md deploys it, for make bench's concurrent run.

The Debian package's binary with a configuration of its own in a temporary directory: the
proxy block of docs/operations.md (without TLS), listening on loopback.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 20m;
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def binary() -> str | None:
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


@contextlib.contextmanager
def in_front_of(upstream: int, port: int):
    """nginx on 127.0.0.1:``port`` passing every request to 127.0.0.1:``upstream``."""
    workdir = Path(tempfile.mkdtemp(prefix="jindu-bench-nginx-"))
    workdir.chmod(0o755)  # started as root, its workers (nobody) write the temporary files
    config = workdir / "nginx.conf"
    config.write_text(CONFIG.format(dir=workdir, port=port, upstream=upstream))
    process = subprocess.Popen([binary(), "-p", str(workdir), "-c", str(config), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"nginx did not start: {process.stderr.read().decode(errors='replace')}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
