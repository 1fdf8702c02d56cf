"""Configuration classes, read from the environment.

`TRACKER_CONFIG` picks one: `development` (the embedded default), `production`, `testing` or
`benchmark`. Every setting is listed in README.md § Configuration.

Production refuses to start with weak settings (`ProductionConfig.validate`); the benchmark
configuration is production-like but refuses anything that could reach real people.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("TRACKER_INSTANCE_DIR", BASE_DIR / "instance"))

# Secret keys that have appeared in examples and must never protect real sessions.
KNOWN_WEAK_SECRETS = {"", "dev", "development", "secret", "changeme", "change-me", "test", "testing"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: str | None) -> str | None: ...


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = env(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env(name)
    if value is None:
        return list(default or [])
    return [part.strip() for part in value.split(",") if part.strip()]


def _persistent_dev_secret() -> str:
    """A random key kept in instance/, so development sessions survive a restart."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Config:
    NAME = "base"

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # Parameters stay out of database errors' messages: they would carry callers' and patients' names and
    # numbers into the logs (docs/architecture.md#logs-and-metrics).
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # SQLite waits this long for the write lock instead of failing with "database is locked".
    SQLITE_BUSY_TIMEOUT_MS = env_int("SQLITE_BUSY_TIMEOUT_MS", 10_000)

    # The file holding the key that signs exact monthly reports (services/reports/report_signing.py); none: no
    # signed copies. Outside the database, so a database backup never carries it.
    REPORT_SIGNING_KEY_FILE = env("REPORT_SIGNING_KEY_FILE")

    # Where links in clinician alerts point, and (later) what Twilio signs.
    PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    TRUSTED_HOSTS = env_list("TRUSTED_HOSTS") or None
    PROXY_HOPS = env_int("PROXY_HOPS", 0)

    # Request size: a whole concern in four-byte characters fits many times over.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    MAX_FORM_PARTS = 100

    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    DEVICE_COOKIE_NAME = "mr_device"
    KNOWN_DEVICE_COOKIE_NAME = "mr_known_device"
    ENROLMENT_COOKIE_NAME = "mr_enrolment"  # an enrolled display or ward tablet (services/setup/devices.py)
    CONFIRMATION_COOKIE_NAME = "mr_sent"  # a family's own browser: its confirmations of the last 24 hours
    # Production enrols no display or tablet until the trust has set the address ranges they must be on.
    DEVICE_ADDRESS_RANGES_REQUIRED = False
    # Older keys still accepted for sessions, known devices and sealed saved forms
    # while a new SECRET_KEY takes over (comma-separated).
    SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
    WTF_CSRF_TIME_LIMIT = env_int("WTF_CSRF_TIME_LIMIT", 3600)
    # Our messages are our own (marked for Flask-Babel); WTForms' built-in ones are never shown,
    # so skip loading its translations on every request.
    WTF_I18N_ENABLED = False
    HSTS = False

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/London"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "tracker" / "translations")

    # Abuse controls (docs/architecture.md#security). They never refuse a concern: past a limit, texts to the
    # caller are held back, alert repeats are coalesced, and the concern is flagged for staff.
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_ENABLED = True
    DEVICE_CONCERN_LIMIT = env("DEVICE_CONCERN_LIMIT", "3 per 10 minutes")
    ADDRESS_CONCERN_LIMIT = env("ADDRESS_CONCERN_LIMIT", "30 per 10 minutes")
    FAMILY_SMS_BUDGET = env("FAMILY_SMS_BUDGET", "60 per hour")
    REPEAT_MERGE_MINUTES = env_int("REPEAT_MERGE_MINUTES", 30)

    # Kiosk mode on ward tablets: the confirmation clears after this long; a half-filled form
    # left alone warns after KIOSK_IDLE_SECONDS and clears KIOSK_WARNING_SECONDS later.
    KIOSK_CONFIRMATION_SECONDS = env_int("KIOSK_CONFIRMATION_SECONDS", 60)
    KIOSK_IDLE_SECONDS = env_int("KIOSK_IDLE_SECONDS", 180)
    KIOSK_WARNING_SECONDS = env_int("KIOSK_WARNING_SECONDS", 30)

    # SMS and the worker.
    SMS_BACKEND = env("SMS_BACKEND", "console")
    SMS_CONSOLE_LOG = env("SMS_CONSOLE_LOG")
    # With the backoff's 5-minute cap, 20 attempts keep trying for 30 to 60 minutes, so a provider
    # outage of that length loses no text (8 gave up after 2 to 4 minutes).
    SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 20)
    SMS_RETRY_BASE_SECONDS = env_float("SMS_RETRY_BASE_SECONDS", 2.0)
    SMS_RETRY_CAP_SECONDS = env_float("SMS_RETRY_CAP_SECONDS", 300.0)
    SMS_LEASE_SECONDS = env_int("SMS_LEASE_SECONDS", 60)
    WORKER_POLL_SECONDS = env_float("WORKER_POLL_SECONDS", 0.1)
    WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 10.0)
    WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 60)
    # The trust's monitoring: the worker calls this URL every HEARTBEAT_URL_SECONDS while it runs.
    HEARTBEAT_URL = env("HEARTBEAT_URL")
    HEARTBEAT_URL_SECONDS = env_float("HEARTBEAT_URL_SECONDS", 60.0)
    TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
    TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID")
    # Voice calls need a number (a Messaging Service cannot call); TWILIO_FROM_NUMBER otherwise.
    TWILIO_VOICE_FROM_NUMBER = env("TWILIO_VOICE_FROM_NUMBER")
    TWILIO_VALIDITY_SECONDS = env_int("TWILIO_VALIDITY_SECONDS", 600)  # a stale text is never sent late
    TWILIO_RING_SECONDS = env_int("TWILIO_RING_SECONDS", 30)
    TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 10.0)
    TWILIO_API_BASE = env("TWILIO_API_BASE")  # tests and demos only: a Twilio mock such as Prism

    # What a page says when the database cannot be reached to look up the ward's team.
    FALLBACK_PHONE = env("FALLBACK_PHONE", "the hospital switchboard")
    FALLBACK_EMERGENCY_INSTRUCTION = env(
        "FALLBACK_EMERGENCY_INSTRUCTION",
        "If the patient is suddenly very unwell, press the emergency buzzer or ask any nurse now.",
    )

    # Sign-on with the trust's own accounts (OpenID Connect, docs/architecture.md#sign-on). Off unless OIDC_ISSUER
    # is set. For Microsoft Entra ID the issuer is https://login.microsoftonline.com/<tenant id>/v2.0 and
    # OIDC_TENANT_ID the tenant allowed in: accounts are then matched by the tenant and the token's `oid`.
    OIDC_ISSUER = env("OIDC_ISSUER")
    OIDC_CLIENT_ID = env("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET")
    OIDC_TENANT_ID = env("OIDC_TENANT_ID")
    # The provider itself enforces multi-factor sign-in (a Conditional Access policy): managers and
    # administrators then need no code from the tracker's own authenticator after signing on.
    OIDC_MFA_ASSURED = env_bool("OIDC_MFA_ASSURED", False)
    # Whom a person whose trust account is not linked should ask (the refusal names them).
    OIDC_HELP_CONTACT = env("OIDC_HELP_CONTACT")
    OIDC_TIMEOUT_SECONDS = env_float("OIDC_TIMEOUT_SECONDS", 10.0)

    # Password hashing (argon2id, docs/architecture.md#security): p=1 and 19–46 MiB.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_KIB = 19 * 1024
    ARGON2_PARALLELISM = 1

    ALLOW_DEMO_SEED = True

    # Logs and metrics (docs/architecture.md#logs-and-metrics): json (one object a line, for the log
    # collector) or text (for people); production and the benchmark default to json.
    LOG_FORMAT = env("LOG_FORMAT", "text")
    LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
    # The scraper's `Authorization: Bearer` token for /metrics; without it only a signed-in administrator sees them.
    METRICS_TOKEN = env("METRICS_TOKEN")

    @classmethod
    def validate(cls) -> None:
        """Raise ConfigError when the settings are unsafe for this kind of deployment."""
        problems = cls._observability_problems()
        if problems:
            raise ConfigError(f"Refusing to start with the {cls.NAME} configuration: " + "; ".join(problems))

    @classmethod
    def _observability_problems(cls) -> list[str]:
        problems = []
        if cls.LOG_FORMAT not in {"json", "text"}:
            problems.append(f"LOG_FORMAT must be json or text, not {cls.LOG_FORMAT!r}")
        if cls.LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {cls.LOG_LEVEL!r}")
        if cls.METRICS_TOKEN is not None and len(cls.METRICS_TOKEN) < 32:
            problems.append("METRICS_TOKEN must be a random value of at least 32 characters (or unset)")
        return problems


