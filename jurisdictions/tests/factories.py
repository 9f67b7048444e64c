import factory

from jurisdictions import rules
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.models import Jurisdiction

CHILD_CODE_WIDTH = {Level.CITY: 2, Level.COUNTY: 2, Level.TOWNSHIP: 3, Level.VILLAGE: 3, Level.GRID: 3}


def child_code(parent: Jurisdiction, level: str, number: int) -> str:
    if level == Level.CITY:
        return f"{parent.code[:2]}{number:02d}00"
    if level == Level.COUNTY:
        return f"{parent.code[:4]}{number:02d}"
    return f"{parent.code}{number:0{CHILD_CODE_WIDTH[level]}d}"


class JurisdictionFactory(factory.django.DjangoModelFactory):
    """``JurisdictionFactory(level="village", parent=township)`` makes a well-formed child."""

    class Meta:
        model = Jurisdiction
        django_get_or_create = ("code",)

    level = Level.PROVINCE
    parent = None
    name = factory.Sequence(lambda n: f"测试区划{n}")

    @factory.lazy_attribute_sequence
    def code(self, n):
        if self.parent is None:
            return f"{(n % 80) + 10:02d}0000"
        number = self.parent.children.count() + 1 + n % 7
        while True:
            code = child_code(self.parent, self.level, number)
            if not Jurisdiction.objects.filter(code=code).exists():
                return code
            number += 1

    path = factory.LazyAttribute(lambda o: Jurisdiction.build_path(o.code, o.parent))
    depth = factory.LazyAttribute(lambda o: LEVEL_ORDER[o.level])
    county_code = factory.LazyAttribute(lambda o: rules.county_code_of(o.code, o.level))


def build_tree(prefix: str = "98", townships: int = 2, villages: int = 2) -> dict:
    """province → city → county → townships → villages; returns the nodes by role in tests."""
    province = JurisdictionFactory(code=f"{prefix}0000", name="测试省", level=Level.PROVINCE)
    city = JurisdictionFactory(code=f"{prefix}0100", name="测试市", level=Level.CITY, parent=province)
    county = JurisdictionFactory(code=f"{prefix}0101", name="测试县", level=Level.COUNTY, parent=city)
    other_county = JurisdictionFactory(code=f"{prefix}0102", name="邻县", level=Level.COUNTY, parent=city)
    tree = {"province": province, "city": city, "county": county, "other_county": other_county,
            "townships": [], "villages": []}
    for t in range(1, townships + 1):
        township = JurisdictionFactory(code=f"{county.code}{t:03d}", name=f"测试镇{t}", level=Level.TOWNSHIP,
                                       parent=county)
        tree["townships"].append(township)
        for v in range(1, villages + 1):
            tree["villages"].append(JurisdictionFactory(code=f"{township.code}{v:03d}", name=f"测试村{t}-{v}",
                                                        level=Level.VILLAGE, parent=township))
    return tree
