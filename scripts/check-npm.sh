#!/usr/bin/env bash
# Supply-chain checks on the end-to-end test packages (end2end/), the only
# npm packages the project uses (docs/testing.md, "Supply chain"). Run from
# anywhere (make deny), after `npm ci` (make tools-e2e).
#
# 1. The lockfile, offline; any finding fails:
#    - package.json pins each dependency to an exact version, and the
#      lockfile's root lists the same ones (so `npm ci` installs only what
#      the lockfile names);
#    - every locked package is a registry package at an exact version with a
#      sha512 `integrity`: no git, file, link, http or bundled sources. A
#      `resolved` URL, where present, must be on the configured registry
#      (this machine's npm config omits them: packages then come from it);
#    - no package has an install script (npm ci runs them as root here).
# 2. `npm audit signatures` (registry signatures and provenance) and
#    `npm audit --audit-level=high` (known vulnerabilities): each needs a
#    service beyond the package downloads; where that can't be reached the
#    check is SKIPPED, saying so and why, and the other findings still fail.
set -euo pipefail
cd "$(dirname "$0")/../end2end"

say() { echo "check-npm: $*"; }
fail() { echo "check-npm: $*" >&2; exit 1; }

[ -f package-lock.json ] || fail "end2end/package-lock.json is missing"
[ -d node_modules ] || fail "end2end/node_modules is missing: run 'make tools-e2e'"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- the lockfile -----------------------------------------------------------
registry=$(npm config get registry)
REGISTRY=$registry node - <<'EOF' || fail "lockfile check FAILED: findings above"
const fs = require('fs');
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const registry = process.env.REGISTRY.replace(/\/?$/, '/');
const exact = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const sha512 = /^sha512-[A-Za-z0-9+/]{86}==$/;
const kinds = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
const findings = [];

if (!(lock.lockfileVersion >= 2)) findings.push(`lockfileVersion ${lock.lockfileVersion}: 2 or later needed`);
const root = (lock.packages || {})[''] || {};
for (const kind of kinds) {
  const want = pkg[kind] || {};
  const got = root[kind] || {};
  for (const [name, spec] of Object.entries(want)) {
    if (!exact.test(spec)) findings.push(`package.json ${kind}.${name} = "${spec}": not an exact version`);
    if (got[name] !== spec) findings.push(`package.json ${kind}.${name} = "${spec}", the lockfile has ${name in got ? `"${got[name]}"` : 'none'}: run npm install`);
  }
  for (const name of Object.keys(got)) {
    if (!(name in want)) findings.push(`the lockfile's ${kind} has ${name}, package.json doesn't: run npm install`);
  }
}

let count = 0;
for (const [path, entry] of Object.entries(lock.packages || {})) {
  if (path === '') continue;
  count++;
  const where = `${path}@${entry.version}`;
  if (!path.startsWith('node_modules/')) findings.push(`${path}: not under node_modules (a workspace or local folder)`);
  if (entry.link) findings.push(`${path}: a link to ${entry.resolved}, not a registry package`);
  if (entry.inBundle) findings.push(`${where}: bundled inside another package, no integrity of its own`);
  if (!exact.test(entry.version || '')) findings.push(`${path}: version "${entry.version}" is not a registry version (git, file or URL source?)`);
  if (!sha512.test(entry.integrity || '')) findings.push(`${where}: no sha512 integrity ("${entry.integrity || ''}")`);
  if (entry.resolved !== undefined && !entry.resolved.startsWith(registry)) findings.push(`${where}: resolved from ${entry.resolved}, not the configured registry`);
  if (entry.hasInstallScript) findings.push(`${where}: has an install script`);
}

for (const f of findings) console.error(`  ${f}`);
if (findings.length) process.exit(1);
console.log(`check-npm: lockfile ok: ${count} packages, all pinned registry packages with sha512 integrity, no install scripts`);
EOF

# ---- registry signatures and advisories -------------------------------------
# Exit 1 from npm is both "found something" and "couldn't ask": an answer
# that failed to arrive is told apart by npm's network and endpoint errors.
unreachable='npm error (network|code (ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED))|audit endpoint returned an error|[0-9]{3} [A-Za-z ]+ - (GET|POST) '
reason_of() {
  local pattern
  for pattern in 'npm error network request' 'npm (warn|error) audit' 'npm error code'; do
    if grep -Eq "^$pattern" "$1"; then
      grep -E "^$pattern" "$1" | head -n 1 | sed -E 's/^npm (error|warn) (network )?//'
      return
    fi
  done
  echo "npm exit status 1"
}
npm_check() {
  local what=$1; shift
  local status=0
  timeout 120 npm "$@" --fetch-retries=0 >"$work/out" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    say "$what ok"
    return
  fi
  if [ "$status" -eq 124 ]; then
    say "$what SKIPPED: no answer within 120 s"
  elif grep -Eq "$unreachable" "$work/out"; then
    say "$what SKIPPED: a service it needs could not be reached ($(reason_of "$work/out"))"
  else
    cat "$work/out" >&2
    fail "$what FAILED (npm exit $status): see above"
  fi
}
npm_check "npm audit signatures" audit signatures
npm_check "npm audit (high and critical)" audit --audit-level=high
