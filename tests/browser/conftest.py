"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against
pytest-django's live server, with the demo county loaded into the test database.

Run with ``JINDU_BROWSER_TESTS=1 .venv/bin/pytest -m browser`` (jindu.testing.plugin skips
them otherwise). Screenshots go to ``test-artifacts/`` (git-ignored).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "Jindu-browser-7x"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in this thread, and Django refuses
    ORM calls while one runs. Allowed only while this module's browser is up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_allow_orm_beside_playwright):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo(transactional_db):
    """The demo county, built by the same code as `jindu demo`."""
    from demo import builders

    builders.build(DEMO_PASSWORD)


@pytest.fixture
def open_page(browser, live_server, demo):
    """``open_page(viewport)`` gives a fresh page (own cookies); closed after the test."""
    contexts = []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def log_in(open_page):
    """``log_in(username, viewport=DESKTOP, password=...)`` gives a page past the login form."""

    def go(username, viewport=DESKTOP, password=DEMO_PASSWORD):
        page = open_page(viewport)
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click(".login-card button[type=submit]")
        page.wait_for_load_state()
        return page

    return go


@pytest.fixture
def screenshot(request):
    """``screenshot(page)`` saves test-artifacts/<test name>.png and returns its path."""

    def take(page, suffix=""):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
