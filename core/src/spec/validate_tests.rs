use crate::spec::{SpecProblem, SpecRejection, parse};

const HEAD: &str = "name: w\n";

/// A minimal valid step list to append rejected fragments to.
const OK_STEPS: &str = "steps:\n  - id: a\n    run: 'true'\n";

fn problems_of(source: &str) -> Vec<SpecProblem> {
    match parse(source) {
        Err(SpecRejection::Invalid { problems }) => problems,
        other => panic!("expected problems for:\n{source}\ngot {other:?}"),
    }
}

/// (what, source, path, line, message fragment). Every row must yield a
/// problem with exactly this path whose message contains the fragment,
/// on this line when one is given.
fn rejected() -> Vec<(
    &'static str,
    String,
    &'static str,
    Option<u32>,
    &'static str,
)> {
    let with_steps = |top: &str| format!("{HEAD}{top}{OK_STEPS}");
    let steps = |body: &str| format!("{HEAD}steps:\n{body}");
    let many = |n: usize| {
        let mut s = format!("{HEAD}steps:\n");
        for i in 0..n {
            s.push_str(&format!("  - {{id: s{i}, run: 'true'}}\n"));
        }
        s
    };
    vec![
        // Document level.
        ("malformed YAML", format!("{HEAD}steps: [\n"), "", None, ""),
        (
            "approval without environments",
            with_steps("approval:\n  required_in: []\n"),
            "approval.required_in",
            None,
            "list the environments",
        ),
        (
            "approval in a malformed environment",
            with_steps("approval:\n  required_in: [prod, Prod]\n"),
            "approval.required_in[1]",
            None,
            "",
        ),
        (
            "approval listing one twice",
            with_steps("approval:\n  required_in: [prod, prod]\n"),
            "approval.required_in[1]",
            None,
            "listed twice",
        ),
        (
            "unknown top-level field",
            with_steps("retry: 3\n"),
            "retry",
            Some(2),
            "unknown field \"retry\"",
        ),
        (
            "unknown step field",
            steps("  - id: a\n    run: x\n    command: y\n"),
            "steps[0].command",
            Some(5),
            "unknown field \"command\"",
        ),
        (
            "wrong type",
            with_steps("concurrency: [1]\n"),
            "concurrency",
            Some(2),
            "expected",
        ),
        // SLOs: validation problems and shape errors both land on their line.
        (
            "slo window too short",
            with_steps("slo:\n  prod:\n    window: 12h\n    success: 99%\n"),
            "slo.prod.window",
            Some(4),
            "shorter than 1 day",
        ),
        (
            "slo without an objective",
            with_steps("slo:\n  prod: { window: 28d }\n"),
            "slo.prod",
            Some(3),
            "needs an objective",
        ),
        (
            "slo target of 100%",
            with_steps(
                "slo:\n  prod:\n    window: 28d\n    duration: { within: 10m, target: 100% }\n",
            ),
            "slo.prod.duration.target",
            Some(5),
            "no error budget",
        ),
        (
            "slo target written as a percentage number",
            with_steps("slo:\n  prod:\n    window: 28d\n    success: 99\n"),
            "slo.prod.success",
            Some(5),
            "write 0.99 or \"99%\"",
        ),
        (
            "slo in a malformed environment",
            with_steps("slo:\n  Prod: { window: 28d, success: 0.9 }\n"),
            "slo.Prod",
            Some(3),
            "environment name",
        ),
        (
            "unknown slo field",
            with_steps("slo:\n  prod: { window: 28d, latency: 10m }\n"),
            "slo.prod.latency",
            None,
            "unknown field \"latency\"",
        ),
        // Workflow fields.
        (
            "bad name",
            "name: Backup_Verify\nsteps:\n  - {id: a, run: x}\n".to_owned(),
            "name",
            Some(1),
            "name \"Backup_Verify\" must be 1-64 lowercase",
        ),
        (
            "name ending in a dash",
            "name: backup-\nsteps:\n  - {id: a, run: x}\n".to_owned(),
            "name",
            Some(1),
            "starting and ending",
        ),
        (
            "no steps",
            format!("{HEAD}steps: []\n"),
            "steps",
            Some(2),
            "at least one step",
        ),
        (
            "501 steps",
            many(501),
            "steps",
            Some(2),
            "at most 500 steps; this one has 501",
        ),
        (
            "bad cron",
            with_steps("schedule: '0 25 * * *'\n"),
            "schedule",
            Some(2),
            "invalid schedule \"0 25 * * *\"",
        ),
        (
            "cron with seconds",
            with_steps("schedule: '0 0 3 * * *'\n"),
            "schedule",
            Some(2),
            "has 6 fields",
        ),
        (
            "cron that never fires",
            with_steps("schedule: '0 0 30 2 *'\n"),
            "schedule",
            Some(2),
            "never fires",
        ),
        (
            "bad timezone",
            with_steps("schedule: '@daily'\ntimezone: Mars/Olympus\n"),
            "timezone",
            Some(3),
            "unknown time zone \"Mars/Olympus\"",
        ),
        (
            "timezone without schedule",
            with_steps("timezone: Europe/Berlin\n"),
            "timezone",
            Some(2),
            "timezone only applies to a schedule",
        ),
        (
            "concurrency 0",
            with_steps("concurrency: 0\n"),
            "concurrency",
            Some(2),
            "at least 1",
        ),
        (
            "zero duration",
            with_steps("timeout: 0s\n"),
            "timeout",
            Some(2),
            "longer than zero",
        ),
        (
            "over a week",
            with_steps("timeout: 8days\n"),
            "timeout",
            Some(2),
            "longer than the 7 day limit",
        ),
        (
            "bad duration",
            with_steps("timeout: 10 parsecs\n"),
            "timeout",
            Some(2),
            "invalid duration \"10 parsecs\"",
        ),
        // Inputs.
        (
            "bad input name",
            with_steps("inputs:\n  Target: {type: string}\n"),
            "inputs.Target",
            Some(3),
            "input name \"Target\"",
        ),
        (
            "default of the wrong type",
            with_steps("inputs:\n  n: {type: integer, default: many}\n"),
            "inputs.n.default",
            Some(3),
            "default must be an integer, got \"many\"",
        ),
        (
            "boolean default as a string",
            with_steps("inputs:\n  b: {type: boolean, default: 'true'}\n"),
            "inputs.b.default",
            Some(3),
            "default must be a boolean",
        ),
        (
            "choice without options",
            with_steps("inputs:\n  c: {type: choice}\n"),
            "inputs.c",
            Some(3),
            "needs options",
        ),
        (
            "choice with empty options",
            with_steps("inputs:\n  c: {type: choice, options: []}\n"),
            "inputs.c.options",
            Some(3),
            "at least one value",
        ),
        (
            "choice default not in options",
            with_steps("inputs:\n  c: {type: choice, options: [a, b], default: z}\n"),
            "inputs.c.default",
            Some(3),
            "default must be one of: a, b, got \"z\"",
        ),
        (
            "duplicate option",
            with_steps("inputs:\n  c:\n    type: choice\n    options:\n      - a\n      - a\n"),
            "inputs.c.options[1]",
            Some(7),
            "listed twice",
        ),
        (
            "options on a string",
            with_steps("inputs:\n  s: {type: string, options: [a]}\n"),
            "inputs.s.options",
            Some(3),
            "only apply to choice",
        ),
        // Step ids and kinds.
        (
            "bad step id",
            steps("  - id: Dump\n    run: x\n"),
            "steps[0].id",
            Some(3),
            "step id \"Dump\"",
        ),
        (
            "duplicate step id",
            steps("  - id: a\n    run: x\n  - id: b\n    run: x\n  - id: a\n    run: y\n"),
            "steps[2].id",
            Some(7),
            "duplicate step id \"a\"; steps[0] already uses it",
        ),
        (
            "both run and http",
            steps("  - id: a\n    run: x\n    http: {method: GET, url: 'http://x'}\n"),
            "steps[0]",
            Some(3),
            "either run or http, not both",
        ),
        (
            "neither run nor http",
            steps("  - id: a\n    name: nothing\n"),
            "steps[0]",
            Some(3),
            "add run",
        ),
        (
            "empty run",
            steps("  - id: a\n    run: '  '\n"),
            "steps[0].run",
            Some(4),
            "run is empty",
        ),
        // Needs and the graph.
        (
            "unknown need",
            steps("  - id: a\n    run: x\n  - id: b\n    needs: [a, ghost]\n    run: x\n"),
            "steps[1].needs[1]",
            Some(6),
            "unknown step \"ghost\"",
        ),
        (
            "self need",
            steps("  - id: a\n    needs:\n      - a\n    run: x\n"),
            "steps[0].needs[0]",
            Some(5),
            "can't need itself",
        ),
        (
            "duplicate need",
            steps("  - id: a\n    run: x\n  - id: b\n    needs: [a, a]\n    run: x\n"),
            "steps[1].needs[1]",
            Some(6),
            "listed twice",
        ),
        (
            "cycle of three",
            steps(
                "  - id: a\n    needs: [c]\n    run: x\n  - id: b\n    needs: [a]\n    run: x\n  - id: c\n    needs: [b]\n    run: x\n",
            ),
            "steps[0].needs",
            Some(4),
            "steps form a cycle: a → c → b → a",
        ),
        // Durations and retries.
        // Resource limits.
        (
            "memory limit too small",
            steps("  - id: a\n    run: x\n    limits: {memory: 1Mi}\n"),
            "steps[0].limits.memory",
            Some(5),
            "below the 16Mi minimum",
        ),
        (
            "cpu limit under a second",
            steps("  - id: a\n    run: x\n    limits: {cpu: 500ms}\n"),
            "steps[0].limits.cpu",
            Some(5),
            "whole seconds",
        ),
        (
            "limits on an http step",
            steps(
                "  - id: a\n    http: {method: GET, url: 'http://x'}\n    limits: {memory: 64Mi}\n",
            ),
            "steps[0].limits",
            Some(5),
            "shell steps (run) only",
        ),
        (
            "step timeout zero",
            steps("  - id: a\n    run: x\n    timeout: 0m\n"),
            "steps[0].timeout",
            Some(5),
            "longer than zero",
        ),
        (
            "retries 0",
            steps("  - id: a\n    run: x\n    retries: {max_attempts: 0}\n"),
            "steps[0].retries.max_attempts",
            Some(5),
            "between 1 and 20, got 0",
        ),
        (
            "retries 21",
            steps("  - id: a\n    run: x\n    retries: {max_attempts: 21}\n"),
            "steps[0].retries.max_attempts",
            Some(5),
            "between 1 and 20, got 21",
        ),
        (
            "retry initial over max",
            steps("  - id: a\n    run: x\n    retries: {max_attempts: 2, initial: 2m, max: 1m}\n"),
            "steps[0].retries.initial",
            Some(5),
            "longer than max",
        ),
        (
            "retry max over a week",
            steps("  - id: a\n    run: x\n    retries: {max_attempts: 2, max: 30days}\n"),
            "steps[0].retries.max",
            Some(5),
            "7 day limit",
        ),
        // Env and outputs.
        (
            "reserved env name",
            steps("  - id: a\n    run: x\n    env: {GANTRY_X: y}\n"),
            "steps[0].env.GANTRY_X",
            Some(5),
            "reserved",
        ),
        (
            "bad env name",
            steps("  - id: a\n    run: x\n    env: {'A-B': y}\n"),
            "steps[0].env.A-B",
            Some(5),
            "env name \"A-B\"",
        ),
        (
            "bad output key",
            steps("  - id: a\n    run: x\n    outputs: [ok, 'no way']\n"),
            "steps[0].outputs[1]",
            Some(5),
            "output key \"no way\"",
        ),
        (
            "duplicate output key",
            steps("  - id: a\n    run: x\n    outputs: [sha, sha]\n"),
            "steps[0].outputs[1]",
            Some(5),
            "listed twice",
        ),
        (
            "outputs on an http step",
            steps("  - id: a\n    http: {method: GET, url: 'http://x'}\n    outputs: [sha]\n"),
            "steps[0].outputs",
            Some(5),
            "only run steps",
        ),
        // HTTP.
        (
            "bad http method",
            steps("  - id: a\n    http: {method: FETCH, url: 'http://x'}\n"),
            "steps[0].http.method",
            Some(4),
            "method \"FETCH\"",
        ),
        (
            "bad http url",
            steps("  - id: a\n    http: {method: GET, url: 'ftp://x'}\n"),
            "steps[0].http.url",
            Some(4),
            "must start with http:// or https://",
        ),
        (
            "url without host",
            steps("  - id: a\n    http: {method: GET, url: 'https://'}\n"),
            "steps[0].http.url",
            Some(4),
            "must start with http:// or https://",
        ),
        (
            "url with spaces",
            steps("  - id: a\n    http: {method: GET, url: 'http://a b'}\n"),
            "steps[0].http.url",
            Some(4),
            "whitespace",
        ),
        (
            "bad expected status",
            steps(
                "  - id: a\n    http:\n      method: GET\n      url: http://x\n      expect_status: [200, 99]\n",
            ),
            "steps[0].http.expect_status[1]",
            Some(7),
            "between 100 and 599, got 99",
        ),
        (
            "bad header name",
            steps(
                "  - id: a\n    http:\n      method: GET\n      url: http://x\n      headers: {'X Bad': v}\n",
            ),
            "steps[0].http.headers.X Bad",
            Some(7),
            "header name",
        ),
        (
            "header value with newline",
            steps(
                "  - id: a\n    http:\n      method: GET\n      url: http://x\n      headers: {X-A: \"a\\nb\"}\n",
            ),
            "steps[0].http.headers.X-A",
            Some(7),
            "line break",
        ),
        // Free text shown as labels.
        (
            "description with a bidi override",
            with_steps("description: \"safe \\u202Eexe.tab\"\n"),
            "description",
            Some(2),
            "U+202E",
        ),
        (
            "description over 2000 characters",
            with_steps(&format!("description: {}\n", "d".repeat(2001))),
            "description",
            Some(2),
            "keep it to 2000",
        ),
        (
            "step name with an isolate",
            steps("  - id: a\n    name: \"x\\u2066y\"\n    run: x\n"),
            "steps[0].name",
            Some(4),
            "U+2066",
        ),
        (
            "step name of 100,000 characters",
            steps(&format!(
                "  - id: a\n    name: {}\n    run: x\n",
                "n".repeat(100_000)
            )),
            "steps[0].name",
            Some(4),
            "is 100000 characters long; keep it to 100",
        ),
        (
            "step name on two lines",
            steps("  - id: a\n    name: \"one\\ntwo\"\n    run: x\n"),
            "steps[0].name",
            Some(4),
            "one line",
        ),
        (
            "input description with an escape sequence",
            with_steps("inputs:\n  t:\n    type: string\n    description: \"\\e[31mred\"\n"),
            "inputs.t.description",
            Some(5),
            "control character",
        ),
        (
            "choice option with a right-to-left mark",
            with_steps("inputs:\n  c: {type: choice, options: [\"a\\u200Fb\"]}\n"),
            "inputs.c.options[0]",
            Some(3),
            "U+200F",
        ),
        // Templates.
        (
            "undeclared input in template",
            steps("  - id: a\n    run: echo ${{ inputs.nope }}\n"),
            "steps[0].run",
            Some(4),
            "unknown input \"nope\"",
        ),
        (
            "output of a non-ancestor",
            steps(
                "  - id: a\n    run: x\n    outputs: [sha]\n  - id: b\n    run: echo ${{ steps.a.outputs.sha }}\n",
            ),
            "steps[1].run",
            Some(7),
            "add a to the needs of b",
        ),
        (
            "undeclared output key",
            steps(
                "  - id: a\n    run: x\n    outputs: [sha]\n  - id: b\n    needs: [a]\n    run: echo ${{ steps.a.outputs.size }}\n",
            ),
            "steps[1].run",
            Some(8),
            "step a does not declare output \"size\"",
        ),
        (
            "output of an unknown step",
            steps("  - id: a\n    run: echo ${{ steps.zz.outputs.k }}\n"),
            "steps[0].run",
            Some(4),
            "unknown step \"zz\"",
        ),
        (
            "own output",
            steps("  - id: a\n    run: echo ${{ steps.a.outputs.k }}\n    outputs: [k]\n"),
            "steps[0].run",
            Some(4),
            "its own outputs",
        ),
        (
            "unterminated template",
            steps("  - id: a\n    run: echo ${{ inputs.x\n"),
            "steps[0].run",
            Some(4),
            "unterminated template",
        ),
        (
            "unknown expression",
            steps("  - id: a\n    run: x\n    env: {A: '${{ env.token }}'}\n"),
            "steps[0].env.A",
            Some(5),
            "unknown template expression \"env.token\"",
        ),
        (
            "template in url",
            steps("  - id: a\n    http: {method: GET, url: 'http://${{ inputs.host }}/'}\n"),
            "steps[0].http.url",
            Some(4),
            "unknown input \"host\"",
        ),
        (
            "template in body",
            steps(
                "  - id: a\n    http: {method: POST, url: 'http://x', body: '${{ run.nope }}'}\n",
            ),
            "steps[0].http.body",
            Some(4),
            "unknown template expression",
        ),
        (
            "template in header",
            steps(
                "  - id: a\n    http:\n      method: GET\n      url: http://x\n      headers: {A: '${{ inputs.t }}'}\n",
            ),
            "steps[0].http.headers.A",
            Some(7),
            "unknown input \"t\"",
        ),
    ]
}

