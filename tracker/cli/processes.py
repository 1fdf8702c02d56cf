"""`flask tracker` commands that run the processes: the worker and the web server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import click
from flask import current_app
from flask_migrate import upgrade

from tracker.cli.accounts import _print_accounts
from tracker.cli.group import _commit_or_fail, tracker_cli
from tracker.extensions import db
from tracker.services.records import audit
from tracker.services.setup.demo import demo_exists, seed_demo


@tracker_cli.command("worker")
@click.option("--once", is_flag=True, help="Process one batch and exit.")
def worker_command(once):
    """Send due outbox messages and keep the heartbeat, until stopped (SIGTERM)."""
    from tracker.worker import Worker

    worker = Worker(current_app._get_current_object())  # type: ignore[attr-defined]  # a proxy typed as Flask
    if once:
        report = worker.run_once()
        click.echo(f"handled {report.handled}: {report.outcomes}")
        return
    worker.install_signal_handlers()
    worker.run()


@tracker_cli.command("after-restore")
def after_restore_command():
    """Run once on a database restored from a backup, before its worker starts: every text or call
    not known to have been sent is checked with Twilio before it is sent, so none goes twice."""
    from tracker.outbox.after_restore import recheck_unfinished

    count = _commit_or_fail(lambda: recheck_unfinished(audit.Actor.cli()))
    click.echo(f"{count} texts and calls waiting or being sent: each will be checked with Twilio before it is sent.")


@tracker_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn sync workers.")
def serve_command(host, port, workers):
    """Upgrade the database, seed the demo trust if it is empty (not in production), then run
    the web server (gunicorn) and the worker together until interrupted."""
    upgrade()
    if not demo_exists() and current_app.config["ALLOW_DEMO_SEED"]:
        _print_accounts(_commit_or_fail(lambda: seed_demo(audit.Actor.cli())))
    db.session.remove()
    env = dict(os.environ)
    with _shared_request_counts(env):
        _run_together(env, host, port, workers)


@contextlib.contextmanager
def _shared_request_counts(env: dict[str, str]) -> Iterator[None]:
    """Several gunicorn workers add up their request counts through files (docs/architecture.md#logs-and-metrics):
    a fresh directory each run, so no count from an earlier run is added in, removed afterwards."""
    if env.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="tracker-metrics-") as counts:
        env["PROMETHEUS_MULTIPROC_DIR"] = counts
        yield


def _run_together(env: dict[str, str], host: str, port: int, workers: int) -> None:
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "worker"], env=env)  # noqa: S603
    # A long timeout: a large Excel export is built before its first byte (the CSV streams).
    web = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),  # noqa: S603
            "--bind",
            f"{host}:{port}",
            "--timeout",
            "300",
            # No access log: the app logs each request itself, its query string left out (it may hold what
            # someone searched for) and numbers masked (docs/architecture.md#logs-and-metrics).
            "wsgi:app",
        ],
        env=env,
    )
    click.echo(f"Martha's Rule Tracker on http://{host}:{port} (worker pid {worker.pid}). Ctrl-C stops both.")

    def stop(*_args):
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while web.poll() is None and worker.poll() is None:
            try:
                web.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    if worker.returncode not in (0, None, -signal.SIGTERM) or web.returncode not in (0, None, -signal.SIGTERM):
        sys.exit(1)
