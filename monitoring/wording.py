"""How the generated documents (monitoring.reports) write figures and places, as a Chinese
notice writes them: each unit once ("30.85‰", "16人"), a staffing ratio as the seeds write it
("566:1", seed 004: "超过30:1的比例配备标准", "按照……20:1的比例"), no target beyond 100%, and the
area the notice is about called 全县/全镇/全乡/全市 rather than by its name.

The text is Chinese on purpose: it is the documents' content (see monitoring.reports).
"""

from decimal import Decimal

from jurisdictions.choices import Level

# The staffing ratio (persons under community measures per social worker) is written "N:1".
RATIO_UNITS = frozenset({"人/名"})
SUFFIXES = ("街道", "镇", "乡", "县", "区", "市", "省", "旗")


def _suffix(jurisdiction) -> str:
    """The administrative suffix of the name (镇, 乡, 县 …), "" when it has none (a test or
    ledger name with a number after it still ends in its suffix once the number is set aside)."""
    name = jurisdiction.name.rstrip("0123456789０１２３４５６７８９-－ ")
    return next((suffix for suffix in SUFFIXES if name.endswith(suffix)), "")


def whole_area(jurisdiction) -> str:
    """全县, 全市, 全镇, 全乡, 全街道 … as an official text says "the whole area"."""
    suffix = _suffix(jurisdiction)
    if suffix:
        return f"全{suffix}"
    return {Level.PROVINCE: "全省", Level.CITY: "全市", Level.COUNTY: "全县", Level.TOWNSHIP: "全镇"}.get(
        jurisdiction.level, "辖区")


def areas_below(jurisdiction) -> str:
    """The areas one level down as a notice addresses them: 各县（市、区）, 各乡镇（街道）, 各村（社区）."""
    return {Level.PROVINCE: "各市（州）", Level.CITY: "各县（市、区）", Level.COUNTY: "各乡镇（街道）",
            Level.TOWNSHIP: "各村（社区）"}.get(jurisdiction.level, "各单位")


def place_name(jurisdiction, area) -> str:
    """The area the notice is about is 全县 (全镇, 全市 …); any other place its name."""
    return whole_area(jurisdiction) if jurisdiction.pk == area.pk else jurisdiction.name


def _plain(text: str) -> str:
    """"566.0" → "566", "18.50" → "18.5"; anything not a number as it is."""
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return format(number.normalize(), "f") if number == number.to_integral() else text.rstrip("0")


def with_unit(indicator, shown: str) -> str:
    """A figure as shown (``Value.display``: "30.85‰" for rates, "16" for counts, "<5", "—",
    "*") with its unit written once: "30.85‰", "16人", "566:1"."""
    if indicator.is_rate or not shown or shown[0] in "—*":
        return shown
    if indicator.unit in RATIO_UNITS:
        return shown if shown.startswith("<") else f"{_plain(shown)}:1"
    return f"{shown}{indicator.unit}"


def target_text(value) -> str:
    """A value's target as the notice writes it ("90.0%", "0人", "30:1"); "" without one."""
    if value.target is None:
        return ""
    return with_unit(value.indicator, value.display_target())


def gap_text(gap: float, unit: str) -> str:
    """How far a value is from its target: "15.0个百分点", "0.20个千分点", "3人"; "" for a ratio
    (a notice says the ratio and the standard, not their difference)."""
    if unit == "%":
        return f"{gap:.1f}个百分点"
    if unit == "‰":
        return f"{gap:.2f}个千分点"
    if unit in RATIO_UNITS:
        return ""
    return f"{gap:g}{unit}"


def aim_text(value) -> str:
    """The aim of the next steps: "提高到90.0%以上", "提高到100.0%" (nothing is above 100%),
    "控制在30:1以内"."""
    indicator, target = value.indicator, target_text(value)
    if indicator.higher_is_better is False:
        return f"控制在{target}以内"
    if indicator.unit == "%" and value.target is not None and Decimal(value.target) >= 100:
        return f"提高到{target}"
    return f"提高到{target}以上"
