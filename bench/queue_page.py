"""Benchmark: the clinicians' queue (GET /triage/) and its refresh (GET /triage/queue/rows, with and
without If-None-Match), signed in, beside GET /livez, with 100,000 historic concerns and 200 open.

For each database (and tree): the migrations and seed-demo; an outreach clinician of team ngh-ccot
signed in; the concerns written with the drivers; the SQL statements of each endpoint counted in
the app with 20 and with 200 open calls (no N+1), and the plans of the queue's query and its ETag
query; then wrk on the four endpoints, rotating, for --rounds rounds. See bench/README.md.

    python bench/queue_page.py --db sqlite --rounds 1 --duration 5 --quiet-wait 0 --history 10000
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import harness
import seed_data
from harness import LIVEZ, BenchError, check, log, median

TEAM, BENCH_EMAIL = "ngh-ccot", "bench.outreach@demo-hospitals.invalid"
PAGE, ROWS = "/triage/", "/triage/queue/rows"
ENDPOINTS = {  # key: (path, expected status, label)
    "livez": (LIVEZ, 200, "GET /livez"),
    "page": (PAGE, 200, "GET /triage/ (queue page)"),
    "rows304": (ROWS, 304, "GET /triage/queue/rows + If-None-Match (304)"),
    "rows200": (ROWS, 200, "GET /triage/queue/rows (full refresh, 200)"),
}
ORDER = list(ENDPOINTS)
TARGETS = {"page": 0.035, "rows304": 0.25}  # req/s ÷ /livez req/s of the same round, at least
REFERENCE = "a bare ORM + Jinja page of 200 rows (no session, no auth): 0.055-0.065 x a no-database endpoint"
OPEN_COUNT = re.compile(r'data-open-count="(\d+)"')
OPEN_ROW = re.compile(r'<tr role="row" class="nhsuk-table__row[^"]*" data-concern=')  # an arrival has one more class
WARDS = "SELECT w.id, w.site_id, w.team_id FROM ward w JOIN team ON team.id = w.team_id WHERE team.code = ?"
OPEN = "SELECT count(*) FROM concern WHERE status IN ('new', 'acknowledged', 'reviewed')"
CLOSED = "SELECT count(*) FROM concern WHERE status IN ('closed', 'cancelled') AND updated_at >= ?"
COLUMNS = ("rps", "p50_ms", "p99_ms", "ratio", "ratio_rounds", "cpu_ratio", "server_ms_per_req", "errors")


# --- the data ------------------------------------------------------------------------------------------


def seed(t: harness.Target, first_n: int, count: int, *, open_calls: bool, rng: random.Random) -> dict:
    """Historic calls (85 % closed, 15 % cancelled, over two years) or open ones (new, acknowledged or
    reviewed, raised in the last 6 hours, half of those claimed by the benchmark's clinician), on the
    team's three wards in turn."""
    if not (wards := t.db.query(WARDS + " ORDER BY w.code", (TEAM,))):
        raise BenchError(f"no team {TEAM}: did `flask tracker seed-demo` run?")
    nurse = t.db.query("SELECT id FROM user_account WHERE email = 'outreach@demo-hospitals.invalid'")
    claimers, now = [t.user["user_id"], nurse[0][0] if nurse else t.user["user_id"]], datetime.now(UTC)
    if open_calls:
        moments = [now - timedelta(seconds=rng.randint(120, 6 * 3600)) for _ in range(count)]
        statuses = {"new": 40, "acknowledged": 35, "reviewed": 25}
    else:
        moments = [now - timedelta(days=730, seconds=-rng.randint(0, 730 * 86400 - 8 * 3600)) for _ in range(count)]
        statuses = {"closed": 85, "cancelled": 15}
    status, ward = (lambda _raised: seed_data.pick(rng, statuses)), itertools.cycle(wards).__next__
    return seed_data.write_calls(t.db, sorted(moments), ward, status, claimers, first_n=first_n, rng=rng, now=now)


# --- inside the app: statements per request, and the plans ---------------------------------------------


def count_statements(app, payload: dict) -> dict:
    """SQL statements per request for each endpoint (the test client with the benchmark's cookie: one
    warm-up request, then `repeat` counted); with `plans`, the plans and times of the refresh's queue
    query and ETag query as the app sent them. It needs only wsgi:app and SQLAlchemy's own events."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    client, seen, out = app.test_client(), [], {"counts": {}, "statements": {}}
    client.set_cookie(*payload["cookie"].split("=", 1))
    etag = client.get(ROWS).headers.get("ETag", "")

    def on_execute(conn, _cursor, statement, parameters, _context, _many):
        seen.append((conn.engine, statement, parameters))

    for key, (path, _, _) in ENDPOINTS.items():
        headers, counts = {"If-None-Match": etag} if key == "rows304" else {}, []
        client.get(path, headers=headers)  # warms the app's caches (settings, wards)
        for _ in range(payload["repeat"]):
            seen.clear()
            event.listen(Engine, "before_cursor_execute", on_execute)
            try:
                response = client.get(path, headers=headers)
            finally:
                event.remove(Engine, "before_cursor_execute", on_execute)
            counts.append(len(seen))
        out["counts"][key], out["statements"][key] = counts, [" ".join(sql.split()) for _, sql, _ in seen]
        if key == "page" and (found := OPEN_COUNT.search(response.get_data(as_text=True))):
            out["open_rows"] = int(found.group(1))
    found = {}  # the full refresh's statements are in `seen`
    for engine, statement, params in seen:
        flat = " ".join(statement.split())
        if flat.startswith("SELECT max(concern.updated_at)"):
            found.setdefault("etag", (engine, statement, params))
        elif flat.startswith("SELECT concern.id, concern.reference,") and "ORDER BY" not in flat:  # the open ones
            found.setdefault("queue", (engine, statement, params))
        elif flat.startswith("SELECT concern.id, concern.reference,") and flat.endswith("ORDER BY concern.updated_at"):
            found.setdefault("follow_ups", (engine, statement, params))  # closed calls with a text nobody has read
    out["plans"] = {key: query_plan(*found[key], payload["timing_runs"]) for key in found if payload.get("plans")}
    return out


def query_plan(engine, statement: str, params, runs: int) -> dict:
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        explain = ("EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN ") + statement
        plan = [row[0] if postgres else str(row[3]) for row in conn.exec_driver_sql(explain, params)]
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = conn.exec_driver_sql(statement, params).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        conn.rollback()
    text = " ".join(plan)
    uses_index = "Index" in text and "Seq Scan on concern" not in text
    if not postgres:  # SQLite: (id, parent, notused, detail); SCAN without USING reads the whole table
        uses_index = "USING INDEX" in text or "USING COVERING INDEX" in text
        uses_index = uses_index and not re.search(r"\bSCAN concern\b(?! USING)", text)
    found = {"sql": " ".join(statement.split()), "params": repr(params), "plan": plan, "rows": len(rows)}
    return {**found, "ms_median": statistics.median(times), "ms_min": min(times), "uses_index": uses_index}


# --- the scenario --------------------------------------------------------------------------------------


def preflight(t: harness.Target, expected_open: int) -> dict:
    """One signed-in look from Python: the page answers 200 with the open calls; the cookie it sends
    back (the CSRF token the page put in the session) is the one a browser uses from then on; the
    refresh answers 200 with an ETag, then 304 to that ETag. Saves both pages (see --keep)."""
    status, headers, html = harness.fetch(t.server.base + PAGE, headers={"Cookie": t.user["cookie"]})
    rows, found = len(OPEN_ROW.findall(html)), OPEN_COUNT.search(html)
    if status != 200 or rows != expected_open or not found or int(found.group(1)) != expected_open:
        raise BenchError(f"GET {PAGE} answered {status} with {rows} rows, expected 200 with {expected_open} open")
    if value := harness.cookies_set(headers).get(harness.SESSION_COOKIE):
        t.user["cookie"] = f"{harness.SESSION_COOKIE}={value}"
    again = harness.fetch(t.server.base + PAGE, headers={"Cookie": t.user["cookie"]})[1]
    status, headers, rows_html = harness.fetch(t.server.base + ROWS, headers={"Cookie": t.user["cookie"]})
    if status != 200 or not (etag := headers.get("ETag")):
        raise BenchError(f"GET {ROWS} answered {status} without an ETag")
    conditional = {"Cookie": t.user["cookie"], "If-None-Match": etag}
    if (status := harness.fetch(t.server.base + ROWS, headers=conditional)[0]) != 304:
        raise BenchError(f"GET {ROWS} with If-None-Match: {etag} answered {status}, not 304")
    (t.workdir / "queue-page.html").write_text(html)
    (t.workdir / "queue-rows.html").write_text(rows_html)
    closed = html.split('<ul class="nhsuk-list tracker-closed">', 1)[1:]
    closed = closed[0].split("</ul>", 1)[0].count("<li>") if closed else 0
    sizes = {"page_bytes": len(html.encode()), "rows_bytes": len(rows_html.encode()), "open_rows": rows}
    return {"etag": etag, **sizes, "recently_closed": closed, "sets_cookie_every_time": bool(again.get("Set-Cookie"))}


def wait_for_the_hour(duration: float, margin: float = 20.0) -> None:
    """The refresh's version includes the hour (closed calls leave the list after a day), so every client
    gets one full refresh when the hour turns: keep each 304 run inside one hour."""
    now = datetime.now(UTC)
    left = ((now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0) - now).total_seconds()
    if left < duration + margin:
        log(f"    the refresh's ETag changes at the top of the hour, in {left:.0f} s: waiting for it")
        time.sleep(left + 2)


class QueuePage(harness.Scenario):
    name = "queue"

    def setup(self, t: harness.Target) -> None:
        opts, rng = self.opts, random.Random(self.opts.seed)
        t.user = t.sign_in(BENCH_EMAIL, "outreach", "--team", TEAM)
        log(f"  signed in outreach clinician {BENCH_EMAIL} (user {t.user['user_id']}, team {TEAM})")
        history = seed(t, 0, opts.history, open_calls=False, rng=rng)
        seed(t, opts.history, opts.open_small, open_calls=True, rng=rng)
        t.db.analyze()
        log(f"  wrote {opts.history:,} historic concerns ({history['messages']:,} texts) and {opts.open_small} open")
        payload = {"cookie": t.user["cookie"], "repeat": opts.count_repeat, "timing_runs": opts.timing_runs}
        t.small = t.in_app("queue_page.py", "count", payload)
        seed(t, opts.history + opts.open_small, opts.open - opts.open_small, open_calls=True, rng=rng)
        t.db.analyze()
        t.large = t.in_app("queue_page.py", "count", {**payload, "plans": True})
        log(f"  counted the SQL statements with {opts.open_small} and {opts.open} open calls; captured the plans")
        day_ago = datetime.now(UTC) - timedelta(hours=24)
        t.seeded = {table: t.db.count(table) for table in ("concern", "message", "audit_event")}
        t.seeded.update(open=t.db.query(OPEN)[0][0], closed_last_24h=t.db.query(CLOSED, (day_ago,))[0][0])
        t.start_server(opts.workers)
        t.preflight, t.scripts, t.discarded = preflight(t, t.seeded["open"]), {}, []
        t.etags = {t.preflight["etag"]}
        pages = f"{t.preflight['page_bytes']:,} and {t.preflight['rows_bytes']:,} bytes"
        rows = f"{PAGE} 200 with {t.preflight['open_rows']} open rows; {ROWS} 200 ({pages}), then 304"
        log(f"  gunicorn on {t.server.base}; {rows}")
        for key in ORDER:
            self.script(t, key, {} if key == "livez" else {"Cookie": t.user["cookie"]})
        t.warmups = [self.run(t, key, opts.warmup, f"warm-up {key}") for key in ORDER if opts.warmup > 0]

    @staticmethod
    def script(t: harness.Target, key: str, headers: dict) -> None:
        t.scripts[key] = harness.get_lua(t.workdir / f"{key}.lua", ENDPOINTS[key][1], headers)

    def run(self, t: harness.Target, key: str, duration: float, label: str) -> harness.WrkResult:
        """One wrk run; a measured run disturbed by other work is measured again (up to --retries
        times) and the least disturbed kept."""
        if key == "rows304":  # ask for the current ETag just before the run
            wait_for_the_hour(duration)
            status, headers, _ = harness.fetch(t.server.base + ROWS, headers={"Cookie": t.user["cookie"]})
            if status != 200 or not headers.get("ETag"):
                raise BenchError(f"GET {ROWS} answered {status} without an ETag before {label}")
            t.etags.add(headers["ETag"])
            self.script(t, key, {"Cookie": t.user["cookie"], "If-None-Match": headers["ETag"]})
        measured, best = not label.startswith("warm-up"), None
        for attempt in range(1, 2 + self.opts.retries if measured else 2):
            harness.wait_until_quiet(self.opts.quiet_wait if measured else 0)
            r = harness.run_wrk(t, t.scripts[key], ENDPOINTS[key][0], label, self.opts, duration)
            harness.wait_until_idle(t.server)
            best, worse = sorted([r, best] if best else [r, None], key=lambda x: x.foreign_cpu_pct if x else 1e9)
            t.discarded += [worse] if worse else []
            if not measured or not r.disturbed or attempt > self.opts.retries:
                break
            log(f"    {label}: {r.foreign_cpu_pct:.0f}% foreign CPU during the run: measuring it again")
        best.attempts = attempt
        return best

    def round(self, t: harness.Target, n: int) -> dict:
        order = ORDER[n % len(ORDER) :] + ORDER[: n % len(ORDER)]
        results = {key: self.run(t, key, self.opts.duration, f"round {n + 1} {key}") for key in order}
        log(f"  {t.label} round {n + 1} ({', '.join(order)}): " + "; ".join(results[k].describe(k) for k in ORDER))
        return results

    def finish(self, t: harness.Target) -> None:
        t.log_errors, t.boots = t.server.log_errors(), t.server.boots()

    def figures(self, t: harness.Target) -> dict:
        out = {}
        for key, name in (("page", "queue page"), ("rows304", "304 refresh")):
            out[f"{name} ÷ /livez req/s"] = [r[key].rps / r["livez"].rps for r in t.rounds if r["livez"].rps]
            out[f"{name} server CPU ms/req"] = [r[key].server_ms_per_req for r in t.rounds]
        return out

    def endpoint(self, t: harness.Target, key: str) -> dict:
        """Medians over rounds; the ratio over the rounds where neither this run nor /livez's was
        disturbed (a slowed /livez inflates it as much as a slowed page deflates it), else all."""
        runs = [res[key] for res in t.rounds]
        clean = [res for res in t.rounds if not res[key].disturbed and not res["livez"].disturbed]
        ratios = [res[key].rps / res["livez"].rps for res in clean or t.rounds if res["livez"].rps]
        pairs = [(res["livez"].server_ms_per_req, res[key].server_ms_per_req) for res in t.rounds]
        cpu = [a / b for a, b in pairs if a and b]
        every = [*runs, *(r for r in [*t.warmups, *t.discarded] if r.label.endswith(key))]
        row = {k: median(getattr(r, k) for r in runs) for k in ("rps", "p50_ms", "p99_ms", "server_ms_per_req")}
        row.update(ratio=median(ratios), ratio_rounds=len(clean) or "all*", cpu_ratio=median(cpu))
        return {**row, "errors": sum(r.errors for r in every), "rounds": [vars(r) for r in runs]}

    def summarise(self, targets: list[harness.Target], info: dict) -> dict:
        opts, summary, rows = self.opts, {}, []
        harness.settings(opts, info)
        log(f"  {opts.rounds} round(s), order rotating; data: {opts.history:,} historic concerns (closed or cancelled,")
        log(f"  over 2 years, on team {TEAM}'s 3 wards) and {opts.open} open; signed in as an outreach clinician")
        for t in targets:
            s, p, closed = t.seeded, t.preflight, t.seeded["closed_last_24h"]
            log(f"\nDATA {t.label}: {s['concern']:,} concerns, {s['open']} open and {closed} closed or cancelled in")
            log(f"  the last 24 h; {s['message']:,} messages, {s['audit_event']} audit events")
            shown = f"{p['open_rows']} open rows, {p['recently_closed']} recently closed"
            log(f"  page {p['page_bytes']:,} bytes ({shown}), refresh {p['rows_bytes']:,} bytes")
            log(f"  a new session cookie on every page: {p['sets_cookie_every_time']}")
        self.print_statements(targets)
        self.print_plans(targets)
        harness.print_rounds(targets, ORDER)
        log("\nRESULTS (medians over rounds; ratio = median of the same-round req/s ratios to /livez, over the rounds")
        log("  in which neither run was disturbed; cpu ratio = /livez server CPU per request ÷ this endpoint's, which")
        log("  noise hardly moves; errors include warm-up runs and runs measured again; ms)")
        for t in targets:
            endpoints = {key: self.endpoint(t, key) for key in ORDER}
            rows += [[t.label, ENDPOINTS[key][2], *(row[c] for c in COLUMNS)] for key, row in endpoints.items()]
            plans, statements = t.large["plans"], {"small": t.small, "large": t.large}
            summary[t.label] = {"endpoints": endpoints, "seeded": t.seeded, "preflight": t.preflight, "plans": plans}
            summary[t.label].update(statements=statements, etags=sorted(t.etags))
        spec = "database|<20;endpoint|<48;req/s|>8,.0f;p50|>8.1f;p99|>8.1f;ratio|>8.3f;rounds|>7;cpu ratio|>10.3f"
        harness.table(spec + ";srv ms/req|>11.2f;errors|>8", rows)
        log("  (all*: no round was undisturbed for that endpoint and /livez: its ratio uses every round)\n\nTARGETS")
        for t in targets:
            self.targets(t, summary[t.label]["endpoints"])
        return summary

    def print_statements(self, targets: list[harness.Target]) -> None:
        opts, rows = self.opts, []
        log("\nSQL STATEMENTS PER REQUEST (in the app: test client, same cookie; SQLite counts its BEGIN;")
        log(f"  each endpoint counted {opts.count_repeat} times after one warm-up request)")
        for t, key in ((t, key) for t in targets for key in ORDER):
            small, large = t.small["counts"][key], t.large["counts"][key]
            same = "yes" if constant(small, large) else "NO: grows with the rows (N+1?)"
            rows.append([t.label, ENDPOINTS[key][2], counts_text(small), counts_text(large), same])
        harness.table(f"database|<20;endpoint|<48;{opts.open_small} open|>12;{opts.open} open|>12;constant| <", rows)
        for t, key in ((t, key) for t in targets if opts.show_sql for key in ("page", "rows304")):
            log(f"  {t.label} {key}: the statements of one request")
            for i, statement in enumerate(t.large["statements"][key], 1):
                log(f"    {i:>2}. {statement[:150]}{'...' if len(statement) > 150 else ''}")

    def print_plans(self, targets: list[harness.Target]) -> None:
        log("\nQUERY PLANS (the statements the app sent for the refresh, with its parameters; time = median of")
        log(f"  {self.opts.timing_runs} runs in the app's process)")
        titles = {"queue": "queue: open concerns of the team, in the queue's order"}
        titles["follow_ups"] = "follow-ups: the team's closed calls with a caller's text nobody has read"
        titles["etag"] = "queue_version(): the ETag's query (latest change of the team's concerns)"
        for t, (key, title) in ((t, kt) for t in targets for kt in titles.items()):
            plan = t.large["plans"].get(key)
            log(f"  {t.label} | {title}" + ("" if plan else ": NOT CAPTURED"))
            if plan:
                index = "yes" if plan["uses_index"] else "NO"
                times = f"{plan['ms_median']:.2f} ms median ({plan['ms_min']:.2f} min)"
                log(f"    {times}, {plan['rows']} row(s); index used: {index}")
                for line in plan["plan"]:
                    log(f"      {line}")

    def targets(self, t: harness.Target, row: dict) -> None:
        log(f"  {t.label}")
        for key, target in TARGETS.items():
            check(f"{ENDPOINTS[key][2]}: {row[key]['ratio']:.3f} x /livez >= {target}", row[key]["ratio"] >= target)
        errors, others = row["rows304"]["errors"], sum(row[k]["errors"] for k in ("livez", "page", "rows200"))
        check(f"refresh with If-None-Match: answers other than 304, and socket errors: {errors} == 0", errors == 0)
        check(f"errors on the other endpoints: {others} == 0", others == 0)
        grows = [k for k in ORDER[1:] if not constant(t.small["counts"][k], t.large["counts"][k])]
        opens = f"{t.small.get('open_rows')} and {t.large.get('open_rows')} open calls"
        check(f"SQL statements per request the same with {opens}" + (f" (grow: {grows})" if grows else ""), not grows)
        for key, name in (("queue", "queue query"), ("follow_ups", "follow-up query"), ("etag", "ETag query")):
            plan = t.large["plans"].get(key) or {"ms_median": float("nan"), "uses_index": False}
            check(f"{name} uses an index ({plan['ms_median']:.2f} ms)", plan["uses_index"])
        log(f"    (for information: full refresh {row['rows200']['ratio']:.3f} x /livez; reference: {REFERENCE})")
        if len(t.etags) > 1:
            log(f"    note: the refresh's ETag changed {len(t.etags) - 1} time(s) during the run (it has the hour)")
        if t.log_errors:
            log(f"    server log: {len(t.log_errors)} error line(s), e.g. {t.log_errors[0][:160]}")
        if t.boots > self.opts.workers:
            log(f"    server log: workers booted {t.boots} times for {self.opts.workers} workers (restarts)")


def counts_text(counts: list[int]) -> str:
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}-{high} ({', '.join(map(str, counts))})"


def constant(small: list[int], large: list[int]) -> bool:
    """No N+1: the usual count is the same with 20 and 200 open calls (an occasional extra statement,
    from a cache expiring or the 30-s session touch, is not growth)."""
    return min(large) == min(small) and max(large) <= max(small) + 2 and max(small) <= min(small) + 2


def options(argv=None):
    p = harness.parser(__doc__)
    p.add_argument("--history", type=int, default=100_000, help="historic (closed or cancelled) concerns (100,000)")
    p.add_argument("--open", type=int, default=200, help="open concerns for the measurement (default 200)")
    p.add_argument("--open-small", type=int, default=20, help="open concerns for the first statement count (20)")
    p.add_argument("--count-repeat", type=int, default=5, help="requests counted per endpoint (default 5)")
    p.add_argument("--timing-runs", type=int, default=50, help="runs of each captured query for its time (50)")
    p.add_argument("--seed", type=int, default=1, help="random seed for the data (default 1)")
    p.add_argument("--show-sql", action="store_true", help="print the statements of one page and one 304 request")
    p.add_argument("--retries", type=int, default=2, help="measure a disturbed run again, up to this many times (2)")
    opts = harness.parse(p, argv)
    if not 0 < opts.open_small < opts.open:
        p.error("need 0 < --open-small < --open")
    return opts


if __name__ == "__main__":
    harness.run(QueuePage, options, {"count": count_statements})
