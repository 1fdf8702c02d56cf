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

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as tracker/services/concerns/references.py
ROUTES = ["family_carer_advocate"] * 72 + ["patient"] * 15 + ["staff"] * 13  # most calls come from families
TYPES = {"acute_deterioration": 40, "clinical_concern": 20, "communication": 20, "discharge_planning": 10}
TYPES["other_signposted"] = 10
OUTCOMES = {"critical_care_admission": 8, "transfer_enhanced_or_tertiary": 5, "change_in_care": 45, "no_change": 42}
AUDIT_ACTIONS = ["viewed", "viewed", "viewed", "claimed", "review_recorded", "closed", "message_queued"]
AUDIT_ACTIONS += ["message_accepted", "message_delivered", "escalation_step_fired", "note_added"]


def names(text: str) -> list[str]:
    """Column names as SQL lists them, space-separated."""
    return text.split()


WORRY = "Breathing fast and not herself since this morning."
FAMILY_OUTCOMES = {"accepted delivered": 80, "accepted undelivered": 6, "dead -": 4, "cancelled -": 3}
FAMILY_OUTCOMES["accepted sent"] = 7
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
BATCH, TABLES = 50_000, ("concern", "message")


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
    v = dict.fromkeys(CONCERN_COLUMNS) | {"id": cid, "ward_id": ward[0], "site_id": ward[1], "team_id": ward[2]}
    v.update(change_in_care="[]", version=1, reference=reference(n), submission_id=f"bench-{n}", status=status)
    if status != "new" and not (status == "cancelled" and rng.random() < 0.5):
        v.update(acknowledged_at=raised + seconds(rng, (20, 280), (300, 1500), 0.88), version=2)
        v.update(claimed_by_id=rng.choice(claimers), priority=rng.choice([None, 1, 2, 3]))
    if status == "closed":
        kind = v["concern_type"] = pick(rng, TYPES)
        v["clinical_review_needed"] = kind == "acute_deterioration" or rng.random() < 0.6
        if kind == "acute_deterioration":
            outcome = v["deterioration_outcome"] = pick(rng, OUTCOMES)
            changes = rng.sample(["medication", "oxygen", "investigations", "other"], rng.choice([1, 1, 2]))
            v["change_in_care"] = json.dumps(changes if outcome == "change_in_care" else [])
    if status == "reviewed" or (status == "closed" and v["clinical_review_needed"]):
        reviewed = raised + seconds(rng, (300, 1750), (1800, 5400), 0.8)
        v.update(reviewed_at=max(reviewed, v["acknowledged_at"] + timedelta(seconds=30)), version=v["version"] + 1)
        v.update(review_kind=rng.choice(["phone_advice", "seen_on_ward"]), news2_total=rng.randint(0, 9))
        v.update(news2_scale=1, news2_response=rng.choice(["low", "medium", "high"]))
    if status == "closed":
        method = rng.choice(["phone", "phone", "in_person", "text_message", "could_not_contact"])
        base = v["reviewed_at"] or v["acknowledged_at"]
        updated = None if method == "could_not_contact" else base + timedelta(seconds=rng.randint(300, 5400))
        v.update(caller_update_method=method, caller_updated_at=updated, version=v["version"] + 1)
        v["closed_at"] = (updated or base) + timedelta(seconds=rng.randint(60, 1800))
    if status == "cancelled":
        v.update(cancel_kind="duplicate" if rng.random() < 0.4 else "withdrawn", version=v["version"] + 1)
    v.update(bed=rng.choice(["Bay 1", "Bay 2", "Side room 1", None]), patient_name=f"Patient {n}")
    v.update(caller_route=rng.choice(ROUTES), caller_name=f"Caller {n}", caller_relationship="daughter")
    v.update(callback_number="+447400123456", callback_textable=True, sms_consent=True, locale="en", repeat_count=0)
    v.update(interpreter_needed=False, spoke_to_ward="yes", flagged_burst=False, flagged_automated=False)
    v.update(worry_categories=json.dumps(rng.sample(WORRIES, rng.randint(1, 3))), worry_details=WORRY)
    v.update(channel=rng.choice(["own_device", "own_device", "tablet", "phone_call", "staff"]), raised_at=raised)
    v["first_alert_sent_at"] = raised + timedelta(seconds=rng.randint(3, 120))
    clocks = [v[k] for k in ("first_alert_sent_at", "acknowledged_at", "reviewed_at", "caller_updated_at", "closed_at")]
    v["updated_at"] = min(max(t for t in clocks if t is not None), now - timedelta(seconds=30))
    return v


