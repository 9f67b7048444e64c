from rest_framework import serializers

from jurisdictions.models import Jurisdiction


class JurisdictionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", default=None, read_only=True)

    class Meta:
        model = Jurisdiction
        fields = ["code", "name", "level", "parent_code", "path", "county_code"]
