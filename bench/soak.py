"""Benchmark: a soak (issue 17). Ten minutes of a ward's ordinary day, on PostgreSQL: 100 tablets each
raising a concern every 2 minutes and 20 clinicians each refreshing the queue every 5 s, against
gunicorn (2 sync workers) and two outbox/escalation workers. Afterwards: no errors, every accepted
concern stored, every message sent exactly once, the audit chain intact, and no process's memory
growing by 5 % or more after the warm-up. See bench/README.md for what it prints.

    python bench/soak.py --duration 60
"""

from __future__ import annotations

import heapq
import html
import http.client
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import harness
from alert_latency import REFERENCE_ON_PAGE, WORKER
from harness import FORM_PATH, HIDDEN, STATIC_ANSWERS, BenchError, check, fmt, log, percentile

TEAM, ROWS, PAGE = "ngh-ccot", "/triage/queue/rows", "/triage/"
GROWTH = 5.0  # % of a process's resident memory after the warm-up it may gain by the end, under
RELOAD = 20 * 60  # a clinician opens the queue page again this often (the trust's idle timeout is 30 minutes)
SESSION_EVERY = 60  # the staff page's session clock asks this often (tracker/static/app/staff.mjs)
TIMEOUT = 30.0  # seconds before a request counts as an error (a timeout)
SESSION_URL = re.compile(r'data-session-url="([^"]+)"')
QUEUE = re.compile(r'data-queue data-queue-url="([^"]*)" data-version="([^"]*)"')  # templates/triage/queue.html
UNFINISHED = ("pending", "sending", "unknown")


# --- a browser: its cookies, one request at a time, every answer noted -------------------------------------


@dataclass
class Answer:
    kind: str  # what was asked (form, submit, sent, page, rows, session)
    status: int | None
    ms: float
    at: float  # seconds since the load began
    error: str | None = None


class Stats:
    """Every request's kind, status and time, and every error, from all the simulated people."""

    def __init__(self, started: float):
        self.started, self.lock, self.answers, self.errors = started, threading.Lock(), [], []
        self.accepted: list[str] = []  # the references of the 303s, from their confirmation pages
        self.late: list[float] = []  # seconds a scheduled step started after it was due

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)
            if answer.error:
                self.errors.append(f"{answer.kind} at {answer.at:.0f} s: {answer.error}")


