"""The app's and the worker's log lines (docs/architecture.md#logs-and-metrics): one JSON object a line in
production, readable text in development, each line of a request carrying its request id, and phone numbers
and e-mail addresses masked in every line whoever wrote it."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# A run of digits that may be a phone number: an optional international prefix, then 9 to 16 digits with
# single spaces, hyphens or brackets between them. `_masked_phone` decides which runs really are numbers.
_PHONE_RUN = re.compile(r"(?<![\w+%.])(?:\+|%2[Bb])?\(?\d(?:[ \-()]{0,2}\d){8,15}(?![\w])")
# A URL's user and password (a Redis or database address with its credentials, as a storage error names it).
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@]+@")
# Starts only where a run of the address's characters starts: without the look-behind a long run with no "@"
# was scanned again from each of its characters, quadratic in a hostile line's length.
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Werkzeug's development server writes each request line with its query string; the request's own line
# (web/request_log.py) has the path alone. Anchored on the method after the line's opening quote, so a path of
# question marks is read once, not from each of them.
_QUERY_IN_REQUEST_LINE = re.compile(r'(?<=")([A-Z]+ [^ ?]*)\?\S*(?= HTTP/)')


@dataclass(frozen=True)
class RequestFacts:
    request_id: str
    method: str
    path: str


_request: ContextVar[RequestFacts | None] = ContextVar("tracker_request", default=None)


def _masked_phone(found: re.Match[str]) -> str:
    run = found.group()
    digits = re.sub(r"\D", "", run[3:] if run[:3].upper() == "%2B" else run)
    international = run.startswith("+") or run[:3].upper() == "%2B"
    is_number = (
        (international and 8 <= len(digits) <= 15)
        or (digits.startswith("00") and 10 <= len(digits) <= 17)  # 0044 7700 900123
        or (digits.startswith("0") and 10 <= len(digits) <= 11)  # the UK's national form: 07700 900123
        or (digits.startswith("44") and len(digits) == 12)  # E.164 without its plus, as some providers write it
    )
    return f"***{digits[-3:]}" if is_number else run


def mask(text: str) -> str:
    """The text with every phone number cut to its last three digits, every e-mail address's own part hidden
    (the domain stays: it says which organisation, never who), and the credentials in any URL."""
    text = _EMAIL.sub(r"***@\1", _URL_CREDENTIALS.sub("***@", text))
    return _PHONE_RUN.sub(_masked_phone, text)


def start_request(request_id: str, method: str, path: str) -> Any:
    """Marks the lines logged from here on as this request's; returns what `end_request` takes."""
    return _request.set(RequestFacts(request_id, method, mask(path)))


def end_request(token: Any) -> None:
    _request.reset(token)


def current_request() -> RequestFacts | None:
    return _request.get()


class Masking(logging.Filter):
    """On the handler, so it sees every line, the libraries' too. It renders the message with its arguments
    first (a number may be in either) and the traceback, then masks them, and stamps the request's facts."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call must still leave a line, not lose one
            message = f"{record.msg} {record.args!r}"
        if record.name == "werkzeug":
            message = _QUERY_IN_REQUEST_LINE.sub(r"\1", message)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        facts = _request.get()
        for name in ("request_id", "method", "path"):
            if not hasattr(record, name):
                setattr(record, name, getattr(facts, name) if facts else None)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's id, method and path, the
    request line's status and duration, and the traceback when there is one."""

    OPTIONAL = ("request_id", "method", "path", "endpoint", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.OPTIONAL:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing in the format named, through the masking filter."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.setFormatter(JsonLines() if log_format == "json" else _Text(TEXT_FORMAT))
    made.addFilter(Masking())
    made.set_name("tracker")
    return made


def install(log_format: str, level: str) -> None:
    """Logs to standard error in the format named. The root logger gets our handler unless someone else's
    is already there (pytest's, which captures lines for the tests); a second app replaces the first's."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == "tracker"]
    for old in ours:
        root.removeHandler(old)
    if len(root.handlers) == 0:
        root.addHandler(handler(log_format))
        root.setLevel(level)
