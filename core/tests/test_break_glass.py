import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry, BreakGlassGrant
from core.roles import Role
from core.services import do_break_glass
from jurisdictions.models import Jurisdiction


@pytest.fixture
def glass(monkeypatch):
    """Jurisdiction stands in for a record kind that allows break-glass access."""
    monkeypatch.setattr(Jurisdiction, "break_glass", True, raising=False)


def test_grant_opens_one_record_for_a_few_hours(glass, tree):
    own, other = tree["townships"]
    user = UserFactory(jurisdiction=own, roles=[Role.TOWNSHIP])
    assert not Jurisdiction.objects.visible_to(user, with_grants=True).filter(pk=other.pk).exists()
    grant = do_break_glass(Jurisdiction, other.pk, "走访对象临时住在邻镇，需要核对", acting_user=user)
    assert Jurisdiction.objects.visible_to(user, with_grants=True).filter(pk=other.pk).exists()
    # for reading: the scope of writes (plain visible_to) does not hold it
    assert not Jurisdiction.objects.visible_to(user).filter(pk=other.pk).exists()
    # only that record, not its subtree
    assert not Jurisdiction.objects.visible_to(user, with_grants=True).filter(parent=other).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.BREAK_GLASS)
    assert entry.changes["reason"] == "走访对象临时住在邻镇，需要核对" and entry.actor == user
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert not Jurisdiction.objects.visible_to(user, with_grants=True).filter(pk=other.pk).exists()


def test_reason_required_and_role_and_model_checked(glass, tree, monkeypatch):
    own, other = tree["townships"]
    user = UserFactory(jurisdiction=own, roles=[Role.TOWNSHIP])
    with pytest.raises(ValidationError):
        do_break_glass(Jurisdiction, other.pk, "看看", acting_user=user)
    monkeypatch.setattr(Jurisdiction, "scope_roles", frozenset({Role.OFFICE}))
    with pytest.raises(PermissionError):
        do_break_glass(Jurisdiction, other.pk, "一个足够长的理由说明情况", acting_user=user)
    monkeypatch.setattr(Jurisdiction, "break_glass", False)
    with pytest.raises(PermissionError):
        do_break_glass(Jurisdiction, other.pk, "一个足够长的理由说明情况", acting_user=UserFactory(jurisdiction=own,
                                                                                roles=[Role.OFFICE]))
    assert not BreakGlassGrant.objects.exists()


def test_view_asks_reason_then_opens(glass, tree, client, monkeypatch):
    own, other = tree["townships"]
    monkeypatch.setattr(Jurisdiction, "get_absolute_url",
                        lambda self: reverse("jurisdictions:detail", args=[Jurisdiction.objects.get(pk=self.pk).code]),
                        raising=False)
    user = UserFactory(jurisdiction=own, roles=[Role.TOWNSHIP])
    client.force_login(user)
    detail = reverse("jurisdictions:detail", args=[other.code])
    assert client.get(detail).status_code == 404
    url = reverse("core:break_glass", args=["jurisdictions.Jurisdiction", other.pk])
    page = client.get(url)
    assert page.status_code == 200 and other.name not in page.content.decode()
    assert client.post(url, {"reason": "短"}).status_code == 400
    response = client.post(url, {"reason": "需要核对邻镇转来的衔接材料"})
    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200


def test_grants_listed_for_the_audit_admin_only(glass, tree, client):
    own, other = tree["townships"]
    do_break_glass(Jurisdiction, other.pk, "需要核对邻镇转来的衔接材料", acting_user=UserFactory(jurisdiction=own, roles=[Role.TOWNSHIP]))
    url = reverse("core:break_glass_list")
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]))
    assert "需要核对邻镇转来的衔接材料" in client.get(url).content.decode()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(jurisdiction=tree["other_county"], roles=[Role.AUDIT_ADMIN]))
    assert "需要核对邻镇转来的衔接材料" not in client.get(url).content.decode()


def test_models_without_break_glass_refuse(tree, client):
    own, other = tree["townships"]
    client.force_login(UserFactory(jurisdiction=own, roles=[Role.TOWNSHIP]))
    assert client.get(reverse("core:break_glass", args=["jurisdictions.Jurisdiction", other.pk])).status_code == 404
    assert client.get(reverse("core:break_glass", args=["nope.Model", 1])).status_code == 404
