//! Validation errors that name the field and the problem.
//!
//! Errors carry a stable `code` (for example `email.invalid`); the web layer
//! turns the code into a German or English sentence through its message catalog,
//! so the domain stays free of presentation concerns.

use serde::Serialize;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Name of the input field, as used in forms and JSON bodies.
    pub field: String,
    /// Stable message code, looked up as `validation.<code>` in the message catalog.
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            code,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}

/// All problems found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Runs a parse and records its error, returning the value when it is valid.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Trims the input and rejects empty or overlong text.
pub fn required_text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if t.chars().count() > max_chars {
        return Err(FieldError::new(field, "too_long"));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "control_chars"));
    }
    Ok(t.to_string())
}

/// Like [`required_text`], but an empty input is `None`.
pub fn optional_text(
    field: &str,
    input: &str,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        required_text(field, input, max_chars).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("name", "  Rathaus ", 10).unwrap(), "Rathaus");
        assert_eq!(
            required_text("name", "   ", 10).unwrap_err().code,
            "required"
        );
        assert_eq!(
            required_text("name", "abcdefghijk", 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            required_text("name", "a\u{0}b", 10).unwrap_err().code,
            "control_chars"
        );
        assert_eq!(optional_text("x", "", 3).unwrap(), None);
    }

    #[test]
    fn collects_all_errors() {
        let mut errs = ValidationErrors::new();
        assert!(errs.check(required_text("a", "", 5)).is_none());
        assert_eq!(
            errs.check(required_text("b", "ok", 5)).as_deref(),
            Some("ok")
        );
        assert!(errs.check(required_text("c", "", 5)).is_none());
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "c"]);
        assert!(errs.into_result().is_err());
    }
}
