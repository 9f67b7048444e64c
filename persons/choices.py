from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class ControlStatus(models.TextChoices):
    """管控现状 (SPEC §3.1)."""

    COMMUNITY_TREATMENT = "community_treatment", _("Community treatment")
    COMMUNITY_REHABILITATION = "community_rehabilitation", _("Community rehabilitation")
    COMPULSORY_TREATMENT = "compulsory_treatment", _("Compulsory treatment")
    VOLUNTARY_TREATMENT = "voluntary_treatment", _("Voluntary treatment")
    MAINTENANCE_THERAPY = "maintenance_therapy", _("Maintenance therapy")
    THREE_YEAR_ABSTINENCE = "three_year_abstinence", _("Three-year abstinence")
    SOCIAL_CONTROL = "social_control", _("Under social control")
    IN_CUSTODY = "in_custody", _("In custody")
    DECEASED = "deceased", _("Deceased")
    MOVED_OUT = "moved_out", _("Moved out")
    ABROAD = "abroad", _("Abroad")
    WHEREABOUTS_UNKNOWN = "whereabouts_unknown", _("Whereabouts unknown")


# Statuses in which the person is still managed in the community by the township.
ACTIVE_STATUSES = frozenset({
    ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMMUNITY_REHABILITATION, ControlStatus.VOLUNTARY_TREATMENT,
    ControlStatus.MAINTENANCE_THERAPY, ControlStatus.SOCIAL_CONTROL, ControlStatus.WHEREABOUTS_UNKNOWN,
})


class MeasureKind(models.TextChoices):
    """Measures with legal clocks (禁毒法, 戒毒条例)."""

    COMMUNITY_TREATMENT = "community_treatment", _("Community treatment")
    COMMUNITY_REHABILITATION = "community_rehabilitation", _("Community rehabilitation")
    COMPULSORY_TREATMENT = "compulsory_treatment", _("Compulsory treatment")


# The control status a community measure gives, and back (戒毒条例 第十四条, 第三十八条).
COMMUNITY_MEASURES = {ControlStatus.COMMUNITY_TREATMENT: MeasureKind.COMMUNITY_TREATMENT,
                      ControlStatus.COMMUNITY_REHABILITATION: MeasureKind.COMMUNITY_REHABILITATION}


class MeasureState(models.TextChoices):
    AWAITING_REPORT = "awaiting_report", _("Awaiting report-in")
    IN_EFFECT = "in_effect", _("In effect")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated early")
    REFUSED = "refused", _("Refused")


class Substance(models.TextChoices):
    HEROIN = "heroin", _("Heroin")
    METHAMPHETAMINE = "methamphetamine", _("Methamphetamine (ice)")
    KETAMINE = "ketamine", _("Ketamine")
    CANNABIS = "cannabis", _("Cannabis")
    MDMA = "mdma", _("MDMA (ecstasy)")
    COCAINE = "cocaine", _("Cocaine")
    OPIUM = "opium", _("Opium")
    MORPHINE = "morphine", _("Morphine")
    NPS = "nps", _("New psychoactive substances")
    METHCATHINONE = "methcathinone", _("Methcathinone")
    OTHER = "other", _("Other")


# Synthetic drugs (合成毒品) for the synthetic-drug share indicator.
SYNTHETIC_SUBSTANCES = frozenset({Substance.METHAMPHETAMINE, Substance.KETAMINE, Substance.MDMA, Substance.NPS,
                                  Substance.METHCATHINONE})


class FoundHow(models.TextChoices):
    CASE = "case", _("Caught in a case")
    CHECK = "check", _("Roadside or venue check")
    SELF_REPORT = "self_report", _("Self-report")
    TIP_OFF = "tip_off", _("Tip-off")
    TRANSFER = "transfer", _("Transferred from elsewhere")
    OTHER = "other", _("Other")


class LivingSituation(models.TextChoices):
    """两有 / 一有 / 两无 (seed 003): job and home, home only, neither."""

    STABLE = "stable", _("Job and home")
    HOUSED = "housed", _("Home only")
    UNSTABLE = "unstable", _("Neither job nor home")


class CheckInKind(models.TextChoices):
    DRUG_TEST = "drug_test", _("Drug test")
    INTERVIEW = "interview", _("Interview")
    HOME_VISIT = "home_visit", _("Home visit")
    HALF_YEAR_SUMMARY = "half_year_summary", _("Half-year summary")
    YEARLY_EVALUATION = "yearly_evaluation", _("Yearly evaluation")
    DEPARTURE = "departure", _("Unauthorised departure")


class SampleMethod(models.TextChoices):
    URINE = "urine", _("Urine")
    HAIR = "hair", _("Hair")
    SALIVA = "saliva", _("Saliva")
    BLOOD = "blood", _("Blood")


class MissedReason(models.TextChoices):
    """Why a period ended without its check-in (漏检), as the worker records it."""

    NOT_FOUND = "not_found", _("Could not be found")
    AWAY_REPORTED = "away_reported", _("Working away, reported")
    IN_HOSPITAL = "in_hospital", _("In hospital")
    REFUSED = "refused", pgettext_lazy("missed check-in", "Refused")
    EVADED = "evaded", _("Evaded")
    OTHER = "other", _("Other reason")


class DrugTestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    REFUSED = "refused", _("Refused or evaded")


class FlagState(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decision recorded")
    DISMISSED = "dismissed", _("Dismissed")
    RESOLVED = "resolved", _("No longer applies")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class SupportKind(models.TextChoices):
    EMPLOYMENT = "employment", _("Employment")
    TRAINING = "training", _("Vocational training")
    INSURANCE = "insurance", _("Social insurance")
    RELIEF = "relief", _("Minimum living allowance or relief")
    MEDICAL = "medical", _("Medical care")
    METHADONE = "methadone", _("Methadone maintenance")
    SCHOOLING = "schooling", _("Schooling")
    OTHER = "other", _("Other")


class SupportTaskState(models.TextChoices):
    OPEN = "open", pgettext_lazy("support task", "Open")
    CLOSED = "closed", pgettext_lazy("support task", "Closed")


class TransferState(models.TextChoices):
    HANDED_OVER = "handed_over", _("Handed over, awaiting receipt")
    ACKNOWLEDGED = "acknowledged", _("Received")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused by the receiving area")
