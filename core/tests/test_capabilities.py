from django.urls import reverse

from core.capabilities import capabilities
from core.roles import Role


def test_generated_from_the_enforcing_code(db):
    table = {entry.role: entry for entry in capabilities()}
    # From the views' required_roles:
    assert any(route == "/audit/" for _label, route in table[Role.AUDIT_ADMIN].pages)
    assert not any(route == "/audit/" for _label, route in table[Role.SYSTEM_ADMIN].pages)
    assert any(route == "/security/capabilities/" for _label, route in table[Role.SECURITY_ADMIN].pages)
    # From the models' scope_roles:
    from accounts.models import User

    users = str(User._meta.verbose_name_plural)
    assert users in table[Role.SYSTEM_ADMIN].records and users not in table[Role.SOCIAL_WORKER].records
    # A member unit: the persons of its support tasks, its own support records, no break-glass.
    from persons.models import Flag, Person

    persons = str(Person._meta.verbose_name_plural)
    unit = table[Role.MEMBER_UNIT]
    assert persons not in unit.records and any(persons in r and r != persons for r in unit.records)
    assert str(Flag._meta.verbose_name_plural) not in unit.records and persons not in unit.break_glass
    assert persons in table[Role.TOWNSHIP].records and persons in table[Role.TOWNSHIP].break_glass
    # From core.roles:
    assert not table[Role.SYSTEM_ADMIN].personal_data and table[Role.SOCIAL_WORKER].personal_data
    assert not table[Role.LEADERSHIP].personal_data


def test_page_is_for_the_security_admin(client, tree, scope_matrix):
    scope_matrix.check_detail(client, reverse("core:capabilities"), allowed_roles={Role.SECURITY_ADMIN},
                              positions={"in_scope", "sibling", "above", "other"})


def test_pages_are_named_in_chinese_without_routes_or_class_names(client, tree):
    """Issue 20: the page listed view class names (DashboardView) and URL regexes."""
    import re

    from accounts.tests.factories import UserFactory

    english = re.compile(r"[A-Za-z]{2,}")
    for entry in capabilities():
        assert [name for name in entry.page_names if english.search(name.replace("API", ""))] == []
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    body = client.get(reverse("core:capabilities")).content.decode()
    assert "DashboardView" not in body and "(?P<" not in body and "<code>/" not in body
    assert "毒情监测驾驶舱" in body  # DashboardView by its name
