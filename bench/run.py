"""`make bench`: jindu at province scale on a throwaway PostgreSQL server.

Starts PostgreSQL as the tests do (jindu.testing.postgres), migrates, generates the province
(demo.province, BENCH_PERSONS persons, default 100,000), runs each benchmark and prints one
table — figure, a baseline measured in the same run, their ratio, the target of issue
«Province scale» and whether it is met — also written to bench/results/latest.json.

Environment: BENCH_PERSONS (100000), BENCH_REQUESTS (200 per page benchmark), BENCH_IMPORT_ROWS
(100000), BENCH_CLIENTS (50), BENCH_SECONDS (20, the concurrent run), BENCH_OUT (the JSON file),
BENCH_ONLY (some of: look-ups, today list, pages, dashboards, concurrent clients, sweep, ledger
import; all when unset).
Tests never assert timings: this is where they are measured.
"""

import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_YET = "not yet available"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(p50, 1), round(p95, 1)


def timed_ms(fn, repeat: int) -> list[float]:
    samples = []
    for n in range(repeat):
        started = time.perf_counter()
        fn(n)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


class Results:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, name: str, figure, unit: str, baseline=None, baseline_label: str = "", target: str = "",
            met: bool | None = None, ratio=None, **details):
        if ratio is None and isinstance(figure, int | float) and isinstance(baseline, int | float) and baseline:
            ratio = round(figure / baseline, 1)
        row = {"benchmark": name, "figure": figure, "unit": unit, "baseline": baseline,
               "baseline_label": baseline_label, "ratio": ratio, "target": target, "met": met, **details}
        self.rows.append(row)
        print(f"  {name}: {figure} {unit}" + (f" (baseline {baseline} {baseline_label})" if baseline is not None
                                              else ""), flush=True)
        return row

    def table(self) -> str:
        head = ("benchmark", "figure", "baseline", "ratio", "target", "met?")
        lines = []
        for r in self.rows:
            figure = f"{r['figure']} {r['unit']}".strip() if r["figure"] is not None else NOT_YET
            if r.get("error"):
                figure = "failed: " + r["error"][:60]
            baseline = "" if r["baseline"] is None else f"{r['baseline']} {r['baseline_label']}".strip()
            ratio = "" if r["ratio"] is None else f"{r['ratio']}×"
            met = {True: "yes", False: "NO", None: ""}[r["met"]]
            lines.append((r["benchmark"], figure, baseline, ratio, r["target"], met))
        widths = [max(_width(x) for x in col) for col in zip(head, *lines, strict=True)]
        out = [" | ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)),
               "-+-".join("-" * w for w in widths)]
        out += [" | ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)) for line in lines]
        return "\n".join(out)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))


# --- the benchmarks --------------------------------------------------------------------------------


def pick_users():
    """Generated users of different roles, in the busiest places."""
    from django.db.models import Count

    from accounts.models import User
    from core.roles import Role
    from persons.models import Person

    busiest_county = (Person.objects.values("county_code").annotate(n=Count("pk")).order_by("-n")[0]["county_code"])
    workers = list(User.objects.filter(role_grants__role=Role.SOCIAL_WORKER,
                                       jurisdiction__county_code=busiest_county)
                   .annotate(n=Count("assigned_persons")).filter(n__gt=0).order_by("-n")[:4])
    townships = list(User.objects.filter(role_grants__role=Role.TOWNSHIP, jurisdiction__county_code=busiest_county)
                     .annotate(n=Count("jurisdiction__persons")).order_by("-n")[:4])
    office = User.objects.get(username=f"office{busiest_county}")
    police = User.objects.get(username=f"police{busiest_county}")
    from demo.province import PROVINCE_CODE

    province_leader = User.objects.filter(username=f"leader{PROVINCE_CODE}").first()
    return {"county": busiest_county, "workers": workers, "townships": townships, "office": office,
            "police": police, "province_leader": province_leader}


