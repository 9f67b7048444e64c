from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    jurisdiction_code = serializers.CharField(source="jurisdiction.code", default=None, read_only=True,
                                              allow_null=True)
    roles = serializers.SerializerMethodField()
    member_unit = serializers.CharField(source="member_unit.name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "jurisdiction_code", "roles", "member_unit", "is_active"]

    def get_roles(self, obj) -> list[str]:
        return sorted(obj.role_codes)
