"""Dashboard half of bench/reports.py: the managers' dashboard for a month and for a year, beside
GET /livez in the same run, through the gunicorn bench/reports.py started (sync, one worker),
with its 200,000 calls (bench/report_data.py).

bench/reports.py calls `measure(context)` once per database and `summarise(reports)` at the end.
For each database it:

1. picks the periods in the trust's time (Europe/London): last month, and the twelve months
   ending with it (the data covers the last two years, so both are full);
2. checks once, not timed, that each dashboard answers 200 and shows as many calls as a direct
   count in the database of the same local days (calls cancelled as duplicates left out);
3. warms up (2 s per endpoint, not counted), then for each round measures each endpoint for
   --seconds (default 10) with one client sending requests back to back (a manager opening the
   page; one worker, so a second client would only queue), rotating the order each round; and
   reports the median over rounds of req/s, p50, p95, p99 and max latency, errors (any answer but
   200), the ratio to /livez in the same round, gunicorn's CPU per request, and the share of the
   machine other processes used (DISTURBED above 15 %).

Target (issue 5): dashboard p95 under 300 ms, for a month and for a year, on each database.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

sb = sys.modules.get("submit")
report_data = sys.modules.get("report_data")

TZ = ZoneInfo("Europe/London")
TARGET_P95_MS = 300.0
SECONDS = float(os.environ.get("BENCH_DASHBOARD_SECONDS", "10"))
WARMUP_SECONDS = 2.0
DISTURBED = 15.0


def _period(start: date, end: date, site: str) -> str:
    return (f"/reports/?site={site}&from-day={start.day}&from-month={start.month}&from-year={start.year}"
            f"&to-day={end.day}&to-month={end.month}&to-year={end.year}")


def periods(today: date) -> dict[str, tuple[date, date]]:
    this_month = today.replace(day=1)
    last_month_end = this_month - timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    index = last_month.year * 12 + last_month.month - 1 - 11
    year_start = date(index // 12, index % 12 + 1, 1)
    return {"month": (last_month, last_month_end), "year": (year_start, last_month_end)}


def _local_midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC)


def expected_calls(db, site_id: int, start: date, end: date) -> int:
    lo, hi = _local_midnight_utc(start), _local_midnight_utc(end + timedelta(days=1))
    if db.kind == "sqlite":
        lo, hi = report_data._sqlite_value(lo), report_data._sqlite_value(hi)
    with report_data.connect(db) as conn:
        (count,), = report_data.rows_of(
            conn, db, "SELECT count(*) FROM concern WHERE site_id = ? AND raised_at >= ? AND raised_at < ? AND NOT "
                      "(status = 'cancelled' AND cancel_kind = 'duplicate')", (site_id, lo, hi))
    return count


def keep_signed_in(db, session_id: int) -> None:
    """The exports half runs for minutes before this: mark the manager's session as just used, so
    the idle timeout does not end it mid-measurement."""
    with report_data.connect(db) as conn:
        sql = "UPDATE session_record SET last_active_at = ?, authenticated_at = ? WHERE id = ?"
        now = datetime.now(UTC)
        now = report_data._sqlite_value(now) if db.kind == "sqlite" else now
        conn.execute(sql.replace("?", "%s") if db.kind == "postgres" else sql, (now, now, session_id))


def get(base: str, path: str, cookie: str | None) -> tuple[int, float, str]:
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 (loopback)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
            body = response.read().decode(errors="replace")
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(errors="replace"), error.code
    return status, (time.perf_counter() - started) * 1000, body


def _ticks(pids: list[int]) -> int:
    return sum(sb.process_ticks(pid) for pid in pids)


def run(server, db, base: str, path: str, cookie: str | None, seconds: float) -> dict:
    """Requests back to back for `seconds`: latencies and CPU."""
    ours = [*server.pids(), *db.server_pids()]
    busy0, total0 = sb.machine_ticks()
    mine0, client0 = _ticks(ours), _ticks([os.getpid()])
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        status, ms, _ = get(base, path, cookie)
        latencies.append(ms)
        errors += status != 200
    elapsed = time.perf_counter() - started
    busy1, total1 = sb.machine_ticks()
    ours_after = [*server.pids(), *db.server_pids()]
    mine = _ticks(ours_after) - mine0 + (_ticks([os.getpid()]) - client0)
    server_ticks = _ticks(ours_after) - mine0
    machine = max(total1 - total0, 1)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, max(0, round(p / 100 * len(latencies)) - 1))]

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(50), "p95_ms": pct(95),
            "p99_ms": pct(99), "max_ms": latencies[-1], "errors": errors,
            "server_ms_per_req": server_ticks / sb.CLK_TCK * 1000 / max(len(latencies), 1),
            "foreign_cpu_pct": max(0.0, 100 * ((busy1 - busy0) - mine) / machine)}


def measure(context) -> dict:
    db, server, session, log = context.db, context.server, context.session, context.log
    cookie = f"{session['cookie_name']}={session['cookie']}"
    site = "ngh"
    today = datetime.now(TZ).date()
    chosen = periods(today)
    paths = {"livez": "/livez", **{name: _period(start, end, site) for name, (start, end) in chosen.items()}}
    keep_signed_in(db, session["session_id"])
    checks = {}
    for name, (start, end) in chosen.items():
        status, ms, html = get(server.base, paths[name], cookie)
        found = re.search(r"Calls raised\s*</dt>\s*<dd[^>]*>\s*([\d,]+)", html)
        shown = int(found.group(1).replace(",", "")) if found else None
        expected = expected_calls(db, session["site_id"], start, end)
        checks[name] = {"status": status, "first_ms": ms, "shown": shown, "expected": expected,
                        "ok": status == 200 and shown == expected, "bytes": len(html.encode()),
                        "period": f"{start} to {end}"}
        log(f"  dashboard {name} ({start} to {end}): {status}, first request {ms:.0f} ms, {len(html.encode()):,} bytes, "
            f"{shown if shown is not None else '?'} calls shown, {expected:,} in the database: "
            f"{'as the database has them' if checks[name]['ok'] else 'MISMATCH'}")
    for name, path in paths.items():
        run(server, db, server.base, path, None if name == "livez" else cookie, WARMUP_SECONDS)
    order = list(paths)
    rounds = []
    for number in range(context.opts.rounds):
        keep_signed_in(db, session["session_id"])
        shift = number % len(order)
        results = {}
        for name in order[shift:] + order[:shift]:
            results[name] = run(server, db, server.base, paths[name], None if name == "livez" else cookie, SECONDS)
        rounds.append(results)
        log(f"  dashboard round {number + 1}: " + "; ".join(
            f"{name} {r['rps']:.1f} req/s p95 {r['p95_ms']:.0f} ms{' DISTURBED' if r['foreign_cpu_pct'] > DISTURBED else ''}"
            for name, r in results.items()))
    return {"checks": checks, "rounds": rounds, "paths": paths, "seconds": SECONDS}


def summarise(reports) -> dict:
    log = sb.log
    log("\n=== DASHBOARD (one client, back to back, through gunicorn -k sync -w 1; medians over rounds) ===")
    log(f"  {'database':<13} {'endpoint':<16} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6} {'x livez':>8} {'srv ms/req':>10} {'foreign %':>9}")
    summary = {}
    for report in reports:
        result = report.dashboard
        kind = report.db.kind
        per = {}
        for name in result["paths"]:
            runs = [r[name] for r in result["rounds"]]
            med = {key: statistics.median(r[key] for r in runs)
                   for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "server_ms_per_req", "foreign_cpu_pct")}
            med["errors"] = sum(r["errors"] for r in runs)
            med["ratio"] = statistics.median(r[name]["rps"] / r["livez"]["rps"] for r in result["rounds"])
            per[name] = med
            log(f"  {report.db.label:<13} {name:<16} {med['rps']:>7.1f} {med['p50_ms']:>7.1f} {med['p95_ms']:>7.1f} "
                f"{med['p99_ms']:>7.1f} {med['max_ms']:>7.1f} {med['errors']:>6} {med['ratio']:>8.3f} "
                f"{med['server_ms_per_req']:>10.1f} {med['foreign_cpu_pct']:>9.0f}")
        targets = {}
        for name in ("month", "year"):
            check = result["checks"][name]
            targets[f"dashboard for a {name} ({check['period']}): p95 under {TARGET_P95_MS:.0f} ms"] = \
                per[name]["p95_ms"] < TARGET_P95_MS
            targets[f"dashboard for a {name}: no errors, and it shows the database's count of calls"] = \
                per[name]["errors"] == 0 and check["ok"]
        for name, ok in targets.items():
            log(f"    {'PASS' if ok else 'FAIL'}  {report.db.label}: {name}")
        summary[kind] = {"endpoints": per, "checks": result["checks"], "targets": targets, "rounds": result["rounds"]}
    with contextlib.suppress(Exception):
        log(f"  (each run {reports[0].dashboard['seconds']:g} s; set BENCH_DASHBOARD_SECONDS to change it)")
    return summary