def sql_ms(sql: str, params, repeat: int) -> list[float]:
    from django.db import connection

    def run(n):
        with connection.cursor() as cursor:
            cursor.execute(sql, params(n) if callable(params) else params)
            cursor.fetchall()

    return timed_ms(run, repeat)


def bench_lookups(results: Results, users: dict, repeat: int):
    from core.fields import blind_lookup
    from persons.filtersets import PersonFilterSet
    from persons.models import Person

    township = users["townships"][0]
    visible = Person.objects.visible_to(township)
    people = list(visible.order_by("?")[:repeat])
    numbers = [p.id_number for p in people]
    indexes = [blind_lookup(Person, "id_number", n)["id_number_index"] for n in numbers]

    def by_id(n):
        list(Person.objects.visible_to(township).filter(**blind_lookup(Person, "id_number", numbers[n % len(numbers)])))

    p50, p95 = percentiles(timed_ms(by_id, repeat))
    b50, b95 = percentiles(sql_ms("SELECT * FROM persons_person WHERE id_number_index = %s",
                                  lambda n: [indexes[n % len(indexes)]], repeat))
    results.add("look-up by ID number (blind index, scoped), p95", p95, "ms", b95, "ms hand SQL", "≤ 30 ms",
                p95 <= 30, p50=p50)

    initials = [p.name_initials[:2] for p in people] or ["zw"]
    surnames = [p.name[:1] for p in people] or ["张"]

    def by_name(n):
        filterset = PersonFilterSet({"q": initials[n % len(initials)] if n % 2 else surnames[n % len(surnames)]},
                                    queryset=Person.objects.visible_to(township))
        filterset.filters["area"].extra["choices"] = []
        list(filterset.qs.order_by("name", "id")[:25])

    p50, p95 = percentiles(timed_ms(by_name, repeat))
    path = township.jurisdiction.path
    b50, b95 = percentiles(sql_ms(
        "SELECT p.* FROM persons_person p JOIN jurisdictions_jurisdiction j ON j.id = p.jurisdiction_id "
        "WHERE j.path LIKE %s AND p.name_initials LIKE %s ORDER BY p.name, p.id LIMIT 25",
        lambda n: [path + "%", initials[n % len(initials)] + "%"], repeat))
    results.add("look-up by name / pinyin prefix (scoped, first 25), p95", p95, "ms", b95, "ms hand SQL",
                "≤ 30 ms", p95 <= 30, p50=p50)


