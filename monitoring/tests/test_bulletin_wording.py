"""The 毒情通报's wording (issue 20): every sentence the bulletin generates, rendered for a county,
a township and a city from small data, read as a Chinese notice reads: each unit once, a staffing
ratio as "566:1", no target above 100%, the area called 全县/全镇/全市, no English and no "None"."""

import datetime
import io
import re

import pytest
from docx import Document as WordDocument

from accounts.tests.factories import UserFactory
from core.roles import Role
from monitoring import reports, services
from monitoring.choices import Comparison
from monitoring.periods import Period
from monitoring.tests import builders
from persons.choices import ControlStatus as S
from persons.choices import Substance

D = datetime.date
JUNE = Period.month(2024, 6)
TODAY = D(2024, 7, 5)


def build_situation(tree, area):
    """Persons in the county's villages (one township's worth in the first township), one social
    worker, a population, targets of 100% and of a ratio, a threshold crossed by the area itself,
    overdue tests and serious breaches."""
    office = UserFactory(jurisdiction=area, roles=[Role.OFFICE])
    villages = tree["villages"]
    for number, village in enumerate(villages):
        builders.persons(village, 30 + number, since=D(2020, 1, 1), substances=[Substance.HEROIN])
        builders.persons(village, 4, since=D(2024, 6, 10), first_found_on=D(2024, 6, 10),
                         substances=[Substance.METHAMPHETAMINE])
        builders.persons(village, 1, since=D(2023, 6, 10), first_found_on=D(2023, 6, 10))
        group = builders.persons(village, 6, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 10), birth="20080101")
        rows = builders.measures(group[:4], decided_on=D(2024, 1, 2), reported_on=D(2024, 1, 10))
        builders.measures(group[4:], decided_on=D(2024, 5, 1))
        builders.planned_tests(rows[:2], due_on=D(2024, 6, 20), done_on=D(2024, 6, 18))
        builders.planned_tests(rows[2:], due_on=D(2024, 6, 20))
        builders.flags(group[:1], raised_on=D(2024, 6, 25))
    UserFactory(jurisdiction=villages[0], roles=[Role.SOCIAL_WORKER])
    for code, value in (("execution_rate", 100), ("grid_rate", 100), ("test_completion_rate", 100),
                        ("staffing_ratio", 10), ("relapse_rate", 5), ("whereabouts_unknown", 0),
                        ("registered_per_mille", 1)):
        services.do_set_target(code, area, 2024, value, acting_user=office)
    services.do_set_population(area, 2024, 5000, acting_user=office)
    services.do_set_population(area, 2023, 5000, acting_user=office)
    services.do_set_threshold("newly_found", area, Comparison.YOY_ABOVE, 20, acting_user=office)
    services.do_set_threshold("registered_per_mille", area, Comparison.VALUE_ABOVE, 1, acting_user=office)


def sentences(area) -> list[str]:
    content = reports.build("bulletin", area, JUNE, today=TODAY).content
    return [p.text for p in WordDocument(io.BytesIO(content)).paragraphs if p.text.strip()]


@pytest.mark.parametrize(("level", "whole"), [("county", "全县"), ("township", "全镇"), ("city", "全市")])
def test_every_generated_sentence_reads_as_a_notice(tree, level, whole):
    area = tree["townships"][0] if level == "township" else tree[level]
    build_situation(tree, area)
    text = sentences(area)
    body = text[text.index("一、总体形势"):]
    generated = "\n".join(body)
    # Each unit once (before: "30.85‰‰", "566.0人/名").
    assert not re.search(r"‰‰|%%|人人|名名|项项|人/名", generated), generated
    # A staffing ratio as the seeds write it, target included (before: "社工配备比（人/名）为24.0人/名").
    assert re.search(r"社工配备比为\d+(\.\d+)?:1，超过年度目标10:1。", generated), generated
    assert "社工配备比控制在10:1以内" in generated
    # No aim above 100% (before: "提高到100.0%以上").
    for number in re.findall(r"(\d+(?:\.\d+)?)%以上", generated):
        assert float(number) < 100, generated
    assert "执行率提高到100.0%。" in generated
    # The area is 全县/全镇/全市, never its name nor 全乡镇 (before: "测试县新发现吸毒人员同比上升…").
    assert set(re.findall(r"全(?:街道|[县镇乡市省区旗])", generated)) == {whole}, generated
    assert f"{area.name}新发现" not in generated and "全乡镇" not in generated
    assert re.search(f"（[一二三四五六七八九十]+）{whole}新发现吸毒人员同比上升", generated), generated
    # A per-mille figure and its target with one unit and the gap in 千分点.
    assert re.search(r"登记吸毒人员占人口千分比为\d+\.\d\d‰，超过年度目标1\.00‰，多出\d+\.\d\d个千分点", generated), generated
    # Nothing a developer wrote: no English, no "None", no empty figure.
    assert not re.search(r"[A-Za-z]", generated), generated
    assert "为。" not in generated and "为，" not in generated
    # The areas below addressed as this level's are.
    below = {"county": "各乡镇（街道）", "township": "各村（社区）", "city": "各县（市、区）"}[level]
    assert f"对连续排名靠后的{below[1:]}进行约谈" in generated
