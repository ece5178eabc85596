"""Settings, read from the environment. Every variable is listed in the README."""

import os
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CHAT_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no setting; a value that is neither (a typo) stops the server instead of meaning no."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={value!r}: say one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}")
    return word in TRUE_WORDS


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    if key := env_str("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind TLS: cookies only over https, HSTS, and plain http redirected (docs/security.md).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    # Not "daphne": as an app it builds its event loop at django.setup(), before `serve` can
    # choose uvloop (measured: p99 at 500 msgs/s 74.6 ms on asyncio, 17.5 ms on uvloop).
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "ninja",
    "chatserver",
    "conversations",
    "agents",
    "routing",
    "connectors",
    "home",
    "widget",
    "callbacks",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "widget.middleware.RefuseForeignOrigins",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatserver.urls"
ASGI_APPLICATION = "chatserver.asgi.application"

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


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'chat.sqlite3'}"
    db = dj_database_url.parse(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Measured on this stack: 0 'database is locked' errors under concurrent writers with these,
        # 157 to 800 without.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        db["ENGINE"] = "chatserver.sqlite"  # its writers queue in the process (chatserver/sqlite/base.py)
        db["CONN_MAX_AGE"] = None
        db["TEST"] = {"NAME": env_str("SQLITE_TEST_NAME", str(VAR_DIR / "test.sqlite3"))}
    elif db["ENGINE"] == "django.db.backends.postgresql":
        # The built-in pool; connections go back to it after each unit of work.
        db["OPTIONS"] = {"pool": {"min_size": 1, "max_size": env_int("DATABASE_POOL_SIZE", 10)}}
        db["CONN_MAX_AGE"] = 0
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Names this deployment in Redis (the Socket.IO channel, cache keys) so that several can share one.
CHAT_INSTANCE = env_str("CHAT_INSTANCE", "chatserver")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # The layer's receive blocks up to 5 s (BZPOPMIN); redis-py 8 times sockets out after
            # 5 s by default, which would kill every waiting receive.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": f"{CHAT_INSTANCE}:channels"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Kept files (rendered transcripts) through Django's storage: var/media by default.
MEDIA_ROOT = VAR_DIR / "media"
# The desk's own files and the browser libraries it uses, committed (see static/vendor/README.md).
STATICFILES_DIRS = [BASE_DIR / "static"]

# The agent desk (agents/desk.py) is where people log in; the admin has its own login.
LOGIN_URL = "agent-login"

# Email: SMTP when EMAIL_HOST is set, else one .eml file per message in var/outbox/ (chatserver/mail.py).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "chatserver.mail.OutboxBackend",
)
CHAT_OUTBOX_DIR = Path(env_str("CHAT_OUTBOX_DIR") or VAR_DIR / "outbox")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "chat@localhost")