def messages(cid: int, raised: datetime, first_id: int, rng: random.Random) -> list[tuple]:
    """A clinician alert for every call and a family text for about 60 %."""
    plans = [("clinician", pick(rng, {"accepted delivered": 90, "accepted sent": 5, "dead -": 5}))]
    if rng.random() < 0.6:
        plans.append(("family", pick(rng, FAMILY_OUTCOMES)))
    out = []
    for offset, (audience, outcome) in enumerate(plans):
        (state, delivery), at, mid = outcome.split(), raised + timedelta(seconds=2 + offset), first_id + offset
        family, delivery, accepted = audience == "family", None if delivery == "-" else delivery, state == "accepted"
        v = {"id": mid, "concern_id": cid, "audience": audience, "channel": "sms", "variables": "{}", "locale": "en"}
        v.update(recipient_kind="caller" if family else "contact", recipient_role=None if family else "team_duty_phone")
        v.update(to_number="+447400123456" if family else "+447400900101", idempotency_key=f"bench:{mid}", attempts=1)
        v.update(template_id="family_receipt" if family else "clinician_alert", send_state=state, next_attempt_at=at)
        v.update(provider_sid=f"SMbench{mid}" if accepted else None, delivery_status=delivery, created_at=at)
        later = at + timedelta(seconds=15)
        v.update(delivery_status_at=later if delivery else None, updated_at=later, accepted_at=at if accepted else None)
        v["error_code"] = ("21610" if family else "30003") if state == "dead" else None
        out.append(tuple(v[c] for c in MESSAGE_COLUMNS))
    return out


def write_calls(db, moments: list[datetime], ward: Callable, status: Callable, claimers: list[int], **kw) -> dict:
    """One call per moment (ward() and status(raised) chosen by the caller), with its texts, numbered
    from kw first_n in the order of `moments` (kw: rng, now); returns the counts written."""
    db.check_columns("concern", CONCERN_COLUMNS)
    db.check_columns("message", MESSAGE_COLUMNS)
    rng, now, first_n = kw["rng"], kw.get("now") or datetime.now(UTC), kw.get("first_n", 0)
    with db.connect() as conn:
        cid, mid = (conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0] for t in TABLES)
        calls, texts, written = [], [], {"calls": 0, "messages": 0}
        for n, raised in enumerate(moments, first_n):
            row = call(n, cid + n - first_n, ward(), status(raised), raised, claimers, rng, now)
            calls.append(tuple(row[c] for c in CONCERN_COLUMNS))
            texts += messages(row["id"], raised, mid + written["messages"] + len(texts), rng)
            if len(calls) >= BATCH or n == first_n + len(moments) - 1:
                db.bulk_insert(conn, "concern", CONCERN_COLUMNS, calls)
                db.bulk_insert(conn, "message", MESSAGE_COLUMNS, texts)
                written = {"calls": written["calls"] + len(calls), "messages": written["messages"] + len(texts)}
                calls, texts = [], []
    return written


def write_audit(db, count: int, concern_ids, users: list[int], rng, now: datetime, days: int, hash_rule) -> int:
    """`count` events appended to the chain, oldest first, hashed with the app's rule; returns the head's id."""
    db.check_columns("audit_event", AUDIT_COLUMNS)
    with db.connect() as conn:
        ((last_id, last_hash),) = conn.execute("SELECT last_event_id, last_hash FROM audit_chain_head WHERE id = 1")
        start, step, batch = now - timedelta(days=days), days * 86400 / max(count, 1), []
        for i in range(count):
            action, concern_id = AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)], rng.choice(concern_ids)
            object_type = "message" if action.startswith("message") else "concern"
            changes = {"status": "acknowledged"} if action == "claimed" else {}
            changes = {"template_id": "family_receipt"} if object_type == "message" else changes
            values = [last_id + 1, start + timedelta(seconds=i * step), "user", rng.choice(users), action, object_type]
            fields = [*values, concern_id, concern_id, changes, last_hash]
            event = SimpleNamespace(**dict(zip(AUDIT_COLUMNS[:10], fields, strict=True)))
            last_id, last_hash = event.id, hashlib.sha256(hash_rule(event)).hexdigest()
            batch.append((*values, concern_id, concern_id, json.dumps(changes), event.prev_hash, last_hash))
            if len(batch) >= BATCH or i == count - 1:
                db.bulk_insert(conn, "audit_event", AUDIT_COLUMNS, batch)
                batch = []
        head = "UPDATE audit_chain_head SET last_event_id = ?, last_hash = ? WHERE id = 1"
        conn.execute(*db.statement(head, (last_id, last_hash)))
    return last_id
