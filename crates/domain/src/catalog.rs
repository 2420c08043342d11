//! Leistungskatalog: services (Leistungen), their content, and the editorial
//! workflow draft → in review → published (→ superseded), with four eyes.

use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, ValidationErrors, optional_text, required_text};

/// LeiKa-Schlüssel: 14 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeikaKey(String);

impl LeikaKey {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if s.len() == 14 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(FieldError::new("leika_key", "leika.format"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LeikaKey {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<LeikaKey> for String {
    fn from(k: LeikaKey) -> String {
        k.0
    }
}

/// Who a service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Audience {
    Citizen,
    Business,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Citizen, Audience::Business];

    pub fn code(self) -> &'static str {
        match self {
            Audience::Citizen => "citizen",
            Audience::Business => "business",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Self::ALL.into_iter().find(|a| a.code() == s.trim())
    }
}

/// URL slug of a service, topic or life situation.
pub fn parse_slug(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    let ok = (2..=80).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(field, "slug.invalid"))
    }
}

/// Turns a German name into a slug: "Wohnen und Meldewesen" → "wohnen-und-meldewesen".
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {
                if !out.ends_with('-') && !out.is_empty() {
                    out.push('-');
                }
            }
        }
    }
    out.trim_end_matches('-').to_string()
}

/// German text plus optional English translation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct I18nText {
    pub de: String,
    #[serde(default)]
    pub en: String,
}

impl I18nText {
    /// English if present, else German.
    pub fn get(&self, english: bool) -> &str {
        if english && !self.en.trim().is_empty() {
            &self.en
        } else {
            &self.de
        }
    }
}

/// OZG mapping of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OzgMapping {
    /// OZG-Leistung, e.g. "Gewerbeanmeldung".
    #[serde(default)]
    pub service: String,
    /// OZG-Themenfeld, e.g. "Unternehmensführung & -entwicklung".
    #[serde(default)]
    pub field: String,
}

/// Per-service privacy notice (Art. 13 DSGVO).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivacyNotice {
    #[serde(default)]
    pub personal_data: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub retention: String,
    #[serde(default)]
    pub contact: String,
}

/// Everything the Redaktion edits about a service: one version's content.
/// This is also the documented exchange format (`rathaus.catalog/1`), with
/// the responsible org unit given by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceContent {
    pub slug: String,
    pub leika_key: String,
    pub audience: Vec<Audience>,
    /// Name of the responsible org unit.
    pub org_unit: String,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub life_situations: Vec<String>,
    #[serde(default)]
    pub ozg: OzgMapping,
    /// Whether an online form exists (linked from the service page).
    #[serde(default)]
    pub online_form: bool,
    pub title: I18nText,
    pub summary: I18nText,
    #[serde(default)]
    pub full_text: String,
    #[serde(default)]
    pub required_documents: String,
    #[serde(default)]
    pub prerequisites: String,
    #[serde(default)]
    pub costs: String,
    #[serde(default)]
    pub deadlines: String,
    #[serde(default)]
    pub processing_time: String,
    /// Processing deadline in calendar days after receipt: a case's due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_days: Option<u32>,
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub privacy: PrivacyNotice,
}

/// Limits of the text modules.
const LONG: usize = 20_000;