# The chat server itself.
CHAT_PORT = env_int("PORT", 8080)
CHAT_HOST = env_str("HOST", "127.0.0.1")
# Pages of these origins (and of the widget sites in admin, and the server's own) may open
# Socket.IO connections and call the customer REST endpoints; none by default (widget/origins.py).
CHAT_CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
# django-cors-headers answers them on /api/customer/* only; the agent API and admin stay same-origin.
CORS_URLS_REGEX = r"^/api/customer/.*$"
CORS_ALLOW_ALL_ORIGINS = CHAT_CORS_ALLOWED_ORIGINS == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else CHAT_CORS_ALLOWED_ORIGINS
# The web widget reads and cancels its callback with this header (docs/callbacks.md).
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-callback-key")
CHAT_MAX_TEXT_LENGTH = env_int("CHAT_MAX_TEXT_LENGTH", 10_000)
# The largest conversation accepted (then CONVERSATION_FULL), which bounds its transcript PDF
# (docs/security.md): chat messages and attachments, and the characters a transcript prints.
CHAT_MAX_MESSAGES_PER_CONVERSATION = env_int("CHAT_MAX_MESSAGES_PER_CONVERSATION", 1_000)
CHAT_MAX_CONVERSATION_TEXT = env_int("CHAT_MAX_CONVERSATION_TEXT", 150_000)
CHAT_MAX_ATTACHMENTS = env_int("CHAT_MAX_ATTACHMENTS", 10)
CHAT_MAX_PAYLOAD_BYTES = env_int("CHAT_MAX_PAYLOAD_BYTES", 1_000_000)
CHAT_HISTORY_LIMIT = env_int("CHAT_HISTORY_LIMIT", 500)
# Empty: the greeting of widget/catalogue.json in the conversation's language.
CHAT_GREETING = env_str("CHAT_GREETING", "")
# Attachments (widget/attachments.py), stored through Django's storage API (STORAGES).
CHAT_ATTACHMENT_MAX_BYTES = env_int("CHAT_ATTACHMENT_MAX_BYTES", 10_000_000)
CHAT_ATTACHMENT_TYPES = env_list(
    "CHAT_ATTACHMENT_TYPES", ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"]
)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Hardening (docs/security.md): what one client may cost the others.
CHAT_MAX_OUTGOING_BYTES = env_int("CHAT_MAX_OUTGOING_BYTES", 1_000_000)
CHAT_MAX_OUTGOING_PACKETS = env_int("CHAT_MAX_OUTGOING_PACKETS", 500)
CHAT_MALFORMED_PACKET_LIMIT = env_int("CHAT_MALFORMED_PACKET_LIMIT", 20)
CHAT_MAX_LIST_ITEMS = env_int("CHAT_MAX_LIST_ITEMS", 100)
CHAT_MAX_PAYLOAD_NODES = env_int("CHAT_MAX_PAYLOAD_NODES", 5_000)
CHAT_REDIS_RETRY = float(env_str("CHAT_REDIS_RETRY", "1.0"))
CHAT_TRANSCRIPT_RENDERS = env_int("CHAT_TRANSCRIPT_RENDERS", 1)
CHAT_TRANSCRIPT_RENDER_WAIT = env_int("CHAT_TRANSCRIPT_RENDER_WAIT", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secrets stay out of logs: sids, query values and transcript ids are redacted (chatserver/accesslog.py).
    "filters": {"redact": {"()": "chatserver.accesslog.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint warns for each resource it refuses to fetch; that is by design.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # The twilio library logs every request's headers at INFO.
        "twilio.http_client": {"level": "WARNING"},
    },
}
CHAT_SITE_NAME = env_str("CHAT_SITE_NAME", "Customer chat")
# A conversation whose customer never joins is closed as abandoned after this long (0: never).
CHAT_ABANDONED_AFTER = env_int("CHAT_ABANDONED_AFTER", 600)
CHAT_TRANSCRIPT_EMAILS_PER_HOUR = env_int("CHAT_TRANSCRIPT_EMAILS_PER_HOUR", 3)
CHAT_TRANSCRIPT_EMAILS_PER_ADDRESS_PER_HOUR = env_int("CHAT_TRANSCRIPT_EMAILS_PER_ADDRESS_PER_HOUR", 5)
# A local image file (path, or file: URL) for transcript headers; the PDF renderer fetches nothing.
CHAT_SITE_LOGO = env_str("CHAT_SITE_LOGO")

# Agents and routing.
CHAT_DEFAULT_QUEUE = env_str("CHAT_DEFAULT_QUEUE", "default")
CHAT_OFFER_TIMEOUT = env_int("CHAT_OFFER_TIMEOUT", 20)
CHAT_QUEUE_MAX_WAIT = env_int("CHAT_QUEUE_MAX_WAIT", 0)
CHAT_REOFFER_AFTER = env_int("CHAT_REOFFER_AFTER", 60)
CHAT_AGENT_GRACE = env_int("CHAT_AGENT_GRACE", 60)
CHAT_AGENT_TOKEN_TTL = env_int("CHAT_AGENT_TOKEN_TTL", 12 * 3600)
CHAT_LOGIN_MAX_FAILURES = env_int("CHAT_LOGIN_MAX_FAILURES", 5)
CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
CHAT_LOGIN_WINDOW = env_int("CHAT_LOGIN_WINDOW", 300)
# Web callbacks (callbacks/, docs/callbacks.md).
CHAT_PHONE_REGION = env_str("CHAT_PHONE_REGION", "US")
CHAT_CALLBACK_SLOT_MINUTES = env_int("CHAT_CALLBACK_SLOT_MINUTES", 30)
CHAT_CALLBACK_MAX_DAYS_AHEAD = env_int("CHAT_CALLBACK_MAX_DAYS_AHEAD", 60)
CHAT_CALLBACK_MAX_PER_ADDRESS = env_int("CHAT_CALLBACK_MAX_PER_ADDRESS", 10)
CHAT_CALLBACK_ADDRESS_WINDOW = env_int("CHAT_CALLBACK_ADDRESS_WINDOW", 3600)
CHAT_CALLBACK_MAX_PER_PHONE = env_int("CHAT_CALLBACK_MAX_PER_PHONE", 3)
CHAT_CALLBACK_PHONE_WINDOW = env_int("CHAT_CALLBACK_PHONE_WINDOW", 86400)

CHAT_LOGIN_SLOW_AFTER = env_int("CHAT_LOGIN_SLOW_AFTER", 100)
CHAT_LOGIN_MAX_DELAY = env_int("CHAT_LOGIN_MAX_DELAY", 30)
CHAT_LOGIN_USUAL_ADDRESS_DAYS = env_int("CHAT_LOGIN_USUAL_ADDRESS_DAYS", 30)
CHAT_SWEEP_INTERVAL = float(env_str("CHAT_SWEEP_INTERVAL", "1.0"))
CHAT_CONNECTION_STALE = env_int("CHAT_CONNECTION_STALE", 30)
# Performance (bench/README.md): database threads for the message path on PostgreSQL (SQLite
# has one), and the events a process takes on at once before it answers BUSY.
CHAT_DB_LANES = env_int("CHAT_DB_LANES", 4)
CHAT_MAX_IN_FLIGHT = env_int("CHAT_MAX_IN_FLIGHT", 1000)
CHAT_BUSY_RETRY_MS = env_int("CHAT_BUSY_RETRY_MS", 200)

# Background work (chatserver/worker.py): in each server process by default; with Redis it can
# run apart (`manage.py worker`), CHAT_WORKER_IN_PROCESS=false in the servers.
CHAT_WORKER_IN_PROCESS = env_bool("CHAT_WORKER_IN_PROCESS", True)
CHAT_WORKER_POLL = float(env_str("CHAT_WORKER_POLL", "5"))
CHAT_WORKER_THREADS = env_int("CHAT_WORKER_THREADS", 2)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHAT_INSTANCE,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Take the client address from X-Forwarded-For: only behind a proxy that sets it.
CHAT_TRUST_PROXY_HEADERS = env_bool("TRUST_PROXY_HEADERS", False)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Tests only: a fast password hash so that creating and logging in agents costs nothing.
if env_bool("CHAT_INSECURE_FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Connectors (connectors/, docs/connectors.md): outbound delivery, the campaign API, Twilio SMS.
# The server's address as the outside world (Twilio) reaches it, e.g. https://chat.example.com:
# webhook signatures are checked against it, and status callback and media URLs are built on it.
CHAT_PUBLIC_URL = env_str("CHAT_PUBLIC_URL").rstrip("/")
MEDIA_ROOT = VAR_DIR / "media"
CHAT_MEDIA_URL_TTL = env_int("CHAT_MEDIA_URL_TTL", 24 * 3600)
CHAT_CONNECTOR_ACK_TIMEOUT = float(env_str("CHAT_CONNECTOR_ACK_TIMEOUT", "10"))
CHAT_CONNECTOR_RETRY_BASE = float(env_str("CHAT_CONNECTOR_RETRY_BASE", "10"))
CHAT_CONNECTOR_MAX_ATTEMPTS = env_int("CHAT_CONNECTOR_MAX_ATTEMPTS", 8)
CHAT_CAMPAIGN_RATE_LIMIT = env_int("CHAT_CAMPAIGN_RATE_LIMIT", 60)
CHAT_CAMPAIGN_RATE_WINDOW = env_int("CHAT_CAMPAIGN_RATE_WINDOW", 60)
CHAT_CAMPAIGN_REPLY_WINDOW = env_int("CHAT_CAMPAIGN_REPLY_WINDOW", 7 * 24 * 3600)
CHAT_PHONE_DEFAULT_REGION = env_str("CHAT_PHONE_DEFAULT_REGION", "US")
CHAT_IDLE_END_CHANNELS = env_list("CHAT_IDLE_END_CHANNELS", ["sms"])
CHAT_IDLE_END_AFTER = env_int("CHAT_IDLE_END_AFTER", 24 * 3600)
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
TWILIO_HELP_TEXT = env_str("TWILIO_HELP_TEXT", "Reply to chat with us. Reply STOP to stop messages, START to resume.")
TWILIO_MAX_MEDIA_BYTES = env_int("TWILIO_MAX_MEDIA_BYTES", 5_000_000)
