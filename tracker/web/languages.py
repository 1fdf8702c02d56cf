"""Which language a family page is in (docs/architecture.md#languages).

Staff pages are always in English. On a family page, in order: the language the family chose with the
picker (`?lang=`, then kept in the session for the rest of the journey), else the best of the
browser's languages the trust has enabled, else English. `?lang=auto` forgets the choice (a ward
tablet does this when it resets for the next family).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, g, request, session, url_for
from flask_babel import format_datetime, get_locale

from tracker.services.languages import DEFAULT, LANGUAGES, Language, by_code, catalogue_status, language_of
from tracker.services.setup.trust_words import enabled_languages

SESSION_KEY = "lang"
PARAMETER = "lang"
FORGET = "auto"
# Staff blueprints: their pages are in English whatever the browser asks for.
STAFF_BLUEPRINTS = frozenset(
    {"admin", "auth", "triage", "oncall", "reports", "records", "devices", "webhooks", "health"}
)
# Browser tags that name one of our languages under another spelling.
_ALIASES = {
    "zh": "zh_Hans",
    "zh-hans": "zh_Hans",
    "zh-cn": "zh_Hans",
    "zh-sg": "zh_Hans",
    "zh-hans-cn": "zh_Hans",
    "pa-guru": "pa",
    "pa-in": "pa",
}


def is_family_request() -> bool:
    return request.blueprint not in STAFF_BLUEPRINTS


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not is_family_request():
        return DEFAULT
    try:
        enabled = enabled_languages()
    except Exception:  # the database is down: the error page still shows, in English
        return DEFAULT
    chosen = session.get(SESSION_KEY) if _has_session() else None
    if chosen in enabled:
        return chosen
    return browser_language(enabled)


def _has_session() -> bool:
    return SESSION_KEY in session


def browser_language(enabled: tuple[str, ...]) -> str:
    """The first of the browser's languages, by its preference, that the trust has enabled."""
    for value, _quality in request.accept_languages:
        tag = value.strip().lower().replace("_", "-")
        code = _ALIASES.get(tag) or (tag if by_code(tag) else None)
        if code is None:
            primary = tag.split("-")[0]
            code = _ALIASES.get(primary) or (primary if by_code(primary) else None)
        if code in enabled:
            return code
    return DEFAULT


def remember_choice() -> None:
    """Before a family page: keep the language chosen with the picker. An unknown or disabled code is
    ignored (the page shows in the language it would have had), never an error."""
    asked = request.args.get(PARAMETER)
    if asked is None or not is_family_request():
        return
    if asked == FORGET:
        session.pop(SESSION_KEY, None)
    elif asked in enabled_languages():
        session[SESSION_KEY] = asked


@dataclass(frozen=True)
class Choice:
    code: str
    tag: str
    native: str
    direction: str
    current: bool
    href: str


@dataclass(frozen=True)
class PageLanguage:
    code: str
    tag: str
    direction: str
    draft: bool  # not yet checked by a trust's translator: the page says so
    choices: tuple[Choice, ...]


def page_language() -> PageLanguage:
    code = str(get_locale() or DEFAULT)
    language = language_of(code)
    return PageLanguage(
        code=language.code,
        tag=language.tag,
        direction=language.direction,
        draft=catalogue_status(language.code) == "draft",
        choices=_choices(language.code) if is_family_request() else (),
    )


def _choices(current: str) -> tuple[Choice, ...]:
    try:
        enabled = enabled_languages()
    except Exception:
        return ()
    if len(enabled) < 2 or request.endpoint is None or request.method != "GET":
        return ()
    arguments = {**(request.view_args or {}), **{k: v for k, v in request.args.items() if k != PARAMETER}}
    return tuple(
        Choice(
            code=language.code,
            tag=language.tag,
            native=language.native,
            direction=language.direction,
            current=language.code == current,
            href=url_for(request.endpoint, **{**arguments, PARAMETER: language.code}),
        )
        for language in LANGUAGES
        if language.code in enabled
    )


def pages_read_in(locale: str | None) -> Language | None:
    """For the clinician: the language the family read the pages in, when not English."""
    language = language_of(locale)
    return None if language.code == DEFAULT else language


def _varies_by_language(response: Response) -> Response:
    """A family page's words depend on the browser's languages: say so to any cache on the way."""
    if is_family_request():
        response.vary.add("Accept-Language")
    return response


def family_time(moment: datetime | None) -> str:
    """A time on a family page: in the trust's time zone, with the month named in the page's language."""
    return "" if moment is None else format_datetime(moment, "d MMM y, HH:mm")


def register(app: Flask) -> None:
    app.jinja_env.filters["family_time"] = family_time
    app.before_request(remember_choice)
    app.after_request(_varies_by_language)
    app.jinja_env.globals["pages_read_in"] = pages_read_in

    @app.context_processor
    def _page_language() -> dict:
        if "page_language" not in g:
            g.page_language = page_language()
        return {"page_language": g.page_language}
