"""Drill 9: back up an embedded (SQLite) database under load and restore it
(docs/ops/backup.md). A serve holding RUNS finished runs keeps taking
triggers while `gantry backup` copies its database; the copy is restored
as an operator would (the file put in place of a lost one) and a fresh
serve started on it: it must answer within its start-up, its audit chain
must verify, every run it holds must be one the original answered, and it
must run a new workflow run. Reports how long the backup, the restored
start and the verification took, and the database's size."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from common import DrillFailed, Gantry, Report, Triggers, finish_all, wait_for

# How long the fill waits out the unfinished-runs limit before failing.
REFUSED_FOR = 120

SPEC = """
name: drill-tiny
steps:
  - id: a
    run: 'true'
"""


def fill(g: Gantry, runs: int) -> list[str]:
    """RUNS runs, triggered from four threads. A 429 is the workflow's
    unfinished-runs limit (the engine is behind the four threads): the
    thread waits and tries again, as a client should. Any other answer, or
    refusals for longer than REFUSED_FOR seconds, fails the drill (raised
    here: an exception in a thread would only be printed)."""
    ids: list[str] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def trigger(count: int):
        try:
            refused_since = None
            while count > 0:
                status, body = g.api.call("POST", "/workflows/drill-tiny/runs", {"environment": "dev"}, timeout=30)
                if status == 429:
                    refused_since = refused_since or time.monotonic()
                    if time.monotonic() - refused_since > REFUSED_FOR:
                        raise DrillFailed(f"triggers refused for {REFUSED_FOR} s: {body}")
                    time.sleep(0.2)
                    continue
                if status != 201:
                    raise DrillFailed(f"trigger answered {status}: {body}")
                refused_since = None
                count -= 1
                with lock:
                    ids.append(body["id"])
        except Exception as e:  # handed to the main thread below
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=trigger, args=(runs // 4 + (1 if i < runs % 4 else 0),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return ids


def unfinished(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')").fetchone()[0]


def run_ids(db: Path) -> dict[str, str]:
    """Each run's id with its workflow and how it was started."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return {r[0]: f"{r[1]} ({r[2]})" for r in c.execute("SELECT id, workflow_name, trigger_kind FROM runs")}


def drill(gantry: Path, home: Path, runs: int) -> Report:
    report = Report("backup-restore", f"Backup under load and restore (SQLite, {runs:,} runs)")
    db = home / "a" / "gantry.db"
    db.parent.mkdir()
    a = Gantry(gantry, f"sqlite://{db}", home / "a", ["--dev", "--no-demo", "--worker-slots", "4", "--rate-limit", "trigger=off"])
    a.start()
    try:
        status, body = a.api.call("POST", "/workflows", SPEC, content_type="application/yaml")
        if status != 201:
            raise DrillFailed(f"apply answered {status}: {body}")
        started = time.monotonic()
        answered = fill(a, runs)
        wait_for("every run finished", lambda: unfinished(db) == 0, 60 + runs / 10, every=1)
        report.did(f"{runs:,} one-step runs triggered from four threads and finished ({time.monotonic() - started:.0f} s)")

        triggers = Triggers(a.api, "drill-tiny", every=0.02)
        triggers.start()
        time.sleep(1)
        backup = home / "backup" / "gantry.db"
        backup.parent.mkdir()
        took = time.monotonic()
        out = subprocess.run([str(gantry), "backup", "--database-url", f"sqlite://{db}", "--out", str(backup)],
                             capture_output=True, text=True, timeout=600)
        backup_s = time.monotonic() - took
        time.sleep(1)
        triggers.stop()
        if out.returncode != 0:
            raise DrillFailed(f"gantry backup exited {out.returncode}: {out.stderr.strip()}")
        report.did(f"`gantry backup` while a trigger came every 20 ms: {out.stdout.strip()}")
        answered += triggers.accepted
        refused = {s: n for s, n in triggers.answers.items() if s != 201}
        if refused:
            raise DrillFailed(f"triggers during the backup were refused: {refused} {triggers.messages}")
        report.saw("database size", f"{db.stat().st_size / 1e6:.1f} MB (backup {backup.stat().st_size / 1e6:.1f} MB)")
        report.saw("backup (copy + verification of the copy's chain)", f"{backup_s:.2f} s, triggers answered 201 throughout ({len(triggers.accepted)})")
    finally:
        a.stop()

    # The restore: the copy put in place of a lost database, a fresh serve on it.
    restored = home / "restored" / "gantry.db"
    restored.parent.mkdir()
    took = time.monotonic()
    shutil.copy(backup, restored)
    c = Gantry(gantry, f"sqlite://{restored}", home / "restored", ["--dev", "--no-demo", "--worker-slots", "2"])
    c.start()
    try:
        wait_for("the restored serve ready", lambda: c.root.probe("/readyz") == 200, 120)
        restore_s = time.monotonic() - took
        report.saw("restore (file copied into place, serve started, /readyz 200)", f"{restore_s:.2f} s")
        took = time.monotonic()
        verify = subprocess.run([str(gantry), "audit", "verify", "--database-url", f"sqlite://{restored}"],
                                capture_output=True, text=True, timeout=600)
        verify_s = time.monotonic() - took
        if verify.returncode != 0:
            raise DrillFailed(f"the restored chain does not verify: {verify.stdout}{verify.stderr}")
        report.saw("`gantry audit verify` of the restored database", f"{verify_s:.2f} s: {verify.stdout.strip()}")
        held = run_ids(restored)
        strangers = {i: w for i, w in held.items() if i not in set(answered)}
        if strangers:
            raise DrillFailed(f"{len(strangers)} run(s) in the copy were never answered: {list(strangers.items())[:3]}")
        report.saw("runs in the copy", f"{len(held):,}, every one answered by the original ({len(answered) - len(held)} answered after the copy)")
        status, body = c.api.call("POST", "/workflows/drill-tiny/runs", {"environment": "dev"})
        if status != 201:
            raise DrillFailed(f"the restored serve refused a trigger: {status} {body}")
        run = finish_all(c.api, [body["id"]], 60)[body["id"]]
        if run["status"] != "succeeded":
            raise DrillFailed(f"a run on the restored serve ended {run['status']}")
        report.saw("a new run on the restored serve", "succeeded")
    finally:
        c.stop()
    report.passed = True
    return report
