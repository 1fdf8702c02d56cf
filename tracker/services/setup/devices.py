"""Enrolled devices (docs/architecture.md#enrolled-devices): a manager enrols the outreach office's screen as a
team's queue display with a one-time link opened on that screen; the link gives the device a long-lived secret
(kept in its HttpOnly cookie, stored here only as a hash) that lets it show the team's open calls with nobody
signed in. The device is limited to the address ranges the trust sets (production enrols none until they are
set), ends after its lifetime, and can be revoked at once. Creating, enrolling and revoking are audited, and
so is each device's first use of each day, never every refresh.

A ward's tablet for families (services/setup/tablets.py) is enrolled the same way, for a year, but is not limited
to the address ranges: its enrolment grants no access to anything, it only makes the family form clear itself
for the next family, so refusing it off the trust's network would only leave one family's answers on screen for
the next."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, select

from tracker.clock import local, utcnow
from tracker.extensions import db
from tracker.models import DeviceKind, EnrolledDevice, Settings, Team, User
from tracker.problems import FieldProblem, Problem
from tracker.services import scope
from tracker.services.records import audit
from tracker.services.setup import settings_history
from tracker.services.setup.settings import current_settings, forget_settings

LIFETIME = {DeviceKind.DISPLAY: timedelta(days=90), DeviceKind.TABLET: timedelta(days=365)}
LINK_LIFETIME = timedelta(hours=1)  # long enough to walk from the office PC to the screen; short if it leaks
RENEW_WARNING = timedelta(days=14)  # the display says when its set-up ends, so it is renewed in time
MAX_RANGES = 32


class DeviceProblem(Problem):
    """An enrolment that cannot be made or used; the message says why in plain English."""


@dataclass(frozen=True)
class Device:
    """An enrolled device, as a request knows it."""

    id: int
    kind: DeviceKind
    label: str
    site_id: int
    team_id: int | None
    ward_id: int | None
    expires_at: datetime
    ends_soon: bool
    last_used_on: date | None  # the trust's local day of its last use (its first use each day is audited)


@dataclass(frozen=True)
class NotHonoured:
    """Why a device's cookie does not make it a display: said plainly on its screen."""

    reason: str


@dataclass(frozen=True)
class NewLink:
    device_id: int
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class DeviceRow:
    """One enrolment on the Displays page."""

    id: int
    kind: DeviceKind
    label: str
    team_name: str | None
    ward_id: int | None
    created_at: datetime
    enrolled_at: datetime | None
    expires_at: datetime | None
    link_expires_at: datetime | None
    last_used_on: str | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        now = utcnow()
        if self.revoked_at:
            return "Revoked"
        if self.enrolled_at is None:
            return "Link not used yet" if self.link_expires_at and self.link_expires_at > now else "Link expired unused"
        return "Ended" if self.expires_at and self.expires_at <= now else "Working"

    @property
    def live(self) -> bool:
        return self.state in ("Working", "Link not used yet")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the trust's address ranges ------------------------------------------------------------------------------


def parse_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR ranges separated by commas or spaces ("10.20.0.0/16, 192.168.4.0/24"); a bare address is one host."""
    parts = [part for part in text.replace(",", " ").split() if part]
    if len(parts) > MAX_RANGES:
        raise FieldProblem("ranges", f"Give at most {MAX_RANGES} address ranges")
    networks = []
    for part in parts:
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise FieldProblem(
                "ranges", f"{part[:60]!r} is not an address range: write it like 10.20.0.0/16 or 192.168.4.0/24"
            ) from None
    return networks


def ranges_required() -> bool:
    """Whether devices need the trust's address ranges set before any is enrolled (production)."""
    return bool(current_app.config["DEVICE_ADDRESS_RANGES_REQUIRED"])


