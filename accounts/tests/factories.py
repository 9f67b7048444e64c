import factory
import pyotp
from django.utils import timezone

from accounts.choices import UnitKind
from accounts.models import MemberUnit, User, UserRole
from core.roles import ADMIN_ROLES
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
    # A test user has chosen their own password, so the first-login change is not due.
    password_changed_at = factory.LazyFunction(timezone.now)

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
            UserRole.objects.bulk_create([UserRole(user=self, role=code) for code in set(codes)])
            self.__dict__.pop("role_codes", None)
            if set(codes) & ADMIN_ROLES:
                # Administrators must have a second factor; give them one, as after enrolment.
                self.totp_secret = pyotp.random_base32()
                self.totp_confirmed_at = timezone.now()
                self.save(update_fields=["totp_secret", "totp_confirmed_at"])
