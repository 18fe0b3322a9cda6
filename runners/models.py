from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.models import Org


class RunMode(models.TextChoices):
    TASK = "task"
    REVIEW = "review"
    HEARTBEAT = "heartbeat"
    EVALUATION = "evaluation"  # a judge scoring a finished task run (learning.Evaluation)
    AUDIT = "audit"  # the auditor reviewing shipped work (learning.AuditFinding)
    CHAT = "chat"  # answering a human in a conversation (chat.Conversation); issue-less like a heartbeat


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    BUDGET_EXCEEDED = "budget_exceeded"


FINISHED_RUN_STATUSES: frozenset[str] = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT, RunStatus.BUDGET_EXCEEDED}
)
ACTIVE_RUN_STATUSES: tuple[str, ...] = (RunStatus.QUEUED, RunStatus.RUNNING)
# Runs that are not an agent's work on an issue: no workspace, no issue, never deduplicated with its work.
ONE_TURN_MODES: tuple[str, ...] = (RunMode.EVALUATION, RunMode.AUDIT)
# Outcomes that count towards the retry cap of an issue.
FAILED_RUN_STATUSES: tuple[str, ...] = (RunStatus.FAILED, RunStatus.TIMED_OUT)


class Run(models.Model):
    """One execution of one agent, queued in the database and claimed by a scheduler."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="runs")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="runs")
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    # Chat runs: the conversation whose last human message the run answers.
    conversation = models.ForeignKey(
        "chat.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    mode = models.CharField(max_length=10, choices=RunMode.choices, default=RunMode.TASK)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    reason = models.CharField(max_length=200, blank=True, default="")  # what woke the agent
    runner = models.CharField(max_length=20, blank=True, default="")
    model = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    failure_reason = models.TextField(blank=True, default="")
    prompt = models.TextField(blank=True, default="")
    stdout = models.TextField(blank=True, default="")
    diff = models.TextField(blank=True, default="")
    branch = models.CharField(max_length=200, blank=True, default="")
    # The run's own commit range on the issue branch: its diff is start_sha..end_sha.
    start_sha = models.CharField(max_length=40, blank=True, default="")
    end_sha = models.CharField(max_length=40, blank=True, default="")
    worktree_path = models.CharField(max_length=500, blank=True, default="")
    isolated = models.BooleanField(default=False)  # False = ran in place (no git repo)
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    tokens_cache_read = models.PositiveBigIntegerField(default=0)
    tokens_cache_write = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    num_turns = models.PositiveIntegerField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    # When that process started (clock ticks since boot): with the pid, its identity (a pid gets reused).
    pid_start = models.BigIntegerField(null=True, blank=True)
    stderr = models.TextField(blank=True, default="")  # the tail of stderr, redacted
    # Set by run_cancel on a running run; the executor sees it through the sink and stops the process.
    cancel_requested = models.BooleanField(default=False)
    # Another wake-up arrived while this run was running: dispatch again when it ends.
    rerun_requested = models.BooleanField(default=False)
    # A retry waits until then before it can be claimed (backoff after a failure).
    not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="run_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=RunMode.values), name="run_mode_valid"),
            # Never two queued/running runs of one agent on one issue (nor two issue-less heartbeats).
            models.UniqueConstraint(
                fields=["agent", "issue"],
                condition=Q(status__in=["queued", "running"], issue__isnull=False),
                name="run_one_active_per_agent_issue",
            ),
            models.UniqueConstraint(
                fields=["agent"],
                # Evaluation and audit runs have no issue either, and may wait beside a heartbeat.
                condition=Q(status__in=["queued", "running"], issue__isnull=True)
                & ~Q(mode__in=["evaluation", "audit"]),
                name="run_one_active_heartbeat_per_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="run_status_queue"),
            models.Index(fields=["agent", "status"], name="run_agent_status"),
            models.Index(fields=["issue", "-id"], name="run_issue_recent"),
            models.Index(fields=["agent", "started_at"], name="run_agent_day"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} {self.agent_id} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES

    @property
    def tokens_total(self) -> int:
        return self.tokens_in + self.tokens_out + self.tokens_cache_read + self.tokens_cache_write


class ShipMode(models.TextChoices):
    MERGE = "merge"
    PULL_REQUEST = "pull_request"
    NONE = "none"


class ShipState(models.TextChoices):
    WORKING = "working"  # runs add commits; not shipped yet
    MERGED = "merged"  # merged into its target (by Mesa, or the pull request was merged)
    PR_OPEN = "pr_open"
    PR_CLOSED = "pr_closed"  # closed without merging
    CONFLICT = "conflict"  # the merge conflicted; the author was asked to rebase
    WAITING = "waiting"  # the target's checkout has local changes in the way; nothing was moved
    KEPT = "kept"  # ship mode none: the branch stays
    DISCARDED = "discarded"
    FAILED = "failed"  # the forge or git said no; ship_detail says why


class IssueBranch(models.Model):
    """The one branch of an issue (``mesa/<KEY>``), what it ships into, and how shipping went."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="issue_branches")
    issue = models.OneToOneField("issues.Issue", on_delete=models.CASCADE, related_name="branch_record")
    name = models.CharField(max_length=200)
    target = models.CharField(max_length=200)  # the parent issue's branch, or the base branch
    repo_root = models.CharField(max_length=500)
    ship_state = models.CharField(max_length=12, choices=ShipState.choices, default=ShipState.WORKING)
    ship_detail = models.TextField(blank=True, default="")
    merged_sha = models.CharField(max_length=40, blank=True, default="")
    pr_url = models.CharField(max_length=500, blank=True, default="")
    pr_number = models.PositiveIntegerField(null=True, blank=True)
    pr_review_seen = models.CharField(max_length=100, blank=True, default="")  # acted on once
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ship_state__in=ShipState.values), name="issue_branch_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.target} ({self.ship_state})"


