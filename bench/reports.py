"""Benchmark: the managers' reports with 200,000 calls and 1,000,000 audit rows, on gunicorn -k sync -w 1:
the audit log export against the database's own dump of the same rows, the calls export (CSV and
Excel), verify-audit, the audit viewer, and the dashboard for a month and a year beside /livez.
See bench/README.md for what it prints.

    python bench/reports.py --db sqlite --rounds 1 --concerns 20000 --audit-rows 20000 --skip-excel --duration 3
    python bench/reports.py --dashboard-only --rounds 2 --duration 5      # the dashboard alone, 200,000 calls
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import harness
import seed_data
from harness import BenchError, check, fmt, log, median, percentile

SITE, BENCH_EMAIL, TZ, DAYS = "ngh", "bench.manager@demo-hospitals.invalid", ZoneInfo("Europe/London"), 730
TARGETS = {"sqlite": 0.10, "postgres": 0.5}  # export rows/s ÷ the database's own dump rows/s, at least
TTFB_S, MEMORY_MIB = 1.0, 100.0
# The dashboard's server CPU per request (gunicorn and its PostgreSQL backend), at most: it reads daily rollups.
DASHBOARD_SERVER_MS = {"month": 150.0, "year": 300.0}
REFERENCE = "a plain cursor + csv.writer stream: 0.11-0.17 x the database's dump; COPY through psycopg: 0.89 x"
# The database's own dump of what the audit export sends (its query written out: the same joins, scope
# and order; SQLite reads it from the occurred_at index, PostgreSQL from the primary key).
DUMP_SQL = """SELECT a.id, a.occurred_at, a.actor_type, a.actor_id, u.email, a.action, a.object_type, a.object_id,
 c.reference, a.changes, a.prev_hash, a.hash FROM audit_event AS a LEFT OUTER JOIN concern AS c ON c.id = a.concern_id
 LEFT OUTER JOIN user_account AS u ON a.actor_type = 'user' AND u.id = a.actor_id WHERE a.occurred_at >= {lo}
 AND a.occurred_at < {hi} AND (a.concern_id IS NULL OR c.site_id = {site}) ORDER BY """.replace("\n", "")
ORDER = {"sqlite": ("a.occurred_at, a.id", "a.occurred_at DESC, a.id DESC"), "postgres": ("a.id", "a.id DESC")}
WARDS = "SELECT w.id, w.site_id, w.team_id, s.code FROM ward w JOIN site s ON s.id = w.site_id WHERE w.retired_at "
TOUCH = "UPDATE session_record SET authenticated_at = ?, last_active_at = ? WHERE id = ?"
COUNTED = "SELECT count(*) FROM concern WHERE site_id = ? AND raised_at >= ? AND raised_at < ? AND NOT "
COUNTED += "(status = 'cancelled' AND cancel_kind = 'duplicate')"
CURL_OUT = "%{http_code} %{time_starttransfer} %{time_total} %{size_download}"
DASHBOARD_KEYS = ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "errors", "ratio", "server_ms_per_req", "foreign")


# --- the data, written inside the app (for its audit hash rule) --------------------------------------------


def app_hash_rule():
    """The app's audit hash rule: the one import of the app's own modules in bench/. The chain must
    verify with the app's rule, so it is taken from the app; if the rule moves, change this import."""
    from tracker.services.records.audit import canonical_bytes

    return canonical_bytes


