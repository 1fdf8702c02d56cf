"""Benchmark: how soon a family's concern reaches a clinician's phone (issue 4, "Speed").

Concerns are submitted at a steady rate through gunicorn; each one's latency runs from its 303 reaching
the client to its clinician alert's request reaching the SMS API. The worker sends through the real
Twilio backend to Prism, which mocks Twilio's API; a proxy in this process stands in front of Prism to
time each request (Prism says nothing about when one came) and to give each message its own SID.
See bench/README.md for what it prints.

    python bench/alert_latency.py --db sqlite --duration 20 --warmup 2 --quiet-wait 0
"""

from __future__ import annotations

import http.client
import http.cookies
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import FORM_PATH, LIVEZ, REPO, BenchError, check, fmt, log, median, percentile

PRISM = REPO / "node_modules" / ".bin" / "prism"
PRISM_SPEC = REPO / "tests" / "contract" / "twilio_api_v2010.prism.json"
# Dummy Twilio settings: Prism checks the account SID's pattern and that Basic auth is present.
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "0" * 32, "TWILIO_FROM_NUMBER": "+447700900000"}
SEND_PATH = re.compile(r"^/2010-04-01/Accounts/[^/]+/(Messages|Calls)\.json$")
REFERENCE_IN_LINK = re.compile(r"/triage/c/(MR-[0-9A-Z]{4}-[0-9A-Z]{2})\b")
SPOKEN_REFERENCE = re.compile(r"Reference ([0-9A-Z ]+?)\.")
TARGETS = {"sqlite": (100.0, 250.0), "postgres": (25.0, 100.0)}  # alert p50 and p99, in ms, under
ALERTS = {"clinician_alert", "clinician_alert_burst", "voice_alert"}
WORKER = [harness.PYTHON, "-m", "flask", "--app", "wsgi", "tracker", "worker"]
PENDING = "SELECT count(*) FROM message WHERE send_state IN ('pending', 'sending')"
OUTBOX = "SELECT c.reference, m.template_id, m.send_state, m.escalation_step, c.flagged_burst or c.flagged_automated "
OUTBOX += "FROM concern c LEFT JOIN message m ON m.concern_id = c.id"
POOLED = ("latencies", "response_ms", "livez_ms", "prism_ms", "missing", "errors")
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "content-length", "host")


# --- the timestamping proxy in front of Prism -------------------------------------------------------------


@dataclass
class Arrival:
    """One POST to Messages.json or Calls.json as it reached the proxy."""

    t: float  # time.perf_counter() when its request line was read: the client's clock too
    to: str
    reference: str | None  # the concern's reference in a clinician alert (its link, or spoken in a call)
    status: int | None = None  # Prism's answer
    prism_ms: float | None = None  # how long Prism took to answer


