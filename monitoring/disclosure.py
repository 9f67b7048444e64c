"""Small counts for viewers without personal-data rights (the leadership; SPEC §2, §4; issue 19):
statistical disclosure control, so that no count shown as "<5" can be worked out from what is
shown beside it.

* **Primary**: a count of 1 to 4 is shown as "<5" (``indicators.SMALL_COUNT``).
* **Shares**: a rate or any figure computed from a count (a share, the estimated users, a per
  mille) is withheld ("*") when a count it is made of is suppressed, or when its numerator or
  denominator is 1 to 4: share × denominator gives the numerator back.
* **Complementary**: where parts add up to a total that is shown — the villages of a township,
  the townships of a county, the rows of a breakdown, the statuses an indicator counts — a
  suppressed part could be had by subtraction. ``withhold`` works out, as an attacker would
  (each cell's interval, narrowed over every relation until nothing changes), whether a
  suppressed cell is pinned to one value, and then withholds the smallest other part of that
  relation ("*"), until none is. Totals are never withheld for their parts: a place's own
  figures are decided where it is a part (its parent's group), top-down from the viewer's own
  area, so the page of a village, of its township and the API answer the same.
* **Comparisons**: 同比/环比 and last year's figure of a count only when both figures are
  shown; none for shares and computed figures (their base's numerator is not at hand); whether
  a target is met only for a figure shown.

``Disclosure(viewer, jurisdiction, period, as_of)`` decides for one place and its children;
``apply(values, place)`` marks the Values (``Value.withheld``, the comparisons removed) and
``rows(name, rows)`` gives a breakdown's rows with withheld counts (``Withheld``), which every
display (dashboard cards and charts, API, documents) then shows as "*".
"""

from __future__ import annotations

from dataclasses import dataclass

from core.roles import may_see_personal_data
from monitoring import indicators

SHOWN, SMALL, WITHHELD = "shown", "small", "withheld"
MARK = indicators.WITHHELD_MARK
INF = 10**9
VARIANTS = ("value", "previous_year", "previous_period")
ADDITIVE_BREAKDOWNS = ("status", "age", "sex", "living", "risk")  # rows add up to the registered

class Withheld(int):
    """A breakdown count withheld to protect another: shown as "*" (``indicators.suppress``)."""

    withheld = True


def plain_count(indicator) -> bool:
    """A count read straight from one source count (registered, newly found, …): additive over
    the areas below."""
    return indicator.is_count and len(indicator.inputs) == 1 and not indicator.needs_place


def _count_of_source() -> dict[str, str]:
    return {i.inputs[0]: code for code, i in indicators.INDICATORS.items() if plain_count(i)}


# --- the attacker's reasoning, and withholding until it finds nothing ---------------------------


@dataclass
class Cell:
    value: int
    state: str = SHOWN
    eligible: bool = True  # may be withheld to protect another cell


def _bounds(cell: Cell) -> list[int]:
    if cell.state == SHOWN:
        return [cell.value, cell.value]
    if cell.state == SMALL:
        return [1, indicators.SMALL_COUNT - 1]
    # Withheld: a reader who knows this rule knows that a withheld count is 0 or not small; count
    # on the narrower bound, so that even that reader pins nothing.
    return [indicators.SMALL_COUNT, INF] if cell.value >= indicators.SMALL_COUNT else [0, INF]


def exposed(cells: dict, relations: list[tuple]) -> set:
    """The suppressed cells whose value what is shown pins down: interval propagation over
    ``relations`` (total, parts) meaning total = sum of parts, to a fixed point."""
    bounds = {key: _bounds(cell) for key, cell in cells.items()}
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            lows = [bounds[p][0] for p in parts]
            highs = [bounds[p][1] for p in parts]
            low, high = bounds[total]
            new = [max(low, sum(lows)), min(high, sum(highs))]
            if new != bounds[total]:
                bounds[total], changed = new, True
            low, high = bounds[total]
            for i, part in enumerate(parts):
                new = [max(lows[i], low - (sum(highs) - highs[i])), min(highs[i], high - (sum(lows) - lows[i]))]
                if new != bounds[part]:
                    bounds[part], changed = new, True
    return {key for key, cell in cells.items() if cell.state != SHOWN and bounds[key][0] == bounds[key][1]}