class Browser:
    """One device's cookie jar; each request on a new connection (gunicorn's sync workers close it anyway)."""

    def __init__(self, port: int, stats: Stats, cookie: str = ""):
        self.port, self.stats = port, stats
        self.jar = dict(pair.split("=", 1) for pair in cookie.split("; ") if "=" in pair)

    def request(self, kind: str, method: str, path: str, expected: set[int], body=None, headers=None):
        """(status, headers, text), or None after a socket error, a timeout or an unexpected status (an error)."""
        headers = {**(headers or {}), "Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn, started = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT), time.perf_counter()
        at = started - self.stats.started
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            self.stats.add(
                Answer(kind, None, 1000 * (time.perf_counter() - started), at, f"{type(exc).__name__}: {exc}")
            )
            return None
        finally:
            conn.close()
        ms = 1000 * (time.perf_counter() - started)
        self.jar.update(harness.cookies_set(response.headers))
        error = None if response.status in expected else f"{method} {path} answered {response.status}"
        self.stats.add(Answer(kind, response.status, ms, at, error))
        return None if error else (response.status, response.headers, text)


# --- the people -----------------------------------------------------------------------------------------


class Tablet:
    """A ward tablet: open the family's form, send it (each time a new submission id from the form and
    its own worry text), and show the confirmation, whose reference is noted."""

    period = 120.0

    def __init__(self, n: int, port: int, stats: Stats):
        self.n, self.browser, self.sent = n, Browser(port, stats), 0

    def step(self) -> None:
        stats = self.browser.stats
        if (form := self.browser.request("form", "GET", FORM_PATH, {200})) is None:
            return
        hidden = dict(HIDDEN.findall(form[2]))
        self.sent += 1
        worry = f"Mum is breathing fast and not making sense (tablet {self.n}, {self.sent}, {secrets.token_hex(4)})"
        answers = [*STATIC_ANSWERS, *hidden.items(), ("worry_details", worry)]
        answer = self.browser.request("submit", "POST", FORM_PATH, {303}, body=urllib.parse.urlencode(answers))
        if answer is None:
            return
        location = urllib.parse.urlsplit(answer[1].get("Location") or "").path or "/"
        if (page := self.browser.request("sent", "GET", location, {200})) is None:
            return
        found = REFERENCE_ON_PAGE.search(page[2])
        with stats.lock:
            if found:
                stats.accepted.append(found.group(1))
            else:
                stats.errors.append(f"confirmation page {location} without a reference (tablet {self.n})")


class Clinician:
    """The queue page open on a clinician's screen: its script asks for the rows every 5 s with the version
    it last saw (If-None-Match), and the session clock every minute; the page is opened again now and then,
    as a person at work does, which keeps the session alive through long soaks."""

    period = 5.0

    def __init__(self, n: int, port: int, stats: Stats, cookie: str):
        self.n, self.browser, self.version, self.session_url = n, Browser(port, stats, cookie), "", ""
        self.rows_url = ROWS
        self.opened = self.asked = -1e9

    def open_page(self) -> bool:
        if (page := self.browser.request("page", "GET", PAGE, {200})) is None:
            return False
        if found := QUEUE.search(page[2]):
            self.rows_url, self.version = html.unescape(found.group(1)), found.group(2)
        self.session_url = html.unescape((SESSION_URL.findall(page[2]) or [""])[0])
        self.opened = time.monotonic()
        return True

    def step(self) -> None:
        if time.monotonic() - self.opened >= RELOAD and not self.open_page():
            return
        headers = {"If-None-Match": f'"{self.version}"', "Accept": "text/html"}
        answer = self.browser.request("rows", "GET", self.rows_url, {200, 304}, headers=headers)
        if answer and answer[0] == 200:
            self.version = (answer[1].get("ETag") or "").removeprefix("W/").strip('"') or self.version
        if self.session_url and time.monotonic() - self.asked >= SESSION_EVERY:
            self.asked = time.monotonic()
            self.browser.request("session", "GET", self.session_url, {200}, headers={"Accept": "application/json"})


def run_schedule(people: list, duration: float, stats: Stats, threads: int) -> None:
    """Each person's step every `period` seconds, the people spread evenly over one period, until
    `duration` has passed. A step that starts late does not move the schedule, but one person's steps
    run one at a time: while answers take longer than the period, that person falls behind (steps
    then run back to back, and `stats.late` says by how much), and steps still due at the end are not
    sent."""
    heap, lock, wake = [], threading.Lock(), threading.Event()
    for group in (Tablet, Clinician):
        members = [p for p in people if isinstance(p, group)]
        for i, person in enumerate(members):
            heap.append((stats.started + i * group.period / len(members), id(person), person))
    end = stats.started + duration
    heap = [item for item in heap if item[0] < end]  # a run shorter than a period: only the slots within it
    heapq.heapify(heap)

    def run(due: float, person) -> None:
        with lock:
            stats.late.append(max(0.0, time.perf_counter() - due))
        try:
            person.step()
        except Exception as exc:  # noqa: BLE001 (a fault of the load generator is reported, not fatal)
            stats.add(Answer(type(person).__name__, None, 0.0, time.perf_counter() - stats.started, repr(exc)))
        with lock:
            if due + person.period < end:
                heapq.heappush(heap, (due + person.period, id(person), person))
        wake.set()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="soak") as pool:
        while True:
            with lock:
                due = heap[0][0] if heap else None
                if due is not None and due <= time.perf_counter():
                    _, _, person = heapq.heappop(heap)
                    pool.submit(run, due, person)
                    continue
            if due is None and time.perf_counter() >= end:
                break
            wake.wait(min(0.5, max(0.0, (due or end) - time.perf_counter())))
            wake.clear()


# --- memory -------------------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else None


def processes(t: harness.Target) -> dict[str, int]:
    """The processes watched, by name: gunicorn's master and workers, and the outbox workers."""
    named = {"gunicorn master": t.server.process.pid}
    named.update({f"gunicorn worker {i}": pid for i, pid in enumerate(sorted(t.server.worker_pids()), 1)})
    named.update({f"worker-{i}": w.process.pid for i, w in enumerate(t.workers, 1)})  # a dead one reads None
    return named


