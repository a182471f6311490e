#!/usr/bin/env bash
# Supply-chain checks on the Rust dependency graph with cargo-deny and the
# policy in deny.toml (docs/testing.md, "Supply chain"). Run from anywhere
# (make deny); needs cargo-deny (make tools-deny installs it).
#
# 1. licenses, bans, sources: always, offline apart from what `cargo
#    metadata` needs; any error fails. Duplicate crate versions are warnings:
#    one line each, never a failure.
# 2. advisories: needs the RustSec advisory database, fetched over the
#    network (git). Where it can't be fetched the check is SKIPPED, saying so
#    and why; where it can, any vulnerability, unsound or yanked crate (or an
#    unmaintained direct dependency) fails.
#
# CARGO_DENY: the cargo-deny binary (default: cargo-deny on PATH).
# DENY_CONFIG: the policy (default: deny.toml at the repository root).
# DENY_FETCH_TIMEOUT: seconds to wait for the advisory database (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY=${CARGO_DENY:-cargo-deny}
DENY_CONFIG=${DENY_CONFIG:-deny.toml}
DENY_FETCH_TIMEOUT=${DENY_FETCH_TIMEOUT:-60}

say() { echo "check-deny: $*"; }
fail() { echo "check-deny: $*" >&2; exit 1; }

command -v "$CARGO_DENY" >/dev/null 2>&1 \
  || fail "no cargo-deny ('$CARGO_DENY'): run 'make tools-deny' or set CARGO_DENY"
[ -f "$DENY_CONFIG" ] || fail "no policy file $DENY_CONFIG"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

deny() { "$CARGO_DENY" --locked --color never --config "$DENY_CONFIG" "$@"; }

# One line per diagnostic in cargo-deny's output; a duplicate is named with
# its versions, read from the Cargo.lock lines the diagnostic quotes
# ("27 | base64 0.22.1 registry+...").
headlines() {
  awk '
    function flush() { if (head != "") print "  " head versions; head = ""; versions = "" }
    /^(warning|error)\[/ {
      flush(); head = $0; dup = ($0 ~ /^warning\[duplicate\]/)
      if (dup) { name = $0; sub(/^.*crate \047/, "", name); sub(/\047.*$/, "", name); head = "warning[duplicate]: " name }
      next
    }
    dup && $NF ~ /^(registry|sparse|git)\+/ && $(NF-2) == name { versions = versions " " $(NF-1) }
    END { flush() }
  ' "$1"
}

say "$("$CARGO_DENY" --version), policy $DENY_CONFIG"

# ---- licenses, bans, sources ---------------------------------------------
# Inclusion graphs make the output thousands of lines long; a first run
# without them prints one line per finding and the totals, and only on
# failure are the errors printed again in full, with the graph showing which
# dependency pulls each offender in.
start=$SECONDS
status=0
deny check --show-stats --hide-inclusion-graph licenses bans sources >"$work/out" 2>&1 || status=$?
headlines "$work/out"
grep -E '^ *(licenses|bans|sources) (ok|FAILED)' "$work/out" | sed 's/^ */  /' || true
if [ "$status" -ne 0 ]; then
  deny --log-level error check licenses bans sources >&2 || true
  fail "licenses/bans/sources FAILED (cargo-deny exit $status): errors above"
fi
say "licenses, bans, sources ok ($((SECONDS - start)) s; duplicate versions are warnings only)"

# ---- advisories -------------------------------------------------------------
start=$SECONDS
status=0
timeout "$DENY_FETCH_TIMEOUT" "$CARGO_DENY" --color never --config "$DENY_CONFIG" fetch db >"$work/fetch" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 124 ]; then
    reason="no answer within ${DENY_FETCH_TIMEOUT} s"
  else
    reason=$(grep -v '^[[:space:]]*$' "$work/fetch" | tail -n 1 | sed 's/^[0-9-]* [0-9:]* \[ERROR\] //')
  fi
  say "advisories SKIPPED: the advisory database could not be fetched (${reason:-exit $status}); known vulnerabilities were NOT checked"
  exit 0
fi

status=0
deny check --show-stats advisories >"$work/out" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  cat "$work/out" >&2
  fail "advisories FAILED (cargo-deny exit $status): see above"
fi
headlines "$work/out"
say "advisories ok ($((SECONDS - start)) s, database fetched)"
