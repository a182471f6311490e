"""Drill 2: PostgreSQL restarted, then gone for a while, under a steady
stream of triggers. The server must say it is not ready while the
database is away (and stay alive), answer what it can't do with a clear
503, reconnect by itself when the database is back, and lose nothing:
every trigger it accepted ends in a finished run."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from common import DrillFailed, Gantry, Postgres, Report, Triggers, finish_all, wait_for

SPEC = """
name: drill-pg
steps:
  - id: work
    run: sleep 0.2
    retries: { max_attempts: 20, backoff: fixed, initial: 500ms }
"""


def drill(binary: Path, home: Path, outage: float) -> Report:
    report = Report("postgres-outage", "PostgreSQL restart and outage under triggers")
    pg = Postgres(home / "pg")
    server = None
    try:
        pg.start()
        server = Gantry(binary, pg.url, home / "serve", ["--worker-slots", "2", "--worker-lease", "2s"])
        server.start()
        pid = server.proc.pid
        status, body = server.api.call("POST", "/workflows", SPEC, content_type="application/yaml")
        if status != 201:
            raise DrillFailed(f"applying the workflow answered {status}: {body}")
        triggers = Triggers(server.api, "drill-pg")
        triggers.start()
        report.did("`gantry serve` on PostgreSQL (2 slots); a trigger every 100 ms of a one-step workflow (0.2 s, retried)")
        wait_for("a few runs accepted", lambda: len(triggers.accepted) >= 10, 30)

        # A restart: down and straight back up.
        t0 = time.monotonic()
        pg.stop("fast")
        pg.start()
        report.did("PostgreSQL stopped (`pg_ctl -m fast`) and started again at once")
        wait_for("ready again after the restart", lambda: server.root.probe("/readyz") == 200, 60)
        report.saw("ready again after the restart (s)", f"{time.monotonic() - t0:.1f}")
        before = len(triggers.accepted)
        wait_for("triggers accepted after the restart", lambda: len(triggers.accepted) >= before + 10, 60)

        # An outage.
        pg.stop("fast")
        down = time.monotonic()
        report.did(f"PostgreSQL stopped for {outage:.0f} s")
        not_ready = wait_for("/readyz reporting not ready", lambda: server.root.probe("/readyz") != 200, 30)
        report.saw("seconds until /readyz said not ready", f"{time.monotonic() - down:.1f}")
        asked = time.monotonic()
        readyz_down = server.root.probe("/readyz")
        readyz_seconds = time.monotonic() - asked
        report.saw("/readyz during the outage: status, seconds to answer", f"{readyz_down}, {readyz_seconds:.1f}")
        report.saw("/healthz during the outage", server.root.probe("/healthz"))
        during = Counter(triggers.answers)
        time.sleep(max(0.0, outage - (time.monotonic() - down)))  # the outage itself, not a synchronization
        outage_answers = triggers.answers - during
        readyz_during = server.root.probe("/readyz")
        pg.start()
        up = time.monotonic()
        wait_for("ready again after the outage", lambda: server.root.probe("/readyz") == 200, 120)
        report.saw("seconds from the database's return until /readyz said ready", f"{time.monotonic() - up:.1f}")
        before = len(triggers.accepted)
        wait_for("triggers accepted after the outage", lambda: len(triggers.accepted) >= before + 10, 60)
        triggers.stop()
        same_process = server.proc.poll() is None and server.proc.pid == pid

        finished = finish_all(server.api, triggers.accepted, 180)
        outcomes = Counter(run["status"] for run in finished.values())
        report.saw("triggers answered, by status", dict(sorted(triggers.answers.items())))
        report.saw("answers during the outage, by status", dict(sorted(outage_answers.items())))
        report.saw("/readyz at the end of the outage", readyz_during)
        report.saw("slowest refused trigger (s)", f"{triggers.slowest_refusal:.1f}")
        report.saw("what a refused trigger was told", "; ".join(f"{k}: {v}" for k, v in sorted(triggers.messages.items())) or "-")
        report.saw("accepted runs, by outcome", dict(sorted(outcomes.items())))
        report.saw("the same server process throughout", same_process)
        problems = []
        if not same_process:
            problems.append("the server did not survive the outage")
        if not_ready is None or readyz_during == 200:
            problems.append("/readyz said ready while the database was down")
        if readyz_down != 503 or readyz_seconds > 3:
            problems.append(f"/readyz during the outage answered {readyz_down} after {readyz_seconds:.1f} s "
                            "(want 503 within 3 s: probes time out)")
        bad = {k: v for k, v in triggers.answers.items() if k not in (201, 503)}
        if bad:
            problems.append(f"triggers answered other than 201 or 503: {bad}")
        if outcomes.get("succeeded", 0) != len(triggers.accepted):
            problems.append(f"accepted runs that did not succeed: {dict(outcomes)}")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    finally:
        # However the drill ends, nothing it started outlives it.
        if server:
            server.stop()
        pg.destroy()
    return report
