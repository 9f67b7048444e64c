"""Reporting periods (统计期间) for the indicators: a month, a quarter, a year or any span of days.

Contract (the dashboards and the generated documents code against it)::

    Period.month(2024, 6)            # kind "month",   2024-06-01 .. 2024-06-30
    Period.quarter(2024, 2)          # kind "quarter", 2024-04-01 .. 2024-06-30
    Period.year(2024)                # kind "year",    2024-01-01 .. 2024-12-31
    Period.custom(start, end)        # kind "custom",  both days included
    Period.parse("2024-06" | "2024-Q2" | "2024" | "2024-01-01..2024-03-31")
                                     # ValueError (message in the UI language) on anything else,
                                     # and on a period outside EARLIEST .. latest_day(today)
    check_day(day)                   # the same bound for a single day asked for (``as_of``)
    period.previous()                # 环比 base: the period just before, same kind and length
    period.same_last_year()          # 同比 base: the same period one year earlier
    period.label                     # "2024年6月", "2024年第二季度", "2024年", "2024年1月1日至3月31日"
    period.months()                  # the month periods the period touches (trend axes)
    period.code                      # the text ``parse`` reads back ("2024-06", "2024-Q2", ...)
    period.as_of(today)              # the day the figures are read on: the end, or today if earlier
    period.label_on(today)           # "2026年12月（截至12月5日）" while it runs, the label once over

Dates are calendar days in Asia/Shanghai; ``end`` is inclusive.
"""

import calendar
import datetime
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
CUSTOM = "custom"
KINDS = (MONTH, QUARTER, YEAR, CUSTOM)

QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}

# The days a period or a day asked for may cover: the registry holds nothing before 2000, and a
# plan looks at most ten years ahead. Beyond them the figures mean nothing, and the date
# arithmetic of the comparisons (环比, 同比, month ends) would leave the calendar at 0001 or 9999.
EARLIEST = datetime.date(2000, 1, 1)
YEARS_AHEAD = 10


def latest_day(today: datetime.date | None = None) -> datetime.date:
    """The last day a period may reach: 31 December, ``YEARS_AHEAD`` years after this year."""
    from django.utils import timezone

    return datetime.date((today or timezone.localdate()).year + YEARS_AHEAD, 12, 31)


def check_day(day: datetime.date, today: datetime.date | None = None) -> datetime.date:
    """``day`` if it lies between EARLIEST and ``latest_day``; ValueError in the UI language if not."""
    last = latest_day(today)
    if not EARLIEST <= day <= last:
        raise ValueError(_("A day between %(first)s and %(last)s, please.") % {
            "first": _chinese_day(EARLIEST), "last": _chinese_day(last)})
    return day


def _years(today: datetime.date | None) -> tuple[str, str]:
    """Regular expressions of the years that can be reported, and of the leap years among them."""
    years = range(EARLIEST.year, latest_day(today).year + 1)
    return "|".join(map(str, years)), "|".join(str(y) for y in years if calendar.isleap(y))


def period_pattern(today: datetime.date | None = None) -> str:
    """The month, quarter and year periods ``parse`` accepts, or nothing (the default period),
    as a regular expression (the API's schema; a custom span, also accepted, is described beside it)."""
    years, _leap = _years(today)
    return rf"^(?:|(?:{years})-(?:0?[1-9]|1[0-2])|(?:{years})-?[Qq][1-4]|(?:{years}))$"


def day_pattern(today: datetime.date | None = None) -> str:
    """The days ``check_day`` accepts, written YYYY-MM-DD, or nothing, as a regular expression."""
    years, leap = _years(today)
    month_day = r"(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31"
    return rf"^(?:|(?:{years})-(?:{month_day})|(?:{leap})-02-29)$"


def _chinese_day(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_RE = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR_RE = re.compile(r"^(\d{4})$")
_CUSTOM_RE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|至|/)\s*(\d{4}-\d{1,2}-\d{1,2})$")


