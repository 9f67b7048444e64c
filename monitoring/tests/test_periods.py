import datetime

import pytest
from django.utils import translation

from monitoring.periods import Period
from monitoring.tests.builders import ui, zh

D = datetime.date


@pytest.mark.parametrize(("text", "kind", "start", "end", "label"), [
    ("2024-06", "month", D(2024, 6, 1), D(2024, 6, 30), "2024年6月"),
    ("2024-2", "month", D(2024, 2, 1), D(2024, 2, 29), "2024年2月"),
    ("2024-Q2", "quarter", D(2024, 4, 1), D(2024, 6, 30), "2024年第二季度"),
    ("2024q4", "quarter", D(2024, 10, 1), D(2024, 12, 31), "2024年第四季度"),
    ("2024", "year", D(2024, 1, 1), D(2024, 12, 31), "2024年"),
    ("2024-01-01..2024-03-31", "custom", D(2024, 1, 1), D(2024, 3, 31), "2024年1月1日至3月31日"),
    ("2023-12-01..2024-01-31", "custom", D(2023, 12, 1), D(2024, 1, 31), "2023年12月1日至2024年1月31日"),
])
def test_parse_and_label(text, kind, start, end, label):
    period = Period.parse(text)
    assert (period.kind, period.start, period.end, period.label) == (kind, start, end, label)
    assert Period.parse(period.code) == period


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


NOT_A_PERIOD = ("“%(text)s” is not a period. Write 2024-06 for a month, 2024-Q2 for a quarter, 2024 for a year or "
                "2024-01-01..2024-03-31 for a span of days.")


@pytest.mark.parametrize(("text", "msgid"), [
    ("", NOT_A_PERIOD),
    ("2024-13", "A month is between 1 and 12."),
    ("2024-Q5", NOT_A_PERIOD),
    ("June", NOT_A_PERIOD),
    ("2024-02-30..2024-03-01", "“%(text)s” is not a valid period: a date in it does not exist."),
    ("2024-03-01..2024-01-01", "The period ends before it starts."),
])
def test_parse_refuses_with_a_message_in_the_ui_language(text, msgid):
    with pytest.raises(ValueError) as error:
        Period.parse(text)
    expected = ui(msgid) % {"text": text} if "%(text)s" in msgid else ui(msgid)
    assert str(error.value) == expected


def test_error_messages_have_chinese():
    assert zh("A month is between 1 and 12.") == "月份应在1至12之间。"
    assert "不是有效的统计期间" in zh("“%(text)s” is not a period. Write 2024-06 for a month, 2024-Q2 for a quarter, "
                                    "2024 for a year or 2024-01-01..2024-03-31 for a span of days.")


@pytest.mark.parametrize(("period", "previous", "last_year"), [
    (Period.month(2024, 1), Period.month(2023, 12), Period.month(2023, 1)),
    (Period.month(2024, 3), Period.month(2024, 2), Period.month(2023, 3)),
    (Period.quarter(2024, 1), Period.quarter(2023, 4), Period.quarter(2023, 1)),
    (Period.quarter(2024, 3), Period.quarter(2024, 2), Period.quarter(2023, 3)),
    (Period.year(2024), Period.year(2023), Period.year(2023)),
    (Period.custom(D(2024, 3, 1), D(2024, 3, 10)), Period.custom(D(2024, 2, 20), D(2024, 2, 29)),
     Period.custom(D(2023, 3, 1), D(2023, 3, 10))),
    (Period.custom(D(2024, 2, 29), D(2024, 3, 1)), Period.custom(D(2024, 2, 27), D(2024, 2, 28)),
     Period.custom(D(2023, 2, 28), D(2023, 3, 1))),
])
def test_previous_and_same_last_year(period, previous, last_year):
    assert period.previous() == previous
    assert period.same_last_year() == last_year
    assert period.previous().days == period.days or period.kind != "custom"


def test_months_and_as_of():
    assert [p.code for p in Period.quarter(2024, 2).months()] == ["2024-04", "2024-05", "2024-06"]
    assert len(Period.year(2024).months()) == 12
    assert Period.custom(D(2024, 1, 15), D(2024, 2, 3)).months() == [Period.month(2024, 1), Period.month(2024, 2)]
    assert Period.month(2024, 6).as_of(D(2024, 6, 10)) == D(2024, 6, 10)
    assert Period.month(2024, 6).as_of(D(2025, 1, 1)) == D(2024, 6, 30)
    assert Period.year(2016).shifted_years(4) == Period.year(2012)