impl ServiceContent {
    /// Checks every field and normalises whitespace; names each bad field.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        if let Some(s) = errs.check(parse_slug("slug", &self.slug)) {
            self.slug = s;
        }
        if let Some(k) = errs.check(LeikaKey::parse(&self.leika_key)) {
            self.leika_key = k.as_str().to_string();
        }
        if self.audience.is_empty() {
            errs.push(FieldError::new("audience", "audience.required"));
        }
        self.audience.sort();
        self.audience.dedup();
        errs.check(required_text("org_unit", &self.org_unit, 200));
        if let Some(t) = errs.check(required_text("title_de", &self.title.de, 200)) {
            self.title.de = t;
        }
        errs.check(optional_text("title_en", &self.title.en, 200));
        if let Some(t) = errs.check(required_text("summary_de", &self.summary.de, 1_000)) {
            self.summary.de = t;
        }
        errs.check(optional_text("summary_en", &self.summary.en, 1_000));
        for (field, value) in [
            ("full_text", &self.full_text),
            ("required_documents", &self.required_documents),
            ("prerequisites", &self.prerequisites),
            ("costs", &self.costs),
            ("deadlines", &self.deadlines),
            ("processing_time", &self.processing_time),
            ("procedure", &self.procedure),
            ("legal_basis", &self.legal_basis),
            ("notes", &self.notes),
            ("privacy_personal_data", &self.privacy.personal_data),
            ("privacy_purpose", &self.privacy.purpose),
            ("privacy_legal_basis", &self.privacy.legal_basis),
            ("privacy_retention", &self.privacy.retention),
            ("privacy_contact", &self.privacy.contact),
        ] {
            errs.check(optional_text(field, value, LONG));
        }
        for list in [&mut self.topics, &mut self.life_situations] {
            list.retain(|t| !t.trim().is_empty());
            for t in list.iter_mut() {
                *t = t.trim().to_string();
            }
            list.dedup();
        }
        errs.into_result()?;
        Ok(self)
    }

    /// The text modules in display order: (message key, text).
    pub fn sections(&self) -> [(&'static str, &str); 9] {
        [
            ("full_text", &self.full_text),
            ("required_documents", &self.required_documents),
            ("prerequisites", &self.prerequisites),
            ("costs", &self.costs),
            ("deadlines", &self.deadlines),
            ("processing_time", &self.processing_time),
            ("procedure", &self.procedure),
            ("legal_basis", &self.legal_basis),
            ("notes", &self.notes),
        ]
    }

    /// All searchable text except the title.
    pub fn body_text(&self) -> String {
        let mut s = String::new();
        for part in [&self.summary.de, &self.summary.en] {
            s.push_str(part);
            s.push('\n');
        }
        for (_, text) in self.sections() {
            s.push_str(text);
            s.push('\n');
        }
        s.push_str(&self.topics.join(" "));
        s.push(' ');
        s.push_str(&self.life_situations.join(" "));
        s.push(' ');
        s.push_str(&self.ozg.service);
        s
    }

    /// Field-by-field view for diffs: (field name, value).
    pub fn diff_fields(&self) -> Vec<(&'static str, String)> {
        let aud: Vec<&str> = self.audience.iter().map(|a| a.code()).collect();
        let mut v = vec![
            ("slug", self.slug.clone()),
            ("leika_key", self.leika_key.clone()),
            ("audience", aud.join(", ")),
            ("org_unit", self.org_unit.clone()),
            ("topics", self.topics.join(", ")),
            ("life_situations", self.life_situations.join(", ")),
            ("ozg_service", self.ozg.service.clone()),
            ("ozg_field", self.ozg.field.clone()),
            ("online_form", self.online_form.to_string()),
            ("title_de", self.title.de.clone()),
            ("title_en", self.title.en.clone()),
            ("summary_de", self.summary.de.clone()),
            ("summary_en", self.summary.en.clone()),
        ];
        for (k, t) in self.sections() {
            v.push((k, t.to_string()));
        }
        v.extend([
            ("privacy_personal_data", self.privacy.personal_data.clone()),
            ("privacy_purpose", self.privacy.purpose.clone()),
            ("privacy_legal_basis", self.privacy.legal_basis.clone()),
            ("privacy_retention", self.privacy.retention.clone()),
            ("privacy_contact", self.privacy.contact.clone()),
        ]);
        v
    }
}

/// One piece of a word diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DiffPart {
    Same(String),
    Removed(String),
    Added(String),
}

/// A changed field with its word diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub field: &'static str,
    pub parts: Vec<DiffPart>,
}

