"""Small counts for the leadership (issue 19, item 5): the test plays the attacker. From
everything the leadership is shown at township and village level — the indicator values of
the API (each place, and the children of each), the dashboards' cards and chart data, the
statistical report's composition sheet — it tries to work out each count shown as "<5" or
withheld: a share times its denominator, a total minus the other parts (the villages of a
township, the rows of a breakdown, the statuses an indicator adds up), a 同比 from last year's
figure. Nothing suppressed may be derivable."""

import datetime
import io
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.roles import Role
from jurisdictions.tests.factories import build_tree
from monitoring import indicators
from monitoring.models import Target
from monitoring.periods import Period
from monitoring.tests import builders
from persons.choices import ACTIVE_STATUSES
from persons.choices import ControlStatus as S

INF = 10**9
ADULT, YOUNG, MINOR = "19800101", "19950101", f"{timezone.localdate().year - 16}0101"
# The village's rows a rate's numerator is made of, where the numerator is no count of its own.
NUMERATOR_ROWS = {"minor_share": ("age", ["under_18"]), "young_share": ("age", ["under_18", "18_25", "26_34"])}
# Count indicators that add up rows of the status breakdown.
STATUS_SUMS = {"compulsory_treatment": [S.COMPULSORY_TREATMENT], "whereabouts_unknown": [S.WHEREABOUTS_UNKNOWN],
               "abstinence_count": [S.THREE_YEAR_ABSTINENCE],
               "community_measures": [S.COMMUNITY_TREATMENT, S.COMMUNITY_REHABILITATION],
               "active": sorted(ACTIVE_STATUSES)}
ADDITIVE = ("status", "age", "sex", "living", "risk")  # breakdowns whose rows add up to the registered


@pytest.fixture
def county(db):
    """Two townships of four villages, with the small cells of the demo's 柳溪乡: a village of 56
    with one minor, villages of 3, 4 and 7, two persons whose whereabouts are unknown, one
    three-year abstinence, four in compulsory treatment, and an empty village."""
    tree = build_tree(townships=2, villages=4)
    v = tree["villages"]
    today = timezone.localdate()
    this_month = today.replace(day=1)
    plan = [
        (v[0], 55, S.SOCIAL_CONTROL, ADULT, None), (v[0], 1, S.SOCIAL_CONTROL, MINOR, None),
        (v[1], 3, S.COMMUNITY_TREATMENT, YOUNG, None),
        (v[2], 10, S.SOCIAL_CONTROL, ADULT, None), (v[2], 2, S.WHEREABOUTS_UNKNOWN, YOUNG, this_month),
        (v[3], 6, S.SOCIAL_CONTROL, ADULT, None), (v[3], 1, S.THREE_YEAR_ABSTINENCE, ADULT, None),
        (v[4], 30, S.SOCIAL_CONTROL, ADULT, None), (v[4], 4, S.COMPULSORY_TREATMENT, YOUNG, None),
        (v[5], 4, S.SOCIAL_CONTROL, MINOR, None),
        (v[6], 9, S.SOCIAL_CONTROL, YOUNG, None), (v[6], 1, S.SOCIAL_CONTROL, MINOR, this_month),
    ]
    for village, count, status, birth, found in plan:
        builders.persons(village, count, status=status, birth=birth, first_found_on=found,
                         since=datetime.date(today.year - 2, 1, 1))
    # Targets set for the county, inherited below: whether one is met bounds the figure.
    for code, value in (("newly_found", 1), ("abstinence_rate", 1)):
        Target.objects.create(indicator=code, jurisdiction=tree["county"], year=today.year, value=value)
    return tree


def _round(value: Fraction, decimals: int) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1).scaleb(-decimals),
                                                                              rounding=ROUND_HALF_UP)


