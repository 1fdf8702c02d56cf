"""The words for coded values (docs/architecture.md#where-each-rule-lives): what staff pages, exports and
reports call a status, an outcome, a priority, a tier, a text's state or an audited action. One
place, so a word changes everywhere at once; the family's pages have their own, translated, words."""

from __future__ import annotations

from tracker.models import (
    PRIORITIES,
    AlertChannel,
    CallerUpdateMethod,
    CancelKind,
    ChangeInCare,
    ConcernType,
    DeteriorationOutcome,
    ReviewKind,
    Tier,
)

NOT_CODED = "not_coded"  # the exports' outcome filter for calls with no coding yet

PRIORITY_WORDS = PRIORITIES  # 1 Urgent, 2 Soon, 3 Routine


# What the staff pages call each coded value of a call (the forms' options, the exports' and reports'
# columns).
# Words for the coded values, keyed by value (what the forms post and templates hold).
LABELS = {
    ReviewKind.PHONE_ADVICE.value: "Advice by phone",
    ReviewKind.SEEN_ON_WARD.value: "Seen on the ward",
    ConcernType.ACUTE_DETERIORATION.value: "Acute deterioration",
    ConcernType.CLINICAL_CONCERN.value: "Clinical concern (for example delayed medication or tests)",
    ConcernType.COMMUNICATION.value: "Communication",
    ConcernType.DISCHARGE_PLANNING.value: "Discharge planning",
    ConcernType.OTHER_SIGNPOSTED.value: "Other, signposted (PALS, complaints, non-clinical)",
    DeteriorationOutcome.CRITICAL_CARE_ADMISSION.value: "Admitted to critical care (HDU or ICU)",
    DeteriorationOutcome.TRANSFER_ENHANCED_OR_TERTIARY.value: "Transferred to enhanced care or a tertiary centre",
    DeteriorationOutcome.CHANGE_IN_CARE.value: "Change in care on the ward",
    DeteriorationOutcome.NO_CHANGE.value: "No change in care",
    ChangeInCare.MEDICATION.value: "Medication (for example antibiotics)",
    ChangeInCare.OXYGEN.value: "Oxygen",
    ChangeInCare.INVESTIGATIONS.value: "Investigations",
    ChangeInCare.OTHER.value: "Other treatment",
    CallerUpdateMethod.PHONE.value: "By phone",
    CallerUpdateMethod.IN_PERSON.value: "In person",
    CallerUpdateMethod.TEXT_MESSAGE.value: "By text message",
    CallerUpdateMethod.COULD_NOT_CONTACT.value: "Could not contact them",
    CancelKind.DUPLICATE.value: "A duplicate of another call",
    CancelKind.WITHDRAWN.value: "Withdrawn by the caller",
}


STATUS_WORDS = {
    "new": "New",
    "acknowledged": "Claimed",
    "reviewed": "Reviewed",
    "closed": "Closed",
    "cancelled": "Cancelled",
}

OUTCOME_WORDS = {
    **{t.value: LABELS[t.value] for t in ConcernType},
    **{
        o.value: "Acute deterioration: " + LABELS[o.value][0].lower() + LABELS[o.value][1:]
        for o in DeteriorationOutcome
    },
    NOT_CODED: "Not coded yet (still open, or cancelled)",
}


