//! The one error type of the core. Its message is shown to readers as is, so it names the
//! field at fault and says what was expected, in plain words.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(String);

impl ModelError {
    pub fn new(message: impl Into<String>) -> Self {
        ModelError(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

/// Shorthand for building an `Err(ModelError)` with `format!` arguments.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::error::ModelError::new(format!($($arg)*)))
    };
}
pub(crate) use fail;
