"""Cleaning text, phone numbers and references: pure functions, so plain tests."""

from __future__ import annotations

import re

import pytest

from tracker.numbers import digits
from tracker.services.concerns.references import ALPHABET, new_reference, normalise_reference
from tracker.services.phone import PhoneProblem, display_phone, mask_phone, parse_phone
from tracker.services.text import TextProblem, clean_block, clean_line, comparable


class TestCleanLine:
    def test_trims_and_normalises_to_nfc(self):
        assert clean_line("  Jose\u0301  Smith ", 120) == "José Smith"

    def test_removes_bidi_controls_from_names(self):
        assert clean_line("Ali\u202egnp.exe", 120) == "Alignp.exe"
        assert clean_line("\u2066Sam\u2069", 120) == "Sam"

    @pytest.mark.parametrize("value", ["abc\x00def", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85x"])
    def test_refuses_control_characters(self, value):
        with pytest.raises(TextProblem) as problem:
            clean_line(value, 120)
        assert problem.value.kind == "control"

    def test_refuses_lone_surrogates_that_no_database_can_store(self):
        with pytest.raises(TextProblem):
            clean_line("bad \ud800 text", 120)

    def test_refuses_new_lines(self):
        with pytest.raises(TextProblem) as problem:
            clean_line("Pat\nJones", 120)
        assert problem.value.kind == "multiline"

    def test_counts_characters_not_bytes(self):
        assert clean_line("😀" * 10, 10) == "😀" * 10
        with pytest.raises(TextProblem) as problem:
            clean_line("😀" * 11, 10)
        assert (problem.value.kind, problem.value.limit) == ("too_long", 10)


class TestCleanBlock:
    def test_keeps_lines_and_normalises_line_endings(self):
        assert clean_block("first\r\nsecond\rthird\n", 100) == "first\nsecond\nthird"

    def test_keeps_right_to_left_marks_in_free_text(self):
        assert clean_block("مرحبا \u200f ok", 100) == "مرحبا \u200f ok"

    def test_refuses_nul(self):
        with pytest.raises(TextProblem):
            clean_block("a\x00b", 100)

    def test_keeps_markup_as_plain_text(self):
        assert clean_block("<script>alert(1)</script>", 100) == "<script>alert(1)</script>"


def test_comparable_ignores_case_spacing_and_punctuation():
    assert comparable("  Mum is NOT well!! ") == comparable("mum is not well")


class TestPhone:
    @pytest.mark.parametrize(
        "typed",
        [
            "07400 123456",
            "+44 7400 123456",
            "447400123456",
            "+44 (0)7400 123456",
            "０７４００ １２３４５６",
            "07400\u200b123456",
            "07400-123-456",
        ],
    )
    def test_uk_mobiles_in_any_common_form_become_e164(self, typed):
        phone = parse_phone(typed)
        assert (phone.e164, phone.region, phone.is_mobile) == ("+447400123456", "GB", True)
        assert phone.textable({"GB"})

    def test_a_landline_is_accepted_for_a_call_back_but_cannot_be_texted(self):
        phone = parse_phone("020 7946 0000")
        assert phone.e164 == "+442079460000" and not phone.textable({"GB"})

    def test_a_foreign_mobile_is_textable_only_where_the_trust_allows_that_country(self):
        phone = parse_phone("+33 6 12 34 56 78")
        assert not phone.textable({"GB"}) and phone.textable({"GB", "FR"})

    @pytest.mark.parametrize(
        "typed",
        [
            "07700 900 12",
            "999",
            "+4477009",
            "+447700900123456",
            "07400 12345a",
            "phone me",
            "",
            "   ",
            "0",
            "++447400123456",
            "07700 900123",
        ],
    )
    def test_invalid_numbers_are_refused(self, typed):
        with pytest.raises(PhoneProblem):
            parse_phone(typed)

    def test_numbers_are_shown_as_people_write_them(self):
        assert display_phone("+447400123456") == "07400 123456"
        assert display_phone("+33612345678") == "+33 6 12 34 56 78"
        assert display_phone(None) == ""

    def test_logs_see_only_the_last_three_digits(self):
        assert mask_phone("+447400123456") == "…456"


class TestReferences:
    def test_references_look_like_the_design_example(self):
        for _ in range(200):
            assert re.fullmatch(rf"MR-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}", new_reference())

    def test_the_alphabet_has_no_look_alikes(self):
        assert not set("01ILO") & set(ALPHABET)

    def test_references_are_not_predictable(self):
        assert len({new_reference() for _ in range(1000)}) == 1000

    @pytest.mark.parametrize("typed", ["MR-7QK4-92", "mr-7qk4-92", "MR 7QK4 92", "7qk492", " mr7qk4-92 "])
    def test_what_someone_reads_out_is_understood(self, typed):
        assert normalise_reference(typed) == "MR-7QK4-92"

    @pytest.mark.parametrize("typed", ["MR-7QK4-9", "MR-0QK4-92", "hello", "", "MR-7QK4-921"])
    def test_what_cannot_be_a_reference_is_refused(self, typed):
        assert normalise_reference(typed) is None


@pytest.mark.parametrize(
    ("typed", "number"),
    [("0", 0), ("42", 42), ("007", 7), ("9" * 18, int("9" * 18)), ("9" * 19, 10**18), ("9" * 5000, 10**18)],
)
def test_a_whole_number_is_ascii_digits_and_a_huge_one_is_past_every_range(typed, number):
    assert digits(typed) == number


@pytest.mark.parametrize("typed", ["", " 4", "-4", "+4", "4.0", "²", "١٢٣", "１２３", "1_000", "4e3"])
def test_anything_but_ascii_digits_is_not_a_whole_number(typed):
    assert digits(typed) is None


def test_a_small_number_behind_thousands_of_zeros_is_read_without_int_refusing_it():
    """The hostile-input battery's "0…01" (5,000 zeros): short once its zeros are stripped, so it was converted
    whole, and int() refuses more than 4,300 digits: a server error on /reports/improvement?months=."""
    assert digits("0" * 5000 + "12") == 12
    assert digits("0" * 5000) == 0
