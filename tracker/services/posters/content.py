"""What a ward's poster says in one language (docs/architecture.md#posters), as plain strings for the drawing: the
words of `words.py` translated at draw time with the families' catalogues, the ward's name, its permanent link, its
team's number (as the ward's family pages give it, `web/contact.py`) and the trust's emergency instruction.

The link is the public address (`PUBLIC_BASE_URL`), never the address a manager happens to be using: a poster
stays on the wall for years, read by phones outside the hospital's network."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext

from tracker.models import Ward
from tracker.services.languages import Language
from tracker.services.phone import display_phone
from tracker.services.posters import words
from tracker.services.setup.settings import TrustSettings
from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, words_for

# Between a number's groups: a space that neither breaks the line nor lets a right-to-left line reverse the groups
# (the Unicode bidirectional algorithm reads digits joined by it as one number).
NUMBER_SPACE = "\u00a0"


@dataclass(frozen=True)
class PosterContent:
    """Everything printed on one poster, already in its language."""

    language: str  # the language's code
    tag: str  # its BCP 47 tag, for the PDF's language
    script: str  # Language.script: which fonts draw it
    rtl: bool
    language_name: str  # in its own script, printed small in the corner for whoever puts the posters up
    title: str
    subtitle: str
    ward: str  # "Ward: <name>"
    steps_heading: str
    steps: tuple[str, ...]
    scan: str
    link: str  # the ward's permanent public link, in the QR code and written out
    phone_heading: str
    phone: str  # the ward's team's number, as people write it
    relay: str  # how to reach that number through Relay UK
    emergency_heading: str
    emergency: str  # the trust's own words
    trust_name: str


def ward_link(base_url: str, code: str) -> str:
    """The ward's permanent public link (`/w/<code>`, the family's form) as an absolute address."""
    return f"{base_url.rstrip('/')}/w/{code}"


def public_link(code: str) -> str:
    return ward_link(current_app.config["PUBLIC_BASE_URL"], code)


def team_phone(ward: Ward) -> str:
    """The ward's team's public number as its family pages write it, its groups joined so they stay together."""
    number = display_phone(ward.team.public_phone) or ward.team.public_phone
    return NUMBER_SPACE.join(number.split())


def poster_content(ward: Ward, settings: TrustSettings, language: Language) -> PosterContent:
    """The poster's words for this ward in this language (an app context is needed for the catalogues). A word
    with no translation yet comes out in English, as on the family pages."""
    phone = team_phone(ward)
    with force_locale(language.code):
        return PosterContent(
            language=language.code,
            tag=language.tag,
            script=language.script,
            rtl=language.rtl,
            language_name=language.native,
            title=gettext(words.TITLE),
            subtitle=gettext(words.SUBTITLE),
            ward=gettext(words.WARD, ward=ward.name),
            steps_heading=gettext(words.STEPS_HEADING),
            steps=tuple(gettext(step) for step in words.STEPS),
            scan=gettext(words.SCAN),
            link=public_link(ward.code),
            phone_heading=gettext(words.PHONE_HEADING),
            phone=phone,
            relay=gettext(words.RELAY, phone=phone),
            emergency_heading=gettext(words.EMERGENCY_HEADING),
            # The trust's own words in the language where its translators wrote them, else its English.
            emergency=words_for(language.code).get(EMERGENCY_INSTRUCTION) or settings.emergency_instruction,
            trust_name=settings.trust_name,
        )


# Every phrase the poster translates (the trust's own words are not among them).
PHRASES = (
    words.TITLE,
    words.SUBTITLE,
    words.WARD,
    words.STEPS_HEADING,
    *words.STEPS,
    words.SCAN,
    words.PHONE_HEADING,
    words.RELAY,
    words.EMERGENCY_HEADING,
)


def untranslated(language: Language) -> int:
    """How many of the poster's phrases have no translation in the language yet (they would print in English)."""
    if language.code == "en":
        return 0
    with force_locale(language.code):
        return sum(1 for text in PHRASES if gettext(text) == text)
