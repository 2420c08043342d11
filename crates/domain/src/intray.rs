//! The electronic in-tray (Posteingang) of the e-file: staff upload incoming
//! mail (PDF, images, `.eml`), its text is extracted elsewhere, and this
//! module proposes where each item goes:
//! 1. application references found in the text (`MS-2026-000123`, also as
//!    part of a file number `32.10.05-MS-2026-000123`): the item belongs to
//!    that case — the most specific proposal;
//! 2. the tenant's routing rules (sender and keywords → case, org unit or
//!    file-plan node), by priority.
//!
//! The learned proposals of [`crate::classifier`] come on top, mapped to
//! targets by the caller. No I/O.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FieldError;
use crate::applications::Reference;
use crate::records::PlanCode;

/// Longest rule name (characters).
pub const MAX_RULE_NAME_CHARS: usize = 120;
/// Most keywords of one rule.
pub const MAX_KEYWORDS: usize = 20;
/// Longest keyword (characters).
pub const MAX_KEYWORD_CHARS: usize = 60;
/// Longest sender pattern (characters; the longest e-mail address).
pub const MAX_SENDER_CHARS: usize = 254;
/// Most references [`find_references`] returns for one text.
pub const MAX_REFERENCES: usize = 50;

/// Where an incoming item may go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteTarget {
    /// Into the file of an application (`MS-2026-000123`).
    Case { reference: String },
    /// To an org unit's in-tray.
    OrgUnit { id: Uuid },
    /// Into the file-plan node (`32.10.05`).
    PlanNode { code: String },
}

impl RouteTarget {
    /// The same target in canonical spelling (references upper case, codes
    /// trimmed), so equal targets compare equal.
    fn canonical(&self) -> RouteTarget {
        match self {
            Self::Case { reference } => Self::Case {
                reference: Reference::parse(reference)
                    .map_or_else(|| reference.trim().to_string(), |r| r.to_string()),
            },
            Self::OrgUnit { id } => Self::OrgUnit { id: *id },
            Self::PlanNode { code } => Self::PlanNode {
                code: code.trim().to_string(),
            },
        }
    }
}

/// A routing rule of a tenant: when the sender and all keywords match, the
/// item goes to the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub id: Uuid,
    pub name: String,
    /// Higher first.
    pub priority: i32,
    /// Case-insensitive: `@example.org` matches an address at that domain or
    /// a subdomain (`a@example.org`, `Name <a@post.example.org>`); anything
    /// else matches as a substring of the sender (`finanzamt`).
    pub sender: Option<String>,
    /// Words or phrases that must all occur in the subject or text:
    /// case-insensitive, whole words (`Hund` does not match `Hundesteuer`),
    /// `ä`/`ae`, `ö`/`oe`, `ü`/`ue`, `ß`/`ss` alike, punctuation and spaces
    /// between the words of a phrase alike (`Bewohner-Parken`).
    pub keywords: Vec<String>,
    pub target: RouteTarget,
}

