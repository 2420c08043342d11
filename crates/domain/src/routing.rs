//! Routing (Zuständigkeitsprüfung): which org unit receives an application.
//!
//! Per service: an ordered list of rules `field matches pattern → org unit`,
//! then the service's responsible org unit, then the tenant's central intake.
//! A pattern is a list of values separated by commas or spaces; a value
//! ending in `*` matches as a prefix (`481*` for all postal codes 481xx),
//! `a-b` is an inclusive numeric range of equal length (`48143-48167`).
//! Values are compared after trimming, case-insensitively.

use serde_json::Value as Json;

use crate::{FieldError, forms};

/// One routing rule (the org unit as an opaque id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<U> {
    /// Data path of the form value (`plz`, `betrieb.ags`).
    pub field: String,
    pub pattern: String,
    pub target: U,
}

/// Checks a pattern when a rule is saved.
pub fn check_pattern(pattern: &str) -> Result<(), FieldError> {
    let parts = parts(pattern);
    if parts.is_empty() {
        return Err(FieldError::new("pattern", "routing.empty"));
    }
    for p in parts {
        if let Some((a, b)) = p.split_once('-') {
            let ok = !a.is_empty()
                && a.len() == b.len()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
                && a <= b;
            if !ok {
                return Err(FieldError::new("pattern", "routing.range"));
            }
        } else if p == "*" {
            return Err(FieldError::new("pattern", "routing.everything"));
        }
    }
    Ok(())
}

fn parts(pattern: &str) -> Vec<&str> {
    pattern
        .split([',', ' ', '\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether a value matches a pattern.
pub fn matches(pattern: &str, value: &str) -> bool {
    let value = value.trim().to_lowercase();
    if value.is_empty() {
        return false;
    }
    parts(pattern).into_iter().any(|p| {
        let p = p.to_lowercase();
        if let Some(prefix) = p.strip_suffix('*') {
            !prefix.is_empty() && value.starts_with(prefix)
        } else if let Some((a, b)) = p.split_once('-')
            && a.len() == b.len()
            && a.len() == value.len()
            && value.chars().all(|c| c.is_ascii_digit())
        {
            a <= value.as_str() && value.as_str() <= b
        } else {
            p == value
        }
    })
}

/// The target of the first rule whose form value matches.
pub fn route<'r, U>(rules: &'r [Rule<U>], data: &Json) -> Option<&'r U> {
    rules.iter().find_map(|r| {
        let v = forms::value_at(data, &r.field)?;
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            _ => return None,
        };
        matches(&r.pattern, &text).then_some(&r.target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn prefixes_ranges_and_lists() {
        assert!(matches("481*", "48143"));
        assert!(!matches("481*", "49143"));
        assert!(matches("48143-48167", "48150"));
        assert!(!matches("48143-48167", "48168"));
        assert!(!matches("48143-48167", "4815"));
        assert!(matches("05515000, 05515001", "05515001"));
        assert!(matches("Münster", " münster "));
        assert!(!matches("481*", ""));
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = vec![
            Rule {
                field: "betrieb.plz".into(),
                pattern: "48143-48155".into(),
                target: "mitte",
            },
            Rule {
                field: "betrieb.plz".into(),
                pattern: "481*".into(),
                target: "land",
            },
        ];
        assert_eq!(
            route(&rules, &json!({"betrieb": {"plz": "48150"}})),
            Some(&"mitte")
        );
        assert_eq!(
            route(&rules, &json!({"betrieb": {"plz": "48161"}})),
            Some(&"land")
        );
        assert_eq!(route(&rules, &json!({"betrieb": {"plz": "10115"}})), None);
        assert_eq!(route(&rules, &json!({})), None);
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_pattern("481*, 48200-48299").is_ok());
        assert_eq!(check_pattern(" , ").unwrap_err().code, "routing.empty");
        assert_eq!(
            check_pattern("48200-4829").unwrap_err().code,
            "routing.range"
        );
        assert_eq!(check_pattern("*").unwrap_err().code, "routing.everything");
    }

    proptest! {
        #[test]
        fn a_value_matches_itself_and_its_prefix(v in "[0-9]{5}") {
            prop_assert!(matches(&v, &v));
            let prefix = format!("{}*", &v[..2]);
            prop_assert!(matches(&prefix, &v));
            let range = format!("{v}-{v}");
            prop_assert!(matches(&range, &v));
        }

        #[test]
        fn never_panics(p in ".{0,40}", v in ".{0,20}") {
            let _ = matches(&p, &v);
            let _ = check_pattern(&p);
        }
    }
}
