//! `${{ expr }}` templates in step scripts, env values and HTTP fields.
//!
//! The expression language is deliberately tiny: a value lookup, nothing
//! else. Allowed: `inputs.NAME`, `steps.ID.outputs.KEY`, `run.id`,
//! `run.environment`, `workflow.name`, and `secrets.NAME` in an HTTP step's
//! headers and body when the step declares that secret. Validation (with the `ssr` feature)
//! checks references against the spec; [`render`] and [`render_shell`] fill
//! them in when a step starts.
//!
//! Shell scripts are never rendered by splicing values into the script text:
//! [`render_shell`] swaps each expression for a `${GANTRY_EXPR_N}` variable
//! reference and hands the values over as environment variables, so a value
//! such as `x"; rm -rf / #` reaches the shell as data, not as code.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One `${{ … }}` expression, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expr {
    /// `inputs.NAME`
    Input { name: String },
    /// `steps.ID.outputs.KEY`
    StepOutput { step: String, key: String },
    /// `run.id`
    RunId,
    /// `run.environment`
    RunEnvironment,
    /// `workflow.name`
    WorkflowName,
    /// `secrets.NAME`: a secret the step declares. Only HTTP headers and
    /// bodies may use it; shell steps get secrets as variables or files.
    Secret { name: String },
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Input { name } => write!(f, "inputs.{name}"),
            Expr::StepOutput { step, key } => write!(f, "steps.{step}.outputs.{key}"),
            Expr::RunId => f.write_str("run.id"),
            Expr::RunEnvironment => f.write_str("run.environment"),
            Expr::WorkflowName => f.write_str("workflow.name"),
            Expr::Secret { name } => write!(f, "secrets.{name}"),
        }
    }
}

/// Why a template could not be parsed or filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemplateError {
    #[error("unterminated template \"{near}\": close every \"${{{{\" with \"}}}}\"")]
    Unterminated { near: String },
    #[error(
        "unknown template expression \"{expr}\": use inputs.NAME, steps.ID.outputs.KEY, run.id, run.environment, workflow.name or secrets.NAME"
    )]
    UnknownExpression { expr: String },
    #[error("input {name} has no value: declare it under inputs, or give it when starting the run")]
    MissingInput { name: String },
    #[error("step {step} finished without writing output {key}")]
    MissingOutput { step: String, key: String },
    #[error("secret {name} was not fetched for this attempt")]
    MissingSecret { name: String },
    #[error("secrets.{name} can't be written into a shell script; the step reads it as ${name}")]
    SecretInScript { name: String },
}

/// The values templates are filled in from when a step starts.
#[derive(Clone, Copy, Debug)]
pub struct TemplateContext<'a> {
    /// Resolved run inputs (see [`crate::spec::resolve_inputs`]).
    pub inputs: &'a BTreeMap<String, serde_json::Value>,
    /// Outputs written by finished steps: step id → key → value.
    pub outputs: &'a BTreeMap<String, BTreeMap<String, String>>,
    pub run_id: &'a str,
    pub environment: &'a str,
    pub workflow: &'a str,
}

/// A shell script ready for `/bin/sh -c`, plus the variables it references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellScript {
    /// The script with every expression replaced by `${GANTRY_EXPR_N}`.
    pub script: String,
    /// `GANTRY_EXPR_N` → value, N from 1 in order of first appearance.
    pub env: Vec<(String, String)>,
}

/// A piece of template text.
#[derive(Debug)]
enum Piece<'a> {
    Text(&'a str),
    Expr(Expr),
}

const OPEN: &str = "${{";
const CLOSE: &str = "}}";

/// Splits `text` into literal text and expressions.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(OPEN) {
        let (before, from_open) = rest.split_at(open);
        if !before.is_empty() {
            out.push(Piece::Text(before));
        }
        let inner_and_after = &from_open[OPEN.len()..];
        let Some(close) = inner_and_after.find(CLOSE) else {
            return Err(TemplateError::Unterminated {
                near: from_open.chars().take(30).collect(),
            });
        };
        out.push(Piece::Expr(parse_expr(inner_and_after[..close].trim())?));
        rest = &inner_and_after[close + CLOSE.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn parse_expr(src: &str) -> Result<Expr, TemplateError> {
    let parts: Vec<&str> = src.split('.').collect();
    let word = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    };
    let unknown = || TemplateError::UnknownExpression {
        expr: src.to_owned(),
    };
    if !parts.iter().all(word) {
        return Err(unknown());
    }
    match parts.as_slice() {
        ["inputs", name] => Ok(Expr::Input {
            name: (*name).to_owned(),
        }),
        ["steps", step, "outputs", key] => Ok(Expr::StepOutput {
            step: (*step).to_owned(),
            key: (*key).to_owned(),
        }),
        ["run", "id"] => Ok(Expr::RunId),
        ["run", "environment"] => Ok(Expr::RunEnvironment),
        ["workflow", "name"] => Ok(Expr::WorkflowName),
        ["secrets", name] => Ok(Expr::Secret {
            name: (*name).to_owned(),
        }),
        _ => Err(unknown()),
    }
}

