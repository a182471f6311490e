//! The secret value itself: a wrapper that never prints what it holds.

use super::MIN_SECRET_LEN;
use std::fmt;

/// A secret's value. `Debug` and `Display` print [`super::MASK`], never the
/// value; read it only with [`SecretValue::expose`] where it is used.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

/// Why a value can't be a secret. The message names the rule, never the
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "a secret value must be at least {min} bytes long (this one has {len}); \
         shorter values can't be masked in output without hiding ordinary text"
    )]
    TooShort { len: usize, min: usize },
    #[error("the secret values produce too many forms to search for at once: {0}")]
    TooMany(String),
}

impl SecretValue {
    /// Accepts `value` as a secret if it is at least [`MIN_SECRET_LEN`]
    /// bytes long.
    pub fn new(value: impl Into<String>) -> Result<Self, SecretError> {
        let value = value.into();
        if value.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort {
                len: value.len(),
                min: MIN_SECRET_LEN,
            });
        }
        Ok(Self(value))
    }

    /// The value, for the one place that hands it to a step.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({})", super::MASK)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(super::MASK)
    }
}
