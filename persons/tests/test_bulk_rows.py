"""core.bulk on a real model with encrypted and indexed fields (Person): what the bulk path
stores is what ``save()`` would have stored."""

import datetime

from django.db import connection, transaction

from core import bulk
from core.fields import blind_lookup
from persons.models import Person, StatusChange
from persons.tests.people import id_number


def test_rows_store_what_save_would(township):
    village = township.children.first() or township
    number = id_number("19800101", serial=7001)
    with transaction.atomic():
        rows = bulk.Rows(Person, with_pk=True)
        [pk] = bulk.reserve_ids_any(Person, 1)
        rows.row(id=pk, name="批量", name_initials="pl", id_number=number, sex="M", birth_date=datetime.date(1980, 1, 1),
                 jurisdiction_id=village.pk, county_code=village.county_code, control_status="social_control",
                 control_status_since=datetime.date(2024, 1, 1), phone="13800001234")
        assert rows.write() == 1
        statuses = bulk.Rows(StatusChange)
        statuses.row(person_id=pk, county_code=village.county_code, status="social_control",
                     changed_on=datetime.date(2024, 1, 1))
        statuses.write()
    person = Person.objects.get(pk=pk)
    assert (person.id_number, person.phone, person.version, person.family_support) == (number, "13800001234", 1, None)
    assert person.created_at is not None and person.family_contacts == ""
    assert Person.objects.filter(**blind_lookup(Person, "id_number", number)).get() == person
    assert person.status_changes.get().status == "social_control"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM persons_person WHERE id = %s", [pk])
        stored = cursor.fetchone()
    assert number not in stored[0] and "13800001234" not in stored[1]
    # the next key is past the reserved one, on either database
    assert bulk.reserve_ids_any(Person, 1)[0] > pk


def test_checked_as_written_checks_the_foreign_keys_as_each_statement_ends(db):
    """PostgreSQL: Django's foreign keys are checked at the commit; inside checked_as_written as
    each COPY ends (an import's checks overlap its work), and deferred again after it."""
    import pytest

    if connection.vendor != "postgresql":
        pytest.skip("SQLite checks its foreign keys at the commit")
    from psycopg.errors import ForeignKeyViolation  # COPY goes through psycopg's own cursor

    def orphan():
        rows = bulk.Rows(StatusChange)
        rows.row(person_id=-1, county_code="", status="social_control", changed_on=datetime.date(2024, 1, 1))
        rows.write()

    with transaction.atomic():
        orphan()  # accepted for now: the check waits for the commit
        transaction.set_rollback(True)
    with pytest.raises(ForeignKeyViolation), transaction.atomic(), bulk.checked_as_written():
        orphan()
    with transaction.atomic():
        with bulk.checked_as_written():
            pass
        orphan()  # deferred again after the block
        transaction.set_rollback(True)