/// Every expression in `text`, in order (repeats included). Used by
/// validation to check references without rendering anything.
pub fn expressions(text: &str) -> Result<Vec<Expr>, TemplateError> {
    Ok(pieces(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Expr(e) => Some(e),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `text` with every expression replaced by `placeholder`, for checking the
/// literal shape of a templated field (an URL's scheme, say).
#[cfg(feature = "ssr")]
pub(crate) fn with_placeholders(text: &str, placeholder: &str) -> Result<String, TemplateError> {
    Ok(pieces(text)?
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t,
            Piece::Expr(_) => placeholder,
        })
        .collect())
}

/// The text an expression stands for in this run; `secrets` holds the
/// values fetched for this attempt (name → value).
fn lookup(
    expr: &Expr,
    ctx: &TemplateContext<'_>,
    secrets: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    match expr {
        Expr::Input { name } => ctx
            .inputs
            .get(name)
            .map(value_text)
            .ok_or_else(|| TemplateError::MissingInput { name: name.clone() }),
        Expr::StepOutput { step, key } => ctx
            .outputs
            .get(step)
            .and_then(|outputs| outputs.get(key))
            .cloned()
            .ok_or_else(|| TemplateError::MissingOutput {
                step: step.clone(),
                key: key.clone(),
            }),
        Expr::RunId => Ok(ctx.run_id.to_owned()),
        Expr::RunEnvironment => Ok(ctx.environment.to_owned()),
        Expr::WorkflowName => Ok(ctx.workflow.to_owned()),
        Expr::Secret { name } => secrets
            .get(name)
            .cloned()
            .ok_or_else(|| TemplateError::MissingSecret { name: name.clone() }),
    }
}

/// JSON strings go in raw (no quotes); numbers and booleans as written;
/// null as nothing; arrays and objects as compact JSON.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Plain substitution, for places no shell parses: HTTP URL, headers and
/// body, and env values (which the executor passes as data).
pub fn render(text: &str, ctx: &TemplateContext<'_>) -> Result<String, TemplateError> {
    render_with_secrets(text, ctx, &BTreeMap::new())
}

/// [`render`] for an HTTP step's headers and body, where `${{ secrets.NAME }}`
/// takes its value from `secrets` (fetched for this attempt, never stored).
pub fn render_with_secrets(
    text: &str,
    ctx: &TemplateContext<'_>,
    secrets: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(e) => out.push_str(&lookup(&e, ctx, secrets)?),
        }
    }
    Ok(out)
}

