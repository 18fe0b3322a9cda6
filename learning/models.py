"""What the org learns: run evaluations, agents' reflections, skills, board policies and audit findings.

Runs live in ``runners`` (the engine, a layer above): they are referenced by string, so this app
never imports the engine; the engine imports this one to build prompts and store what a run taught.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from orgs.models import Org

# The four scores a judge gives a task run, each 0–1. Fidelity: 1 = did exactly what was asked.
# The other three measure a fault: 1 = the worst (drifted far, missed every criterion, changed much unasked).
SCORES: tuple[str, ...] = ("fidelity", "scope_drift", "missed_criteria", "unrequested_changes")


class EvaluationStatus(models.TextChoices):
    PENDING = "pending"  # the judge's run is queued or running
    SCORED = "scored"
    MALFORMED = "malformed"  # the judge answered, but not with the JSON asked for
    FAILED = "failed"  # the judge's run itself failed (budget, runner error, ...)


class Evaluation(models.Model):
    """A judge's scores for one task run (the judge's own run is ``judge_run``)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="evaluations")
    run = models.OneToOneField("runners.Run", on_delete=models.CASCADE, related_name="evaluation")
    judge_run = models.OneToOneField(
        "runners.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="judged"
    )
    # Denormalised from the run at request time, for roll-ups without joins.
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="evaluations")
    archetype = models.CharField(max_length=60, blank=True, default="")
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.PENDING)
    fidelity = models.FloatField(null=True, blank=True)
    scope_drift = models.FloatField(null=True, blank=True)
    missed_criteria = models.FloatField(null=True, blank=True)
    unrequested_changes = models.FloatField(null=True, blank=True)
    # mean(fidelity, 1 - scope_drift, 1 - missed_criteria, 1 - unrequested_changes): 1 is a perfect run.
    overall = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=dict, blank=True)  # score name -> the judge's short reason
    verdict = models.CharField(max_length=300, blank=True, default="")
    raw = models.TextField(blank=True, default="")  # the judge's answer (capped), kept when malformed
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EvaluationStatus.values), name="evaluation_status_valid"),
        ]
        indexes = [
            models.Index(fields=["org", "status", "overall"], name="evaluation_org_worst"),
            models.Index(fields=["agent", "scored_at"], name="evaluation_agent_time"),
        ]

    def __str__(self) -> str:
        return f"evaluation of run {self.run_id} ({self.status})"


class Reflection(models.Model):
    """What an agent said it learned at the end of a run: what worked, what to do differently."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="reflections")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="reflections")
    run = models.OneToOneField(
        "runners.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="reflection"
    )
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["agent", "-id"], name="reflection_agent_recent")]

    def __str__(self) -> str:
        return f"reflection of {self.agent_id}: {self.text[:40]}"


class SkillStatus(models.TextChoices):
    PROPOSED = "proposed"  # waiting for the board (an approval)
    ACTIVE = "active"  # given to matching runs
    REJECTED = "rejected"
    RETIRED = "retired"


class Skill(models.Model):
    """A reusable instruction that worked, given to the runs of the agents it is attached to.

    Attached to an archetype (every agent of it), to one agent, or to neither (every agent of the org).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="skills")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    body = models.TextField()
    archetype = models.CharField(max_length=60, blank=True, default="")
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="skills")
    status = models.CharField(max_length=10, choices=SkillStatus.choices, default=SkillStatus.PROPOSED)
    proposed_by_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="skill_unique_slug"),
            models.CheckConstraint(condition=Q(status__in=SkillStatus.values), name="skill_status_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def target(self) -> str:
        if self.agent_id and self.agent is not None:
            return f"@{self.agent.slug}"
        return f"archetype {self.archetype}" if self.archetype else "every agent"


class SkillUse(models.Model):
    """A skill was in the prompt of a run (the skills page reads the runs' evaluations through it)."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="uses")
    run = models.ForeignKey("runners.Run", on_delete=models.CASCADE, related_name="skill_uses")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["skill", "run"], name="skill_use_unique")]

    def __str__(self) -> str:
        return f"skill {self.skill_id} in run {self.run_id}"


class BoardPolicy(models.Model):
    """A short directive the humans give the whole org; every prompt of the org carries the active ones."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="policies")
    slug = models.SlugField(max_length=80)
    text = models.CharField(max_length=500)
    active = models.BooleanField(default=True)
    created_by_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["org", "slug"], name="policy_unique_slug")]

    def __str__(self) -> str:
        return self.text[:60]


class FindingKind(models.TextChoices):
    ARCHETYPE_PATCH = "archetype_patch"
    SKILL = "skill"
    POLICY = "policy"
    ISSUE = "issue"
    NOTE = "note"  # an observation without a proposal


class AuditFinding(models.Model):
    """One finding of an audit run; a proposal carries the approval it became."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="audit_findings")
    run = models.ForeignKey("runners.Run", on_delete=models.CASCADE, related_name="audit_findings")
    kind = models.CharField(max_length=16, choices=FindingKind.choices, default=FindingKind.NOTE)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    approval = models.ForeignKey(
        "approvals.Approval", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_findings"
    )
    error = models.CharField(max_length=300, blank=True, default="")  # why a proposal could not be filed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FindingKind.values), name="audit_finding_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"
