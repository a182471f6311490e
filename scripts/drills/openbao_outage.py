"""Drill 4: OpenBao (the Vault API) goes away while runs are going. Steps
that need a secret must fail clearly, naming the secret and the reference
and saying the provider can't be reached, within the fetch timeout (never a
hang); steps that need none keep running; once OpenBao is back, the steps
that need secrets succeed again without restarting anything. No secret
value appears in what Gantry answered or logged.

OpenBao runs as a dev server (in memory) from the project's virtualenv
(`make tools-openbao`); its return is a fresh start on the same port with
the same root token, the secret written again."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

from common import DrillFailed, Gantry, Report, finish_all, free_port, wait_for

VALUE = "drill-" + secrets.token_hex(12)

SPECS = [
    """
name: drill-needs-secret
steps:
  - id: use
    secrets: { API_TOKEN: "vault:secret/data/drill#token" }
    run: 'test "${#API_TOKEN}" -gt 10'
""",
    """
name: drill-no-secret
steps:
  - id: work
    run: 'true'
""",
]


class OpenBao:
    def __init__(self, binary: Path, home: Path):
        self.binary, self.home = binary, home
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.token = "root-" + secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None

    def start(self):
        log = open(self.home / "bao.log", "ab")
        env = dict(os.environ, BAO_DEV_ROOT_TOKEN_ID=self.token)
        self.proc = subprocess.Popen(
            [str(self.binary), "server", "-dev", "-dev-no-store-token", f"-dev-listen-address=127.0.0.1:{self.port}"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        wait_for("OpenBao answering", self._healthy, 30)
        self._put({"token": VALUE})

    def _healthy(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise DrillFailed(f"bao exited with {self.proc.returncode}; see {self.home}/bao.log")
        try:
            with urllib.request.urlopen(self.addr + "/v1/sys/health", timeout=1):
                return True
        except OSError:
            return False

    def _put(self, data: dict):
        req = urllib.request.Request(self.addr + "/v1/secret/data/drill", method="POST",
                                     data=json.dumps({"data": data}).encode(),
                                     headers={"X-Vault-Token": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5):
            pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def drill(binary: Path, home: Path, bao_binary: Path) -> Report:
    report = Report("openbao-outage", "OpenBao down while runs need secrets")
    if not bao_binary.exists():
        raise DrillFailed(f"{bao_binary} not found; run 'make tools-openbao'")
    bao = OpenBao(bao_binary, home)
    server = None
    try:
        bao.start()
        token_file = home / "vault-token"
        token_file.write_text(bao.token)
        token_file.chmod(0o600)
        server = Gantry(binary, f"sqlite://{home / 'gantry.db'}", home / "serve",
                        ["--worker-slots", "2", "--vault-addr", bao.addr, "--vault-token-file", str(token_file)])
        server.start()
        for spec in SPECS:
            status, body = server.api.call("POST", "/workflows", spec, content_type="application/yaml")
            if status != 201:
                raise DrillFailed(f"applying a workflow answered {status}: {body}")

        def run(workflow: str) -> dict:
            status, body = server.api.call("POST", f"/workflows/{workflow}/runs", {"environment": "dev"})
            if status != 201:
                raise DrillFailed(f"triggering {workflow} answered {status}: {body}")
            return finish_all(server.api, [body["id"]], 60)[body["id"]]

        before = run("drill-needs-secret")
        report.did("`gantry serve` with an OpenBao dev server as its Vault; one workflow whose step needs "
                   "a KV secret, one that needs none")
        report.saw("a run needing the secret, OpenBao up", before["status"])

        bao.stop()
        report.did("stopped OpenBao")
        asked = time.monotonic()
        during = run("drill-needs-secret")
        failed_in = time.monotonic() - asked
        plain = [run("drill-no-secret")["status"] for _ in range(3)]
        attempt = during["steps"][0]["attempts"][-1] if during["steps"][0]["attempts"] else {}
        error = attempt.get("error") or ""
        report.saw("a run needing the secret, OpenBao down", f"{during['status']} in {failed_in:.1f} s")
        report.saw("what its step was told", error or "-")
        report.saw("runs needing no secret, OpenBao down", ", ".join(plain))

        bao.start()
        report.did("started OpenBao again (same port and root token) and wrote the secret again")
        after = run("drill-needs-secret")
        report.saw("a run needing the secret after OpenBao returned", after["status"])
        same = server.proc.poll() is None

        problems = []
        if before["status"] != "succeeded":
            problems.append(f"with OpenBao up the run {before['status']}")
        if during["status"] != "failed":
            problems.append(f"with OpenBao down the run {during['status']}, not failed")
        if not ("API_TOKEN" in error and "vault:secret/data/drill#token" in error and "unreachable" in error):
            problems.append(f"the failure doesn't name the secret, the reference and the cause: {error!r}")
        if any(s != "succeeded" for s in plain):
            problems.append(f"runs needing no secret: {plain}")
        if after["status"] != "succeeded":
            problems.append(f"after OpenBao returned the run {after['status']}")
        if not same:
            problems.append("gantry serve did not survive")
        logs = (home / "serve" / "serve.log").read_text(errors="replace")
        if VALUE in logs or VALUE in json.dumps([before, during, after]):
            problems.append("the secret's value appeared in a log or an answer")
        report.passed = not problems
        report.failure = "; ".join(problems) or None
    except DrillFailed as e:
        # What was seen up to here stays in the report.
        report.passed = False
        report.failure = str(e)
    finally:
        if server:
            server.stop()
        bao.stop()
    return report
