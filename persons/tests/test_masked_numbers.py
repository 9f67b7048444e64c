"""A masked ID number cannot be rebuilt from what a role receives (issue 19, item 1).

For generated persons (valid GB 11643 numbers from python-stdnum), each role collects
everything it is sent about the person without revealing — the person page, the list page,
the API record and list, and the two exports where it may export — and tries every number
consistent with it: the masked number's known characters, the check digit, the sex (the
17th digit's parity) and the age, with each date it was sent taken in turn as the birth date.
No such attempt may leave the person's number alone, and even the true birth date learnt
elsewhere (the age as it turns, an acquaintance) must leave more than one number.
"""

import contextlib
import datetime
import io
import json
import re
from dataclasses import dataclass

import openpyxl
import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric

from accounts.tests.factories import MemberUnitFactory, UserFactory
from core.roles import Role
from jindu.testing import clock
from persons import rules, services, support
from persons.choices import ControlStatus, SupportKind
from persons.models import Person

pytestmark = pytest.mark.time_machine(clock.NOW)

BIRTH = slice(6, 14)
MASK = re.compile(r"(?<![0-9A-Za-z*])[0-9X*]{18}(?![0-9A-Za-z*])")
DATES = [re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"),
         re.compile(r"(?<!\d)(\d{4})年(\d{1,2})月(\d{1,2})日"),
         re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)"),
         re.compile(r"(?<![\d*])(\d{4})(\d{2})(\d{2})(?![\d*])")]


@dataclass
class Received:
    """What one role was sent about the person: texts, and the cells of the exports."""

    texts: list[str]
    cells: list

    def masks(self) -> set[str]:
        return {m for text in self.texts for m in MASK.findall(text) if "*" in m}

    def dates(self) -> set[datetime.date]:
        found = set()
        for text in [*self.texts, *(str(c) for c in self.cells if isinstance(c, str))]:
            for pattern in DATES:
                for y, m, d in pattern.findall(text):
                    with contextlib.suppress(ValueError):
                        found.add(datetime.date(int(y), int(m), int(d)))
        found |= {c.date() if isinstance(c, datetime.datetime) else c for c in self.cells
                  if isinstance(c, datetime.date)}
        return found


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def candidates(mask: str, sex: str, births) -> set[str]:
    """Every 18-character number that shows as ``mask``, has one of ``births`` inside, the
    sex's parity in its 17th digit and a right check digit (GB 11643 MOD 11-2): the attacker's
    enumeration of what fits."""
    head = mask[:6]
    assert "*" not in head, "the area code is taken as shown (the registered residence says it anyway)"
    digits = "0123456789"
    options = [digits if mask[i] == "*" else mask[i] for i in (14, 15, 16)]
    options[2] = [d for d in options[2] if int(d) % 2 == (1 if sex == "M" else 0)]
    found = set()
    for born in births:
        middle = born.strftime("%Y%m%d")
        if any(k not in ("*", c) for k, c in zip(mask[BIRTH], middle, strict=True)):
            continue
        start = head + middle
        partial = sum(w * int(c) for w, c in zip(WEIGHTS, start, strict=False))
        for d15 in options[0]:
            for d16 in options[1]:
                for d17 in options[2]:
                    check = CHECK[(partial + 8 * int(d15) + 4 * int(d16) + 2 * int(d17)) % 11]
                    if mask[17] in ("*", check):
                        found.add(start + d15 + d16 + d17 + check)
    return found


def ages_window(age: int, today: datetime.date) -> list[datetime.date]:
    """Every birth date giving ``age`` whole years today."""
    first = today - datetime.timedelta(days=366 * (age + 1))
    days = (first + datetime.timedelta(days=n) for n in range((today - first).days + 1))
    return [day for day in days if rules.age_on(day, today) == age]


def xlsx_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [value for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
            for value in row if value is not None]


def received(client: Client, person) -> Received:
    detail = client.get(reverse("persons:detail", args=[person.pk]))
    assert detail.status_code == 200, detail.status_code
    listing = client.get(reverse("persons:list") + f"?q={person.name}")
    api_record = client.get(f"/api/persons/{person.pk}/")
    api_list = client.get(f"/api/persons/?q={person.name}")
    texts = [detail.content.decode(), listing.content.decode(), json.dumps(api_record.json(), ensure_ascii=False),
             json.dumps(api_list.json(), ensure_ascii=False)]
    cells = []
    for kind in ("xlsx", "roster"):
        export = client.get(reverse("persons:list") + f"?q={person.name}&export={kind}")
        if export.status_code == 200:
            cells += xlsx_cells(export.content)
    texts += [c for c in cells if isinstance(c, str)]
    return Received(texts, cells)