def bench_today(results: Results, users: dict, repeat: int):
    from persons import queries

    people = users["workers"] + users["townships"]

    def today(n):
        queries.today_list(people[n % len(people)])

    p50, p95 = percentiles(timed_ms(today, repeat))
    worker = users["workers"][0]
    b50, b95 = percentiles(sql_ms(
        "SELECT c.person_id, c.kind, min(c.due_on), count(*) FROM persons_plannedcheckin c "
        "JOIN persons_measure m ON m.id = c.measure_id JOIN persons_person p ON p.id = c.person_id "
        "WHERE c.done_id IS NULL AND m.ended_on IS NULL AND m.state = 'in_effect' AND c.due_on <= %s "
        "AND p.assigned_worker_id = %s GROUP BY 1, 2 ORDER BY 3 LIMIT 1000",
        [datetime.date.today() + datetime.timedelta(days=7), worker.pk], repeat))
    results.add("today list (queries.today_list; workers, townships), p95", p95, "ms", b95, "ms hand SQL",
                "≤ 150 ms", p95 <= 150, p50=p50)


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def bench_pages(results: Results, users: dict, repeat: int):
    from persons.models import Person

    readers = users["workers"][:2] + users["townships"][:2] + [users["office"], users["police"]]
    clients = [(u, client_for(u)) for u in readers]
    persons = {u.pk: list(Person.objects.visible_to(u).order_by("?").values_list("pk", flat=True)[:50])
               for u in readers}

    def get(url: str, client):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")

    def person_page(n):
        user, client = clients[n % len(clients)]
        ids = persons[user.pk]
        get(f"/persons/{ids[n % len(ids)]}/", client)

    for n in range(6):
        person_page(n)
    p50, p95 = percentiles(timed_ms(person_page, repeat))
    all_ids = [pk for ids in persons.values() for pk in ids]
    b50, b95 = percentiles(sql_ms(
        "SELECT p.*, (SELECT json_agg(c ORDER BY c.occurred_on DESC) FROM persons_checkin c "
        "WHERE c.person_id = p.id) FROM persons_person p WHERE p.id = %s",
        lambda n: [all_ids[n % len(all_ids)]], repeat))
    results.add("person page (6 users: worker, township, office, police), p95", p95, "ms", b95,
                "ms hand SQL", "≤ 150 ms", p95 <= 150, p50=p50)

    office_client = client_for(users["office"])
    township_client = client_for(users["townships"][0])
    filters = ["?status=community_treatment", "?overdue=true", "?risk=high", "?flagged=true&status=social_control",
               "?status=community_rehabilitation&overdue=true"]

    def list_page(n):
        client = office_client if n % 2 else township_client
        get("/persons/" + filters[n % len(filters)], client)

    list_page(0)
    p50, p95 = percentiles(timed_ms(list_page, repeat))
    path = users["office"].jurisdiction.path
    b50, b95 = percentiles(sql_ms(
        "SELECT p.* FROM persons_person p JOIN jurisdictions_jurisdiction j ON j.id = p.jurisdiction_id "
        "WHERE j.path LIKE %s AND p.control_status = %s ORDER BY p.name, p.id LIMIT 25",
        [path + "%", "community_treatment"], repeat))
    results.add("filtered person list page (office, township), p95", p95, "ms", b95, "ms hand SQL", "≤ 150 ms",
                p95 <= 150, p50=p50)
    return persons


def bench_sweep(results: Results):
    """The sweeps as production runs them: the rollups of the villages a batch changed are
    enqueued for the background worker when more than a few changed (monitoring.tasks), and
    the worker's recomputation is timed on its own (with the immediate task backend it ran
    inside the sweep's time: 136 s on the first of a month instead of about 40)."""
    from django.test.utils import override_settings

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}):
        _bench_sweep(results)


def _worker_recomputation() -> tuple[int, float]:
    """What the background worker then does: the villages still marked, recomputed."""
    from demo.province import PROVINCE_CODE
    from jurisdictions.models import Jurisdiction
    from monitoring import rollups

    started = time.perf_counter()
    count = rollups.refresh(Jurisdiction.objects.get(code=PROVINCE_CODE).path)
    return count, round(time.perf_counter() - started, 1)


def _bench_sweep(results: Results):
    from django.db import connection

    from core import sweep
    from persons.models import Person

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.person_id, m.kind, m.decided_on, m.reported_on, m.starts_on, m.ends_on, m.ended_on, "
            "c.id, c.kind, c.occurred_on, c.result, c.returned_on FROM persons_measure m "
            "LEFT JOIN persons_checkin c ON c.person_id = m.person_id AND c.kind IN ('drug_test', 'departure') "
            "WHERE m.person_id IN (SELECT person_id FROM persons_measure WHERE ended_on IS NULL)")
        cursor.fetchall()
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    outcome = sweep.run_all()
    seconds = time.perf_counter() - started
    recomputed = _worker_recomputation()
    started = time.perf_counter()
    sweep.run_all()
    again = time.perf_counter() - started
    results.add(f"daily sweep (jindu sweep) over {Person.objects.count():,} persons", round(seconds, 1), "s",
                round(baseline, 1), "s reading its facts", "≤ 60 s", seconds <= 60,
                second_run_seconds=round(again, 1), outcome=outcome,
                worker_recomputed_villages=recomputed[0], worker_recompute_seconds=recomputed[1])
    # The heaviest day: the first of a month, when every person managed in the community is
    # assessed again (the generator assessed them this month), on top of the daily flags.
    from dateutil.relativedelta import relativedelta

    from persons import services

    first = datetime.date.today() + relativedelta(months=1, day=1)
    started = time.perf_counter()
    flags = services.sweep_flags(first)
    risk = services.sweep_risk(first)
    monthly = time.perf_counter() - started
    recomputed = _worker_recomputation()
    results.add("sweep on the first of a month (flags + risk of everyone in the community)", round(monthly, 1), "s",
                round(baseline, 1), "s reading its facts", "≤ 60 s", monthly <= 60, outcome={"flags": flags,
                                                                                           "risk": risk},
                worker_recomputed_villages=recomputed[0], worker_recompute_seconds=recomputed[1])


