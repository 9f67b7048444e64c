import datetime

from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.roles import Role
from persons import services
from persons.choices import CheckInKind, ControlStatus, DrugTestResult, FlagState, MeasureKind


def test_three_refusals_raise_the_serious_breach_flag(tree, township):
    village = tree["villages"][0]
    worker = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    today = timezone.localdate()
    person = services.do_create_person(acting_user=worker, name="张三", id_number="11010119900307125x",
                                       jurisdiction=village, control_status=ControlStatus.SOCIAL_CONTROL,
                                       control_status_since=today - datetime.timedelta(days=200))
    assert person.id_number == "11010119900307125X" and person.name_initials == "zs"
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, today - datetime.timedelta(days=120),
                                         acting_user=worker, decision_number="示公(禁)决字〔2026〕1号")
    services.do_report_in(measure, today - datetime.timedelta(days=110), acting_user=worker)
    person.refresh_from_db()
    assert person.control_status == ControlStatus.COMMUNITY_TREATMENT
    assert measure.planned.count() > 30
    for days in (90, 60, 30):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, today - datetime.timedelta(days=days),
                                    acting_user=worker, result=DrugTestResult.REFUSED)
    flag = person.flags.get(rule="serious_breach", state=FlagState.OPEN)
    assert "第二十条" in flag.article and len(flag.evidence) == 3
    assert services.evaluate_flags(person) == (0, 0)  # idempotent
    services.do_decide_flag(flag, "已作出强制隔离戒毒决定", document_number="示公(禁)强决字〔2026〕3号", acting_user=worker)
    assert services.evaluate_flags(person) == (0, 0)  # the decision stands for this evidence
