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


def test_changes_read_in_words_not_json(client, tree):
    """Issue 20: the log showed {"second_factor": [false, true]}; now the field's name and 是/否."""
    from accounts.models import User

    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE], username="changed_user")
    audit.record(AuditEntry.Action.UPDATE, obj=user, changes={"second_factor": [False, True]})
    audit.record(AuditEntry.Action.UPDATE, obj=user, changes={"is_active": [True, False]})
    audit.record(AuditEntry.Action.EXPORT, actor=user, object_repr="导出", changes={"rows": 3, "layout": "roster"})
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    body = client.get(reverse("core:audit_list")).content.decode()
    label = "双因素认证"
    assert f"{label}：否 → 是" in body and "second_factor" not in body and "[false, true]" not in body
    assert f"{User._meta.get_field('is_active').verbose_name}：是 → 否" in body and "is_active" not in body
    assert "行数：3" in body and "roster" not in body
    assert f"{User._meta.verbose_name}：" in body  # the object's type by its Chinese name
    export = client.get(reverse("core:audit_list"), {"export": "xlsx"})
    values = [cell for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
              for cell in row]
    assert f"{label}：否 → 是" in values and str(User._meta.verbose_name) in values


def test_object_type_filter_offers_the_chinese_names(client, tree):
    from accounts.models import User
    from persons.models import Person

    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    audit.record(AuditEntry.Action.UPDATE, obj=user, object_repr="the user entry")
    audit.record(AuditEntry.Action.SYSTEM, object_repr="the system entry")
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    page = client.get(reverse("core:audit_list"))
    choices = dict(page.context["filter"].form.fields["object_type"].choices)
    assert choices["accounts.User"] == str(User._meta.verbose_name)
    assert choices["persons.Person"] == str(Person._meta.verbose_name)
    body = client.get(reverse("core:audit_list"), {"object_type": "accounts.User"}).content.decode()
    assert "the user entry" in body and "the system entry" not in body


def test_verify_button_runs_the_chain_check_and_is_audited(client, tree, entries):
    auditor = UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN])
    client.force_login(auditor)
    assert reverse("core:audit_verify") in client.get(reverse("core:audit_list")).content.decode()
    checked = audit.verify()[0]
    page = client.post(reverse("core:audit_verify"), follow=True)
    body = page.content.decode()
    assert page.status_code == 200 and f"审计日志链完整：已校验 {checked} 条记录" in body
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VERIFY)
    assert entry.actor == auditor and entry.changes["checked"] == checked and entry.changes["problem"] == ""
    # Others may not run it.
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    assert client.post(reverse("core:audit_verify")).status_code == 403
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VERIFY).count() == 1


def test_verify_button_names_a_broken_chain(client, tree, entries):
    from core.tests.test_audit_chain import _raw

    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    victim = AuditEntry.objects.order_by("seq").first()
    _raw("UPDATE core_auditentry SET object_repr = 'forged' WHERE id = %s", [victim.id])
    body = client.post(reverse("core:audit_verify"), follow=True).content.decode()
    assert "审计日志链有问题" in body and f"{victim.seq}" in body


def test_download_names_are_chinese_with_an_ascii_fallback(client, tree, entries):
    from urllib.parse import quote

    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    header = client.get(reverse("core:audit_list"), {"export": "xlsx"})["Content-Disposition"]
    assert header.startswith('attachment; filename="audit-log-') and f"filename*=UTF-8''{quote('审计日志')}-" in header
    assert header.isascii()
