//! `file:/PATH` references: a file's contents, for development and for
//! platforms that mount secrets as files (Kubernetes, Docker, systemd
//! credentials). Only files under the configured root are readable, after
//! resolving symbolic links, so a reference can't climb out of it.

use async_trait::async_trait;
use gantry_core::secret::{
    FetchError, FetchRequest, Fetched, ProviderHealth, SecretProvider, SecretValue,
};
use std::path::PathBuf;

/// Largest file read (a certificate chain fits many times over).
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

pub struct FileProvider {
    /// Canonical (symbolic links resolved).
    root: PathBuf,
}

impl FileProvider {
    /// Reads files under `root`, which must exist.
    pub fn new(root: &std::path::Path) -> Result<Self, String> {
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot open {}: {e}", root.display()))?;
        Ok(Self { root })
    }
}

#[async_trait]
impl SecretProvider for FileProvider {
    async fn fetch(&self, request: FetchRequest<'_>) -> Result<Fetched, FetchError> {
        let shown = format!("file:{}", request.path);
        let path = tokio::fs::canonicalize(request.path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => FetchError::NotFound(shown.clone()),
                _ => FetchError::Other(format!("{shown}: {e}")),
            })?;
        if !path.starts_with(&self.root) {
            return Err(FetchError::Denied(format!(
                "{shown} is outside the readable directory {}",
                self.root.display()
            )));
        }
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| FetchError::Other(format!("{shown}: {e}")))?;
        if !meta.is_file() {
            return Err(FetchError::NotFound(format!("{shown} is not a file")));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(FetchError::Unusable(format!(
                "{shown} is over {MAX_FILE_BYTES} bytes"
            )));
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| FetchError::Other(format!("{shown}: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| FetchError::Unusable(format!("{shown} is not UTF-8 text")))?;
        // `echo value > file` leaves a newline nobody means as part of the
        // secret; one is dropped (a PEM file works either way).
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text)
            .to_owned();
        let value =
            SecretValue::new(text).map_err(|e| FetchError::Unusable(format!("{shown}: {e}")))?;
        Ok(Fetched {
            value,
            version: None,
            lease: None,
            also: Vec::new(),
        })
    }

    async fn health(&self) -> ProviderHealth {
        let ok = tokio::fs::metadata(&self.root)
            .await
            .map(|m| m.is_dir())
            .unwrap_or(false);
        ProviderHealth {
            reachable: ok,
            authenticated: ok,
            error: (!ok).then(|| format!("{} is not a readable directory", self.root.display())),
        }
    }
}
