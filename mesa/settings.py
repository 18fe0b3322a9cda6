"""Mesa settings: everything that varies comes from the environment (see README)."""

from __future__ import annotations

from pathlib import Path

from mesa.env import database_config, env_bool, env_int, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = secret_key(BASE_DIR)
DEBUG = env_bool("MESA_DEBUG", False)
HOST = env_str("MESA_HOST", "127.0.0.1")
PORT = env_int("PORT", 3001)
ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Bound to loopback, the dashboard may run without login ("trusted local mode").
# Bound to anything else, login is always required.
MESA_TRUSTED_LOCAL = env_bool("MESA_TRUSTED_LOCAL", HOST in {"127.0.0.1", "localhost", "::1"})

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "orgs",
    "agents",
    "issues",
    "blocks",
    "wiki",
    "approvals",
    "archetypes",
    "runners",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "mesa.urls"
ASGI_APPLICATION = "mesa.asgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": database_config(env_str("DATABASE_URL"), BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".staticfiles"
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
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
}

# Mesa's own knobs.
MESA_ARCHETYPES_DIR = env_str("MESA_ARCHETYPES_DIR", "")
MESA_TEMPLATES_DIR = env_str("MESA_TEMPLATES_DIR", "")
MESA_MAX_RUNS = env_int("MESA_MAX_RUNS", 4)
MESA_MAX_ISSUE_DEPTH = env_int("MESA_MAX_ISSUE_DEPTH", 4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MESA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Scheduler and runners (issue 4) ---

# --- Dashboard (issue 5) ---

# --- Human gates and notifications (issue 6) ---
