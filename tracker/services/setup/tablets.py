"""Ward tablets (docs/architecture.md#enrolled-devices): the tablet a ward keeps for families is an enrolled
device, so kiosk mode (the form clears itself for the next family, the call's channel is "tablet") follows that
device and never a family's own phone that opened the ward's link.

Wards used to be set to kiosk mode for every device. That old setting is still honoured for a ward until its
first tablet is enrolled, and never after the date the upgrade set (`Settings.kiosk_default_until`, 30 days on),
so no ward tablet suddenly lost kiosk mode; the Ward tablets page warns the manager until then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import DeviceKind, EnrolledDevice, Team, User, Ward
from tracker.problems import FieldProblem
from tracker.services import scope
from tracker.services.records import audit
from tracker.services.setup import devices
from tracker.services.setup.settings import current_settings
from tracker.services.setup.wards import WardInfo


@dataclass(frozen=True)
class Kiosk:
    """Whether a ward's form is shown in kiosk mode on this device, and why (the "why" is for the manager's
    warning and the tests; families never see it)."""

    on: bool
    why: str  # "tablet", "ward_default" or "own_device"


@dataclass(frozen=True)
class WardTablets:
    """One ward on the Ward tablets page."""

    ward_id: int
    code: str
    name: str
    team_name: str
    tablets: list[devices.DeviceRow]
    legacy_until: datetime | None  # the old ward-wide kiosk setting still applies until then

    @property
    def live_tablets(self) -> int:
        return sum(1 for tablet in self.tablets if tablet.state == "Working")


def kiosk_for(ward: WardInfo, device: devices.Device | devices.NotHonoured) -> Kiosk:
    """Kiosk mode for this ward's form on this device: on an enrolled tablet (of any ward: it is a shared device
    wherever it is carried), or on every device while the ward's old setting lasts."""
    if isinstance(device, devices.Device) and device.kind is DeviceKind.TABLET:
        return Kiosk(True, "tablet")
    if _legacy_until(ward.kiosk_default, ward.id) is not None:
        return Kiosk(True, "ward_default")
    return Kiosk(False, "own_device")


def _legacy_until(kiosk_default: bool, ward_id: int) -> datetime | None:
    until = current_settings().kiosk_default_until
    if not kiosk_default or until is None or until <= utcnow():
        return None
    return None if _has_live_tablet(ward_id) else until


def _has_live_tablet(ward_id: int) -> bool:
    now = utcnow()
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    EnrolledDevice.kind == DeviceKind.TABLET,
                    EnrolledDevice.ward_id == ward_id,
                    EnrolledDevice.revoked_at.is_(None),
                    EnrolledDevice.enrolled_at.is_not(None),
                    EnrolledDevice.expires_at > now,
                )
            )
        )
    )


def _ward_in_reach(user: User | None, ward_id: int) -> Ward | None:
    query = select(Ward).where(Ward.id == ward_id, Ward.retired_at.is_(None))
    if user is not None:
        query = query.where(Ward.team_id.in_(select(Team.id).where(scope.teams(user))))
    return db.session.scalar(query)


def create_tablet(user: User | None, ward_id: int, label: str, actor: audit.Actor) -> devices.NewLink:
    """A one-time link that makes the device it is opened on this ward's tablet for families (a manager's ward;
    `user` None is the command line, which may enrol any open ward's tablet)."""
    ward = _ward_in_reach(user, ward_id)
    if ward is None:
        raise FieldProblem("ward", "Choose one of your wards")
    name = " ".join(label.split())[:80]
    if not name:
        raise FieldProblem("label", "Enter a name for this tablet, such as Bay 2 tablet")
    device = EnrolledDevice(
        kind=DeviceKind.TABLET, label=name, site_id=ward.site_id, team_id=ward.team_id, ward_id=ward.id
    )
    return devices.new_link(device, actor, created_by_id=user.id if user else None)


def wards_with_tablets(user: User) -> list[WardTablets]:
    """Every open ward of the manager's teams, with its tablets (newest first) and the old setting's end."""
    wards = db.session.execute(
        select(Ward.id, Ward.code, Ward.name, Ward.kiosk_default, Team.name.label("team"))
        .join(Team, Team.id == Ward.team_id)
        .where(Ward.retired_at.is_(None), scope.teams(user))
        .order_by(Ward.name)
    ).all()
    by_ward: dict[int | None, list[devices.DeviceRow]] = {}
    for row in devices.listing(user, DeviceKind.TABLET):
        by_ward.setdefault(row.ward_id, []).append(row)
    return [
        WardTablets(
            ward_id=ward.id,
            code=ward.code,
            name=ward.name,
            team_name=ward.team,
            tablets=by_ward.get(ward.id, []),
            legacy_until=_legacy_until(ward.kiosk_default, ward.id),
        )
        for ward in wards
    ]
