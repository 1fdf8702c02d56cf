"""Every text a family gets, in every language (docs/architecture.md#languages): it carries the
reference, the team's number and the "if the patient is very unwell now, tell a nurse" line, and fits
its budget of two GSM-7 segments or three UCS-2 segments with the longest values."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.services.test_sms_text import WORST_CASE
from tracker.services.languages import LANGUAGES
from tracker.services.messaging.sms_text import FAMILY_TEMPLATES, measure, render

VERY_UNWELL = "If the patient is very unwell now, tell a nurse."
# Texts answering a text: they carry the trust's own instruction for a patient very unwell now instead.
ANSWERS_TO_A_TEXT = {"follow_up_reply", "text_in_reply", "help_reply"}


@pytest.mark.parametrize("code", [language.code for language in LANGUAGES])
@pytest.mark.parametrize("template_id", sorted(FAMILY_TEMPLATES))
def test_each_family_text_fits_two_gsm_or_three_unicode_segments(app, template_id, code):
    with app.app_context():
        body = render(template_id, WORST_CASE, code)
    segments = measure(body)
    assert segments.count <= (2 if segments.encoding == "GSM-7" else 3), (segments, body)


@pytest.mark.parametrize("code", [language.code for language in LANGUAGES])
@pytest.mark.parametrize("template_id", sorted(FAMILY_TEMPLATES - {"help_reply"}))
def test_each_family_text_carries_the_reference_the_number_and_what_to_do_now(app, template_id, code):
    with app.app_context():
        body = render(template_id, WORST_CASE, code)
        with force_locale(code):
            tell_a_nurse = gettext(VERY_UNWELL)
    assert WORST_CASE["reference"] in body
    assert WORST_CASE["team_phone"] in body or WORST_CASE["phone"] in body
    if template_id in ANSWERS_TO_A_TEXT:
        assert WORST_CASE["instruction"] in body
    else:
        assert tell_a_nurse in body


@pytest.mark.parametrize("code", [language.code for language in LANGUAGES if language.code != "en"])
@pytest.mark.parametrize("template_id", sorted(FAMILY_TEMPLATES))
def test_every_family_text_is_in_the_familys_language_not_english(app, template_id, code):
    with app.app_context():
        english = render(template_id, WORST_CASE, "en")
        body = render(template_id, WORST_CASE, code)
    for sentence in english.split(". "):
        assert sentence.strip(".") not in body or len(sentence) < 12, (sentence, body)