TEMPLATE_WORDS = {
    "family_receipt": "receipt to the caller",
    "family_reference": "the reference again, to the caller who asked",
    "clinician_alert": "alert to the on-call clinician",
    "clinician_alert_burst": "alert to the on-call clinician (several calls)",
    "voice_alert": "voice alert",
    "daily_check_alert": "daily check: a bed needs a nurse, to the nurse in charge",
    "voice_daily_check": "daily check: a bed needs a nurse, a call to the nurse in charge",
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
    "message_recheck_after_restore": "Database restored from a backup: checking with the provider whether the text went",
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
    "ack_after_ceiling": "Alert acknowledged again, but acknowledgements had held paging as long as allowed: "
    "paging continued",
    "escalation_handover_paged": "Shift change: the clinicians now on call were paged",
    "review_overdue_reminder": "Review overdue: the claimant was reminded",
    "review_overdue_escalated": "Review overdue: the next tier was told",
    "message_delivered": "Text delivered",
    "message_delivery_failed": "Text not delivered",
    "call_not_answered": "Voice alert not answered",
    "caller_replied": "The caller texted back",
    "caller_follow_up_text": "The caller texted after the call ended (a follow-up text)",
    "follow_up_read": "Follow-up text marked as read",
    "follow_up_raised": "A new call was raised from the caller's text",
    "linked": "Linked to another call about the same patient: no longer paged",
    "unlinked": "Unlinked: back in the queue on its own, paged again",
    "linked_call_followed": "Followed the call it is linked to",
    "text_in_raised": "Raised from a text to the tracker's number (a text-in call)",
    "text_in_not_paged": "Not paged: text-in calls wait on the queue (the trust's setting, or the hourly limit)",
    "text_in_details_set": "Who raised it and the ward were set",
    "caller_opted_out": "The caller texted an opt-out word (such as STOP or CANCEL): no more texts go to them",
    # The hospital's set-up (tracker/admin, flask tracker): sites, teams and wards.
    "site_added": "Site added",
    "site_renamed": "Site renamed",
    "team_added": "Outreach team added",
    "team_changed": "Outreach team changed",
    "ward_added": "Ward added",
    "ward_renamed": "Ward renamed",
    "ward_team_changed": "Ward moved to another outreach team",
    "ward_nurse_in_charge_changed": "Ward's nurse in charge number changed",
    "ward_retired": "Ward closed (its link kept, saying so)",
    # Staff accounts: joiners, movers and leavers, and how they sign in. Each is recorded about the account
    # (object type "user"), so the audit viewer's "Staff accounts" filter finds it; a test holds every action
    # recorded about an account to having words here.
    "user_created": "Staff account created",
    "user_invited": "Invitation made for a staff account (a link to choose a password)",
    "invitation_used": "Invitation used: the account's owner chose a password",
    "user_deactivated": "Staff account deactivated: every session ended",
    "user_reactivated": "Staff account reactivated",
    "user_role_changed": "Staff account's role changed",
    "user_teams_changed": "Staff account moved to other teams",
    "user_ward_changed": "Staff account moved to another ward",
    "user_site_changed": "Staff account moved to another site",
    "user_mobile_changed": "Mobile number for alerts changed",
    "password_reset": "Password reset: a one-time password was given",
    "password_changed": "Password changed by its owner",
    "mfa_enrolled": "Authenticator set up",
    "mfa_replaced": "Authenticator replaced",
    "mfa_removed": "Authenticator removed",
    "mfa_reset": "Authenticator reset: a new one is set up at the next sign-in",
    "sessions_ended": "Every session of the account ended",
    "sign_in_failed": "Sign-in failed",
    "signed_in": "Signed in",
    "signed_out": "Signed out",
    "session_ended": "Session ended",
    # The access review (services/people/access_reviews.py).
    "access_review_recorded": "Access review recorded as done for the month",
    "access_review_downloaded": "Access review downloaded as CSV",
    "access_review_days_saved": "Changed how many days without a sign-in flag an account as unused",
    # The improvement charts (services/reports/improvement_changes.py).
    "improvement_change_recorded": "Change recorded on the improvement charts (a new baseline from its month)",
    "improvement_change_removed": "Change removed from the improvement charts",
    "improvement_baseline_fixed": "Baseline fixed on the improvement charts",
    "improvement_baseline_removed": "Baseline unfixed on the improvement charts",
    "spc_run_length_saved": "Run length of the improvement charts' shift and trend rules saved",
    # Staff accounts, more (docs/architecture.md#set-up).
    "user_moved": "Staff account given another role, team, ward or site",
    "user_deactivated_at_once": "Staff account deactivated at once (with its reason)",
    "sign_in_counts_cleared": "Wrong sign-in counts cleared",
    "rota_pattern_changed": "Someone covered or taken out of a rota pattern",
    # The trust's settings: each names the settings version it made (the settings history holds the values).
    "settings_changed": "Trust settings changed",
    "retention_changed": "Retention periods changed",
    "working_hours_changed": "In hours for the reports changed",
    "safeguarding_lead_saved": "Safeguarding lead saved",
    "text_in_settings_saved": "Text-in calls' team or paging saved",
    "linked_calls_counting_saved": "How linked calls count saved",
    "device_address_ranges_set": "Network address ranges for displays and tablets saved",
    "languages_enabled_set": "Families' languages saved",
    "trust_words_set": "The trust's own words in a family language saved",
    "purge_shortened_retention_confirmed": "Purge run within 14 days of a shorter retention period, confirmed as meant",
    "sign_on_refused": "Sign-in with a trust account refused",
    "sign_on_linked": "Account linked to a trust account",
    "sign_on_unlinked": "Account's link to a trust account removed",
    "break_glass_set": "Break-glass administrator marked or unmarked",
    "sign_on_outage_started": "Sign-on outage: local sign-in turned on for everyone",
    "sign_on_outage_ended": "Sign-on outage: local sign-in turned off",
}

