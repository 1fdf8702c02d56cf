"""Every word a family sees is marked for translation (docs/architecture.md#languages).

A pseudo-locale wraps every catalogue string in ⟦ ⟧; every family page is then rendered in it, and any
word left outside the brackets that is not the trust's or the patient's own data is a string nobody
marked, which would stay in English in every language."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

import tracker.web.languages
from tests.conftest import make_config, valid_answers
from tracker.services import catalogues

PSEUDO = "eo"  # a locale Babel knows and the trust never enables
SHOWN_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt", "data-revealed-question"}
SILENT_TAGS = {"script", "style", "title"}
# The trust's and the ward's own data on the test trust's pages (tests/conftest.py: build_trust), and what
# is the same in every language.
DATA = [
    "Test Hospitals NHS Trust",
    "Press the red buzzer or ask any nurse now. Call 2222.",
    "General Hospital",
    "Outreach Team",
    "Old Ward",
    "Ward 7",
    "Ward 8",
    "Bay 1",
    "Bay 2",
    "NHS",
    "English",
]
NATIVE_NAMES = re.compile(
    r"Polski|Română|Português|Español|Arabic|Bengali|Chinese|Gujarati|Polish|Portuguese|Punjabi|Romanian|Spanish|Urdu|Simplified"
)


def _pseudo_catalogue(folder) -> None:
    catalog = Catalog(locale=PSEUDO)
    for message in catalogues.extract():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(f"⟦{form}⟧" for form in (message.id[0], message.id[1])))
        else:
            catalog.add(message.id, f"⟦{message.id}⟧", context=message.context)
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)


class _ShownText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag, attrs):
        if tag in SILENT_TAGS:
            self._silent += 1
        for name, value in attrs:
            if value and (name in SHOWN_ATTRIBUTES or name.startswith("data-i18n")):
                self.parts.append(value)
            if value and name == "value" and dict(attrs).get("type") in ("submit", "button"):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in SILENT_TAGS:
            self._silent -= 1

    def handle_data(self, data):
        if not self._silent:
            self.parts.append(data)


def unmarked_words(html: str) -> list[str]:
    parser = _ShownText()
    parser.feed(html)
    # One run of text, so a marked string with markup inside it (a name in a <span>) is still one string.
    text = "\x01".join(parser.parts)
    for _nesting in range(2):  # a marked string inside another
        text = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
    left = []
    for part in text.split("\x01"):
        for known in DATA:
            part = part.replace(known, " ")
        part = NATIVE_NAMES.sub(" ", part)
        part = re.sub(r"MR-[0-9A-Z]{4}-[0-9A-Z]{2}", " ", part)
        if re.search(r"[A-Za-z]{2,}", part):
            left.append(" ".join(part.split())[:120])
    return left


@pytest.fixture
def pseudo_client(build_app, database_url, trust, tmp_path, monkeypatch):
    _pseudo_catalogue(tmp_path)
    config = make_config(database_url)
    monkeypatch.setattr(config, "BABEL_TRANSLATION_DIRECTORIES", f"{tmp_path};{config.BABEL_TRANSLATION_DIRECTORIES}")
    monkeypatch.setattr(
        tracker.web.languages, "select_locale", lambda: PSEUDO if tracker.web.languages.is_family_request() else "en"
    )
    return build_app(config).test_client()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def family_pages(client) -> dict[str, str]:
    pages: dict[str, str] = {}

    def get(name: str, url: str, status: int = 200) -> str:
        response = client.get(url)
        assert response.status_code == status, (name, response.status_code)
        pages[name] = response.get_data(as_text=True)
        return pages[name]

    get("choose a ward", "/")
    get("choose a ward, searched", "/?q=ward")
    form = get("the form", "/w/w7")
    token = _csrf(form)
    pages["the form with errors"] = client.post("/w/w7", data={"csrf_token": token}).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    sent = client.post("/w/w7", data={**hidden, **valid_answers()}, follow_redirects=True)
    pages["the confirmation"] = sent.get_data(as_text=True)
    more = get("the second page", "/w/w7/more")
    pages["the second page with errors"] = client.post(
        "/w/w7/more", data={"csrf_token": _csrf(more), "preferred_language": "nonsense"}
    ).get_data(as_text=True)
    daily = get("the daily check", "/w/w8/daily")
    pages["the daily check with errors"] = client.post("/w/w8/daily", data={"csrf_token": _csrf(daily)}).get_data(
        as_text=True
    )
    get("the privacy notice", "/privacy?ward=w7")
    get("the accessibility statement", "/accessibility?ward=w7")
    get("a retired ward", "/w/w-old", status=410)
    get("a ward that does not exist", "/w/no-such-ward", status=404)
    pages["a form sent without its token"] = client.post("/w/w7", data={}).get_data(as_text=True)
    return pages


def test_every_word_on_every_family_page_is_marked_for_translation(pseudo_client):
    found = {name: unmarked_words(html) for name, html in family_pages(pseudo_client).items()}
    listing = "\n".join(f"{name}: {text}" for name, words in found.items() for text in words)
    assert not listing, "not marked for translation:\n" + listing


def test_the_check_finds_an_unmarked_word():
    assert unmarked_words("<p>⟦Marked⟧ but this is not</p>") == ["but this is not"]
    assert unmarked_words('<p>⟦Marked⟧</p><button aria-label="Close">⟦x⟧</button>') == ["Close"]
    assert unmarked_words("<p>⟦Marked⟧ 020 7946 0100 Ward 7</p>") == []
