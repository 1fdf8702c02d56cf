"""Prism, mocking Twilio's REST API from Twilio's own OpenAPI description, for the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = Path(__file__).resolve().parent / "twilio_api_v2010.prism.json"
SKIP_PRISM = "Prism is not installed: run npm ci"
START_SECONDS = 30  # about 2 s here; generous for a loaded CI machine


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory) -> str:
    """The base URL of a running Prism (http://127.0.0.1:PORT); stopped after the session."""
    if not os.access(PRISM, os.X_OK):
        pytest.skip(SKIP_PRISM)
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    with log_path.open("wb") as log:
        # Its own process group, so nothing it might start outlives the session.
        process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(SPEC)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prism did not start (exit code {process.poll()}):\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
