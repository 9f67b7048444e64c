"""Issue 20: /api/ answered a browser with DRF's English browsable pages; it answers JSON only."""

from accounts.tests.factories import UserFactory
from core.roles import Role


def test_the_api_answers_a_browser_with_json(client, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    for url in ("/api/", "/api/persons/", "/api/jurisdictions/"):
        response = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/json"), url
        assert b"Django REST framework" not in response.content
    assert client.get("/api/persons/?format=api").status_code == 404
