"""Drill 8: the OpenTelemetry collector is unreachable. Tracing must cost
runs nothing visible: two `gantry serve` processes, one exporting traces to
an endpoint where nothing listens, one with tracing off, run the same
one-step workflow in alternating turns; the traced side's trigger-to-finish
time (from the runs' own timestamps) must stay within the bound the
observability issue set (5 %, plus 2 ms for the timer's grain), the spans
it can't send must be counted as dropped, and nothing else may fail."""

from __future__ import annotations

import statistics
from datetime import datetime
from pathlib import Path

from common import DrillFailed, Gantry, Report, finish_all, free_port, metric, scrape

SPEC = """
name: drill-otel
steps:
  - id: work
    run: 'true'
"""

RELATIVE = 0.05
GRAIN_MS = 2.0


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def drill(binary: Path, home: Path, samples: int) -> Report:
    report = Report("collector-down", "telemetry collector unreachable")
    metrics_port = free_port()
    nowhere = free_port()  # nothing listens here
    plain = traced = None
    try:
        plain = Gantry(binary, f"sqlite://{home / 'plain.db'}", home / "plain", ["--worker-slots", "1"])
        traced = Gantry(binary, f"sqlite://{home / 'traced.db'}", home / "traced",
                        ["--worker-slots", "1", "--metrics-bind", f"127.0.0.1:{metrics_port}"],
                        env={"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{nowhere}",
                             "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                             "OTEL_SERVICE_NAME": "gantry-drill"})
        for server in (plain, traced):
            server.start()
            status, body = server.api.call("POST", "/workflows", SPEC, content_type="application/yaml")
            if status != 201:
                raise DrillFailed(f"applying the workflow answered {status}: {body}")
        report.did(f"two `gantry serve` (1 slot each, SQLite): one exporting traces over OTLP/HTTP to "
                   f"127.0.0.1:{nowhere}, where nothing listens; one with tracing off")
        times = {"plain": [], "traced": []}
        failed = 0
        # Alternating turns, so drift on the machine falls on both sides.
        for i in range(samples):
            order = [("plain", plain), ("traced", traced)]
            if i % 2:
                order.reverse()
            for side, server in order:
                status, run = server.api.call("POST", "/workflows/drill-otel/runs", {"environment": "dev"})
                if status != 201:
                    raise DrillFailed(f"a trigger ({side}) answered {status}: {run}")
                done = finish_all(server.api, [run["id"]], 30)[run["id"]]
                if done["status"] != "succeeded":
                    failed += 1
                    continue
                times[side].append((seconds(done["finished_at"]) - seconds(done["created_at"])) * 1000)
        report.did(f"{samples} runs on each side in alternating turns; trigger-to-finish from each run's "
                   "created_at and finished_at")
        dropped = metric(scrape(metrics_port), "gantry_telemetry_dropped_total")
        med = {k: statistics.median(v) for k, v in times.items() if v}
        p90 = {k: statistics.quantiles(v, n=10)[-1] for k, v in times.items() if len(v) >= 10}
        report.saw("median trigger-to-finish, tracing off / collector unreachable (ms)",
                   f"{med.get('plain', float('nan')):.1f} / {med.get('traced', float('nan')):.1f}")
        report.saw("p90 (ms)", f"{p90.get('plain', float('nan')):.1f} / {p90.get('traced', float('nan')):.1f}")
        report.saw("spans counted as dropped", f"{dropped:.0f}" if dropped is not None else "absent")
        report.saw("runs that did not succeed", failed)
        problems = []
        if failed:
            problems.append(f"{failed} runs did not succeed")
        bound = med["plain"] * (1 + RELATIVE) + GRAIN_MS
        if med["traced"] > bound:
            problems.append(f"the traced median {med['traced']:.1f} ms is beyond {bound:.1f} ms "
                            f"(tracing off {med['plain']:.1f} ms + {RELATIVE:.0%} + {GRAIN_MS} ms)")
        if not dropped:
            problems.append("no dropped span was counted although the collector is unreachable")
        same = plain.proc.poll() is None and traced.proc.poll() is None
        if not same:
            problems.append("a server exited")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    except DrillFailed as e:
        # What was seen up to here stays in the report.
        report.passed = False
        report.failure = str(e)
    finally:
        for server in (plain, traced):
            if server:
                server.stop()
    return report
