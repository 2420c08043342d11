//! Tenants (municipalities) and their organisation: org units as a tree.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// URL-safe, lowercase identifier of a tenant, e.g. `musterstadt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    pub const FIELD: &'static str = "slug";

    /// 2 to 40 characters of `a-z`, `0-9` and inner hyphens.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if s.len() < 2 || s.len() > 40 || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(FieldError::new(Self::FIELD, "slug.invalid"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantSlug {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<TenantSlug> for String {
    fn from(s: TenantSlug) -> String {
        s.0
    }
}

impl std::fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Amtlicher Gemeindeschlüssel: 8 digits, the first two name the Land (01–16).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ags(String);

impl Ags {
    pub const FIELD: &'static str = "ags";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if s.len() != 8 || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(Self::FIELD, "ags.format"));
        }
        let land: u8 = s[..2].parse().unwrap_or(0);
        if !(1..=16).contains(&land) {
            return Err(FieldError::new(Self::FIELD, "ags.land"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Two-digit Land code (01 Schleswig-Holstein … 16 Thüringen).
    pub fn land_code(&self) -> &str {
        &self.0[..2]
    }
}

impl TryFrom<String> for Ags {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<Ags> for String {
    fn from(a: Ags) -> String {
        a.0
    }
}

impl std::fmt::Display for Ags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Level of an org unit in the Amt → Abteilung → Sachgebiet hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    /// Amt (office), the top level below the administration.
    Office,
    /// Abteilung (department).
    Department,
    /// Sachgebiet (section), the smallest unit.
    Section,
}

impl OrgUnitKind {
    pub const ALL: [OrgUnitKind; 3] = [Self::Office, Self::Department, Self::Section];

    pub fn code(self) -> &'static str {
        match self {
            Self::Office => "office",
            Self::Department => "department",
            Self::Section => "section",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == input.trim())
            .ok_or_else(|| FieldError::new("kind", "org_unit.kind"))
    }

    fn depth(self) -> u8 {
        match self {
            Self::Office => 0,
            Self::Department => 1,
            Self::Section => 2,
        }
    }

    /// Whether a unit of this kind may sit directly below `parent`
    /// (`None`: at the root of the tenant).
    pub fn may_sit_below(self, parent: Option<OrgUnitKind>) -> bool {
        match parent {
            None => self == Self::Office,
            Some(p) => self.depth() > p.depth(),
        }
    }
}

/// Checks the placement of a new org unit in the tree.
pub fn check_org_unit_placement(
    kind: OrgUnitKind,
    parent: Option<OrgUnitKind>,
) -> Result<(), FieldError> {
    if kind.may_sit_below(parent) {
        Ok(())
    } else if parent.is_none() {
        Err(FieldError::new("parent_id", "org_unit.root_must_be_office"))
    } else {
        Err(FieldError::new("parent_id", "org_unit.parent_level"))
    }
}

/// Postal code (Postleitzahl): five digits.
pub fn parse_postal_code(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.len() == 5 && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(field, "postal_code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ags_examples() {
        assert_eq!(Ags::parse("09 162 000").unwrap().as_str(), "09162000");
        assert_eq!(Ags::parse("09162000").unwrap().land_code(), "09");
        assert_eq!(Ags::parse("1234567").unwrap_err().code, "ags.format");
        assert_eq!(Ags::parse("17000000").unwrap_err().code, "ags.land");
        assert_eq!(Ags::parse("00000000").unwrap_err().code, "ags.land");
    }

    #[test]
    fn slug_examples() {
        assert!(TenantSlug::parse("musterstadt").is_ok());
        assert!(TenantSlug::parse("bad-neustadt-2").is_ok());
        for bad in ["", "a", "Muster", "-x", "x-", "mit leer", "ümlaut"] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn hierarchy() {
        use OrgUnitKind::*;
        assert!(check_org_unit_placement(Office, None).is_ok());
        assert!(check_org_unit_placement(Department, Some(Office)).is_ok());
        assert!(check_org_unit_placement(Section, Some(Office)).is_ok());
        assert!(check_org_unit_placement(Section, Some(Department)).is_ok());
        assert_eq!(
            check_org_unit_placement(Section, None).unwrap_err().code,
            "org_unit.root_must_be_office"
        );
        assert!(check_org_unit_placement(Office, Some(Section)).is_err());
        assert!(check_org_unit_placement(Department, Some(Department)).is_err());
    }

    proptest! {
        #[test]
        fn slug_parse_roundtrips(s in "[a-z0-9][a-z0-9-]{0,38}[a-z0-9]") {
            let slug = TenantSlug::parse(&s).unwrap();
            prop_assert_eq!(TenantSlug::parse(slug.as_str()).unwrap(), slug);
        }

        #[test]
        fn slug_never_accepts_uppercase(s in ".*[A-Z].*") {
            prop_assert!(TenantSlug::parse(&s).is_err());
        }

        #[test]
        fn ags_accepts_exactly_valid_land_codes(land in 0u8..100, rest in 0u32..1_000_000) {
            let s = format!("{land:02}{rest:06}");
            prop_assert_eq!(Ags::parse(&s).is_ok(), (1..=16).contains(&land));
        }

        #[test]
        fn a_unit_never_sits_below_its_own_level(k in 0usize..3) {
            let kind = OrgUnitKind::ALL[k];
            prop_assert!(!kind.may_sit_below(Some(kind)));
        }
    }
}

/// Identifier of a tenant. Every tenant-owned query takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub uuid::Uuid);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
