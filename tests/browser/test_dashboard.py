"""The drug-situation dashboard in Chromium (issue 6): the demo office opens it, every ECharts
instance has data, Chinese renders, nothing breaks the CSP; the leadership lands on it and sees
no links. Screenshots go to test-artifacts/."""

import pytest

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHARTS = ["trend", "status", "ranking", "map", "rates", "age", "substance", "risk"]

# Per chart: how many data points its series carry, and whether the canvas has been painted.
SERIES_JS = """() => Array.from(document.querySelectorAll('[data-chart]')).map(element => {
    const chart = echarts.getInstanceByDom(element);
    if (!chart) { return [element.dataset.chart, null, false]; }
    const series = chart.getOption().series.map(s => (s.data || []).filter(d => d !== null).length);
    const canvas = element.querySelector('canvas');
    return [element.dataset.chart, series, !!canvas && canvas.width > 0];
})"""

RINGS = ["status", "substance", "risk"]
# Per ring: the counts of its slices the canvas does not draw whole — cut to "6…" (as ECharts
# does with a label it finds no room for) or running off the canvas. The demo county of the
# tests counts in ones and tens, a real one in hundreds and thousands: the rings are drawn
# again with each count shown as a thousand times as many (the slices stay as they are).
CUT_LABELS_JS = """names => names.map(name => {
    const chart = echarts.getInstanceByDom(document.querySelector('[data-chart="' + name + '"]'));
    const data = chart.getOption().series[0].data.map(d => Object.assign({}, d, {shown: String(d.value * 1000)}));
    chart.setOption({series: [{data: data}]});
    // Each slice is labelled with its name and its count (no paged legend hides one). The canvas
    // draws a two-line label as one text element a line, one under the other at the same x.
    const lines = chart.getZr().storage.getDisplayList(true).filter(e => {
        if (!e.style || typeof e.style.text !== 'string') { return false; }
        const box = e.getBoundingRect().clone();
        if (e.transform) { box.applyTransform(e.transform); }
        e.__box = box;
        return box.x >= 0 && box.y >= 0 && box.x + box.width <= chart.getWidth()
            && box.y + box.height <= chart.getHeight();
    });
    const whole = lines.map(e => e.style.text);
    lines.forEach(a => lines.forEach(b => {
        if (a !== b && Math.abs(a.__box.x - b.__box.x) < 1 && b.__box.y > a.__box.y
            && b.__box.y - a.__box.y <= 2 * a.__box.height + 4) { whole.push(a.style.text + "\\n" + b.style.text); }
    }));
    return [name, data.map(d => d.name + "\\n" + d.shown).filter(s => !whole.includes(s))];
})"""
# The risk ring's slices: name and colour, as drawn.
RISK_COLOURS_JS = """() => echarts.getInstanceByDom(document.querySelector('[data-chart="risk"]'))
    .getOption().series[0].data.map(d => [d.name, d.itemStyle && d.itemStyle.color])"""
RISK_COLOURS = {"高": "#d63939", "中": "#f76707", "低": "#2fb344", "未登记": "#9aa0ac"}


def _open_dashboard(page):
    page.goto("/monitoring/dashboard/")
    page.wait_for_selector("body[data-charts-ready]", state="attached")
    page.wait_for_timeout(800)  # the charts' first frame


def test_office_dashboard_has_every_chart_populated(log_in, screenshot):
    page = log_in("office")
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    _open_dashboard(page)
    charts = {name: (series, painted) for name, series, painted in page.evaluate(SERIES_JS)}
    assert sorted(charts) == sorted(CHARTS)
    for name, (series, painted) in charts.items():
        assert series and all(count > 0 for count in series), (name, series)
        assert painted, name
    assert page.locator(".kpi-card").count() >= 10
    assert "示范县" in page.locator(".page-title").inner_text()
    # A tooltip without inline styles: hovering a bar of the ranking shows the township's figure.
    box = page.locator('[data-chart="ranking"] canvas').first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20)
    page.wait_for_timeout(300)
    screenshot(page, "-office")
    risk = page.evaluate(RISK_COLOURS_JS)
    assert risk and all(colour == RISK_COLOURS[name] for name, colour in risk), risk
    assert page.evaluate(CUT_LABELS_JS, RINGS) == [[name, []] for name in RINGS]
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
    # Clicking a slice of the status ring opens the person list filtered to it.
    page.select_option("[data-ranking-for=ranking]", index=2)
    page.wait_for_timeout(300)
    urls = page.evaluate("JSON.parse(document.getElementById('dashboard-data').textContent)"
                         ".charts.status.items.map(i => i.url).filter(Boolean)")
    assert urls and all(u.startswith("/persons/?status=") for u in urls)
    page.goto(urls[0])
    assert page.locator(".person-table").count() == 1


def test_leadership_lands_on_the_dashboard_without_links(log_in, screenshot):
    page = log_in("leader")
    page.wait_for_selector("body[data-charts-ready]", state="attached")
    assert page.url.endswith("/monitoring/dashboard/")
    data = page.evaluate("JSON.parse(document.getElementById('dashboard-data').textContent)")
    assert data["links"] is False
    assert page.locator('a[href^="/persons/"]').count() == 0
    page.wait_for_timeout(800)
    screenshot(page, "-leader")


def test_dashboard_on_a_phone(log_in, screenshot):
    page = log_in("township", viewport=PHONE)
    _open_dashboard(page)
    charts = page.evaluate(SERIES_JS)
    assert all(series for _name, series, _painted in charts)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "-phone")
    risk = page.evaluate(RISK_COLOURS_JS)
    assert risk and all(colour == RISK_COLOURS[name] for name, colour in risk), risk
    assert page.evaluate(CUT_LABELS_JS, RINGS) == [[name, []] for name in RINGS]
