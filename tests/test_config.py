"""Configuration: production refuses weak settings; the benchmark refuses anything real; the
embedded default runs SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config import BenchmarkConfig, ConfigError, DevelopmentConfig, ProductionConfig, select_config
from tracker import create_app
from tracker.extensions import db

GOOD_PRODUCTION = {
    "SECRET_KEY": "x" * 48,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker@db.internal/tracker",
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "secret-token",
    "TWILIO_FROM_NUMBER": "+447400900000",
    "PUBLIC_BASE_URL": "https://tracker.example.nhs.uk",
    "TRUSTED_HOSTS": ["tracker.example.nhs.uk"],
}


def production(**changes) -> type[ProductionConfig]:
    return type("P", (ProductionConfig,), {**GOOD_PRODUCTION, **changes})


def test_a_complete_production_configuration_is_accepted():
    production().validate()


@pytest.mark.parametrize(
    "changes, complaint",
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-not-default"}, "SECRET_KEY"),
        ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/x.db"}, "SQLite"),
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND"),
        ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_FROM_NUMBER": None}, "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
        ({"PUBLIC_BASE_URL": "http://tracker.example.nhs.uk"}, "https"),
        ({"TRUSTED_HOSTS": None}, "TRUSTED_HOSTS"),
        ({"HEARTBEAT_URL": "file:///etc/passwd"}, "HEARTBEAT_URL"),
    ],
)
def test_production_refuses_to_start_with_weak_or_missing_settings(changes, complaint):
    with pytest.raises(ConfigError, match=complaint):
        production(**changes).validate()


def test_production_accepts_a_messaging_service_instead_of_a_number():
    production(
        TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32, TWILIO_VOICE_FROM_NUMBER="+442079460999"
    ).validate()


def test_production_needs_a_number_for_voice_calls_beside_a_messaging_service():
    with pytest.raises(ConfigError, match="TWILIO_VOICE_FROM_NUMBER"):
        production(TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32).validate()


def test_production_never_sends_to_a_twilio_mock():
    with pytest.raises(ConfigError, match="TWILIO_API_BASE"):
        production(TWILIO_API_BASE="http://127.0.0.1:4010").validate()


def test_production_refuses_to_start_with_the_test_clock(monkeypatch, tmp_path):
    """The fault tests move "now" for worker processes through a file (tracker.clock); a server
    whose clock someone else can move must never run for real."""
    monkeypatch.setenv("TRACKER_TEST_CLOCK_FILE", str(tmp_path / "clock"))
    with pytest.raises(ConfigError, match="TRACKER_TEST_CLOCK_FILE"):
        production().validate()
    monkeypatch.delenv("TRACKER_TEST_CLOCK_FILE")
    production().validate()


def test_production_cookies_are_host_only_and_secure():
    assert ProductionConfig.SESSION_COOKIE_NAME.startswith("__Host-")
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    # every cookie the app sets (session, device, known device, enrolment, confirmation) takes its Secure
    # flag from SESSION_COOKIE_SECURE; the scanners' reviewed findings rely on it (scan/reviewed-findings.md)
    for name in ("DEVICE", "KNOWN_DEVICE", "ENROLMENT", "CONFIRMATION"):
        assert getattr(ProductionConfig, f"{name}_COOKIE_NAME").startswith("__Host-"), name
    assert ProductionConfig.HSTS is True
    assert ProductionConfig.ALLOW_DEMO_SEED is False


def benchmark(**changes) -> type[BenchmarkConfig]:
    return type(
        "B",
        (BenchmarkConfig,),
        {
            "SECRET_KEY": "b" * 48,
            "SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/b.db",
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            **changes,
        },
    )


def test_the_benchmark_configuration_allows_sqlite_and_plain_http_on_loopback():
    config = benchmark()
    config.validate()
    assert config.SESSION_COOKIE_SECURE is False
    assert config.DEVICE_CONCERN_LIMIT != ProductionConfig.DEVICE_CONCERN_LIMIT


@pytest.mark.parametrize(
    "changes, complaint",
    [
        ({"SMS_BACKEND": "twilio"}, "no real texts"),
        ({"PUBLIC_BASE_URL": "https://tracker.example.nhs.uk"}, "loopback"),
        ({"SECRET_KEY": "dev"}, "SECRET_KEY"),
    ],
)
def test_the_benchmark_configuration_is_refused_outside_a_loopback_benchmark(changes, complaint):
    with pytest.raises(ConfigError, match=complaint):
        benchmark(**changes).validate()


@pytest.mark.parametrize("api_base", ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"])
def test_the_benchmark_configuration_sends_through_twilio_to_a_mock_on_loopback(api_base):
    benchmark(SMS_BACKEND="twilio", TWILIO_API_BASE=api_base).validate()


@pytest.mark.parametrize(
    "api_base",
    [
        None,  # the real https://api.twilio.com
        "https://api.twilio.com",
        "http://10.0.0.5:4010",
        "http://127.0.0.1.example.com:4010",
        "http://prism.example.nhs.uk:4010",
    ],
)
def test_the_benchmark_configuration_refuses_twilio_anywhere_but_loopback(api_base):
    with pytest.raises(ConfigError, match="no real texts"):
        benchmark(SMS_BACKEND="twilio", TWILIO_API_BASE=api_base).validate()


def test_an_unknown_configuration_name_is_refused():
    with pytest.raises(ConfigError, match="TRACKER_CONFIG"):
        select_config("staging")


def test_create_app_refuses_an_unsafe_production_configuration():
    with pytest.raises(ConfigError):
        create_app(production(SECRET_KEY="dev"))


def test_the_embedded_default_uses_sqlite_with_wal_and_a_busy_timeout(tmp_path):
    config = type(
        "D",
        (DevelopmentConfig,),
        {"SECRET_KEY": "d" * 48, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}"},
    )
    app = create_app(config)
    assert app.config["SMS_BACKEND"] == "console"
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_embedded_default_keeps_a_random_secret_key_under_instance(tmp_path, monkeypatch):
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = select_config("development").SECRET_KEY
    second = select_config("development").SECRET_KEY
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


ENTRA = "https://login.microsoftonline.com/0b5c2a1e-7a2d-4c8e-9d7e-2f6a1b3c4d5e/v2.0"
SIGN_ON = {"OIDC_ISSUER": ENTRA, "OIDC_CLIENT_ID": "client", "OIDC_CLIENT_SECRET": "secret"}


def test_production_accepts_sign_on_with_the_trusts_own_entra_tenant():
    production(**SIGN_ON, OIDC_TENANT_ID="0b5c2a1e-7a2d-4c8e-9d7e-2f6a1b3c4d5e").validate()


@pytest.mark.parametrize(
    "changes, complaint",
    [
        ({"OIDC_ISSUER": "http://login.example.nhs.uk"}, "OIDC_ISSUER must be the provider's https://"),
        ({"OIDC_CLIENT_SECRET": None}, "OIDC_CLIENT_SECRET must be set"),
        ({}, "OIDC_TENANT_ID must be set"),
        (
            {"OIDC_ISSUER": "https://login.microsoftonline.com/common/v2.0", "OIDC_TENANT_ID": "x"},
            "not a multi-tenant endpoint",
        ),
    ],
)
def test_production_refuses_sign_on_that_is_not_safe(changes, complaint):
    with pytest.raises(ConfigError, match=complaint):
        production(**{**SIGN_ON, **changes}).validate()


def test_production_refuses_to_start_with_authlibs_insecure_transport(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with pytest.raises(ConfigError, match="AUTHLIB_INSECURE_TRANSPORT"):
        production().validate()
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT")
    production().validate()
