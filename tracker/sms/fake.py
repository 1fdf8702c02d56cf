"""Test backend: records texts in memory and fails on request."""

from __future__ import annotations

import threading
from collections import deque
from datetime import timedelta

from tracker.sms import OutgoingSms, SendFailure, SendResult


class FakeSender:
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[OutgoingSms] = []
        self.attempts = 0
        self._failures: deque[SendFailure] = deque()
        self._accept_then_fail: deque[SendFailure] = deque()
        self._lock = threading.Lock()

    def fail_next(self, *failures: SendFailure) -> None:
        """The next sends raise these, in order, without sending."""
        self._failures.extend(failures)

    def accept_then_fail_next(self, *failures: SendFailure) -> None:
        """The next sends are recorded as sent, then raise (a reply lost after acceptance)."""
        self._accept_then_fail.extend(failures)

    def send(self, sms: OutgoingSms) -> SendResult:
        with self._lock:
            self.attempts += 1
            if self._failures:
                raise self._failures.popleft()
            self.sent.append(sms)
            if self._accept_then_fail:
                raise self._accept_then_fail.popleft()
            return SendResult(self._sid(sms), "queued")

    def find_sent(self, sms: OutgoingSms) -> SendResult | None:
        """As the provider can: by number, channel and words (not our own key), sent no earlier
        than our record less a minute, and not one of the references already recorded."""
        with self._lock:
            for sent in reversed(self.sent):
                if (
                    (sent.to, sent.channel, sent.body) == (sms.to, sms.channel, sms.body)
                    and sent.created_at >= sms.created_at - timedelta(minutes=1)
                    and self._sid(sent) not in sms.exclude_sids
                ):
                    return SendResult(self._sid(sent), "sent")
        return None

    @staticmethod
    def _sid(sms: OutgoingSms) -> str:
        return f"FAKE{sms.message_id:030d}"

    def texts_to(self, number: str) -> list[str]:
        return [sms.body for sms in self.sent if sms.to == number]
