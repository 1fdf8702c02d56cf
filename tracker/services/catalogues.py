"""The families' translation catalogues (docs/architecture.md#languages): extract the marked strings of
the family pages and texts (babel.cfg names the files), update each language's `.po` from them, and
compile the `.mo` files the app reads. `flask tracker translations` runs all three; the tests use
`problems()` to fail when a committed file is behind the code.

A new catalogue starts as a `draft`: its header says so until a trust's translator changes the line
to `# Translation-Status: reviewed`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from tracker.services.languages import DEFAULT, LANGUAGES, TRANSLATIONS, catalogue_path

ROOT = TRANSLATIONS.parent.parent
MAPPING = ROOT / "babel.cfg"
TEMPLATE = TRANSLATIONS / "messages.pot"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
# Fixed, so that extracting twice from the same code gives the same files.
_STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    """Every marked string in the files babel.cfg names, with where it is used."""
    with MAPPING.open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    catalog = Catalog(project="Martha's Rule Tracker", creation_date=_STAMP, charset="utf-8")
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, ignore_obsolete=True, include_previous=False)
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _new_catalogue(code: str) -> Catalog:
    catalog = Catalog(locale=code, project="Martha's Rule Tracker", creation_date=_STAMP, charset="utf-8")
    catalog.header_comment = (
        f"# The families' pages and texts in {code}. The trust's translators own these words.\n"
        "# Translation-Status: draft\n"
        "# (change to `reviewed` once a trust's translator has checked every message)"
    )
    return catalog


def updated(code: str, template: Catalog) -> Catalog:
    """The language's catalogue with the template's messages: translations kept, new ones empty,
    removed ones dropped. No fuzzy matching: a near-match guessed by a program is not a translation."""
    path = catalogue_path(code)
    catalog = read(path) if path.is_file() else _new_catalogue(code)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.fuzzy = False  # the header: babel marks a new catalogue's header fuzzy
    catalog.revision_date = _STAMP
    catalog.creation_date = _STAMP
    return catalog


def build() -> list[Path]:
    """Extract, update every language's `.po`, compile every `.mo`; the files written."""
    template = extract()
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    written = [_write(TEMPLATE, _po_bytes(template))]
    for language in LANGUAGES:
        if language.code == DEFAULT:
            continue
        catalog = updated(language.code, template)
        written.append(_write(catalogue_path(language.code), _po_bytes(catalog)))
        written.append(_write(catalogue_path(language.code, "mo"), _mo_bytes(catalog)))
    return [path for path in written if path is not None]


def _write(path: Path, content: bytes) -> Path | None:
    if path.is_file() and path.read_bytes() == content:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def problems() -> list[str]:
    """What is out of date: a string marked in the code but missing from a catalogue, a catalogue
    holding a string the code no longer has, or a `.mo` that is not the compiled `.po`."""
    wanted = {_key(message) for message in extract() if message.id}
    found: list[str] = []
    for language in LANGUAGES:
        if language.code == DEFAULT:
            continue
        path = catalogue_path(language.code)
        if not path.is_file():
            found.append(f"{language.code}: no catalogue")
            continue
        catalog = read(path)
        have = {_key(message) for message in catalog if message.id}
        found += [f"{language.code}: missing {key[0]!r}" for key in sorted(wanted - have, key=str)]
        found += [f"{language.code}: no longer used {key[0]!r}" for key in sorted(have - wanted, key=str)]
        mo = catalogue_path(language.code, "mo")
        if not mo.is_file() or mo.read_bytes() != _mo_bytes(catalog):
            found.append(f"{language.code}: messages.mo is not the compiled messages.po")
    return found


def _key(message: Message) -> tuple:
    return (message.id, message.context)