def address_allowed(address: str | None, ranges_text: str) -> bool:
    """Whether a device at this address may be a display. With no ranges set, only where configuration does
    not require them (development and tests)."""
    networks = parse_ranges(ranges_text)
    if not networks:
        return not ranges_required()
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def save_address_ranges(actor: audit.Actor, text: str) -> str:
    """Set the ranges every enrolled device must be on (an empty text clears them); returns them tidied."""
    row = db.session.get(Settings, 1)
    if row is None:
        raise DeviceProblem("Set up the trust first (setup-trust with its name and emergency instruction)")
    tidy = ", ".join(str(network) for network in parse_ranges(text))
    changed = ["device_address_ranges"] if row.device_address_ranges != tidy else []
    row.device_address_ranges = tidy
    settings_history.kept("device_address_ranges_set", actor, changed, {"ranges": tidy})
    forget_settings()
    return tidy


# --- enrolling -------------------------------------------------------------------------------------------------


def create_display(user: User, team_id: int, label: str) -> NewLink:
    """A one-time link that makes the device it is opened on the queue display of this team (in the
    manager's reach). Refused in production until the trust has set the address ranges."""
    team = db.session.scalar(select(Team).where(Team.id == team_id, scope.teams(user), Team.active.is_(True)))
    if team is None:
        raise FieldProblem("team", "Choose one of your teams")
    name = _label(label, "Enter a name for this display, such as Outreach office screen")
    if ranges_required() and not current_settings().device_address_ranges:
        raise DeviceProblem(
            "No display can be set up until the trust has set the network address ranges displays must be on "
            "(flask tracker setup-trust --device-address-ranges). Ask an administrator."
        )
    device = EnrolledDevice(kind=DeviceKind.DISPLAY, label=name, site_id=team.site_id, team_id=team.id)
    return new_link(device, audit.Actor.user(user.id), created_by_id=user.id)


def _label(label: str, missing: str) -> str:
    name = " ".join(label.split())[:80]
    if not name:
        raise FieldProblem("label", missing)
    return name


def new_link(device: EnrolledDevice, actor: audit.Actor, created_by_id: int | None) -> NewLink:
    """Give a new enrolment its one-time link (returned once: only its hash is kept), audited."""
    token = secrets.token_urlsafe(32)
    device.created_by_id = created_by_id
    device.link_hash = _hash(token)
    device.link_expires_at = utcnow() + LINK_LIFETIME
    db.session.add(device)
    db.session.flush()
    audit.record(
        "device_enrolment_created",
        actor,
        object_type="enrolled_device",
        object_id=device.id,
        changes={"kind": device.kind.value, "team_id": device.team_id, "ward_id": device.ward_id},
    )
    return NewLink(device.id, token, device.link_expires_at)


def pending_link(token: str) -> EnrolledDevice | None:
    """The enrolment a one-time link belongs to, while it can still be used."""
    if not token or len(token) > 100:
        return None
    device = db.session.scalar(select(EnrolledDevice).where(EnrolledDevice.link_hash == _hash(token)))
    if device is None or device.revoked_at or device.enrolled_at or not device.link_expires_at:
        return None
    return device if device.link_expires_at > utcnow() else None


def enrol(token: str, address: str | None) -> tuple[Device, str]:
    """Use a one-time link on this device: returns the device and the secret for its cookie."""
    device = pending_link(token)
    if device is None:
        raise DeviceProblem(
            "This set-up link has been used, has expired or was cancelled. Ask a manager for a new one."
        )
    if device.kind is DeviceKind.DISPLAY and not address_allowed(address, current_settings().device_address_ranges):
        raise DeviceProblem(
            "This device is not on the hospital network the trust allows displays on. "
            "Connect it to that network, or ask an administrator to add its address range."
        )
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    device.link_hash = None
    device.secret_hash = _hash(secret)
    device.enrolled_at = now
    device.expires_at = now + LIFETIME[device.kind]
    device.last_used_on = local(now, current_settings().timezone).date()
    db.session.flush()
    audit.record(
        "device_enrolled", audit.Actor("device", device.id), object_type="enrolled_device", object_id=device.id
    )
    return _device(device), secret