NAMES = st.text(alphabet="张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高", min_size=2, max_size=3)


def _counties(prefixes, above="") -> list[str]:
    """The area codes python-stdnum knows as counties (its cn/loc database) in force in every
    year (no "[1982-2015]" before the name), so that any birth date makes a valid number."""
    codes = []
    for _length, low, high, props, children in prefixes:
        for n in range(int(low), int(high) + 1):
            code = above + str(n).zfill(len(low))
            if children:
                codes += _counties(children, code)
            elif "county" in props and "[" not in props["county"]:
                codes.append(code)
    return codes


AREAS = sorted(code for code in _counties(numdb.get("cn/loc").prefixes) if len(code) == 6)


@st.composite
def id_numbers(draw):
    """A valid 居民身份证号码 as python-stdnum checks it (area code, birth date, check digit)."""
    area = draw(st.sampled_from(AREAS))
    born = draw(st.dates(datetime.date(1940, 1, 1), clock.TODAY - datetime.timedelta(days=14 * 366)))
    serial = f"{draw(st.integers(0, 999)):03d}"
    body = area + born.strftime("%Y%m%d") + serial
    number = body + ric.calc_check_digit(body + "0")  # stdnum takes the number with a check character
    assert ric.is_valid(number), number
    return number


@pytest.fixture
def readers(tree):
    """One client per role that reads person files without the reveal (social worker: assigned)."""
    township, county = tree["townships"][0], tree["county"]
    users = {"office": UserFactory(jurisdiction=county, roles=[Role.OFFICE]),
             "township": UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]),
             "police": UserFactory(jurisdiction=township, roles=[Role.POLICE]),
             "worker": UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER]),
             "member_unit": UserFactory(jurisdiction=county, roles=[Role.MEMBER_UNIT],
                                        member_unit=MemberUnitFactory(name="测试县教育局", jurisdiction=county))}
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return users, clients


# Mobile numbers of prefixes in service (a phone is checked by libphonenumber, rules.normalise_phone).
MOBILE_PREFIXES = [*range(130, 140), *range(150, 154), *range(155, 160), *range(180, 190), 166, 173, 175, 176, 177, 178,
                   198, 199]
PHONES = st.builds(lambda prefix, rest: f"{prefix}{rest:08d}", st.sampled_from(MOBILE_PREFIXES),
                   st.integers(0, 99_999_999))


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(number=id_numbers(), name=NAMES, phone=PHONES)
def test_no_role_can_rebuild_a_masked_number(tree, readers, number, name, phone):
    users, clients = readers
    today = timezone.localdate()
    with transaction.atomic():
        person = services.do_create_person(
            acting_user=None, name=name, id_number=number, jurisdiction=tree["villages"][0],
            control_status=ControlStatus.COMMUNITY_TREATMENT, control_status_since=today - datetime.timedelta(days=30),
            phone=phone, assigned_worker=users["worker"])
        # A member unit sees a person only through a support task (without one: nothing at all).
        support.do_assign_support_task(person, users["member_unit"].member_unit, SupportKind.SCHOOLING, "协助复学",
                                       today + datetime.timedelta(days=30), acting_user=users["office"])
        age, sex = rules.age_on(person.birth_date, today), person.sex
        window = ages_window(age, today)
        for role, client in clients.items():
            got = received(client, person)
            assert number not in "".join(got.texts), f"{role} received the full number"
            masks = got.masks()
            assert masks, f"{role} received no masked number"
            for mask in masks:
                by_age = candidates(mask, sex, window)
                assert number in by_age  # the attack is sound: the true number fits what is shown
                rebuilt = [d for d in got.dates() if candidates(mask, sex, [d]) == {number}]
                known_birth = candidates(mask, sex, [person.birth_date])
                assert not rebuilt, f"{role}: {mask} with the date {rebuilt[0]} they were sent gives {number}"
                assert len(by_age) > 1, f"{role}: {mask} at age {age} leaves only {number}"
                assert len(known_birth) > 1, f"{role}: {mask} with the birth date known leaves only {number}"
        transaction.set_rollback(True)


