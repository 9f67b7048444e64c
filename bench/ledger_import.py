"""Ledger import benchmark: a generated persons ledger of N rows (xlsx, as an office keeps it)
imported end to end — read, check, resolve villages, encrypt, upsert by blind index, audit —
next to a baseline measured in the same run on the same database: reading the same file with
python-calamine and a plain bulk insert of the same rows into a bare table (COPY on
PostgreSQL, executemany on SQLite). The ratio is the headline figure.

    python bench/ledger_import.py [--rows 100000] [--postgres]   # standalone
    bench.ledger_import.run(rows=100000) -> dict                    # from the bench harness

Needs a migrated database (the harness's, or the one DATABASE_URL names; ``--postgres`` starts
a throwaway PostgreSQL server as the tests do). Leaves the database as it found it: the bench
county, its files and their records are deleted afterwards (the audit entries stay, as they must).
"""

import argparse
import datetime
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

COUNTY = "990199"
TOWNSHIPS = 12
VILLAGES = 10
STATUSES = ["社区戒毒", "社区康复", "强制隔离戒毒", "戒断三年未复吸", "药物维持治疗", "社会面管控", "羁押"]
SUBSTANCES = ["海洛因", "冰毒", "K粉", "大麻", "海洛因、冰毒", "甲基苯丙胺", "氯胺酮"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国"
HEADERS = ["序号", "姓名", "性别", "身份证号码", "户籍地址", "现住址", "所属村(社区)", "吸食毒品种类", "初次发现日期",
           "管控现状", "就业居住情况", "联系电话", "备注"]


def _id_number(serial: int, rng: random.Random) -> str:
    from stdnum.cn import ric

    # Unique for 16 million serials: 1,000 per birth day, the days spread over 44 years.
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=((serial // 1000) * 97) % 16000)
    body = f"{COUNTY}{born:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_ledger(rows: int, seed: int = 7) -> bytes:
    """An xlsx ledger with a title, a 填报单位 line and ``rows`` valid rows, unique ID numbers."""
    import xlsxwriter

    rng = random.Random(seed)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("在册人员")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["基准县登记在册吸毒人员台账"])
    sheet.write_row(1, 0, ["填报单位:基准县禁毒办", "", "", "", "", "", "", "填报日期:2026年11月1日"])
    sheet.write_row(2, 0, HEADERS)
    used = set()
    serial = 0
    for n in range(rows):
        while True:
            serial += 1
            number = _id_number(serial, rng)
            if number not in used:
                used.add(number)
                break
        town, village = rng.randrange(TOWNSHIPS), rng.randrange(VILLAGES)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        row = 3 + n
        sheet.write_row(row, 0, [n + 1, name, "男" if int(number[16]) % 2 else "女", number,
                                 f"基准县第{town + 1}镇{village + 1}村", f"基准县第{town + 1}镇{village + 1}村",
                                 f"第{town + 1}镇第{village + 1}村"])
        sheet.write(row, 7, rng.choice(SUBSTANCES))
        sheet.write_datetime(row, 8, datetime.datetime(2008, 1, 1) + datetime.timedelta(days=rng.randrange(6000)),
                             date_format)
        sheet.write_row(row, 9, [rng.choice(STATUSES), rng.choice(("两有", "一有", "两无")),
                                 f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}", ""])
    book.close()
    return buffer.getvalue()


def _make_tree():
    """The bench county under its own province and city, with townships and villages, bulk."""
    from jurisdictions.choices import Level
    from jurisdictions.models import Jurisdiction

    def node(code, name, level, parent):
        return Jurisdiction(code=code, name=name, level=level, parent=parent,
                            path=Jurisdiction.build_path(code, parent),
                            depth=(parent.depth + 1) if parent else 0, county_code=code[:6] if len(code) >= 6
                            and level not in (Level.PROVINCE, Level.CITY) else "")

    existing = Jurisdiction.objects.filter(code=COUNTY).first()
    if existing is not None:
        return existing
    province = Jurisdiction.objects.filter(code="990000").first()
    if province is None:
        province = node("990000", "演示省", Level.PROVINCE, None)
        province.save()
    city = Jurisdiction.objects.filter(code="990100").first()
    if city is None:
        city = node("990100", "演示市", Level.CITY, province)
        city.save()
    county = node(COUNTY, "基准县", Level.COUNTY, city)
    county.save()
    towns = Jurisdiction.objects.bulk_create([node(f"{COUNTY}{t + 1:03d}", f"第{t + 1}镇", Level.TOWNSHIP, county)
                                              for t in range(TOWNSHIPS)])
    Jurisdiction.objects.bulk_create([node(f"{town.code}{v + 1:03d}", f"第{v + 1}村", Level.VILLAGE, town)
                                      for town in towns for v in range(VILLAGES)])
    return county


def _cleanup(county) -> None:
    from django.db import connection

    from jurisdictions.models import Jurisdiction
    from persons.models import Person, PersonRecord, PersonSubstance

    people = Person.objects.filter(county_code=county.code)
    for model in PersonRecord.__subclasses__():
        model.objects.filter(person__in=people).delete()
    PersonSubstance.objects.filter(person__in=people).delete()
    people.delete()
    for depth in sorted(set(Jurisdiction.objects.filter(path__startswith=county.path).values_list("depth", flat=True)),
                        reverse=True):
        Jurisdiction.objects.filter(path__startswith=county.path, depth=depth).delete()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_ledger")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, parent, …; utime and
    stime are the 12th and 13th)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process on this machine has used, from /proc; None where
    it cannot be read (another machine's server, another system)."""
    try:
        fields = _stat(pid)
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_processes(backend: int) -> list[int]:
    """The PostgreSQL server's long-lived processes besides the session's backend (checkpointer,
    background and WAL writers, autovacuum launcher …): the postmaster's other children, as
    /proc shows them. Short-lived ones (an autovacuum worker) are not counted."""
    try:
        postmaster = int(_stat(backend)[1])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return []
    return [int(pid) for pid in children if int(pid) != backend]


class CpuMeter:
    """CPU seconds spent between ``start()`` and ``stop()`` by this process, by the forked
    workers it reaped in between, and (PostgreSQL on this machine) by the session's backend and
    the server's other long-lived processes. Wall time on 2 cores says little about where the
    work is; these say which part would have to shrink."""

    def __init__(self):
        from django.db import connection

        self.backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend = cursor.fetchone()[0]
        self.others = _server_processes(self.backend) if self.backend else []

    def _read(self) -> dict:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        others = [_process_cpu(pid) for pid in self.others]
        return {"this process": me.ru_utime + me.ru_stime, "forked workers": children.ru_utime + children.ru_stime,
                "PostgreSQL backend": _process_cpu(self.backend) if self.backend else None,
                "PostgreSQL other processes": sum(o for o in others if o is not None) if self.others else None}

    def start(self) -> "CpuMeter":
        self.started = self._read()
        return self

    def stop(self) -> dict:
        ended = self._read()
        spent = {name: round(ended[name] - self.started[name], 2) for name in ended
                 if ended[name] is not None and self.started[name] is not None}
        spent["total"] = round(sum(spent.values()), 2)
        return spent


def _baseline(data: bytes) -> float:
    """Seconds to read the file with python-calamine and bulk-insert its rows into a bare table."""
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[3:]
    values = [[str(v) for v in row] for row in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_ledger")
        cursor.execute("CREATE TABLE bench_plain_ledger (" + ", ".join(f"c{i} text" for i in range(len(HEADERS)))
                       + ")")
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_plain_ledger FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(HEADERS))
            cursor.executemany(f"INSERT INTO bench_plain_ledger VALUES ({marks})", values)
    return time.perf_counter() - started


def run(rows: int = 100_000, seed: int = 7, verbose: bool = True) -> dict:
    from django.db import connection
    from django.test.utils import override_settings

    from persons import services
    from persons.importers import read_ledger

    say = print if verbose else (lambda *a, **k: None)
    county = _make_tree()
    try:
        say(f"ledger import: generating {rows:,} rows …", flush=True)
        data = make_ledger(rows, seed)
        meter = CpuMeter().start()
        baseline = _baseline(data)
        baseline_cpu = meter.stop()
        say(f"  baseline (calamine + {'COPY' if connection.vendor == 'postgresql' else 'executemany'}): "
            f"{baseline:.2f} s", flush=True)
        # As in production, the rollups of the villages the import changed are recomputed by the
        # background worker after the commit: the import enqueues that task (database backend)
        # and its time is measured on its own below, not inside the import's.
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                                  "QUEUES": ["default"]}}):
            meter.start()
            started = time.perf_counter()
            ledger = read_ledger(data, "bench.xlsx")
            read_at = time.perf_counter()
            read_cpu = meter.stop()
            meter.start()
            result = services.do_import_persons(ledger, acting_user=None, jurisdiction=county, source="bench.xlsx")
            elapsed = time.perf_counter() - started
            write_cpu = meter.stop()
        from jurisdictions.models import Jurisdiction
        from monitoring import rollups

        villages = list(Jurisdiction.objects.filter(path__startswith=county.path).values_list("pk", flat=True))
        recompute_started = time.perf_counter()
        recomputed = rollups.recompute_dirty(villages)  # the enqueued task's work: dirty or not rolled up yet
        recompute_seconds = time.perf_counter() - recompute_started
        if result.rejected or result.imported != rows:
            raise RuntimeError(f"bench ledger not imported cleanly: {result.as_dict()['rejected'][:3]}")
        again = time.perf_counter()
        second = services.do_import_persons(read_ledger(data, "bench.xlsx"), acting_user=None, jurisdiction=county,
                                            source="bench.xlsx", dry_run=True)
        reimport = time.perf_counter() - again
        figures = {
            "database": connection.vendor, "rows": rows, "seconds": round(elapsed, 2),
            "read_check_seconds": round(read_at - started, 2), "write_seconds": round(elapsed - (read_at - started), 2),
            "rows_per_second": round(rows / elapsed), "baseline_seconds": round(baseline, 2),
            "baseline_rows_per_second": round(rows / baseline), "ratio": round(elapsed / baseline, 2),
            "reimport_check_seconds": round(reimport, 2), "reimport_unchanged": second.unchanged,
            "rollups_recomputed_villages": recomputed, "rollups_recompute_seconds": round(recompute_seconds, 2),
            "cpu_seconds": {"read_check": read_cpu, "write": write_cpu, "baseline": baseline_cpu},
        }
        say(f"  jindu import: {elapsed:.2f} s = {figures['rows_per_second']:,} rows/s (read and check "
            f"{figures['read_check_seconds']} s, write {figures['write_seconds']} s); ratio to baseline "
            f"{figures['ratio']}×; checking the same file again: {reimport:.2f} s, {second.unchanged:,} unchanged; "
            f"the worker's recomputation of the {recomputed} villages' rollups afterwards: {recompute_seconds:.1f} s",
            flush=True)
        say(f"  CPU seconds: read and check {read_cpu}; write {write_cpu}; baseline {baseline_cpu}", flush=True)
        return figures
    finally:
        _cleanup(county)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jindu.settings")
    server = None
    if args.postgres:
        from jindu.testing.postgres import TemporaryPostgres

        server = TemporaryPostgres(settings={"fsync": "off"}).start()
        os.environ["DATABASE_URL"] = server.socket_url
    try:
        import django
        from django.core.management import call_command

        django.setup()
        if args.postgres or not os.environ.get("DATABASE_URL"):
            call_command("migrate", verbosity=0)
        import json

        print(json.dumps(run(args.rows), ensure_ascii=False))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
