"""Every text fits its segment budget, and family texts carry no clinical detail (docs/architecture.md#messages)."""

from __future__ import annotations

import pathlib

import pytest

from tracker.services.messaging.sms_text import SEGMENT_BUDGET, VOICE_TEMPLATES, measure, render

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "templates" / "sms"

# The longest values each variable can take in practice.
WORST_CASE = {
    "reference": "MR-WWWW-WW",
    "team_phone": "+44 20 7946 0101",
    "ward": "W" * 40,  # ward and site names are cut to 40 characters in alerts
    "site": "S" * 40,
    "raised": "23:59",
    "link": "https://martha-tracker.example-hospital.nhs.uk/triage/c/MR-WWWW-WW",
    "claimant": "C" * 40,
    "team": "T" * 60,
    "minutes": 30,
    "pause": 30,
    "trust": "T" * 60,  # cut to 60 characters in texts
    "phone": "+44 20 7946 0101",
    "instruction": "I" * 90,  # the trust's emergency instruction, cut to 90 characters in the follow-up reply
}


def test_every_template_file_has_a_budget():
    assert {path.stem for path in TEMPLATES.glob("*.txt")} == set(SEGMENT_BUDGET) | VOICE_TEMPLATES


@pytest.mark.parametrize("template_id", sorted(SEGMENT_BUDGET))
def test_each_text_fits_its_segment_budget_with_the_longest_values(app, template_id):
    with app.app_context():
        body = render(template_id, WORST_CASE, "en")
    segments = measure(body)
    assert segments.encoding == "GSM-7", body
    assert segments.count <= SEGMENT_BUDGET[template_id], (segments, body)


def test_the_family_receipt_carries_the_reference_and_the_number_and_nothing_clinical(app):
    with app.app_context():
        body = render("family_receipt", {"reference": "MR-7QK4-92", "team_phone": "020 7946 0101"}, "en")
    assert "MR-7QK4-92" in body and "020 7946 0101" in body
    assert "http" not in body  # no links


def test_segments_are_counted_as_the_network_counts_them():
    assert measure("a" * 160).count == 1
    assert measure("a" * 161).count == 2
    assert measure("a" * 306).count == 2
    assert measure("€" * 80).units == 160  # extension characters cost two
    assert measure("é" * 160).encoding == "GSM-7"  # é is in the GSM basic set
    assert measure("ł" * 70).count == 1 and measure("ł" * 70).encoding == "UCS-2"
    assert measure("ł" * 71).count == 2
    assert measure("😀" * 35).units == 70  # astral characters take two UTF-16 units


def test_an_unknown_template_is_refused(app):
    with app.app_context(), pytest.raises(KeyError):
        render("free_text", {}, "en")


def test_the_voice_alert_reads_the_reference_letter_by_letter(app):
    with app.app_context():
        spoken = render("voice_alert", {"reference": "MR-7QK4-92", "ward": "Ward 7", "site": "General"}, "en")
    assert "M R 7 Q K 4 9 2" in spoken and "Press 1 to acknowledge" in spoken and "Ward 7" in spoken
