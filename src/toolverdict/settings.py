"""Settings for toolverdict, read from the environment (12-factor).

The embedded defaults run on one laptop: SQLite in WAL mode, the bundled local model,
mail written to a file outbox. Set ``DATABASE_URL``, ``EMAIL_URL`` and
``TOOLVERDICT_PANEL_MODEL`` to grow into PostgreSQL, SMTP and a strong model.
Every variable is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from toolverdict.core import datadir as _datadir
from toolverdict.core import secret_key as _secret_key

BASE_DIR = Path(__file__).resolve().parent

_KINDS = {int: "a whole number", float: "a number", bool: "true or false"}


class _Env(environ.Env):
    """django-environ, with a value it cannot parse reported as a configuration error
    that names the variable (its own message names only the value)."""

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            kind = _KINDS.get(cast, "a valid value")
            value = os.environ.get(var)
            raise ImproperlyConfigured(f"{var} must be {kind}, not {value!r}") from exc


env = _Env()


def _path(name: str, default: Path | str) -> Path:
    """A path from the environment; set but empty counts as unset (Path("") is the working
    directory, where nothing of ours belongs)."""
    return Path(env(name, default="") or default)


# An optional .env in the working directory, for people who prefer a file to exports.
_dotenv = Path(os.environ.get("TOOLVERDICT_ENV_FILE", ".env"))
if _dotenv.is_file():
    environ.Env.read_env(_dotenv)

# Variables that had another name before every variable took the TOOLVERDICT_ prefix. The
# old name is still read when the new one is unset, and `toolverdict check` warns about it
# (toolverdict.W001 in core/checks.py); docs/configuration.md lists both.
RENAMED_ENV = {
    "TOOLVERDICT_IP_HEADER": "COMMUNITY_IP_HEADER",
    "TOOLVERDICT_COMMUNITY_SIGNIN_LINK_MAX_AGE": "COMMUNITY_SIGNIN_LINK_MAX_AGE",
    "TOOLVERDICT_COMMUNITY_MIN_VOTES": "COMMUNITY_MIN_VOTES",
    "TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS": "COMMUNITY_NEW_ACCOUNT_DELAY_HOURS",
    "TOOLVERDICT_COMMUNITY_RATE_VOTE_USER": "COMMUNITY_RATE_VOTE_USER",
    "TOOLVERDICT_COMMUNITY_RATE_VOTE_IP": "COMMUNITY_RATE_VOTE_IP",
    "TOOLVERDICT_COMMUNITY_RATE_SIGNIN_IP": "COMMUNITY_RATE_SIGNIN_IP",
    "TOOLVERDICT_COMMUNITY_RATE_SIGNIN_EMAIL": "COMMUNITY_RATE_SIGNIN_EMAIL",
    "TOOLVERDICT_COMMUNITY_BURST_WINDOW_MINUTES": "COMMUNITY_BURST_WINDOW_MINUTES",
    "TOOLVERDICT_COMMUNITY_BURST_MIN_ACCOUNTS": "COMMUNITY_BURST_MIN_ACCOUNTS",
    "TOOLVERDICT_COMMUNITY_BURST_NEW_ACCOUNT_DAYS": "COMMUNITY_BURST_NEW_ACCOUNT_DAYS",
}


def _renamed(name: str) -> str:
    """The variable to read for ``name``: its old name only when that alone is set."""
    old = RENAMED_ENV.get(name, "")
    return old if name not in os.environ and old in os.environ else name


DATA_DIR = _path("TOOLVERDICT_DATA_DIR", Path.cwd() / "var").resolve()
# Owner-only (0700): the database, the secret key and the mail outbox live here
# (core/datadir.py; docs/operations.md, "Data at rest").
_datadir.private_dir(DATA_DIR)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# DJANGO_SECRET_KEY, or else a random key generated once into $TOOLVERDICT_DATA_DIR/secret_key
# (mode 0600) and reused on every later start. The key this file once fell back to is
# published, so it is refused; `check --deploy` fails on any weak key (toolverdict.E001).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or _secret_key.load_or_create(DATA_DIR)
if SECRET_KEY in _secret_key.PUBLISHED_KEYS:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the published development key: unset it to use a key generated "
        "in the data directory, or set a long random one of your own"
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SITE_URL = env("TOOLVERDICT_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "toolverdict"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "toolverdict.core",
    "toolverdict.catalog",
    "toolverdict.panel",
    "toolverdict.pages",
    "toolverdict.community",
    "toolverdict.digest",
    "toolverdict.ingest",
    "toolverdict.enrich",
    "toolverdict.api",
    "toolverdict.pagecache",
    "toolverdict.share",
    "django.contrib.sitemaps",
    "toolverdict.opendata",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "toolverdict.core.csp.ContentSecurityPolicyMiddleware",
    "toolverdict.core.errors.ApiMethodMiddleware",  # a 405 on the API in its JSON shape
    "toolverdict.pagecache.static.StaticFilesMiddleware",  # WhiteNoise, gzip + long caching
    # Anonymous pages from the cache, before sessions are read (docs/caching.md).
    "toolverdict.pagecache.middleware.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "toolverdict.pagecache.member_cookie.MemberCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "toolverdict.core.nul.RejectNulPathMiddleware",
    # A signed-in reader's own bits filled into a cached page (pagecache/personal.py).
    "toolverdict.pagecache.personal.PersonalPageMiddleware",
]

ROOT_URLCONF = "toolverdict.urls"
WSGI_APPLICATION = "toolverdict.wsgi.application"

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
                "toolverdict.context_processors.site",
            ],
            "builtins": ["django.contrib.humanize.templatetags.humanize"],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'toolverdict.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _sqlite_path = Path(str(DATABASES["default"]["NAME"]))
    if str(_sqlite_path) != ":memory:" and _sqlite_path.parent.is_dir():
        # The database, its WAL and shared-memory files: owner-only (sessions live there).
        _datadir.private_sqlite(_sqlite_path)
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
    # so concurrent writers queue on busy_timeout instead of failing with "database is
    # locked" half way through a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env("TOOLVERDICT_TEST_DB_NAME", default=""):
        # Lets several test runs share one PostgreSQL server without colliding.
        DATABASES["default"]["TEST"] = {"NAME": env("TOOLVERDICT_TEST_DB_NAME")}
# Persistent connections on both databases: opening one costs more than serving a cached
# page (SQLite runs its PRAGMAs and registers Django's SQL functions on every connect).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", 60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs ------------------------------------------------------------------
# The Django Tasks API with the database backend: an SQLite queue on a laptop, and on
# PostgreSQL any number of `toolverdict worker` processes on any number of machines.
TASKS = {
    "default": {
        "BACKEND": env("TOOLVERDICT_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "panel", "digest", "ingest"],
    }
}

# --- cache ----------------------------------------------------------------------------
# Default: local memory in each process (pages, rate limits); the page cache keeps its
# versions in the database so every process and worker agrees. CACHE_URL=redis://… shares
# one cache (and the versions) between processes and machines. See docs/caching.md.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://toolverdict")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same backend, keeping one Redis client per server (core/redis_cache.py).
    CACHES["default"]["BACKEND"] = "toolverdict.core.redis_cache.RedisCache"
# Stored pages get their own cache alias, "pagecache" (the page cache's; "pages" is an
# app), so a flood of distinct URLs (search queries) culls pages, never the rate-limit
# counters in the default cache. With CACHE_URL it is the same server under its own key
# prefix, still "pages" so a deploy keeps the stored pages.
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["pagecache"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "toolverdict-pages",
        "OPTIONS": {"MAX_ENTRIES": env.int("TOOLVERDICT_LOCAL_CACHE_ENTRIES", default=2000)},
    }
else:
    CACHES["pagecache"] = {**CACHES["default"], "KEY_PREFIX": "pages"}
_pagecache_default = CACHES["pagecache"]
# Anonymous pages served from the cache with exact invalidation (docs/caching.md).
TOOLVERDICT_PAGE_CACHE = env.bool("TOOLVERDICT_PAGE_CACHE", default=True)
# Seconds a stored page lives at most, bounding what changes with time alone (a new
# account's votes starting to count); 0: only writes retire pages.
TOOLVERDICT_PAGE_CACHE_TIMEOUT = env.int("TOOLVERDICT_PAGE_CACHE_TIMEOUT", default=600)
# What browsers and CDNs may reuse without asking (Cache-Control of anonymous pages).
TOOLVERDICT_PAGE_MAX_AGE = env.int("TOOLVERDICT_PAGE_MAX_AGE", default=60)
TOOLVERDICT_PAGE_STALE_WHILE_REVALIDATE = env.int(
    "TOOLVERDICT_PAGE_STALE_WHILE_REVALIDATE", default=600
)
# Scripts on anonymous pages: "members" (default; reading needs none, a signed-in reader's
# copy gets them) or "all" (for a CDN serving the anonymous copy to signed-in readers too).
TOOLVERDICT_PAGE_SCRIPTS = env.str("TOOLVERDICT_PAGE_SCRIPTS", default="members")
if TOOLVERDICT_PAGE_SCRIPTS not in ("members", "all"):
    raise ImproperlyConfigured(
        f'TOOLVERDICT_PAGE_SCRIPTS must be "members" or "all", not {TOOLVERDICT_PAGE_SCRIPTS!r}'
    )
# Where scope versions live: "auto" (database with a local-memory cache, else the cache),
# "db" or "cache".
TOOLVERDICT_PAGE_CACHE_VERSIONS = env("TOOLVERDICT_PAGE_CACHE_VERSIONS", default="auto")
# With a shared page cache: recently served pages each process also keeps in memory.
TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES = env.int("TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES", default=256)
# Any text; changing it gives every stored page a new key and ETag.
TOOLVERDICT_PAGE_CACHE_SALT = env("TOOLVERDICT_PAGE_CACHE_SALT", default="")

# --- auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = _path("DJANGO_STATIC_ROOT", DATA_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "DJANGO_STATICFILES_STORAGE",
            default=(
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if DEBUG
                # WhiteNoise's compressed storage, each URL with ?v=<content hash> so
                # static files can be cached for a year (pagecache/static.py).
                else "toolverdict.pagecache.static.VersionedStaticFilesStorage"
            ),
        )
    },
}
# Serve from the finders when collectstatic has not run (laptop default); production
# runs collectstatic and sets this off.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- email ----------------------------------------------------------------------------
# Default: a file outbox of .eml files under var/outbox, so nothing leaves the laptop.
# Production: EMAIL_URL=smtp+tls://user:pass@host:587 (django-environ syntax).
EMAIL_OUTBOX_DIR = _path("TOOLVERDICT_OUTBOX_DIR", DATA_DIR / "outbox")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "toolverdict.mail.EmlFileBackend"
    EMAIL_FILE_PATH = str(EMAIL_OUTBOX_DIR)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="toolverdict <verdicts@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security (production values switch on with DEBUG off and HTTPS configured) -------
SECURE_HTTPS = env.bool("TOOLVERDICT_HTTPS", default=False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=SECURE_HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (core/csp.py): one policy for HTML pages, a closed one for
# everything else (JSON, feeds, static files). Empty: no header.
TOOLVERDICT_CSP = env(
    "TOOLVERDICT_CSP",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
)
TOOLVERDICT_CSP_NON_HTML = env(
    "TOOLVERDICT_CSP_NON_HTML", default="default-src 'none'; frame-ancestors 'none'"
)
# Failed admin sign-ins allowed per client address and per username ("count/seconds"),
# then HTTP 429 without a password check until they age out (core/login_throttle.py).
TOOLVERDICT_ADMIN_LOGIN_LIMIT = env("TOOLVERDICT_ADMIN_LOGIN_LIMIT", default="5/900")
TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT = env(
    "TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT", default="20/900"
)

# Behind a reverse proxy: the META key of the header carrying the client address, e.g.
# HTTP_X_FORWARDED_FOR (its right-most entry is used). Empty: REMOTE_ADDR. Every rate limit
# (votes, sign-in, digest sign-up, submissions) reads the address through core.net.
TOOLVERDICT_IP_HEADER = env(_renamed("TOOLVERDICT_IP_HEADER"), default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("TOOLVERDICT_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- toolverdict ----------------------------------------------------------------------
# Which model writes the panel: "local" (bundled Qwen2.5-Coder-1.5B, default),
# "local:smollm2", "local:/path/to/file.gguf", "openai:<model>", "anthropic:<model>".
# See docs/panel.md.
TOOLVERDICT_PANEL_MODEL = env("TOOLVERDICT_PANEL_MODEL", default="local")
TOOLVERDICT_OPENAI_BASE_URL = env("TOOLVERDICT_OPENAI_BASE_URL", default="") or None
# Seconds between two runs of the periodic jobs by `toolverdict scheduler` (and `up`).
# The jobs are not listed here: each app's periodic.py registers its own
# (core/scheduling.py).
TOOLVERDICT_SCHEDULER_INTERVAL = env.int("TOOLVERDICT_SCHEDULER_INTERVAL", default=60)
# Task workers (core/heartbeat.py, core/recovery.py; docs/operations.md): seconds between
# heartbeats, the age of the last beat that makes a worker dead (never under three
# beats), deaths of its workers before a task is failed, and how long a task claimed by a
# plain `db_worker` (no heartbeat) runs before it counts as lost.
TOOLVERDICT_WORKER_HEARTBEAT = env.float("TOOLVERDICT_WORKER_HEARTBEAT", default=10.0)
TOOLVERDICT_WORKER_STALE_AFTER = env.float("TOOLVERDICT_WORKER_STALE_AFTER", default=60.0)
TOOLVERDICT_TASK_MAX_ATTEMPTS = env.int("TOOLVERDICT_TASK_MAX_ATTEMPTS", default=3)
TOOLVERDICT_TASK_ORPHAN_AFTER = env.float("TOOLVERDICT_TASK_ORPHAN_AFTER", default=3 * 3600.0)
TOOLVERDICT_STARTER_CATALOG = BASE_DIR / "catalog" / "data" / "starter.toml"

# --- digest (weekly email; see docs/digest.md) ---------------------------------------
# Sending rate in emails per second (0 = as fast as the server takes them).
TOOLVERDICT_DIGEST_RATE = env.float("TOOLVERDICT_DIGEST_RATE", default=5.0)
# How long a confirmation link stays valid, in seconds (default three days).
TOOLVERDICT_DIGEST_CONFIRM_MAX_AGE = env.int("TOOLVERDICT_DIGEST_CONFIRM_MAX_AGE", default=259200)
# Sign-up attempts allowed per client IP per hour.
TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR = env.int("TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR", default=10)
# Transient SMTP failures: attempts per recipient, and the first retry delay (doubles).
TOOLVERDICT_DIGEST_MAX_ATTEMPTS = env.int("TOOLVERDICT_DIGEST_MAX_ATTEMPTS", default=5)
TOOLVERDICT_DIGEST_RETRY_BASE = env.float("TOOLVERDICT_DIGEST_RETRY_BASE", default=30.0)

# --- panel (the AI reviewer panel; see docs/panel.md) -----------------------------------
# Local backend: context size and threads for the local model, where assembled model
# files live, and an optional path to another GGUF file with its expected SHA-256.
# Remote backends: prices in USD per million tokens for the cost estimate
# ("input,cached_input,output"), request timeout and retry attempts.
TOOLVERDICT_LOCAL_N_CTX = env.int("TOOLVERDICT_LOCAL_N_CTX", default=8192)
TOOLVERDICT_LOCAL_THREADS = env.int("TOOLVERDICT_LOCAL_THREADS", default=0) or None
TOOLVERDICT_LOCAL_MODEL_PATH = env("TOOLVERDICT_LOCAL_MODEL_PATH", default="") or None
TOOLVERDICT_LOCAL_MODEL_SHA256 = env("TOOLVERDICT_LOCAL_MODEL_SHA256", default="") or None
TOOLVERDICT_MODEL_DIR = _path("TOOLVERDICT_MODEL_DIR", DATA_DIR / "models")
# How the panel asks: "stepwise" (one question per call; what small models need) or
# "whole" (one JSON review per call). Empty: each backend's own choice (local models
# stepwise, hosted ones whole).
TOOLVERDICT_PANEL_STYLE = env("TOOLVERDICT_PANEL_STYLE", default="")
# Who decides each persona's verdict: "rubric" (the persona file's rubric over computed
# findings; the default, and the only sound choice for a small local model) or "model"
# (a capable hosted model judges; the rubric's outcome is shown beside it when they differ).
TOOLVERDICT_PANEL_JUDGE = env("TOOLVERDICT_PANEL_JUDGE", default="rubric")
if TOOLVERDICT_PANEL_JUDGE not in ("rubric", "model"):
    raise ImproperlyConfigured("TOOLVERDICT_PANEL_JUDGE must be rubric or model")
# Sampling temperature of the panel's model (0 = reproducible verdicts).
TOOLVERDICT_PANEL_TEMPERATURE = env.float("TOOLVERDICT_PANEL_TEMPERATURE", default=0.0)
TOOLVERDICT_OPENAI_RESPONSE_FORMAT = env(
    "TOOLVERDICT_OPENAI_RESPONSE_FORMAT", default="json_schema"
)
TOOLVERDICT_PANEL_PRICES = env("TOOLVERDICT_PANEL_PRICES", default="")
TOOLVERDICT_PANEL_TIMEOUT = env.float("TOOLVERDICT_PANEL_TIMEOUT", default=120.0)
TOOLVERDICT_PANEL_ATTEMPTS = env.int("TOOLVERDICT_PANEL_ATTEMPTS", default=3)
TOOLVERDICT_PANEL_BACKOFF = env.float("TOOLVERDICT_PANEL_BACKOFF", default=2.0)
TOOLVERDICT_PERSONAS_DIR = env("TOOLVERDICT_PERSONAS_DIR", default="") or None
# Tools (slugs) the panel reviews before the rest of a queue: the seed comparison's pair.
TOOLVERDICT_PANEL_FIRST = env.list(
    "TOOLVERDICT_PANEL_FIRST", default=["claude-4-sonnet", "smolvlm-2-5"]
)
# The panel's periodic job leaves a tool whose review task finished this many seconds ago
# alone (a failing tool is not retried every minute; panel/periodic.py).
TOOLVERDICT_PANEL_RETRY_AFTER = env.float("TOOLVERDICT_PANEL_RETRY_AFTER", default=900.0)

# --- community: sign-in by emailed link, votes, rankings (docs/community.md) ----------
# django-sesame signs the one-time sign-in links; see docs/decisions.md for why.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "sesame.backends.ModelBackend",
]
SESAME_TOKEN_NAME = "sesame"  # noqa: S105 - the query parameter name, not a secret
# Seconds a sign-in link stays valid.
SESAME_MAX_AGE = env.int(_renamed("TOOLVERDICT_COMMUNITY_SIGNIN_LINK_MAX_AGE"), default=15 * 60)
SESAME_ONE_TIME = True
SESAME_INVALIDATE_ON_EMAIL_CHANGE = True
# Counted votes before a Community % is shown, and the age an account needs before its
# votes count (community/conf.py reads these in the form the code uses).
TOOLVERDICT_COMMUNITY_MIN_VOTES = env.int(_renamed("TOOLVERDICT_COMMUNITY_MIN_VOTES"), default=5)
TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = env.float(
    _renamed("TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS"), default=24.0
)
# Burst detection for editors: this many new accounts voting alike within the window.
TOOLVERDICT_COMMUNITY_BURST_WINDOW_MINUTES = env.float(
    _renamed("TOOLVERDICT_COMMUNITY_BURST_WINDOW_MINUTES"), default=60.0
)
TOOLVERDICT_COMMUNITY_BURST_MIN_ACCOUNTS = env.int(
    _renamed("TOOLVERDICT_COMMUNITY_BURST_MIN_ACCOUNTS"), default=5
)
TOOLVERDICT_COMMUNITY_BURST_NEW_ACCOUNT_DAYS = env.float(
    _renamed("TOOLVERDICT_COMMUNITY_BURST_NEW_ACCOUNT_DAYS"), default=7.0
)
# "count/seconds" fixed-window limits of core/ratelimit.py. The digest sign-up and maker
# submission limits are set per hour (TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR,
# TOOLVERDICT_SUBMISSIONS_PER_HOUR).
TOOLVERDICT_RATE_LIMITS = {
    # votes per signed-in account, and per client address (a shared office NAT gets room)
    "vote_user": env(_renamed("TOOLVERDICT_COMMUNITY_RATE_VOTE_USER"), default="30/60"),
    "vote_ip": env(_renamed("TOOLVERDICT_COMMUNITY_RATE_VOTE_IP"), default="120/60"),
    # sign-in emails requested per client address, and per address mailed (no mail bombing)
    "signin_ip": env(_renamed("TOOLVERDICT_COMMUNITY_RATE_SIGNIN_IP"), default="10/3600"),
    "signin_email": env(_renamed("TOOLVERDICT_COMMUNITY_RATE_SIGNIN_EMAIL"), default="5/3600"),
}
# 95% intervals of the head-to-head leaderboard: "sandwich" or "bootstrap", and the
# bootstrap's resamples (docs/community.md, "How sure the figures are").
TOOLVERDICT_COMMUNITY_INTERVAL_METHOD = env(
    "TOOLVERDICT_COMMUNITY_INTERVAL_METHOD", default="sandwich"
)
TOOLVERDICT_COMMUNITY_BOOTSTRAP_RESAMPLES = env.int(
    "TOOLVERDICT_COMMUNITY_BOOTSTRAP_RESAMPLES", default=1000
)

# --- ingest: feeds, submissions, the daily pipeline (docs/ingest.md) -------------------
TOOLVERDICT_INGEST_HOUR = env.int("TOOLVERDICT_INGEST_HOUR", default=6)  # UTC
TOOLVERDICT_INGEST_TIMEOUT = env.float("TOOLVERDICT_INGEST_TIMEOUT", default=10.0)
TOOLVERDICT_INGEST_MAX_BYTES = env.int("TOOLVERDICT_INGEST_MAX_BYTES", default=2_000_000)
# Feeds on loopback/private/link-local addresses are refused (SSRF); True only for tests
# or a deployment that reads feeds from its own network on purpose.
TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = env.bool(
    "TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES", default=False
)
TOOLVERDICT_INGEST_REVIEW_LIMIT = env.int("TOOLVERDICT_INGEST_REVIEW_LIMIT", default=50)
# "auto" (MiniLM when the `embeddings` extra is installed, else "ngram"), "minilm", "ngram".
TOOLVERDICT_INGEST_EMBEDDER = env("TOOLVERDICT_INGEST_EMBEDDER", default="auto")
TOOLVERDICT_INGEST_SIMILARITY = {"minilm": 0.92, "ngram": 0.88}
TOOLVERDICT_SUBMISSIONS_PER_HOUR = env.int("TOOLVERDICT_SUBMISSIONS_PER_HOUR", default=5)
# One INFO line per feed request, or per embedding model load, is noise.
LOGGING["loggers"]["httpx2"] = {"level": "WARNING"}
LOGGING["loggers"]["sentence_transformers"] = {"level": "WARNING"}

# --- source checks and open data (docs/catalog.md, docs/data.md) -----------------------
# Fetches use the ingest's address guard (TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES).
TOOLVERDICT_SOURCES_TIMEOUT = env.float("TOOLVERDICT_SOURCES_TIMEOUT", default=10.0)
TOOLVERDICT_SOURCES_MAX_BYTES = env.int("TOOLVERDICT_SOURCES_MAX_BYTES", default=5_000_000)
# Seconds from one answer to the next request to the same host, and hosts checked at once.
TOOLVERDICT_SOURCES_HOST_INTERVAL = env.float("TOOLVERDICT_SOURCES_HOST_INTERVAL", default=2.0)
TOOLVERDICT_SOURCES_CONCURRENCY = env.int("TOOLVERDICT_SOURCES_CONCURRENCY", default=4)
# A source whose last successful check is this old reads "stale".
TOOLVERDICT_SOURCES_STALE_DAYS = env.int("TOOLVERDICT_SOURCES_STALE_DAYS", default=90)
# The periodic job re-checks a source after this many days, at most this many per batch.
TOOLVERDICT_SOURCES_RECHECK_DAYS = env.int("TOOLVERDICT_SOURCES_RECHECK_DAYS", default=7)
TOOLVERDICT_SOURCES_PER_RUN = env.int("TOOLVERDICT_SOURCES_PER_RUN", default=100)
# --- enrichment from tools' own pages (docs/enrich.md) ---------------------------------
# Fetches use the ingest's address guard (TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES).
TOOLVERDICT_ENRICH_ON_ARRIVAL = env.bool("TOOLVERDICT_ENRICH_ON_ARRIVAL", default=True)
TOOLVERDICT_ENRICH_TIMEOUT = env.float("TOOLVERDICT_ENRICH_TIMEOUT", default=10.0)
TOOLVERDICT_ENRICH_MAX_BYTES = env.int("TOOLVERDICT_ENRICH_MAX_BYTES", default=2_000_000)
TOOLVERDICT_ENRICH_HOST_INTERVAL = env.float("TOOLVERDICT_ENRICH_HOST_INTERVAL", default=2.0)
TOOLVERDICT_ENRICH_MAX_PAGES = env.int("TOOLVERDICT_ENRICH_MAX_PAGES", default=5)
TOOLVERDICT_ENRICH_EVERY_DAYS = env.int("TOOLVERDICT_ENRICH_EVERY_DAYS", default=7)
TOOLVERDICT_ENRICH_PER_RUN = env.int("TOOLVERDICT_ENRICH_PER_RUN", default=20)
# The model that picks lines where the parsers read nothing (enrich/spans.py): "panel" (the
# panel's model, TOOLVERDICT_PANEL_MODEL), "off", or a model spec of its own.
TOOLVERDICT_ENRICH_SPAN_MODEL = env("TOOLVERDICT_ENRICH_SPAN_MODEL", default="panel")
# Where the open-data dumps are written and served from (/data/files/…).
TOOLVERDICT_EXPORT_DIR = _path("TOOLVERDICT_EXPORT_DIR", DATA_DIR / "export").resolve()
# Hours between two dumps written by the periodic job.
TOOLVERDICT_EXPORT_EVERY_HOURS = env.int("TOOLVERDICT_EXPORT_EVERY_HOURS", default=24)
# Dumps kept in the export directory (the newest ones).
TOOLVERDICT_EXPORT_KEEP = env.int("TOOLVERDICT_EXPORT_KEEP", default=3)
TOOLVERDICT_EXPORT_LICENSE = env(
    "TOOLVERDICT_EXPORT_LICENSE",
    default="Creative Commons Attribution 4.0 International (CC BY 4.0)",
)
TOOLVERDICT_EXPORT_LICENSE_URL = env(
    "TOOLVERDICT_EXPORT_LICENSE_URL", default="https://creativecommons.org/licenses/by/4.0/"
)

# Local overrides for a deployment that prefers a Python file to env vars.
try:  # noqa: SIM105 - a star import cannot sit inside contextlib.suppress
    from .local_settings import *  # noqa: F403
except ImportError:
    pass
# The page cache's alias was called "pages" before: a local_settings.py that still sets
# CACHES["pages"] configures the page cache, as it did, unless it also sets "pagecache"
# (docs/caching.md).
if "pages" in CACHES:
    _old_alias = CACHES.pop("pages")
    if CACHES.get("pagecache", _pagecache_default) is _pagecache_default:
        CACHES["pagecache"] = _old_alias
