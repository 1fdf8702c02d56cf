"""The settings history (docs/architecture.md#set-up): every change to the trust's settings, or to its own words
in a family language, keeps the settings as they then stand as a new version (values, who, when), so anyone may
later see what families were shown at a given moment. Each change's audit row names its version
(`object_type="settings_version"`), and the audit keeps no personal data: the history does (the safeguarding
lead's name and number are the trust's settings, as in the settings row itself).

Changes made in one transaction are one version: nobody saw the settings between them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Settings, SettingsVersion, TrustWords, User
from tracker.services.records import audit
from tracker.services.setup.settings import TrustSettings

# Every setting a version keeps: the settings row's columns but its id.
FIELDS = tuple(f.name for f in fields(TrustSettings) if f.name != "id")
WORDS = "words"
_OPEN = "settings_version_open"  # session.info: this transaction's version, and the transaction


def snapshot() -> dict:
    """The settings as they stand in this transaction, and the trust's words by language and key."""
    row = db.session.get(Settings, 1)
    values = {name: _plain(getattr(row, name, None)) for name in FIELDS} if row is not None else {}
    words: dict[str, dict[str, str]] = {}
    for locale, key, text in db.session.execute(
        select(TrustWords.locale, TrustWords.key, TrustWords.text).order_by(TrustWords.locale, TrustWords.key)
    ):
        words.setdefault(locale, {})[key] = text
    return {**values, WORDS: words}


def _plain(value: object) -> object:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def record(actor: audit.Actor, changed: Iterable[str], *, retention_shortened: bool = False) -> int | None:
    """Keep the settings as they now stand as a version, and return its id for the change's audit row. Nothing
    changed: no new version, and the id is the one in force. A second change in the same transaction joins its
    version. Call after the change is made (the values are read back)."""
    changed = list(changed)
    if not changed:
        return latest_id()
    db.session.flush()
    transaction = db.session().get_transaction()
    held = db.session.info.get(_OPEN)
    if held is not None and held[0] is transaction:
        version = held[1]
        version.changed = sorted({*version.changed, *changed})
        version.snapshot = snapshot()
        version.retention_shortened = version.retention_shortened or retention_shortened
    else:
        version = SettingsVersion(
            recorded_at=utcnow(),
            actor_type=actor.type,
            actor_id=actor.id if actor.type == "user" else None,
            changed=sorted(set(changed)),
            snapshot=snapshot(),
            retention_shortened=retention_shortened,
        )
        db.session.add(version)
        db.session.info[_OPEN] = (transaction, version)
    db.session.flush()
    return version.id


def differing(names: tuple[str, ...], before: tuple, after: tuple) -> list[str]:
    """The names whose values differ between two tuples of them."""
    return [name for name, old, new in zip(names, before, after, strict=True) if old != new]


def latest_id() -> int | None:
    return db.session.scalar(select(SettingsVersion.id).order_by(SettingsVersion.id.desc()).limit(1))


def in_force_at(moment: datetime) -> SettingsVersion | None:
    """The version families were shown at this moment: the last recorded at or before it (None before the
    history begins)."""
    return db.session.scalar(
        select(SettingsVersion)
        .where(SettingsVersion.recorded_at <= moment)
        .order_by(SettingsVersion.recorded_at.desc(), SettingsVersion.id.desc())
        .limit(1)
    )


def first_recorded() -> datetime | None:
    return db.session.scalar(select(SettingsVersion.recorded_at).order_by(SettingsVersion.recorded_at).limit(1))


@dataclass(frozen=True)
class Listed:
    version: SettingsVersion
    who: str


def versions(limit: int = 100) -> list[Listed]:
    """The latest versions, newest first, each with who made it in words."""
    rows = db.session.execute(
        select(SettingsVersion, User.display_name)
        .outerjoin(User, User.id == SettingsVersion.actor_id)
        .order_by(SettingsVersion.recorded_at.desc(), SettingsVersion.id.desc())
        .limit(limit)
    ).all()
    return [Listed(version, who_words(version.actor_type, name)) for version, name in rows]


def who_words(actor_type: str, name: str | None) -> str:
    if actor_type == "user":
        return name or "a staff member"
    return {
        "cli": "a set-up command on the server (flask tracker)",
        "migration": "the upgrade that began this history (the settings as they then stood)",
    }.get(actor_type, "the tracker itself")


def shortened_since(moment: datetime) -> SettingsVersion | None:
    """The latest version since `moment` that made a retention period shorter, if any."""
    return db.session.scalar(
        select(SettingsVersion)
        .where(SettingsVersion.retention_shortened.is_(True), SettingsVersion.recorded_at > moment)
        .order_by(SettingsVersion.recorded_at.desc())
        .limit(1)
    )


def shortened_recently(days: int) -> SettingsVersion | None:
    return shortened_since(utcnow() - timedelta(days=days))


def kept(
    action: str,
    actor: audit.Actor,
    changed: Iterable[str],
    changes: dict | None = None,
    *,
    retention_shortened: bool = False,
) -> int | None:
    """A settings change's version (`record`) and its audit row, which names the version and holds only
    `changes` (coded values, never personal data). Returns the version's id."""
    version = record(actor, changed, retention_shortened=retention_shortened)
    audit.record(action, actor, object_type="settings_version", object_id=version, changes=changes or {})
    return version
