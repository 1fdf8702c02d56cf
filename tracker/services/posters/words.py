"""The words on a ward's poster (docs/architecture.md#posters), marked for the families' catalogues and
translated when a poster is drawn in a language. The trust's own words (its emergency instruction) and
numbers come from the settings, not from here."""

from __future__ import annotations


def N_(text: str) -> str:
    """Marks a string for extraction; the poster translates it in its own language when it draws."""
    return text


TITLE = N_("Worried that a patient is getting worse?")
SUBTITLE = N_("Martha's Rule: you can ask for an urgent review, day or night.")
STEPS_HEADING = N_("What to do")
STEPS = (
    N_("Tell the nurse looking after the patient."),
    N_("If you are still worried, ask for the nurse in charge."),
    N_("Still worried, or not being listened to? Call the critical care outreach team, or use this page."),
)
SCAN = N_("Scan the code with your phone's camera, or go to:")
PHONE_HEADING = N_("Critical care outreach team, 24 hours a day:")
RELAY = N_("Deaf, hard of hearing or speech impaired? Use Relay UK: dial 18001 then %(phone)s")
EMERGENCY_HEADING = N_("In an emergency")
WARD = N_("Ward: %(ward)s")
