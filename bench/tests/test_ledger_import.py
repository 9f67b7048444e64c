"""The import benchmark on a small ledger: it must import every row, leave the database as it
found it, and say where the CPU went (a broken benchmark would only show in `make bench`)."""

import pytest
from django.db import connection

from bench import ledger_import
from jurisdictions.models import Jurisdiction
from persons.models import Person


@pytest.mark.django_db
def test_the_import_benchmark_imports_every_row_and_leaves_the_database_as_it_was():
    figures = ledger_import.run(rows=120, verbose=False)
    assert figures["rows"] == 120 and figures["reimport_unchanged"] == 120
    # The bench county, its townships, villages and files are gone (its province and city stay).
    assert not Person.objects.exists()
    assert not Jurisdiction.objects.filter(code__startswith=ledger_import.COUNTY).exists()
    cpu = figures["cpu_seconds"]
    assert set(cpu) == {"read_check", "write", "baseline"}
    for spent in cpu.values():
        assert spent["total"] == pytest.approx(sum(v for k, v in spent.items() if k != "total"), abs=0.02)
    if connection.vendor == "postgresql":  # the test server runs on this machine: /proc shows it
        assert all("PostgreSQL backend" in spent for spent in cpu.values())


def test_a_process_cpu_is_read_from_proc_and_none_where_it_cannot_be():
    import os

    assert ledger_import._process_cpu(os.getpid()) > 0
    assert ledger_import._process_cpu(2 ** 22 + 1) is None  # above the kernel's largest pid
