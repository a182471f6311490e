#!/usr/bin/env bash
# Checks the shipped operations content (docs/ops/): the Prometheus rules
# load and pass their unit tests, the Grafana dashboard is valid JSON whose
# queries parse, and every Gantry metric the dashboard, rules and tests name
# is one Gantry serves (the table in docs/observability.md), so the content
# can't drift from the metrics. Run from the repository root (make ops-check).
set -euo pipefail

PROMTOOL=${PROMTOOL:-target/prometheus/usr/bin/promtool}
OPS=docs/ops
DASHBOARD=$OPS/grafana/gantry.json
METRICS_DOC=docs/observability.md
# Each rule file with its unit tests and the page its runbook_urls name.
RULE_SETS=(
  "$OPS/prometheus/gantry.rules.yml $OPS/prometheus/gantry.rules.test.yml $OPS/README.md"
  "$OPS/prometheus/gantry-slo-rules.yml $OPS/prometheus/gantry-slo-rules.test.yml $OPS/slo.md"
)

fail() { echo "check-ops: $*" >&2; exit 1; }

[ -x "$PROMTOOL" ] || fail "no promtool at $PROMTOOL (run 'make tools-prometheus' or set PROMTOOL)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check_set() {
RULES=$1 TESTS=$2 RUNBOOK=$3
for f in "$RULES" "$TESTS" "$DASHBOARD" "$RUNBOOK" "$METRICS_DOC"; do
  [ -f "$f" ] || fail "$f is missing"
done

"$PROMTOOL" check rules "$RULES" >"$work/out" 2>&1 \
  || { cat "$work/out" >&2; fail "promtool check rules failed on $RULES"; }
rules_line=$(grep -o '[0-9]* rules found' "$work/out")

"$PROMTOOL" test rules "$TESTS" >"$work/out" 2>&1 \
  || { cat "$work/out" >&2; fail "promtool test rules failed on $TESTS"; }

python3 -m json.tool "$DASHBOARD" >/dev/null 2>"$work/out" \
  || { cat "$work/out" >&2; fail "$DASHBOARD is not valid JSON"; }

# The rest reads the files as text (no YAML library needed): the rules and
# tests are written one `alert:` / `alertname:` / `exp_alerts:` per line.
content_problem="the content does not match the metrics served, the runbook or the tests (above)"
python3 - "$RULES" "$TESTS" "$DASHBOARD" "$RUNBOOK" "$METRICS_DOC" "$work/queries.yml" >"$work/summary" <<'EOF' || fail "$content_problem"
import json, re, sys

rules_path, tests_path, dashboard_path, runbook_path, metrics_doc, queries_out = sys.argv[1:]
rules = open(rules_path).read()
tests = open(tests_path).read()
dashboard = json.load(open(dashboard_path))
runbook = open(runbook_path).read()
problems = []

# Served metrics: the first column of the metrics table.
served = set(re.findall(r"^\| `(gantry_[a-z0-9_]+)` \|", open(metrics_doc).read(), re.M))
if not served:
    problems.append(f"{metrics_doc}: no metric table rows found")

def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))

queries = []  # (panel title, expr)
for p in panels(dashboard.get("panels", [])):
    if p.get("type") == "row":
        continue
    title = p.get("title", "?")
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
    if not unit:
        problems.append(f"dashboard panel {title!r} has no unit")
    if p.get("datasource", {}).get("uid") != "${datasource}":
        problems.append(f"dashboard panel {title!r} does not use the $datasource variable")
    for t in p.get("targets", []):
        queries.append((title, t.get("expr", "")))
    if not p.get("targets"):
        problems.append(f"dashboard panel {title!r} has no query")
variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
for name in ("workflow", "environment"):
    v = variables.get(name)
    if not v or not (v.get("multi") and v.get("includeAll")) or "label_values(" not in v.get("definition", ""):
        problems.append(f"dashboard variable {name!r} must be a multi-value label_values query with All")
    else:
        queries.append((f"variable {name}", v["definition"]))

# Every gantry_ name in the content must be served (histogram series
# suffixes stripped). Recording rules are named gantry:…, which this skips.
def base(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)
for where, text in (("rules", rules), ("rule tests", tests),
                    ("dashboard", "\n".join(e for _, e in queries))):
    for name in sorted({base(n) for n in re.findall(r"\bgantry_[a-z0-9_]*[a-z0-9]", text)}):
        if name not in served:
            problems.append(f"{where} name {name}, which {metrics_doc}'s metric table does not list")

# Every alert: a runbook section, and tests where it fires and where it doesn't.
alerts = re.findall(r"^\s*- alert: (\S+)", rules, re.M)
anchors = {re.sub(r"[^a-z0-9_-]", "", h.strip().lower().replace(" ", "-"))
           for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
for url in re.findall(r"runbook_url: (\S+)", rules):
    path, _, anchor = url.partition("#")
    if path != runbook_path or anchor not in anchors:
        problems.append(f"runbook_url {url} does not name a heading of {runbook_path}")
if len(re.findall(r"runbook_url:", rules)) != len(alerts):
    problems.append("every alert needs a runbook_url")
fires, quiet = {}, {}
current = None
for line in tests.splitlines():
    m = re.match(r"\s*alertname: (\S+)", line)
    if m:
        current = m.group(1)
        continue
    m = re.match(r"\s*exp_alerts:\s*(\[\])?\s*(#.*)?$", line)
    if m and current:
        counts = quiet if m.group(1) else fires
        counts[current] = counts.get(current, 0) + 1
        current = None
for a in alerts:
    if a not in fires:
        problems.append(f"alert {a} has no test where it fires")
    if a not in quiet:
        problems.append(f"alert {a} has no test where it stays quiet (exp_alerts: [])")
for a in set(fires) | set(quiet):
    if a not in alerts:
        problems.append(f"{tests_path} tests {a}, which {rules_path} does not define")

# The dashboard's queries, Grafana variables filled in, as recording rules
# for promtool to parse.
fill = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m",
        "$workflow": ".*", "$environment": ".*"}
rules_out = []
for i, (_, expr) in enumerate(queries):
    for k, v in fill.items():
        expr = expr.replace(k, v)
    m = re.fullmatch(r"label_values\((.+), *[a-z_]+\)", expr)
    if m:
        expr = m.group(1)
    rules_out.append({"record": f"dashboard:query_{i}", "expr": expr})
with open(queries_out, "w") as f:
    json.dump({"groups": [{"name": "dashboard", "rules": rules_out}]}, f)

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"{len(alerts)} alerts, each with a runbook section and tests that fire and stay quiet; "
      f"{len(queries)} dashboard queries; every metric named is in {metrics_doc}")
EOF

"$PROMTOOL" check rules "$work/queries.yml" >"$work/out" 2>&1 \
  || { cat "$work/out" >&2; fail "a dashboard query does not parse (above; rule N is the Nth query)"; }

echo "check-ops: $RULES: $rules_line (promtool check rules)"
echo "check-ops: $TESTS: promtool test rules passed"
echo "check-ops: $DASHBOARD: valid JSON, every query parses"
echo "check-ops: $(cat "$work/summary")"
}

for set in "${RULE_SETS[@]}"; do
  # shellcheck disable=SC2086 # three paths without spaces
  check_set $set
done