class Knowledge:
    """What the attacker has read: each cell's interval, and the relations between cells."""

    def __init__(self):
        self.bounds: dict[tuple, list[int]] = {}
        self.sums: list[tuple[tuple, list[tuple]]] = []  # total = sum of parts
        self.shares: list[tuple[tuple, tuple, Decimal, int]] = []  # numerator, denominator, shown rate, decimals
        self.changes: list[tuple[tuple, tuple, Decimal]] = []  # current, last year, 同比 in percent
        self.suppressed: set[tuple] = set()  # cells shown as "<5" or withheld somewhere
        self.revealed: set[tuple] = set()  # cells shown as a number somewhere

    def see(self, cell, shown) -> None:
        """``shown``: a number, "<5", or anything else for a figure withheld."""
        low, high = self.bounds.setdefault(cell, [0, INF])
        number = isinstance(shown, int | float) and not isinstance(shown, bool)
        (self.revealed if number else self.suppressed).add(cell)
        if number:
            low = high = int(shown)
        elif shown == f"<{indicators.SMALL_COUNT}":
            low, high = max(low, 1), min(high, indicators.SMALL_COUNT - 1)
        self.bounds[cell] = [max(low, self.bounds[cell][0]), min(high, self.bounds[cell][1])]

    def known(self, cell) -> int | None:
        low, high = self.bounds.get(cell, [0, INF])
        return low if low == high else None

    def narrow(self, cell, low, high) -> bool:
        bounds = self.bounds.setdefault(cell, [0, INF])
        new = [max(bounds[0], low), min(bounds[1], high)]
        if new != bounds and new[0] <= new[1]:
            self.bounds[cell] = new
            return True
        return False

    def solve(self) -> None:
        changed = True
        while changed:
            changed = False
            for total, parts in self.sums:
                lows = [self.bounds.setdefault(p, [0, INF])[0] for p in parts]
                highs = [self.bounds[p][1] for p in parts]
                t_low, t_high = self.bounds.setdefault(total, [0, INF])
                changed |= self.narrow(total, sum(lows), min(INF, sum(highs)))
                for i, part in enumerate(parts):
                    others_low, others_high = sum(lows) - lows[i], sum(highs) - highs[i]
                    changed |= self.narrow(part, t_low - others_high, t_high - others_low)
            for numerator, denominator, rate, decimals in self.shares:
                d = self.known(denominator)
                if d:
                    low, high = self.bounds.setdefault(numerator, [0, INF])
                    fits = [n for n in range(low, min(high, d) + 1) if _round(Fraction(100 * n, d), decimals) == rate]
                    if fits:
                        changed |= self.narrow(numerator, min(fits), max(fits))
            for current, last_year, change in self.changes:
                base = self.known(last_year)
                if base:
                    low, high = self.bounds.setdefault(current, [0, INF])
                    fits = [n for n in range(low, min(high, 100 * base) + 1)
                            if _round(Fraction(100 * (n - base), base), 1) == change]
                    if fits:
                        changed |= self.narrow(current, min(fits), max(fits))


def _api(client, **params):
    response = client.get("/api/indicators/values/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _read_api_row(knowledge: Knowledge, place: str, row: dict) -> None:
    indicator = indicators.INDICATORS[row["code"]]
    if row["value"] is None and row["target_met"] is not None:  # met or not bounds the figure
        knowledge.suppressed.add(("target_met", place, row["code"]))
        knowledge.revealed.add(("target_met", place, row["code"]))
    shown = row["value"] if row["value"] is not None else row["display"]
    if indicator.is_count:
        knowledge.see((place, row["code"]), shown)
        if row["previous_year"] is not None:
            knowledge.see((place, row["code"], "last_year"), row["previous_year"])
        if row["yoy"] is not None:
            knowledge.changes.append(((place, row["code"]), (place, row["code"], "last_year"),
                                      Decimal(str(row["yoy"]))))
    elif indicator.is_rate and row["value"] is not None and len(indicator.inputs) == 2:
        numerator, denominator = (_cell_of(place, name) for name in indicator.inputs)
        if row["code"] in NUMERATOR_ROWS:
            breakdown, keys = NUMERATOR_ROWS[row["code"]]
            numerator = (place, f"{row['code']}:numerator")
            knowledge.sums.append((numerator, [(place, f"{breakdown}:{key}") for key in keys]))
        if numerator and denominator:
            scale = 1000 if indicator.unit == "‰" else 100
            knowledge.shares.append((numerator, denominator, Decimal(str(row["value"])) * 100 / scale,
                                     indicator.decimals))


def _cell_of(place: str, source: str):
    """The cell of the count indicator that is exactly this input, if there is one."""
    for code, indicator in indicators.INDICATORS.items():
        if indicator.is_count and indicator.inputs == (source,) and not indicator.needs_place:
            return (place, code)
    return None


def _read_dashboard(knowledge: Knowledge, client, place) -> None:
    response = client.get(reverse("monitoring:dashboard"), {"jurisdiction": place.code})
    assert response.status_code == 200
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>',
                                response.content.decode(), re.S).group(1))
    charts = data["charts"]
    children = {child.name: child.code for child in place.children.all()}
    for option in charts.get("ranking", {}).get("options", []):
        if indicators.INDICATORS[option["code"]].is_count:
            for item in option["items"]:
                knowledge.see((children[item["name"]], option["code"]),
                              item["value"] if item["value"] is not None else item["label"])
    for name in ("status", "age", "risk"):
        labels = {str(label): key for key, label, _n in indicators.breakdown(name, place)}
        for item in charts[name]["items"]:
            knowledge.see((place.code, f"{name}:{labels[item['name']]}"),
                          item["value"] if item["value"] is not None else item["label"])


