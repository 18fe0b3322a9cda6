"""Mesa settings: everything that varies comes from the environment (see README), grouped by subject."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from mesa.env import database_config, env_bool, env_int, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Server and access ---
SECRET_KEY = secret_key(BASE_DIR)
DEBUG = env_bool("MESA_DEBUG", False)
HOST = env_str("MESA_HOST", "127.0.0.1")
PORT = env_int("PORT", 3001)
# `make run`'s web worker processes on the one port (mesa/serve.py); 1 = web and scheduler in one process.
MESA_WEB_WORKERS = max(1, env_int("MESA_WEB_WORKERS", os.cpu_count() or 1))
# Requests a web worker runs at once (mesa/handler.py); others wait in line, and leave it for a thread of their
# own only once the line has not moved for MESA_REQUEST_QUEUE_MS.
MESA_REQUEST_THREADS = max(1, env_int("MESA_REQUEST_THREADS", 1))
MESA_REQUEST_QUEUE_MS = max(0, env_int("MESA_REQUEST_QUEUE_MS", 50))
ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Bound to loopback, the dashboard may run without login ("trusted local mode").
# Bound to anything else, login is always required.
MESA_TRUSTED_LOCAL = env_bool("MESA_TRUSTED_LOCAL", HOST in {"127.0.0.1", "localhost", "::1"})
if MESA_TRUSTED_LOCAL and any(h == "*" or h.startswith(".") for h in ALLOWED_HOSTS):
    # Any name resolving to loopback would reach a login-free dashboard: a web page could, by DNS rebinding.
    from django.core.exceptions import ImproperlyConfigured  # only on this error path

    raise ImproperlyConfigured(
        "Trusted local mode refuses a wildcard ALLOWED_HOSTS (DNS rebinding would open the dashboard to any "
        "web page). List the host names, or set MESA_TRUSTED_LOCAL=0 to require a login."
    )
# Trusted local mode still needs a secret the agents do not have: the one-time login link that
# `make run` and `manage.py login-link` print (web/local_login.py). 0 turns it off (tests do).
MESA_LOCAL_LOGIN = env_bool("MESA_LOCAL_LOGIN", True)
MESA_LOCAL_LOGIN_FILE = env_str("MESA_LOCAL_LOGIN_FILE", str(BASE_DIR / "var" / "local-login.sha256"))
# Pages need a login unless MESA_TRUSTED_LOCAL; the API under /api/ keeps its bearer keys.
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
# Wrong passwords are throttled per client IP and per username, on the login page and the admin
# alike (django-axes): after MESA_LOGIN_FAILURE_LIMIT failures, 15 minutes of 429.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("MESA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MESA_LOGIN_COOLOFF_MIN", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.views.login_locked"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Served over HTTPS (directly or behind a proxy that terminates TLS): secure cookies, HSTS and a
# redirect from http. MESA_PROXY_SSL_HEADER names the header a trusted proxy sets (e.g.
# "X-Forwarded-Proto"); only set it behind a proxy that overwrites that header.
MESA_HTTPS = env_bool("MESA_HTTPS", False)
# Axes' check looks for its own class by name; Mesa runs a sync-only subclass of it (mesa/middleware.py).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
if MESA_HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("MESA_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MESA_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("MESA_HSTS_PRELOAD", False)
    # Subdomains and the preload list bind other hosts of the domain and cannot be undone quickly:
    # the operator opts in; not opting in is a decision, not an oversight.
    SILENCED_SYSTEM_CHECKS += [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]
    # Agents reach the API on loopback (MESA_API_URL), past the proxy: a redirect to https would
    # break every run. Pages redirect; the API and MCP answer on the scheme they are asked on.
    SECURE_REDIRECT_EXEMPT = [r"^api/", r"^mcp/?$"]
if proxy_header := env_str("MESA_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
# Links in notifications (the Open button) point here.
MESA_PUBLIC_URL = env_str("MESA_PUBLIC_URL", "http://127.0.0.1:3001")

# --- Apps, bottom layer first (README "Architecture") ---
INSTALLED_APPS = [
    # (daphne is not an app here: `make run` serves through mesa/serve.py, and loading it as an
    # app would pull Twisted and OpenSSL into the scheduler and every manage.py command.)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # DRF is used as a library, not installed as an app: its templates and template tags serve only the
    # browsable API (Mesa renders JSON), and every installed app's tags load with the first page rendered.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "orgs",
    "agents",
    "approvals",
    "issues",
    "blocks",
    "wiki",
    "chat",
    "archetypes",
    "learning",
    "runners",
    "notifications",
    "hooks",
    "transfer",
    "api",
    "web",
    "mcp_server",
    "axes",
]

MIDDLEWARE = [
    # Outermost: an API path answers JSON even for an unknown route, a busy database or a bug.
    "mesa.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mesa.middleware.PageMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Login outside trusted local mode; a selector's NotFound becomes the 404 page.
    "web.access.AccessMiddleware",
    # Login throttling (django-axes): last, so it sees the login view's outcome.
    "mesa.middleware.SyncAxesMiddleware",
]

ROOT_URLCONF = "mesa.urls"
ASGI_APPLICATION = "mesa.asgi.application"

# --- Pages ---
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.access.context",
                "web.context_processors.live_events",
                "web.context_processors.model_choices",
            ],
        },
    },
]
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".staticfiles"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
MESA_BOARD_COLUMN_LIMIT = env_int("MESA_BOARD_COLUMN_LIMIT", 50)
# Live events (web/sse.py): how often the hub looks for events written by other processes,
# and how long an idle stream waits before a keepalive comment.
MESA_SSE_POLL_MS = env_int("MESA_SSE_POLL_MS", 20)
MESA_SSE_KEEPALIVE_S = float(env_str("MESA_SSE_KEEPALIVE_S", "15"))

# --- Database ---
DATABASES = {"default": database_config(env_str("DATABASE_URL"), BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Agent API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
# Bodies over this size are refused (API: 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MESA_MAX_BODY_BYTES", 1_048_576)
SPECTACULAR_SETTINGS = {
    "TITLE": "Mesa agent API",
    "DESCRIPTION": "The REST API that agents (and scripts with a board key) use to drive the Mesa board.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI / Redoc assets come from the installed sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" / "kind": give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "IssueStatusEnum": "issues.models.Status",
        "AgentStatusEnum": "agents.models.AgentStatus",
        "WorkBlockStatusEnum": "blocks.models.WorkBlockStatus",
        "ApexBlockStatusEnum": "blocks.models.ApexStatus",
        "ApprovalStatusEnum": "approvals.models.ApprovalStatus",
        "ArchetypePatchStatusEnum": "archetypes.models.PatchStatus",
        "ApprovalKindEnum": "approvals.models.ApprovalKind",
        "CommentKindEnum": "issues.models.CommentKind",
        "NewCommentKindEnum": ["comment", "evidence"],
        "RelationKindEnum": ["blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by"],
        "RunStatusEnum": "runners.models.RunStatus",
        "RunModeEnum": "runners.models.RunMode",
        "BindingModeEnum": "runners.models.BindingMode",
    },
}

# --- The org: roles, templates, issues ---
MESA_ARCHETYPES_DIR = env_str("MESA_ARCHETYPES_DIR", "")
MESA_TEMPLATES_DIR = env_str("MESA_TEMPLATES_DIR", "")
MESA_MAX_ISSUE_DEPTH = env_int("MESA_MAX_ISSUE_DEPTH", 4)

# --- Scheduler and runners ---
# At most this many runs execute at once (all agents together), and per agent.
MESA_MAX_RUNS = env_int("MESA_MAX_RUNS", 4)
MESA_MAX_RUNS_PER_AGENT = env_int("MESA_MAX_RUNS_PER_AGENT", 1)
# The API base URL handed to agents as $MESA_API_URL.
MESA_API_URL = env_str("MESA_API_URL", f"http://127.0.0.1:{PORT}/api/v1")
# Sandboxes (runners/sandboxes): a new agent's default ("auto": container as soon as an engine answers, else
# host), the image of container runs, and whether host runs are allowed at all (on in local mode; in login mode
# the operator turns them on: they run agents' code on this machine as the Mesa user).
MESA_SANDBOX_DEFAULT = env_str("MESA_SANDBOX_DEFAULT", "auto")
MESA_WORKER_IMAGE = env_str("MESA_WORKER_IMAGE", "localhost/mesa-worker:latest")
# How often (seconds) the scheduler asks each running persistent worker whether it answers (and restarts it once).
MESA_WORKER_HEALTH_SECONDS = env_int("MESA_WORKER_HEALTH_SECONDS", 30)
MESA_ALLOW_HOST_RUNS = env_bool("MESA_ALLOW_HOST_RUNS", MESA_TRUSTED_LOCAL)
# Set in the environment, MESA_ALLOW_HOST_RUNS overrides the operator's switch in Settings › Runners either way.
MESA_HOST_RUNS_PINNED = "MESA_ALLOW_HOST_RUNS" in os.environ
# Whose CLI logins (~/.claude, ~/.codex...) container runs may get read-only copies of: the Mesa user's home by default.
MESA_CREDENTIALS_HOME = env_str("MESA_CREDENTIALS_HOME", "")
# The label value that marks this Mesa's containers (empty: derived from the code's location and the database).
MESA_INSTANCE_ID = env_str("MESA_INSTANCE_ID", "")
# Mesa's MCP server (streamable HTTP) handed to agents as $MESA_MCP_URL: beside the API by default.
MESA_MCP_URL = env_str("MESA_MCP_URL", MESA_API_URL.rstrip("/").removesuffix("/api/v1") + "/mcp")
# Where per-run git worktrees live; relative paths are under the repository root.
MESA_WORKTREES_DIR = env_str("MESA_WORKTREES_DIR", "var/worktrees")
# Keep a run's worktree after it ends (the branch is always kept when it has changes).
MESA_KEEP_WORKTREES = env_bool("MESA_KEEP_WORKTREES", False)
# Where agents without a working_dir run (one directory per agent, not a git repo).
MESA_WORKSPACES_DIR = env_str("MESA_WORKSPACES_DIR", "var/workspaces")
# Where `bootstrap` creates an org's git repository when no --repo is given.
MESA_REPOS_DIR = env_str("MESA_REPOS_DIR", "var/repos")
# Where PTY runs keep their terminal stream and input FIFO (runners/terminal_stream.py), and the bytes kept per run.
MESA_TERMINALS_DIR = env_str("MESA_TERMINALS_DIR", "var/terminals")
MESA_TERMINAL_CAP = env_int("MESA_TERMINAL_CAP", 1_000_000)
# Failed or timed-out runs on one issue before it is moved to blocked.
MESA_RETRY_CAP = env_int("MESA_RETRY_CAP", 3)
# A failed task/review run is retried automatically after this many seconds (times the failures so far).
MESA_RETRY_DELAY_S = env_int("MESA_RETRY_DELAY_S", 30)
# Seconds between SIGTERM and SIGKILL when a run is stopped.
MESA_KILL_GRACE_S = env_int("MESA_KILL_GRACE_S", 5)
# The token Mesa opens pull requests with (GitHub / GitLab); a MESA_* variable, so no run's process inherits it.
MESA_FORGE_TOKEN = env_str("MESA_FORGE_TOKEN", "")
# How often the scheduler reads open pull requests back (merged / closed / changes requested).
MESA_SHIP_POLL_S = env_int("MESA_SHIP_POLL_S", 60)
# A TOML file of model prices (USD per million tokens) overriding runners/prices.toml; read at use time.
MESA_PRICES_FILE = env_str("MESA_PRICES_FILE", "")
# How often (seconds) the idle scheduler looks for new events (a cheap PRAGMA data_version on SQLite).
# Only a safety net: writers in this process wake it at once, other processes nudge its wake socket.
MESA_SCHEDULER_POLL_S = float(env_str("MESA_SCHEDULER_POLL_S", "0.25"))
# Unix datagram socket other processes nudge the scheduler on; empty = next to the SQLite file.
MESA_SCHEDULER_SOCKET = env_str("MESA_SCHEDULER_SOCKET", "")
# Wake-ups between processes (runners/wakeups/): "local" (the socket above), "postgres" (LISTEN/NOTIFY) or
# "redis" (pub/sub); empty picks redis when a Redis URL is set, postgres on PostgreSQL, else local.
MESA_WAKEUPS = env_str("MESA_WAKEUPS", "")
MESA_REDIS_URL = env_str("MESA_REDIS_URL", "") or env_str("REDIS_URL", "")

# --- Notifications ---
# Delivery retries: attempt n waits BACKOFF · 2^(n-1) s (capped) unless the server said Retry-After.
MESA_NOTIFY_MAX_ATTEMPTS = env_int("MESA_NOTIFY_MAX_ATTEMPTS", 6)
MESA_NOTIFY_BACKOFF_S = env_int("MESA_NOTIFY_BACKOFF_S", 30)
MESA_NOTIFY_BACKOFF_MAX_S = env_int("MESA_NOTIFY_BACKOFF_MAX_S", 3600)
MESA_NOTIFY_TIMEOUT_S = env_int("MESA_NOTIFY_TIMEOUT_S", 10)
MESA_TELEGRAM_POLL_TIMEOUT_S = env_int("MESA_TELEGRAM_POLL_TIMEOUT_S", 25)
# Markdown images from other sites (a tracking pixel in an agent's comment) are dropped unless this is on.
MESA_MARKDOWN_REMOTE_IMAGES = env_bool("MESA_MARKDOWN_REMOTE_IMAGES", False)

# --- Logging ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"one_line": {"()": "mesa.logs.OneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MESA_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
        "httpx": {"level": "WARNING"},
        # A request with a bad Host header is the client's mistake (or a scan): one line, no traceback.
        "django.security.DisallowedHost": {"handlers": ["console"], "filters": ["one_line"], "propagate": False},
    },
}
