"""Martha's Rule Tracker: `create_app(config)` builds the Flask application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, Config, select_config

STATIC_DIR = Path(__file__).parent / "static"
# Pages and texts live at the top of the repository, one folder per blueprint (docs/architecture.md#the-parts).
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
NHSUK_FRONTEND_VERSION = (STATIC_DIR / "NHSUK_FRONTEND_VERSION").read_text().strip()


def create_app(config: str | type[Config] | None = None) -> Flask:
    """Build the app for a configuration name or class (default: $TRACKER_CONFIG, else
    development). Raises config.ConfigError when the settings are unsafe."""
    config_cls = config if isinstance(config, type) else select_config(config)
    config_cls.validate()

    app = Flask(
        __name__,
        static_url_path="/assets",
        template_folder=str(TEMPLATES_DIR),
        instance_path=str(INSTANCE_DIR),
        instance_relative_config=False,
    )
    app.config.from_object(config_cls)
    app.config["TRACKER_CONFIG_NAME"] = config_cls.NAME
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        # Flask's documented way to wrap the WSGI app; mypy only sees a method being replaced.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]

    _configure_logging(app)
    _configure_jinja(app)
    _register_extensions(app)
    from tracker.web.converters import RowId

    app.url_map.converters["int"] = RowId  # before any route is added
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    return app


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The Twilio SDK logs each request's query at INFO, phone numbers included (personal data).
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


def _configure_jinja(app: Flask) -> None:
    # Settings the NHS.UK macros need: missing parameters must render as empty, not fail, and
    # autoescaping .jinja is a security control: without it, text passed to the macros is not escaped.
    app.jinja_options = {
        **Flask.jinja_options,
        "undefined": ChainableUndefined,
        "autoescape": lambda name: name is None or name.endswith((".html", ".htm", ".xml", ".jinja")),
        "finalize": lambda value: "" if value is None else value,
    }
    # create_app passes template_folder, so Flask always has a loader of its own here.
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("nhsuk_frontend_jinja")])
    app.jinja_env.globals["nhsuk_frontend_version"] = NHSUK_FRONTEND_VERSION


def _register_extensions(app: Flask) -> None:
    from tracker.db import configure_engines
    from tracker.extensions import babel, csrf, db, limiter, login_manager, migrate
    from tracker.outbox.sender import install_sender
    from tracker.services.reports import report_facts  # noqa: F401 (its ORM hook keeps each call's report facts)

    if (app.config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        # A file on this machine: nothing to ping before each use (PostgreSQL keeps pre_ping,
        # so a restarted server costs one failed request, not a 500).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v for k, v in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items() if k != "pool_pre_ping"
        }
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale, timezone_selector=_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    # The server-side session registry is the control (docs/architecture.md#security); Flask-Login's own address and
    # browser fingerprint would sign clinicians out whenever their phone changed network.
    login_manager.session_protection = None
    configure_engines(app)
    install_sender(app)


def _locale() -> str:
    from tracker.web.languages import select_locale

    return select_locale()


def _timezone() -> str:
    from tracker.services.setup.settings import current_settings

    try:
        return current_settings().timezone
    except Exception:
        return "Europe/London"


def _register_blueprints(app: Flask) -> None:
    import tracker.web.authorisation  # noqa: F401  (the session loader)
    from tracker.admin import bp as admin_bp
    from tracker.auth import bp as auth_bp
    from tracker.devices import bp as devices_bp
    from tracker.oncall import bp as oncall_bp
    from tracker.outbox.webhooks import bp as webhooks_bp
    from tracker.public import bp as public_bp
    from tracker.records import bp as records_bp
    from tracker.reports import bp as reports_bp
    from tracker.triage import bp as triage_bp
    from tracker.web.health import bp as health_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(triage_bp)
    app.register_blueprint(oncall_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(webhooks_bp)


def _register_hooks(app: Flask) -> None:
    from tracker.web import errors, languages, security, template_helpers

    security.register(app)
    errors.register(app)
    template_helpers.register(app)
    languages.register(app)


def _register_cli(app: Flask) -> None:
    from tracker.cli import tracker_cli

    app.cli.add_command(tracker_cli)
