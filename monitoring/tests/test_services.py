from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from core.services import ConflictError
from monitoring import services
from monitoring.choices import Comparison
from monitoring.models import Target
from monitoring.tests.builders import ui


def test_set_target_audits_creation_and_edit(township):
    office = UserFactory(jurisdiction=township, roles=[Role.OFFICE])
    target = services.do_set_target("execution_rate", township, 2024, "80", acting_user=office)
    services.do_set_target("execution_rate", township, 2024, "90", acting_user=office,
                           expected_version=target.version)
    entries = list(AuditEntry.objects.filter(object_type="monitoring.Target").order_by("seq"))
    assert [e.action for e in entries] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    assert entries[1].changes["value"] == ["80.00", "90.00"] and entries[1].actor == office
    with pytest.raises(ConflictError):
        services.do_set_target("execution_rate", township, 2024, "95", acting_user=office, expected_version=1)
    assert Target.objects.get().value == Decimal(90)


@pytest.mark.parametrize(("call", "field", "msgid"), [
    (lambda j: services.do_set_target("nothing", j, 2024, 1, acting_user=None), "indicator",
     "Unknown indicator “%(code)s”."),
    (lambda j: services.do_set_target("execution_rate", j, 2024, "abc", acting_user=None), "value", "Enter a number."),
    (lambda j: services.do_set_target("execution_rate", j, 1900, 80, acting_user=None), "year",
     "The year must be between %(low)s and %(high)s."),
    (lambda j: services.do_set_target("newly_found", j, 2024, "2.5", acting_user=None), "value",
     "A count target is a whole number."),
    (lambda j: services.do_set_target("registered", j, 2024, 100, acting_user=None), "indicator",
     "“%(name)s” has no better direction, so it takes no target."),
    (lambda j: services.do_set_population(j, 2024, 0, acting_user=None), "population",
     "The population must be at least 1."),
    (lambda j: services.do_set_threshold("newly_found", j, "sideways", 20, acting_user=None), "comparison",
     "Unknown comparison."),
])
def test_validation_errors_in_chinese(township, call, field, msgid):
    with pytest.raises(ValidationError) as error:
        call(township)
    message = " ".join(error.value.message_dict[field])
    expected = ui(msgid).split("%(")[0]
    assert expected in message
    assert not AuditEntry.objects.exists()


def test_only_the_office_of_the_area_may_set(tree):
    township, other = tree["townships"]
    with pytest.raises(PermissionError):
        services.do_set_target("execution_rate", township, 2024, 80,
                               acting_user=UserFactory(jurisdiction=township, roles=[Role.LEADERSHIP]))
    with pytest.raises(PermissionError):
        services.do_set_population(other, 2024, 10,
                                   acting_user=UserFactory(jurisdiction=township, roles=[Role.OFFICE]))
    with pytest.raises(PermissionError):
        services.do_set_threshold("newly_found", other, Comparison.YOY_ABOVE, 20,
                                  acting_user=UserFactory(jurisdiction=township, roles=[Role.OFFICE]))
    assert not Target.objects.exists()


def test_settings_and_population_walk_up(tree):
    county, township, village = tree["county"], tree["townships"][0], tree["villages"][0]
    assert services.settings_for(village).hidden_ratio == Decimal(5)
    assert services.settings_for(village).staffing_standard == 30 and services.settings_for(village).set_at is None
    services.do_set_monitoring_settings(county, acting_user=None, hidden_ratio="4.5", staffing_standard=20)
    assert services.settings_for(village).hidden_ratio == Decimal("4.5")
    assert services.settings_for(village).set_at == county
    services.do_set_population(township, 2022, 50_000, acting_user=None)
    services.do_set_population(township, 2024, 52_000, acting_user=None)
    assert services.population_for(township, 2023) == 50_000
    assert services.population_for(township, 2025) == 52_000
    assert services.population_for(township, 2021) is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.POLICY).count() == 1