def sample_memory(t: harness.Target, stats: Stats, every: float, stop: threading.Event) -> None:
    """VmRSS of each process every `every` seconds from the load's start, with the foreign CPU of the last
    interval; a process whose pid changed (a restarted gunicorn worker) is noted."""
    while True:
        with harness.CpuWindow() as cpu:
            if t.samples:  # the first sample at the start
                stop.wait(every)
        pids = processes(t)
        row = {"at": time.perf_counter() - stats.started, "foreign": cpu.foreign_pct if t.samples else None}
        row["rss"] = {name: rss_kib(pid) for name, pid in pids.items()}
        t.samples.append(row)
        for name, pid in pids.items():
            if t.pids.setdefault(name, pid) != pid:
                t.restarts.append(f"{name}: pid {t.pids[name]} became {pid} at {row['at']:.0f} s")
                t.pids[name] = pid
        if stop.is_set():
            return


def memory_growth(samples: list[dict], warmup: float) -> dict[str, dict]:
    """Per process: the first sample at or after the warm-up, the last, and the growth between them in %."""
    after = [s for s in samples if s["at"] >= warmup - 1] or samples[-1:]
    first, last = after[0], samples[-1]
    out = {}
    for name in last["rss"]:
        a, b = first["rss"].get(name), last["rss"].get(name)
        growth = 100 * (b / a - 1) if a and b else None
        out[name] = {"from_s": first["at"], "to_s": last["at"], "from_kib": a, "to_kib": b, "growth_pct": growth}
    return out


def create_users(app, payload: dict) -> dict:
    """In the app (harness.Target.in_app): `flask tracker create-user` for each account, in one process
    rather than one each (the app's start-up is most of a command's time)."""
    runner = app.test_cli_runner()
    for args in payload["accounts"]:
        result = runner.invoke(args=["tracker", "create-user", *args])
        if result.exit_code != 0:
            raise RuntimeError(f"create-user {args}: {result.output}")
    return {"created": len(payload["accounts"])}


# --- the scenario -------------------------------------------------------------------------------------------


