"""Jinja filters and globals shared by the pages: times in the trust's own zone, and the audit
trail in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from tracker.clock import utcnow

TEMPLATE_WORDS = {
    "family_receipt": "receipt to the caller",
    "clinician_alert": "alert to the on-call clinician",
    "clinician_alert_burst": "alert to the on-call clinician (several calls)",
    "voice_alert": "voice alert",
    "review_reminder": "review reminder to the claimant",
    "review_overdue": "review overdue, to the next tier",
    "rota_test": "rota test",
    "update_team_coming": "update to the caller: team coming",
    "update_team_will_call": "update to the caller: team will phone",
    "update_review_done": "update to the caller: team has seen the patient",
    "update_please_call": "update to the caller: please phone the team",
}

ACTION_WORDS = {
    "concern_raised": "Raised",
    "repeat_merged": "The caller sent the same concern again",
    "message_queued": "Text queued",
    "message_held": "Text held back",
    "message_accepted": "Text sent",
    "message_retry": "Text delayed; trying again",
    "message_unknown": "Text outcome unclear; checking with the provider",
    "message_dead": "Text failed",
    "message_cancelled": "Text cancelled, no longer needed",
    "message_lease_expired": "Text sending interrupted; checking",
    "alert_coalesced": "Alert shared with other flagged calls",
    "alert_not_possible": "No alert could be sent: nobody on call has a mobile and there is no fallback number",
    "viewed": "Opened",
    "claimed": "Claimed",
    "released": "Released back to the queue",
    "handed_over": "Handed over",
    "priority_set": "Priority set",
    "review_recorded": "Review recorded",
    "closed": "Closed",
    "closed_without_review": "Closed without a clinical review",
    "cancelled": "Cancelled",
    "reopened": "Reopened",
    "note_added": "Note",
    "escalation_step_fired": "Alert sent",
    "escalation_step_skipped": "Alert step skipped: nobody on call",
    "escalation_moved_on": "Alert failed or went unanswered: next step brought forward",
    "escalation_paused": "Alert acknowledged (not claimed): paging paused",
    "review_overdue_reminder": "Review overdue: the claimant was reminded",
    "review_overdue_escalated": "Review overdue: the next tier was told",
    "message_delivered": "Text delivered",
    "message_delivery_failed": "Text not delivered",
    "call_not_answered": "Voice alert not answered",
    "caller_replied": "The caller texted back",
}


def local_time(moment: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    if moment is None:
        return ""
    from tracker.services.settings import current_settings

    return moment.astimezone(ZoneInfo(current_settings().timezone)).strftime(fmt)


def timeline_words(action: str, changes: dict) -> str:
    words = ACTION_WORDS.get(action, action.replace("_", " ").capitalize())
    template = changes.get("template_id")
    if template:
        words += f": {TEMPLATE_WORDS.get(template, template)}"
    if action == "priority_set":
        words += f" to {({1: 'urgent', 2: 'soon', 3: 'routine'}).get(changes.get('priority'), 'none')}"
    if action == "review_recorded":
        words += " (" + ("seen on the ward" if changes.get("review_kind") == "seen_on_ward" else "advice by phone")
        if changes.get("news2_total") is not None:
            words += f", NEWS2 {changes['news2_total']}"
        words += ")"
    if action in {"closed", "closed_without_review"} and changes.get("concern_type"):
        words += f": {changes['concern_type'].replace('_', ' ')}"
    if action == "cancelled" and changes.get("cancel_kind"):
        words += f" ({changes['cancel_kind']})"
    if action in {"escalation_step_fired", "escalation_step_skipped"} and changes.get("label"):
        words += f" ({changes['label']}" + (", voice call" if changes.get("channel") == "voice" else "") + ")"
    if action == "escalation_paused" and changes.get("minutes"):
        words += f" for {changes['minutes']} minutes" + (" by keypress" if changes.get("source") == "voice_keypress"
                                                         else " by text")
    if action == "message_held" and changes.get("hold_reason"):
        words += f" ({changes['hold_reason'].replace('_', ' ')})"
    return words


def _display_phone(e164: str | None) -> str:
    from tracker.services.phone import display_phone

    return display_phone(e164) if e164 else ""


def register(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["timeline_words"] = timeline_words
    app.jinja_env.filters["tracker_lookup"] = lambda key, mapping: mapping.get(key, key)
    app.jinja_env.globals["utcnow"] = utcnow
    app.jinja_env.globals["display_phone"] = _display_phone
    app.jinja_env.filters["ward_option"] = lambda ward, chosen: {
        "value": str(ward.id), "text": f"{ward.name}, {ward.site.name}", "selected": str(ward.id) == str(chosen or "")}
