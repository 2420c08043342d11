//! Message catalog: every user-facing text comes from `messages/<lang>.toml`.
//!
//! German is the primary language, English the second (Single Digital
//! Gateway). A test checks that both catalogs have exactly the same keys and
//! the same `{placeholders}`.

use std::{collections::HashMap, sync::OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// Name of the language in itself (for the language switch).
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }
}

type Catalog = HashMap<String, String>;

fn parse_catalog(src: &str) -> Catalog {
    fn walk(prefix: &str, v: &toml::Value, out: &mut Catalog) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => panic!("message {prefix} must be a string, is {other:?}"),
        }
    }
    let value: toml::Value = toml::from_str(src).expect("message catalog is valid TOML");
    let mut out = Catalog::new();
    walk("", &value, &mut out);
    out
}

fn catalogs() -> &'static [Catalog; 2] {
    static C: OnceLock<[Catalog; 2]> = OnceLock::new();
    C.get_or_init(|| {
        [
            parse_catalog(include_str!("../../messages/de.toml")),
            parse_catalog(include_str!("../../messages/en.toml")),
        ]
    })
}

/// Looks up `key`; a missing key shows itself (and fails the catalog test).
pub fn t(lang: Lang, key: &str) -> &'static str {
    let cat = &catalogs()[lang as usize];
    match cat.get(key) {
        Some(s) => s.as_str(),
        None => {
            tracing::warn!(key, lang = lang.code(), "missing message");
            Box::leak(key.to_string().into_boxed_str())
        }
    }
}

/// Whether the catalog has `key`.
pub fn has(lang: Lang, key: &str) -> bool {
    catalogs()[lang as usize].contains_key(key)
}

/// Like [`t`], with `{name}` placeholders replaced.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// Message for a validation error code of a field.
pub fn field_error(lang: Lang, field: &str, code: &str) -> String {
    let field_label_key = format!("field.{field}");
    let label = if catalogs()[lang as usize].contains_key(&field_label_key) {
        t(lang, &field_label_key)
    } else {
        field
    };
    tf(lang, &format!("validation.{code}"), &[("field", label)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(a, _)| a.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn catalogs_have_the_same_keys_and_placeholders() {
        let [de, en] = catalogs();
        let mut missing: Vec<_> = de.keys().filter(|k| !en.contains_key(*k)).collect();
        missing.extend(en.keys().filter(|k| !de.contains_key(*k)));
        assert!(missing.is_empty(), "keys in only one catalog: {missing:?}");
        for (k, v) in de {
            assert_eq!(
                placeholders(v),
                placeholders(&en[k]),
                "placeholders differ for {k}"
            );
            assert!(
                !v.trim().is_empty() && !en[k].trim().is_empty(),
                "empty message {k}"
            );
        }
    }

    #[test]
    fn every_domain_error_code_has_a_message() {
        for code in [
            "required",
            "too_long",
            "control_chars",
            "slug.invalid",
            "ags.format",
            "ags.land",
            "org_unit.kind",
            "org_unit.root_must_be_office",
            "org_unit.parent_level",
            "org_unit.parent_missing",
            "postal_code",
            "email.invalid",
            "role.unknown",
            "password.too_short",
            "password.trivial",
            "password.contains_email",
        ] {
            for lang in Lang::ALL {
                let key = format!("validation.{code}");
                assert!(
                    catalogs()[lang as usize].contains_key(&key),
                    "{key} missing in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,de;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, de;q=0.5, en;q=0.4"),
            Some(Lang::De)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, de;q=0.1"),
            Some(Lang::De)
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        assert_eq!(
            field_error(Lang::De, "email", "required"),
            "Bitte füllen Sie das Feld „E-Mail-Adresse“ aus."
        );
        assert_eq!(
            field_error(Lang::En, "email", "required"),
            "Please fill in the field “Email address”."
        );
    }
}