/// Readable word-level diff of two versions; unchanged fields are left out.
pub fn diff(old: &ServiceContent, new: &ServiceContent) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    for ((field, a), (_, b)) in old.diff_fields().into_iter().zip(new.diff_fields()) {
        if a == b {
            continue;
        }
        let d = similar::TextDiff::from_words(a.as_str(), b.as_str());
        let mut parts: Vec<DiffPart> = Vec::new();
        for change in d.iter_all_changes() {
            let text = change.value().to_string();
            let part = match change.tag() {
                similar::ChangeTag::Equal => DiffPart::Same(text),
                similar::ChangeTag::Delete => DiffPart::Removed(text),
                similar::ChangeTag::Insert => DiffPart::Added(text),
            };
            // Merge neighbours of the same kind for readability.
            match (parts.last_mut(), &part) {
                (Some(DiffPart::Same(s)), DiffPart::Same(t))
                | (Some(DiffPart::Removed(s)), DiffPart::Removed(t))
                | (Some(DiffPart::Added(s)), DiffPart::Added(t)) => s.push_str(t),
                _ => parts.push(part),
            }
        }
        out.push(FieldDiff { field, parts });
    }
    out
}

/// Status of one version of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    InReview,
    Published,
    /// Was published; a newer version replaced it.
    Superseded,
}

impl VersionStatus {
    pub const ALL: [VersionStatus; 4] = [
        Self::Draft,
        Self::InReview,
        Self::Published,
        Self::Superseded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }

    /// Draft and in review are "open": a service has at most one open version.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Draft | Self::InReview)
    }
}

/// What an editor does to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowAction {
    Edit,
    Submit,
    Approve,
    Reject,
}

/// Why a workflow step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the author of a change cannot approve it")]
    OwnApproval,
    #[error("this step is not possible in the version's current status")]
    WrongStatus,
}

impl WorkflowError {
    pub fn code(self) -> &'static str {
        match self {
            Self::OwnApproval => "workflow.own_approval",
            Self::WrongStatus => "workflow.wrong_status",
        }
    }
}

