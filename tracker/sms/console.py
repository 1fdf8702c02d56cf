"""Development backend: prints each text and appends it to a JSON-lines file, which is also what
it consults to reconcile an unclear send."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from tracker.clock import utcnow
from tracker.sms import OutgoingSms, SendResult


class ConsoleSender:
    name = "console"

    def __init__(self, log_path: str | None, stream: TextIO | None = None) -> None:
        self.log_path = Path(log_path) if log_path else None
        self.stream = stream or sys.stdout
        self.sent: list[dict[str, str]] = []
        self._lock = threading.Lock()

    @staticmethod
    def _sid(sms: OutgoingSms) -> str:
        return "CONSOLE" + hashlib.sha256(sms.idempotency_key.encode()).hexdigest()[:26]

    def send(self, sms: OutgoingSms) -> SendResult:
        record = {
            "sid": self._sid(sms),
            "to": sms.to,
            "body": sms.body,
            "key": sms.idempotency_key,
            "at": utcnow().isoformat(),
        }
        with self._lock:
            self.sent.append(record)
            if self.log_path:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record, ensure_ascii=False) + "\n")
            print(f"\n--- SMS to {sms.to} ({record['sid']}) ---\n{sms.body}\n---", file=self.stream, flush=True)
        return SendResult(record["sid"], "sent")

    def find_sent(self, sms: OutgoingSms) -> SendResult | None:
        sid = self._sid(sms)
        if any(r["sid"] == sid for r in self.sent):
            return SendResult(sid, "sent")
        if self.log_path and self.log_path.exists():
            with self.log_path.open(encoding="utf-8") as log:
                for line in log:
                    if json.loads(line).get("sid") == sid:
                        return SendResult(sid, "sent")
        return None
