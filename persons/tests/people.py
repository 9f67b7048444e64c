"""Person files for the page tests, made through the services as the command-line operator."""

import datetime
import itertools

from django.utils import timezone
from stdnum.cn import ric

from persons import services
from persons.choices import ControlStatus, MeasureKind

_serial = itertools.count(101)


def id_number(birth: str | None = None, area: str = "110101", serial: int | None = None, sex: str = "M") -> str:
    """A valid, unique 18-digit ID number (GB 11643 check digit); the 17th digit is odd for men."""
    # Numbers drawn from the counter are born from 1975 on, those of a serial the test chose from
    # 1970 on: the counter, reaching 311 after enough tests, never repeats a test's own number.
    base = datetime.date(1975, 1, 1) if serial is None else datetime.date(1970, 1, 1)
    serial = next(_serial) if serial is None else serial
    if birth is None:
        birth = (base + datetime.timedelta(days=serial // 400)).strftime("%Y%m%d")
    seq = f"{(serial % 400) * 2 + (1 if sex == 'M' else 0):03d}"
    body = f"{area}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


def person(village, name: str = "张三", *, status: str = ControlStatus.SOCIAL_CONTROL, since_days: int = 400,
           number: str | None = None, sex: str = "M", **fields):
    fields.setdefault("family_support", True)  # answered: an unknown one is a risk factor of its own
    return services.do_create_person(
        acting_user=None, name=name, id_number=number or id_number(sex=sex), jurisdiction=village, control_status=status,
        control_status_since=timezone.localdate() - datetime.timedelta(days=since_days), **fields)


def under_treatment(village, name: str = "李四", *, decided_days_ago: int = 130, reported_days_ago: int = 120,
                    **fields):
    """A person under community treatment who reported in ``reported_days_ago`` days ago: the
    check-in plan since then is open, so some of it is overdue."""
    someone = person(village, name, **fields)
    today = timezone.localdate()
    measure = services.do_decide_measure(someone, MeasureKind.COMMUNITY_TREATMENT,
                                         today - datetime.timedelta(days=decided_days_ago), acting_user=None,
                                         decision_number="示公(禁)社戒决字〔2026〕1号")
    if reported_days_ago is not None:
        services.do_report_in(measure, today - datetime.timedelta(days=reported_days_ago), acting_user=None)
    someone.refresh_from_db()
    return someone