#[test]
fn rejected_specs() {
    let cases = rejected();
    assert!(cases.len() >= 25);
    for (what, source, path, line, fragment) in cases {
        let problems = problems_of(&source);
        let found = problems
            .iter()
            .find(|p| p.path == path && p.message.contains(fragment));
        let Some(problem) = found else {
            panic!("{what}: no problem at {path:?} containing {fragment:?} in {problems:#?}");
        };
        if line.is_some() {
            assert_eq!(problem.line, line, "{what}: {problem:?}");
        }
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let source = "name: Bad\nconcurrency: 0\nsteps:\n  - id: a\n    needs: [ghost]\n    run: x\n  - id: a\n    run: ''\n";
    let problems = problems_of(source);
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "name",
            "concurrency",
            "steps[0].needs[0]",
            "steps[1].id",
            "steps[1].run"
        ],
        "{problems:#?}"
    );
    let lines: Vec<Option<u32>> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(1), Some(2), Some(5), Some(7), Some(8)]);
}

#[test]
fn a_huge_bad_name_is_quoted_short_in_its_message() {
    let source = format!(
        "name: \"{}\\u202E\"\nsteps:\n  - {{id: a, run: x}}\n",
        "a".repeat(100_000)
    );
    let problems = problems_of(&source);
    let name = problems.iter().find(|p| p.path == "name").unwrap();
    assert!(name.message.len() < 300, "{}", name.message.len());
    assert!(!name.message.contains('\u{202E}'));
}

