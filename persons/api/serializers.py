from django.utils import timezone
from rest_framework import serializers

from core.masking import mask_id_number
from persons import rules
from persons.models import Person


class PersonSerializer(serializers.ModelSerializer):
    """A person as lists show it: the ID number masked, the age instead of the birth date (which
    with the mask would give the number back), no phone, no health flags."""

    id_number = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    village_code = serializers.CharField(source="jurisdiction.code", read_only=True)
    village = serializers.CharField(source="jurisdiction.name", read_only=True)
    substances = serializers.SerializerMethodField()
    open_flags = serializers.IntegerField(read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "id_number", "sex", "age", "village_code", "village", "control_status",
                  "control_status_since", "risk_level", "substances", "open_flags"]

    def get_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)

    def get_age(self, obj) -> int:
        return rules.age_on(obj.birth_date, timezone.localdate())

    def get_substances(self, obj) -> list[str]:
        return sorted(s.substance for s in obj.substances.all())


class TaskPersonSerializer(serializers.ModelSerializer):
    """A person as a member unit with a support task for them reads it (SPEC §2, 最小必要): the
    name, the masked ID number and the village; no birth date, status, risk, flags or substances."""

    id_number = serializers.SerializerMethodField()
    village_code = serializers.CharField(source="jurisdiction.code", read_only=True)
    village = serializers.CharField(source="jurisdiction.name", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "id_number", "village_code", "village"]

    def get_id_number(self, obj) -> str:
        return mask_id_number(obj.id_number)
