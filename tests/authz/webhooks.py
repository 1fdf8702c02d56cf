"""Authorisation matrix rows for Twilio's webhooks (see tests/authz/__init__.py): nobody gets in
without Twilio's signature, signed in or not (the signed requests are in tests/webhooks/)."""

ROLES = ["anonymous", "ward_staff", "outreach", "manager", "admin"]

ROWS: dict = {
    "webhooks.status": ("POST", "/webhooks/twilio/status?m=1", dict.fromkeys(ROLES, 403)),
    "webhooks.inbound_text": ("POST", "/webhooks/twilio/inbound", dict.fromkeys(ROLES, 403)),
    "webhooks.voice": ("POST", "/webhooks/twilio/voice?m=1", dict.fromkeys(ROLES, 403)),
}