def _device(row: EnrolledDevice) -> Device:
    assert row.expires_at is not None  # only enrolled devices are made into one
    return Device(
        id=row.id,
        kind=row.kind,
        label=row.label,
        site_id=row.site_id,
        team_id=row.team_id,
        ward_id=row.ward_id,
        expires_at=row.expires_at,
        ends_soon=row.expires_at - utcnow() < RENEW_WARNING,
        last_used_on=row.last_used_on,
    )


# --- recognising a device --------------------------------------------------------------------------------------


def recognise(secret: str | None, address: str | None) -> Device | NotHonoured:
    """The device this cookie's secret belongs to, or why it is not honoured (said on the screen)."""
    if not secret or len(secret) > 100:
        return NotHonoured("This screen has not been set up as a display.")
    row = db.session.scalar(select(EnrolledDevice).where(EnrolledDevice.secret_hash == _hash(secret)))
    if row is None:
        return NotHonoured("This screen has not been set up as a display.")
    if row.revoked_at is not None:
        return NotHonoured("This screen's set-up was cancelled by a manager.")
    if row.expires_at is None or row.expires_at <= utcnow():
        return NotHonoured(f"This screen's set-up has ended (it lasts {LIFETIME[row.kind].days} days).")
    if row.kind is DeviceKind.DISPLAY and not address_allowed(address, current_settings().device_address_ranges):
        return NotHonoured("This screen is not on the hospital network the trust allows displays on.")
    return _device(row)


def first_use_today(device: Device) -> bool:
    """Whether this is the device's first use of the trust's day (then the caller records it, with a write)."""
    return device.last_used_on != local(utcnow(), current_settings().timezone).date()


def note_use(device: Device) -> None:
    """Record the device's first use of the day (audited once a day, never every refresh)."""
    today = local(utcnow(), current_settings().timezone).date()
    row = db.session.get_one(EnrolledDevice, device.id)
    if row.last_used_on == today:
        return  # another request of the same device got there first
    row.last_used_on = today
    audit.record("device_used", audit.Actor("device", device.id), object_type="enrolled_device", object_id=device.id)


# --- the Displays page -----------------------------------------------------------------------------------------


def _in_reach(user: User) -> ColumnElement[bool]:
    return EnrolledDevice.site_id.in_(select(Team.site_id).where(scope.teams(user)))


def listing(user: User, kind: DeviceKind = DeviceKind.DISPLAY) -> list[DeviceRow]:
    """Every enrolment of this kind in the person's reach (a manager's site; an administrator's trust), newest
    first."""
    rows = db.session.execute(
        select(EnrolledDevice, Team.name)
        .outerjoin(Team, Team.id == EnrolledDevice.team_id)
        .where(EnrolledDevice.kind == kind, _in_reach(user))
        .order_by(EnrolledDevice.created_at.desc(), EnrolledDevice.id.desc())
    ).all()
    return [
        DeviceRow(
            id=device.id,
            kind=device.kind,
            label=device.label,
            team_name=team_name,
            ward_id=device.ward_id,
            created_at=device.created_at,
            enrolled_at=device.enrolled_at,
            expires_at=device.expires_at,
            link_expires_at=device.link_expires_at,
            last_used_on=device.last_used_on.isoformat() if device.last_used_on else None,
            revoked_at=device.revoked_at,
        )
        for device, team_name in rows
    ]


def revoke(user: User, device_id: int) -> DeviceKind:
    """Cancel an enrolment (or its unused link) at once: the device's next refresh shows it is no longer set up."""
    device = db.session.scalar(select(EnrolledDevice).where(EnrolledDevice.id == device_id, _in_reach(user)))
    if device is None:
        raise DeviceProblem("That device is not one of yours, or no longer exists.")
    if device.revoked_at is not None:
        return device.kind
    device.revoked_at = utcnow()
    device.revoked_by_id = user.id
    device.link_hash = None
    audit.record("device_revoked", audit.Actor.user(user.id), object_type="enrolled_device", object_id=device.id)
    return device.kind
