"""Production backend: Twilio's REST API through the official SDK (docs/architecture.md#messages).

This is the only module that imports `twilio`. It sends texts (Messages) and places voice calls
(Calls) that read a message out and take a keypress, sorts Twilio's answers into the three
failure kinds the worker understands, looks a send up again after an unclear outcome, and checks
webhook signatures.

Failures, in the three kinds the worker acts on (docs/architecture.md#messages):
- certainly not sent, safe to retry: 429 / error 20429, a refused connection, a failed DNS
  look-up, a connect timeout, a failed TLS handshake (TemporaryFailure);
- perhaps sent: a read timeout, a 5xx, a connection reset after the request went
  (AmbiguousFailure: the worker reconciles with `find_sent` before any resend);
- never going to work: any other 4xx, with a reason staff can act on (PermanentFailure).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from config import ConfigError
from tracker.sms import AmbiguousFailure, OutgoingSms, PermanentFailure, SendResult, TemporaryFailure
from tracker.sms.twilio_codes import ACCOUNT_REFUSED, ADMIN, PERMANENT_REASONS, TEMPORARY_CODES

TWILIO_API_HOST = "api.twilio.com"
VOICE = "Polly.Amy"  # a British English voice
VOICE_LANGUAGE = "en-GB"
GATHER_SECONDS = 10
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Reconciliation: how far before our own record a provider's record may be dated (clock skew),
# and how many records one look-up reads at most (a list without a limit can page for ever).
CLOCK_SKEW = timedelta(minutes=1)
LOOKUP_LIMIT = 20
MAX_VALIDITY_SECONDS = 36_000  # Twilio's upper bound (error 90007 beyond it)


def _utc(moment: datetime) -> datetime:
    """A database datetime may come back naive (SQLite); ours are always UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the HTTP client ---------------------------------------------------------------------------


class RedirectedHttpClient(TwilioHttpClient):
    """Sends what the SDK addresses to https://api.twilio.com to another base URL instead (Prism
    in tests and demos). Any other host is refused: the SDK must never reach past the mock, and
    environment proxy settings are ignored."""

    def __init__(self, base_url: str, timeout: float | None = None):
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(f"TWILIO_API_BASE must be a base URL such as http://127.0.0.1:4010, not {base_url!r}")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != TWILIO_API_HOST or parts.port not in (None, 443):
            raise ForeignHostRefused(f"refusing to send a Twilio request to {parts.scheme}://{parts.netloc}")
        return super().request(
            method, urlunsplit((self.scheme, self.netloc, parts.path, parts.query, "")), *args, **kwargs
        )


class ForeignHostRefused(RuntimeError):
    """The redirected client was asked for a host it has no mapping for (a bug: fail closed)."""


def build_client(account_sid: str, auth_token: str, *, timeout: float, api_base: str | None = None) -> Client:
    """The one place a Twilio Client is made. `api_base` (TWILIO_API_BASE) is for tests and
    demos only; production refuses to start with it set."""
    http_client = RedirectedHttpClient(api_base, timeout=timeout) if api_base else TwilioHttpClient(timeout=timeout)
    # environment={} so the SDK never reads TWILIO_* (edge, region, credentials) behind our back.
    return Client(account_sid, auth_token, http_client=http_client, environment={})


# --- classifying failures ----------------------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests → urllib3 → socket)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [current.__cause__, getattr(current, "reason", None), getattr(current, "original_error", None)]
        stack += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]


_NOT_SENT = (
    urllib3.exceptions.NewConnectionError,  # refused, unreachable, DNS (NameResolutionError)
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.SSLError,  # the handshake comes before the request
    ConnectionRefusedError,
)


def transport_failure(exc: requests.RequestException) -> TemporaryFailure | AmbiguousFailure:
    """A failure below HTTP: did the request leave before it happened?"""
    not_sent = TemporaryFailure("Twilio could not be reached, so nothing was sent. It will be tried again shortly.")
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return not_sent
    if isinstance(exc, requests.exceptions.Timeout):  # a read timeout: the request went
        return AmbiguousFailure(
            "Twilio did not answer in time, so it may or may not have been sent. "
            "It will be checked with Twilio before any resend."
        )
    if any(isinstance(cause, _NOT_SENT) for cause in _causes(exc)):
        return not_sent
    return AmbiguousFailure(
        "The connection to Twilio broke after the request was sent, so it may or may not "
        "have been sent. It will be checked with Twilio before any resend."
    )