def bench_dashboards(results: Results, users: dict, repeat: int):
    try:
        from monitoring import dashboards, indicators
    except ImportError:
        indicators = None
    if indicators is None or not hasattr(indicators, "evaluate"):
        results.add("county dashboard (indicators), p95", None, "", target="≤ 150 ms")
        results.add("province dashboard (indicators), p95", None, "", target="≤ 1 s")
        return
    from demo.province import PROVINCE_CODE
    from jurisdictions.models import Jurisdiction

    period = dashboards.default_period()
    for label, code, target_ms in (("county", users["county"], 150), ("province", PROVINCE_CODE, 1000)):
        node = Jurisdiction.objects.get(code=code)
        runs = max(5, repeat // 20)
        p50, p95 = percentiles(timed_ms(lambda n, node=node: indicators.evaluate(None, node, period), runs))
        b50, b95 = percentiles(sql_ms(
            "SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM persons_flag f WHERE f.person_id = m.person_id "
            "AND f.state = 'open' AND f.rule = 'serious_breach')), count(*) FROM persons_measure m "
            "JOIN persons_person p ON p.id = m.person_id JOIN jurisdictions_jurisdiction j ON j.id = p.jurisdiction_id "
            "WHERE j.path LIKE %s AND m.state = 'in_effect' AND m.kind <> 'compulsory_treatment'",
            [node.path + "%"], runs))
        results.add(f"{label} dashboard (monitoring.indicators.evaluate, all indicators), p95", p95, "ms", b95,
                    "ms hand SQL (execution rate)", f"≤ {target_ms} ms", p95 <= target_ms, p50=p50)
        # The whole page's data: cards, 24-month trends, ranking, map and breakdowns.
        viewer = users["office"] if label == "county" else users.get("province_leader") or users["office"]
        p50, p95 = percentiles(timed_ms(lambda n, node=node, viewer=viewer: dashboards.build(viewer, node, period),
                                        runs))
        results.add(f"{label} dashboard page data (monitoring.dashboards.build: cards, trends, ranking, map), p95",
                    p95, "ms", b95, "ms hand SQL (execution rate)", f"≤ {target_ms} ms", p95 <= target_ms, p50=p50)


def bench_import(results: Results, rows: int):
    try:
        from bench import ledger_import
    except ImportError:
        ledger_import = None
    if ledger_import is None or not hasattr(ledger_import, "run"):
        results.add(f"ledger import of {rows:,} rows end to end", None, "", target="≥ 10,000 rows/s, ≤ 4× baseline")
        return
    figures = ledger_import.run(rows=rows)
    results.add(f"ledger import of {rows:,} rows end to end", figures["rows_per_second"], "rows/s",
                figures["baseline_rows_per_second"], "rows/s calamine + COPY", "≥ 10,000 rows/s, ≤ 4× baseline",
                figures["rows_per_second"] >= 10_000 and figures["ratio"] <= 4, ratio=figures["ratio"],
                details=figures)


def bench_concurrent(results: Results, users: dict, persons: dict, clients: int, seconds: int, env: dict):
    """50 clients on loopback against nginx in front of `jindu serve` (gunicorn), as
    docs/operations.md deploys it, with wrk: the list, person and today pages as different
    users, each connection with its own session."""
    from bench import nginx
    from persons.models import Person

    wrk = shutil.which("wrk")
    if wrk is None or nginx.binary() is None:
        results.add(f"{clients} concurrent clients (wrk or nginx missing: scripts/system-deps.sh)", None, "",
                    target="p95 ≤ 500 ms, no errors")
        return
    readers = users["workers"] + users["townships"] + [users["office"], users["police"]]
    lines = []
    for user in readers:
        cookie = client_for(user).cookies["sessionid"].value
        ids = persons.get(user.pk) or list(Person.objects.visible_to(user).values_list("pk", flat=True)[:30])
        lines += [f"{cookie}\t/persons/{pk}/" for pk in ids[:20]]
        lines += [f"{cookie}\t/persons/?status=community_treatment", f"{cookie}\t/persons/?overdue=true"]
        lines.append(f"{cookie}\t/persons/today/")
    random.Random(1).shuffle(lines)
    workdir = Path(tempfile.mkdtemp(prefix="jindu-bench-"))
    requests_file = workdir / "requests.tsv"
    requests_file.write_text("\n".join(lines) + "\n")
    port, front = _free_port(), _free_port()
    # jindu serve's own defaults (one process per core, two threads each) unless
    # BENCH_WEB_WORKERS / BENCH_WEB_THREADS say otherwise.
    sizing = [arg for name, flag in (("BENCH_WEB_WORKERS", "--workers"), ("BENCH_WEB_THREADS", "--threads"))
              if os.environ.get(name) for arg in (flag, os.environ[name])]
    server = subprocess.Popen([str(ROOT / ".venv/bin/jindu"), "serve", "--no-worker", "--no-scheduler",
                               "--port", str(port), *sizing],
                              env=dict(env, JINDU_TRUSTED_PROXIES="127.0.0.1"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        with nginx.in_front_of(port, front):
            base = f"http://127.0.0.1:{front}"
            _wait_for(base + "/healthz")
            for line in lines[:5]:
                cookie, path = line.split("\t")
                request = urllib.request.Request(base + path, headers={"Cookie": f"sessionid={cookie}"})
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
                    if response.status != 200 or response.geturl() != base + path:
                        raise RuntimeError(f"{path}: {response.status} {response.geturl()}")
            health = _wrk(wrk, base, clients, max(5, seconds // 2), None)
            pages = _wrk(wrk, base, clients, seconds, requests_file)
            think_ms = int(os.environ.get("BENCH_THINK_MS", "1000"))
            users_thinking = _wrk(wrk, base, clients, seconds, requests_file, think_ms=think_ms)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    errors = pages["errors"]
    results.add(f"{clients} concurrent clients on list/person/today pages, requests/s", pages["rps"], "req/s",
                health["rps"], "req/s on /healthz", "", None, ratio=round(pages["rps"] / health["rps"], 3)
                if health["rps"] else None, details=pages)
    results.add(f"{clients} concurrent clients without pause (saturating), p95 (errors: {errors})", pages["p95_ms"],
                "ms", health["p95_ms"], "ms on /healthz", "p95 ≤ 500 ms, no errors",
                pages["p95_ms"] <= 500 and errors == 0, p50=pages["p50_ms"], requests=pages["requests"])
    thinking_errors = users_thinking["errors"]
    results.add(f"{clients} concurrent users pausing ~{think_ms} ms between pages, p95 "
                f"({users_thinking['rps']} req/s, errors: {thinking_errors})", users_thinking["p95_ms"], "ms",
                health["p95_ms"], "ms on /healthz", "p95 ≤ 500 ms, no errors",
                users_thinking["p95_ms"] <= 500 and thinking_errors == 0, p50=users_thinking["p50_ms"],
                requests=users_thinking["requests"], think_ms=think_ms)


def _wrk(wrk: str, base: str, clients: int, seconds: int, requests_file: Path | None, think_ms: int = 0) -> dict:
    args = [wrk, "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s", "--latency",
            "-s", str(ROOT / "bench" / "wrk.lua"), base + ("/" if requests_file else "/healthz")]
    env = dict(os.environ, BENCH_REQUESTS_FILE=str(requests_file or ""), BENCH_THINK_MS=str(think_ms))
    output = subprocess.run(args, capture_output=True, text=True, env=env, timeout=seconds + 60).stdout
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise RuntimeError(f"wrk gave no result:\n{output}")


def _free_port() -> int:
    from jindu.testing.postgres import free_port

    return free_port()


def _wait_for(url: str, seconds: int = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer at {url}")


def settle() -> None:
    """VACUUM ANALYZE, as autovacuum would after a batch job, before the next measurement."""
    from django.db import connection

    if connection.vendor == "postgresql" and connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def guarded(results: Results, name: str, bench, *args):
    """Run one benchmark (unless BENCH_ONLY names others); a failure becomes a row of the table
    (with its error) instead of ending the run."""
    import traceback

    only = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
    if only and name not in only:
        return None
    try:
        return bench(*args)
    except Exception as error:  # noqa: BLE001 (reported in the table and the JSON)
        traceback.print_exc()
        results.add(name, None, "", error=f"{type(error).__name__}: {error}")
        return None


# --- the run -----------------------------------------------------------------------------------------


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from jindu.testing.postgres import TemporaryPostgres

    persons = env_int("BENCH_PERSONS", 100_000)
    repeat = env_int("BENCH_REQUESTS", 200)
    import_rows = env_int("BENCH_IMPORT_ROWS", 100_000)
    out = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "results" / "latest.json")
    data_dir = tempfile.mkdtemp(prefix="jindu-bench-data-")
    server = TemporaryPostgres(settings={"shared_buffers": "256MB", "work_mem": "16MB",
                                         "maintenance_work_mem": "256MB", "max_wal_size": "4GB",
                                         "checkpoint_timeout": "30min"}).start()
    try:
        # The application reaches the server through its Unix socket, as on one machine it would
        # (jindu.testing.postgres.TemporaryPostgres.socket_url); wrk reaches gunicorn over TCP.
        env = {"DATABASE_URL": server.socket_url, "JINDU_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "jindu.settings",
               "JINDU_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "JINDU_TASK_BACKEND":
               "django_tasks.backends.immediate.ImmediateBackend"}
        os.environ.update(env)
        env = dict(os.environ)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import translation

        translation.activate("zh-hans")
        results = Results()
        print(f"bench: PostgreSQL at {server.socket_url}; {persons:,} persons", flush=True)
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from demo import province

        started = time.perf_counter()
        stats = province.generate(persons, password="Bench-Passw0rd-1", progress=lambda m: print("  " + m, flush=True))
        generated = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE") if connection.get_autocommit() else cursor.execute("ANALYZE")
        results.add(f"generate the province ({persons:,} persons, {stats['check-ins']:,} check-ins)",
                    round(generated, 1), "s", None, "", "minutes (≤ 600 s)", generated <= 600,
                    stats=dict(stats))
        users = pick_users()
        guarded(results, "look-ups", bench_lookups, results, users, repeat)
        guarded(results, "today list", bench_today, results, users, repeat)
        persons_seen = guarded(results, "pages", bench_pages, results, users, repeat) or {}
        guarded(results, "dashboards", bench_dashboards, results, users, repeat)
        # The pages under load before the sweep's batch writes: a night's sweep is vacuumed
        # after by autovacuum long before the day's users come; here it would still be running.
        guarded(results, "concurrent clients", bench_concurrent, results, users, persons_seen,
                env_int("BENCH_CLIENTS", 50), env_int("BENCH_SECONDS", 20), env)
        guarded(results, "sweep", bench_sweep, results)
        settle()
        guarded(results, "ledger import", bench_import, results, import_rows)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            pg_version = cursor.fetchone()[0]
        report = {
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(), "persons": persons, "requests_per_benchmark": repeat,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": pg_version,
                        "platform": platform.platform()},
            "rows": results.rows,
        }
        print()
        print(results.table())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str) + "\n")
        print(f"\nwritten to {out}")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
