#!/usr/bin/env python3
"""Disaster drills (issue 21): each sets a situation up on 127.0.0.1,
injects a fault, checks the outcome and writes a report into OUT (default
target/drills/), with a summary table in OUT/summary.md.

    python3 scripts/drills/drills.py --gantry target/release/gantry [--only kill9-sqlite] [--trials 100]

`make drills` builds the release binary and runs them all."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).resolve().parents[2]

import audit_sink  # noqa: E402
import backup_restore  # noqa: E402
import collector_down  # noqa: E402
import disk_full  # noqa: E402
import identity_provider  # noqa: E402
import kill9  # noqa: E402
import openbao_outage  # noqa: E402
import postgres_outage  # noqa: E402
from common import Report  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gantry", type=Path, default=Path("target/release/gantry"))
    ap.add_argument("--out", type=Path, default=Path("target/drills"))
    ap.add_argument("--only", action="append", help="a drill's name (repeatable)")
    ap.add_argument("--trials", type=int, default=100, help="kills per kill -9 drill")
    ap.add_argument("--outage", type=float, default=30.0, help="seconds PostgreSQL stays down")
    ap.add_argument("--sink-outage", type=float, default=600.0, help="seconds the audit sink's collector stays down")
    ap.add_argument("--otel-samples", type=int, default=200, help="runs per side in the collector drill")
    ap.add_argument("--rotation", type=float, default=60.0, help="seconds of key rotations under sign-ins")
    ap.add_argument("--backup-runs", type=int, default=10_000, help="finished runs in the database the backup drill copies")
    ap.add_argument("--seed", type=int, default=random.randrange(1, 1 << 31))
    args = ap.parse_args()
    gantry = args.gantry.resolve()
    if not gantry.exists():
        print(f"drills: {gantry} not found; build it with `cargo build --release -p gantry-server`", file=sys.stderr)
        return 2
    drills = {
        "kill9-sqlite": lambda home: kill9.drill(gantry, "sqlite", home, args.trials, args.seed),
        "kill9-postgres": lambda home: kill9.drill(gantry, "postgres", home, args.trials, args.seed),
        "postgres-outage": lambda home: postgres_outage.drill(gantry, home, args.outage),
        "sqlite-disk-full": lambda home: disk_full.drill(gantry, home),
        "openbao-outage": lambda home: openbao_outage.drill(gantry, home, ROOT / "target/openbao-venv/bin/bao"),
        "collector-down": lambda home: collector_down.drill(gantry, home, args.otel_samples),
        "identity-provider": lambda home: identity_provider.drill(gantry, home, ROOT, args.rotation),
        "audit-sink-outage": lambda home: audit_sink.drill(gantry, home, args.sink_outage),
        "backup-restore": lambda home: backup_restore.drill(gantry, home, args.backup_runs),
    }
    chosen = args.only or list(drills)
    unknown = [n for n in chosen if n not in drills]
    if unknown:
        print(f"drills: unknown {unknown}; known: {', '.join(drills)}", file=sys.stderr)
        return 2
    reports: list[Report] = []
    for name in chosen:
        print(f"drill {name} ...", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"gantry-drill-{name}.") as home:
            # Steps run as an unprivileged user, who must reach their
            # working directories under it.
            Path(home).chmod(0o755)
            try:
                report = drills[name](Path(home))
            except Exception as e:  # a drill that could not finish fails, with why
                report = Report(name, name, failure=f"{type(e).__name__}: {e}")
                traceback.print_exc()
            if not report.passed:
                # The servers' logs, for what the report can't say.
                logs = args.out / f"{name}-logs"
                for log in Path(home).rglob("*.log"):
                    logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(log, logs / f"{log.parent.name}-{log.name}")
        report.seconds = time.monotonic() - started
        report.write(args.out)
        reports.append(report)
        print(f"drill {name}: {'pass' if report.passed else 'FAIL'} ({report.seconds:.0f} s)"
              + (f": {report.failure}" if report.failure else ""), flush=True)
    summary = ["| drill | result | seconds | observed |", "|---|---|---:|---|"]
    for r in reports:
        seen = "; ".join(f"{k}: {v}" for k, v in r.observed)
        summary.append(f"| {r.title} | {'pass' if r.passed else 'FAIL'} | {r.seconds:.0f} | {seen or r.failure} |")
    (args.out / "summary.md").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