class Soak(harness.Scenario):
    name, tools = "soak", ()

    def setup(self, t: harness.Target) -> None:
        opts = self.opts
        t.samples, t.pids, t.restarts = [], {}, []
        emails = {n: f"bench.clinician{n:02d}@demo-hospitals.invalid" for n in range(1, opts.clinicians + 1)}
        role = ["--role", "outreach", "--team", TEAM]
        accounts = [["--email", e, "--name", f"Bench clinician {n}", *role] for n, e in emails.items()]
        t.in_app("soak.py", "users", {"accounts": accounts})
        t.users = [t.sign_in(e, "outreach", create=False) for e in emails.values()]
        log(f"  signed in {opts.clinicians} outreach clinicians of team {TEAM} (create-user, all in one process)")
        t.start_server(opts.workers)
        t.workers = [t.spawn(WORKER, f"worker-{n + 1}.log") for n in range(opts.sms_workers)]
        t.sms_log = Path(t.env["SMS_CONSOLE_LOG"])
        t.baseline = {
            "concerns": t.db.count("concern"),
            "message_id": t.db.query("SELECT coalesce(max(id), 0) FROM message")[0][0],
        }
        log(f"  gunicorn -k sync -w {opts.workers} on {t.server.base}; {opts.sms_workers} x tracker worker")
        log(f"  SMS_BACKEND=console, every send appended to {t.sms_log.name} with the message's idempotency key")

    def round(self, t: harness.Target, n: int) -> dict:
        opts = self.opts
        harness.wait_until_quiet(opts.quiet_wait)
        stats = Stats(time.perf_counter())
        tablets = [Tablet(i + 1, t.port, stats) for i in range(opts.tablets)]
        clinicians = [Clinician(i + 1, t.port, stats, u["cookie"]) for i, u in enumerate(t.users)]
        opened = [c.open_page() for c in clinicians]
        if not all(opened) or stats.errors:
            raise BenchError(f"the queue page did not open for every clinician: {stats.errors[:3]}")
        stats.answers.clear()
        stats.started = time.perf_counter()
        rate = opts.tablets / Tablet.period
        log(f"  load: {opts.tablets} tablets ({rate:.2f} concerns/s), {opts.clinicians} clinicians every 5 s, for")
        log(f"  {opts.duration:g} s; memory sampled every {opts.sample_every:g} s; warm-up {self.warmup:g} s")
        stop = threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(t, stats, opts.sample_every, stop), daemon=True)
        with harness.CpuWindow(lambda: self.our_processes(t)) as cpu:
            sampler.start()
            progress = threading.Thread(target=self.progress, args=(t, stats, stop), daemon=True)
            progress.start()
            run_schedule([*tablets, *clinicians], opts.duration, stats, opts.client_threads)
            elapsed = time.perf_counter() - stats.started
            stop.set()
            sampler.join()
        t.stats, t.elapsed, t.cpu = stats, elapsed, cpu
        log(f"  load done after {elapsed:.0f} s: {len(stats.accepted)} concerns accepted; draining the outbox")
        t.drain = self.drain(t)
        return {"elapsed": elapsed}

    def progress(self, t: harness.Target, stats: Stats, stop: threading.Event) -> None:
        """One line per memory sample while the load runs, so a long soak shows it is alive."""
        shown = 1
        while not stop.wait(1.0):
            if len(t.samples) > shown:
                shown, sample = len(t.samples), t.samples[-1]
                rss = ", ".join(f"{k} {v / 1024:.1f}" for k, v in sample["rss"].items() if v)
                errors = f"{len(stats.errors)} errors" if stats.errors else "no errors"
                log(f"    {sample['at']:4.0f} s: {len(stats.accepted)} concerns, {errors}; RSS MiB: {rss}")

    @staticmethod
    def our_processes(t: harness.Target) -> list[int]:
        return [*t.server.pids(), *(p for w in t.workers for p in w.pids()), *t.db.server_pids()]

    def drain(self, t: harness.Target) -> dict:
        """Until no message is due and unsent (or --drain seconds), then the last message id so far: rows
        after it are steps that fired while the workers were being stopped."""
        sql = f"SELECT count(*) FROM message WHERE id > ? AND send_state IN {UNFINISHED}"
        started, deadline = time.monotonic(), time.monotonic() + self.opts.drain
        while (left := t.db.query(sql, (t.baseline["message_id"],))[0][0]) and time.monotonic() < deadline:
            time.sleep(0.5)
        last_id = t.db.query("SELECT coalesce(max(id), 0) FROM message")[0][0]
        return {"seconds": time.monotonic() - started, "left": left, "last_id": last_id}

    def finish(self, t: harness.Target) -> None:
        t.log_errors = [*t.server.log_errors(), *(line for w in t.workers for line in w.log_errors())]
        t.boots = t.server.boots()
        t.server.stop()
        for w in t.workers:
            w.stop()
        t.concerns = self.concerns(t)
        t.messages = self.messages(t)
        done = t.flask("tracker", "verify-audit", check=False)
        t.verify = ((done.stdout + done.stderr).strip(), done.returncode == 0)

    @staticmethod
    def concerns(t: harness.Target) -> dict:
        """The 303s against the new concerns, and each reference a confirmation page showed against the
        database (a missing one, or one shown twice, means a concern lost or merged)."""
        accepted, shown = sum(a.status == 303 for a in t.stats.answers if a.kind == "submit"), t.stats.accepted
        stored = {r[0] for r in t.db.query("SELECT reference FROM concern")}
        new = t.db.count("concern") - t.baseline["concerns"]
        missing = [r for r in shown if r not in stored]
        repeated = [r for r, k in Counter(shown).items() if k > 1]
        found = {"accepted": accepted, "references": len(shown), "stored": new, "missing": missing}
        return {**found, "repeated": repeated}

    @staticmethod
    def messages(t: harness.Target) -> dict:
        """The outbox after the load (rows added since the start) against the console backend's log of sends."""
        sends = Counter()
        if t.sms_log.exists():
            for line in t.sms_log.read_text().splitlines():
                sends[json.loads(line)["key"]] += 1
        sql = "SELECT id, idempotency_key, send_state, template_id FROM message WHERE id > ?"
        rows = t.db.query(sql, (t.baseline["message_id"],))
        states, by_template = Counter(), defaultdict(Counter)
        unsent, twice, sent_not_accepted, later = [], [], [], 0
        for mid, key, state, template in rows:
            states[state] += 1
            by_template[template][state] += 1
            if mid > t.drain["last_id"]:
                later += 1  # a step that fired while the workers were being stopped: not due to be sent yet
            elif state in UNFINISHED or state == "dead":
                unsent.append(f"{mid} {template} {state}")
            if state == "accepted" and sends[key] != 1:
                (twice if sends[key] > 1 else unsent).append(f"{mid} {template} sent {sends[key]} time(s)")
            elif state != "accepted" and sends[key]:
                sent_not_accepted.append(f"{mid} {template} {state}, sent {sends[key]} time(s)")
        keys = {r[1] for r in rows}
        unknown = [k for k in sends if k not in keys]
        found = {"rows": len(rows), "states": dict(states), "sends": sum(sends.values()), "unsent": unsent}
        found.update(twice=twice, sent_not_accepted=sent_not_accepted, unknown_sends=unknown, after_drain=later)
        return {**found, "by_template": {k: dict(v) for k, v in sorted(by_template.items())}}

    @property
    def warmup(self) -> float:
        return min(self.opts.warmup, 0.2 * self.opts.duration)

    def figures(self, t: harness.Target) -> dict:
        growth = memory_growth(t.samples, self.warmup)
        return {f"{name} RSS growth %": [g["growth_pct"]] for name, g in growth.items()}

    def requests(self, t: harness.Target) -> dict:
        out = {}
        for kind in ("form", "submit", "sent", "page", "rows", "session"):
            answers = [a for a in t.stats.answers if a.kind == kind]
            times = [a.ms for a in answers if a.error is None]
            statuses = dict(Counter(str(a.status or "socket") for a in answers))
            row = {"count": len(answers), "errors": sum(a.error is not None for a in answers), "statuses": statuses}
            row.update(p50=percentile(times, 50), p99=percentile(times, 99), max=max(times, default=None))
            out[kind] = row
        return out

    def summarise(self, targets: list[harness.Target], info: dict) -> dict:
        opts = self.opts
        harness.settings(opts, info)
        log(f"  gunicorn -k sync -w {opts.workers}; {opts.sms_workers} x `flask --app wsgi tracker worker`;")
        log("  SMS_BACKEND=console (each send logged with its message's idempotency key); TRACKER_CONFIG=benchmark")
        load = f"{opts.tablets} tablets x 1 concern / 120 s; {opts.clinicians} clinicians x queue refresh / 5 s"
        log(f"  {load}; {opts.duration:g} s; warm-up {self.warmup:g} s; memory every {opts.sample_every:g} s")
        return {t.label: self.report(t) for t in targets}

    def report(self, t: harness.Target) -> dict:
        opts, stats, requests = self.opts, t.stats, self.requests(t)
        cpu = t.cpu
        ours = 100 * cpu.server_s / cpu.seconds if cpu.seconds else None
        log(f"\n{t.label}: {t.elapsed:.0f} s of load; foreign CPU {cpu.foreign_pct:.1f}% of the machine")
        log(f"  gunicorn + workers + their PostgreSQL backends: {fmt(ours)}% of one core on average")
        log("\nREQUESTS (ms; an error is a socket error, a timeout or an answer other than those expected)")
        shown = {k: r for k, r in requests.items() if r["count"]}
        rows = [
            [k, r["count"], r["errors"], r["p50"], r["p99"], r["max"], str(r["statuses"])] for k, r in shown.items()
        ]
        harness.table("request|<8;count|>7;errors|>7;p50|>8.1f;p99|>8.1f;max|>8.1f;statuses|  <", rows)
        late = sorted(stats.late)
        behind = f"p50 {fmt(percentile(late, 50), 3)} s, p99 {fmt(percentile(late, 99), 2)} s"
        behind += f", max {fmt(max(late, default=0), 2)} s"
        log(f"  schedule: steps started after they were due by {behind} (a person's steps run one at a time)")
        log("\nMEMORY (VmRSS, MiB, from /proc/<pid>/status; foreign% = other work in the interval)")
        names = list(t.samples[-1]["rss"])
        spec = "at s|>6.0f;" + ";".join(f"{n}|  >{max(9, len(n))}.1f" for n in names) + ";foreign%|  >8.1f"
        mib = [[s["at"], *((s["rss"].get(n) or 0) / 1024 for n in names), s["foreign"]] for s in t.samples]
        harness.table(spec, mib)
        growth = memory_growth(t.samples, self.warmup)
        for problem in t.restarts:
            log(f"  RESTARTED {problem}")
        c, m = t.concerns, t.messages
        log("\nOUTBOX")
        log(f"  {m['rows']} messages since the start, by state: {m['states']}; {m['sends']} sends in the console log")
        for template, states in m["by_template"].items():
            log(f"    {template}: {states}")
        drained = f"drained in {t.drain['seconds']:.1f} s" if not t.drain["left"] else f"{t.drain['left']} still due"
        stopping = f"{m['after_drain']} added while the workers stopped (escalation steps: need not be sent)"
        log(f"  after the load: {drained}; {stopping}")
        for label, items in (("unsent", m["unsent"]), ("sent twice or more", m["twice"])):
            if items:
                log(f"  {label}: {len(items)}, e.g. {items[:3]}")
        if m["sent_not_accepted"] or m["unknown_sends"]:
            log(f"  sent but not accepted: {m['sent_not_accepted'][:3]}; sends of no message: {m['unknown_sends'][:3]}")
        for line in t.log_errors[:3]:
            log(f"  log: {line[:200]}")
        if t.boots > opts.workers:
            log(f"  gunicorn's log: workers booted {t.boots} times for {opts.workers} workers (restarts)")
        for problem in stats.errors[:5]:
            log(f"  error: {problem[:200]}")
        log("\nTARGETS")
        errors = len(stats.errors)  # every failed request, and any confirmation without a reference
        check(f"errors (socket errors, timeouts, unexpected answers): {errors} == 0", errors == 0)
        stored = f"every accepted concern stored: {c['accepted']} 303s, {c['stored']} new concerns, "
        stored += f"{c['references'] - len(c['missing'])} of {c['references']} references found"
        extra = f", {len(c['missing'])} missing" if c["missing"] else ""
        extra += f", {len(c['repeated'])} references seen twice" if c["repeated"] else ""
        check(stored + extra, c["accepted"] == c["stored"] and not c["missing"] and not c["repeated"])
        sent = m["states"].get("accepted", 0)
        once = not (m["unsent"] or m["twice"] or m["sent_not_accepted"] or m["unknown_sends"])
        check(f"every message sent exactly once: {sent} accepted, {m['sends']} sends, {len(m['unsent'])} unsent", once)
        check(f"flask tracker verify-audit: {t.verify[0][:60]}", t.verify[1])
        for name, g in growth.items():
            ok = (
                g["growth_pct"] is not None
                and g["growth_pct"] < GROWTH
                and not any(p.startswith(name + ":") for p in t.restarts)
            )
            span = f"{fmt(g['from_kib'] and g['from_kib'] / 1024)} -> {fmt(g['to_kib'] and g['to_kib'] / 1024)} MiB"
            check(
                f"{name} RSS {span} ({g['from_s']:.0f}-{g['to_s']:.0f} s): {fmt(g['growth_pct'], 2)}% < {GROWTH:g}%", ok
            )
        if t.elapsed < 300:
            log(f"    (a {t.elapsed:.0f}-s run: memory growth over so short a time says little; run the full 600 s)")
        return {
            "elapsed_s": t.elapsed,
            "foreign_cpu_pct": cpu.foreign_pct,
            "ours_cpu_pct_of_one_core": ours,
            "requests": requests,
            "errors": stats.errors,
            "concerns": c,
            "messages": m,
            "verify_audit": t.verify[0],
            "memory": {"samples": t.samples, "growth": growth, "restarts": t.restarts},
            "drain": t.drain,
        }


