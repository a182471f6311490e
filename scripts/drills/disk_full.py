"""Drill 3: the disk holding the SQLite database fills up while runs are
going, then space is freed. Writes must be refused with a clear 503 that
says what to fix (never a 500, never a crash), reads keep working, a
change whose audit record can't be written is not made (fail closed),
nothing is half-written (every run the database holds was answered 201,
with its steps), and once space frees the server takes writes again by
itself and every accepted run finishes; the audit chain verifies.

The database lives on a small tmpfs mounted for the drill (root only)."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

from common import DrillFailed, Gantry, Report, finish_all, wait_for

SIZE = "24m"

SPEC = """
name: drill-disk
steps:
  - id: write
    run: 'for i in $(seq 1 20); do echo "line $i of some output that the database keeps"; done'
    retries: { max_attempts: 20, backoff: fixed, initial: 500ms }
"""


def fill(path: Path) -> int:
    """Writes `path` until the file system says it is full; the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 14, 1 << 10, 64):
            block = b"\0" * chunk
            while True:
                try:
                    written += f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


def drill(binary: Path, home: Path) -> Report:
    report = Report("sqlite-disk-full", "SQLite's disk full, then space freed")
    if os.geteuid() != 0:
        raise DrillFailed("mounting the small file system needs root")
    small = home / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", str(small)], check=True)
    server = None
    try:
        db = small / "gantry.db"
        server = Gantry(binary, f"sqlite://{db}", home / "serve", ["--worker-slots", "2"])
        server.start()
        status, body = server.api.call("POST", "/workflows", SPEC, content_type="application/yaml")
        if status != 201:
            raise DrillFailed(f"applying the workflow answered {status}: {body}")
        accepted: list[str] = []

        def trigger():
            return server.api.call("POST", "/workflows/drill-disk/runs", {"environment": "dev"})

        for _ in range(5):
            status, run = trigger()
            if status != 201:
                raise DrillFailed(f"a trigger before the fill answered {status}: {run}")
            accepted.append(run["id"])
        report.did(f"`gantry serve` (2 slots) with its SQLite database on a {SIZE} tmpfs; "
                   "5 runs triggered of a workflow whose step prints 20 lines")

        filled = fill(small / "filler")
        report.did(f"filled the tmpfs with a {filled / 1048576:.1f} MiB file while the runs went on")
        # Writes go on while SQLite still has room in its WAL; keep asking
        # until one is refused (bounded).
        answers: Counter = Counter()
        refusal = None
        for _ in range(400):
            status, body = trigger()
            answers[status] += 1
            if status == 201:
                accepted.append(body["id"])
                continue
            refusal = (status, body)
            break
        report.saw("triggers after the fill, by answer", dict(answers))
        if refusal is None:
            raise DrillFailed("400 triggers after the disk filled were all accepted: the fill missed the database")
        status, body = refusal
        message = body.get("error", {}).get("message", "") if isinstance(body, dict) else str(body)
        report.saw("the refusal", f"{status}: {message}")
        problems = []
        if status != 503 or "disk" not in message:
            problems.append(f"a write on a full disk answered {status} ({message!r}), not 503 naming the disk")
        # A few more writes, another kind too: a token (audited).
        token_status, token_body = server.api.call("POST", "/tokens", {"name": "drill-disk-token", "roles": ["viewer"]})
        report.saw("creating a token on the full disk", token_status)
        if token_status != 503:
            problems.append(f"creating a token on a full disk answered {token_status}: {token_body}")
        reads, _ = server.api.call("GET", "/runs?limit=5")
        report.saw("a read on the full disk", reads)
        if reads != 200:
            problems.append(f"a read on a full disk answered {reads}")
        if server.proc.poll() is not None:
            raise DrillFailed(f"gantry serve exited with {server.proc.returncode} on the full disk")

        time.sleep(2)  # the engine meets the full disk too, for a moment
        os.remove(small / "filler")
        freed = time.monotonic()
        report.did("removed the file: space freed")

        def takes_writes():
            status, body = trigger()
            if status == 201:
                accepted.append(body["id"])
                return True
            return False

        wait_for("a trigger accepted after space was freed", takes_writes, 60, every=0.25)
        report.saw("seconds from freeing space to an accepted trigger", f"{time.monotonic() - freed:.1f}")

        finished = finish_all(server.api, accepted, 180)
        not_ok = [r["id"] for r in finished.values() if r["status"] != "succeeded"]
        report.saw("runs accepted", len(accepted))
        report.saw("of them succeeded", len(accepted) - len(not_ok))
        if not_ok:
            problems.append(f"runs that did not succeed: {not_ok[:5]}")

        # Nothing half-written: the database holds exactly the accepted runs.
        listed, before = set(), ""
        while True:
            status, page = server.api.call("GET", f"/runs?limit=200&before={before}")
            if status != 200:
                raise DrillFailed(f"listing runs answered {status}: {page}")
            listed |= {r["id"] for r in page["runs"]}
            before = page.get("next_before") or ""
            if not before:
                break
        report.saw("runs in the database", len(listed))
        if listed != set(accepted):
            problems.append(f"the database holds {len(listed - set(accepted))} runs nobody was told about "
                            f"and lacks {len(set(accepted) - listed)}")
        tokens_status, tokens = server.api.call("GET", "/tokens")
        if tokens_status == 200 and any(t.get("name") == "drill-disk-token" for t in tokens):
            problems.append("the token refused on the full disk exists")

        verify = subprocess.run([str(binary), "audit", "verify", "--database-url", f"sqlite://{db}"],
                                capture_output=True, text=True)
        verdict = (verify.stdout or verify.stderr).strip().splitlines()
        report.saw("gantry audit verify", verdict[-1] if verdict else verify.returncode)
        if verify.returncode != 0:
            problems.append(f"the audit chain does not verify: {verify.stderr.strip()}")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    except DrillFailed as e:
        # What was seen up to here stays in the report.
        report.passed = False
        report.failure = str(e)
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", str(small)], capture_output=True)
    return report
