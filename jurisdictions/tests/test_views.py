import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import ALL_ROLES, Role
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from jurisdictions.tests.factories import JurisdictionFactory

ADMIN_ONLY = frozenset({Role.SYSTEM_ADMIN})


def test_detail_is_scoped(scope_matrix, township):
    scope_matrix.check_detail(client=_client(), url=reverse("jurisdictions:detail", args=[township.code]),
                              allowed_roles=ALL_ROLES)


def test_list_is_scoped(scope_matrix, township):
    scope_matrix.check_list(_client(), reverse("jurisdictions:list") + "?level=township", marker=township.code,
                            allowed_roles=ALL_ROLES)


def test_api_is_scoped(scope_matrix, township):
    scope_matrix.check_detail(_client(), f"/api/jurisdictions/{township.code}/", allowed_roles=ALL_ROLES)


def test_list_and_detail_need_a_login(township):
    for url in (reverse("jurisdictions:list"), reverse("jurisdictions:detail", args=[township.code])):
        response = _client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_detail_shows_ancestors_and_children(tree, township):
    client = _client()
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    response = client.get(reverse("jurisdictions:detail", args=[township.code]))
    assert response.status_code == 200
    assert [a.code for a in response.context["ancestors"]] == ["980000", "980100", "980101"]
    assert [c.code for c in response.context["children"]] == ["980101001001", "980101001002"]
    assert response.context["can_edit"] is False


# --- import -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_import_page_only_for_the_system_admin(tree, role):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[role]))
    url = reverse("jurisdictions:import")
    expected = 200 if role == Role.SYSTEM_ADMIN else 403
    assert client.get(url).status_code == expected
    if role != Role.SYSTEM_ADMIN:
        response = client.post(url, {"file": _upload("980101003,新镇,township,980101\n")})
        assert response.status_code == 403
        assert not Jurisdiction.objects.filter(code="980101003").exists()


def test_import_link_only_for_the_system_admin(tree):
    client = _client()
    url = reverse("jurisdictions:import")
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    assert url in client.get(reverse("jurisdictions:list")).content.decode()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    assert url not in client.get(reverse("jurisdictions:list")).content.decode()


def test_upload_a_good_file(tree):
    admin = UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    client = _client()
    client.force_login(admin)
    data = "980101003,新镇,township,980101\n980101003001,新村,village,980101003\n"
    response = client.post(reverse("jurisdictions:import"), {"file": _upload(data, "新区划.csv")})
    assert response.status_code == 302
    assert response["Location"] == reverse("jurisdictions:list")
    assert Jurisdiction.objects.get(code="980101003001").path == "980000/980100/980101/980101003/980101003001/"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == admin
    assert "新区划.csv" in entry.object_repr
    assert entry.changes["created"] == 2


def test_upload_a_bad_file_shows_the_row_errors_and_changes_nothing(tree, jurisdiction_table):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    before = jurisdiction_table()
    data = ("980101003,新镇,township,980101\n"  # row 2: fine
            "98010100X,坏代码,township,980101\n"  # row 3
            "980101004,,township,980101\n"  # row 4
            "980102001,错前缀,township,980101\n")  # row 5
    response = client.post(reverse("jurisdictions:import"), {"file": _upload(data)})
    assert response.status_code == 400
    errors = response.context["errors"]
    assert [(e.row, e.field) for e in errors] == [(3, "code"), (4, "name"), (5, "parent_code")]
    body = response.content.decode()
    for e in errors:
        assert html.escape(e.message) in body
    assert jurisdiction_table() == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_upload_an_unreadable_file(tree, jurisdiction_table):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    before = jurisdiction_table()
    response = client.post(reverse("jurisdictions:import"),
                           {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\xff\xff", content_type="text/csv")})
    assert response.status_code == 400
    assert response.context["errors"]
    response = client.post(reverse("jurisdictions:import"),
                           {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")})
    assert response.status_code == 400
    assert {e.field for e in response.context["errors"]} == {"code", "name", "level", "parent_code"}
    assert jurisdiction_table() == before


def test_upload_outside_the_admins_area_changes_nothing(tree, township, jurisdiction_table):
    client = _client()
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.SYSTEM_ADMIN]))
    before = jurisdiction_table()
    response = client.post(reverse("jurisdictions:import"),
                           {"file": _upload("980102001,邻县的镇,township,980102\n")})
    assert response.status_code == 400
    assert [(e.row, e.field) for e in response.context["errors"]] == [(2, "code")]
    assert jurisdiction_table() == before


# --- rename -----------------------------------------------------------------------------------


def test_rename_page_only_for_the_system_admin(scope_matrix, township):
    scope_matrix.check_detail(_client(), reverse("jurisdictions:rename", args=[township.code]),
                              allowed_roles=ADMIN_ONLY)


def test_rename(tree, township):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    url = reverse("jurisdictions:rename", args=[township.code])
    assert client.get(url).context["form"].initial == {"name": township.name, "version": 1}
    response = client.post(url, {"name": "新名字", "version": 1})
    assert response.status_code == 302
    township.refresh_from_db()
    assert (township.name, township.version) == ("新名字", 2)


def test_rename_with_a_stale_version_shows_a_conflict_and_does_not_overwrite(tree, township):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    url = reverse("jurisdictions:rename", args=[township.code])
    assert client.post(url, {"name": "第一个", "version": 1}).status_code == 302
    response = client.post(url, {"name": "第二个", "version": 1})  # opened before the first save
    assert response.status_code == 409
    with translation.override("zh-hans"):
        message = _conflict_message()
    assert html.escape(message) in response.content.decode()
    township.refresh_from_db()
    assert (township.name, township.version) == ("第一个", 2)


def test_rename_outside_the_area_is_not_found(tree):
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["townships"][0], roles=[Role.SYSTEM_ADMIN]))
    other = tree["townships"][1]
    response = client.post(reverse("jurisdictions:rename", args=[other.code]), {"name": "X", "version": 1})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name != "X"


# --- query counts -----------------------------------------------------------------------------


def test_list_page_query_count_does_not_grow_with_rows(tree, township, django_assert_max_num_queries):
    for number in range(3, 63):
        JurisdictionFactory(code=f"{township.code}{number:03d}", level=Level.VILLAGE, parent=township)
    client = _client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    url = reverse("jurisdictions:list") + "?level=village"
    client.get(url)  # warm caches (sessions, content types)
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 50


# --- helpers ----------------------------------------------------------------------------------


def _conflict_message():
    from django.utils.translation import gettext

    return gettext("This record was changed by someone else after you opened it. Reload it and apply your "
                   "change again.")


def _upload(rows: str, name: str = "jurisdictions.csv"):
    return SimpleUploadedFile(name, ("code,name,level,parent_code\n" + rows).encode(), content_type="text/csv")


def _client():
    return Client()