def options(argv=None):
    p = harness.parser(__doc__, rounds=1, duration=600, warmup=120, wrk=False, db="postgres", quiet_wait=0)
    p.add_argument("--tablets", type=int, default=100, help="tablets, each raising a concern every 2 minutes (100)")
    p.add_argument("--clinicians", type=int, default=20, help="clinicians, each refreshing the queue every 5 s (20)")
    p.add_argument("--sms-workers", type=int, default=2, help="outbox/escalation worker processes (default 2)")
    p.add_argument("--sample-every", type=float, default=30, help="seconds between memory samples (default 30)")
    p.add_argument("--drain", type=float, default=60, help="seconds to wait for the outbox after the load (60)")
    threads = "the load generator's threads (default: one per tablet and clinician, so none waits for another)"
    p.add_argument("--client-threads", type=int, help=threads)
    opts = harness.parse(p, argv)
    opts.client_threads = opts.client_threads or opts.tablets + opts.clinicians
    if opts.rounds != 1 or min(opts.tablets, opts.clinicians, opts.sms_workers, opts.client_threads) < 1:
        p.error("a soak is one run: --rounds 1; and at least one tablet, clinician, worker and thread")
    if opts.sample_every <= 0 or opts.sample_every > opts.duration:
        p.error("need 0 < --sample-every <= --duration")
    return opts


if __name__ == "__main__":
    harness.run(Soak, options, {"users": create_users})
