"""Inbound webhooks, their deliveries, the rules that turn them into work, and the pipeline log."""

from __future__ import annotations

import secrets as pysecrets

from django.db import models
from django.db.models import Q

from agents.models import Agent
from issues.models import Issue
from orgs.models import Org


class Source(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    GENERIC = "generic", "Generic (HMAC-SHA256)"


def new_public_id() -> str:
    return pysecrets.token_hex(8)


class Hook(models.Model):
    """One inbound endpoint ``/hooks/<org>/<source>/<public_id>`` with its own secret (sealed at rest)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="hooks")
    source = models.CharField(max_length=10, choices=Source.choices)
    name = models.CharField(max_length=100)
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id)
    secret_sealed = models.TextField()
    secret_hint = models.CharField(max_length=20, blank=True, default="")
    # Generic hooks: the header carrying "sha256=<hex>" (or bare hex) and the one carrying the delivery id.
    signature_header = models.CharField(max_length=100, blank=True, default="X-Signature-256")
    delivery_header = models.CharField(max_length=100, blank=True, default="X-Delivery-Id")
    rate_limit_per_minute = models.PositiveIntegerField(default=60)
    # Mesa's own token for this forge (sealed; hydration and write-back use it, runs never see it), and
    # the API base URL (GitHub Enterprise, self-hosted GitLab); empty = the forge's public API.
    api_url = models.URLField(max_length=300, blank=True, default="")
    token_sealed = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "id"]
        constraints = [models.CheckConstraint(condition=Q(source__in=Source.values), name="hook_source_valid")]

    def __str__(self) -> str:
        return f"{self.source}: {self.name}"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received"
    MATCHED = "matched"
    IGNORED = "ignored"
    FAILED = "failed"


class Delivery(models.Model):
    """One accepted (signed) delivery: scrubbed headers, the payload, and what became of it."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="hook_deliveries")
    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=100, blank=True, default="")
    headers = models.JSONField(default=dict)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["hook", "delivery_id"], name="hook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} ({self.status})"


class Action(models.TextChoices):
    CREATE_ISSUE = "create_issue", "Create an issue (or comment on the one already created)"
    START_RUN = "start_run", "Start a run for the assignee with a templated prompt"


class Rule(models.Model):
    """From an event to work: the first enabled rule (by ``position``) whose source, event and filters match.

    ``filters`` keys (all optional, all must hold): ``labels_contain`` (list), ``branch_glob``,
    ``path_glob``, ``author_not_bot`` (bool), ``repository`` ("owner/name"), ``conclusion``
    (``workflow_run.conclusion`` / a GitLab pipeline's status, e.g. "failure" / "failed").
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="hook_rules")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=10, choices=Source.choices)
    events = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.CREATE_ISSUE)
    title_template = models.CharField(max_length=500, blank=True, default="")
    body_template = models.TextField(blank=True, default="")
    assignee = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    labels = models.JSONField(default=list, blank=True)
    priority = models.PositiveSmallIntegerField(default=0)
    # Fetch the pull request's changed files and diff (pinned to its head SHA) as {{ diff }} and {{ files }}.
    hydrate = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "position", "id"]

    def __str__(self) -> str:
        return self.name


class ExternalLink(models.Model):
    """The issue one external thing (a provider's issue or PR) already became: later events comment on it."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    external_key = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True, default="")
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "source", "external_key"], name="hook_external_once"),
        ]

    def __str__(self) -> str:
        return self.external_key


class OutputPolicy(models.Model):
    """What one agent may write back to a forge through Mesa. No policy row: nothing is allowed."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="output_policy")
    comments_allowed = models.BooleanField(default=True)
    max_comment_length = models.PositiveIntegerField(default=4000)
    # Labels: the allow-list (empty = any not denied) and the deny-list (always wins).
    labels_allowed = models.JSONField(default=list, blank=True)
    labels_denied = models.JSONField(default=list, blank=True)
    status_allowed = models.BooleanField(default=False)
    suggestions_allowed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"output policy of {self.agent_id}"


class LogKind(models.TextChoices):
    REFUSED = "refused", "Delivery refused"
    RECEIVED = "received", "Delivery received"
    DUPLICATE = "duplicate", "Duplicate delivery"
    RULE_MATCHED = "rule_matched", "Rule matched"
    RULE_SKIPPED = "rule_skipped", "Rule did not match"
    ISSUE_CREATED = "issue_created", "Issue created"
    ISSUE_COMMENTED = "issue_commented", "Issue commented"
    HYDRATED = "hydrated", "Change fetched"
    RUN_QUEUED = "run_queued", "Run queued"
    POLICY_ALLOWED = "policy_allowed", "Write-back allowed"
    POLICY_DENIED = "policy_denied", "Write-back denied"
    WRITTEN_BACK = "written_back", "Written back"
    ROUTINE_FIRED = "routine_fired", "Routine fired"
    ROUTINE_SKIPPED = "routine_skipped", "Routine skipped"
    FAILED = "failed", "Failed"


class LogEntry(models.Model):
    """One step of the pipeline, structured so it can be filtered by hook, rule, agent, issue, kind and time."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=LogKind.choices)
    message = models.CharField(max_length=500)
    hook = models.ForeignKey(Hook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="log")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    routine = models.ForeignKey("Routine", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class RoutineAction(models.TextChoices):
    ISSUE = "issue", "Create an issue"
    RUN = "run", "Create an issue and start the agent's run"


class Concurrency(models.TextChoices):
    SKIP = "skip", "Skip while the last one is open or running"
    QUEUE = "queue", "Queue another"


class Routine(models.Model):
    """Recurring work for one agent: a cron expression in a timezone, fired by the scheduler's pass.

    ``next_fire_at`` is claimed with a conditional update, so two schedulers never fire it twice and
    a restart fires a missed one once.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="routines")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="routines")
    name = models.CharField(max_length=100)
    cron = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    action = models.CharField(max_length=10, choices=RoutineAction.choices, default=RoutineAction.ISSUE)
    title_template = models.CharField(max_length=300)
    body_template = models.TextField(blank=True, default="")
    concurrency = models.CharField(max_length=10, choices=Concurrency.choices, default=Concurrency.SKIP)
    enabled = models.BooleanField(default=True)
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_fire_at = models.DateTimeField(null=True, blank=True)
    last_issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "id"]

    def __str__(self) -> str:
        return self.name
