//! Applications (C3): what a citizen submitted, named by a reference number
//! per tenant and year (`MS-2026-000123`).

use std::fmt;

/// A reference number: tenant prefix, year, sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub prefix: String,
    pub year: i32,
    pub seq: i64,
}

impl Reference {
    /// The prefix of a tenant from its name: the initial, plus the initial of
    /// a common place-name ending (`Stadt Musterstadt` → `MS`, `Gemeinde
    /// Nachbardorf` → `ND`), else the first two letters.
    pub fn prefix_for(name: &str) -> String {
        let word = name
            .split_whitespace()
            .find(|w| {
                !matches!(
                    w.to_lowercase().as_str(),
                    "stadt" | "gemeinde" | "markt" | "landkreis" | "kreis" | "amt"
                )
            })
            .unwrap_or(name);
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        let lower: String = letters.iter().collect::<String>().to_lowercase();
        let Some(first) = letters.first() else {
            return "RH".into();
        };
        const ENDINGS: [&str; 9] = [
            "stadt", "dorf", "burg", "berg", "hausen", "heim", "feld", "bach", "hagen",
        ];
        let second = ENDINGS
            .iter()
            .find(|e| lower.ends_with(*e) && lower.len() > e.len())
            .and_then(|e| e.chars().next())
            .or_else(|| letters.get(1).copied());
        let p: String = [Some(*first), second]
            .into_iter()
            .flatten()
            .collect::<String>()
            .to_uppercase();
        if p.chars().count() == 2 && p.chars().all(|c| c.is_ascii_uppercase()) {
            p
        } else {
            "RH".into()
        }
    }

    /// Reads `MS-2026-000123` (case-insensitive, surrounding space ignored).
    pub fn parse(input: &str) -> Option<Reference> {
        let t = input.trim().to_ascii_uppercase();
        let mut parts = t.split('-');
        let prefix = parts.next()?;
        let year = parts.next()?;
        let seq = parts.next()?;
        if parts.next().is_some()
            || !(2..=6).contains(&prefix.len())
            || !prefix.chars().all(|c| c.is_ascii_uppercase())
            || year.len() != 4
            || seq.len() < 6
            || !seq.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        Some(Reference {
            prefix: prefix.to_string(),
            year: year.parse().ok().filter(|y| (2000..=9999).contains(y))?,
            seq: seq.parse().ok().filter(|s| *s > 0)?,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.prefix, self.year, self.seq)
    }
}

/// An idempotency key as sent by a client: 8 to 100 visible ASCII characters.
pub fn parse_idempotency_key(input: &str) -> Option<String> {
    let t = input.trim();
    ((8..=100).contains(&t.len()) && t.chars().all(|c| c.is_ascii_graphic())).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn references_print_and_parse() {
        let r = Reference {
            prefix: "MS".into(),
            year: 2026,
            seq: 123,
        };
        assert_eq!(r.to_string(), "MS-2026-000123");
        assert_eq!(Reference::parse(" ms-2026-000123 "), Some(r));
        assert_eq!(Reference::parse("MS-2026-1234567").unwrap().seq, 1_234_567);
        for bad in [
            "",
            "MS-2026",
            "MS-26-000001",
            "M1-2026-000001",
            "MS-2026-000000",
            "MS-2026-00001a",
            "MS-2026-000001-1",
        ] {
            assert_eq!(Reference::parse(bad), None, "{bad}");
        }
        assert_eq!(Reference::prefix_for("Stadt Musterstadt"), "MS");
        assert_eq!(Reference::prefix_for("Gemeinde Nachbardorf"), "ND");
        assert_eq!(
            Reference::prefix_for("Köln"),
            "RH",
            "non-ASCII initials fall back"
        );
        assert_eq!(Reference::prefix_for("Bonn"), "BO");
        assert_eq!(Reference::prefix_for("1"), "RH");
        assert!(parse_idempotency_key("short").is_none());
        assert!(parse_idempotency_key("a b c d e f g h").is_none());
        assert_eq!(
            parse_idempotency_key(" 0193-abcd-ef ").as_deref(),
            Some("0193-abcd-ef")
        );
    }

    proptest! {
        #[test]
        fn every_reference_round_trips(prefix in "[A-Z]{2,6}", year in 2000i32..9999, seq in 1i64..10_000_000_000) {
            let r = Reference { prefix, year, seq };
            prop_assert_eq!(Reference::parse(&r.to_string()), Some(r));
        }
    }
}
