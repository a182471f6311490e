//! The audit sink's settings from the `--audit-sink-*` flags, so `audit/`
//! never sees a clap type.

use crate::audit::sink::{MAX_BATCH, SinkSettings};
use crate::cli::AuditFlags;
use secrecy::SecretString;

impl SinkSettings {
    pub fn from_flags(flags: &AuditFlags) -> Result<Option<Self>, String> {
        let Some(raw) = &flags.audit_sink_url else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                "--audit-sink-url (GANTRY_AUDIT_SINK_URL) must be an http:// or https:// URL"
                    .to_owned()
            })?;
        if !(1..=MAX_BATCH).contains(&flags.audit_sink_batch) {
            return Err(format!(
                "--audit-sink-batch (GANTRY_AUDIT_SINK_BATCH) must be between 1 and {MAX_BATCH}"
            ));
        }
        if flags.audit_sink_token_file.is_some() && flags.audit_sink_token_ref.is_some() {
            return Err(
                "--audit-sink-token-file and --audit-sink-token-ref are both set: keep one".into(),
            );
        }
        let token_ref = match &flags.audit_sink_token_ref {
            Some(r) => Some(crate::secrets::own::check(r).map_err(|e| {
                format!("--audit-sink-token-ref (GANTRY_AUDIT_SINK_TOKEN_REF): {e}")
            })?),
            None => None,
        };
        let token = match &flags.audit_sink_token_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "--audit-sink-token-file (GANTRY_AUDIT_SINK_TOKEN_FILE): cannot read {}: {e}",
                        path.display()
                    )
                })?;
                Some(SecretString::from(text.trim().to_owned()))
            }
        };
        Ok(Some(SinkSettings {
            url,
            token: token.map(crate::secrets::own::Rotating::new),
            token_ref,
            batch: flags.audit_sink_batch,
        }))
    }
}
