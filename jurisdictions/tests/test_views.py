from django.urls import reverse

from core.roles import ALL_ROLES


def test_detail_is_scoped(scope_matrix, township):
    scope_matrix.check_detail(client=_client(), url=reverse("jurisdictions:detail", args=[township.code]),
                              allowed_roles=ALL_ROLES)


def test_list_is_scoped(scope_matrix, township):
    scope_matrix.check_list(_client(), reverse("jurisdictions:list") + "?level=township", marker=township.code,
                            allowed_roles=ALL_ROLES)


def test_api_is_scoped(scope_matrix, township):
    scope_matrix.check_detail(_client(), f"/api/jurisdictions/{township.code}/", allowed_roles=ALL_ROLES)


def _client():
    from django.test import Client

    return Client()
