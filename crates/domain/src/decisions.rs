//! Decisions (Bescheide): templates with placeholders, per service and
//! variant, filled from the case and the submitted form data.
//!
//! A template is plain text. `{{name}}` inserts a value of the case
//! (see [`PLACEHOLDERS`]); `{{feld.<path>}}` inserts a submitted value
//! (`{{feld.hunde[0].name}}`), shown as the applicant saw it (option labels,
//! German dates). Unknown placeholders are refused when the template is saved,
//! so a Bescheid never goes out with a hole in it. The text is data: the PDF
//! renderer never interprets it as markup.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::forms::{self, FormDefinition};

/// Approval (Bewilligung) or rejection (Ablehnung).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Approval,
    Rejection,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Approval, Variant::Rejection];

    pub fn code(self) -> &'static str {
        match self {
            Self::Approval => "approval",
            Self::Rejection => "rejection",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s.trim())
    }

    pub fn german_name(self) -> &'static str {
        match self {
            Self::Approval => "Bewilligung",
            Self::Rejection => "Ablehnung",
        }
    }
}

/// The named placeholders a template may use, with their German description
/// (shown in the template editor).
pub const PLACEHOLDERS: [(&str, &str); 10] = [
    (
        "aktenzeichen",
        "Aktenzeichen (Vorgangsnummer), z. B. MS-2026-000123",
    ),
    ("datum", "Datum des Bescheids"),
    ("eingang", "Eingangsdatum des Antrags"),
    ("leistung", "Name der Verwaltungsleistung"),
    ("behoerde", "Name der Kommune"),
    ("stelle", "Zuständige Organisationseinheit"),
    (
        "name",
        "Name der antragstellenden Person (aus dem Formular)",
    ),
    (
        "anschrift",
        "Anschrift der antragstellenden Person (aus dem Formular)",
    ),
    (
        "begruendung",
        "Begründung/Text, den die Sachbearbeitung beim Entscheiden eingibt",
    ),
    ("sachbearbeitung", "Name der entscheidenden Person"),
];

/// A placeholder the template may not use, or a `{{` without `}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{{{0}}}}}")]
    Unknown(String),
    #[error("placeholder opened with {{{{ but not closed with }}}} near {0:?}")]
    Unclosed(String),
    #[error("the field {0} is not part of the form")]
    UnknownField(String),
}

/// The placeholders of a template body, in order of appearance.
pub fn placeholders(body: &str) -> Result<Vec<String>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err(TemplateError::Unclosed(after.chars().take(20).collect()));
        };
        out.push(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    Ok(out)
}

/// Checks a template: only known placeholders; `feld.<path>` must name a
/// field of the form when one is given.
pub fn check(body: &str, form: Option<&FormDefinition>) -> Result<(), TemplateError> {
    for p in placeholders(body)? {
        if let Some(path) = p.strip_prefix("feld.") {
            if let Some(def) = form
                && forms::field_at(def, path).is_none()
            {
                return Err(TemplateError::UnknownField(path.to_string()));
            }
        } else if !PLACEHOLDERS.iter().any(|(n, _)| *n == p) {
            return Err(TemplateError::Unknown(p));
        }
    }
    Ok(())
}

/// What a template is filled from.
pub struct Context<'a> {
    /// Values of the named placeholders.
    pub named: HashMap<&'static str, String>,
    pub data: &'a Json,
    pub form: Option<&'a FormDefinition>,
}

/// Fills a template. A field the applicant left empty becomes an empty
/// string; unknown placeholders are an error (checked templates have none).
pub fn render(body: &str, ctx: &Context<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(body.len() + 64);
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err(TemplateError::Unclosed(after.chars().take(20).collect()));
        };
        let name = after[..j].trim();
        if let Some(path) = name.strip_prefix("feld.") {
            let field = ctx.form.and_then(|d| forms::field_at(d, path));
            if ctx.form.is_some() && field.is_none() {
                return Err(TemplateError::UnknownField(path.to_string()));
            }
            if let Some(v) = forms::value_at(ctx.data, path) {
                out.push_str(&forms::value_text_de(field, v));
            }
        } else {
            let key = PLACEHOLDERS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, _)| *n)
                .ok_or_else(|| TemplateError::Unknown(name.to_string()))?;
            out.push_str(ctx.named.get(key).map(String::as_str).unwrap_or(""));
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The applicant's name and address from the form data, found by the
/// fields' autocomplete tokens (the first of each, as for prefill).
pub fn applicant_from_form(form: &FormDefinition, data: &Json) -> (String, String) {
    fn walk(items: &[forms::Item], data: &Json, found: &mut HashMap<String, String>) {
        for item in items {
            match item {
                forms::Item::Field(f) => {
                    if let Some(t) = &f.autocomplete
                        && !found.contains_key(t)
                        && let Some(v) = data.get(&f.key).and_then(|v| v.as_str())
                        && !v.trim().is_empty()
                    {
                        found.insert(t.clone(), v.trim().to_string());
                    }
                }
                forms::Item::Group(g) => {
                    let inner = data.get(&g.key);
                    match inner {
                        Some(Json::Array(a)) => {
                            if let Some(first) = a.first() {
                                walk(&g.items, first, found);
                            }
                        }
                        Some(o @ Json::Object(_)) => walk(&g.items, o, found),
                        _ => {}
                    }
                }
            }
        }
    }
    let mut found = HashMap::new();
    for s in &form.steps {
        walk(&s.items, data, &mut found);
    }
    let get = |k: &str| found.get(k).cloned().unwrap_or_default();
    let name = if found.contains_key("name") {
        get("name")
    } else {
        format!("{} {}", get("given-name"), get("family-name"))
            .trim()
            .to_string()
    };
    let street = format!("{} {}", get("address-line1"), get("address-line2"))
        .trim()
        .to_string();
    let town = format!("{} {}", get("postal-code"), get("address-level2"))
        .trim()
        .to_string();
    let address = [street, town]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (name, address)
}

