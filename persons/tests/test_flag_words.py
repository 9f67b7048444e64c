"""A flag's recommendation reads once as a recommendation (issue 20: the page said
"建议：建议考虑强制隔离戒毒…", the label and the text both saying 建议)."""

import datetime

from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.roles import Role
from persons import services
from persons.choices import CheckInKind, DrugTestResult
from persons.tests import people


def test_the_recommendation_is_not_doubled(tree, client):
    village = tree["villages"][0]
    person = people.under_treatment(village, name="三次拒检")
    for days in (60, 30, 2):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, timezone.localdate() - datetime.timedelta(days=days),
                                    acting_user=None, result=DrugTestResult.REFUSED)
    client.force_login(UserFactory(jurisdiction=village.parent, roles=[Role.TOWNSHIP]))
    page = client.get(person.get_absolute_url()).content.decode()
    assert "建议：考虑强制隔离戒毒" in page and "建议：建议" not in page
