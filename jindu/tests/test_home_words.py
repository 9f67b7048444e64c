"""Issue 20, home and leadership pages: the dashboard card's button said "待处理" (the msgid "Open"
shared with the flags' state) and the leader's persons line said "尚未开放" though its figures exist."""

import re

from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.roles import Role


def test_the_dashboard_card_says_what_it_opens(client, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    body = client.get(reverse("home")).content.decode()
    card = re.search(r'<a class="card card-link card-link-pop home-dashboard" href="([^"]+)">(.*?)</a>', body, re.S)
    assert card.group(1) == reverse("monitoring:dashboard")
    assert "待处理" not in card.group(2) and "打开驾驶舱" in card.group(2)


def test_the_leaders_persons_line_leads_to_its_figures(client, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.LEADERSHIP]))
    page = client.get(reverse("core:work_line", args=["persons"])).content.decode()
    assert "尚未开放" not in page and reverse("monitoring:dashboard") in page
    # A leader's home is the dashboard itself; its menu has the persons line with the figures.
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url == reverse("monitoring:dashboard")
    dashboard = client.get(reverse("monitoring:dashboard"))
    assert dashboard.status_code == 200 and "尚未开放" not in dashboard.content.decode()
