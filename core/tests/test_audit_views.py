import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core import audit
from core.models import AuditEntry
from core.roles import Role


@pytest.fixture
def entries(tree, township):
    inside = UserFactory(jurisdiction=township, roles=[Role.OFFICE], username="inside_user")
    outside = UserFactory(jurisdiction=tree["other_county"], roles=[Role.OFFICE], username="outside_user")
    audit.record(AuditEntry.Action.VIEW, actor=inside, object_repr="inside record")
    audit.record(AuditEntry.Action.VIEW, actor=outside, object_repr="outside record")
    audit.record(AuditEntry.Action.SYSTEM, object_repr="nightly sweep")
    return inside, outside


def test_only_the_audit_admin_reads_the_log(client, tree, entries, scope_matrix):
    scope_matrix.check_list(client, reverse("core:audit_list"), marker="inside record",
                            allowed_roles={Role.AUDIT_ADMIN})


def test_audit_admin_sees_own_subtree_and_system_entries(client, tree, entries):
    auditor = UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN])
    client.force_login(auditor)
    body = client.get(reverse("core:audit_list")).content.decode()
    assert "inside record" in body and "nightly sweep" in body
    assert "outside record" not in body


def test_filters(client, tree, entries):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    body = client.get(reverse("core:audit_list"), {"user": "inside"}).content.decode()
    assert "inside record" in body and "nightly sweep" not in body
    body = client.get(reverse("core:audit_list"), {"action": "system"}).content.decode()
    assert "nightly sweep" in body and "inside record" not in body


def test_export_is_scoped_and_audited(client, tree, entries):
    auditor = UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN])
    client.force_login(auditor)
    response = client.get(reverse("core:audit_list"), {"export": "xlsx", "action": "view"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "inside record" in values and "outside record" not in values
    export = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert export.actor == auditor and export.changes["rows"] == 1


def test_diff_masks_sensitive_values():
    from core.masking import mask_id_number

    changes = audit.diff({"id_number": "11010119900307123X", "name": "张三"},
                         {"id_number": "110101199003071242", "name": "张三"}, masks={"id_number": mask_id_number})
    assert changes == {"id_number": ["110101**********3X", "110101**********42"]}
