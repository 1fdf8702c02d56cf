"""What Twilio's error codes mean for us (docs/architecture.md#messages): the plain-English reason staff see for each
refusal, whether it is permanent or worth retrying, and which mean our account itself was refused (an alarm).
Plain data, so it needs no twilio import."""

from __future__ import annotations

ADMIN = "Tell the system administrator: the Twilio settings need fixing."


# Twilio error codes that will never succeed, with what staff can do about each. Codes that only
# apply to texts say "text"; the rest apply to texts and calls alike.
PERMANENT_REASONS: dict[int, str] = {
    21211: "This phone number is not valid, so nothing could be sent to it. Check the number.",
    21217: "This phone number is not valid, so nothing could be sent to it. Check the number.",
    13224: "This phone number is not valid for a phone call. Check the number.",
    13223: "This phone number is not valid for a phone call. Check the number.",
    21610: "The person has replied STOP to texts from this number, so no more texts can reach them. "
    "Phone them instead.",
    21614: "This number cannot receive texts: it is not a mobile number. Phone the caller instead.",
    21635: "This number cannot receive texts: it is a landline. Phone the caller instead.",
    21612: "Texts cannot be sent between our number and this number. Phone the person instead. " + ADMIN,
    21408: "Our Twilio account is not allowed to text or call numbers in this country. Phone the person "
    "from a hospital phone instead. " + ADMIN,
    21215: "Our Twilio account is not allowed to call numbers in this country. Phone the person from a "
    "hospital phone instead. " + ADMIN,
    13227: "Our Twilio account is not allowed to call numbers in this country. Phone the person from a "
    "hospital phone instead. " + ADMIN,
    21214: "This number cannot be called. Check the number, or text instead.",
    13225: "Twilio blocks calls to this number. Phone it from a hospital phone instead.",
    21216: "Twilio blocks calls to this number. Phone it from a hospital phone instead.",
    21606: "Our sending number cannot send texts to this number. " + ADMIN,
    21212: "Our sending number is not valid. " + ADMIN,
    21210: "Our calling number is not verified with Twilio. " + ADMIN,
    21701: "Our Twilio Messaging Service does not exist. " + ADMIN,
    21704: "Our Twilio Messaging Service has no phone number to send from. " + ADMIN,
    21608: "Our Twilio trial account can only text verified numbers. " + ADMIN,
    21219: "Our Twilio trial account can only call verified numbers. " + ADMIN,
    21205: "Twilio refused the web address for delivery reports. " + ADMIN,
    21617: "The text is too long to send. " + ADMIN,
    90007: "The text's validity period is outside Twilio's limits. " + ADMIN,
}


# Codes in delivery reports (ErrorCode on a status callback): the text was accepted but did not
# arrive. Shown to staff on the failed-messages page.
DELIVERY_REASONS: dict[int, str] = {
    30001: "Twilio's queue for our number was full, so the text was dropped. " + ADMIN,
    30002: "Our Twilio account was suspended, so the text was dropped. " + ADMIN,
    30003: "The phone was switched off or out of signal, so the text was not delivered.",
    30004: "The text was blocked by the phone network or by the person.",
    30005: "This number does not exist or is no longer in use. Check the number.",
    30006: "This number is a landline or cannot receive texts. Phone the person instead.",
    30007: "The phone network filtered the text as unwanted.",
    30008: "The phone network could not deliver the text and did not say why.",
    21610: PERMANENT_REASONS[21610],
}


# Our own account refused: nothing can be sent until an administrator fixes the settings, so the
# messages wait (and retry) rather than die, and the alarm goes up at once.
ACCOUNT_REFUSED: dict[int | None, str] = {  # int | None: the code an answer may lack
    20003: "Twilio refused our account details, so nothing can be sent until they are fixed. " + ADMIN,
    20005: "Our Twilio account is not active, so nothing can be sent until it is. " + ADMIN,
    20008: "Twilio refused our test account details, so nothing can be sent until they are fixed. " + ADMIN,
}


# 4xx codes that mean "not now" rather than "never": nothing was queued.
TEMPORARY_CODES = {
    20429,  # too many requests
    21611,  # our number's outgoing queue is full
}


def delivery_reason(code: str | None) -> str | None:
    """Plain English for the ErrorCode of a delivery report, or None when there is no code."""
    if not code:
        return None
    try:
        number = int(code)
    except ValueError:
        return f"The text was not delivered (error {code[:10]})."
    return (
        DELIVERY_REASONS.get(number)
        or PERMANENT_REASONS.get(number)
        or f"The text was not delivered (error {number}, see twilio.com/docs/errors/{number})."
    )