def test_the_list_sorted_by_age_says_no_more_than_the_age(tree, readers):
    """Sorted by the birth date, the list would place a birthday between those of files whose
    numbers one knows (revealed, or opened oneself) to the day; by whole years, then the name,
    it places nobody within a year."""
    _users, clients = readers
    today = timezone.localdate()
    same_age = today.replace(year=today.year - 30) - datetime.timedelta(days=1)
    # Born on three days of the same year of age, in the reverse order of their names.
    by_name = ["丙", "乙", "甲"]  # as the database orders them
    for name, days in zip(by_name, (300, 150, 2), strict=True):
        born = same_age - datetime.timedelta(days=days)
        body = f"110101{born:%Y%m%d}001"
        services.do_create_person(acting_user=None, name=name, id_number=body + rules.check_digit(body),
                                  jurisdiction=tree["villages"][0], control_status=ControlStatus.SOCIAL_CONTROL,
                                  control_status_since=today)
    older = f"110101{today.year - 40}0101001"
    services.do_create_person(acting_user=None, name="丁", id_number=older + rules.check_digit(older),
                              jurisdiction=tree["villages"][0], control_status=ControlStatus.SOCIAL_CONTROL,
                              control_status_since=today)
    assert list(Person.objects.filter(name__in=by_name).order_by("name").values_list("name", flat=True)) == by_name
    for sort, expected in (("sex_age", [*by_name, "丁"]), ("-sex_age", ["丁", *by_name])):
        response = clients["township"].get(reverse("persons:list") + f"?sort={sort}")
        names = [row.record.name for row in response.context["table"].paginated_rows]
        assert names == expected, sort


def test_the_roles_that_may_reveal_still_do_one_file_at_a_time_audited(tree, readers):
    """The full number, and with it the birth date, comes only from the reveal: audited, and
    refused to the member unit."""
    from core.models import AuditEntry

    users, clients = readers
    body = f"110101{clock.TODAY.year - 30}0307123"
    person = services.do_create_person(
        acting_user=None, name="揭示", id_number=body + rules.check_digit(body), jurisdiction=tree["villages"][0],
        control_status=ControlStatus.SOCIAL_CONTROL, control_status_since=timezone.localdate(),
        assigned_worker=users["worker"])
    url = reverse("core:reveal", args=["persons.Person", person.pk, "id_number"])
    for role in ("office", "township", "police", "worker"):
        response = clients[role].post(url)
        assert response.status_code == 200 and person.id_number in response.content.decode(), role
        entry = AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).latest("seq")
        assert (entry.actor, entry.object_id, entry.changes) == (users[role], str(person.pk), {"field": "id_number"})
        assert person.id_number not in str(entry.changes) + entry.object_repr
    assert clients["member_unit"].post(url).status_code == 403


def test_a_number_tried_on_the_new_file_form_is_audited_like_a_search(tree, readers):
    """The form says whether a number is on file: trying the numbers that fit a mask there one by
    one would confirm the right one without a trace. Each refusal is audited as a search by it."""
    from core.models import AuditEntry

    users, clients = readers
    body = f"110101{clock.TODAY.year - 30}0307123"
    number = body + rules.check_digit(body)
    services.do_create_person(acting_user=None, name="在册", id_number=number, jurisdiction=tree["villages"][0],
                              control_status=ControlStatus.SOCIAL_CONTROL, control_status_since=timezone.localdate())
    searches = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH)
    before = searches.count()
    response = clients["township"].post(reverse("persons:create"), {
        "name": "再建", "id_number": number, "jurisdiction": tree["villages"][0].pk,
        "control_status": ControlStatus.SOCIAL_CONTROL, "control_status_since": timezone.localdate().isoformat()})
    assert response.status_code == 400 and "该身份证号的档案已存在" in response.content.decode()
    assert Person.objects.filter(name="再建").count() == 0
    [entry] = searches.order_by("-seq")[: searches.count() - before]
    assert entry.actor == users["township"]
    assert entry.changes == {"criteria": {"id_number": number[:6] + "*" * 10 + number[-2:]}, "results": 1,
                             "refused": "create"}
