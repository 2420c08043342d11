//! The tamper-evident audit log: every entry carries the hash of the entry
//! before it, so changing or deleting a row breaks the chain from there on.

use sha2::{Digest, Sha256};

/// The hash of the first entry's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an entry that the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub tenant: &'a str,
    pub case: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub detail: &'a str,
    /// RFC 3339 time with microseconds.
    pub at: &'a str,
}

/// SHA-256 (hex) over the previous hash and the entry's fields, each
/// length-prefixed so that no two different entries hash alike.
pub fn entry_hash(prev: &str, e: &EntryFields<'_>) -> String {
    let mut h = Sha256::new();
    for part in [prev, e.tenant, e.case, e.actor, e.action, e.detail, e.at] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Checks a chain in order: returns the index of the first entry whose
/// stored `prev` or `hash` does not match, or `None` when the chain holds.
pub fn first_broken<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str, EntryFields<'a>)>,
) -> Option<usize> {
    let mut expected_prev = GENESIS.to_string();
    for (i, (prev, hash, fields)) in entries.into_iter().enumerate() {
        if prev != expected_prev || entry_hash(prev, &fields) != hash {
            return Some(i);
        }
        expected_prev = hash.to_string();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(action: &'a str, at: &'a str) -> EntryFields<'a> {
        EntryFields {
            tenant: "t",
            case: "c",
            actor: "a",
            action,
            detail: "{}",
            at,
        }
    }

    #[test]
    fn a_changed_entry_breaks_the_chain_there() {
        let e1 = f("received", "2026-11-22T10:00:00.000001Z");
        let h1 = entry_hash(GENESIS, &e1);
        let e2 = f("claimed", "2026-11-22T10:05:00.000001Z");
        let h2 = entry_hash(&h1, &e2);
        let e3 = f("decided", "2026-11-22T11:00:00.000001Z");
        let h3 = entry_hash(&h2, &e3);
        let chain = vec![
            (GENESIS, h1.as_str(), e1.clone()),
            (h1.as_str(), h2.as_str(), e2.clone()),
            (h2.as_str(), h3.as_str(), e3.clone()),
        ];
        assert_eq!(first_broken(chain.clone()), None);
        let mut tampered = chain.clone();
        tampered[1].2.action = "cancelled";
        assert_eq!(first_broken(tampered), Some(1));
        let mut deleted = chain.clone();
        deleted.remove(1);
        assert_eq!(first_broken(deleted), Some(1));
        // Length prefixes: moving text between fields changes the hash.
        let a = EntryFields {
            actor: "ab",
            action: "c",
            ..f("", "t")
        };
        let b = EntryFields {
            actor: "a",
            action: "bc",
            ..f("", "t")
        };
        assert_ne!(entry_hash(GENESIS, &a), entry_hash(GENESIS, &b));
    }
}