class RunEvent(models.Model):
    """One parsed event of a run's output stream (assistant text, tool call, result, ...)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="run_event_unique_seq")]

    def __str__(self) -> str:
        return f"run {self.run_id} #{self.seq} {self.type}"


class SchedulerState(models.Model):
    """The scheduler's persisted switches (one row, pk=1): survives restarts."""

    paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.CharField(max_length=100, blank=True, default="")
    # Liveness of the scheduler process, written every few seconds by the loop.
    beat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True, default="")
    # The last event some scheduler has taken to dispatch: several schedulers share one database,
    # and each event is claimed (a conditional update of this field) by exactly one of them.
    event_cursor = models.BigIntegerField(default=0)
    # Host runs in login mode: off until the instance operator turns them on (runners.readiness.host_runs_allowed;
    # MESA_ALLOW_HOST_RUNS in the environment overrides this switch).
    host_runs = models.BooleanField(default=False)
    host_runs_by = models.CharField(max_length=100, blank=True, default="")
    host_runs_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "scheduler paused" if self.paused else "scheduler running"


class BindingMode(models.TextChoices):
    OBSERVE = "observe", "Observe (read)"
    DRIVE = "drive", "Drive (type)"


class TerminalBinding(models.Model):
    """Someone (a human or an agent) attached to a running run's terminal, granted by the board or a manager.

    Active while ``ended_at`` is null; every binding of a run ends when the run does (``run_finish``).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="terminal_bindings")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="bindings")
    mode = models.CharField(max_length=8, choices=BindingMode.choices)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    granted_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_by_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=BindingMode.values), name="binding_mode_valid"),
            # Exactly one holder: an agent or a user.
            models.CheckConstraint(
                condition=Q(agent__isnull=False, user__isnull=True) | Q(agent__isnull=True, user__isnull=False),
                name="binding_one_holder",
            ),
        ]
        indexes = [models.Index(fields=["run", "ended_at"], name="binding_run_active")]

    def __str__(self) -> str:
        return f"{self.holder_label} {self.mode}s run {self.run_id}"

    @property
    def holder_label(self) -> str:
        if self.agent is not None:
            return self.agent.slug
        return self.user.get_username() if self.user is not None else "?"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class WorkerStatus(models.TextChoices):
    STOPPED = "stopped"  # added, or stopped: no container
    RUNNING = "running"  # its container was started (health says whether it still answers)
    FAILED = "failed"  # the last start failed (``last_error`` says why)
    # The health loop found it not answering and is restarting it (runs use disposable containers meanwhile).
    UNHEALTHY = "unhealthy"


class Worker(models.Model):
    """A persistent worker: a long-lived container per agent that the agent's runs ``exec`` into
    (runners/workers.py, runners/sandboxes/worker.py). Added and driven by the instance operator only
    (``manage.py worker``, Settings › Runners); the env holds *names* of the org's encrypted secrets, never values."""

    name = models.SlugField(max_length=60, unique=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="workers")
    agent = models.OneToOneField("agents.Agent", on_delete=models.CASCADE, related_name="worker")
    image = models.CharField(max_length=300, blank=True, default="")  # empty: the agent's, else MESA_WORKER_IMAGE
    cpus = models.FloatField(default=1.0)
    memory = models.CharField(max_length=20, default="2g")
    pids = models.PositiveIntegerField(default=256)
    # {VARIABLE: reference}: a reference names a variable of the agent's encrypted env ("NAME") or of
    # another agent of the same org ("agent-slug.NAME"); resolved when the container starts.
    env_refs = models.JSONField(default=dict, blank=True)
    credential_sets = models.JSONField(default=list, blank=True)  # agents.models.CredentialSet names
    status = models.CharField(max_length=10, choices=WorkerStatus.choices, default=WorkerStatus.STOPPED)
    container_id = models.CharField(max_length=80, blank=True, default="")
    last_health = models.CharField(max_length=200, blank=True, default="")  # "healthy" or why not
    last_health_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(status__in=WorkerStatus.values), name="worker_status_valid")]

    def __str__(self) -> str:
        return f"worker {self.name} ({self.status})"
