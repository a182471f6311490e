//! `gantry slo export`: Prometheus rules for the `slo:` objectives of
//! workflow specs, for teams that evaluate SLOs in Prometheus. It reads the
//! files with the parser `apply`'s server uses and needs no server, so it
//! runs offline in CI. The rules themselves: `runtime::metrics::slo_rules`.

use super::spec_files::spec_files;
use crate::runtime::metrics::slo_rules::{self, SpecFile};
use clap::{Args, Subcommand};
use gantry_core::spec::WorkflowSpec;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Write Prometheus recording and alerting rules for the specs' SLOs: error ratios over
    /// 5m…3d and the SLO window, and multiwindow burn-rate alerts (see docs/slo.md).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A spec file, or a folder of them (*.yaml, *.yml, *.json). Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,

    /// Write the rules to this file instead of standard output (only when every spec is fine).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The alerts' runbook_url annotation, e.g. where your copy of docs/ops/runbooks/slo-burn.md
    /// is published.
    #[arg(long, value_name = "URL", default_value = slo_rules::DEFAULT_RUNBOOK_URL)]
    pub runbook_url: String,
}

pub fn run(command: SloCommand) -> ExitCode {
    match command {
        SloCommand::Export(args) => export(&args),
    }
}

fn export(args: &ExportArgs) -> ExitCode {
    let (parsed, problems) = read_specs(&args.files);
    if !problems.is_empty() {
        return fail(problems);
    }
    let files: Vec<SpecFile<'_>> = parsed
        .iter()
        .map(|(path, spec)| SpecFile { path, spec })
        .collect();
    let exported = match slo_rules::export(&files, &args.runbook_url) {
        Ok(exported) => exported,
        Err(problems) => return fail(problems.iter().map(ToString::to_string).collect()),
    };
    for (path, spec) in parsed.iter().filter(|(_, spec)| spec.slo.is_empty()) {
        eprintln!(
            "gantry: {path}: workflow {} has no slo: section; nothing to export for it",
            spec.name
        );
    }
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(exported.yaml.as_bytes())
                .and_then(|()| out.flush())
            {
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    fail(vec![format!("cannot write the rules: {e}")])
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Some(path) => match std::fs::write(path, &exported.yaml) {
            Ok(()) => {
                println!(
                    "{}: rules for {} objective{}",
                    path.display(),
                    exported.objectives,
                    if exported.objectives == 1 { "" } else { "s" }
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(vec![format!("cannot write {}: {e}", path.display())]),
        },
    }
}

/// Every spec `paths` name, parsed, and every problem with them.
fn read_specs(paths: &[PathBuf]) -> (Vec<(String, WorkflowSpec)>, Vec<String>) {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let files = match spec_files(path) {
            Ok(files) => files,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for file in files {
            let shown = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Err(e) => problems.push(format!("cannot read {shown}: {e}")),
                Ok(text) => match gantry_core::spec::parse(&text) {
                    Ok(spec) => parsed.push((shown, spec)),
                    Err(rejection) => problems
                        .extend(rejection.problems().iter().map(|p| format!("{shown}: {p}"))),
                },
            }
        }
    }
    (parsed, problems)
}

fn fail(problems: Vec<String>) -> ExitCode {
    for problem in problems {
        eprintln!("gantry: {problem}");
    }
    ExitCode::from(1)
}