impl RoutingRule {
    /// Checks a rule before it is saved. Codes (field):
    /// - `intray.rule_name` (`name`): 1 to 120 characters, no control characters;
    /// - `intray.rule_sender` (`sender`): 1 to 254 characters; `@domain` with a domain;
    /// - `intray.rule_keywords` (`keywords`): more than 20 keywords;
    /// - `intray.rule_keyword` (`keywords`): a keyword empty, without a letter
    ///   or digit, or longer than 60 characters;
    /// - `intray.rule_empty` (`keywords`): neither sender nor keywords;
    /// - `intray.rule_reference` (`target`): a case target that is no reference;
    /// - `intray.rule_plan_code` (`target`): a plan-node target that is no plan code.
    pub fn check(&self) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_RULE_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(FieldError::new("name", "intray.rule_name"));
        }
        if let Some(sender) = &self.sender {
            let s = sender.trim();
            let bad_domain = s.strip_prefix('@').is_some_and(|d| {
                d.is_empty() || d.contains('@') || d.chars().any(char::is_whitespace)
            });
            if s.is_empty()
                || s.chars().count() > MAX_SENDER_CHARS
                || s.chars().any(char::is_control)
                || bad_domain
            {
                return Err(FieldError::new("sender", "intray.rule_sender"));
            }
        }
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(FieldError::new("keywords", "intray.rule_keywords"));
        }
        for k in &self.keywords {
            if k.trim().chars().count() > MAX_KEYWORD_CHARS
                || k.chars().any(char::is_control)
                || folded_words(k).is_empty()
            {
                return Err(FieldError::new("keywords", "intray.rule_keyword"));
            }
        }
        if self.sender.is_none() && self.keywords.is_empty() {
            return Err(FieldError::new("keywords", "intray.rule_empty"));
        }
        match &self.target {
            RouteTarget::Case { reference } if Reference::parse(reference).is_none() => {
                Err(FieldError::new("target", "intray.rule_reference"))
            }
            RouteTarget::PlanNode { code } if PlanCode::parse(code).is_err() => {
                Err(FieldError::new("target", "intray.rule_plan_code"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the rule matches an item. A rule without conditions matches
    /// nothing.
    pub fn matches(&self, facts: &MailFacts) -> bool {
        self.matches_in(facts, &Haystack::of(facts))
    }

    fn matches_in(&self, facts: &MailFacts, hay: &Haystack) -> bool {
        if self.sender.is_none() && self.keywords.is_empty() {
            return false;
        }
        let sender_ok = match (&self.sender, &facts.sender) {
            (None, _) => true,
            (Some(pattern), Some(sender)) => sender_matches(pattern, sender),
            (Some(_), None) => false,
        };
        sender_ok && self.keywords.iter().all(|k| hay.contains_phrase(k))
    }
}

/// What is known about an incoming item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFacts {
    /// The sender as given (`Name <a@example.org>`, an address or a name).
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// The extracted text.
    pub text: String,
}

/// Why a target is proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProposalSource {
    /// An application reference in the item.
    Reference,
    /// A routing rule matched.
    Rule { id: Uuid, name: String },
}

/// A proposed target for an incoming item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub target: RouteTarget,
    pub source: ProposalSource,
    /// What matched, for display (no sentences, the web layer words them):
    /// the reference found, or the rule's sender pattern and keywords.
    pub evidence: Vec<String>,
}

/// Proposes targets for an item, best first: a case for each reference
/// (those that are no reference are skipped), then the matching rules by
/// priority (highest first), then name, then id. A target appears once, with
/// its first reason.
pub fn propose(rules: &[RoutingRule], facts: &MailFacts, references: &[String]) -> Vec<Proposal> {
    let mut out: Vec<Proposal> = Vec::new();
    let mut push = |p: Proposal| {
        if !out.iter().any(|q| q.target == p.target) {
            out.push(p);
        }
    };
    for r in references.iter().filter_map(|r| Reference::parse(r)) {
        let reference = r.to_string();
        push(Proposal {
            target: RouteTarget::Case {
                reference: reference.clone(),
            },
            source: ProposalSource::Reference,
            evidence: vec![reference],
        });
    }
    let hay = Haystack::of(facts);
    let mut matching: Vec<&RoutingRule> =
        rules.iter().filter(|r| r.matches_in(facts, &hay)).collect();
    matching.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    for rule in matching {
        push(Proposal {
            target: rule.target.canonical(),
            source: ProposalSource::Rule {
                id: rule.id,
                name: rule.name.clone(),
            },
            evidence: rule
                .sender
                .iter()
                .chain(&rule.keywords)
                .map(|s| s.trim().to_string())
                .collect(),
        });
    }
    out
}

// ---------------------------------------------------------------------------
// References

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        # After Az. / Aktenzeichen / Vorgangsnummer: also spaces or slashes.
        \b(?i:az\b\.?|aktenzeichen\b|vorgangsnummer\b|vorgangs-nr\b\.?)[\s:]*
            ([A-Za-z]{2,6})[\s/-]([0-9]{4})[\s/-]([0-9]{6,18})\b
        # Anywhere: PREFIX-YEAR-NUMBER, also after a plan code (32.10.05-…).
        | \b([A-Za-z]{2,6})-([0-9]{4})-([0-9]{6,18})\b
        ",
    )
    .expect("the reference pattern compiles")
});

