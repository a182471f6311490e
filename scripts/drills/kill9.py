"""Drill 1: SIGKILL of `gantry serve` and of a `gantry worker` mid-step,
at random moments, many times, while runs are in flight. Afterwards every
run must have succeeded, no step may have completed twice, every attempt
a kill interrupted must read `lost` and be followed by a retry, and no two
attempts of one step may have run at the same time (each step appends
timestamped ticks to a trace file while it runs)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from common import Api, DrillFailed, Gantry, Postgres, Report, Worker, finish_all, wait_for

LEASE = "2s"


def spec(trace: Path) -> str:
    tick = (f'for i in $(seq 1 16); do echo "$GANTRY_RUN_ID $GANTRY_STEP_ID $GANTRY_ATTEMPT '
            f'$(date +%s%N)" >> {trace}; sleep 0.05; done')
    return f"""
name: drill-kill
steps:
  - id: first
    run: '{tick}'
    retries: {{ max_attempts: 20, backoff: fixed, initial: 100ms }}
  - id: second
    needs: [first]
    run: '{tick}'
    retries: {{ max_attempts: 20, backoff: fixed, initial: 100ms }}
"""


def trigger(api: Api) -> str:
    status, run = wait_for("a trigger answered", lambda: _try_trigger(api), 60)
    return run["id"]


def _try_trigger(api: Api):
    status, run = api.call("POST", "/workflows/drill-kill/runs", {"environment": "dev"})
    if status == 0:
        return None  # the server is starting again
    if status != 201:
        raise DrillFailed(f"a trigger answered {status}: {run}")
    return status, run


def drill(binary: Path, backend: str, home: Path, trials: int, seed: int) -> Report:
    report = Report(f"kill9-{backend}", f"kill -9 of serve and worker mid-step ({backend})")
    rng = random.Random(seed)
    report.did(f"seed {seed} (replay with --seed {seed})")
    pg = server = worker = None
    try:
        if backend == "postgres":
            pg = Postgres(home / "pg")
            pg.start()
            db_url = pg.url
        else:
            db_url = f"sqlite://{home / 'gantry.db'}"
        shared = home / "shared"
        shared.mkdir(parents=True)
        os.chmod(shared, 0o777)
        trace = shared / "trace"
        trace.write_text("")
        os.chmod(trace, 0o666)
        allow = ["--step-allow-write", str(shared)]
        server = Gantry(binary, db_url, home / "serve", ["--worker-slots", "2", "--worker-lease", LEASE, *allow])
        server.start()
        worker = Worker(binary, server, home / "serve", ["--worker-slots", "2", "--worker-lease", LEASE, *allow])
        worker.start()
        status, body = server.api.call("POST", "/workflows", spec(trace), content_type="application/yaml")
        if status != 201:
            raise DrillFailed(f"applying the workflow answered {status}: {body}")
        report.did(f"`gantry serve` on {backend} (2 slots) and one `gantry worker` (2 slots), leases {LEASE}; "
                   "a two-step workflow whose steps tick for about a second, retried up to 20 times")
        runs = [trigger(server.api) for _ in range(4)]
        kills = {"serve": 0, "worker": 0}
        for _ in range(trials):
            runs.append(trigger(server.api))
            time.sleep(0.2 + rng.random() * 1.3)
            if rng.random() < 0.5:
                server.kill9()
                server.start()
                kills["serve"] += 1
            else:
                worker.kill9()
                worker.start()
                kills["worker"] += 1
        report.did(f"{trials} trials: trigger a run, wait 0.2–1.5 s, SIGKILL serve or the worker "
                   f"(serve {kills['serve']}, worker {kills['worker']}), start it again")
        started = time.monotonic()
        finished = finish_all(server.api, runs, 300)
        report.saw("runs triggered", len(runs))
        report.saw("seconds from the last kill until every run had finished", f"{time.monotonic() - started:.1f}")
        failed = [r["id"] for r in finished.values() if r["status"] != "succeeded"]
        attempts = lost = retried = duplicated = 0
        for run in finished.values():
            for step in run["steps"]:
                tries = sorted(step["attempts"], key=lambda a: a["number"])
                attempts += len(tries)
                duplicated += max(0, sum(a["status"] == "succeeded" for a in tries) - 1)
                for i, a in enumerate(tries):
                    if a["status"] == "lost":
                        lost += 1
                        if i + 1 < len(tries):
                            retried += 1
        overlaps = overlapping_attempts(trace)
        report.saw("runs that did not succeed", len(failed))
        report.saw("attempts", attempts)
        report.saw("attempts lost to a kill", lost)
        report.saw("of them retried", retried)
        report.saw("steps completed twice", duplicated)
        report.saw("steps with two attempts running at once (trace)", overlaps)
        problems = []
        if failed:
            problems.append(f"runs not succeeded: {failed[:5]}")
        if duplicated:
            problems.append(f"{duplicated} duplicated completions")
        if retried != lost:
            problems.append(f"{lost - retried} lost attempts never retried")
        if overlaps:
            problems.append(f"{overlaps} steps ran two attempts at once")
        if lost == 0:
            problems.append("no attempt was interrupted: the kills missed every step")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    finally:
        # However the drill ends, nothing it started outlives it.
        for process in (worker, server):
            if process:
                process.stop()
        if pg:
            pg.destroy()
    return report


def overlapping_attempts(trace: Path) -> int:
    spans: dict[tuple[str, str], dict[int, list[int]]] = {}
    for line in trace.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            raise DrillFailed(f"a torn trace line: {line!r}")
        run, step, attempt, at = parts
        span = spans.setdefault((run, step), {}).setdefault(int(attempt), [int(at), int(at)])
        span[0], span[1] = min(span[0], int(at)), max(span[1], int(at))
    bad = 0
    for attempts in spans.values():
        ordered = [attempts[k] for k in sorted(attempts)]
        if any(a[1] >= b[0] for a, b in zip(ordered, ordered[1:])):
            bad += 1
    return bad
