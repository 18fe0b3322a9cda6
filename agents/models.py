from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from orgs.models import Org
from orgs.secrets import EncryptedJSONField


class Runner(models.TextChoices):
    CLAUDE_CODE = "claude_code", "Claude Code"
    CODEX = "codex", "Codex"
    GEMINI = "gemini", "Gemini CLI"
    OPENCODE = "opencode", "OpenCode"
    COPILOT = "copilot", "Copilot"
    OPENAI = "openai", "OpenAI-compatible endpoint"
    NOOP = "noop", "No-op (tests)"
    DRY_RUN = "dry_run", "Dry run (records the prompt)"
    COMMAND = "command", "Any command"


class Sandbox(models.TextChoices):
    HOST = "host", "Host (the Mesa machine, as the Mesa user)"
    CONTAINER = "container", "Container (only the run's worktree)"


class Terminal(models.TextChoices):
    OFF = "off", "Off (pipes)"
    PTY = "pty", "Pseudo-terminal (watch and type in the browser)"
    PTY_MESSAGES = "pty_msgs", "Pseudo-terminal, and channel messages typed into it"


class Egress(models.TextChoices):
    NONE = "none", "None (only the Mesa API)"
    MODEL_API = "model_api", "The model API (and the Mesa API)"


class CredentialSet(models.TextChoices):
    """A CLI's login files on the Mesa machine that a container run may get a read-only copy of (runners/sandboxes)."""

    CLAUDE = "claude", "Claude Code (~/.claude credentials, ~/.claude.json)"
    CODEX = "codex", "Codex (~/.codex auth and config)"
    GEMINI = "gemini", "Gemini CLI (~/.gemini credentials and settings)"
    OPENCODE = "opencode", "OpenCode (auth and config)"


class AgentStatus(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    TERMINATED = "terminated"


# The fields whose every change is stored as an AgentVersion (and can be rolled back).
CONFIG_FIELDS: tuple[str, ...] = (
    "name",
    "archetype",
    "runner",
    "sandbox",
    "terminal",
    "egress",
    "container_image",
    "credential_mounts",
    "codex_mcp",
    "model",
    "working_dir",
    "base_branch",
    "ship_mode",
    "reports_to",
    "review_agent",
    "max_turns",
    "timeout_s",
    "heartbeat_enabled",
    "heartbeat_interval_s",
    "status",
    "daily_token_limit",
    "daily_cost_limit_usd",
    "disallowed_tools",
    "env",
)


class Agent(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    archetype = models.CharField(max_length=60, default="other")
    runner = models.CharField(max_length=20, choices=Runner.choices, default=Runner.CLAUDE_CODE)
    # Where the runner's process runs (runners/sandboxes). Host stays the default until engine detection
    # picks container; choosing host over container is the instance operator's (agents.services).
    sandbox = models.CharField(max_length=12, choices=Sandbox.choices, default=Sandbox.HOST)
    # A host run under a pseudo-terminal (runners/pty_run.py): its screen streams to the run page and
    # whoever may drive it can type into it. Container runs keep pipes.
    terminal = models.CharField(max_length=8, choices=Terminal.choices, default=Terminal.OFF)
    # What a container run may reach besides the Mesa API (runners/sandboxes/relay.py); a host run reaches
    # everything the Mesa machine does, whatever this says.
    egress = models.CharField(max_length=12, choices=Egress.choices, default=Egress.MODEL_API)
    # The image of its container runs; empty = MESA_WORKER_IMAGE. The operator's choice (agents.services).
    container_image = models.CharField(max_length=300, blank=True, default="")
    # CredentialSet names: the Mesa machine's CLI logins a container run gets read-only (the operator's choice).
    credential_mounts = models.JSONField(default=list, blank=True)
    # Claude runs get Codex as an MCP tool (runners/codex_bridge.py over stdio) when Codex credentials are there.
    codex_mcp = models.BooleanField(default=False)
    model = models.CharField(max_length=120, blank=True, default="")
    working_dir = models.CharField(max_length=500, blank=True, default="")
    # Branch worktrees start from; empty = the repository's current HEAD branch.
    base_branch = models.CharField(max_length=200, blank=True, default="")
    # How a done issue of this agent ships (merge / pull_request / none); empty = the org's setting.
    ship_mode = models.CharField(max_length=20, blank=True, default="")
    reports_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    review_agent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewees")
    max_turns = models.PositiveIntegerField(default=40)
    timeout_s = models.PositiveIntegerField(default=1800)
    heartbeat_enabled = models.BooleanField(default=False)
    heartbeat_interval_s = models.PositiveIntegerField(default=300)
    status = models.CharField(max_length=12, choices=AgentStatus.choices, default=AgentStatus.ACTIVE)
    daily_token_limit = models.PositiveBigIntegerField(null=True, blank=True)
    daily_cost_limit_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    disallowed_tools = models.JSONField(default=list, blank=True)
    # Extra environment for the agent's process: encrypted at rest, shown masked, redacted from run output;
    # versions and activity keep names and fingerprints only.
    env = EncryptedJSONField(default=dict, blank=True)
    config_version = models.PositiveIntegerField(default=0)
    # Liveness reported by the agent itself through POST /api/v1/heartbeat.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_note = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="agent_unique_slug_per_org"),
            models.CheckConstraint(condition=~Q(reports_to=F("id")), name="agent_not_own_manager"),
            models.CheckConstraint(condition=~Q(review_agent=F("id")), name="agent_not_own_reviewer"),
            models.CheckConstraint(condition=Q(runner__in=Runner.values), name="agent_runner_valid"),
            models.CheckConstraint(condition=Q(status__in=AgentStatus.values), name="agent_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def uses_pty(self) -> bool:
        """Host runs execute under a pseudo-terminal (``terminal`` is ``pty`` or ``pty_msgs``)."""
        return self.terminal in (Terminal.PTY, Terminal.PTY_MESSAGES)

    @property
    def is_active(self) -> bool:
        return self.status == AgentStatus.ACTIVE

    @property
    def is_root(self) -> bool:
        return self.reports_to_id is None


class AgentVersion(models.Model):
    """One stored version of an agent's configuration.

    ``config`` is the full snapshot after the change (foreign keys as ids);
    ``changes`` maps each changed field to ``[old, new]``.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    config = models.JSONField()
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True, default="")
    actor_agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [models.UniqueConstraint(fields=["agent", "number"], name="agent_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.agent.slug} v{self.number}"


class KeyKind(models.TextChoices):
    RUN = "run", "Run key"
    AGENT = "agent", "Agent key"
    BOARD = "board", "Board key"


class ApiKey(models.Model):
    """A bearer key. Only the SHA-256 of the secret is stored, plus a short visible prefix."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=6, choices=KeyKind.choices)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    run = models.ForeignKey("runners.Run", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps its first app's name: the model moved from `api` to `agents` (state-only migration).
        db_table = "api_apikey"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=KeyKind.values), name="api_key_kind_valid"),
            # Run and agent keys act as an agent; board keys never do.
            models.CheckConstraint(
                condition=Q(kind="board", agent__isnull=True) | Q(~Q(kind="board"), agent__isnull=False),
                name="api_key_agent_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} key {self.prefix}…"