/// The first email address given in the form (a field of kind email or with
/// the `email` autocomplete token): where notifications go for applicants
/// without an account.
pub fn email_from_form(form: &FormDefinition, data: &Json) -> Option<String> {
    fn walk(items: &[forms::Item], data: &Json) -> Option<String> {
        for item in items {
            match item {
                forms::Item::Field(f) => {
                    let is_mail = f.kind == forms::FieldKind::Email
                        || f.autocomplete.as_deref() == Some("email");
                    if is_mail
                        && let Some(v) = data.get(&f.key).and_then(|v| v.as_str())
                        && crate::identity::Email::parse(v).is_ok()
                    {
                        return Some(v.trim().to_lowercase());
                    }
                }
                forms::Item::Group(g) => {
                    let found = match data.get(&g.key) {
                        Some(Json::Array(a)) => a.iter().find_map(|x| walk(&g.items, x)),
                        Some(o @ Json::Object(_)) => walk(&g.items, o),
                        _ => None,
                    };
                    if found.is_some() {
                        return found;
                    }
                }
            }
        }
        None
    }
    form.steps.iter().find_map(|s| walk(&s.items, data))
}

/// The built-in templates, used when neither the service nor the tenant has
/// its own: (title, body).
pub fn default_template(variant: Variant) -> (&'static str, &'static str) {
    match variant {
        Variant::Approval => (
            "Bescheid über Ihren Antrag: {{leistung}}",
            "Sehr geehrte Antragstellerin, sehr geehrter Antragsteller,\n\n\
             auf Ihren Antrag vom {{eingang}} (Aktenzeichen {{aktenzeichen}}) ergeht folgende Entscheidung:\n\n\
             Ihrem Antrag wird stattgegeben.\n\n\
             {{begruendung}}\n\n\
             Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe \
             Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur Niederschrift bei \
             {{behoerde}}, {{stelle}}, einzulegen.\n\n\
             Mit freundlichen Grüßen\n{{sachbearbeitung}}",
        ),
        Variant::Rejection => (
            "Ablehnungsbescheid: {{leistung}}",
            "Sehr geehrte Antragstellerin, sehr geehrter Antragsteller,\n\n\
             Ihr Antrag vom {{eingang}} (Aktenzeichen {{aktenzeichen}}) wird abgelehnt.\n\n\
             Begründung:\n{{begruendung}}\n\n\
             Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe \
             Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur Niederschrift bei \
             {{behoerde}}, {{stelle}}, einzulegen.\n\n\
             Mit freundlichen Grüßen\n{{sachbearbeitung}}",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn ctx(data: &Json) -> Context<'_> {
        Context {
            named: HashMap::from([
                ("aktenzeichen", "MS-2026-000001".to_string()),
                ("begruendung", "Alles vollständig.".to_string()),
            ]),
            data,
            form: None,
        }
    }

    #[test]
    fn fills_named_and_form_placeholders() {
        let data = json!({"hunde": [{"name": "Bello"}], "plz": "48143", "ok": true});
        let out = render(
            "Az. {{ aktenzeichen }}: {{feld.hunde[0].name}} in {{feld.plz}} ({{feld.ok}}); {{feld.fehlt}}.",
            &ctx(&data),
        )
        .unwrap();
        assert_eq!(out, "Az. MS-2026-000001: Bello in 48143 (Ja); .");
    }

    #[test]
    fn refuses_unknown_and_unclosed() {
        assert_eq!(
            check("Hallo {{vorname}}", None),
            Err(TemplateError::Unknown("vorname".into()))
        );
        assert!(matches!(
            check("Hallo {{name", None),
            Err(TemplateError::Unclosed(_))
        ));
        for v in Variant::ALL {
            let (title, body) = default_template(v);
            check(title, None).unwrap();
            check(body, None).unwrap();
        }
    }

    #[test]
    fn variants_round_trip() {
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.code()), Some(v));
        }
        assert_eq!(Variant::parse("maybe"), None);
    }

    proptest! {
        /// Text without placeholders is returned unchanged; rendering never
        /// panics on any input.
        #[test]
        fn plain_text_unchanged(s in "[^{}]{0,200}") {
            let data = json!({});
            prop_assert_eq!(render(&s, &ctx(&data)).unwrap(), s);
        }

        #[test]
        fn never_panics(s in ".{0,200}") {
            let data = json!({"a": [1, {"b": null}]});
            let _ = render(&s, &ctx(&data));
            let _ = placeholders(&s);
        }

        /// Values are inserted verbatim: a value that looks like a
        /// placeholder is not expanded again.
        #[test]
        fn values_are_not_expanded(v in ".{0,40}") {
            let data = json!({"x": v.clone()});
            prop_assert_eq!(render("{{feld.x}}", &ctx(&data)).unwrap(), v);
        }
    }
}