class DevelopmentConfig(Config):
    """The embedded default: SQLite (WAL) under instance/, texts printed to the console."""

    NAME = "development"
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL") or sqlite_url(INSTANCE_DIR / "tracker.db")
    SMS_CONSOLE_LOG = env("SMS_CONSOLE_LOG", str(INSTANCE_DIR / "sms-console.jsonl"))

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = env("SECRET_KEY") or _persistent_dev_secret()


class ProductionConfig(Config):
    NAME = "production"
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    DEVICE_COOKIE_NAME = "__Host-mr_device"
    KNOWN_DEVICE_COOKIE_NAME = "__Host-mr_known_device"
    ENROLMENT_COOKIE_NAME = "__Host-mr_enrolment"
    CONFIRMATION_COOKIE_NAME = "__Host-mr_sent"
    DEVICE_ADDRESS_RANGES_REQUIRED = True
    HSTS = True
    SMS_BACKEND = env("SMS_BACKEND", "twilio")
    ALLOW_DEMO_SEED = False
    LOG_FORMAT = env("LOG_FORMAT", "json")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 1800, "hide_parameters": True}

    @classmethod
    def load_secret(cls) -> None:
        cls.SECRET_KEY = env("SECRET_KEY")

    @classmethod
    def validate(cls) -> None:
        problems = []
        key = cls.SECRET_KEY or ""
        if key.lower() in KNOWN_WEAK_SECRETS or len(key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        url = cls.SQLALCHEMY_DATABASE_URI or ""
        if not url:
            problems.append("DATABASE_URL must be set (PostgreSQL)")
        elif url.startswith("sqlite") and not cls._allows_sqlite():
            problems.append("DATABASE_URL must point at PostgreSQL; SQLite is for development only")
        problems += cls._sms_problems()
        problems += cls._url_problems()
        problems += cls._sign_on_problems()
        problems += cls._observability_problems()
        if env("TRACKER_TEST_CLOCK_FILE"):  # read now, as tracker.clock reads it on every call
            problems.append("TRACKER_TEST_CLOCK_FILE is for tests only (it moves the clock): unset it")
        if problems:
            raise ConfigError(f"Refusing to start with the {cls.NAME} configuration: " + "; ".join(problems))

    @classmethod
    def _allows_sqlite(cls) -> bool:
        return False

    @classmethod
    def _sms_problems(cls) -> list[str]:
        if cls.SMS_BACKEND != "twilio":
            return ["SMS_BACKEND must be twilio in production"]
        missing = [n for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not getattr(cls, n)]
        if not (cls.TWILIO_FROM_NUMBER or cls.TWILIO_MESSAGING_SERVICE_SID):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        elif not (cls.TWILIO_FROM_NUMBER or cls.TWILIO_VOICE_FROM_NUMBER):
            missing.append("TWILIO_VOICE_FROM_NUMBER (a Messaging Service cannot place voice calls)")
        problems = [f"{name} must be set" for name in missing]
        if cls.TWILIO_API_BASE:
            problems.append("TWILIO_API_BASE is for tests and demos only: unset it in production")
        return problems

    @classmethod
    def _url_problems(cls) -> list[str]:
        problems = []
        if urlsplit(cls.PUBLIC_BASE_URL or "").scheme != "https":
            problems.append("PUBLIC_BASE_URL must be the https:// address the public uses")
        if not cls.TRUSTED_HOSTS:
            problems.append("TRUSTED_HOSTS must list the host names the app answers to")
        if cls.HEARTBEAT_URL and urlsplit(cls.HEARTBEAT_URL).scheme not in ("http", "https"):
            problems.append("HEARTBEAT_URL must be an http:// or https:// address")
        return problems

    @classmethod
    def _sign_on_problems(cls) -> list[str]:
        """Sign-on only over HTTPS, with its client's credentials, and for Entra a single tenant."""
        problems = []
        if env("AUTHLIB_INSECURE_TRANSPORT"):
            problems.append("AUTHLIB_INSECURE_TRANSPORT lets sign-on run over plain HTTP: unset it")
        if not cls.OIDC_ISSUER:
            return problems
        issuer = urlsplit(cls.OIDC_ISSUER)
        if issuer.scheme != "https" or not issuer.hostname:
            problems.append("OIDC_ISSUER must be the provider's https:// issuer")
        problems += [
            f"{name} must be set" for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not getattr(cls, name)
        ]
        if issuer.hostname == "login.microsoftonline.com":
            tenant = issuer.path.strip("/").split("/")[0] if issuer.path.strip("/") else ""
            if tenant in {"", "common", "organizations", "consumers"}:
                problems.append("OIDC_ISSUER must name the trust's own Entra tenant, not a multi-tenant endpoint")
            if not cls.OIDC_TENANT_ID:
                problems.append("OIDC_TENANT_ID must be set to the Entra tenant allowed to sign in")
        return problems


class BenchmarkConfig(ProductionConfig):
    """Production's code paths on a loopback benchmark: SQLite and plain-HTTP cookies allowed,
    rate limits and the SMS budget raised. It refuses real SMS and any public address, so it can
    never stand in for production: the Twilio backend only against a mock on loopback
    (TWILIO_API_BASE), as bench/alert_latency.py runs it."""

    NAME = "benchmark"
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_SECURE = False
    DEVICE_COOKIE_NAME = "mr_device"
    KNOWN_DEVICE_COOKIE_NAME = "mr_known_device"
    ENROLMENT_COOKIE_NAME = "mr_enrolment"  # an enrolled display or ward tablet (services/setup/devices.py)
    CONFIRMATION_COOKIE_NAME = "mr_sent"  # a family's own browser: its confirmations of the last 24 hours
    HSTS = False
    SMS_BACKEND = env("SMS_BACKEND", "console")
    PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    TRUSTED_HOSTS = None
    DEVICE_CONCERN_LIMIT = "1000000 per minute"
    ADDRESS_CONCERN_LIMIT = "1000000 per minute"
    FAMILY_SMS_BUDGET = "1000000 per minute"
    ALLOW_DEMO_SEED = True

    @classmethod
    def _allows_sqlite(cls) -> bool:
        return True

    @classmethod
    def _sms_problems(cls) -> list[str]:
        if cls.SMS_BACKEND in {"console", "fake"}:
            return []
        if cls.SMS_BACKEND == "twilio" and cls._twilio_mock_on_loopback():
            return []  # Twilio's code path against a mock (Prism) on this machine: nothing leaves it
        return [
            "the benchmark configuration sends no real texts: SMS_BACKEND must be console or fake, "
            "or twilio with TWILIO_API_BASE on loopback (a Twilio mock such as Prism)"
        ]

    @classmethod
    def _twilio_mock_on_loopback(cls) -> bool:
        parts = urlsplit(cls.TWILIO_API_BASE or "")
        return parts.scheme in {"http", "https"} and parts.hostname in LOOPBACK_HOSTS

    @classmethod
    def _url_problems(cls) -> list[str]:
        host = urlsplit(cls.PUBLIC_BASE_URL or "").hostname
        if host not in LOOPBACK_HOSTS:
            return ["the benchmark configuration only runs on loopback: PUBLIC_BASE_URL must be 127.0.0.1"]
        return []


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-use-anywhere-else"  # noqa: S105 (the test configuration only)
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL")  # conftest supplies a SQLite file otherwise
    SMS_BACKEND = "fake"
    SMS_CONSOLE_LOG = None
    TWILIO_AUTH_TOKEN = "testing-twilio-auth-token"  # noqa: S105 (signs the webhook tests' requests)
    RATELIMIT_STORAGE_URI = "memory://"
    # Cheap hashing keeps the suite fast; production's parameters are checked in their own test.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 8
    WORKER_POLL_SECONDS = 0.05

    @classmethod
    def load_secret(cls) -> None:
        pass


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
    "benchmark": BenchmarkConfig,
}


def select_config(name: str | None = None) -> type[Config]:
    name = name or env("TRACKER_CONFIG", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(f"TRACKER_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}") from None
    loader = getattr(cls, "load_secret", None)
    if loader:
        loader()
    return cls
