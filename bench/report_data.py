"""Data for bench/reports.py (shared by its dashboard and exports halves): two years of Martha's Rule
calls at the demo trust with their texts, and an audit trail of a million rows whose hash chain
verifies. Written with the database drivers (sqlite3 executemany, psycopg COPY), not the app, so
200,000 calls take seconds, not an hour.

    from report_data import seed
    figures = seed(db, concerns=200_000, audit_rows=1_000_000, seed=1)

`db` is one of bench/submit.py's databases (SqliteDatabase or PostgresDatabase) after the
migrations and `flask tracker seed-demo` have run. The calls look like a busy trust's (domain §2.2:
about 72 % from families, 40 % acute deterioration; some claims and reviews late, so the
dashboard has breaches to list); every NOT NULL column is filled, and the script checks its column
lists against the database before writing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tracker.services.audit import canonical_bytes  # noqa: E402  (the app's own hash rule)
from tracker.services.report_facts import raised_values  # noqa: E402  (the app's own report facts)

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ROUTES = (["family_carer_advocate"] * 72) + (["patient"] * 15) + (["staff"] * 13)
TYPES = (["acute_deterioration"] * 40) + (["clinical_concern"] * 20) + (["communication"] * 20) + \
        (["discharge_planning"] * 10) + (["other_signposted"] * 10)
OUTCOMES = (["critical_care_admission"] * 8) + (["transfer_enhanced_or_tertiary"] * 5) + \
           (["change_in_care"] * 45) + (["no_change"] * 42)
CHANGES = ["medication", "oxygen", "investigations", "other"]
AUDIT_ACTIONS = ["viewed", "viewed", "viewed", "claimed", "review_recorded", "closed", "message_queued",
                 "message_accepted", "message_delivered", "escalation_step_fired", "note_added"]

CONCERN_COLUMNS = [
    "id", "reference", "submission_id", "ward_id", "site_id", "team_id", "bed", "patient_name", "caller_route",
    "caller_name", "caller_relationship", "callback_number", "callback_textable", "sms_consent", "locale",
    "interpreter_needed", "worry_categories", "worry_details", "spoke_to_ward", "channel", "status", "version",
    "repeat_count", "flagged_burst", "flagged_automated", "raised_at", "first_alert_sent_at", "acknowledged_at",
    "reviewed_at", "caller_updated_at", "closed_at", "updated_at", "review_kind", "concern_type",
    "clinical_review_needed", "deterioration_outcome", "change_in_care", "caller_update_method", "cancel_kind",
    "claimed_by_id",
    # Report facts (tracker/services/report_facts.py), worked out by the app's own function.
    "raised_local_date", "raised_local_month", "raised_local_hour", "raised_local_seconds", "raised_local_weekday",
    "to_first_alert_us", "to_acknowledge_us", "to_review_us", "to_caller_updated_us",
]
MESSAGE_COLUMNS = [
    "id", "concern_id", "audience", "channel", "recipient_kind", "recipient_role", "to_number", "template_id",
    "variables", "locale", "idempotency_key", "send_state", "attempts", "next_attempt_at", "provider_sid",
    "delivery_status", "delivery_status_at", "error_code", "created_at", "accepted_at", "updated_at",
]
AUDIT_COLUMNS = ["id", "occurred_at", "actor_type", "actor_id", "action", "object_type", "object_id", "concern_id",
                 "changes", "prev_hash", "hash"]


class DataError(RuntimeError):
    """The database does not look as this script expects; the message says why."""


# --- talking to either database ---------------------------------------------------------------------------


@contextlib.contextmanager
def connect(db):
    """A driver connection (sqlite3 or psycopg), committed on success."""
    if db.kind == "postgres":
        import psycopg

        with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            yield conn
    else:
        import sqlite3

        conn = sqlite3.connect(db.path, timeout=60)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            yield conn
            conn.commit()
        finally:
            conn.close()


def rows_of(conn, db, sql: str, params: tuple = ()) -> list[tuple]:
    if db.kind == "postgres":
        sql = sql.replace("?", "%s")
    return list(conn.execute(sql, params).fetchall())


def required_columns(conn, db, table: str) -> set[str]:
    """Columns that are NOT NULL and have no default: each must be written."""
    if db.kind == "postgres":
        found = rows_of(conn, db, "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND "
                                  "is_nullable = 'NO' AND column_default IS NULL", (table,))
        return {name for (name,) in found}
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[3] and row[4] is None and not row[5]}


def check_columns(conn, db, table: str, columns: list[str]) -> None:
    missing = required_columns(conn, db, table) - set(columns)
    if missing:
        raise DataError(f"table {table} has required columns bench/report_data.py does not fill: {sorted(missing)}")


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):  # as SQLAlchemy stores a Date on SQLite
        return value.isoformat()
    return value


def bulk_insert(conn, db, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if db.kind == "postgres":
        with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if "id" in columns:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        return
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                     ([_sqlite_value(v) for v in row] for row in rows))


# --- the trust as seed-demo made it ---------------------------------------------------------------------


def demo_trust(conn, db) -> dict:
    wards = rows_of(conn, db, "SELECT w.id, w.site_id, w.team_id, s.code FROM ward w JOIN site s ON s.id = w.site_id "
                              "WHERE w.retired_at IS NULL ORDER BY w.id")
    users = [uid for (uid,) in rows_of(conn, db, "SELECT id FROM user_account ORDER BY id")]
    if not wards or not users:
        raise DataError("no wards or users: run `flask tracker seed-demo` first")
    main = [w for w in wards if w[3] == "ngh"]
    other = [w for w in wards if w[3] != "ngh"] or main
    zone = rows_of(conn, db, "SELECT timezone FROM settings WHERE id = 1")
    return {"main_wards": main, "other_wards": other, "users": users,
            "timezone": zone[0][0] if zone and zone[0][0] else "Europe/London"}


def reference(n: int) -> str:
    x = (n * 7919 + 4242) % len(REF_ALPHABET) ** 6
    chars = []
    for _ in range(6):
        x, d = divmod(x, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[d])
    return f"MR-{''.join(chars[:4])}-{''.join(chars[4:])}"


def _concern(n: int, cid: int, trust: dict, rng: random.Random, now: datetime, raised: datetime) -> tuple:
    ward = rng.choice(trust["main_wards"] if rng.random() < 0.9 else trust["other_wards"])
    recent = now - raised < timedelta(days=2)
    if recent and rng.random() < 0.3:
        status = rng.choice(["new", "acknowledged", "reviewed"])
    else:
        status = rng.choices(["closed", "cancelled"], weights=[95, 5])[0]
    alerted = raised + timedelta(seconds=rng.randint(3, 120))
    acked = reviewed = updated = closed = review_kind = kind = needed = outcome = method = cancel = claimed = None
    changes: list[str] = []
    version = 1
    if status != "new" and not (status == "cancelled" and rng.random() < 0.5):
        # Most claims inside 5 minutes; about one in eight later.
        acked = raised + timedelta(seconds=rng.randint(20, 280) if rng.random() < 0.88 else rng.randint(300, 1500))
        claimed = rng.choice(trust["users"])
        version += 1
    if status == "closed":
        kind = rng.choice(TYPES)
        needed = True if kind == "acute_deterioration" else rng.random() < 0.6
        if kind == "acute_deterioration":
            outcome = rng.choice(OUTCOMES)
            if outcome == "change_in_care":
                changes = rng.sample(CHANGES, rng.choice([1, 1, 2]))
    if status == "reviewed" or (status == "closed" and needed):
        reviewed = raised + timedelta(seconds=rng.randint(300, 1750) if rng.random() < 0.8 else rng.randint(1800, 5400))
        reviewed = max(reviewed, acked + timedelta(seconds=30))
        review_kind = rng.choice(["phone_advice", "seen_on_ward"])
        version += 1
    if status == "closed":
        base = reviewed or acked
        method = rng.choice(["phone", "phone", "in_person", "text_message", "could_not_contact"])
        updated = None if method == "could_not_contact" else base + timedelta(seconds=rng.randint(300, 5400))
        closed = (updated or base) + timedelta(seconds=rng.randint(60, 1800))
        version += 1
    if status == "cancelled":
        cancel = "duplicate" if rng.random() < 0.4 else "withdrawn"
        closed = None
        version += 1
    last = max(t for t in (raised, alerted, acked, reviewed, updated, closed) if t is not None)
    values = {
        "id": cid, "reference": reference(n), "submission_id": f"bench-report-{n}", "ward_id": ward[0],
        "site_id": ward[1], "team_id": ward[2], "bed": rng.choice(["Bay 1", "Bay 2", "Side room 1", None]),
        "patient_name": f"Patient {n}", "caller_route": rng.choice(ROUTES), "caller_name": f"Caller {n}",
        "caller_relationship": "daughter", "callback_number": "+447400123456", "callback_textable": True,
        "sms_consent": True, "locale": "en", "interpreter_needed": False,
        "worry_categories": json.dumps(rng.sample(["breathing", "pain", "not_usual_self", "sleepy_or_confused"], 2)),
        "worry_details": "Breathing fast and not herself.", "spoke_to_ward": "yes",
        "channel": rng.choice(["own_device", "own_device", "tablet", "phone_call", "staff"]), "status": status,
        "version": version, "repeat_count": 0, "flagged_burst": False, "flagged_automated": False,
        "raised_at": raised, "first_alert_sent_at": alerted, "acknowledged_at": acked, "reviewed_at": reviewed,
        "caller_updated_at": updated, "closed_at": closed, "updated_at": min(last, now),
        "review_kind": review_kind, "concern_type": kind, "clinical_review_needed": needed,
        "deterioration_outcome": outcome, "change_in_care": json.dumps(changes), "caller_update_method": method,
        "cancel_kind": cancel, "claimed_by_id": claimed,
    }
    values.update(raised_values(raised, trust["timezone"], values))
    return tuple(values[c] for c in CONCERN_COLUMNS)


def _messages(cid: int, raised: datetime, first_id: int, rng: random.Random) -> list[tuple]:
    out = []
    plans = [("clinician", rng.choices([("accepted", "delivered"), ("accepted", "sent"), ("dead", None)],
                                       weights=[90, 5, 5])[0])]
    if rng.random() < 0.6:
        plans.append(("family", rng.choices([("accepted", "delivered"), ("accepted", "undelivered"), ("dead", None),
                                             ("cancelled", None), ("accepted", "sent")], weights=[80, 6, 4, 3, 7])[0]))
    for offset, (audience, (state, delivery)) in enumerate(plans):
        at = raised + timedelta(seconds=2 + offset)
        mid = first_id + offset
        values = {
            "id": mid, "concern_id": cid, "audience": audience, "channel": "sms",
            "recipient_kind": "caller" if audience == "family" else "contact",
            "recipient_role": None if audience == "family" else "team_duty_phone",
            "to_number": "+447400123456" if audience == "family" else "+447400900101",
            "template_id": "family_receipt" if audience == "family" else "clinician_alert", "variables": "{}",
            "locale": "en", "idempotency_key": f"bench-report:{mid}", "send_state": state,
            "attempts": 1, "next_attempt_at": at, "provider_sid": f"SMbench{mid}" if state == "accepted" else None,
            "delivery_status": delivery, "delivery_status_at": at + timedelta(seconds=15) if delivery else None,
            "error_code": ("21610" if audience == "family" and rng.random() < 0.3 else "30003") if state == "dead" else None,
            "created_at": at, "accepted_at": at if state == "accepted" else None, "updated_at": at + timedelta(seconds=15),
        }
        out.append(tuple(values[c] for c in MESSAGE_COLUMNS))
    return out


def _audit_rows(conn, db, count: int, concern_ids: range, users: list[int], rng: random.Random, now: datetime,
                days: int) -> tuple[int, str]:
    """`count` events appended to the existing chain, with the app's own hash rule, oldest first;
    returns the new head (last id, last hash)."""
    (last_id, last_hash), = rows_of(conn, db, "SELECT last_event_id, last_hash FROM audit_chain_head WHERE id = 1")
    start = now - timedelta(days=days)
    step = (days * 86400) / max(count, 1)
    batch: list[tuple] = []
    for i in range(count):
        event_id = last_id + 1
        action = AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)]
        concern_id = concern_ids[rng.randrange(len(concern_ids))]
        changes = {"status": "acknowledged"} if action == "claimed" else (
            {"template_id": "family_receipt"} if action.startswith("message") else {})
        event = SimpleNamespace(id=event_id, occurred_at=start + timedelta(seconds=i * step), actor_type="user",
                                actor_id=rng.choice(users), action=action,
                                object_type="message" if action.startswith("message") else "concern",
                                object_id=concern_id, concern_id=concern_id, changes=changes, prev_hash=last_hash)
        digest = hashlib.sha256(canonical_bytes(event)).hexdigest()
        batch.append((event.id, event.occurred_at, event.actor_type, event.actor_id, event.action, event.object_type,
                      event.object_id, event.concern_id, json.dumps(changes), last_hash, digest))
        last_id, last_hash = event_id, digest
        if len(batch) >= 50_000:
            bulk_insert(conn, db, "audit_event", AUDIT_COLUMNS, batch)
            batch = []
    bulk_insert(conn, db, "audit_event", AUDIT_COLUMNS, batch)
    sql = "UPDATE audit_chain_head SET last_event_id = ?, last_hash = ? WHERE id = 1"
    conn.execute(sql.replace("?", "%s") if db.kind == "postgres" else sql, (last_id, last_hash))
    return last_id, last_hash


def seed(db, *, concerns: int = 200_000, audit_rows: int = 1_000_000, seed: int = 1, days: int = 730,
         now: datetime | None = None, log=print) -> dict:
    """Write the calls, their texts and the audit rows; then ANALYZE. Returns what was written."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    figures: dict = {}
    t0 = time.monotonic()
    with connect(db) as conn:
        check_columns(conn, db, "concern", CONCERN_COLUMNS)
        check_columns(conn, db, "message", MESSAGE_COLUMNS)
        check_columns(conn, db, "audit_event", AUDIT_COLUMNS)
        trust = demo_trust(conn, db)
        (first_concern,), = rows_of(conn, db, "SELECT coalesce(max(id), 0) + 1 FROM concern")
        (first_message,), = rows_of(conn, db, "SELECT coalesce(max(id), 0) + 1 FROM message")
        concern_rows, message_rows = [], []
        next_message = first_message
        raised_at = CONCERN_COLUMNS.index("raised_at")
        # Calls are raised, and so numbered, in time order, as in a real trust's table.
        moments = sorted(now - timedelta(seconds=rng.randint(3600, days * 86400)) for _ in range(concerns))
        for n, raised in enumerate(moments):
            row = _concern(n, first_concern + n, trust, rng, now, raised)
            concern_rows.append(row)
            texts = _messages(first_concern + n, row[raised_at], next_message, rng)
            message_rows += texts
            next_message += len(texts)
            if len(concern_rows) >= 50_000:
                bulk_insert(conn, db, "concern", CONCERN_COLUMNS, concern_rows)
                bulk_insert(conn, db, "message", MESSAGE_COLUMNS, message_rows)
                concern_rows, message_rows = [], []
        bulk_insert(conn, db, "concern", CONCERN_COLUMNS, concern_rows)
        bulk_insert(conn, db, "message", MESSAGE_COLUMNS, message_rows)
        figures["concerns"], figures["messages"] = concerns, next_message - first_message
        figures["concern_seconds"] = round(time.monotonic() - t0, 1)
        log(f"  wrote {concerns:,} calls over {days} days and {figures['messages']:,} texts in "
            f"{figures['concern_seconds']} s")
        t1 = time.monotonic()
        if audit_rows:
            last_id, _ = _audit_rows(conn, db, audit_rows, range(first_concern, first_concern + concerns),
                                     trust["users"], rng, now, days)
            figures["audit_last_id"] = last_id
        figures["audit_rows"] = audit_rows
        figures["audit_seconds"] = round(time.monotonic() - t1, 1)
        log(f"  appended {audit_rows:,} audit rows to the hash chain in {figures['audit_seconds']} s")
    analyze(db)
    return figures


def analyze(db) -> None:
    if db.kind == "postgres":
        import psycopg

        with psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return
    with connect(db) as conn:
        conn.execute("ANALYZE")
