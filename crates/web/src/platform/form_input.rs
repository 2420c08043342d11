//! The values and messages of a page's own form fields (pages that are not
//! rendered from a form definition): what was typed, and why it was refused.

/// A refused field: its name (the anchor of the summary's link) and what
/// is wrong.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// An input of a form with its value and its error, if any.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub value: String,
    pub error: Option<String>,
}

impl Input {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            error: None,
        }
    }

    /// The value, with the first message for `field` among `errors`.
    pub fn with(value: impl Into<String>, field: &str, errors: &[FieldMessage]) -> Self {
        Self {
            value: value.into(),
            error: errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
        }
    }

    pub fn invalid(&self) -> bool {
        self.error.is_some()
    }
}
