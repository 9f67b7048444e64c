"""/api/indicators/: the indicator catalogue, and /api/indicators/values/: values for a
jurisdiction of the user's area and a period. Aggregates only; a viewer without personal-data
rights gets counts of 1–4 suppressed ("<5"), and what would give them away withheld ("*",
monitoring.disclosure), as on the pages."""

from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api import HasRequiredRole
from core.roles import may_see_personal_data
from monitoring import indicators as ind
from monitoring.api.serializers import (
    IndicatorSerializer,
    IndicatorValueSerializer,
    IndicatorValuesQuerySerializer,
)
from monitoring.disclosure import Disclosure
from monitoring.models import READER_ROLES
from monitoring.periods import Period, day_pattern, period_pattern


class IndicatorViewSet(viewsets.ViewSet):
    required_roles = READER_ROLES
    capability = gettext_lazy("Indicator catalogue")
    permission_classes = [permissions.IsAuthenticated, HasRequiredRole]
    lookup_field = "code"
    lookup_value_regex = r"[a-z0-9_]+"

    @extend_schema(responses=IndicatorSerializer(many=True))
    def list(self, request):
        return Response(IndicatorSerializer(list(ind.INDICATORS.values()), many=True).data)

    @extend_schema(responses=IndicatorSerializer)
    def retrieve(self, request, code=None):
        if code not in ind.INDICATORS:
            raise NotFound
        return Response(IndicatorSerializer(ind.INDICATORS[code]).data)

    @extend_schema(parameters=[
        IndicatorValuesQuerySerializer,
        OpenApiParameter("period", {"type": "string", "pattern": period_pattern()},
                         description="2024-06 (month), 2024-Q2 (quarter) or 2024 (year), from 2000 to ten years "
                                     "ahead; also a span of days, 2024-01-01..2024-03-31. Default: this month"),
        OpenApiParameter("as_of", {"type": "string", "pattern": day_pattern()},
                         description="read the figures as they stood on this day (YYYY-MM-DD, from 2000 to ten "
                                     "years ahead)"),
        OpenApiParameter("codes", {"type": "array",
                                   "items": {"type": "string", "enum": sorted(ind.INDICATORS)}},
                         style="form", explode=False,
                         description="comma-separated indicator codes; default: all that apply at the "
                                     "jurisdiction's level"),
        OpenApiParameter("children", {"type": "string", "enum": ["", "true", "false"]},
                         description="true: one set of values per direct child jurisdiction; empty is false"),
    ], responses=IndicatorValueSerializer(many=True))
    @action(detail=False, methods=["get"])
    def values(self, request):
        from jurisdictions.models import Jurisdiction

        query = IndicatorValuesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user = request.user
        if data.get("jurisdiction"):
            place = Jurisdiction.objects.visible_to(user).filter(code=data["jurisdiction"]).first()
            if place is None:
                raise NotFound
        else:
            place = user.jurisdiction
        period = data.get("period") or Period.containing(timezone.localdate())
        codes = data.get("codes") or None
        suppress_small = not may_see_personal_data(user)
        as_of = data.get("as_of")
        disclosure = Disclosure(user, place, period, as_of=as_of)
        if data.get("children"):
            children = disclosure.apply_children(ind.evaluate_children(codes, place, period, as_of=as_of,
                                                                       compare=True))
            nodes = {j.pk: j for j in Jurisdiction.objects.filter(pk__in=children)}
            rows = [value.as_dict(suppress_small) | {"jurisdiction": nodes[pk].code}
                    for pk, values in children.items() for value in values.values()]
        else:
            values = disclosure.apply(ind.evaluate(codes, place, period, as_of=as_of), place)
            rows = [v.as_dict(suppress_small) for v in values.values()]
        return Response(rows)