def alert_reference(kind: str, body: str) -> str | None:
    if kind == "Calls":
        letters = (SPOKEN_REFERENCE.findall(body) or [""])[0].replace(" ", "")
        return f"MR-{letters[2:6]}-{letters[6:]}" if letters.startswith("MR") and len(letters) == 8 else None
    found = REFERENCE_IN_LINK.search(body)
    return found.group(1) if found else None


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
    server: Proxy

    def parse_request(self) -> bool:  # called as soon as the request line is read: the moment it arrived
        self.arrived = time.perf_counter()
        return super().parse_request()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrival = None
        if sent := SEND_PATH.match(urllib.parse.urlsplit(self.path).path):
            form = dict(urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
            text = form.get("Twiml" if sent.group(1) == "Calls" else "Body", "")
            arrival = Arrival(self.arrived, form.get("To", ""), alert_reference(sent.group(1), text))
        self.server.record(arrival)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        prism = http.client.HTTPConnection("127.0.0.1", self.server.prism_port, timeout=30)
        started = time.perf_counter()
        try:
            prism.request(self.command, self.path, body or None, headers)
            response = prism.getresponse()
            status, reason, headers, answer = response.status, response.reason, response.getheaders(), response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.server.errors.append(f"{self.command} {self.path}: {exc!r}")
            status, reason, headers, answer = 502, "Bad Gateway", [], b"prism"
        finally:
            prism.close()
        if arrival is not None:
            arrival.status, arrival.prism_ms = status, 1000 * (time.perf_counter() - started)
            answer = fresh_sid(answer) if 200 <= status < 300 else answer
        self.send_response_only(status, reason)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST  # look-ups pass through

    def log_message(self, *_args) -> None:
        pass


def fresh_sid(answer: bytes) -> bytes:
    """Prism answers every send with the spec's example SID, which the outbox's unique provider_sid would
    refuse after the first message: give each its own (same prefix, SM or CA), wherever it appears."""
    try:
        old = json.loads(answer)["sid"]
    except (ValueError, KeyError, TypeError):
        return answer
    return answer.replace(old.encode(), (old[:2] + secrets.token_hex(16)).encode()) if len(old) == 34 else answer


class Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, prism_port: int):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.prism_port, self.lock, self.arrivals, self.errors = prism_port, threading.Lock(), [], []
        threading.Thread(target=self.serve_forever, name="sms-api-proxy", daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, arrival: Arrival | None) -> None:
        with self.lock:
            self.arrivals += [arrival] if arrival else []

    def alerts(self) -> dict[str, list[Arrival]]:
        with self.lock:
            found: dict[str, list[Arrival]] = {}
            for a in self.arrivals:
                found.setdefault(a.reference, []).append(a)
            return found


def start_prism(workdir) -> int:
    port = harness.free_port()
    cmd = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(PRISM_SPEC)]
    prism = harness.Spawned(cmd, cwd=REPO, env=None, log_path=workdir / "prism.log").start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and prism.alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return port
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"Prism did not start:\n{prism.log_tail()}")


# --- the family's side: submissions at a steady rate -----------------------------------------------------


@dataclass
class Submission:
    n: int
    phase: str  # "preflight", "warm-up" or "round <n>"
    sent: float = 0.0
    answered: float = 0.0  # perf_counter() when the answer's status line and headers had come
    status: int | None = None
    reference: str | None = None
    error: str | None = None


REFERENCE_ON_PAGE = re.compile(r"data-reference>\s*(MR-[0-9A-Z]{4}-[0-9A-Z]{2})")


def confirmed_reference(port: int, location: str, cookie: str, set_cookies: list[str]) -> str | None:
    """The reference the confirmation page shows. The confirmation is kept on the server and the browser's
    session cookie only names it, so the page is fetched as the browser would after the 303 (after the
    answer's time is taken: the latency measured is still from the family's 303)."""
    jar = dict(pair.split("=", 1) for pair in cookie.split("; ") if "=" in pair)
    for header in set_cookies:
        jar.update({name: morsel.value for name, morsel in http.cookies.SimpleCookie(header).items()})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        path = urllib.parse.urlsplit(location).path or "/"
        conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
        found = REFERENCE_ON_PAGE.search(conn.getresponse().read().decode(errors="replace"))
        return found.group(1) if found else None
    finally:
        conn.close()


class Submitter:
    """Posts the family's form as a browser that opened it once would (its cookies and CSRF token), each
    time with a fresh submission id and worry text, noting when the 303 came and its reference."""

    def __init__(self, port: int, body: str, cookie: str):
        self.port, self.body, self.cookie, self.nonce, self.done = port, body, cookie, secrets.token_hex(3), []

    def submit(self, sub: Submission) -> Submission:
        worry = f"Mum is breathing fast and not making sense ({self.nonce} {sub.phase} {sub.n} {secrets.token_hex(3)})"
        fresh = {"submission_id": secrets.token_urlsafe(24), "worry_details": worry}
        body = f"{self.body}&{urllib.parse.urlencode(fresh)}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sub.sent = time.perf_counter()
            conn.request("POST", FORM_PATH, body=body, headers=headers)
            response = conn.getresponse()
            sub.answered, sub.status = time.perf_counter(), response.status
            page = response.read().decode(errors="replace")
            if sub.status == 303:
                set_cookies = response.headers.get_all("Set-Cookie") or []
                location = response.getheader("Location") or ""
                sub.reference = confirmed_reference(self.port, location, self.cookie, set_cookies)
            if sub.reference is None:
                sub.error = f"answered {sub.status} without a reference; errors: {harness.form_errors(page) or '?'}"
        except (OSError, http.client.HTTPException) as exc:
            sub.answered, sub.error = sub.answered or time.perf_counter(), f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        self.done.append(sub)
        return sub


