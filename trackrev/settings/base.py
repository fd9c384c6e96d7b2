"""TrackRev settings: everything comes from the environment (see .env.example).

Production differs from development only by env values. Secrets have no defaults outside DEBUG.
"""

import sys

from django.utils.log import DEFAULT_LOGGING

from trackrev.env import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_missing_secrets: list[str] = []


def _secret(name: str, dev_default: str) -> str:
    """A secret: required outside DEBUG (unset or empty, it is missing), a fixed throwaway value in DEBUG."""
    value = env.str(name, default="")
    if value or DEBUG:
        return value or dev_default
    _missing_secrets.append(name)  # start-up stops once every secret was looked at (below)
    return ""


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-do-not-use-in-production-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
TRACKREV_PUBLIC_URL = env.str("TRACKREV_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Apps -----------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "trackrev.workspaces",
    "trackrev.health",
    "trackrev.outbox",
    "integrations",
    "attribution",
    "affiliates",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "trackrev.common.csp.CSPMiddleware",
]

ROOT_URLCONF = "trackrev.urls"
WSGI_APPLICATION = "trackrev.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each processor package holds its own setup steps (`<processor>/setup.html`).
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "integrations" / "processors"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trackrev.workspaces.context_processors.workspace",
            ],
            "libraries": {"formats": "trackrev.templatetags.formats"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'trackrev.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the embedded worker share the file: wait for locks instead of failing.
    # WAL lets the dashboard read while the worker writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The same database, for the webhook inbox's writer (integrations/services/inbox.py). On PostgreSQL its
# statements carry their values apart from the SQL (psycopg's server-side binding): quoting kilobytes
# of body per row into the statement cost about a third of a web process's CPU.
DATABASES["webhook_inbox"] = {
    **DATABASES["default"],
    "OPTIONS": {**DATABASES["default"].get("OPTIONS", {})},
    "TEST": {"MIRROR": "default"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["webhook_inbox"]["OPTIONS"]["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "workspaces.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18n / time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "trackrev" / "static"]  # site-wide CSS and JS
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Cache (rate limits, usage counters) ----------------------------------------------------------
# Shared by every web and worker process (usage counters, pixel rate limits): Redis in production
# (CACHE_URL=redis://…); embedded default is a file cache under var/, which needs no server.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")}
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)

# --- Email ----------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TrackRev <no-reply@trackrev.local>")

# --- Security -------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes speak plain HTTP
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if not SECURE_SSL_REDIRECT and not DEBUG:
    # The operator said TLS is terminated and redirected by a proxy in front of us.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- Field encryption (processor tokens, webhook secrets) -----------------------------------------
# Comma-separated Fernet keys, newest first; older keys stay readable until re-encrypted.
FIELD_ENCRYPTION_KEYS = env.parse_value(
    _secret("FIELD_ENCRYPTION_KEYS", "ZGV2LW9ubHktZmllbGQta2V5LTAxMjM0NTY3ODlhYmM="), list
)

# Key of the HMAC that stands in for customer emails (see trackrev/common/emails.py). Changing it
# breaks email matching with identities recorded before.
EMAIL_HASH_KEY = _secret("EMAIL_HASH_KEY", "dev-only-email-hash-key")

if _missing_secrets:
    # One line naming them, not a traceback. Status 3 is gunicorn's "worker failed to boot": its arbiter
    # stops instead of starting the worker again and again.
    print(
        f"TrackRev cannot start: {', '.join(_missing_secrets)} not set (secrets have no default outside "
        "DJANGO_DEBUG=1; see .env.example)",
        file=sys.stderr,
    )
    sys.exit(3)

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["trackrev.workspaces.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["trackrev.workspaces.permissions.HasWorkspaceApiKey"],
    "DEFAULT_PAGINATION_CLASS": "trackrev.workspaces.pagination.StandardPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["trackrev.workspaces.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "trackrev.workspaces.openapi.ApiAutoSchema",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TrackRev API",
    "DESCRIPTION": "Revenue attribution and affiliate data for your workspace. "
    "Authenticate with `Authorization: Bearer trk_…`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "integrations.models.OrderStatus"},
}

# --- Background jobs ------------------------------------------------------------------------------
# Unset broker → embedded mode: kombu's SQLAlchemy transport on one SQLite file under var/ (each
# message one committed row; see trackrev/embedded_broker.py), shared by the web processes, the worker
# and beat of one machine, so `make run` needs no server installed.
CELERY_EMBEDDED = not env.str("CELERY_BROKER_URL", default="")
CELERY_EMBEDDED_QUEUE_PATH = BASE_DIR / env.str("CELERY_EMBEDDED_QUEUE_PATH", default="var/celery.sqlite3")
CELERY_EMBEDDED_TRANSPORT = "trackrev.embedded_broker:Transport"
CELERY_EMBEDDED_TRANSPORT_OPTIONS = {
    # A worker takes its next message only at its next poll (kombu's default: every second), which held
    # the queue to ~2 messages/s: the demo's ~300 seeded conversions kept the heartbeat waiting for
    # minutes. An empty poll costs about a millisecond.
    "polling_interval": 0.1,
}
if CELERY_EMBEDDED:
    CELERY_BROKER_URL = f"sqlite:///{CELERY_EMBEDDED_QUEUE_PATH}"
    CELERY_BROKER_TRANSPORT = CELERY_EMBEDDED_TRANSPORT
    CELERY_BROKER_TRANSPORT_OPTIONS = CELERY_EMBEDDED_TRANSPORT_OPTIONS
else:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
    CELERY_BROKER_TRANSPORT = None  # named by the URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Remote control broadcasts on a fanout exchange, which the SQLAlchemy transport has not.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CELERY_EMBEDDED
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task whose broker connection is lost cannot be acknowledged any more and is delivered again: stop it
# rather than let it run on beside its redelivered copy (Celery 6's default; 5 warns until it is set).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# Upward notifications (ARCHITECTURE.md): task names told an id through the outbox (trackrev/outbox/),
# in the transaction of the change. An order id whenever the ledger changes an order:
ORDER_CONSUMERS: list[str] = ["attribution.conversion_record"]
# An order id whenever attribution changed the order's visitor match or its credits:
ATTRIBUTION_CONSUMERS: list[str] = ["affiliates.order_attribution_changed", "attribution.sale_events_emit"]
# A workspace id whenever its settings changed:
WORKSPACE_CONSUMERS: list[str] = ["attribution.workspace_settings_changed"]

# Webhook inbox rows are handed to the worker in batches gathered over this many seconds per web
# process. A publish costs about as much CPU as a whole acknowledgement, and a quarter second is
# invisible on a dashboard. See integrations/dispatch.py.
WEBHOOK_DISPATCH_BATCH_SECONDS = env.float("WEBHOOK_DISPATCH_BATCH_SECONDS", default=0.25)
# Request threads of a web process commit their inbox rows together, one commit per batch, each still
# answered only after its row is on disk. See integrations/services/inbox.py.
WEBHOOK_GROUP_COMMIT = env.bool("WEBHOOK_GROUP_COMMIT", default=True)
# Processed and ignored deliveries are deleted from the inbox after this many days (a daily job).
WEBHOOK_INBOX_RETENTION_DAYS = env.int("WEBHOOK_INBOX_RETENTION_DAYS", default=30)

# Hosts (`host` or `host:port`) a connection's API base URL may name outside DEBUG besides the
# processor's own production and sandbox APIs: local fakes, tests, a proxy. http is allowed for these.
# See integrations/processors/api_urls.py.
PROCESSOR_API_HOSTS = env.list("PROCESSOR_API_HOSTS", default=[])

# Networks (CIDR) that requests to a tenant's URL (outbound webhooks) may reach although internal, e.g. a
# receiver on the operator's own private network. Empty: only public addresses. See trackrev/common/outbound.py.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])

# --- Affiliate payouts ------------------------------------------------------------------------------
# The operator's Stripe account, acting as the platform: a month's Stripe payouts of a workspace become
# one invoice to it, and once it is paid, one Connect transfer per partner. Unset: no Stripe method.
STRIPE_PAYOUTS_API_KEY = env.str("STRIPE_PAYOUTS_API_KEY", default="")
STRIPE_PAYOUTS_API_URL = env.str("STRIPE_PAYOUTS_API_URL", default="https://api.stripe.com")

# --- TrackRev's own billing -------------------------------------------------------------------------
# The operator's Stripe account selling Pro to workspaces (trackrev/workspaces/billing/): the secret key,
# the webhook endpoint's signing secret (for /billing/stripe/webhook/) and the Pro plan's recurring
# price. Without the key and price no upgrade button is shown and staff set plans in the admin.
BILLING_STRIPE_API_KEY = env.str("BILLING_STRIPE_API_KEY", default="")
BILLING_STRIPE_WEBHOOK_SECRET = env.str("BILLING_STRIPE_WEBHOOK_SECRET", default="")
BILLING_STRIPE_PRO_PRICE = env.str("BILLING_STRIPE_PRO_PRICE", default="")

# --- Pixel ---------------------------------------------------------------------------------------
PIXEL_RATE_LIMIT_PER_MINUTE = env.int("PIXEL_RATE_LIMIT_PER_MINUTE", default=600)  # per client IP and workspace
# Proxies in front of the web process that append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Dotted path of `(*, workspace_id, code) -> partner name | None`, so `via`/`ref` of a known
# partner makes an Affiliates touch without attribution importing the app that owns partners.
PARTNER_RESOLVER = "affiliates.selectors.resolvers.partner_name_for_code"
# Dotted path of `(*, workspace_id, order_ids) -> {order_id: {...}}`: the partner credited for each order,
# shown beside the marketing credits on the order page and in the orders API.
ORDER_PARTNER_RESOLVER = "affiliates.selectors.resolvers.order_partners"
# A workspace id after its touches were re-classified:
CHANNEL_RULES_CONSUMERS: list[str] = ["attribution.channel_rules_applied"]

# Functions `(*, workspace)` that add each app's demo data to the `seed_demo` workspace.
DEMO_SEEDERS: list[str] = [
    "integrations.demo.fx_seed",
    "affiliates.demo.seed_demo_program",  # before the traffic: `via=alice` landings are then partner touches
    "attribution.demo.seed_demo_month",
    "affiliates.demo.seed_demo_payouts",
]

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": DEFAULT_LOGGING["formatters"]["django.server"],
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": DEFAULT_LOGGING["handlers"]["django.server"],
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default gives its logger a console handler of its own in DEBUG (and one mailing ADMINS,
        # of whom there are none): each warning was printed twice, bare and then by the root's handler (in
        # a worker, Celery's), which alone prints them now.
        "django": {"handlers": []},
        # Reset with its parent: runserver's request lines, as Django prints them.
        "django.server": DEFAULT_LOGGING["loggers"]["django.server"],
    },
}