/// The four-eyes workflow: returns the status after `action` by `actor` on a
/// version in `status` whose content was last changed by `author`.
pub fn transition<U: PartialEq>(
    status: VersionStatus,
    action: WorkflowAction,
    actor: &U,
    author: &U,
) -> Result<VersionStatus, WorkflowError> {
    use VersionStatus::*;
    use WorkflowAction::*;
    match (status, action) {
        (Draft, Edit) => Ok(Draft),
        (Draft, Submit) => Ok(InReview),
        (InReview, Approve) if actor == author => Err(WorkflowError::OwnApproval),
        (InReview, Approve) => Ok(Published),
        (InReview, Reject) => Ok(Draft),
        _ => Err(WorkflowError::WrongStatus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample() -> ServiceContent {
        ServiceContent {
            slug: "hundesteuer-anmeldung".into(),
            leika_key: "99018001000000".into(),
            audience: vec![Audience::Citizen],
            org_unit: "Steueramt".into(),
            topics: vec!["Steuern und Abgaben".into()],
            title: I18nText {
                de: "Hundesteuer anmelden".into(),
                en: "Register a dog for tax".into(),
            },
            summary: I18nText {
                de: "Wer einen Hund hält, meldet ihn an.".into(),
                en: String::new(),
            },
            costs: "Keine Gebühr.".into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_fields() {
        let mut c = sample();
        c.slug = "Hunde Steuer".into();
        c.leika_key = "123".into();
        c.audience.clear();
        c.title.de = " ".into();
        let errs = c.validate().unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("slug", "slug.invalid"),
                ("leika_key", "leika.format"),
                ("audience", "audience.required"),
                ("title_de", "required")
            ]
        );
        assert!(sample().validate().is_ok());
    }

    #[test]
    fn slugify_german() {
        assert_eq!(slugify("Wohnen und Meldewesen"), "wohnen-und-meldewesen");
        assert_eq!(slugify("Straße & Grün!"), "strasse-gruen");
        assert_eq!(slugify("Behörde"), "behoerde");
    }

    #[test]
    fn diff_shows_changed_words_only() {
        let a = sample();
        let mut b = sample();
        b.costs = "45 EUR pro Jahr.".into();
        let d = diff(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "costs");
        let removed: String = d[0]
            .parts
            .iter()
            .filter_map(|p| match p {
                DiffPart::Removed(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let added: String = d[0]
            .parts
            .iter()
            .filter_map(|p| match p {
                DiffPart::Added(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            removed.contains("Keine") && removed.contains("Gebühr"),
            "{removed}"
        );
        assert!(
            added.contains("45") && added.contains("EUR") && !added.contains("Keine"),
            "{added}"
        );
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn four_eyes() {
        use VersionStatus::*;
        use WorkflowAction::*;
        assert_eq!(transition(Draft, Submit, &1, &1), Ok(InReview));
        assert_eq!(
            transition(InReview, Approve, &1, &1),
            Err(WorkflowError::OwnApproval)
        );
        assert_eq!(transition(InReview, Approve, &2, &1), Ok(Published));
        assert_eq!(transition(InReview, Reject, &2, &1), Ok(Draft));
        assert_eq!(
            transition(Published, Edit, &2, &1),
            Err(WorkflowError::WrongStatus)
        );
    }

    fn status() -> impl Strategy<Value = VersionStatus> {
        prop::sample::select(VersionStatus::ALL.to_vec())
    }

    fn action() -> impl Strategy<Value = WorkflowAction> {
        prop::sample::select(vec![
            WorkflowAction::Edit,
            WorkflowAction::Submit,
            WorkflowAction::Approve,
            WorkflowAction::Reject,
        ])
    }

    proptest! {
        #[test]
        fn nobody_publishes_their_own_change(s in status(), a in action(), who in 0u8..3) {
            prop_assert_ne!(transition(s, a, &who, &who), Ok(VersionStatus::Published));
        }

        #[test]
        fn only_review_leads_to_published(s in status(), a in action(), actor in 0u8..3, author in 0u8..3) {
            if transition(s, a, &actor, &author) == Ok(VersionStatus::Published) {
                prop_assert_eq!(s, VersionStatus::InReview);
                prop_assert_eq!(a, WorkflowAction::Approve);
                prop_assert_ne!(actor, author);
            }
        }

        #[test]
        fn published_and_superseded_versions_never_change(a in action(), actor in 0u8..3, author in 0u8..3) {
            prop_assert!(transition(VersionStatus::Published, a, &actor, &author).is_err());
            prop_assert!(transition(VersionStatus::Superseded, a, &actor, &author).is_err());
        }

        #[test]
        fn slugify_yields_valid_slugs(name in "[A-Za-zäöüß ]{2,40}") {
            let s = slugify(&name);
            if s.len() >= 2 {
                prop_assert!(parse_slug("slug", &s).is_ok(), "{}", s);
            }
        }
    }
}

/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most words in one search (each becomes several fuzzy terms).
pub const MAX_SEARCH_TERMS: usize = 12;

/// A search text within the limits: at most [`MAX_SEARCH_CHARS`] characters
/// and [`MAX_SEARCH_TERMS`] words, trimmed. Beyond them the search is refused
/// (`search.too_long`, `search.too_many_terms` on the field `q`), never cut
/// silently, so that a caller knows its words were not all used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(FieldError::new("q", "search.too_long"));
        }
        if text.split_whitespace().count() > MAX_SEARCH_TERMS {
            return Err(FieldError::new("q", "search.too_many_terms"));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod search_text_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_are_named() {
        assert_eq!(
            SearchText::parse("  Personalausweis  ").unwrap().as_str(),
            "Personalausweis"
        );
        let long = "a".repeat(MAX_SEARCH_CHARS + 1);
        assert_eq!(
            SearchText::parse(&long).unwrap_err().code,
            "search.too_long"
        );
        let many = ["wort"; MAX_SEARCH_TERMS + 1].join(" ");
        assert_eq!(
            SearchText::parse(&many).unwrap_err().code,
            "search.too_many_terms"
        );
        let enough = ["wort"; MAX_SEARCH_TERMS].join(" ");
        assert!(SearchText::parse(&enough).is_ok());
    }

    proptest! {
        #[test]
        fn accepted_texts_are_within_the_limits(raw in "\\PC{0,300}") {
            if let Ok(t) = SearchText::parse(&raw) {
                prop_assert!(t.as_str().chars().count() <= MAX_SEARCH_CHARS);
                prop_assert!(t.as_str().split_whitespace().count() <= MAX_SEARCH_TERMS);
            }
        }
    }
}