def steady(rate: float, duration: float, action) -> None:
    """action(n) at `rate` per second for `duration` seconds on a schedule: open loop (a slow answer does
    not delay the next one), up to 16 at once."""
    start = time.perf_counter() + 0.05
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="client") as pool:
        for n in range(max(1, round(duration * rate)) if rate > 0 else 0):
            time.sleep(max(0.0, start + n / rate - time.perf_counter()))
            pool.submit(action, n)


def time_livez(port: int, times_ms: list[float]) -> None:
    """One GET /livez beside the submissions: the same server's latency for a request that does no work."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        started = time.perf_counter()
        conn.request("GET", LIVEZ)
        response = conn.getresponse()
        times_ms.append(1000 * (time.perf_counter() - started) if response.status == 200 else -1)
        response.read()
    except (OSError, http.client.HTTPException):
        times_ms.append(-1)  # an error
    finally:
        conn.close()


# --- the scenario ------------------------------------------------------------------------------------------


def describe_path(db, reference: str) -> tuple[str, str]:
    """Which escalation path the concern's first alert took (the team's policy or, without one, the duty
    phone: plan_for() in the app's escalation service), and its clinician messages."""
    ((concern_id, plan),) = db.query("SELECT id, escalation_plan FROM concern WHERE reference = ?", (reference,))
    plan = plan if isinstance(plan, dict) else json.loads(plan or "{}")
    first = (plan.get("steps") or [{}])[0]
    sql = "SELECT template_id, channel, to_number, escalation_step FROM message WHERE concern_id = ? AND audience = ?"
    messages = "; ".join(f"{m[0]} by {m[1]} to {m[2]} (step {m[3]})" for m in db.query(sql, (concern_id, "clinician")))
    if plan.get("policy_id") is None:
        return f"no escalation policy: the team's duty phone by SMS, every {first.get('wait', '?')} min", messages
    step = f"step 1 = {first.get('channel', '?')} to tier(s) {', '.join(first.get('tiers', []))}"
    on_call = f"({len(first.get('recipients', []))} on call), wait {first.get('wait', '?')} min"
    return f"escalation policy {plan['policy_id']}: {step} {on_call}", messages


