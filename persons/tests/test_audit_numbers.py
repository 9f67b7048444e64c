"""No ID number, phone or full name in the audit log (issue 19, item 3).

The audit administrator reads the log and exports it, and must never read personal data. Here
the entries are made the way users make them — searches by full number on the page and the API
(typed plainly, in groups and in full-width digits, and into the name box) and by name, exports filtered by
number, files opened through the form with phones and numbers in their notes, edits, reveals,
a ledger import, a failed sign-in with a number for a name, a break-glass reason quoting a
phone — and then every field of every entry, the auditor's pages (the log, the break-glass
grants) and the auditor's export are searched for the numbers and names.
"""

import io
import re
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core import services as core_services
from core.models import AuditEntry
from core.roles import Role
from jindu.testing import clock
from persons import services
from persons.importers import read_ledger
from persons.models import Person
from persons.tests import people
from persons.tests.ledger_files import xlsx

pytestmark = pytest.mark.time_machine(clock.NOW)

HEADER = ["序号", "姓名", "性别", "身份证号码", "所属村(社区)", "管控现状", "联系电话", "备注"]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
SURNAMES = "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文"


def _name(n: int) -> str:
    return SURNAMES[2 * (n % 8):2 * (n % 8) + 2] + "春花秋月夏雨冬雪"[n % 8] + "甲乙丙丁戊己庚辛壬癸"[n // 8 % 10]


def _phone(n: int) -> str:
    return f"139{n:04d}{n * 7 % 10000:04d}"


def _entry_text(entry: AuditEntry) -> str:
    import json

    return " ".join(str(getattr(entry, f.attname)) for f in AuditEntry._meta.concrete_fields
                    if f.attname != "changes") + " " + json.dumps(entry.changes, ensure_ascii=False)


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(book.read(name).decode() for name in book.namelist() if name.startswith("xl/"))


def _leaks(text: str, secrets: dict[str, str]) -> set[str]:
    """Which secrets ``text`` holds, spaces, hyphens and full-width digits read as offices type them."""
    flat = re.sub(r"[ \-]", "", text).translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
    return {label for label, secret in secrets.items() if secret in flat}


def test_the_audit_log_holds_no_number_phone_or_name(tree):
    township, village = tree["townships"][0], tree["villages"][0]
    writer = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    outsider = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    auditor = UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN])
    client = Client()
    client.force_login(writer)
    today = timezone.localdate()
    secrets, persons = {}, []
    for n in range(20):
        number, phone, name = people.id_number(serial=5000 + n), _phone(n), _name(n)
        other = people.id_number(serial=6000 + n)
        secrets |= {f"number {n}": number, f"phone {n}": phone, f"name {n}": name, f"other number {n}": other}
        response = client.post(reverse("persons:create"), {
            "name": name, "id_number": number, "jurisdiction": village.pk, "control_status": "social_control",
            "control_status_since": today.isoformat(), "phone": phone, "family_support": "on",
            "family_contacts": f"母亲 {_phone(n + 100)}", "current_address": f"东门路{n}号（电话{_phone(n + 200)}）",
            "notes": f"曾用身份证号{other}，手机{phone}"})
        assert response.status_code == 302, response.content.decode()[:2000]
        secrets |= {f"contact {n}": _phone(n + 100), f"address phone {n}": _phone(n + 200)}
        person = Person.objects.get(name=name)
        persons.append(person)
        assert client.get(reverse("persons:detail", args=[person.pk])).status_code == 200
        # Searched by number on the page, in groups, in full-width digits, in the name box; the API; an export.
        for query in ({"id_number": number}, {"id_number": f"{number[:6]} {number[6:14]} {number[14:]}"},
                      {"id_number": number.translate(FULL_WIDTH)}, {"q": number}, {"q": phone}, {"q": name}):
            assert client.get(reverse("persons:list"), query).status_code == 200
        assert client.get("/api/persons/", {"id_number": number}).json()["count"] == 1
        assert client.get("/api/persons/", {"q": name}).json()["count"] == 1
        assert client.get(reverse("persons:list"), {"id_number": number, "export": "xlsx"}).status_code == 200
        assert client.post(reverse("core:reveal", args=["persons.Person", person.pk, "id_number"])).status_code == 200
        services.do_update_person(person, expected_version=person.version, acting_user=writer,
                                  phone=_phone(n + 300), notes=f"新号码{_phone(n + 300)}")
        secrets[f"new phone {n}"] = _phone(n + 300)
    # A ledger import by the command-line operator and through a user.
    rows = [HEADER]
    for n in range(20, 25):
        number, phone, name = people.id_number(serial=5000 + n), _phone(n), _name(n)
        secrets |= {f"number {n}": number, f"phone {n}": phone, f"name {n}": name}
        rows.append([n, name, "男", number, village.name, "社区戒毒", phone, f"电话 {phone}"])
    ledger = read_ledger(xlsx(rows), f"台账{_phone(99)}.xlsx")
    secrets["file phone"] = _phone(99)
    result = services.do_import_persons(ledger, acting_user=writer, jurisdiction=township, source="台账")
    assert result.imported == 5, [e.message for e in result.rejected]
    # A sign-in with an ID number for a name; a break-glass reason quoting a phone.
    Client().post(reverse("accounts:login"), {"username": secrets["number 0"], "password": "x"})
    core_services.do_break_glass(Person, persons[0].pk, f"当事人来电{secrets['phone 0']}，需核实其档案情况",
                                 acting_user=outsider)

    entries = list(AuditEntry.objects.order_by("seq"))
    leaking = {e.seq: _leaks(_entry_text(e), secrets) for e in entries}
    leaking = {seq: found for seq, found in leaking.items() if found}
    actions = {e.seq: e.action for e in entries}

    def holding(kind):
        by_action = {}
        for seq, found in leaking.items():
            if any(kind in label for label in found):
                by_action[actions[seq]] = by_action.get(actions[seq], 0) + 1
        return f"{sum(by_action.values())} {by_action}"

    assert not leaking, (f"of {len(entries)} entries, {holding('number')} hold an ID number, {holding('phone')} "
                         f"a phone, {holding('name')} a name")
    assert len(entries) > 200

    reader = Client()
    reader.force_login(auditor)
    pages, page = [], 1
    while True:
        response = reader.get(reverse("core:audit_list"), {"page": page})
        assert response.status_code == 200
        pages.append(response.content.decode())
        if not response.context["table"].page.has_next():
            break
        page += 1
    assert not _leaks("".join(pages), secrets)
    export = reader.get(reverse("core:audit_list"), {"export": "xlsx"})
    assert export.status_code == 200
    assert not _leaks(_xlsx_text(export.content), secrets)
    grants = reader.get(reverse("core:break_glass_list")).content.decode()
    assert "需核实其档案情况" in grants and not _leaks(grants, secrets)
    # The entries still say what happened, to which file (by id), and to whom the number was shown.
    first = persons[0]
    kinds = set(AuditEntry.objects.filter(object_id=str(first.pk), object_type="persons.Person")
                .values_list("action", flat=True))
    assert {"create", "update", "reveal", "view", "break_glass"} <= kinds
    search = AuditEntry.objects.filter(action="search", changes__criteria__has_key="id_number").order_by("seq")[0]
    assert search.changes["criteria"]["id_number"] == first.id_number[:6] + "*" * 10 + first.id_number[-2:]
