import factory

from accounts.choices import UnitKind
from accounts.models import MemberUnit, Role, User
from core.roles import Role as RoleCode

PASSWORD = "Test-Passw0rd!"


class MemberUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberUnit

    name = factory.Sequence(lambda n: f"测试成员单位{n}")
    kind = UnitKind.EDUCATION
    jurisdiction = None


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(jurisdiction=j, roles=["office"])``; a member-unit user gets a unit."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    jurisdiction = None
    password = factory.django.Password(PASSWORD)

    @factory.lazy_attribute
    def member_unit(self):
        return None

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        codes = list(extracted or [])
        if RoleCode.MEMBER_UNIT in codes and self.member_unit is None and self.jurisdiction is not None:
            self.member_unit = MemberUnitFactory(jurisdiction=self.jurisdiction)
            self.save(update_fields=["member_unit"])
        if create:
            self.roles.set(Role.objects.filter(code__in=codes))
            self.__dict__.pop("role_codes", None)
