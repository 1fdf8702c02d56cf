"""The SMS backend an app sends through, built once from `SMS_BACKEND` and kept on the app, so the web process
and the worker in it share one (the console backend's record, the fake backend's sent list)."""

from __future__ import annotations

from flask import Flask

from tracker.sms import SmsSender, build_sender

KEY = "tracker_sms"


def install_sender(app: Flask) -> None:
    app.extensions[KEY] = build_sender(app)


def sender_for(app: Flask) -> SmsSender:
    sender: SmsSender | None = app.extensions.get(KEY)
    return sender if sender is not None else build_sender(app)