/// The application references in a text, in canonical spelling
/// (`MS-2026-000123`), each once, in order of appearance, at most
/// [`MAX_REFERENCES`].
///
/// Found are `PREFIX-YEAR-NUMBER` (2–6 letters, a 4-digit year, at least 6
/// digits; any case) as a word of its own or after a file-plan code
/// (`32.10.05-MS-2026-000123`, the file number), and after `Az.`,
/// `Aktenzeichen`, `Vorgangsnummer` or `Vorgangs-Nr.` also with spaces or
/// slashes (`Az. MS 2026 000123`). Only what [`Reference::parse`] accepts is
/// returned.
pub fn find_references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in REFERENCE.captures_iter(text) {
        let part = |a: usize, b: usize| c.get(a).or_else(|| c.get(b)).map_or("", |m| m.as_str());
        let candidate = format!("{}-{}-{}", part(1, 4), part(2, 5), part(3, 6));
        if let Some(r) = Reference::parse(&candidate) {
            let r = r.to_string();
            if !out.contains(&r) {
                out.push(r);
                if out.len() == MAX_REFERENCES {
                    break;
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Matching

/// The words of a text for keyword matching: lowercase runs of letters and
/// digits with umlauts and ß folded (`ä` → `ae`, `ß` → `ss`; a decomposed
/// umlaut too); combining accents and soft hyphens do not split a word.
fn folded_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                match l {
                    'ä' => word.push_str("ae"),
                    'ö' => word.push_str("oe"),
                    'ü' => word.push_str("ue"),
                    'ß' => word.push_str("ss"),
                    _ => word.push(l),
                }
            }
        } else if c == '\u{308}' && matches!(word.chars().last(), Some('a' | 'o' | 'u')) {
            word.push('e');
        } else if matches!(c, '\u{300}'..='\u{36f}' | '\u{ad}') && !word.is_empty() {
            // A combining accent or a soft hyphen inside a word.
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Subject and text as words, with the positions of each word.
struct Haystack {
    words: Vec<String>,
    at: HashMap<String, Vec<usize>>,
}

impl Haystack {
    fn of(facts: &MailFacts) -> Haystack {
        let mut words = folded_words(facts.subject.as_deref().unwrap_or(""));
        words.extend(folded_words(&facts.text));
        let mut at: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, w) in words.iter().enumerate() {
            at.entry(w.clone()).or_default().push(i);
        }
        Haystack { words, at }
    }

    /// Whether the words of a phrase occur one after another.
    fn contains_phrase(&self, phrase: &str) -> bool {
        let needle = folded_words(phrase);
        let Some(first) = needle.first() else {
            return false;
        };
        self.at.get(first).is_some_and(|starts| {
            starts.iter().any(|&s| {
                self.words
                    .get(s..s + needle.len())
                    .is_some_and(|window| window == needle.as_slice())
            })
        })
    }
}

/// Whether a sender matches a rule's sender pattern (see
/// [`RoutingRule::sender`]).
fn sender_matches(pattern: &str, sender: &str) -> bool {
    let pattern = pattern.trim().to_lowercase();
    let sender = sender.trim().to_lowercase();
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix('@') {
        Some(domain) => {
            // The address in angle brackets, else the whole sender.
            let address = sender
                .rsplit_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
                .map_or(sender.as_str(), |(address, _)| address)
                .trim();
            let Some((_, host)) = address.rsplit_once('@') else {
                return false;
            };
            !domain.is_empty()
                && (host == domain
                    || host
                        .strip_suffix(domain)
                        .is_some_and(|sub| sub.ends_with('.')))
        }
        None => sender.contains(&pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(
        name: &str,
        priority: i32,
        sender: Option<&str>,
        keywords: &[&str],
        target: RouteTarget,
    ) -> RoutingRule {
        RoutingRule {
            id: Uuid::from_u128(name.len() as u128 + priority as u128 * 1000),
            name: name.into(),
            priority,
            sender: sender.map(Into::into),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            target,
        }
    }

    fn unit(n: u128) -> RouteTarget {
        RouteTarget::OrgUnit {
            id: Uuid::from_u128(n),
        }
    }

    fn facts(sender: Option<&str>, subject: Option<&str>, text: &str) -> MailFacts {
        MailFacts {
            sender: sender.map(Into::into),
            subject: subject.map(Into::into),
            text: text.into(),
        }
    }

    #[test]
    fn finds_references() {
        assert_eq!(
            find_references(
                "Ihr Schreiben vom 3. März, Az. MS-2026-000123; unser Zeichen \
                 32.10.05-MS-2026-000124. Nochmals ms-2026-000123 und (ND-2025-1234567)."
            ),
            ["MS-2026-000123", "MS-2026-000124", "ND-2025-1234567"]
        );
        assert_eq!(
            find_references("Aktenzeichen: ms 2026 000042, Vorgangsnummer MS/2026/000043"),
            ["MS-2026-000042", "MS-2026-000043"]
        );
        assert_eq!(
            find_references("Datei MS-2026-000001.pdf"),
            ["MS-2026-000001"]
        );
        assert_eq!(
            find_references("32.10.05/MS-2026-000009"),
            ["MS-2026-000009"]
        );
        // A prefix that begins like the label "Az" is no label (found by
        // the proptest below).
        assert_eq!(find_references(" azaa-2000-000001 ;"), ["AZAA-2000-000001"]);
        for none in [
            "",
            "MS-26-000123",
            "MS-2026-00012",
            "MS-2026-000000",
            "M-2026-000123",
            "ABCDEFG-2026-000123",
            "XMS2026-000123",
            "MS-2026-000123x",
            "MS-1999-000123",
            "ÄMS-2026-000123",
            "MS 2026 000123",
            "Telefon 2026-000123",
            "MS-2026-1234567890123456789",
        ] {
            assert!(find_references(none).is_empty(), "{none:?}");
        }
        let many: String = (1..=80).map(|i| format!("MS-2026-{i:06} ")).collect();
        assert_eq!(find_references(&many).len(), MAX_REFERENCES);
    }

    #[test]
    fn senders_match_by_domain_or_substring() {
        assert!(sender_matches(
            "@stadt-ms.de",
            "Max Muster <Max@Stadt-MS.de>"
        ));
        assert!(sender_matches("@stadt-ms.de", "a@post.stadt-ms.de"));
        assert!(!sender_matches("@stadt-ms.de", "a@evilstadt-ms.de"));
        assert!(!sender_matches("@stadt-ms.de", "stadt-ms.de"));
        assert!(!sender_matches("@stadt-ms.de", "a@stadt-ms.de.evil.org"));
        assert!(sender_matches("Finanzamt", "poststelle@finanzamt.nrw.de"));
        assert!(sender_matches(" GmbH ", "Muster gmbh <info@muster.de>"));
        assert!(!sender_matches("", "x"));
        assert!(!sender_matches("@", "x@"));
    }

    #[test]
    fn keywords_match_whole_words_and_umlauts() {
        let f = facts(
            None,
            Some("Antrag Bewohner-Parken"),
            "Die GEBUEHREN für den Hund. Straße: Am Hof; Grüße",
        );
        let hay = Haystack::of(&f);
        assert!(hay.contains_phrase("hund"));
        assert!(hay.contains_phrase("Gebühren"));
        assert!(hay.contains_phrase("strasse"));
        assert!(hay.contains_phrase("Bewohner Parken"));
        assert!(hay.contains_phrase("bewohner-parken"));
        assert!(
            hay.contains_phrase("Parken Die"),
            "subject and text are one sequence"
        );
        assert!(hay.contains_phrase("gru\u{308}ße"));
        assert!(!hay.contains_phrase("Hundesteuer"));
        assert!(!hay.contains_phrase("Hun"));
        assert!(!hay.contains_phrase("Parken Bewohner"));
        assert!(!hay.contains_phrase(" - "));
        let r = rule("Hund", 0, None, &["hund", "gebühren"], unit(1));
        assert!(r.matches(&f));
        let r = rule("Hund", 0, None, &["hund", "katze"], unit(1));
        assert!(!r.matches(&f), "all keywords must occur");
        let r = rule("Sender", 0, Some("@x.de"), &["hund"], unit(1));
        assert!(!r.matches(&f), "no sender, no match");
        assert!(r.matches(&MailFacts {
            sender: Some("a@x.de".into()),
            ..f.clone()
        }));
        let r = rule("Leer", 0, None, &[], unit(1));
        assert!(!r.matches(&f));
    }

    #[test]
    fn rules_are_checked() {
        let ok = rule("Hundesteuer", 10, None, &["Hundesteuer"], unit(1));
        assert_eq!(ok.check(), Ok(()));
        let code = |r: RoutingRule| r.check().unwrap_err().code;
        let field = |r: RoutingRule| r.check().unwrap_err().field;
        assert_eq!(
            code(RoutingRule {
                name: " ".into(),
                ..ok.clone()
            }),
            "intray.rule_name"
        );
        assert_eq!(
            code(RoutingRule {
                name: "x".repeat(121),
                ..ok.clone()
            }),
            "intray.rule_name"
        );
        assert!(
            RoutingRule {
                name: "x".repeat(120),
                ..ok.clone()
            }
            .check()
            .is_ok()
        );
        assert_eq!(
            code(RoutingRule {
                keywords: vec!["a".into(); 21],
                ..ok.clone()
            }),
            "intray.rule_keywords"
        );
        assert_eq!(
            code(RoutingRule {
                keywords: vec!["x".repeat(61)],
                ..ok.clone()
            }),
            "intray.rule_keyword"
        );
        assert_eq!(
            code(RoutingRule {
                keywords: vec![" - ".into()],
                ..ok.clone()
            }),
            "intray.rule_keyword"
        );
        let empty = RoutingRule {
            keywords: vec![],
            ..ok.clone()
        };
        assert_eq!(code(empty.clone()), "intray.rule_empty");
        assert_eq!(field(empty.clone()), "keywords");
        assert!(
            RoutingRule {
                sender: Some("@stadt-ms.de".into()),
                ..empty.clone()
            }
            .check()
            .is_ok()
        );
        for bad in ["", " ", "@", "@a b", "@a@b"] {
            assert_eq!(
                code(RoutingRule {
                    sender: Some(bad.into()),
                    ..empty.clone()
                }),
                "intray.rule_sender",
                "{bad:?}"
            );
        }
        let case = |reference: &str| RoutingRule {
            target: RouteTarget::Case {
                reference: reference.into(),
            },
            ..ok.clone()
        };
        assert!(case("ms-2026-000001").check().is_ok());
        assert_eq!(code(case("MS-2026")), "intray.rule_reference");
        let node = |code: &str| RoutingRule {
            target: RouteTarget::PlanNode { code: code.into() },
            ..ok.clone()
        };
        assert!(node("32.10.05").check().is_ok());
        assert_eq!(code(node("32.x")), "intray.rule_plan_code");
    }

    #[test]
    fn proposes_references_then_rules_by_priority_without_duplicates() {
        let rules = vec![
            rule("b Hunde", 5, None, &["Hund"], unit(1)),
            rule("A Hunde", 5, None, &["hund"], unit(2)),
            rule(
                "Steuer",
                9,
                None,
                &["Hund", "Steuer"],
                RouteTarget::PlanNode {
                    code: " 22.10 ".into(),
                },
            ),
            rule("Same unit", 1, None, &["hund"], unit(1)),
            rule("Sender", 7, Some("@tierheim.de"), &[], unit(3)),
            rule(
                "Case rule",
                8,
                None,
                &["Widerspruch"],
                RouteTarget::Case {
                    reference: "ms-2026-000007".into(),
                },
            ),
            rule("Never", 100, None, &["Katze"], unit(4)),
        ];
        let f = facts(
            Some("Tierheim <info@tierheim.de>"),
            Some("Widerspruch zu MS-2026-000007"),
            "Mein Hund und die Steuer",
        );
        let refs = find_references(&format!("{} {}", f.subject.as_deref().unwrap(), f.text));
        let p = propose(&rules, &f, &refs);
        let targets: Vec<&RouteTarget> = p.iter().map(|p| &p.target).collect();
        assert_eq!(
            targets,
            [
                &RouteTarget::Case {
                    reference: "MS-2026-000007".into()
                },
                &RouteTarget::PlanNode {
                    code: "22.10".into()
                },
                &unit(3),
                &unit(2),
                &unit(1),
            ]
        );
        assert_eq!(p[0].source, ProposalSource::Reference);
        assert_eq!(p[0].evidence, ["MS-2026-000007"]);
        assert_eq!(p[1].evidence, ["Hund", "Steuer"]);
        assert_eq!(p[2].evidence, ["@tierheim.de"]);
        assert!(matches!(&p[3].source, ProposalSource::Rule { name, .. } if name == "A Hunde"));
        assert!(matches!(&p[4].source, ProposalSource::Rule { name, .. } if name == "b Hunde"));
        // References that are none are skipped.
        assert!(propose(&[], &f, &["kein Aktenzeichen".into()]).is_empty());
    }

    #[test]
    fn targets_and_sources_serialize_with_a_tag() {
        let t = RouteTarget::Case {
            reference: "MS-2026-000001".into(),
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"kind": "case", "reference": "MS-2026-000001"})
        );
        assert_eq!(
            serde_json::to_value(unit(1)).unwrap(),
            serde_json::json!({"kind": "org_unit", "id": "00000000-0000-0000-0000-000000000001"})
        );
        assert_eq!(
            serde_json::to_value(RouteTarget::PlanNode {
                code: "32.10".into()
            })
            .unwrap(),
            serde_json::json!({"kind": "plan_node", "code": "32.10"})
        );
        assert_eq!(
            serde_json::to_value(ProposalSource::Reference).unwrap(),
            serde_json::json!({"kind": "reference"})
        );
        let r = rule("Hund", 1, Some("@x.de"), &["Hund"], unit(7));
        let back: RoutingRule = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,300}", keyword in "\\PC{0,20}", sender in "\\PC{0,20}") {
            for r in find_references(&text) {
                let parsed = Reference::parse(&r);
                prop_assert!(parsed.is_some(), "{}", r);
                prop_assert_eq!(parsed.unwrap().to_string(), r);
            }
            let rules = vec![
                rule("a", 1, Some(&sender), &[&keyword], unit(1)),
                rule("b", 1, None, &[&keyword], unit(1)),
                rule("c", 2, None, &[&keyword], unit(2)),
            ];
            let f = facts(Some(&sender), Some(&keyword), &text);
            let p = propose(&rules, &f, &find_references(&text));
            for (i, a) in p.iter().enumerate() {
                prop_assert!(p[i + 1..].iter().all(|b| b.target != a.target));
            }
            let _ = rules[0].check();
        }

        #[test]
        fn a_reference_in_any_text_is_found(
            before in "[a-z .,:;(]{0,30}",
            prefix in "[A-Za-z]{2,6}",
            year in 2000i32..9999,
            seq in 1i64..100_000_000,
            plan in proptest::option::of("[0-9]{1,3}(\\.[0-9]{1,3}){0,3}-"),
            after in "[ .,;)][a-z .,;)]{0,30}",
        ) {
            let r = Reference { prefix: prefix.to_uppercase(), year, seq }.to_string();
            let text = format!("{before} {}{} {after}", plan.unwrap_or_default(), r.to_lowercase());
            prop_assert!(find_references(&text).contains(&r), "{}", text);
        }

        #[test]
        fn a_keyword_in_the_text_matches(
            words in proptest::collection::vec("[a-zäöüß]{1,10}", 1..20),
            pick in 0usize..20,
            sep in "[ ,.;:!?()\\n-]{1,3}",
        ) {
            let text = words.join(&sep);
            let keyword = words[pick % words.len()].to_uppercase();
            let r = rule("k", 0, None, &[&keyword], unit(1));
            prop_assert!(r.matches(&facts(None, None, &text)), "{} in {}", keyword, text);
        }
    }
}