def _last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date
    end: datetime.date  # inclusive

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.end < self.start:
            raise ValueError(_("The period ends before it starts."))

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        if not 1 <= month <= 12:
            raise ValueError(_("A month is between 1 and 12."))
        return cls(MONTH, datetime.date(year, month, 1), _last_day(year, month))

    @classmethod
    def quarter(cls, year: int, q: int) -> "Period":
        if not 1 <= q <= 4:
            raise ValueError(_("A quarter is between 1 and 4."))
        first = 3 * (q - 1) + 1
        return cls(QUARTER, datetime.date(year, first, 1), _last_day(year, first + 2))

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(YEAR, datetime.date(year, 1, 1), datetime.date(year, 12, 31))

    @classmethod
    def custom(cls, start: datetime.date, end: datetime.date) -> "Period":
        return cls(CUSTOM, start, end)

    @classmethod
    def containing(cls, day: datetime.date, kind: str = MONTH) -> "Period":
        """The month, quarter or year that contains ``day``."""
        if kind == MONTH:
            return cls.month(day.year, day.month)
        if kind == QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        if kind == YEAR:
            return cls.year(day.year)
        raise ValueError(f"no period of kind {kind!r} contains a day")

    @classmethod
    def parse(cls, text: str, today: datetime.date | None = None) -> "Period":
        """``2024-06`` (month), ``2024-Q2`` (quarter), ``2024`` (year) or
        ``2024-01-01..2024-03-31`` (custom, both days included), within EARLIEST ..
        ``latest_day(today)``."""
        raw = (text or "").strip()
        period = cls._parse(raw)
        last = latest_day(today)
        if period.start < EARLIEST or period.end > last:
            raise ValueError(_("“%(text)s” is outside the periods that can be reported: from %(first)s to "
                               "%(last)s.") % {"text": raw, "first": _chinese_day(EARLIEST),
                                              "last": _chinese_day(last)})
        return period

    @classmethod
    def _parse(cls, raw: str) -> "Period":
        if match := _MONTH_RE.match(raw):
            return cls.month(int(match[1]), int(match[2]))
        if match := _QUARTER_RE.match(raw):
            return cls.quarter(int(match[1]), int(match[2]))
        if match := _YEAR_RE.match(raw):
            return cls.year(int(match[1]))
        if match := _CUSTOM_RE.match(raw):
            try:
                start = datetime.date.fromisoformat(_iso(match[1]))
                end = datetime.date.fromisoformat(_iso(match[2]))
            except ValueError:
                raise ValueError(_("“%(text)s” is not a valid period: a date in it does not exist.")
                                 % {"text": raw}) from None
            return cls.custom(start, end)
        raise ValueError(_("“%(text)s” is not a period. Write 2024-06 for a month, 2024-Q2 for a quarter, 2024 for a "
                           "year or 2024-01-01..2024-03-31 for a span of days.") % {"text": raw})

    # --- comparisons -------------------------------------------------------------------------

    def previous(self) -> "Period":
        """环比: the period just before this one, of the same kind and length."""
        if self.kind == MONTH:
            day = self.start - datetime.timedelta(days=1)
            return Period.month(day.year, day.month)
        if self.kind == QUARTER:
            day = self.start - datetime.timedelta(days=1)
            return Period.containing(day, QUARTER)
        if self.kind == YEAR:
            return Period.year(self.start.year - 1)
        length = (self.end - self.start).days + 1
        end = self.start - datetime.timedelta(days=1)
        return Period.custom(end - datetime.timedelta(days=length - 1), end)

    def same_last_year(self) -> "Period":
        """同比: the same period one year earlier (29 February becomes the 28th)."""
        if self.kind == MONTH:
            return Period.month(self.start.year - 1, self.start.month)
        if self.kind == QUARTER:
            return Period.containing(self.start - relativedelta(years=1), QUARTER)
        if self.kind == YEAR:
            return Period.year(self.start.year - 1)
        return Period.custom(self.start - relativedelta(years=1), self.end - relativedelta(years=1))

    def shifted_years(self, years: int) -> "Period":
        """The same period ``years`` years earlier (positive) — e.g. 4 for seed 004's 2012→2016."""
        period = self
        for _i in range(years):
            period = period.same_last_year()
        return period

    # --- reading -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == QUARTER:
            return f"{self.start.year}年第{QUARTER_NAMES[(self.start.month - 1) // 3 + 1]}季度"
        if self.kind == YEAR:
            return f"{self.start.year}年"
        start = f"{self.start.year}年{self.start.month}月{self.start.day}日"
        if self.end.year == self.start.year:
            end = f"{self.end.month}月{self.end.day}日"
        else:
            end = f"{self.end.year}年{self.end.month}月{self.end.day}日"
        return f"{start}至{end}"

    @property
    def code(self) -> str:
        """The text ``Period.parse`` reads back."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list["Period"]:
        """The month periods this period touches, in order (a custom span's first and last may
        be partial months; they are returned whole, as trend axes use them)."""
        result = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            result.append(Period.month(year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def as_of(self, today: datetime.date | None = None) -> datetime.date:
        """The day stock figures are read on: the period's last day, or ``today`` if the period
        has not ended yet."""
        if today is None:
            return self.end
        return min(self.end, today)

    def running_on(self, today: datetime.date) -> bool:
        """Whether the period has begun and is not over on ``today`` (its last day included)."""
        return self.start <= today <= self.end

    def up_to(self, today: datetime.date) -> str:
        """"截至12月5日" while the period runs (a document's period read on ``today``), "" once it
        is over: a running period is not a closed one (monitoring.rules.last_due_day)."""
        if not self.running_on(today):
            return ""
        return f"截至{today.month}月{today.day}日"

    def label_on(self, today: datetime.date) -> str:
        """The label, with "（截至12月5日）" while the period runs: "2026年12月（截至12月5日）"."""
        note = self.up_to(today)
        return f"{self.label}（{note}）" if note else self.label

    def __str__(self):
        return self.label


def _iso(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"