class AlertLatency(harness.Scenario):
    name, tools, packages, prism_port = "alert", (str(PRISM),), {"twilio": "twilio"}, 0

    def env(self, t: harness.Target) -> dict:
        if not self.prism_port:  # one Prism for every target, stopped with everything else at the end
            self.prism_port = start_prism(t.workdir.parent)
        t.proxy = Proxy(self.prism_port)
        poll = {"WORKER_POLL_SECONDS": str(self.opts.poll)}
        return {"SMS_BACKEND": "twilio", "TWILIO_API_BASE": t.proxy.base, **poll, **TWILIO}

    def setup(self, t: harness.Target) -> None:
        opts = self.opts
        t.start_server(opts.workers)
        t.workers = [t.spawn(WORKER, f"worker-{n + 1}.log") for n in range(opts.sms_workers)]
        t.submitter = Submitter(t.port, *harness.open_form(t.server.base))
        log(f"  gunicorn on {t.server.base}; {opts.sms_workers} worker(s) -> {t.proxy.base} -> Prism")
        first = t.submitter.submit(Submission(0, "preflight"))  # the whole chain must work before any load
        alert = (self.wait(t, [first.reference], 15).get(first.reference) or [None])[0]
        if alert is None or first.error:
            tail = "\n".join(w.log_tail() for w in t.workers)
            raise BenchError(f"no alert for the preflight concern within 15 s {first.error or ''}; worker log:\n{tail}")
        t.path, t.recipients = describe_path(t.db, first.reference)
        t.notify = "no (SQLite has no NOTIFY: the worker polls)"
        if t.db.kind == "postgres":
            t.notify = f"yes: {n} LISTEN connection(s) seen" if (n := t.db.listeners()) else "NO: no LISTEN (it polls)"
        answered, alerted = 1000 * (first.answered - first.sent), 1000 * (alert.t - first.answered)
        log(f"  preflight {first.reference}: 303 in {answered:.1f} ms; alert to {alert.to} {alerted:.1f} ms later")
        log(f"  path: {t.path}\n  its clinician messages: {t.recipients}\n  NOTIFY: {t.notify}")
        steady(opts.rate, opts.warmup, lambda n: t.submitter.submit(Submission(n, "warm-up")))
        time.sleep(1.0)  # the warm-up's alerts go out before anything is measured

    def wait(self, t: harness.Target, references: list, timeout: float) -> dict[str, list[Arrival]]:
        """Until every reference has an alert at the SMS API (or the timeout), then until the outbox has
        nothing pending, so that what it says is settled."""
        deadline = time.monotonic() + timeout
        while not all(r in (alerts := t.proxy.alerts()) for r in references) and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline and t.db.query(PENDING)[0][0]:
            time.sleep(0.1)
        return alerts

    def round(self, t: harness.Target, n: int) -> dict:
        opts, phase, livez = self.opts, f"round {n + 1}", []
        harness.wait_until_quiet(opts.quiet_wait)
        args = (opts.livez_rate, opts.duration, lambda _: time_livez(t.port, livez))
        probe = threading.Thread(target=steady, args=args)
        with harness.CpuWindow() as cpu:
            probe.start()
            t0 = time.perf_counter()
            steady(opts.rate, opts.duration, lambda i: t.submitter.submit(Submission(i, phase)))
            elapsed = time.perf_counter() - t0
            probe.join()
        subs = sorted((s for s in t.submitter.done if s.phase == phase), key=lambda s: s.n)
        r = self.match(subs, self.wait(t, [s.reference for s in subs if s.reference], opts.drain))
        r.update(rate=len(subs) / elapsed, foreign=cpu.foreign_pct, livez_ms=[x for x in livez if x >= 0])
        r.update(livez_errors=livez.count(-1), family_texts=sum(a.t >= t0 for a in t.proxy.alerts().get(None, [])))
        r["worker_cpu"] = 100 * cpu.cpu_of(p for w in t.workers for p in w.pids()) / cpu.seconds
        r["worker_ms"] = r["worker_cpu"] * 10 * cpu.seconds / max(len(subs), 1)
        r["web_cpu"] = 100 * cpu.cpu_of(t.server.pids()) / cpu.seconds
        alert, livez_p50 = fmt(percentile(r["latencies"], 50)), fmt(percentile(r["livez_ms"], 50))
        log(f"  {t.label} {phase}: {len(subs)} concerns; alert p50 {alert} ms, /livez p50 {livez_p50} ms")
        return r

    def match(self, subs: list[Submission], alerts: dict[str, list[Arrival]]) -> dict:
        """Each concern's first alert. Those within the drain window of its 303 are immediate; later ones
        are the policy's next steps (a policy may wait only a minute), counted apart."""
        r = {"latencies": [], "per_concern": Counter(), "missing": [], "later": 0, "prism_ms": [], "references": []}
        r.update(submissions=len(subs), errors=[s.error for s in subs if s.error])
        r["response_ms"] = [1000 * (s.answered - s.sent) for s in subs if s.status == 303]
        for s, got in ((s, alerts.get(s.reference, [])) for s in subs if s.reference):
            immediate = sum(a.t - s.answered <= self.opts.drain for a in got)
            r["per_concern"][immediate] += 1
            r["references"].append(s.reference)
            r["later"] += len(got) - immediate
            r["prism_ms"] += [a.prism_ms for a in got if a.prism_ms is not None]
            if got:
                r["latencies"].append(1000 * (min(a.t for a in got) - s.answered))
            else:
                r["missing"].append(s.reference)
        return r

    def finish(self, t: harness.Target) -> None:
        """The outbox's view of the measured concerns: each one's clinician alerts of the first step that
        fired, the states of their messages, and whether any was flagged (flagged concerns share alerts)."""
        references, steps, t.outbox, t.flagged = {x for r in t.rounds for x in r["references"]}, {}, Counter(), set()
        for reference, template, state, step, flagged in t.db.query(OUTBOX):
            if reference in references:
                t.flagged |= {reference} if flagged else set()
                t.outbox.update([f"{template} {state}"] if template else [])
                steps.setdefault(reference, []).extend([-1 if step is None else step] if template in ALERTS else [])
        t.first_step = Counter(s.count(min(s)) if s else 0 for s in (steps.get(r, []) for r in references))
        t.statuses = Counter(a.status for arrivals in t.proxy.alerts().values() for a in arrivals)
        t.log_errors = [*t.server.log_errors(), *(line for w in t.workers for line in w.log_errors()), *t.proxy.errors]
        t.proxy.shutdown()

    def figures(self, t: harness.Target) -> dict:
        p50s = [(percentile(r["latencies"], 50), percentile(r["livez_ms"], 50)) for r in t.rounds]
        figures = {"alert p50 ÷ /livez p50": [a / b for a, b in p50s if a and b], "alert p50 ms": [a for a, _ in p50s]}
        return {**figures, "worker CPU ms per concern": [r["worker_ms"] for r in t.rounds]}

    def pooled(self, t: harness.Target) -> dict:
        """Every round's samples together: nearest-rank percentiles over all the measured concerns."""
        pool = {key: [x for r in t.rounds for x in r[key]] for key in POOLED}
        lat, row = pool["latencies"], {"count": len(pool["latencies"]), "min": min(pool["latencies"], default=None)}
        row.update({f"p{q}": percentile(lat, q) for q in (50, 90, 99)}, max=max(lat, default=None))
        for key in ("response_ms", "livez_ms", "prism_ms"):
            row.update({f"{key} p50": percentile(pool[key], 50), f"{key} p99": percentile(pool[key], 99)})
        row["livez_ms max"] = max(pool["livez_ms"], default=None)
        row.update({key: median(r[key] for r in t.rounds) for key in ("rate", "foreign", "worker_cpu", "web_cpu")})
        row.update({key: sum(r[key] for r in t.rounds) for key in ("submissions", "later", "family_texts")})
        row["livez_errors"] = sum(r["livez_errors"] for r in t.rounds)
        row.update(missing=pool["missing"], errors=pool["errors"], negative=sum(v < 0 for v in lat))
        row.update(per_concern=sum((r["per_concern"] for r in t.rounds), Counter()), first_step=t.first_step)
        return {**row, "outbox": t.outbox, "notify": t.notify, "path": t.path, "rounds": t.rounds}

    def summarise(self, targets: list[harness.Target], info: dict) -> dict:
        opts = self.opts
        load = f"{opts.rate:g} concerns/s, {opts.rounds} x {opts.duration:g} s per database (warm-up {opts.warmup:g} s)"
        worker = f"{opts.sms_workers} x `flask --app wsgi tracker worker`, WORKER_POLL_SECONDS={opts.poll:g}"
        harness.settings(opts, info)
        log(f"  {load}; gunicorn -k sync -w {opts.workers}; /livez at {opts.livez_rate:g}/s")
        log(f"  {worker}; SMS_BACKEND=twilio -> proxy -> Prism; up to {opts.drain:g} s for a round's alerts")
        log("  latency = the alert's request at the SMS API - the 303 at the client (one clock: this process)")
        summary = {t.label: self.pooled(t) for t in targets}
        log("\nRESULTS (ms, every round's concerns together)")
        keys = ["count", "p50", "p90", "p99", "max", "min", "response_ms p50", "response_ms p99", "livez_ms p50"]
        keys += ["livez_ms p99", "livez_ms max", "prism_ms p50"]
        rows = [[t.label, *(summary[t.label][k] for k in keys)] for t in targets]
        spec = "database|<20;count|>6;p50|>8.1f;p90|>8.1f;p99|>8.1f;max|>8.1f;min|>8.1f;submit p50|>12.1f;p99|>7.1f"
        harness.table(spec + ";livez p50|>11.1f;p99|>7.1f;max|>7.1f;Prism p50|>11.1f", rows)
        for t in targets:
            self.details(t, summary[t.label])
        return summary

    def details(self, t: harness.Target, row: dict) -> None:
        opts, errors, (p50, p99), count = self.opts, row["errors"], TARGETS[t.db.kind], row["count"]
        disturbed = "  DISTURBED (other work on the machine)" if (row["foreign"] or 0) > harness.DISTURBED else ""
        log(f"\n{t.label}: WORKER_POLL_SECONDS={opts.poll:g}, {fmt(row['rate'], 2)} concerns/s, NOTIFY: {t.notify}")
        log(f"  path measured: {t.path}\n    first concern's clinician messages: {t.recipients}")
        failed = f"{len(errors)} failed" + (f" (e.g. {errors[0]})" if errors else "")
        log(f"  concerns: {row['submissions']} submitted, {failed}; flagged as a burst or automated: {len(t.flagged)}")
        log(f"  clinician alerts per concern at the SMS API within {opts.drain:g} s: {dict(row['per_concern'])}")
        log(f"  first-step alerts per concern in the outbox: {dict(t.first_step)}; later ones: {row['later']}")
        log(f"  family texts meanwhile: {row['family_texts']}; Prism's answers: {dict(t.statuses)}")
        log(f"  outbox: {dict(sorted(t.outbox.items()))}; /livez errors: {row['livez_errors']}")
        cpu = f"worker {fmt(row['worker_cpu'])}, gunicorn {fmt(row['web_cpu'])}"
        log(f"  CPU, % of one core (median of rounds): {cpu}; foreign {fmt(row['foreign'])}% of the machine{disturbed}")
        poll = f"{500 * opts.poll:.0f} ms median and {1000 * opts.poll:.0f} ms max"
        log(f"  for reference: polling alone gives about {poll} after the commit; NOTIFY about 0.05 ms")
        if row["negative"]:
            log(f"  {row['negative']} alert(s) reached the SMS API before the client read its 303 (NOTIFY is quick)")
        if row["missing"]:
            log(f"  NO ALERT within {opts.drain:g} s for {len(row['missing'])} concern(s), e.g. {row['missing'][:3]}")
        for problem in t.log_errors[:2]:
            log(f"  log: {problem[:200]}")
        log("  TARGETS")
        check(f"alert p50 {fmt(row['p50'])} ms < {p50:.0f} ms", row["p50"] is not None and row["p50"] < p50, 70)
        check(f"alert p99 {fmt(row['p99'])} ms < {p99:.0f} ms", row["p99"] is not None and row["p99"] < p99, 70)
        reached = bool(count) and not row["missing"] and count == row["submissions"]
        check(f"every concern's alert reached the SMS API ({count} of {row['submissions']})", reached, 70)
        one_each = set(t.first_step) == set(row["per_concern"]) == {1}
        check("exactly one immediate clinician alert per concern", one_each, 70)
        if count < 100:
            log(f"    (only {count} samples: the p99 is close to the maximum; measure longer for a steadier tail)")


def options(argv=None):
    p = harness.parser(__doc__, rounds=1, duration=60, warmup=5, wrk=False)
    p.add_argument("--rate", type=float, default=3.0, help="concerns submitted per second (default 3)")
    p.add_argument("--poll", type=float, default=0.1, help="WORKER_POLL_SECONDS (default 0.1, the app's own)")
    p.add_argument("--sms-workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--livez-rate", type=float, default=2.0, help="GET /livez per second alongside (default 2; 0: none)")
    p.add_argument("--drain", type=float, default=15, help="seconds to wait for a round's last alerts (default 15)")
    opts = harness.parse(p, argv)
    if opts.rate <= 0 or opts.poll <= 0 or opts.sms_workers < 1:
        p.error("need --rate and --poll > 0, and at least one worker")
    return opts


if __name__ == "__main__":
    harness.run(AlertLatency, options)