def seed(_app, payload: dict) -> dict:
    """Calls raised over two years in time order (as a real table fills), 90 % at site ngh, with their
    texts; then audit rows appended to the chain. The report facts come from `flask tracker report-facts`."""
    url, count, rng = os.environ["DATABASE_URL"], payload["concerns"], random.Random(payload["seed"])
    now, name = datetime.now(UTC), url[url.rindex("/") + 1 :]
    db = harness.SqliteDatabase(Path(url[10:])) if url.startswith("sqlite") else harness.PostgresDatabase(name)
    wards = db.query(WARDS + "IS NULL ORDER BY w.id")
    users = [u for (u,) in db.query("SELECT id FROM user_account ORDER BY id")]
    main = [w for w in wards if w[3] == SITE]
    other = [w for w in wards if w[3] != SITE] or main
    first = db.query("SELECT coalesce(max(id), 0) + 1 FROM concern")[0][0]

    def status(raised: datetime) -> str:  # about one recent call in three still open
        if now - raised < timedelta(days=2) and rng.random() < 0.3:
            return rng.choice(["new", "acknowledged", "reviewed"])
        return seed_data.pick(rng, {"closed": 95, "cancelled": 5})

    def ward() -> tuple:
        return rng.choice(main if rng.random() < 0.9 else other)

    moments = sorted(now - timedelta(seconds=rng.randint(3600, DAYS * 86400)) for _ in range(count))
    t0 = time.monotonic()
    written = seed_data.write_calls(db, moments, ward, status, users, rng=rng, now=now)
    written["calls_s"], t1, ids = time.monotonic() - t0, time.monotonic(), range(first, first + count)
    audit = seed_data.write_audit(db, payload["audit_rows"], ids, users, rng, now, DAYS, app_hash_rule())
    written["audit_last_id"], written["audit_s"] = audit, time.monotonic() - t1
    db.analyze()
    return written


# --- talking to the app ----------------------------------------------------------------------------------