def api_failure(
    exc: TwilioRestException | TwilioServiceException,
) -> TemporaryFailure | AmbiguousFailure | PermanentFailure:
    """An HTTP error answer from Twilio."""
    status = int(exc.status or 0)
    try:
        code = int(exc.code) if exc.code is not None else None
    except (TypeError, ValueError):
        code = None
    code_text = str(code if code is not None else status)
    if code in ACCOUNT_REFUSED or (status == 401 and code is None):
        return TemporaryFailure(
            ACCOUNT_REFUSED.get(code, ACCOUNT_REFUSED[20003]), code_text, alarm="sms_account_refused"
        )
    if status == 429 or code in TEMPORARY_CODES:
        return TemporaryFailure(
            "Twilio is busy and asked us to slow down; nothing was sent. It will be tried again shortly.", code_text
        )
    if status >= 500 or status < 400:
        return AmbiguousFailure(
            f"Twilio had a problem of its own (HTTP {status}), so it may or may not have "
            "been sent. It will be checked with Twilio before any resend.",
            code_text,
        )
    reason = PERMANENT_REASONS.get(code) if code is not None else None
    if reason is None:
        reason = f"Twilio refused to send it (error {code_text}, see twilio.com/docs/errors/{code_text}). " + ADMIN
    return PermanentFailure(reason, code_text)


# --- the sender --------------------------------------------------------------------------------


class TwilioSender:
    name = "twilio"

    def __init__(
        self,
        client: Client,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        voice_from_number: str | None = None,
        validity_seconds: int = 600,
        ring_seconds: int = 30,
    ):
        if not (from_number or messaging_service_sid):
            raise ConfigError("Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send texts")
        if not 1 <= validity_seconds <= MAX_VALIDITY_SECONDS:
            raise ConfigError(f"TWILIO_VALIDITY_SECONDS must be between 1 and {MAX_VALIDITY_SECONDS}")
        if not 5 <= ring_seconds <= 600:
            raise ConfigError("TWILIO_RING_SECONDS must be between 5 and 600")
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.voice_from_number = voice_from_number or from_number
        self.validity_seconds = validity_seconds
        self.ring_seconds = ring_seconds

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TwilioSender:
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        if not (sid and token):
            raise ConfigError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")

        def number(name: str, default: float) -> float:
            value = config.get(name)
            return default if value is None else value

        timeout = float(number("TWILIO_TIMEOUT_SECONDS", 10))
        if timeout <= 0:
            raise ConfigError("TWILIO_TIMEOUT_SECONDS must be more than 0")
        client = build_client(sid, token, timeout=timeout, api_base=config.get("TWILIO_API_BASE"))
        return cls(
            client,
            from_number=config.get("TWILIO_FROM_NUMBER"),
            messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
            voice_from_number=config.get("TWILIO_VOICE_FROM_NUMBER"),
            validity_seconds=int(number("TWILIO_VALIDITY_SECONDS", 600)),
            ring_seconds=int(number("TWILIO_RING_SECONDS", 30)),
        )

    # Sending.

    def send(self, sms: OutgoingSms) -> SendResult:
        if sms.channel == "voice":
            if not self.voice_from_number:
                raise PermanentFailure("No number is set up to place voice calls from. " + ADMIN)
            create = self._call
        elif sms.channel == "sms":
            create = self._text
        else:
            raise PermanentFailure(f"Unknown channel {sms.channel!r}. " + ADMIN)
        try:
            record = create(sms)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise api_failure(exc) from exc
        except requests.RequestException as exc:
            raise transport_failure(exc) from exc
        except (TwilioException, json.JSONDecodeError) as exc:
            raise AmbiguousFailure(
                "Twilio's answer could not be read, so it may or may not have been sent. "
                "It will be checked with Twilio before any resend."
            ) from exc
        if not record.sid:
            raise AmbiguousFailure(
                "Twilio's answer had no reference, so it may or may not have been sent. "
                "It will be checked with Twilio before any resend."
            )
        return SendResult(record.sid, record.status)

    def _text(self, sms: OutgoingSms) -> Any:  # the SDK's MessageInstance, untyped
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        optional = {"status_callback": sms.status_callback} if sms.status_callback else {}
        return self.client.messages.create(
            to=sms.to, body=sms.body, validity_period=self.validity_seconds, **sender, **optional
        )

    def _call(self, sms: OutgoingSms) -> Any:  # the SDK's CallInstance, untyped
        optional = (
            {
                "status_callback": sms.status_callback,
                "status_callback_event": CALL_EVENTS,
                "status_callback_method": "POST",
            }
            if sms.status_callback
            else {}
        )
        return self.client.calls.create(
            to=sms.to, from_=self.voice_from_number, twiml=self.twiml(sms), timeout=self.ring_seconds, **optional
        )

    @staticmethod
    def twiml(sms: OutgoingSms) -> str:
        """What the call says: the message, twice, listening for one key when a keypress URL is
        given (the voice template itself says "press 1"). VoiceResponse escapes the text, so a
        message can never inject TwiML."""
        response = VoiceResponse()
        if sms.gather_url:
            gather = response.gather(num_digits=1, action=sms.gather_url, method="POST", timeout=GATHER_SECONDS)
            gather.say(sms.body, voice=VOICE, language=VOICE_LANGUAGE, loop=2)
            response.say("No key was pressed. Goodbye.", voice=VOICE, language=VOICE_LANGUAGE)
        else:
            response.say(sms.body, voice=VOICE, language=VOICE_LANGUAGE, loop=2)
        return response.to_xml(xml_declaration=False)

    # Reconciling.

    def find_sent(self, sms: OutgoingSms) -> SendResult | None:
        """Twilio's record of this text (same number, exact body) or call (same number), created
        no earlier than our record less the clock skew; the latest if several. One page of the
        most recent records, never more: a list without a bound can page for ever. Raises
        AmbiguousFailure when the look-up itself fails (the worker then tries again later)."""
        since = _utc(sms.created_at) - CLOCK_SKEW
        try:
            if sms.channel == "voice":
                page = self.client.calls.page(to=sms.to, start_time_after=since, page_size=LOOKUP_LIMIT)
                matches = [r for r in page if self._ours(r, sms, since) and r.sid not in sms.exclude_sids]
            else:
                page = self.client.messages.page(to=sms.to, date_sent_after=since, page_size=LOOKUP_LIMIT)
                matches = [
                    r
                    for r in page
                    if self._ours(r, sms, since) and r.body == sms.body and r.sid not in sms.exclude_sids
                ]
        except (TwilioRestException, TwilioServiceException) as exc:
            raise AmbiguousFailure(
                f"Could not check with Twilio whether it was sent (HTTP {exc.status}).", str(exc.code or exc.status)
            ) from exc
        except requests.RequestException as exc:
            raise AmbiguousFailure(
                "Could not check with Twilio whether it was sent: Twilio could not be reached."
            ) from exc
        except (TwilioException, json.JSONDecodeError) as exc:  # a page's error is a bare TwilioException
            status = next((a.status_code for a in exc.args if hasattr(a, "status_code")), None)
            raise AmbiguousFailure(
                f"Could not check with Twilio whether it was sent (HTTP {status or 'answer unreadable'}).",
                str(status) if status else None,
            ) from exc
        if not matches:
            return None
        latest = max(matches, key=lambda r: r.date_created or since)
        return SendResult(latest.sid, latest.status)

    @staticmethod
    def _ours(record: Any, sms: OutgoingSms, since: datetime) -> bool:
        return (
            bool(record.sid)
            and record.to == sms.to
            and str(record.direction or "").startswith("outbound")
            and (record.date_created is None or record.date_created >= since)
        )