def withhold(cells: dict, relations: list[tuple]) -> set:
    """Suppress 1 to 4, then withhold parts until no suppressed cell can be worked out. Returns
    the cells still exposed (a relation with nothing left to withhold), for the caller's fallback.

    A part withheld is the smallest shown part that is not zero (classic complementary
    suppression); else a part shown as "<5", now "*" (four villages of "<5" under a township of
    "<5" are 1 each: the township's bound pins them); else a zero."""
    for cell in cells.values():
        if cell.state == SHOWN and 0 < cell.value < indicators.SMALL_COUNT:
            cell.state = SMALL
    while True:
        found = exposed(cells, relations)
        if not found:
            return set()
        candidates = [part for total, parts in relations if total in found or found & set(parts)
                      for part in parts if cells[part].state in (SHOWN, SMALL) and cells[part].eligible]
        if not candidates:
            return found
        choice = min(candidates, key=lambda key: (cells[key].value == 0, cells[key].state == SMALL,
                                                  cells[key].value, str(key)))
        cells[choice].state = WITHHELD


# --- one place and the places below it ----------------------------------------------------------


class Disclosure:
    """What a viewer without personal-data rights sees of ``jurisdiction``'s figures and of its
    children's, for ``period`` read on ``as_of``. For a viewer with the rights it changes nothing."""

    def __init__(self, viewer, jurisdiction, period, *, as_of=None):
        self.active = viewer is not None and not may_see_personal_data(viewer)
        self.jurisdiction, self.period, self.as_of = jurisdiction, period, as_of
        self.states: dict[tuple, str] = {}  # (place pk, code, variant) -> state of a plain count;
        # ("row", place pk, breakdown, key) -> state of a breakdown's row
        self.raw: dict[tuple, int] = {}  # the same keys: the true figures
        self.values: dict[tuple, object] = {}  # (place pk, code) -> Value, as read
        self.sources = _count_of_source()
        self.chain = [jurisdiction]
        if self.active:
            self.chain = self._chain(viewer)
            for place in self.chain:
                self._group(place)

    def _chain(self, viewer) -> list:
        """From the viewer's own area down to the jurisdiction: the groups whose totals are shown."""
        top = getattr(viewer, "jurisdiction", None)
        node, chain = self.jurisdiction, [self.jurisdiction]
        while top is not None and node.pk != top.pk and node.parent_id is not None and node.path.startswith(top.path):
            node = node.parent
            chain.append(node)
        return list(reversed(chain))

    def _group(self, place) -> None:
        """The place's figures as totals: its plain counts of its children's, and (this period)
        of its breakdowns' rows, with the statuses and age shares that add rows up — one system,
        so that no combination of them pins a suppressed cell. The place's own figures keep the
        states its parent's group gave them (at the top: the primary rule alone)."""
        if (place.pk, "registered", "value") not in self.raw:
            self._keep(place.pk, indicators.evaluate(None, place, self.period, as_of=self.as_of))
        by_child = indicators.evaluate_children(None, place, self.period, as_of=self.as_of, compare=True)
        for pk, values in by_child.items():
            self._keep(pk, values)
        rows = indicators.breakdowns(list(ADDITIVE_BREAKDOWNS), place, as_of=self.as_of)
        codes = [code for code, i in indicators.INDICATORS.items() if plain_count(i)]
        for variant in VARIANTS:
            cells, relations = {}, []
            for code in codes:
                total = (place.pk, code, variant)
                parts = [(pk, code, variant) for pk in by_child if (pk, code, variant) in self.raw]
                cells.update({key: Cell(self.raw[key]) for key in parts})
                if total in self.raw:
                    cells[total] = Cell(self.raw[total], self.states.get(total, SHOWN), eligible=False)
                    if parts and sum(self.raw[key] for key in parts) == self.raw[total]:
                        relations.append((total, parts))
            if variant == "value":
                self._breakdown_relations(place.pk, rows, cells, relations)
            left = withhold(cells, relations)
            if left:  # still exposed: every part of those relations withheld
                for total, parts in relations:
                    if total in left or left & set(parts):
                        for key in parts:
                            if cells[key].eligible and cells[key].value:
                                cells[key].state = WITHHELD
            for key, cell in cells.items():
                self.states[key] = cell.state

    def _keep(self, pk, values: dict) -> None:
        for code, value in values.items():
            self.values[(pk, code)] = value
            for variant in VARIANTS:
                if plain_count(value.indicator) and getattr(value, variant) is not None:
                    self.raw[(pk, code, variant)] = int(getattr(value, variant))

    def _breakdown_relations(self, pk, breakdowns: dict, cells: dict, relations: list) -> None:
        """The rows of the place's breakdowns as parts: of the registered, of the statuses an
        indicator counts, of the shares of minors and under-35s (share × registered)."""
        from persons.choices import ACTIVE_STATUSES
        from persons.choices import ControlStatus as S

        for name, rows in breakdowns.items():
            for key, _label, count in rows:
                cells[("row", pk, name, key)] = Cell(int(count))
        links = {"registered": {name: None for name in ADDITIVE_BREAKDOWNS},
                 "community_measures": {"status": [S.COMMUNITY_TREATMENT, S.COMMUNITY_REHABILITATION]},
                 "active": {"status": sorted(ACTIVE_STATUSES)},
                 "compulsory_treatment": {"status": [S.COMPULSORY_TREATMENT]},
                 "whereabouts_unknown": {"status": [S.WHEREABOUTS_UNKNOWN]},
                 "abstinence_count": {"status": [S.THREE_YEAR_ABSTINENCE]},
                 "young_share": {"age": ["under_18", "18_25", "26_34"]}, "minor_share": {"age": ["under_18"]}}
        for code, by_breakdown in links.items():
            total = self._total_cell(pk, code, cells)
            if total is None:
                continue
            for name, keys in by_breakdown.items():
                if name not in breakdowns:
                    continue
                keys = [key for key, _l, _c in breakdowns[name]] if keys is None else keys
                parts = [("row", pk, name, key) for key in keys if ("row", pk, name, key) in cells]
                if parts and sum(cells[p].value for p in parts) == cells[total].value:
                    relations.append((total, parts))
                    if len(parts) == 1:  # the row is the figure: its state, never withheld for another
                        cells[parts[0]].eligible = False
                        if cells[total].state == WITHHELD:
                            cells[parts[0]].state = WITHHELD

    def _total_cell(self, pk, code, cells):
        """The cell of a place's figure that rows add up to: a plain count's own, or a share's
        numerator (known when the share is shown); None without a figure."""
        value = self.values.get((pk, code))
        if value is None or value.value is None:
            return None
        if plain_count(value.indicator):
            return (pk, code, "value") if (pk, code, "value") in cells else None
        if value.numerator is None:
            return None
        shown = self._share_shown(pk, value)
        key = (pk, code, "numerator")
        cells[key] = Cell(int(value.numerator), SHOWN if shown else WITHHELD, eligible=False)
        return key if shown else None

    def _share_shown(self, pk, value) -> bool:
        small = indicators.SMALL_COUNT
        if value.numerator is not None and 0 < value.numerator < small:
            return False
        if value.denominator is not None and 0 < value.denominator < small:
            return False
        return all(self.states.get((pk, self.sources[name], "value"), SHOWN) == SHOWN
                   for name in value.indicator.inputs if name in self.sources)

    # --- what the views call ---------------------------------------------------------------

    def state(self, place_pk, code: str, variant: str = "value") -> str:
        return self.states.get((place_pk, code, variant), WITHHELD)  # not decided: fail closed

    def apply(self, values: dict, place) -> dict:
        """Mark the Values of ``place`` (code -> Value) as this viewer may see them; returns them."""
        if not self.active:
            return values
        for value in values.values():
            self._mark(value, place.pk)
        return values

    def apply_children(self, by_child: dict) -> dict:
        if self.active:
            for pk, values in by_child.items():
                for value in values.values():
                    self._mark(value, pk)
        return by_child

    def apply_trends(self, trends: dict, periods, place) -> dict:
        """Trends ({code: [Value per period]}): the point of the period itself as everywhere
        else; another month of a plain count by that month's group (the place among its parent's
        children, as the parent's page of that month withholds it); shares and computed figures of
        other months by the primary and share rules."""
        if not self.active:
            return trends
        states = self._month_states([code for code in trends if plain_count(indicators.INDICATORS[code])],
                                    periods, place)
        for code, values in trends.items():
            for i, (period, value) in enumerate(zip(periods, values, strict=True)):
                if period == self.period:
                    self._mark(value, place.pk)
                elif plain_count(value.indicator):
                    self.states[(place.pk, code, f"month{i}")] = states.get((code, i), WITHHELD)
                    self._mark(value, place.pk, variant=f"month{i}")
                else:
                    self._mark(value, place.pk, decided=False)
        return trends

    def _month_states(self, codes: list, periods, place) -> dict:
        """{(code, month index): state} of the place's plain counts in other months: at the top of
        the viewer's area by the primary rule; one level below, among its parent's children (the
        parent's figure shown, so nothing beyond that group bears on them); deeper, not decided
        (withheld: fails closed)."""
        if not codes:
            return {}
        series = indicators.series_many(codes, place, periods, as_of=self.as_of)
        if self.chain[0].pk == place.pk:
            return {(code, i): SMALL if value.value and value.value < indicators.SMALL_COUNT else SHOWN
                    for code, values in series.items() for i, value in enumerate(values)}
        if len(self.chain) != 2 or self.chain[1].pk != place.pk:
            return {}
        from jurisdictions.models import Jurisdiction

        parent = self.chain[0]
        whole = indicators.series_many(codes, parent, periods, as_of=self.as_of)
        siblings = {node.pk: indicators.series_many(codes, node, periods, as_of=self.as_of)
                    for node in Jurisdiction.objects.filter(parent=parent)}
        states = {}
        for code in codes:
            for i in range(len(periods)):
                total = Cell(int(whole[code][i].value or 0), eligible=False)
                cells = {"total": total} | {pk: Cell(int(rows[code][i].value or 0)) for pk, rows in siblings.items()}
                if total.value < indicators.SMALL_COUNT and total.value:
                    total.state = SMALL
                parts = [pk for pk in siblings]
                relations = [("total", parts)] if sum(cells[pk].value for pk in parts) == total.value else []
                if withhold(cells, relations):
                    for pk in parts:
                        if cells[pk].value:
                            cells[pk].state = WITHHELD
                states[(code, i)] = cells[place.pk].state if place.pk in cells else WITHHELD
        return states

    def _mark(self, value, place_pk, decided: bool = True, variant: str = "value") -> None:
        self._mark_figure(value, place_pk, decided, variant)
        if value.display(suppress_small=True) != value.display():
            value.target_met = None  # met or not would bound a figure not shown

    def _mark_figure(self, value, place_pk, decided: bool, variant: str) -> None:
        indicator = value.indicator
        small = indicators.SMALL_COUNT
        if plain_count(indicator):
            state = self.state(place_pk, indicator.code, variant) if decided else (
                SMALL if value.value is not None and 0 < value.value < small else SHOWN)
            value.withheld = state == WITHHELD
            last_year = self.state(place_pk, indicator.code, "previous_year") if decided else WITHHELD
            before = self.state(place_pk, indicator.code, "previous_period") if decided else WITHHELD
            if state != SHOWN or last_year != SHOWN:
                value.yoy = value.yoy_points = None
            if state != SHOWN or before != SHOWN:
                value.mom = value.mom_points = None
            if last_year != SHOWN:
                value.previous_year = None
            if before != SHOWN:
                value.previous_period = None
            return
        hidden_input = any(
            (self.state(place_pk, self.sources[name]) if decided else SMALL) != SHOWN
            for name in indicator.inputs if name in self.sources and (decided or _small_input(value, name)))
        small_numerator = indicator.is_rate and value.numerator is not None and 0 < value.numerator < small
        value.withheld = value.value is not None and (hidden_input or small_numerator)
        value.yoy = value.yoy_points = value.mom = value.mom_points = None
        value.previous_year = value.previous_period = None

    # --- breakdowns of the jurisdiction itself ---------------------------------------------------

    def protect_breakdowns(self, breakdowns: dict) -> dict:
        """{name: rows} with the rows withheld in the jurisdiction's group as ``Withheld`` counts
        (a breakdown not decided there, such as the substances, by the primary rule alone)."""
        if not self.active:
            return breakdowns
        pk = self.jurisdiction.pk
        result = {}
        for name, rows in breakdowns.items():
            result[name] = [(key, label, Withheld(count) if self.states.get(("row", pk, name, key)) == WITHHELD
                             else count) for key, label, count in rows]
        return result


def _small_input(value, name) -> bool:
    """For a month whose groups are not read: whether an input of a computed figure is small."""
    for number in (value.numerator, value.denominator):
        if number is not None and 0 < number < indicators.SMALL_COUNT:
            return True
    return False
