"""Phone numbers as properties (docs/architecture.md#testing): whatever is typed is a number in E.164 or a
`PhoneProblem`, never anything else; the same number written any of the ways people write it is the same number;
a number read back from how it is shown or stored is itself; and the masked form shows no more than it should."""

from __future__ import annotations

import re

import phonenumbers
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.services.phone import PhoneProblem, display_phone, mask_phone, masked_for_caller, parse_phone

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# UK numbers as written at home: mobiles, London, Birmingham, Manchester and a non-geographic range.
NATIONAL_STARTS = ["071", "073", "074", "075", "077", "078", "079", "020", "0121", "0161", "0300"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def uk_numbers(draw) -> str:
    """Eleven digits of a UK number, written as one run ("07400123456")."""
    start = draw(st.sampled_from(NATIONAL_STARTS))
    rest = draw(st.text("0123456789", min_size=11 - len(start), max_size=11 - len(start)))
    return start + rest


def _spaced(digits: str, cuts: list[int], separator: str) -> str:
    parts, last = [], 0
    for cut in sorted(set(cuts)):
        parts.append(digits[last:cut])
        last = cut
    parts.append(digits[last:])
    return separator.join(part for part in parts if part)


@st.composite
def written_as_people_do(draw, national: str) -> str:
    """The same number with international prefixes, separators, brackets, full-width digits and invisible
    characters (what a phone's keyboard or a copied text brings with it)."""
    digits = draw(st.sampled_from([national, "+44" + national[1:], "0044" + national[1:], "+44 (0)" + national[1:]]))
    cuts = draw(st.lists(st.integers(1, len(digits) - 1), max_size=4))
    written = _spaced(digits, cuts, draw(st.sampled_from([" ", "-", ".", "  ", " - "])))
    if draw(st.booleans()):
        written = written.translate(FULL_WIDTH)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(written)))
        written = written[:at] + draw(st.sampled_from(["\u200b", "\u200e", "\u2060", "\ufeff"])) + written[at:]
    padding = draw(st.sampled_from(["", " ", "\t", "  "]))
    return padding + written + padding


def parsed_or_refused(text: str):
    try:
        return parse_phone(text)
    except PhoneProblem:
        return None


@given(st.text(max_size=40))
def test_anything_typed_is_a_number_in_e164_or_refused(text):
    phone = parsed_or_refused(text)
    if phone is not None:
        assert E164.match(phone.e164), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone.e164, None))


@given(uk_numbers().flatmap(lambda national: st.tuples(st.just(national), written_as_people_do(national))))
def test_a_number_written_any_way_people_write_it_is_the_same_number(case):
    national, written = case
    plain = parsed_or_refused(national)
    assume(plain is not None)
    assert parse_phone(written) == plain


@given(uk_numbers(), st.sampled_from("ABCabcxyz#*"), st.integers(0, 11))
def test_a_letter_anywhere_is_refused_never_read_as_a_keypad_word(national, letter, at):
    assume(parsed_or_refused(national) is not None)
    assert parsed_or_refused(national[:at] + letter + national[at:]) is None


@given(st.one_of(uk_numbers(), st.sampled_from(["+33612345678", "+12025550123", "+61412345678", "+353851234567"])))
def test_a_number_read_back_from_how_it_is_stored_or_shown_is_itself(text):
    phone = parsed_or_refused(text)
    assume(phone is not None)
    assert parse_phone(phone.e164) == phone
    assert parse_phone(display_phone(phone.e164)) == phone


@given(st.one_of(uk_numbers(), st.sampled_from(["+33612345678", "+12025550123", "+61412345678", "+353851234567"])))
def test_a_masked_number_shows_only_its_start_and_last_three_digits(text):
    phone = parsed_or_refused(text)
    assume(phone is not None)
    masked = masked_for_caller(phone.e164)
    shown = re.sub(r"[^0-9]", "", masked)
    assert masked.endswith(phone.e164[-3:]) and mask_phone(phone.e164) == f"…{phone.e164[-3:]}"
    country = str(phonenumbers.parse(phone.e164, None).country_code)
    start = shown[:-3]
    assert start in ("0" + display_phone(phone.e164).lstrip("0")[:1], country), masked
