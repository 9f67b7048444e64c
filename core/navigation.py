"""The navigation: the work lines of SPEC §3 in order, and the administration menu.

Apps add their pages in ``AppConfig.ready()``; a work line that has no pages yet is still
shown and says plainly that it is not available yet.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.roles import ALL_ROLES, PERSONAL_DATA_ROLES, Role, role_codes


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    roles: frozenset = ALL_ROLES


@dataclass
class WorkLine:
    code: str
    section: str
    label: str
    description: str
    roles: frozenset
    items: list[MenuItem] = field(default_factory=list)


_BUSINESS = frozenset(ALL_ROLES - {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

WORK_LINES: list[WorkLine] = [
    WorkLine("persons", "3.1", _("Registered persons"),
             _("Person files, control status and measures with their legal clocks, check-in plans, "
               "rule flags, risk assessment, support and transfers."),
             PERSONAL_DATA_ROLES | {Role.LEADERSHIP}),
    WorkLine("enforcement", "3.2", _("Enforcement"),
             _("Cases, suspects, seizures, drug-related assets, outflow trafficking and group analysis."),
             frozenset({Role.OFFICE, Role.POLICE, Role.LEADERSHIP})),
    WorkLine("crops", "3.3", _("Illicit crops"),
             _("Plots, surveys, eradication, pledge groups, tip-offs, the seasonal calendar and the map."),
             frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE, Role.MEMBER_UNIT, Role.LEADERSHIP})),
    WorkLine("chemicals", "3.4", _("Precursor chemicals"),
             _("Catalogue, enterprises, licences and filings, ledgers, stock reconciliation, annual reports, "
               "equipment and inspections."),
             frozenset({Role.OFFICE, Role.POLICE, Role.MEMBER_UNIT, Role.LEADERSHIP})),
    WorkLine("prevention", "3.5", _("Prevention education"),
             _("Activities by venue category, fixed sites and their coverage, schools and campaign days."),
             _BUSINESS),
    WorkLine("assessment", "3.6", _("Target-responsibility assessment"),
             _("Yearly schemes, scoring from indicators and evidence, veto rules, ranking and notices."),
             frozenset({Role.OFFICE, Role.MEMBER_UNIT, Role.LEADERSHIP})),
    WorkLine("monitoring", "3.7", _("Drug-situation monitoring"),
             _("Indicators, targets, dashboards, the alert centre, the monthly report and the situation bulletin."),
             _BUSINESS),
    WorkLine("exchange", "3.8", _("Data exchange"),
             _("The REST API with scoped tokens, grid-platform exchange and transfers between jurisdictions."),
             frozenset({Role.OFFICE, Role.SYSTEM_ADMIN})),
]

ADMIN_ITEMS: list[MenuItem] = []


def register_item(work_line_code: str, item: MenuItem) -> None:
    for line in WORK_LINES:
        if line.code == work_line_code:
            if item not in line.items:
                line.items.append(item)
            return
    raise KeyError(work_line_code)


def register_admin_item(item: MenuItem) -> None:
    if item not in ADMIN_ITEMS:
        ADMIN_ITEMS.append(item)


def work_line(code: str) -> WorkLine:
    for line in WORK_LINES:
        if line.code == code:
            return line
    raise KeyError(code)


def menu_for(user) -> dict:
    roles = role_codes(user)
    lines = []
    for line in WORK_LINES:
        if not roles & line.roles:
            continue
        items = [i for i in line.items if roles & i.roles]
        lines.append({"line": line, "items": items})
    admin = [i for i in ADMIN_ITEMS if roles & i.roles]
    return {"work_lines": lines, "admin_items": admin}


_KEY_MARKER = 2_000_000_001  # a key no URL of a list holds


def url_by_key(name: str, current_app: str | None = None):
    """``reverse(name, args=[key])`` for the many keys of a list: the URL is reversed once, with a
    marker key, and each key written in its place (``reverse`` costs 10–50 µs a call, and the
    today list called it for every line). For URLs whose one argument is an integer key; call
    it within the request (the script prefix is the request's)."""
    marked = reverse(name, args=[_KEY_MARKER], current_app=current_app)
    head, found, tail = marked.partition(str(_KEY_MARKER))
    if not found or str(_KEY_MARKER) in tail:
        raise ValueError(f"{name}: not a URL with one key")

    def url(key) -> str:
        return f"{head}{int(key)}{tail}"

    return url