#[test]
fn prose_keeps_its_paragraphs_and_any_script() {
    let source = "name: w\ndescription: |\n  Nightly backup.\n\n  Sauvegarde \u{e0} 3 h, \u{646}\u{633}\u{62e}.\nsteps:\n  - {id: a, name: 'Dump \u{1F680}', run: x}\n";
    assert!(parse(source).is_ok(), "{:?}", parse(source));
}

#[test]
fn validate_alone_reports_paths_without_lines() {
    let mut spec = parse("name: w\nsteps:\n  - {id: a, run: x}\n").unwrap();
    spec.steps[0].needs.push("a".into());
    let problems = crate::spec::validate(&spec).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "steps[0].needs[0]");
    assert_eq!(problems[0].line, None);
}

#[test]
fn accepted_edge_cases() {
    let ok = [
        "name: w\nsteps:\n  - {id: a, http: {method: get, url: 'HTTPS://x.example/${{ inputs.p }}'}}\ninputs:\n  p: {type: string}\n",
        "name: w\nschedule: '@weekly'\ntimezone: America/New_York\nsteps:\n  - {id: a, run: x}\n",
        "name: w\ntimeout: 7days\nsteps:\n  - {id: a, run: x, retries: {max_attempts: 20}}\n",
        "name: w\ninputs:\n  c: {type: choice, options: [x, y], default: y}\n  n: {type: number, default: 2}\n  b: {type: boolean, default: false}\nsteps:\n  - {id: a, run: 'echo ${{inputs.c}} ${{ run.id }} ${{ run.environment }} ${{ workflow.name }}'}\n",
        // A grandparent's outputs are readable: ancestry is transitive.
        "name: w\nsteps:\n  - {id: a, run: x, outputs: [k]}\n  - {id: b, run: x, needs: [a]}\n  - {id: c, needs: [b], env: {K: '${{ steps.a.outputs.k }}'}, run: x}\n",
    ];
    for source in ok {
        assert!(parse(source).is_ok(), "{source}: {:?}", parse(source));
    }
}

#[test]
fn five_hundred_steps_in_a_chain_are_fine() {
    let mut s = format!("{HEAD}steps:\n  - {{id: s0, run: x, outputs: [k]}}\n");
    for i in 1..500 {
        s.push_str(&format!(
            "  - {{id: s{i}, needs: [s{}], run: 'echo ${{{{ steps.s0.outputs.k }}}}'}}\n",
            i - 1
        ));
    }
    let spec = parse(&s).unwrap();
    assert_eq!(spec.steps.len(), 500);
}
