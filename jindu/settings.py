"""Django settings for jindu.

Everything an operator may change comes from the environment (see docs/operations.md):
DATABASE_URL, JINDU_SECRET_KEY, JINDU_DEBUG, JINDU_ALLOWED_HOSTS, JINDU_DATA_DIR.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("JINDU_DATA_DIR", BASE_DIR / "data"))


def _secret_key() -> str:
    """JINDU_SECRET_KEY, or a key generated once into data/ for a single-machine install."""
    key = os.environ.get("JINDU_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("JINDU_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("JINDU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
# Production deployments sit behind TLS; the demo on 127.0.0.1 does not.
JINDU_SECURE = os.environ.get("JINDU_SECURE", "") == "1"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "core",
    "jurisdictions",
    "accounts",
    "persons",
    "monitoring",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.AccountPolicyMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "jindu.urls"
WSGI_APPLICATION = "jindu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "jindu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]


DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'jindu.sqlite3'}"),
        conn_max_age=int(os.environ.get("JINDU_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The database file is made readable by its owner only before SQLite opens it (SQLite gives
    # its -wal and -shm files the same mode); core.apps narrows an older file's mode.
    _sqlite_file = Path(DATABASES["default"]["NAME"])
    if str(_sqlite_file) != ":memory:" and not _sqlite_file.exists():
        _sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(_sqlite_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # WAL lets the web server and the task worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    # A covering index (INCLUDE) is a plain index on SQLite; PostgreSQL, the production
    # database, gets the included columns. Nothing to warn the demo's user about.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL: the server binds the parameters (psycopg does not quote them into the SQL:
    # about 1 ms less Python on a person page at 100,000 persons). Statements are not prepared:
    # a prepared statement falls back to a generic plan, which cannot see an area's path prefix
    # or its size (the province dashboard took 2.1 s instead of 0.75 s once a county's
    # dashboard had prepared the same statements on the connection), and forcing custom plans
    # re-plans every foreign-key check (a 100,000-row import's commit 1.2 → 4.0 s).
    # jindu.postgresql keeps Django's statements within the protocol's 65,535 parameters.
    # plan_cache_mode stays "auto": forcing generic plans (so that a social worker's prepared
    # scoped read would not be planned again on every page) applies to the unnamed statement
    # of every server-bound query too, not only to prepared ones: the province dashboard's page
    # data took 2.7 s instead of 0.8 s.
    DATABASES["default"]["ENGINE"] = "jindu.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": None})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UserBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.PolicyPasswordValidator"},
    {"NAME": "accounts.validators.UsernamePasswordValidator"},
    {"NAME": "accounts.validators.PasswordHistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "jindu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "jindu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = JINDU_SECURE
CSRF_COOKIE_SECURE = JINDU_SECURE
SECURE_SSL_REDIRECT = JINDU_SECURE
SECURE_HSTS_SECONDS = 31536000 if JINDU_SECURE else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 30 * 60  # idle time-out: accounts.middleware renews it, at most once a minute
SESSION_SAVE_EVERY_REQUEST = False
# Sessions in the database, read through a cache that every process on the machine shares
# (files under the data directory): a logout or a new session key seen by one gunicorn process
# is seen by the others, which a per-process memory cache would not do.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "sessions": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                 "LOCATION": DATA_DIR / "cache" / "sessions", "OPTIONS": {"MAX_ENTRIES": 20000}},
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("JINDU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Audit log retention (days); never below 183 (six months, 等保 2.0), three years by default.
JINDU_AUDIT_RETENTION_DAYS = int(os.environ.get("JINDU_AUDIT_RETENTION_DAYS", str(3 * 365)))
# Reverse proxies (nginx) whose X-Forwarded-For / X-Real-IP give the client's address
# (core.middleware.client_ip); none by default: REMOTE_ADDR is the client.
JINDU_TRUSTED_PROXIES = frozenset(
    str(ipaddress.ip_address(address.strip()))
    for address in os.environ.get("JINDU_TRUSTED_PROXIES", "").split(",") if address.strip())
# An address is locked only when its failed logins in the lock-out window reach the policy's
# per-address count AND name at least this many different usernames (unknown names included):
# one user's mistakes lock that account only, not everybody behind the office's one address.
JINDU_ADDRESS_LOCK_NAMES = int(os.environ.get("JINDU_ADDRESS_LOCK_NAMES", "3"))
# Signed checkpoints of the audit chain's head, written daily (core.audit_checkpoints): keep
# them, or copies of them, where the database's administrator cannot write.
JINDU_AUDIT_DIR = Path(os.environ.get("JINDU_AUDIT_DIR", DATA_DIR / "audit"))
# Days a member unit still sees the person of a closed support task (persons.support).
JINDU_SUPPORT_TASK_ACCESS_DAYS = int(os.environ.get("JINDU_SUPPORT_TASK_ACCESS_DAYS", "30"))
# What reading one uploaded table may take (core.table_reader; docs/operations.md): its used
# range, its parts unzipped, and the reading child's memory (beyond what it starts with) and CPU time.
JINDU_IMPORT_MAX_ROWS = int(os.environ.get("JINDU_IMPORT_MAX_ROWS", "200000"))
JINDU_IMPORT_MAX_COLUMNS = int(os.environ.get("JINDU_IMPORT_MAX_COLUMNS", "200"))
JINDU_IMPORT_MAX_CELLS = int(os.environ.get("JINDU_IMPORT_MAX_CELLS", "5000000"))
JINDU_IMPORT_MAX_UNZIPPED_MB = int(os.environ.get("JINDU_IMPORT_MAX_UNZIPPED_MB", "500"))
JINDU_IMPORT_MEMORY_MB = int(os.environ.get("JINDU_IMPORT_MEMORY_MB", "1024"))
JINDU_IMPORT_READ_SECONDS = int(os.environ.get("JINDU_IMPORT_READ_SECONDS", "300"))
# Daily sweep time (Asia/Shanghai, HH:MM), enqueued by `jindu serve`.
JINDU_SWEEP_AT = os.environ.get("JINDU_SWEEP_AT", "02:30")
# Break-glass (core.services.do_break_glass): how long a grant lasts, and how many a user holds at once.
JINDU_BREAK_GLASS_HOURS = int(os.environ.get("JINDU_BREAK_GLASS_HOURS", "4"))
JINDU_BREAK_GLASS_MAX_ACTIVE = int(os.environ.get("JINDU_BREAK_GLASS_MAX_ACTIVE", "3"))

# The most rows one page of a list (or of the API) holds, whatever the request asks: more at
# once is an export (audited as such).
JINDU_MAX_PAGE_SIZE = int(os.environ.get("JINDU_MAX_PAGE_SIZE", "100"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # JSON only (issue 20): DRF's browsable pages are English developer pages; a person reads
    # the same data in the application's own Chinese pages, a program reads JSON.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jindu API",
    "DESCRIPTION": "禁毒工作综合管理平台 REST API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Ours last: drf-spectacular's enum hook builds the components again, without ours.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "core.api.document_errors_and_parameters"],
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
# The empty choice of a filter means "no filter", not "unknown".
FILTERS_EMPTY_CHOICE_LABEL = _("All")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JINDU_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if os.environ.get("JINDU_TESTING") == "1":
    # Tests only: a fast hasher and static files served from the source tree without a manifest.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
