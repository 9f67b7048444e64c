"""`jindu serve`: everything jindu needs on one machine.

* the WSGI server (gunicorn; static files by WhiteNoise),
* the background-task worker (django-tasks database backend, ``db_worker``),
* the scheduler that enqueues the daily sweep once a day at JINDU_SWEEP_AT (Asia/Shanghai).

Ctrl-C (or SIGTERM) stops all three; if one dies, the others are stopped too and the command
exits non-zero, so a process supervisor (systemd) restarts the whole.
"""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import ScheduledRun


def sweep_due(now: datetime.datetime, at: str, already_ran_today: bool) -> bool:
    """Whether the daily sweep should be enqueued at local time ``now``."""
    hour, minute = (int(part) for part in at.split(":"))
    return not already_ran_today and (now.hour, now.minute) >= (hour, minute)


def enqueue_sweep_if_due(now: datetime.datetime | None = None) -> bool:
    from core.tasks import run_sweep

    now = timezone.localtime(now)
    today = now.date()
    if not sweep_due(now, settings.JINDU_SWEEP_AT, ScheduledRun.objects.filter(job="sweep", run_date=today).exists()):
        return False
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job="sweep", run_date=today)
    except IntegrityError:
        return False  # another scheduler got there first
    run_sweep.enqueue()
    return True


WEB_TIMEOUT_SECONDS = 300


class Command(BaseCommand):
    help = "Serve jindu: web server, background worker and daily scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("JINDU_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("JINDU_PORT", "8000")))
        # Pages are CPU-bound (Python, and PostgreSQL on the same cores): one process per core,
        # two threads each. Measured at 100,000 persons, 50 clients that never pause, on 2 cores
        # (jindu.workers.BalancedThreadWorker; pages/s and p95): 2 x 2: 100-110/s, 0.54-0.62 s;
        # 2 x 1: 105-112/s, 0.51-0.54 s; 3 x 1: 97-103/s, 0.53-0.63 s; 3 x 2: 88-98/s,
        # 0.61-0.66 s. Processes beyond the cores, and threads, cost CPU in switching and in
        # Python's interpreter lock; the second thread is kept so that a long export does not
        # take a whole process. Users pausing about a second between pages: p95 0.1 s.
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("JINDU_WEB_WORKERS", str(os.cpu_count() or 1))))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("JINDU_WEB_THREADS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument("--no-scheduler", action="store_true", help="do not schedule the daily sweep")

    def handle(self, *args, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        processes = {
            "web": subprocess.Popen([
                python, "-m", "gunicorn", "jindu.wsgi:application",
                "--bind", f"{options['host']}:{options['port']}",
                "--workers", str(options["workers"]), "--threads", str(options["threads"]),
                "--access-logfile", "-", "--graceful-timeout", "10",
                # gthread, sharing the load fairly between the processes (jindu/workers.py).
                "--worker-class", "jindu.workers.BalancedThreadWorker", "--no-control-socket",
                # A worker silent for longer than this is restarted: a province's roster
                # export (100,000 rows) takes about 40 s.
                "--timeout", str(WEB_TIMEOUT_SECONDS),
            ]),
        }
        if not options["no_worker"]:
            processes["worker"] = subprocess.Popen([python, "-m", "jindu", "db_worker", "--interval", "2"])
        stop = threading.Event()
        if not options["no_scheduler"]:
            threading.Thread(target=self._schedule, args=(stop,), daemon=True).start()

        def shutdown(signum, frame):
            stop.set()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        self.stdout.write(_("jindu: %(url)s (Ctrl-C to stop)") % {"url": f"http://{options['host']}:{options['port']}/"})
        exit_code = 0
        while not stop.is_set():
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(_("jindu: %(name)s exited with %(code)s; stopping")
                                      % {"name": name, "code": process.returncode})
                    exit_code = 1
                    stop.set()
            stop.wait(1)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)

    def _schedule(self, stop: threading.Event):
        while not stop.is_set():
            try:
                if enqueue_sweep_if_due():
                    self.stdout.write(_("jindu: daily sweep enqueued"))
            except Exception as error:  # keep scheduling; the next minute retries
                self.stderr.write(_("jindu: scheduler: %(error)s") % {"error": error})
            finally:
                close_old_connections()
            stop.wait(30)