def _read_report(knowledge: Knowledge, client, place) -> None:
    response = client.get(reverse("monitoring:report_statistics"), {"jurisdiction": place.code})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["人员构成"]
    titles = {"管控现状": "status", "年龄结构": "age", "风险等级": "risk", "性别": "sex", "就业居住情况": "living"}
    current = None
    for label, count, *_rest in sheet.iter_rows(min_row=1, values_only=True):
        if label in titles:
            current, keys = titles[label], {str(lab): key for key, lab, _n in indicators.breakdown(titles[label],
                                                                                                     place)}
        elif current and label in keys:
            knowledge.see((place.code, f"{current}:{keys[label]}"), count)


def attack(client, county):
    """(what the attacker knows, the suppressed cells, those worked out to their true value)."""
    knowledge = Knowledge()
    townships = county["townships"]
    places = [county["county"], *townships, *county["villages"]]
    for place in places:
        for row in _api(client, jurisdiction=place.code):
            _read_api_row(knowledge, place.code, row)
    for parent in [county["county"], *townships]:
        for row in _api(client, jurisdiction=parent.code, children="true"):
            _read_api_row(knowledge, row["jurisdiction"], row)
        _read_dashboard(knowledge, client, parent)
        _read_report(knowledge, client, parent)
    # The relations: villages add up to their township, townships to the county; a breakdown's
    # rows to the registered; status rows to the indicators that count them.
    period = Period.containing(timezone.localdate())
    truth = {}
    for parent in [county["county"], *townships]:
        children = list(parent.children.all())
        values = indicators.evaluate(None, parent, period)
        by_child = indicators.evaluate_children(None, parent, period)
        for code, value in values.items():
            if value.indicator.is_count and isinstance(value.value, int):
                truth[(parent.code, code)] = value.value
                if all(code in by_child.get(c.pk, {}) for c in children):
                    knowledge.sums.append(((parent.code, code), [(c.code, code) for c in children]))
                    for child in children:
                        truth[(child.code, code)] = by_child[child.pk][code].value
        for name, rows in indicators.breakdowns(list(ADDITIVE), parent).items():
            cells = [(parent.code, f"{name}:{key}") for key, _label, _n in rows]
            truth.update({cell: n for cell, (_k, _l, n) in zip(cells, rows, strict=True)})
            knowledge.sums.append(((parent.code, "registered"), cells))
        for code, statuses in STATUS_SUMS.items():
            knowledge.sums.append(((parent.code, code), [(parent.code, f"status:{s}") for s in statuses]))
    knowledge.solve()
    suppressed = [cell for cell in knowledge.suppressed if truth.get(cell, 0) > 0]
    derived = sorted(cell for cell in suppressed if knowledge.known(cell) == truth[cell])
    return knowledge, suppressed, derived


def test_the_leadership_cannot_work_out_a_suppressed_count(county):
    client = Client()
    client.force_login(UserFactory(jurisdiction=county["county"], roles=[Role.LEADERSHIP]))
    knowledge, suppressed, derived = attack(client, county)
    print(f"\nsuppressed counts: {len(suppressed)}, worked out: {len(derived)}: {derived}")
    assert len(suppressed) >= 10
    # a count shown as a number in one place and suppressed in another is worked out too
    assert sorted(knowledge.suppressed & knowledge.revealed) == []
    assert derived == []