# --- reading and answering webhooks ------------------------------------------------------------


def sms_reply(text: str | None) -> str:
    """TwiML answering an inbound text: one text back, or nothing. The library escapes the text."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return response.to_xml(xml_declaration=True)


def voice_reply(text: str) -> str:
    """TwiML answering a keypress: say this, then hang up."""
    response = VoiceResponse()
    response.say(text, voice=VOICE, language=VOICE_LANGUAGE)
    response.hangup()
    return response.to_xml(xml_declaration=True)


# --- webhook signatures ------------------------------------------------------------------------


def validate_signature(auth_token: str, url: str, params: Mapping[str, Any] | None, signature: str | None) -> bool:
    """Whether `signature` (X-Twilio-Signature) is Twilio's for this exact public URL and these
    form parameters. Pass the URL Twilio called, rebuilt from PUBLIC_BASE_URL + path (+ "?" and
    the query only when there is one), and the form itself, so repeated and empty fields count.

    A URL ending in a bare "?" (Werkzeug's `request.full_path` without a query) is refused: the
    SDK's validator happens to drop an empty query before comparing, but Twilio never calls such
    a URL, so it means the caller built the URL wrongly; fail closed rather than rely on that."""
    if not auth_token or not signature or not url or url.endswith("?"):
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, params or {}, signature))
    except (ValueError, TypeError):  # e.g. a malformed port in the URL
        return False
