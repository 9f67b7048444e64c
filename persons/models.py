"""The person file (逐人建档) and what hangs off it (SPEC §3.1).

Every model here is personal data: reached only through ``visible_to(user)`` (core.scoping).
Person is scoped by its jurisdiction — and, while a transfer waits for receipt, by the
receiving jurisdiction too; a social worker sees only the persons assigned to them. Records
that hang off a person (``scope_through = "person"``) are visible exactly when their person is.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import BlindIndexField, EncryptedTextField
from core.masking import mask_id_number, mask_name, mask_numbers, mask_phone
from core.models import BaseModel
from core.roles import PERSONAL_DATA_ROLES, Role
from core.scoping import ScopedManager
from persons.choices import (
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    FoundHow,
    LivingSituation,
    MeasureKind,
    MeasureState,
    MissedReason,
    RiskLevel,
    SampleMethod,
    Sex,
    Substance,
    SupportKind,
    SupportTaskState,
    TransferState,
)

# Roles that see health flags (HIV, illness, pregnancy, mental disorder): the people who work
# with the person and decide measures. Member units see the file without them.
HEALTH_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE})
# Roles that may reveal a full ID number or phone, one record at a time (audited).
REVEAL_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE})
# Roles that read the whole file of a person they see: its measures, tests, flags, risk and
# history. A member unit sees a person only for a support task, and of the file what the task
# needs (SPEC §2, 个人信息保护法 最小必要): its tasks and support records, the phone for the visit.
FILE_ROLES = PERSONAL_DATA_ROLES - {Role.MEMBER_UNIT}
TASK_ROLES = frozenset({Role.MEMBER_UNIT})
CONTACT_ROLES = REVEAL_ROLES | TASK_ROLES


class Person(BaseModel):
    name = models.CharField(_("full name"), max_length=50)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, blank=True, editable=False)  # Meta.indexes
    id_number = EncryptedTextField(_("ID number"))
    # Unique through Meta.constraints: a unique field would add a LIKE index no one uses.
    id_number_index = BlindIndexField(source="id_number", db_index=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    registered_residence = models.CharField(_("registered residence"), max_length=200, blank=True)
    current_address = models.CharField(_("current address"), max_length=200, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("village"),
                                     on_delete=models.PROTECT, related_name="persons")
    grid = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("grid"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="grid_persons", db_index=False)
    county_code = models.CharField(_("county code"), max_length=6, editable=False)  # indexed with the status
    first_found_on = models.DateField(_("first found"), null=True, blank=True)
    first_found_approximate = models.BooleanField(_("first-found date approximate"), default=False)
    found_how = models.CharField(_("how found"), max_length=20, choices=FoundHow.choices, blank=True)
    living_situation = models.CharField(_("job and home"), max_length=10, choices=LivingSituation.choices,
                                        blank=True)
    # Health flags (HEALTH_ROLES only).
    is_pregnant = models.BooleanField(_("pregnant"), default=False)
    nursing_child_born_on = models.DateField(_("nursing a child born on"), null=True, blank=True)
    hiv_positive = models.BooleanField(_("HIV positive"), default=False)
    serious_illness = models.BooleanField(_("disability or serious illness"), default=False)
    mental_disorder = models.BooleanField(_("mental disorder"), default=False)
    # Risk factors of SPEC §3.1 that are facts about the person.
    violence_history = models.BooleanField(_("history of violence"), default=False)
    drug_driving_history = models.BooleanField(_("history of drug driving"), default=False)
    # None: not known (nothing entered, or a ledger without the column); it is no support either.
    family_support = models.BooleanField(_("family support"), null=True, blank=True, default=None)
    family_contacts = EncryptedTextField(_("family contacts"), blank=True)
    control_status = models.CharField(_("control status"), max_length=30, choices=ControlStatus.choices)
    # Empty when not known: a ledger row with a status but no date for it (shown as unknown).
    control_status_since = models.DateField(_("status since"), null=True, blank=True)
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, blank=True)
    assigned_worker = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("social worker"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="assigned_persons",
                                        db_index=False)
    # Set while a transfer (异地执行) waits for the receiving township's acknowledgement.
    receiving_jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("receiving area"),
                                               null=True, blank=True, on_delete=models.PROTECT,
                                               related_name="incoming_persons", db_index=False)
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedManager()
    scope_path = ("jurisdiction__path", "receiving_jurisdiction__path")
    scope_roles = PERSONAL_DATA_ROLES
    assignment_field = "assigned_worker"
    assignment_roles = frozenset({Role.SOCIAL_WORKER})
    task_relation = "support_tasks"  # a member unit sees the persons it has a current task for
    task_roles = TASK_ROLES
    break_glass = True
    audit_reads = True
    masked_fields = {"id_number": (mask_id_number, REVEAL_ROLES), "phone": (mask_phone, CONTACT_ROLES),
                     "family_contacts": (mask_numbers, REVEAL_ROLES)}
    # A search by name is kept in the audit log with the name masked, as the file is named there.
    audit_criteria_masks = {"q": mask_name}

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("registered person")
        verbose_name_plural = _("registered persons")
        # Plain B-tree indexes: a db_index CharField would also get a LIKE (pattern_ops) index,
        # which only the pinyin initials are searched with; every index costs each import.
        indexes = [models.Index(fields=["county_code", "control_status"], name="person_county_status"),
                   # Searched by prefix only (persons.filtersets): the pattern_ops index alone.
                   models.Index(fields=["name_initials"], name="person_name_initials", opclasses=["varchar_pattern_ops"]),
                   models.Index(fields=["control_status"], name="person_status"),
                   models.Index(fields=["risk_level"], name="person_risk"),
                   # The optional links, indexed where set: a new file (an import) writes no entry.
                   *[models.Index(fields=[name], name=f"person_{name}", condition=models.Q(**{f"{name}__isnull": False}))
                     for name in ("assigned_worker", "grid", "receiving_jurisdiction")]]
        constraints = [models.UniqueConstraint(fields=["id_number_index"], name="person_id_number_unique")]

    def __str__(self):
        return self.name

    def audit_repr(self) -> str:
        """The audit log names a file by its id and masked name: its reader, the audit
        administrator, reads no personal data (三员分立)."""
        return mask_name(self.name)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("persons:detail", args=[self.pk])


class PersonSubstance(models.Model):
    # Indexed by the unique (person, substance), which leads with the person.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="substances", db_index=False)
    # The person's county (follows the person when the file moves): every tenant table carries
    # the county code, the distribution column of docs/scaling.md.
    county_code = models.CharField(max_length=6, editable=False, default="")
    substance = models.CharField(_("substance"), max_length=20, choices=Substance.choices)

    class Meta:
        verbose_name = _("substance")
        verbose_name_plural = _("substances")
        constraints = [models.UniqueConstraint(fields=["person", "substance"], name="unique_person_substance")]

    def __str__(self):
        return self.get_substance_display()


class PersonRecord(models.Model):
    """What every record about a person shares: scoped through the person, the county code
    for a later distribution by county, who wrote it and when."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT)
    # Not indexed: records are scoped and read through the person (its county_code is indexed);
    # the column is the later distribution column (docs/scaling.md), which needs no index.
    county_code = models.CharField(max_length=6, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedManager()
    scope_through = "person"
    scope_path = "person__jurisdiction__path"
    scope_roles = FILE_ROLES

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.county_code:
            self.county_code = self.person.county_code
        super().save(*args, **kwargs)


class StatusChange(PersonRecord):
    """One change of control status, with its decision document (SPEC §3.1)."""

    status = models.CharField(_("control status"), max_length=30, choices=ControlStatus.choices)
    changed_on = models.DateField(_("date"))
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        default_related_name = "status_changes"

    def __str__(self):
        return f"{self.changed_on} {self.get_status_display()}"


class Measure(PersonRecord):
    """A measure with legal clocks: 社区戒毒, 社区康复 or 强制隔离戒毒 (persons.rules)."""

    kind = models.CharField(_("measure"), max_length=30, choices=MeasureKind.choices)
    state = models.CharField(_("state"), max_length=20, choices=MeasureState.choices)
    decided_on = models.DateField(_("decided on"))
    decision_number = models.CharField(_("decision number"), max_length=100, blank=True)
    deciding_authority = models.CharField(_("deciding authority"), max_length=100, blank=True)
    executing_jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("executed by"),
                                               on_delete=models.PROTECT, related_name="+")
    reported_on = models.DateField(_("reported in on"), null=True, blank=True)
    starts_on = models.DateField(_("term starts"), null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    extension_months = models.PositiveSmallIntegerField(_("extension (months)"), default=0)
    ends_on = models.DateField(_("term ends"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=200, blank=True)
    termination_notice_on = models.DateField(_("termination notice sent"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        default_related_name = "measures"

    def __str__(self):
        return f"{self.get_kind_display()} {self.decided_on}"


class CheckIn(PersonRecord):
    """A drug test, interview, home visit, summary, evaluation or unauthorised departure."""

    kind = models.CharField(_("kind"), max_length=20, choices=CheckInKind.choices)
    occurred_on = models.DateField(_("date"), db_index=True)
    measure = models.ForeignKey(Measure, verbose_name=_("measure"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="check_ins")
    method = models.CharField(_("method"), max_length=10, choices=SampleMethod.choices, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=DrugTestResult.choices, blank=True)
    substance = models.CharField(_("substance"), max_length=20, choices=Substance.choices, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)  # departures: left on occurred_on
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        default_related_name = "check_ins"
        indexes = [models.Index(fields=["person", "kind", "occurred_on"], name="checkin_person_kind_date")]

    def __str__(self):
        return f"{self.occurred_on} {self.get_kind_display()}"


class PlannedCheckIn(PersonRecord):
    """A due date from the check-in plan; ``done`` links the check-in that closed it. A period
    that ended without it is a missed check-in (漏检, rules.is_missed); the worker records why
    (``missed_reason``), and the item stays not done."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="planned")
    kind = models.CharField(_("kind"), max_length=20, choices=CheckInKind.choices)
    due_on = models.DateField(_("due on"))
    done = models.OneToOneField(CheckIn, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_item")
    missed_reason = models.CharField(_("reason missed"), max_length=20, choices=MissedReason.choices, blank=True)
    missed_note = models.CharField(_("note on the missed check-in"), max_length=300, blank=True)
    explained_on = models.DateField(_("explained on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("planned check-in")
        verbose_name_plural = _("planned check-ins")
        default_related_name = "planned_check_ins"
        indexes = [models.Index(fields=["due_on"], name="planned_open_due", condition=models.Q(done__isnull=True)),
                   # A person's open due dates with their measure (the overdue filter, the today
                   # list): an index-only probe per person instead of reading their whole plan.
                   models.Index(fields=["person", "due_on"], include=["measure"], name="planned_open_person_due",
                                condition=models.Q(done__isnull=True))]

    def __str__(self):
        return f"{self.due_on} {self.get_kind_display()}"


class CheckInPolicy(BaseModel):
    """How often check-ins are due; the office edits it per jurisdiction (the nearest
    ancestor's policy applies). Defaults are SPEC §3.1's."""

    jurisdiction = models.OneToOneField("jurisdictions.Jurisdiction", on_delete=models.CASCADE,
                                        related_name="check_in_policy")
    test_every_months_year1 = models.PositiveSmallIntegerField(_("drug test every … months in year 1"), default=1)
    test_every_months_year2 = models.PositiveSmallIntegerField(_("drug test every … months in year 2"), default=2)
    test_every_months_year3 = models.PositiveSmallIntegerField(_("drug test every … months in year 3"), default=3)
    interview_every_months = models.PositiveSmallIntegerField(_("interview every … months"), default=1)
    home_visit_every_months = models.PositiveSmallIntegerField(_("home visit every … months (0: none)"), default=3)
    half_year_summary = models.BooleanField(_("half-year summary"), default=True)
    yearly_evaluation = models.BooleanField(_("yearly evaluation"), default=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER})

    class Meta:
        verbose_name = _("check-in policy")
        verbose_name_plural = _("check-in policies")

    def __str__(self):
        return f"{self.jurisdiction}"


class Flag(PersonRecord):
    """A rule's finding about a person: a recommendation with its article and evidence
    (persons.rules). A person decides: the decision or the dismissal is recorded."""

    rule = models.CharField(_("rule"), max_length=40)
    state = models.CharField(_("state"), max_length=10, choices=FlagState.choices, default=FlagState.OPEN)
    raised_on = models.DateField(_("raised on"))
    title = models.CharField(_("finding"), max_length=200)
    article = models.CharField(_("source"), max_length=200)
    recommendation = models.CharField(_("recommendation"), max_length=300, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    exemptions = models.JSONField(_("exemptions"), default=list, blank=True)
    decision = models.CharField(_("decision taken"), max_length=300, blank=True)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_on", "-id"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        default_related_name = "flags"
        constraints = [models.UniqueConstraint(fields=["person", "rule"], condition=models.Q(state="open"),
                                               name="one_open_flag_per_rule")]

    def __str__(self):
        return self.title


class RiskModel(BaseModel):
    """Risk factor weights and level thresholds (风险分类评估, seed 000), edited by the office
    per jurisdiction (the nearest ancestor's model applies)."""

    jurisdiction = models.OneToOneField("jurisdictions.Jurisdiction", on_delete=models.CASCADE,
                                        related_name="risk_model")
    weights = models.JSONField(_("factor weights"), default=dict)
    high_threshold = models.PositiveSmallIntegerField(_("high from score"), default=60)
    medium_threshold = models.PositiveSmallIntegerField(_("medium from score"), default=30)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER})

    class Meta:
        verbose_name = _("risk model")
        verbose_name_plural = _("risk models")

    def __str__(self):
        return f"{self.jurisdiction}"


class RiskAssessment(PersonRecord):
    assessed_on = models.DateField(_("assessed on"))
    score = models.PositiveSmallIntegerField(_("score"))
    computed_level = models.CharField(_("computed level"), max_length=10, choices=RiskLevel.choices)
    level = models.CharField(_("level"), max_length=10, choices=RiskLevel.choices)
    contributions = models.JSONField(_("contributions"), default=list)
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        default_related_name = "risk_assessments"

    def __str__(self):
        return f"{self.assessed_on} {self.get_level_display()}"


class SupportTask(PersonRecord):
    """A support task (帮扶任务): the office or the township asks a member unit to help one person
    (what is asked, by when). It is what lets the member unit see the person at all: while the
    task is open and for ``JINDU_SUPPORT_TASK_ACCESS_DAYS`` after it is closed (to record the last
    help given), then no more (core.scoping, ``Person.task_relation``)."""

    member_unit = models.ForeignKey("accounts.MemberUnit", verbose_name=_("member unit"), on_delete=models.PROTECT,
                                    related_name="support_tasks", db_index=False)  # Meta.indexes
    kind = models.CharField(_("kind"), max_length=20, choices=SupportKind.choices)
    request = models.CharField(_("what is asked"), max_length=500)
    assigned_on = models.DateField(_("assigned on"))
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=10, choices=SupportTaskState.choices,
                             default=SupportTaskState.OPEN)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    # Set when the task is closed: the member unit sees the person until then (the database's clock).
    visible_until = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_roles = PERSONAL_DATA_ROLES
    unit_field = "member_unit"  # a member unit sees its own tasks only
    unit_roles = TASK_ROLES
    audit_reads = True  # the list names persons: searched as the person list is
    audit_criteria_masks = {"q": mask_name}  # the person's name searched, masked as in Person

    class Meta:
        ordering = ["-state", "due_on", "id"]  # open first
        verbose_name = _("support task")
        verbose_name_plural = _("support tasks")
        default_related_name = "support_tasks"
        indexes = [models.Index(fields=["member_unit", "state"], name="support_task_unit_state")]

    def __str__(self):
        return f"{self.member_unit} · {self.get_kind_display()}"

    @staticmethod
    def current_tasks() -> models.Q:
        """The tasks that let their member unit see the person: open, or closed recently."""
        from django.db.models.functions import Now

        return models.Q(state=SupportTaskState.OPEN) | models.Q(visible_until__gt=Now())


class Support(PersonRecord):
    """Help given by a member unit (帮扶, seeds 000/003), against one of its tasks."""

    kind = models.CharField(_("kind"), max_length=20, choices=SupportKind.choices)
    provided_on = models.DateField(_("date"))
    member_unit = models.ForeignKey("accounts.MemberUnit", verbose_name=_("member unit"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(SupportTask, verbose_name=_("support task"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="support_records")
    description = models.CharField(_("description"), max_length=500)

    # A member unit sees its own support records, not another unit's (which may tell of health:
    # methadone, medical care).
    scope_roles = PERSONAL_DATA_ROLES
    unit_field = "member_unit"
    unit_roles = TASK_ROLES

    class Meta:
        ordering = ["-provided_on", "-id"]
        verbose_name = _("support")
        verbose_name_plural = _("support records")
        default_related_name = "support_records"

    def __str__(self):
        return f"{self.provided_on} {self.get_kind_display()}"


class Transfer(PersonRecord):
    """异地执行 / 衔接: the sending township hands over, the receiving one acknowledges."""

    from_jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("from"),
                                          on_delete=models.PROTECT, related_name="+")
    to_jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("to"),
                                        on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=TransferState.choices,
                             default=TransferState.HANDED_OVER)
    reason = models.CharField(_("reason"), max_length=300)
    handed_over_on = models.DateField(_("handed over on"))
    acknowledged_on = models.DateField(_("received on"), null=True, blank=True)
    refusal_reason = models.CharField(_("reason for refusing"), max_length=300, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")

    class Meta:
        ordering = ["-handed_over_on", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        default_related_name = "transfers"

    def __str__(self):
        return f"{self.from_jurisdiction} → {self.to_jurisdiction}"


class LedgerImport(BaseModel):
    """One upload of a persons ledger through the web (台账导入): the file (encrypted: it holds
    ID numbers), the header row and column mapping the user confirmed, and the result of the
    last check or import. The work runs as a background task; ``progress`` is what the page shows."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("area"), on_delete=models.PROTECT,
                                     related_name="+")
    county_code = models.CharField(max_length=6, db_index=True, editable=False)
    filename = models.CharField(_("file"), max_length=200)
    content = EncryptedTextField(_("content"), null=True, blank=True)  # base64 of the file; dropped a week after
    size = models.PositiveIntegerField(_("size"), default=0)
    sheet_index = models.PositiveSmallIntegerField(default=0)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    skip_invalid = models.BooleanField(_("import the valid rows, skip the rejected ones"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.UPLOADED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    phase = models.CharField(max_length=100, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE})

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("persons:import_detail", args=[self.pk])

    @property
    def running(self) -> bool:
        return self.state in (self.State.CHECKING, self.State.IMPORTING)

    def data(self) -> bytes:
        import base64

        return base64.b64decode(self.content) if self.content else b""
