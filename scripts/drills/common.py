"""What every drill shares: a `gantry serve` (and `gantry worker`) on
127.0.0.1, a private PostgreSQL cluster it may stop and start, the REST
API with the bootstrap token, and the report each drill writes.

Standard library only, so `make drills` needs nothing beyond python3 and
the release build."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TOKEN = "gantry_drill-token-0123456789abcdefghijklmnopqrstuv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, limit: float, every: float = 0.1):
    """Polls `check` until it returns something truthy; fails after `limit`
    seconds naming `what`. Drills watch real processes from outside, so
    polling an observable state is the synchronization."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DrillFailed(f"{what}: not within {limit:.0f} s")
        time.sleep(every)


class DrillFailed(Exception):
    pass


@dataclass
class Api:
    base: str
    token: str = TOKEN

    def call(self, method: str, path: str, body=None, timeout: float = 10.0,
             content_type: str = "application/json"):
        """(status, parsed body); status 0 when the server can't be reached."""
        data = None
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else None
            except ValueError:
                return e.code, raw.decode(errors="replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
            return 0, None

    def probe(self, path: str) -> int:
        """The status of an unauthenticated GET (health probes), 0 when down."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
            return 0


class Gantry:
    """One `gantry serve` on a fixed loopback port, restartable."""

    def __init__(self, binary: Path, db_url: str, home: Path, extra: list[str], env: dict[str, str] | None = None):
        self.binary, self.db_url, self.home, self.extra = binary, db_url, home, extra
        self.env = dict(os.environ, **(env or {}))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        (home / "site" / "pkg").mkdir(parents=True, exist_ok=True)
        self.api = Api(f"http://127.0.0.1:{self.port}/api/v1")
        self.root = Api(f"http://127.0.0.1:{self.port}")

    def start(self):
        log = open(self.home / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--bind", f"127.0.0.1:{self.port}",
             "--database-url", self.db_url, "--bootstrap-token", TOKEN,
             "--site-root", str(self.home / "site"), "--work-dir", str(self.home / "work"),
             "--log", "warn", *self.extra],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=self.env)
        wait_for("gantry serve answering", lambda: self.root.probe("/healthz") == 200
                 or self._exited(), 60)
        if self.proc.poll() is not None:
            raise DrillFailed(f"gantry serve exited with {self.proc.returncode}; see {self.home}/serve.log")

    def _exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


class Worker:
    """A remote `gantry worker` leasing from a serve over its execution API."""

    def __init__(self, binary: Path, server: Gantry, home: Path, extra: list[str]):
        self.binary, self.server, self.home, self.extra = binary, server, home, extra
        self.proc: subprocess.Popen | None = None
        status, created = server.api.call("POST", "/tokens", {"name": f"drill-worker-{random.randrange(1 << 30)}", "worker": True})
        if status != 201:
            raise DrillFailed(f"creating a worker token answered {status}: {created}")
        self.token_file = home / "worker.token"
        self.token_file.write_text(created["secret"])

    def start(self):
        log = open(self.home / "worker.log", "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "worker", "--server", f"http://127.0.0.1:{self.server.port}",
             "--token-file", str(self.token_file), "--work-dir", str(self.home / "worker-work"),
             "--log", "error", *self.extra],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    stop = kill9


class Postgres:
    """A private PostgreSQL cluster the drill may stop and start (Debian's
    server binaries; as root the cluster belongs to `postgres`)."""

    def __init__(self, home: Path):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", str(p))])
        if not bins:
            raise DrillFailed("PostgreSQL server binaries not found; run 'make tools-postgres'")
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="gantry-drill-pg.", dir="/tmp"))
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "gantry", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.url = f"postgres://gantry@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str):
        out = subprocess.run([*self.as_owner, str(self.bin / tool), *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise DrillFailed(f"{tool} failed: {out.stderr.strip() or out.stdout.strip()}")

    def start(self):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-t", "30",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200",
                  "start")

    def stop(self, mode: str = "fast"):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def destroy(self):
        subprocess.run([*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Report:
    """What a drill did, saw and concluded; written to OUT/NAME.md."""

    name: str
    title: str
    done: list[str] = field(default_factory=list)
    observed: list[tuple[str, str]] = field(default_factory=list)
    passed: bool = False
    failure: str | None = None
    seconds: float = 0.0

    def did(self, line: str):
        self.done.append(line)

    def saw(self, what: str, value):
        self.observed.append((what, str(value)))

    def write(self, out: Path):
        out.mkdir(parents=True, exist_ok=True)
        lines = [f"# Drill: {self.title}", "",
                 f"Result: **{'pass' if self.passed else 'FAIL'}** ({self.seconds:.0f} s, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", ""]
        if self.failure:
            lines += [f"Failure: {self.failure}", ""]
        lines += ["## What was done", ""] + [f"- {d}" for d in self.done] + [""]
        lines += ["## What was observed", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in self.observed] + [""]
        (out / f"{self.name}.md").write_text("\n".join(lines))


class Triggers:
    """Triggers of `workflow` every `every` seconds from a thread, counting
    the answers and keeping the accepted runs' ids."""

    def __init__(self, api: Api, workflow: str, every: float = 0.1):
        self.api, self.workflow, self.every = api, workflow, every
        self.accepted: list[str] = []
        self.answers: Counter = Counter()
        self.messages: dict[int, str] = {}
        self.slowest_refusal = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            asked = time.monotonic()
            status, body = self.api.call("POST", f"/workflows/{self.workflow}/runs", {"environment": "dev"}, timeout=15)
            if status != 201:
                self.slowest_refusal = max(self.slowest_refusal, time.monotonic() - asked)
            self.answers[status] += 1
            if status == 201:
                self.accepted.append(body["id"])
            elif isinstance(body, dict) and "error" in body:
                self.messages.setdefault(status, body["error"].get("message", ""))
            self._stop.wait(self.every)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()


def finish_all(api: Api, run_ids: list[str], limit: float) -> dict[str, dict]:
    """Waits until every run in `run_ids` has finished; their views by id."""
    finished: dict[str, dict] = {}

    def all_done():
        for run_id in run_ids:
            if run_id not in finished:
                status, run = api.call("GET", f"/runs/{run_id}")
                if status == 200 and run["status"] not in ("queued", "running"):
                    finished[run_id] = run
        return len(finished) == len(run_ids)

    wait_for("every accepted run finished", all_done, limit, every=0.5)
    return finished


def metric(text: str, name: str) -> float | None:
    """The sum of `name`'s samples in Prometheus' text format, if any."""
    total = None
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        if series.split("{", 1)[0] == name:
            total = (total or 0.0) + float(value)
    return total


def scrape(port: int) -> str:
    """`GET /metrics` from a `--metrics-bind` listener; empty when it's down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            return resp.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return ""