/// The injection-safe rendering of a `run` script. Each distinct expression
/// becomes `${GANTRY_EXPR_N}` in the script and `GANTRY_EXPR_N=value` in
/// [`ShellScript::env`]. The shell expands a variable's value without parsing
/// it as code; authors should still double-quote the reference
/// (`"${{ inputs.x }}"`) to avoid word splitting, as with any variable.
pub fn render_shell(script: &str, ctx: &TemplateContext<'_>) -> Result<ShellScript, TemplateError> {
    let mut out = String::with_capacity(script.len());
    let mut numbered: Vec<Expr> = Vec::new();
    let mut env = Vec::new();
    for piece in pieces(script)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            // Validation refuses this; checked again so a script never
            // carries a secret even from an unvalidated spec.
            Piece::Expr(Expr::Secret { name }) => {
                return Err(TemplateError::SecretInScript { name });
            }
            Piece::Expr(e) => {
                let n = match numbered.iter().position(|seen| *seen == e) {
                    Some(i) => i + 1,
                    None => {
                        env.push((
                            format!("GANTRY_EXPR_{}", numbered.len() + 1),
                            lookup(&e, ctx, &BTreeMap::new())?,
                        ));
                        numbered.push(e);
                        numbered.len()
                    }
                };
                out.push_str(&format!("${{GANTRY_EXPR_{n}}}"));
            }
        }
    }
    Ok(ShellScript { script: out, env })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixture {
        inputs: BTreeMap<String, serde_json::Value>,
        outputs: BTreeMap<String, BTreeMap<String, String>>,
    }

    impl Fixture {
        fn new() -> Self {
            let inputs = [
                ("target", json!("primary")),
                ("count", json!(3)),
                ("ratio", json!(2.5)),
                ("dry", json!(true)),
                ("evil", json!("x\"; rm -rf / #")),
                ("nothing", json!(null)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let outputs = [(
                "dump".to_owned(),
                [("sha".to_owned(), "abc123".to_owned())]
                    .into_iter()
                    .collect(),
            )]
            .into_iter()
            .collect();
            Fixture { inputs, outputs }
        }

        fn ctx(&self) -> TemplateContext<'_> {
            TemplateContext {
                inputs: &self.inputs,
                outputs: &self.outputs,
                run_id: "r-42",
                environment: "prod",
                workflow: "backup-verify",
            }
        }
    }

    #[test]
    fn render_substitutes_every_kind_of_expression() {
        let f = Fixture::new();
        let cases = [
            ("plain text", "plain text"),
            ("", ""),
            ("${{ inputs.target }}", "primary"),
            ("${{inputs.target}}", "primary"),
            ("n=${{ inputs.count }} r=${{ inputs.ratio }}", "n=3 r=2.5"),
            ("${{ inputs.dry }}/${{ inputs.nothing }}.", "true/."),
            ("sha=${{ steps.dump.outputs.sha }}", "sha=abc123"),
            (
                "${{ run.id }} ${{ run.environment }} ${{ workflow.name }}",
                "r-42 prod backup-verify",
            ),
            (
                "$HOME ${x} {{ y }} $${{ run.id }}",
                "$HOME ${x} {{ y }} $r-42",
            ),
            ("ünïcødé ${{ run.id }} ✓", "ünïcødé r-42 ✓"),
        ];
        for (text, want) in cases {
            assert_eq!(render(text, &f.ctx()).as_deref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn render_shell_keeps_values_out_of_the_script() {
        let f = Fixture::new();
        let out = render_shell(
            "echo \"${{ inputs.evil }}\" && echo ${{ run.id }} \"${{inputs.evil}}\"",
            &f.ctx(),
        )
        .unwrap();
        assert_eq!(
            out.script,
            "echo \"${GANTRY_EXPR_1}\" && echo ${GANTRY_EXPR_2} \"${GANTRY_EXPR_1}\""
        );
        assert!(!out.script.contains("rm -rf"));
        assert_eq!(
            out.env,
            vec![
                ("GANTRY_EXPR_1".to_owned(), "x\"; rm -rf / #".to_owned()),
                ("GANTRY_EXPR_2".to_owned(), "r-42".to_owned()),
            ]
        );
    }

    #[test]
    fn render_shell_without_templates_is_unchanged() {
        let f = Fixture::new();
        let out = render_shell("ls \"$GANTRY_WORKDIR\"", &f.ctx()).unwrap();
        assert_eq!(out.script, "ls \"$GANTRY_WORKDIR\"");
        assert!(out.env.is_empty());
    }

    #[test]
    fn errors_say_what_to_fix() {
        let f = Fixture::new();
        let cases = [
            (
                "${{ inputs.target",
                "unterminated template \"${{ inputs.target\"",
            ),
            ("a ${{ run.id }} ${{", "unterminated"),
            ("${{ }}", "unknown template expression \"\""),
            ("${{ inputs }}", "unknown template expression \"inputs\""),
            ("${{ inputs.a.b }}", "unknown template expression"),
            ("${{ steps.dump.sha }}", "unknown template expression"),
            ("${{ env.HOME }}", "unknown template expression"),
            ("${{ inputs.a b }}", "unknown template expression"),
            ("${{ inputs.missing }}", "input missing has no value"),
            (
                "${{ steps.dump.outputs.size }}",
                "step dump finished without writing output size",
            ),
            (
                "${{ steps.other.outputs.sha }}",
                "step other finished without writing output sha",
            ),
        ];
        for (text, want) in cases {
            let err = render(text, &f.ctx()).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            let err = render_shell(text, &f.ctx()).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn secrets_render_from_the_attempt_values_only() {
        let f = Fixture::new();
        let secrets: BTreeMap<String, String> = [("TOKEN".to_owned(), "s3cr3t".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(
            render_with_secrets("Bearer ${{ secrets.TOKEN }}", &f.ctx(), &secrets).as_deref(),
            Ok("Bearer s3cr3t")
        );
        assert_eq!(
            render("${{ secrets.TOKEN }}", &f.ctx())
                .unwrap_err()
                .to_string(),
            "secret TOKEN was not fetched for this attempt"
        );
        assert_eq!(
            render_shell("echo ${{ secrets.TOKEN }}", &f.ctx())
                .unwrap_err()
                .to_string(),
            "secrets.TOKEN can't be written into a shell script; the step reads it as $TOKEN"
        );
        assert_eq!(
            expressions("${{ secrets.TOKEN }}").unwrap(),
            vec![Expr::Secret {
                name: "TOKEN".into()
            }]
        );
        assert_eq!(
            Expr::Secret {
                name: "TOKEN".into()
            }
            .to_string(),
            "secrets.TOKEN"
        );
    }

    #[test]
    fn expressions_lists_references_in_order() {
        let exprs =
            expressions("${{ inputs.a }}-${{ steps.s.outputs.k }}-${{ inputs.a }}-${{ run.id }}")
                .unwrap();
        assert_eq!(
            exprs,
            vec![
                Expr::Input { name: "a".into() },
                Expr::StepOutput {
                    step: "s".into(),
                    key: "k".into()
                },
                Expr::Input { name: "a".into() },
                Expr::RunId,
            ]
        );
        assert_eq!(exprs[1].to_string(), "steps.s.outputs.k");
        assert!(expressions("no templates").unwrap().is_empty());
    }
}
