"""The daily check's bed, as no browser sends it: a number Python's int() reads differently or not at all ("²",
"１", 5,000 digits) or past the database's integers gets "Choose the bed" with the answers kept, never a 500
(docs/architecture.md#security)."""

from __future__ import annotations

import pytest

from tests.daily_check.test_self_answer_pages import GOOD, send
from tracker.models import DailyCheckAnswer


@pytest.mark.parametrize("bed", ["²", "１", "١", "1" * 5000, str(2**31), str(2**63), "-1", "1e999"])
def test_a_bed_that_is_not_a_plain_number_gets_the_pages_message(client, trust, read, bed):
    response = send(client, **GOOD, bed=bed)
    assert response.status_code == 400
    assert "Choose the bed" in response.get_data(as_text=True)
    assert read.count(DailyCheckAnswer) == 0