def test_a_townships_trend_agrees_with_the_countys_page_of_that_month(db):
    """A township of 3 beside one of 20: the county's page withholds the 20 (else 23 − 20 = 3),
    in every month. The trend on the township's own page must not give last month's 20 back."""
    tree = build_tree(townships=2, villages=1)
    small, large = tree["villages"]
    since = datetime.date(timezone.localdate().year - 2, 1, 1)
    builders.persons(small, 3, since=since)
    builders.persons(large, 20, since=since)
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.LEADERSHIP]))
    last_month = Period.containing(timezone.localdate()).previous()
    rows = {row["jurisdiction"]: row["display"] for row in _api(
        client, jurisdiction=tree["county"].code, children="true", period=last_month.code, codes="registered")}
    township = tree["townships"][1]
    assert rows == {tree["townships"][0].code: "<5", township.code: indicators.WITHHELD_MARK}
    response = client.get(reverse("monitoring:dashboard"), {"jurisdiction": township.code})
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>',
                                response.content.decode(), re.S).group(1))
    registered = data["charts"]["trend"]["series"][0]["points"]
    assert [point["value"] for point in registered] == [None] * len(registered)
    assert {point["label"] for point in registered} == {indicators.WITHHELD_MARK}


def test_the_alert_centre_withholds_what_the_dashboard_withholds(db):
    """A township of 4 beside one of 20, thresholds on the registered: the leadership's alert
    centre must show neither the 20 (23 − 20 = 4 on the county's page) nor that the 4 crossed
    "above 3" (which makes it 4)."""
    from monitoring.choices import Comparison
    from monitoring.models import Threshold

    tree = build_tree(townships=2, villages=1)
    since = datetime.date(timezone.localdate().year - 2, 1, 1)
    builders.persons(tree["villages"][0], 4, since=since)
    builders.persons(tree["villages"][1], 20, since=since)
    Threshold.objects.create(indicator="registered", jurisdiction=tree["county"],
                             comparison=Comparison.VALUE_ABOVE, value=3)
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.LEADERSHIP]))
    response = client.get(reverse("monitoring:alerts"))
    breaches = [(b.jurisdiction.code, shown) for b, shown in response.context["breaches"]]
    assert breaches == [(tree["county"].code, "24")]
    body = response.content.decode()
    assert ">20<" not in body and tree["townships"][0].name not in body.split('id="breaches"')[1]


# --- the rule itself, on plain cells -----------------------------------------------------------------


def _cells(total, parts):
    from monitoring.disclosure import Cell

    cells = {"total": Cell(total, eligible=False)} | {f"p{i}": Cell(v) for i, v in enumerate(parts)}
    return cells, [("total", [f"p{i}" for i in range(len(parts))])]


@pytest.mark.parametrize(("parts", "small", "withheld"), [
    ([1, 56, 12, 7], {"p0"}, {"p3"}),  # one small part: the next smallest is withheld with it
    ([1, 5, 30], {"p0"}, {"p1", "p2"}),  # 1 + 5 = 6 pins both (a withheld count is 0 or 5 and more): a third
    ([3, 0, 9], {"p0"}, {"p2"}),
    # 4 + 4 = 8 pins both at the top of "<5", and no part shown is not zero: one "<5" becomes "*"
    ([4, 4, 0, 0], {"p1"}, {"p0"}),
    ([0, 9, 12], set(), set()),  # nothing small
])
def test_complementary_suppression(parts, small, withheld):
    from monitoring.disclosure import SHOWN, SMALL, WITHHELD, exposed, withhold

    cells, relations = _cells(sum(parts), parts)
    assert withhold(cells, relations) == set() and exposed(cells, relations) == set()
    assert {key for key, cell in cells.items() if cell.state == SMALL} == small
    assert {key for key, cell in cells.items() if cell.state == WITHHELD} == withheld
    assert cells["total"].state == SHOWN


def test_a_total_of_less_than_5_over_parts_of_less_than_5():
    """A township of "<5" whose four villages are "<5": each is 1 (the bound of the township pins
    them), so one of them is withheld."""
    from monitoring.disclosure import SMALL, WITHHELD, Cell, exposed, withhold

    cells = {"total": Cell(4, SMALL, eligible=False)} | {f"p{i}": Cell(1) for i in range(4)} | {"zero": Cell(0)}
    relations = [("total", ["p0", "p1", "p2", "p3", "zero"])]
    assert withhold(cells, relations) == set() and exposed(cells, relations) == set()
    assert sum(cell.state == WITHHELD for cell in cells.values()) == 1 and cells["zero"].state != WITHHELD