def period(start: date, end: date) -> dict:
    days = {"from-day": start.day, "from-month": start.month, "from-year": start.year, "to-day": end.day}
    return {**days, "to-month": end.month, "to-year": end.year, "site": SITE}


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC bounds of whole local days, start to end."""
    return tuple(datetime.combine(day, clock(0), TZ).astimezone(UTC) for day in (start, end + timedelta(days=1)))


def signed_in(t: harness.Target) -> None:
    """Mark the manager's session as just signed in and used (exports need a sign-in within 5 minutes, and
    an idle session ends), then open the exports page: a warm-up, and the CSRF token for the POSTs."""
    now, cookie = datetime.now(UTC), {"Cookie": t.user["cookie"]}
    t.db.query(TOUCH, (now, now, t.user["session_id"]))
    status, headers, html = harness.fetch(t.server.base + "/records/exports", headers=cookie)
    if status != 200 or not (token := re.search(r'name="csrf_token" value="([^"]+)"', html)):
        raise BenchError(f"GET /records/exports answered {status}, without the export forms")
    if cookie := harness.cookies_set(headers).get(harness.SESSION_COOKIE):  # the token went into the session
        t.user["cookie"] = f"{harness.SESSION_COOKIE}={cookie}"
    t.token = token.group(1)


def curl(t: harness.Target, path: str, form: dict, out: str = "/dev/null") -> dict:
    """POST with curl: status, time to first byte, total time and size."""
    headers = ["-H", f"Cookie: {t.user['cookie']}", "-H", f"Referer: {t.server.base}/records/exports"]
    data = ["--data", urllib.parse.urlencode({"csrf_token": t.token, **form}), t.server.base + path]
    done = subprocess.run(["curl", "-sS", "-o", out, "-w", CURL_OUT, *headers, *data], capture_output=True, text=True)
    code, ttfb, total, size = done.stdout.split()
    return {"status": int(code), "ttfb": float(ttfb), "seconds": float(total), "bytes": int(size)}


def memory_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def export(t: harness.Target, path: str, form: dict, out: str = "/dev/null") -> dict:
    """One export on a freshly started worker (one large export is one long request: timeout 900 s):
    curl's figures, and the worker's peak memory growth from before it (VmHWM - VmRSS)."""
    server = t.start_server(1, timeout=900)
    try:
        signed_in(t)
        baseline, result = memory_kib(server.worker_pids()[0], "VmRSS"), curl(t, path, form, out)
        if result["status"] != 200:
            raise BenchError(f"POST {path} answered {result['status']}:\n{server.log_tail()}")
        return {**result, "growth_mib": (memory_kib(server.worker_pids()[0], "VmHWM") - baseline) / 1024}
    finally:
        server.stop()


def native_dump(t: harness.Target) -> float:
    """Seconds for the database's own CSV dump of the export's query, to /dev/null."""
    cmd = ["sqlite3", "-csv", "-header", str(t.db.url[10:]), t.sql]
    if t.db.kind == "postgres":
        where = ["-h", harness.PG_HOST, "-p", str(harness.PG_PORT), "-U", harness.PG_USER, "-d", t.db.name, "-X", "-q"]
        copy = f"COPY ({t.sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
        cmd = ["psql", *where, "-v", "ON_ERROR_STOP=1", "-c", "SET enable_sort = off", "-c", copy]
    started = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900)
    if done.returncode != 0:
        raise BenchError(f"{cmd[0]} failed: {done.stderr[-2000:]}")
    return time.monotonic() - started


def get(t: harness.Target, path: str) -> tuple[int, float, str]:
    started = time.perf_counter()
    status, _, html = harness.fetch(t.server.base + path, headers={"Cookie": t.user["cookie"]}, timeout=120)
    return status, (time.perf_counter() - started) * 1000, html


def one_client(t: harness.Target, path: str, seconds: float) -> dict:
    """Requests back to back from one client for `seconds` (a manager opens the page; with one sync
    worker a second client would only queue, so latency is the server's time): latencies and CPU."""
    latencies, errors = [], 0
    with harness.CpuWindow(lambda: [*t.server.pids(), *t.db.server_pids()]) as cpu:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            status, ms, _ = get(t, path)
            latencies.append(ms)
            errors += status != 200
    row = {f"p{q}_ms": percentile(latencies, q) for q in (50, 95, 99)}
    row.update(rps=len(latencies) / cpu.seconds, max_ms=max(latencies), errors=errors, foreign=cpu.foreign_pct)
    return {**row, "server_ms_per_req": 1000 * cpu.server_s / len(latencies)}


# --- the scenario ------------------------------------------------------------------------------------------


class Reports(harness.Scenario):
    name, tools, packages = "reports", ("curl",), {"XlsxWriter": "xlsxwriter"}

    def setup(self, t: harness.Target) -> None:
        opts, today = self.opts, datetime.now(TZ).date()
        if not shutil.which("sqlite3" if t.db.kind == "sqlite" else "psql"):
            raise BenchError("the database's own shell (sqlite3, or psql) is not installed")
        payload = {"concerns": opts.concerns, "audit_rows": opts.audit_rows, "seed": opts.seed}
        t.data, started = t.in_app("reports.py", "seed", payload), time.monotonic()
        log(f"  wrote {t.data['calls']:,} calls and {t.data['messages']:,} texts in {t.data['calls_s']:.1f} s")
        log(f"  appended {opts.audit_rows:,} audit rows to the hash chain in {t.data['audit_s']:.1f} s")
        log(f"  {t.flask('tracker', 'report-facts').stdout.strip()} ({time.monotonic() - started:.1f} s)")
        started = time.monotonic()  # the daily rollups, as a nightly check-rollups --repair leaves them
        built = t.flask("tracker", "check-rollups", "--repair", check=False).stdout.strip().splitlines()
        log(f"  {built[0] if built else 'check-rollups said nothing'} ({time.monotonic() - started:.1f} s)")
        # report-facts rewrote every call after the seed's statistics were taken: without fresh ones (autovacuum
        # would take them on a live server) PostgreSQL plans the dashboard for calls that have no facts at all.
        t.db.analyze()
        t.user = t.sign_in(BENCH_EMAIL, "manager", "--site", SITE, mfa=True)
        t.site_id = t.db.query("SELECT id FROM site WHERE code = ?", (SITE,))[0][0]
        t.form, (lo, hi) = period(today - timedelta(days=800), today), bounds(today - timedelta(days=800), today)
        if t.db.kind == "sqlite":
            lo, hi = f"'{t.db.value(lo)}'", f"'{t.db.value(hi)}'"
        else:
            lo, hi = f"'{lo.isoformat()}'::timestamptz", f"'{hi.isoformat()}'::timestamptz"
        t.sql = DUMP_SQL.format(lo=lo, hi=hi, site=int(t.site_id)) + ORDER[t.db.kind][0]
        t.rows, t.file_ok = 0, True
        if not opts.dashboard_only:
            self.check_file(t)

    def check_file(self, t: harness.Target) -> None:
        """Once, not timed: the file has exactly the rows of the database's own query, first and last in
        the chain's order (the export audits itself before its first byte: its event is the last row)."""
        checked = export(t, "/records/exports/audit", t.form, out=str(path := t.workdir / "audit.csv"))
        lines, t.rows = path.read_text(encoding="utf-8-sig").splitlines(), t.db.count(f"({t.sql}) AS q")
        newest_first = t.sql.replace(f"ORDER BY {ORDER[t.db.kind][0]}", f"ORDER BY {ORDER[t.db.kind][1]}")
        expected = (t.db.query(t.sql + " LIMIT 1")[0][0], t.db.query(newest_first + " LIMIT 1")[0][0])
        first, last = (int(line.split(",")[0]) for line in (lines[1], lines[-1]))
        t.file_ok = checked["status"] == 200 and len(lines) - 1 == t.rows and (first, last) == expected
        log(f"  the audit export covers {t.rows:,} of {t.db.count('audit_event'):,} events")
        verdict = "as in the database" if t.file_ok else "MISMATCH"
        log(f"  its file: {len(lines) - 1:,} rows, {first}..{last}: {verdict}")
        path.unlink()

    def round(self, t: harness.Target, n: int) -> dict:
        if self.opts.dashboard_only:
            return {}
        dump = native_dump(t) if n % 2 else None  # the dump goes first every other round
        result = export(t, "/records/exports/audit", t.form)
        dump, seconds = dump or native_dump(t), result["seconds"]
        first_byte = f"first byte {result['ttfb'] * 1000:.0f} ms, worker +{result['growth_mib']:.1f} MiB"
        log(f"  {t.label} round {n + 1}: export {t.rows / seconds:,.0f} rows/s ({seconds:.2f} s, {first_byte}); ")
        log(f"    the database's own dump {t.rows / dump:,.0f} rows/s ({dump:.2f} s); ratio {dump / seconds:.2f}")
        return {"export": result, "dump_s": dump, "ratio": dump / seconds}

    def finish(self, t: harness.Target) -> None:
        t.extras = {}
        if self.opts.dashboard_only:
            t.start_server(1, timeout=900)
            signed_in(t)
            self.dashboard(t)
            return
        for kind in ("csv", "xlsx")[: 1 if self.opts.skip_excel else 2]:
            try:
                r = t.extras[f"calls_{kind}"] = export(t, "/records/exports/concerns", {**t.form, "format": kind})
                first_byte = f"first byte {r['ttfb'] * 1000:.0f} ms, {r['bytes'] / 1e6:.1f} MB"
                log(f"  calls export as {kind.upper()}: {r['seconds']:.2f} s, {first_byte}, +{r['growth_mib']:.1f} MiB")
            except BenchError as problem:  # reported, and the rest still measured
                t.extras[f"calls_{kind}"] = {"error": str(problem)[:500]}
                log(f"  calls export as {kind.upper()}: FAILED: {str(problem)[:300]}")
        started = time.monotonic()
        done = t.flask("tracker", "verify-audit", check=False)  # also records the checkpoint the viewer starts from
        t.extras["verify_audit"] = {"seconds": time.monotonic() - started, "output": done.stdout.strip()[-200:]}
        log(f"  flask tracker verify-audit: {t.extras['verify_audit']['seconds']:.1f} s: {done.stdout.strip()[-200:]}")
        t.start_server(1, timeout=900)
        signed_in(t)  # also warms the worker up, as the exports did
        self.viewer(t)
        self.dashboard(t)

    def viewer(self, t: harness.Target) -> None:
        """The audit viewer's first view, then the newest page, searches and the second page (median of 5)."""
        status, first_ms, html = get(t, "/records/audit")
        sql = "SELECT reference FROM concern WHERE site_id = ? ORDER BY id DESC LIMIT 1"
        pages = {"newest": "", "by action": "?action=claimed", "by person": "?user=" + urllib.parse.quote(BENCH_EMAIL)}
        pages["by call"] = f"?reference={t.db.query(sql, (t.site_id,))[0][0]}"
        if older := re.search(r'href="/records/audit(\?[^"]*before=\d+[^"]*)"', html):
            pages["second page"] = older.group(1).replace("&amp;", "&")
        runs = {name: [get(t, "/records/audit" + query)[:2] for _ in range(5)] for name, query in pages.items()}
        timings = {name: statistics.median(ms for _, ms in r) for name, r in runs.items()}
        errors = sum(s != 200 for r in runs.values() for s, _ in r)
        t.extras["viewer"] = {"first_view_ms": first_ms, "pages": timings, "errors": errors}
        pages = "; ".join(f"{k} {ms:.0f}" for k, ms in timings.items())
        log(f"  audit viewer: first view {first_ms:.0f} ms ({status}); median of 5, ms: {pages}; {errors} errors")

    def dashboard(self, t: harness.Target) -> None:
        """Last month and the twelve months ending with it (the data covers two years), in the trust's time:
        each checked once against the database, then timed with /livez, rotating, for --rounds rounds."""
        end = datetime.now(TZ).date().replace(day=1) - timedelta(days=1)
        months = end.year * 12 + end.month - 12
        periods = {"month": (end.replace(day=1), end), "year": (date(months // 12, months % 12 + 1, 1), end)}
        t.paths = {name: "/reports/?" + urllib.parse.urlencode(period(*days)) for name, days in periods.items()}
        t.paths = {"livez": harness.LIVEZ, **t.paths}
        t.checks = {name: self.dashboard_check(t, name, *days) for name, days in periods.items()}
        for path in t.paths.values():
            one_client(t, path, 2.0)  # warm-up, not counted
        t.dashboard = []
        for n in range(self.opts.rounds):
            harness.wait_until_quiet(self.opts.quiet_wait)
            signed_in(t)
            order = list(t.paths)[n % 3 :] + list(t.paths)[: n % 3]
            t.dashboard.append({name: one_client(t, t.paths[name], self.opts.duration) for name in order})
            runs = "; ".join(f"{k} {r['rps']:.1f} req/s p95 {r['p95_ms']:.0f} ms" for k, r in t.dashboard[-1].items())
            log(f"  dashboard round {n + 1}: {runs}")

    @staticmethod
    def dashboard_check(t: harness.Target, name: str, start: date, end: date) -> dict:
        """The dashboard answers 200 and shows as many calls as a count in the database of the same local
        days (duplicates left out): a fast page that counts wrongly fails."""
        status, ms, html = get(t, t.paths[name])
        found = re.search(r"Calls raised\s*</dt>\s*<dd[^>]*>\s*([\d,]+)", html)
        shown = int(found.group(1).replace(",", "")) if found else None
        expected = t.db.query(COUNTED, (t.site_id, *bounds(start, end)))[0][0]
        log(f"  dashboard {name} ({start} to {end}): {status} in {ms:.0f} ms; {shown} calls shown, {expected} counted")
        ok, days = status == 200 and shown == expected, f"{start} to {end}"
        return {"status": status, "first_ms": ms, "shown": shown, "expected": expected, "ok": ok, "period": days}

    def figures(self, t: harness.Target) -> dict:
        """Per round: the export's ratio to the dump (left out with --dashboard-only, where it is not measured) and
        the dashboard's server CPU for a month and a year, for the two-trees table."""
        found = {} if self.opts.dashboard_only else {"audit export ÷ dump rows/s": [r["ratio"] for r in t.rounds if r]}
        for name in ("month", "year"):
            found[f"dashboard {name} srv ms/req"] = [r[name]["server_ms_per_req"] for r in getattr(t, "dashboard", [])]
        return found

    def summarise(self, targets: list[harness.Target], info: dict) -> dict:
        opts, summary, rows = self.opts, {}, []
        harness.settings(opts, info)
        log(f"  data: {opts.concerns:,} calls, {opts.audit_rows:,} audit rows (seed {opts.seed})")
        log(f"  dashboard: one client, runs of {opts.duration:g} s")
        log("  gunicorn -k sync -w 1 --timeout 900, restarted for every export; curl to /dev/null")
        if opts.dashboard_only:
            for t in targets:
                summary[t.label] = {"data": t.data}
            self.summarise_dashboard(targets, summary)
            return summary
        log("\nRESULTS (the audit log export of the whole period, medians over rounds; dump = the database's own dump)")
        for t in targets:
            exports = [r["export"] for r in t.rounds]
            row = {"rows": t.rows, "export_rows_s": median(t.rows / e["seconds"] for e in exports)}
            row["dump_rows_s"] = median(t.rows / r["dump_s"] for r in t.rounds)
            row["ratio"] = median(r["ratio"] for r in t.rounds)
            row.update(ttfb_s=median(e["ttfb"] for e in exports), growth_mib=max(e["growth_mib"] for e in exports))
            summary[t.label] = {**row, "file_ok": t.file_ok, "rounds": t.rounds, "extras": t.extras, "data": t.data}
            rows.append([t.label, *row.values()])
        spec = "database|<20;rows|>10,;export rows/s|>15,.0f;dump rows/s|>14,.0f;ratio|>8.2f;first byte s|>14.3f"
        harness.table(spec + ";peak growth MiB|>17.1f", rows)
        log(f"  ({REFERENCE})\nTARGETS")
        for t in targets:
            row, target = summary[t.label], TARGETS[t.db.kind]
            dump = "sqlite3 -csv" if t.db.kind == "sqlite" else "psql COPY"
            log(f"  {t.label}")
            check(f"export rows/s {row['ratio']:.2f} x {dump} (same round) >= {target}", row["ratio"] >= target)
            check(f"first byte {row['ttfb_s']:.2f} s within {TTFB_S:.0f} s", row["ttfb_s"] <= TTFB_S)
            growth = f"worker memory growth {row['growth_mib']:.1f} MiB < {MEMORY_MIB:.0f} MiB (largest round)"
            check(growth, row["growth_mib"] < MEMORY_MIB)
            check("the file has every row, in the chain's order", t.file_ok)
        self.summarise_dashboard(targets, summary)
        return summary

    def summarise_dashboard(self, targets: list[harness.Target], summary: dict) -> None:
        log("\nDASHBOARD (one client, back to back, through gunicorn -k sync -w 1; medians over rounds)")
        rows = []
        for target, name in ((t, name) for t in targets for name in t.paths):
            runs = [r[name] for r in target.dashboard]
            med = {k: median(r[k] for r in runs) for k in DASHBOARD_KEYS if k not in ("errors", "ratio")}
            med["ratio"] = median(r[name]["rps"] / r["livez"]["rps"] for r in target.dashboard)
            summary[target.label][f"dashboard {name}"] = {**med, "errors": sum(r["errors"] for r in runs)}
            rows.append([target.label, name, *(summary[target.label][f"dashboard {name}"][k] for k in DASHBOARD_KEYS)])
        spec = "database|<20;endpoint|<8;req/s|>8.1f;p50 ms|>8.1f;p95 ms|>8.1f;p99 ms|>8.1f;max ms|>8.1f;errors|>7"
        harness.table(spec + ";x livez|>9.3f;srv ms/req|>11.1f;foreign %|>10.0f", rows)
        log("TARGETS")
        for target, name in ((t, name) for t in targets for name in ("month", "year")):
            row, seen = summary[target.label][f"dashboard {name}"], target.checks[name]
            log(f"  {target.label}, dashboard for a {name} ({seen['period']})")
            limit = DASHBOARD_SERVER_MS[name]
            server = f"server CPU {fmt(row['server_ms_per_req'])} ms per request at most {limit:.0f} ms"
            check(server, row["server_ms_per_req"] <= limit)
            counted = f"no errors, and it shows the database's count of calls ({seen['shown']} of {seen['expected']})"
            check(counted, seen["ok"] and not row["errors"])


def options(argv=None):
    p = harness.parser(__doc__, duration=10, wrk=False)
    p.add_argument("--concerns", type=int, default=200_000, help="calls to write (default 200,000)")
    p.add_argument("--audit-rows", type=int, default=1_000_000, help="audit rows to write (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the data (default 1)")
    p.add_argument("--skip-excel", action="store_true", help="leave out the Excel export of the calls")
    p.add_argument(
        "--dashboard-only",
        action="store_true",
        help="measure only the dashboard (no exports, verify-audit or audit viewer; give --audit-rows 0 to skip those rows)",
    )
    opts = harness.parse(p, argv)
    if opts.concerns < 1 or opts.audit_rows < 0:
        p.error("need --concerns >= 1 and --audit-rows >= 0")
    return opts


if __name__ == "__main__":
    harness.run(Reports, options, {"seed": seed})
