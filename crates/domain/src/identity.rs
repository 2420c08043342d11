//! Staff identity: email addresses, roles and password rules.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// A normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const FIELD: &'static str = "email";

    /// Accepts `local@domain.tld` with a dot in the domain, at most 254 characters.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_field(Self::FIELD, input)
    }

    pub fn parse_field(field: &str, input: &str) -> Result<Self, FieldError> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Self(s))
        } else {
            Err(FieldError::new(field, "email.invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Staff roles. They are granted per org unit (see PRODUCT.md, roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Redaktion: maintains service descriptions and forms.
    Editor,
    /// Sachbearbeitung: works the cases of the org unit.
    Clerk,
    /// Fachadministration: org units, users, roles, fees, templates.
    TenantAdmin,
    /// Steuerung: dashboards and monitoring, read-only.
    Management,
    /// Plattformbetrieb: tenants, configuration, backups.
    Operator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Editor,
        Self::Clerk,
        Self::TenantAdmin,
        Self::Management,
        Self::Operator,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Clerk => "clerk",
            Self::TenantAdmin => "tenant_admin",
            Self::Management => "management",
            Self::Operator => "operator",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s || r.german_name().to_lowercase() == s)
            .ok_or_else(|| FieldError::new("role", "role.unknown"))
    }

    /// The German name used in municipal administration.
    pub fn german_name(self) -> &'static str {
        match self {
            Self::Editor => "Redaktion",
            Self::Clerk => "Sachbearbeitung",
            Self::TenantAdmin => "Fachadministration",
            Self::Management => "Steuerung",
            Self::Operator => "Plattformbetrieb",
        }
    }

    /// Whether the role may change data at all (Steuerung is read-only).
    pub fn may_write(self) -> bool {
        !matches!(self, Self::Management)
    }
}

/// Minimum length of a staff password set outside demo mode.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new password must have at least 12 characters and must not be only one
/// repeated character; it must not contain the account's email address.
pub fn check_new_password(password: &str, email: &Email) -> Result<(), FieldError> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new("password", "password.too_short"));
    }
    if chars.len() > 1024 {
        return Err(FieldError::new("password", "too_long"));
    }
    if chars.iter().all(|c| *c == chars[0]) {
        return Err(FieldError::new("password", "password.trivial"));
    }
    let local = email.as_str().split('@').next().unwrap_or_default();
    if local.len() >= 4 && password.to_lowercase().contains(local) {
        return Err(FieldError::new("password", "password.contains_email"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_examples() {
        assert_eq!(
            Email::parse("  Redaktion@Musterstadt.Example ")
                .unwrap()
                .as_str(),
            "redaktion@musterstadt.example"
        );
        for bad in [
            "", "a", "a@b", "@b.de", "a@.de", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(Email::parse("").unwrap_err().code, "required");
        assert_eq!(Email::parse("x").unwrap_err().code, "email.invalid");
    }

    #[test]
    fn roles_parse_by_code_and_german_name() {
        assert_eq!(Role::parse("Sachbearbeitung").unwrap(), Role::Clerk);
        assert_eq!(Role::parse("tenant_admin").unwrap(), Role::TenantAdmin);
        assert!(Role::parse("chef").is_err());
        assert!(!Role::Management.may_write());
    }

    #[test]
    fn password_rules() {
        let e = Email::parse("anna.schmidt@musterstadt.example").unwrap();
        assert_eq!(
            check_new_password("kurz", &e).unwrap_err().code,
            "password.too_short"
        );
        assert_eq!(
            check_new_password("aaaaaaaaaaaaaa", &e).unwrap_err().code,
            "password.trivial"
        );
        assert_eq!(
            check_new_password("xxANNA.SCHMIDTxx", &e).unwrap_err().code,
            "password.contains_email"
        );
        assert!(check_new_password("Rathaus-Ampel-2026", &e).is_ok());
    }

    proptest! {
        #[test]
        fn email_parse_is_idempotent(local in "[a-zA-Z0-9._+-]{1,20}", dom in "[a-z0-9-]{1,20}", tld in "[a-z]{2,6}") {
            let raw = format!("{local}@{dom}.{tld}");
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            prop_assert_eq!(e.as_str(), raw.to_lowercase());
        }

        #[test]
        fn role_code_roundtrips(i in 0usize..5) {
            let r = Role::ALL[i];
            prop_assert_eq!(Role::parse(r.code()).unwrap(), r);
            prop_assert_eq!(Role::parse(r.german_name()).unwrap(), r);
        }

        #[test]
        fn short_passwords_are_refused(p in ".{0,11}") {
            let e = Email::parse("x@y.de").unwrap();
            prop_assert!(check_new_password(&p, &e).is_err());
        }
    }
}
