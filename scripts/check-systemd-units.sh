#!/usr/bin/env bash
# Checks the systemd units shipped in docs/ops/systemd/ (docs/ops/install.md):
# `systemd-analyze verify` must pass on gantry.service, on gantry.service with
# its drop-in gantry.service.d/cluster.conf, and on gantry-worker.service,
# printing nothing about their own lines; and `systemd-analyze security
# --offline=true` must rate each at an exposure of at most MAX_EXPOSURE.
# Works without systemd running (a container): both commands read the files.
#
#   scripts/check-systemd-units.sh [GANTRY_BINARY]    (default target/debug/gantry)
#
# `verify` checks that ExecStart's program exists and is executable, so the
# units are checked in copies whose /usr/local/bin/gantry is GANTRY_BINARY.
# Run from the repository root. Without systemd-analyze, installs Debian's
# systemd package when run as root, else says what to install.
set -euo pipefail

UNITS=docs/ops/systemd
INSTALLED=/usr/local/bin/gantry
# install.md records an exposure of 1.7 for each unit; fail on one that got
# worse than this (systemd-analyze prints one decimal).
MAX_EXPOSURE=${MAX_EXPOSURE:-2.5}

fail() { echo "check-systemd-units: $*" >&2; exit 1; }

binary=${1:-target/debug/gantry}
[ -x "$binary" ] || fail "$binary is not an executable file (build it, or give the gantry binary's path as the first argument)"
binary=$(realpath "$binary")
for f in "$UNITS/gantry.service" "$UNITS/gantry.service.d/cluster.conf" "$UNITS/gantry-worker.service"; do
  [ -f "$f" ] || fail "$f is missing"
done

if ! command -v systemd-analyze >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "check-systemd-units: installing Debian's systemd for systemd-analyze"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd >/dev/null \
      || fail "apt-get install systemd failed"
    command -v systemd-analyze >/dev/null || fail "systemd-analyze is still missing after installing systemd"
  else
    fail "systemd-analyze is missing: install Debian's systemd package (apt-get install --no-install-recommends systemd) or run this as root"
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A copy of a unit (and its drop-in folder, if given) with ExecStart's
# program replaced by the binary under test.
stage() { # stage DIR UNIT [DROPIN]
  local dir=$1 unit=$2 dropin=${3:-}
  mkdir -p "$dir"
  sed "s|$INSTALLED |$binary |" "$UNITS/$unit" >"$dir/$unit"
  if [ -n "$dropin" ]; then
    mkdir -p "$dir/$unit.d"
    sed "s|$INSTALLED |$binary |" "$UNITS/$unit.d/$dropin" >"$dir/$unit.d/$dropin"
  fi
  grep -q "$binary" "$dir/$unit" || fail "$unit: no ExecStart=$INSTALLED … to check"
}

check() { # check LABEL DIR UNIT
  local label=$1 dir=$2 unit=$3 out rc=0 line
  out=$(systemd-analyze verify --man=no "$dir/$unit" 2>&1) || rc=$?
  # Lines about the unit's own files (its name, its path, its drop-ins).
  local own
  own=$(grep -F -e "$dir/" -e "$unit" <<<"$out" || true)
  if [ "$rc" != 0 ] || [ -n "$own" ]; then
    echo "$out" >&2
    fail "systemd-analyze verify: $label fails (exit $rc; lines above)"
  fi
  # Other units' complaints (this machine's own unit files) are not ours.
  if [ -n "$out" ]; then
    echo "check-systemd-units: $label: ignored, not about this unit:" >&2
    while IFS= read -r line; do echo "  $line"; done <<<"$out" >&2
  fi
  local security exposure
  security=$(systemd-analyze security --offline=true "$dir/$unit" 2>&1) \
    || { echo "$security" >&2; fail "systemd-analyze security failed on $label"; }
  exposure=$(grep -o 'Overall exposure level for [^:]*: [0-9.]* [A-Z]*' <<<"$security" | sed 's/.*: //')
  [ -n "$exposure" ] || { echo "$security" >&2; fail "no exposure level for $label"; }
  awk -v e="${exposure%% *}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' \
    || { echo "$security" >&2; fail "$label: exposure $exposure is over $MAX_EXPOSURE"; }
  echo "check-systemd-units: $label: systemd-analyze verify passed; exposure $exposure"
}

stage "$work/serve" gantry.service
check "gantry.service" "$work/serve" gantry.service
stage "$work/cluster" gantry.service cluster.conf
check "gantry.service + gantry.service.d/cluster.conf" "$work/cluster" gantry.service
stage "$work/worker" gantry-worker.service
check "gantry-worker.service" "$work/worker" gantry-worker.service

# systemd only checks that the program exists: the flags and GANTRY_…
# settings a unit gives must be ones `gantry` accepts. Its last ExecStart
# (continuation lines joined, %d a credentials folder) is run with --help,
# which clap answers only when every flag before it parses.
flags() { # flags LABEL FILE… (the unit, then its drop-in)
  local label=$1 cmd env=()
  shift
  cmd=$(cat "$@" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep '^ExecStart=.' | tail -n 1 | sed 's/^ExecStart=//')
  while IFS= read -r line; do env+=("$line"); done < <(grep -h '^Environment=' "$@" | sed 's/^Environment=//')
  cmd=${cmd//%d/$work}
  cmd=${cmd/$INSTALLED /$binary }
  # shellcheck disable=SC2086 # the unit's words, as systemd splits them
  env -i "${env[@]}" $cmd --help >"$work/help" 2>&1 \
    || { cat "$work/help" >&2; fail "$label: gantry refuses its ExecStart flags or settings (above)"; }
  echo "check-systemd-units: $label: gantry accepts its flags and settings"
}
flags "gantry.service" "$UNITS/gantry.service"
flags "gantry.service + cluster.conf" "$UNITS/gantry.service" "$UNITS/gantry.service.d/cluster.conf"
flags "gantry-worker.service" "$UNITS/gantry-worker.service"
