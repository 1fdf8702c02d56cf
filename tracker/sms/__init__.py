"""The boundary to SMS providers (docs/architecture.md#messages). Backends: `console` (development: prints and
records), `fake` (tests), and `twilio` (production; the only module that imports twilio)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import Flask


@dataclass(frozen=True)
class OutgoingSms:
    """What a backend needs to send one text (or place one voice call), and to find it again
    after an unclear outcome.

    For a voice call, `body` is what is read out. `status_callback` is the absolute URL the
    provider reports delivery to (None: no callbacks, e.g. the console); `gather_url` is where a
    voice call sends the keypress."""

    message_id: int
    to: str  # E.164
    body: str
    idempotency_key: str
    created_at: datetime
    channel: str = "sms"  # "sms" or "voice"
    status_callback: str | None = None
    gather_url: str | None = None
    # Provider references already recorded for other messages to this number: a look-up after an
    # unclear outcome must not mistake one of those for this message.
    exclude_sids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SendResult:
    sid: str
    delivery_status: str | None = None


class SendFailure(Exception):
    """Base class: `code` is the provider's code, `reason` plain English for staff, `alarm` a
    system alarm to raise (a fault of ours that staff must hear about, such as refused
    credentials)."""

    def __init__(self, reason: str, code: str | None = None, alarm: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.alarm = alarm


class TemporaryFailure(SendFailure):
    """Certainly not sent (refused connection, 429): safe to retry after a pause."""


class AmbiguousFailure(SendFailure):
    """Perhaps sent (timeout, 5xx): reconcile with the provider before any resend."""


class PermanentFailure(SendFailure):
    """Will never succeed (invalid number, opted out, not a mobile): the message is dead."""


class SmsSender(Protocol):
    name: str

    def send(self, sms: OutgoingSms) -> SendResult:
        """Send a text or place a call (by `sms.channel`). Raises TemporaryFailure,
        AmbiguousFailure or PermanentFailure."""
        ...

    def find_sent(self, sms: OutgoingSms) -> SendResult | None:
        """After an ambiguous failure: the provider's record of this text, if it has one."""
        ...


def build_sender(app: Flask) -> SmsSender:
    backend = app.config["SMS_BACKEND"]
    if backend == "console":
        from tracker.sms.console import ConsoleSender

        return ConsoleSender(app.config.get("SMS_CONSOLE_LOG"))
    if backend == "fake":
        from tracker.sms.fake import FakeSender

        return FakeSender()
    if backend == "twilio":
        from tracker.sms.twilio import TwilioSender  # noqa: PLC0415 - the only import of twilio

        return TwilioSender.from_config(app.config)
    raise ValueError(f"SMS_BACKEND must be console, fake or twilio, not {backend!r}")
