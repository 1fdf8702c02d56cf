"""Hostile and broken input to the family's form: a clear message or a 4xx, never a 500 and never
lost text — on SQLite and PostgreSQL alike (PostgreSQL turns an unchecked NUL into a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from tests.conftest import valid_answers
from tracker.models import Concern


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "field",
    [
        "patient_name",
        "caller_name",
        "worry_details",
        "ward_response",
        "communication_needs",
        "bed",
        "caller_relationship",
    ],
)
@pytest.mark.parametrize("bad", ["abc\x00def", "bell\x07", "\x1b[2J", "x\x7f"])
def test_control_characters_get_a_clear_message_and_nothing_is_saved(family, read, field, bad):
    response = family.submit(**{field: bad})
    assert response.status_code == 400
    assert "has a character we cannot save" in page(response)
    assert read.count(Concern) == 0


def test_a_name_with_a_new_line_is_refused_with_a_message(family, read):
    response = family.submit(patient_name="Pat\nJones")
    assert response.status_code == 400 and "must be on one line" in page(response)


@pytest.mark.parametrize(
    "field, limit",
    [
        ("patient_name", 120),
        ("caller_name", 120),
        ("worry_details", 2000),
        ("ward_response", 1000),
        ("communication_needs", 500),
        ("bed", 60),
    ],
)
def test_every_field_has_a_length_limit_and_a_message(family, read, field, limit):
    assert family.submit(**{field: "é" * limit}).status_code == 303  # the limit is in characters, not bytes
    response = family.submit(**{field: "a" * (limit + 1)})
    assert response.status_code == 400
    assert f"must be {limit} characters or fewer" in page(response)


def test_script_and_html_are_kept_as_text_and_never_run(family, client, read):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7}}'
    response = family.submit(worry_details=payload, caller_name=payload[:100], patient_name="")
    html = page(response)
    assert response.status_code == 400  # no patient name or bed: shown again
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{7*7}}" in html and ">49<" not in html
    assert family.submit(worry_details=payload).status_code == 303
    assert read.one(Concern).worry_details == payload


def test_textarea_breakout_is_escaped_when_the_form_comes_back(family):
    html = page(family.submit(worry_details="</textarea><script>alert(1)</script>", patient_name=""))
    assert "</textarea><script>" not in html and "&lt;/textarea&gt;&lt;script&gt;" in html


def test_invalid_utf8_never_causes_an_error(family, client, read):
    hidden = family.open()
    body = "&".join(f"{k}={v}" for k, v in hidden.items()).encode() + (
        b"&caller_route=patient&patient_name=Pat&worry_details=%C3%28%FF+and+\xff\xfe+raw"
    )
    response = client.post("/w/w7", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert read.one(Concern).worry_details  # stored as text, whatever the browser meant


def test_emoji_and_right_to_left_text_round_trip(family, read):
    text = "😀🙏🏽 𝕏 مرحبا Z̵̧̛"
    assert family.submit(worry_details=text, patient_name="Zoë 王").status_code == 303
    concern = read.one(Concern)
    assert concern.worry_details == text and concern.patient_name == "Zoë 王"


def test_bidi_controls_are_stripped_from_names(family, read):
    family.submit(patient_name="Ali\u202egnp.exe")
    assert read.one(Concern).patient_name == "Alignp.exe"


@pytest.mark.parametrize("number", ["07700 900 12", "999", "+4477009", "07400 12345a", "0" * 41])
def test_a_number_that_is_not_a_phone_number_gets_a_message_and_keeps_the_text(family, read, number):
    response = family.submit(callback_number=number, worry_details="Keep this")
    html = page(response)
    assert response.status_code == 400
    assert "Enter a phone number in the right format" in html or "characters or fewer" in html
    assert "Keep this" in html
    assert read.count(Concern) == 0


@pytest.mark.parametrize(
    "day, month, year, message",
    [
        ("31", "2", "2000", "must be a real date"),
        ("1", "1", "2999", "must be in the past"),
        ("1", "1", "1850", "must be after 1900"),
        ("a", "b", "c", "must be numbers"),
        ("1", "", "1950", "must include a day, month and year"),
        ("١", "٢", "١٩٥٠", "must be numbers"),
        # found by tests/property/test_form_parsing_properties.py: a day past 2**31 overflowed, and one of
        # thousands of digits was past what int() reads
        ("9" * 20, "1", "1950", "must be a real date"),
        ("9" * 5000, "1", "1950", "must be a real date"),
        ("1", "9" * 5000, "1950", "must be a real date"),
    ],
)
def test_a_bad_date_of_birth_gets_a_message(family, day, month, year, message):
    response = family.submit(dob_day=day, dob_month=month, dob_year=year)
    assert response.status_code == 400 and message in page(response)


def test_a_good_date_of_birth_is_kept(family, read):
    assert family.submit(dob_day="15", dob_month="3", dob_year="1947").status_code == 303
    assert str(read.one(Concern).patient_dob) == "1947-03-15"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("caller_route", "doctor", "Select who you are"),
        ("worry_categories", ["breathing", "made_up"], "Select what worries you from the list"),
        ("preferred_language", "Klingon", "Select a language from the list"),
        ("spoke_to_ward", "maybe", "Select yes or no"),
        ("interpreter_needed", "perhaps", "Select yes or no"),
    ],
)
def test_choices_outside_the_lists_are_refused(family, field, value, message):
    response = family.submit(**{field: value})
    assert response.status_code == 400 and message in page(response)


def test_a_bed_must_come_from_the_wards_list_when_it_has_one(client, trust):
    from tests.conftest import FamilyForm

    beds = FamilyForm(client, "w8")
    assert beds.submit(bed="Bay 9").status_code == 400
    assert beds.submit(bed="Bay 2").status_code == 303


def test_another_language_needs_its_name(family, read):
    response = family.submit(preferred_language="other", other_language="")
    assert response.status_code == 400 and "Tell us which language" in page(response)
    assert family.submit(preferred_language="other", other_language="Tigrinya").status_code == 303
    assert read.one(Concern).preferred_language == "Tigrinya"


def test_fields_the_form_does_not_have_are_ignored(family, read):
    response = family.submit(
        status="closed", reference="MR-AAAA-AA", flagged_burst="1", priority="1", team_id="999", claimed_by_id="1"
    )
    assert response.status_code == 303
    concern = read.one(Concern)
    assert concern.status.value == "new" and concern.reference != "MR-AAAA-AA"
    assert concern.priority is None and concern.claimed_by_id is None and not concern.flagged_burst


def test_a_repeated_field_uses_the_first_value(family, client, read):
    hidden = family.open()
    data = list(hidden.items())
    for key, value in valid_answers(caller_route=None).items():
        data += [(key, item) for item in (value if isinstance(value, list) else [value])]
    data += [("caller_route", "patient"), ("caller_route", "staff")]
    response = client.post("/w/w7", data=MultiDict(data))
    assert response.status_code == 303
    assert read.one(Concern).caller_route.value == "patient"


def test_a_missing_or_malformed_submission_id_still_saves_the_concern(family, read):
    hidden = family.open()
    hidden["submission_id"] = "<bad id>" * 20
    assert family.submit(hidden).status_code == 303
    assert len(read.one(Concern).submission_id) >= 16


def test_a_one_megabyte_body_is_refused_with_a_helpful_page(family, client):
    hidden = family.open()
    response = client.post("/w/w7", data={**hidden, **valid_answers(worry_details="a" * 1_000_000)})
    assert response.status_code == 413
    html = page(response)
    assert "too long" in html and "tel:" in html


def test_thousands_of_fields_are_refused(family, client):
    hidden = family.open()
    data = {**hidden, **valid_answers(), **{f"f{n}": "x" for n in range(2000)}}
    assert client.post("/w/w7", data=data).status_code == 413


def test_the_honeypot_does_not_refuse_the_concern(family, read):
    assert family.submit(website="http://spam.example").status_code == 303
    assert read.one(Concern).flagged_automated


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_not_allowed(client, trust, method):
    response = getattr(client, method)("/w/w7")
    assert response.status_code == 405 and "tel:" in page(response)


def test_when_the_database_fails_during_sending_the_text_is_kept_with_the_phone_number(family, read, monkeypatch):
    from tracker.public import routes

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(routes, "raise_concern", broken)
    response = family.submit(worry_details="Do not lose this")
    html = page(response)
    assert response.status_code == 503
    assert "Your request has not been sent" in html and "Do not lose this" in html
    assert "020 7946 0101" in html
    assert "Traceback" not in html and "OperationalError" not in html


def test_an_unexpected_error_shows_a_kind_page_with_a_code_and_never_a_stack_trace(family, monkeypatch):
    from tracker.public import routes

    monkeypatch.setattr(routes, "raise_concern", lambda *a: 1 / 0)  # a bug where the form is saved
    response = family.submit()
    html = page(response)
    assert response.status_code == 500
    assert "Sorry, there is a problem with this service" in html and "quote this code" in html
    assert "ZeroDivisionError" not in html and "Traceback" not in html
    assert "020 7946 0101" in html  # remembered from the form page, without touching the database


@pytest.mark.parametrize("field", ["dob_day", "dob_month", "dob_year"])
def test_a_date_of_birth_of_five_thousand_digits_gets_a_message_and_keeps_the_text(family, read, field):
    # Python refuses to read an integer of more than 4,300 digits (a ValueError outside the date check: a 500).
    dob = {"dob_day": "15", "dob_month": "3", "dob_year": "1947", field: "1" * 5000}
    response = family.submit(worry_details="Keep this", **dob)
    assert response.status_code == 400 and "Keep this" in page(response)
    assert "Date of birth" in page(response) or "Year must include 4 numbers" in page(response)
    assert read.count(Concern) == 0
