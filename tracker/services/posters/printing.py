"""Which wards' posters a person may print and in which languages, the PDF itself, and the audit row that says it was
printed (docs/architecture.md#posters). A manager prints their site's open wards, an administrator every site's; the
languages are the trust's enabled ones (`settings.languages_enabled`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import Site, User, Ward
from tracker.services import scope
from tracker.services.languages import Language, by_code, catalogue_status, parse_enabled
from tracker.services.posters import content, drawing, fonts
from tracker.services.records import audit
from tracker.services.setup.settings import TrustSettings


@dataclass(frozen=True)
class LanguageChoice:
    """An enabled language on the posters page: whether its fonts are installed (else which Debian packages to
    install), how many of the poster's words still lack a translation, and whether a translator has checked it."""

    language: Language
    missing_packages: list[str]
    untranslated: int
    status: str  # "draft" or "reviewed" (services/languages.py)
    phrases: int = len(content.PHRASES)

    @property
    def printable(self) -> bool:
        return not self.missing_packages


def enabled(settings: TrustSettings) -> list[Language]:
    return [language for code in parse_enabled(settings.languages_enabled) if (language := by_code(code))]


def language_choices(settings: TrustSettings) -> list[LanguageChoice]:
    return [
        LanguageChoice(
            language,
            fonts.missing_packages(language.script),
            content.untranslated(language),
            catalogue_status(language.code),
        )
        for language in enabled(settings)
    ]


def enabled_language(settings: TrustSettings, code: str) -> Language | None:
    """The language with this code if the trust has enabled it; None for an unknown or a disabled one."""
    return next((language for language in enabled(settings) if language.code == code), None)


def wards_to_print(user: User) -> list[Ward]:
    """The open wards whose posters the person may print, by site and then by name, with their sites and teams."""
    query = (
        select(Ward)
        .join(Site, Site.id == Ward.site_id)
        .where(Ward.retired_at.is_(None), scope.wards_for_posters(user))
        .options(joinedload(Ward.site), joinedload(Ward.team))
        .order_by(Site.name, Ward.name)
    )
    return list(db.session.scalars(query))


def ward_to_print(user: User, code: str) -> Ward | None:
    """The open ward with this code within the person's reach; None for an unknown, closed or out-of-reach one
    (they are not told which)."""
    query = select(Ward).where(Ward.code == code.lower()[:32], Ward.retired_at.is_(None), scope.wards_for_posters(user))
    return db.session.scalar(query.options(joinedload(Ward.team)))


def posters(wards: Sequence[Ward], settings: TrustSettings, language: Language) -> bytes:
    """One PDF, a page per ward. Raises drawing.FontsMissing when the language's fonts are not installed."""
    title = (
        f"Martha's Rule poster: {wards[0].name} ({language.english})"
        if len(wards) == 1
        else f"Martha's Rule posters ({language.english})"
    )
    return drawing.draw([content.poster_content(ward, settings, language) for ward in wards], title=title)


def record_printed(user: User, language: Language, wards: Sequence[Ward]) -> None:
    """The audit row for posters printed, in the caller's transaction: who, which language, which wards."""
    audit.record(
        "posters_printed",
        audit.Actor.user(user.id),
        object_type="ward" if len(wards) == 1 else None,
        object_id=wards[0].id if len(wards) == 1 else None,
        changes={"language": language.code, "wards": [ward.code for ward in wards]},
    )


def file_name(language: Language, ward: Ward | None = None) -> str:
    """Made from codes we hold (lower-case letters, digits, hyphens, and the registry's language codes)."""
    return f"poster-{ward.code if ward else 'all-wards'}-{language.code}.pdf"
