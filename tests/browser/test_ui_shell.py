"""The UI shell in a real browser: Chinese rendered in a CJK font, login, the phone menu,
jurisdiction scoping as a township worker sees it."""

import re

import pytest

# serialized_rollback: each test starts with the rows data migrations made (the roles), which
# the flush after a transactional test would otherwise leave out.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
# Font families that carry Chinese glyphs: what app.css asks for, on each platform.
CJK_FONTS = ("WenQuanYi", "Noto Sans CJK", "Source Han Sans", "Microsoft YaHei", "PingFang")
HAN = re.compile(r"[\u4e00-\u9fff]")


def platform_fonts(page, selector) -> list[dict]:
    """The fonts Chromium actually used for the text of ``selector`` (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, f"{selector} not found"
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_office_home_is_chinese_in_a_cjk_font(log_in, screenshot):
    page = log_in("office")

    assert page.url.endswith("/")
    title = page.locator(".page-title")
    assert title.inner_text() == "您好，王禁毒"
    user_menu = page.locator("#user-menu").inner_text()
    assert "示范县" in user_menu
    assert "禁毒办工作人员" in user_menu
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(page)

    fonts = platform_fonts(page, ".page-title")
    cjk = [f for f in fonts if any(name in f["familyName"] for name in CJK_FONTS)]
    assert cjk, f"Chinese rendered without a CJK font (boxes): {fonts}"
    han_characters = len(HAN.findall(title.inner_text()))
    assert sum(f["glyphCount"] for f in cjk) >= han_characters > 0


def test_wrong_password_stays_on_the_login_page_with_a_chinese_error(log_in):
    page = log_in("office", password="not-the-password")

    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger").inner_text() == "用户名或密码错误。"
    assert page.locator("#id_username").input_value() == "office"


def test_phone_menu_opens_from_the_toggler(log_in, screenshot):
    page = log_in("office", viewport=PHONE)
    menu = page.locator("#navbar-menu")
    toggler = page.locator(".navbar-toggler")

    assert toggler.is_visible()
    assert not menu.is_visible()
    toggler.click()
    page.wait_for_selector("#navbar-menu.show")
    assert menu.get_by_role("link", name="首页").is_visible()
    work_line = menu.get_by_role("button", name="吸毒人员管理")
    work_line.click()
    assert menu.locator(".dropdown-menu.show").get_by_role("link", name="概览").is_visible()
    screenshot(page)
    # No page wider than the phone: the layout must not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_desktop_dropdowns_open(log_in):
    page = log_in("office")
    page.get_by_role("button", name="系统管理").click()
    users = page.locator("#navbar-menu").get_by_role("link", name="用户管理")
    users.wait_for(state="visible")
    users.click()
    page.wait_for_load_state()
    assert page.locator(".page-title").inner_text() == "用户"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_township_worker_does_not_see_the_sibling_township(log_in):
    page = log_in("township")
    page.goto("/jurisdictions/?level=township")

    table = page.locator("table").inner_text()
    assert "城关镇" in table
    assert "青山镇" not in table
    assert "共 1 条记录" in page.locator(".table-filters").inner_text()

    response = page.goto("/jurisdictions/990101002/")
    assert response.status == 404
    assert "不在您的管辖范围内" in page.locator(".empty").inner_text()
