"""Drill 7: the SIEM collector behind `--audit-sink-url` goes away for a
long while (10 minutes by default) while changes keep being audited. The
backlog must grow and show (`gantry_audit_sink_backlog_records`), nothing
else may suffer (triggers keep being accepted), and once the collector is
back the backlog drains to 0 with every record delivered once, in order:
no gap, no duplicate at the receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import DrillFailed, Gantry, Report, Triggers, free_port, metric, scrape, wait_for

SPEC = """
name: drill-sink
steps:
  - id: work
    run: 'true'
"""


class Collector:
    """A JSON-lines collector on a fixed loopback port that can go away
    (its port then refuses connections) and come back."""

    def __init__(self, port: int):
        self.port = port
        self.seqs: list[int] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self):
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seqs = [json.loads(line)["seq"] for line in body.decode().splitlines() if line.strip()]
                with collector.lock:
                    collector.seqs.extend(seqs)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def received(self) -> list[int]:
        with self.lock:
            return list(self.seqs)


def drill(binary: Path, home: Path, outage: float) -> Report:
    report = Report("audit-sink-outage", f"audit sink collector down for {outage:.0f} s under load")
    collector = Collector(free_port())
    metrics_port = free_port()
    server = None
    triggers = None
    try:
        collector.start()
        server = Gantry(binary, f"sqlite://{home / 'gantry.db'}", home / "serve",
                        ["--worker-slots", "2", "--metrics-bind", f"127.0.0.1:{metrics_port}",
                         "--audit-sink-url", f"http://127.0.0.1:{collector.port}/ingest"])
        server.start()
        status, body = server.api.call("POST", "/workflows", SPEC, content_type="application/yaml")
        if status != 201:
            raise DrillFailed(f"applying the workflow answered {status}: {body}")
        # Audited changes at a steady pace: each trigger is one record
        # (`run.trigger`), and a token every 2 s another kind.
        triggers = Triggers(server.api, "drill-sink", every=0.2)
        triggers.start()
        stop_tokens = threading.Event()
        tokens_made = [0]

        def make_tokens():
            n = 0
            while not stop_tokens.is_set():
                n += 1
                status, _ = server.api.call("POST", "/tokens", {"name": f"drill-sink-{n}", "roles": ["viewer"]})
                if status == 201:
                    tokens_made[0] += 1
                stop_tokens.wait(2)

        token_thread = threading.Thread(target=make_tokens, daemon=True)
        token_thread.start()
        wait_for("records delivered while the collector is up", lambda: len(collector.received()) >= 5, 30)
        report.did("`gantry serve` on SQLite streaming its audit log to a local JSON-lines collector; "
                   "a trigger every 0.2 s and a token made every 2 s (an audit record each)")

        collector.stop()
        down = time.monotonic()
        report.did(f"stopped the collector (its port refuses connections) for {outage:.0f} s")
        backlog: list[tuple[float, float]] = []
        while time.monotonic() - down < outage:
            # Sampling the backlog is the outage's own pace, not a synchronization.
            value = metric(scrape(metrics_port), "gantry_audit_sink_backlog_records")
            backlog.append((time.monotonic() - down, value if value is not None else -1))
            time.sleep(min(15.0, max(0.0, outage - (time.monotonic() - down))))
        accepted_during = len(triggers.accepted)
        text = scrape(metrics_port)
        failures = metric(text, "gantry_audit_sink_failures_total")
        peak = max(v for _, v in backlog)
        report.saw("backlog during the outage (records, first → last sample)",
                   f"{backlog[0][1]:.0f} → {backlog[-1][1]:.0f} ({len(backlog)} samples)")
        report.saw("failed deliveries counted", f"{failures:.0f}" if failures is not None else "absent")
        report.saw("received before the outage", len(collector.received()))

        collector.start()
        back = time.monotonic()
        report.did("started the collector again on the same port")

        def drained():
            value = metric(scrape(metrics_port), "gantry_audit_sink_backlog_records")
            return value == 0
        # Deliveries back off to one a minute while failing.
        wait_for("the backlog drained", drained, 180, every=0.5)
        report.saw("seconds from the collector's return until the backlog was 0", f"{time.monotonic() - back:.1f}")
        stop_tokens.set()
        token_thread.join()
        triggers.stop()
        status, head = server.api.call("GET", "/audit?limit=1")
        if status != 200:
            raise DrillFailed(f"reading the audit log answered {status}: {head}")
        head_seq = head["records"][0]["seq"] if head.get("records") else 0
        # The records made after the backlog read 0 are delivered next.
        wait_for("the collector has the head", lambda: max(collector.received(), default=0) >= head_seq, 60)
        seqs = collector.received()
        duplicates = len(seqs) - len(set(seqs))
        gaps = [s for s in range(1, max(seqs) + 1) if s not in set(seqs)]
        in_order = seqs == sorted(seqs)
        report.saw("records received", len(seqs))
        report.saw("audit chain head", head_seq)
        report.saw("duplicates, gaps at the receiver", f"{duplicates}, {len(gaps)}")
        report.saw("delivered in order", in_order)
        report.saw("triggers accepted during the outage", accepted_during)
        report.saw("tokens made (audited changes)", tokens_made[0])
        problems = []
        if peak <= 0 or backlog[-1][1] <= backlog[0][1]:
            problems.append(f"the backlog metric did not grow during the outage: {backlog}")
        if not failures:
            problems.append("no failed delivery was counted")
        if duplicates or gaps or not in_order:
            problems.append(f"{duplicates} duplicates, gaps {gaps[:10]}, in order: {in_order}")
        if max(seqs) < head_seq:
            problems.append(f"the collector has up to {max(seqs)}, the chain's head is {head_seq}")
        bad = {k: v for k, v in triggers.answers.items() if k != 201}
        if bad:
            problems.append(f"triggers answered other than 201 while the collector was away: {bad}")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    except DrillFailed as e:
        # What was seen up to here stays in the report.
        report.passed = False
        report.failure = str(e)
    finally:
        if triggers:
            triggers.stop()
        if server:
            server.stop()
        collector.stop()
    return report
