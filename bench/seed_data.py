"""Bulk data for the queue and reports benchmarks, written with the database drivers (sqlite3
executemany, psycopg COPY), not the app, so 200,000 calls take seconds, not an hour: calls at the
demo trust with their texts, and audit rows that extend the hash chain. Every column list is
checked against the database first, so a schema change fails loudly here.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as tracker/services/references.py
ROUTES = ["family_carer_advocate"] * 72 + ["patient"] * 15 + ["staff"] * 13  # domain §2.2's mix
TYPES = {"acute_deterioration": 40, "clinical_concern": 20, "communication": 20, "discharge_planning": 10}
TYPES["other_signposted"] = 10
OUTCOMES = {"critical_care_admission": 8, "transfer_enhanced_or_tertiary": 5, "change_in_care": 45, "no_change": 42}
AUDIT_ACTIONS = ["viewed", "viewed", "viewed", "claimed", "review_recorded", "closed", "message_queued"]
AUDIT_ACTIONS += ["message_accepted", "message_delivered", "escalation_step_fired", "note_added"]


def names(text: str) -> list[str]:
    """Column names as SQL lists them, space-separated."""
    return text.split()


WORRIES = ["not_usual_self", "breathing", "skin_or_sweating", "little_urine", "sleepy_or_confused", "pain"]
CONCERN_COLUMNS = names(
    "id reference submission_id ward_id site_id team_id bed patient_name caller_route caller_name caller_relationship "
    "callback_number callback_textable sms_consent locale interpreter_needed worry_categories worry_details "
    "spoke_to_ward channel status version repeat_count flagged_burst flagged_automated raised_at first_alert_sent_at "
    "acknowledged_at reviewed_at caller_updated_at closed_at updated_at review_kind concern_type priority news2_total "
    "news2_scale news2_response clinical_review_needed deterioration_outcome change_in_care caller_update_method "
    "cancel_kind claimed_by_id"
)
MESSAGE_COLUMNS = names(
    "id concern_id audience channel recipient_kind recipient_role to_number template_id variables locale "
    "idempotency_key send_state attempts next_attempt_at provider_sid delivery_status delivery_status_at error_code "
    "created_at accepted_at updated_at"
)
AUDIT_COLUMNS = names(
    "id occurred_at actor_type actor_id action object_type object_id concern_id changes prev_hash hash"
)
BATCH = 50_000


def reference(n: int) -> str:
    """A unique MR-XXXX-XX for every n < 31**6 (7919 is prime to 31, so n -> n * 7919 is a bijection)."""
    x, chars = (n * 7919 + 4242) % len(REF_ALPHABET) ** 6, []
    for _ in range(6):
        x, d = divmod(x, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[d])
    return f"MR-{''.join(chars[:4])}-{''.join(chars[4:])}"


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seconds(rng: random.Random, usual: tuple[int, int], late: tuple[int, int], on_time: float) -> timedelta:
    return timedelta(seconds=rng.randint(*usual) if rng.random() < on_time else rng.randint(*late))


def call(n: int, cid: int, ward: tuple, status: str, raised: datetime, claimers: list[int], rng, now) -> dict:
    """One call and its clocks. About one claim in eight and one review in five are past target, so the
    dashboard has breaches to list."""
    v = dict(acknowledged_at=None, reviewed_at=None, caller_updated_at=None, closed_at=None, claimed_by_id=None)
    v.update(review_kind=None, concern_type=None, clinical_review_needed=None, deterioration_outcome=None)
    v.update(caller_update_method=None, cancel_kind=None, priority=None, news2_total=None, news2_scale=None)
    v.update(news2_response=None, change_in_care="[]", version=1)
    if status != "new" and not (status == "cancelled" and rng.random() < 0.5):
        v.update(
            acknowledged_at=raised + seconds(rng, (20, 280), (300, 1500), 0.88), claimed_by_id=rng.choice(claimers)
        )
        v.update(priority=rng.choice([None, 1, 2, 3]), version=2)
    if status == "closed":
        kind = v["concern_type"] = pick(rng, TYPES)
        v["clinical_review_needed"] = kind == "acute_deterioration" or rng.random() < 0.6
        if kind == "acute_deterioration":
            outcome = v["deterioration_outcome"] = pick(rng, OUTCOMES)
            changes = rng.sample(["medication", "oxygen", "investigations", "other"], rng.choice([1, 1, 2]))
            v["change_in_care"] = json.dumps(changes if outcome == "change_in_care" else [])
    if status == "reviewed" or (status == "closed" and v["clinical_review_needed"]):
        reviewed = max(
            raised + seconds(rng, (300, 1750), (1800, 5400), 0.8), v["acknowledged_at"] + timedelta(seconds=30)
        )
        v.update(
            reviewed_at=reviewed, review_kind=rng.choice(["phone_advice", "seen_on_ward"]), version=v["version"] + 1
        )
        v.update(news2_total=rng.randint(0, 9), news2_scale=1, news2_response=rng.choice(["low", "medium", "high"]))
    if status == "closed":
        method = v["caller_update_method"] = rng.choice(
            ["phone", "phone", "in_person", "text_message", "could_not_contact"]
        )
        base = v["reviewed_at"] or v["acknowledged_at"]
        updated = None if method == "could_not_contact" else base + timedelta(seconds=rng.randint(300, 5400))
        v.update(caller_updated_at=updated, closed_at=(updated or base) + timedelta(seconds=rng.randint(60, 1800)))
        v["version"] += 1
    if status == "cancelled":
        v.update(cancel_kind="duplicate" if rng.random() < 0.4 else "withdrawn", version=v["version"] + 1)
    v.update(
        id=cid, reference=reference(n), submission_id=f"bench-{n}", ward_id=ward[0], site_id=ward[1], team_id=ward[2]
    )
    v.update(
        bed=rng.choice(["Bay 1", "Bay 2", "Side room 1", None]), patient_name=f"Patient {n}", caller_name=f"Caller {n}"
    )
    v.update(caller_route=rng.choice(ROUTES), caller_relationship="daughter", callback_number="+447400123456")
    v.update(callback_textable=True, sms_consent=True, locale="en", interpreter_needed=False, spoke_to_ward="yes")
    v.update(worry_categories=json.dumps(rng.sample(WORRIES, rng.randint(1, 3))), status=status, repeat_count=0)
    v.update(worry_details="Breathing fast and not herself since this morning.", flagged_burst=False)
    v.update(channel=rng.choice(["own_device", "own_device", "tablet", "phone_call", "staff"]), flagged_automated=False)
    v.update(raised_at=raised, first_alert_sent_at=raised + timedelta(seconds=rng.randint(3, 120)))
    clocks = [v[k] for k in ("first_alert_sent_at", "acknowledged_at", "reviewed_at", "caller_updated_at", "closed_at")]
    v["updated_at"] = min(max(t for t in clocks if t is not None), now - timedelta(seconds=30))
    return v


def messages(cid: int, raised: datetime, first_id: int, rng: random.Random) -> list[tuple]:
    """A clinician alert for every call and a family text for about 60 %."""
    plans = [("clinician", pick(rng, {"accepted delivered": 90, "accepted sent": 5, "dead -": 5}))]
    if rng.random() < 0.6:
        family = {
            "accepted delivered": 80,
            "accepted undelivered": 6,
            "dead -": 4,
            "cancelled -": 3,
            "accepted sent": 7,
        }
        plans.append(("family", pick(rng, family)))
    out = []
    for offset, (audience, outcome) in enumerate(plans):
        (state, delivery), at, mid = outcome.split(), raised + timedelta(seconds=2 + offset), first_id + offset
        family, delivery = audience == "family", None if delivery == "-" else delivery
        v = dict(
            id=mid, concern_id=cid, audience=audience, channel="sms", recipient_kind="caller" if family else "contact"
        )
        v.update(recipient_role=None if family else "team_duty_phone", variables="{}", locale="en", attempts=1)
        v.update(to_number="+447400123456" if family else "+447400900101", idempotency_key=f"bench:{mid}")
        v.update(template_id="family_receipt" if family else "clinician_alert", send_state=state, next_attempt_at=at)
        v.update(provider_sid=f"SMbench{mid}" if state == "accepted" else None, delivery_status=delivery)
        v.update(delivery_status_at=at + timedelta(seconds=15) if delivery else None, created_at=at)
        v.update(error_code=("21610" if family else "30003") if state == "dead" else None)
        v.update(accepted_at=at if state == "accepted" else None, updated_at=at + timedelta(seconds=15))
        out.append(tuple(v[c] for c in MESSAGE_COLUMNS))
    return out


def write_calls(
    db,
    moments: list[datetime],
    ward: Callable,
    status: Callable,
    claimers: list[int],
    *,
    first_n: int = 0,
    rng: random.Random,
    now: datetime | None = None,
) -> dict:
    """One call per moment (ward() and status(raised) chosen by the caller), with its texts; returns
    the counts written. Numbered from first_n, in the order of `moments`."""
    db.check_columns("concern", CONCERN_COLUMNS)
    db.check_columns("message", MESSAGE_COLUMNS)
    now = now or datetime.now(UTC)
    with db.connect() as conn:
        (cid,), (mid,) = (
            conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone() for t in ("concern", "message")
        )
        calls, texts, written = [], [], {"calls": 0, "messages": 0}
        for n, raised in enumerate(moments, first_n):
            row = call(n, cid, ward(), status(raised), raised, claimers, rng, now)
            calls.append(tuple(row[c] for c in CONCERN_COLUMNS))
            texts += messages(cid, raised, mid + len(texts), rng)
            cid += 1
            if len(calls) >= BATCH or n == first_n + len(moments) - 1:
                db.bulk_insert(conn, "concern", CONCERN_COLUMNS, calls)
                db.bulk_insert(conn, "message", MESSAGE_COLUMNS, texts)
                written = {"calls": written["calls"] + len(calls), "messages": written["messages"] + len(texts)}
                mid, calls, texts = mid + len(texts), [], []
    return written


def write_audit(
    db, count: int, concern_ids: list[int], users: list[int], rng, now: datetime, days: int, hash_rule
) -> int:
    """`count` events appended to the chain, oldest first, hashed with the app's rule; returns the head's id."""
    db.check_columns("audit_event", AUDIT_COLUMNS)
    with db.connect() as conn:
        ((last_id, last_hash),) = conn.execute("SELECT last_event_id, last_hash FROM audit_chain_head WHERE id = 1")
        start, step, batch = now - timedelta(days=days), days * 86400 / max(count, 1), []
        for i in range(count):
            action, concern_id = AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)], rng.choice(concern_ids)
            on_message = action.startswith("message")
            changes = (
                {"status": "acknowledged"}
                if action == "claimed"
                else ({"template_id": "family_receipt"} if on_message else {})
            )
            event = SimpleNamespace(
                id=last_id + 1,
                occurred_at=start + timedelta(seconds=i * step),
                actor_type="user",
                actor_id=rng.choice(users),
                action=action,
                object_type="message" if on_message else "concern",
                object_id=concern_id,
                concern_id=concern_id,
                changes=changes,
                prev_hash=last_hash,
            )
            last_id, last_hash = event.id, hashlib.sha256(hash_rule(event)).hexdigest()
            batch.append(
                (*(getattr(event, c) for c in AUDIT_COLUMNS[:8]), json.dumps(changes), event.prev_hash, last_hash)
            )
            if len(batch) >= BATCH or i == count - 1:
                db.bulk_insert(conn, "audit_event", AUDIT_COLUMNS, batch)
                batch = []
        conn.execute(
            *db.statement(
                "UPDATE audit_chain_head SET last_event_id = ?, last_hash = ? WHERE id = 1", (last_id, last_hash)
            )
        )
    return last_id