# The staff pages' words for a call (the queue shows them on every row, so plain functions rather
# than macros).
CALLER_ROUTE_WORDS = {
    "patient": "Patient",
    "family_carer_advocate": "Family, carer or advocate",
    "staff": "Staff",
    "not_yet_known": "Not yet known (a text)",
}
# The queue's narrow column: the same routes in fewer words.
QUEUE_ROUTE_WORDS = {
    "patient": "Patient",
    "family_carer_advocate": "Family or carer",
    "staff": "Staff",
    "not_yet_known": "A text (not yet known)",
}
# How a call came in (the call's page and the exports).
CONCERN_CHANNEL_WORDS = {
    "tablet": "ward tablet",
    "own_device": "own phone or computer",
    "phone_call": "phone call",
    "staff": "staff route",
    "staff_assisted": "with staff help",
    "sms": "a text from the caller",
}
SPOKE_TO_WARD_WORDS = {"yes": "Yes", "no": "No"}
NO_WARD_YET = "Ward not yet known"  # a text-in call until a clinician sets its ward

WORRY_WORDS = {
    "not_usual_self": "not usual self",
    "breathing": "breathing",
    "skin_or_sweating": "skin or sweating",
    "little_urine": "little urine",
    "sleepy_or_confused": "sleepy or confused",
    "hands_hot_or_cold": "hands hot or cold",
    "pain": "pain",
    "general_worry": "general worry",
}

TEXT_STATE_WORDS = {
    "pending": "Waiting to send",
    "sending": "Sending",
    "unknown": "Checking",
    "accepted": "Sent",
    "queued": "Sent",
    "sent": "Sent",
    "delivered": "Delivered",
    "undelivered": "Not delivered",
    "failed": "Failed",
    "dead": "Failed",
    "cancelled": "Cancelled",
    "held": "Held back",
}


def caller_text_words(
    *,
    number: str | None,
    consent: bool,
    textable: bool,
    relative: bool,
    relatives_texted: bool,
    stopped_by_caller: bool,
    safeguarding: bool,
    patient_left: bool,
    latest: str | None,
) -> str:
    """Texts to a caller, in words, for the queue and the call's page: why none can go, or how the latest went."""
    if safeguarding:
        return "Texts stopped (safeguarding)"
    if patient_left:
        return "Texts stopped (the patient died or left)"
    if stopped_by_caller:
        return "Texts stopped by the caller"
    if latest:
        return latest
    if not number:
        return "No number"
    if not consent:
        return "Did not agree to texts"
    if not textable:
        return "Cannot be texted (landline or abroad)"
    if relative and not relatives_texted:
        return "The trust does not text relatives"
    return "No text yet"


TIER_WORDS = {Tier.PRIMARY.value: "Primary", Tier.SECONDARY.value: "Secondary", Tier.LEAD.value: "Lead"}

CHANNEL_WORDS = {AlertChannel.SMS.value: "Text message", AlertChannel.VOICE.value: "Voice call"}
