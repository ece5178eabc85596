"""Settings, read from the environment. Every variable is listed in the README."""

import os
from pathlib import Path

import dj_database_url
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
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
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
        # Measured in FIELD-NOTES: no 'database is locked' under concurrent writers.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
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
# The desk's own files and the browser libraries it uses, committed (see static/vendor/README.md).
STATICFILES_DIRS = [BASE_DIR / "static"]

# The agent desk (conversations/desk.py) is where people log in; the admin has its own login.
LOGIN_URL = "agent-login"

# Email: console output by default, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
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
CHAT_CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["*"])
# The same origins may call the customer REST endpoints (init, transcripts) from a widget
# embedded on their pages (django-cors-headers); the agent API and admin stay same-origin.
CORS_URLS_REGEX = r"^/api/customer/.*$"
CORS_ALLOW_ALL_ORIGINS = CHAT_CORS_ALLOWED_ORIGINS == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else CHAT_CORS_ALLOWED_ORIGINS
CHAT_MAX_TEXT_LENGTH = env_int("CHAT_MAX_TEXT_LENGTH", 10_000)
CHAT_MAX_ATTACHMENTS = env_int("CHAT_MAX_ATTACHMENTS", 10)
CHAT_MAX_PAYLOAD_BYTES = env_int("CHAT_MAX_PAYLOAD_BYTES", 1_000_000)
CHAT_HISTORY_LIMIT = env_int("CHAT_HISTORY_LIMIT", 500)
CHAT_GREETING = env_str("CHAT_GREETING", "Welcome! An agent will be with you shortly.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint warns for each resource it refuses to fetch; that is by design.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}
CHAT_SITE_NAME = env_str("CHAT_SITE_NAME", "Customer chat")

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
