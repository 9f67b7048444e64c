from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    """Member units of a drug-control commission (SPEC §1)."""

    PUBLIC_SECURITY = "public_security", _("Public security")
    JUSTICE = "justice", _("Justice")
    HEALTH = "health", _("Health")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    HUMAN_RESOURCES = "human_resources", _("Human resources and social security")
    EDUCATION = "education", _("Education")
    MARKET_REGULATION = "market_regulation", _("Market regulation")
    FORESTRY = "forestry", _("Forestry")
    AGRICULTURE = "agriculture", _("Agriculture")
    TRANSPORT = "transport", _("Transport")
    CUSTOMS = "customs", _("Customs")
    PROPAGANDA = "propaganda", _("Propaganda")
    OTHER = "other", _("Other")
