//! The e-file's full-text index: German matching, file numbers, access
//! filters inside the query, replacement and removal, snippets, limits.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rathaus_search::records::{MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MAX_QUERY_TERMS};
use rathaus_search::{RecordDoc, RecordHit, RecordIndex, RecordQuery, RecordResults, Snippet};
use uuid::Uuid;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
}

fn doc(tenant: Uuid, title: &str, text: &str) -> RecordDoc {
    RecordDoc {
        tenant,
        version: Uuid::new_v4(),
        document: Uuid::new_v4(),
        file: Uuid::new_v4(),
        org_units: vec![],
        file_number: "32.10.05-MS-2026-000001".into(),
        plan_code: "32.10.05".into(),
        title: title.into(),
        text: text.into(),
        filed_at: at(1),
    }
}

fn query(tenant: Uuid, text: &str) -> RecordQuery<'_> {
    RecordQuery {
        tenant,
        text,
        visible_units: None,
        file: None,
        limit: 20,
        offset: 0,
    }
}

fn search(idx: &RecordIndex, tenant: Uuid, text: &str) -> RecordResults {
    idx.search(&query(tenant, text)).unwrap()
}

fn titles(r: &RecordResults) -> Vec<&str> {
    r.hits.iter().map(|h| h.title.as_str()).collect()
}

fn highlighted(s: &Snippet) -> Vec<&str> {
    s.highlights.iter().map(|&(a, b)| &s.text[a..b]).collect()
}

#[test]
fn german_stemming_finds_inflected_forms() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    idx.upsert(&[
        doc(
            t,
            "Bescheid",
            "Die Gebühr für die Sondernutzung wird fällig.",
        ),
        doc(t, "Antrag", "Der Antragsteller bittet um Stundung."),
    ])
    .unwrap();
    let r = search(&idx, t, "Gebühren");
    assert_eq!(titles(&r), ["Bescheid"]);
    assert_eq!(r.total, 1);
    assert_eq!(highlighted(&r.hits[0].snippet), ["Gebühr"]);
    assert_eq!(
        titles(&search(&idx, t, "gebuehr")),
        ["Bescheid"],
        "umlaut typed as ue"
    );
    assert_eq!(titles(&search(&idx, t, "GEBÜHR")), ["Bescheid"]);
    assert_eq!(
        titles(&search(&idx, t, "Anträge")),
        ["Antrag"],
        "title, umlaut"
    );
    assert_eq!(
        titles(&search(&idx, t, "Gebühren Stundung")),
        Vec::<&str>::new(),
        "every word must match"
    );
    assert_eq!(search(&idx, t, "die der und").total, 0, "only stop words");
    assert_eq!(search(&idx, t, "   ").total, 0);
}

#[test]
fn title_matches_rank_first() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let mut in_text = doc(
        t,
        "Schreiben an die Antragstellerin",
        "Anbei der Gebührenbescheid und die Gebühr.",
    );
    in_text.filed_at = at(5); // newer: would win a tie
    let in_title = doc(
        t,
        "Gebühr Sondernutzung",
        "Festsetzung für die Nutzung der Straße.",
    );
    idx.upsert(&[in_text, in_title]).unwrap();
    let r = search(&idx, t, "Gebühr");
    assert_eq!(
        titles(&r),
        ["Gebühr Sondernutzung", "Schreiben an die Antragstellerin"]
    );
    assert!(r.hits[0].score > r.hits[1].score);
    let h = &r.hits[0];
    assert_eq!(
        h.title_highlights
            .iter()
            .map(|&(a, b)| &h.title[a..b])
            .collect::<Vec<_>>(),
        ["Gebühr"]
    );
    assert!(h.snippet.highlights.is_empty(), "no match in its text");
    assert!(h.snippet.text.starts_with("Festsetzung"), "{:?}", h.snippet);
}

#[test]
fn file_numbers_and_references_are_found_exactly() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let mut own = doc(t, "Bescheid", "Festsetzung der Gebühr.");
    own.file_number = "32.10.05-MS-2026-000123".into();
    let mut neighbour = doc(t, "Bescheid", "Festsetzung der Gebühr.");
    neighbour.file_number = "32.10.05-MS-2026-000124".into();
    let mut other_plan = doc(t, "Vermerk", "Nichts weiter.");
    other_plan.file_number = "61.20.01-MS-2025-000007".into();
    other_plan.plan_code = "61.20.01".into();
    let mut mention = doc(
        t,
        "Schreiben",
        "Bezug: Az. 32.10.05-MS-2026-000123 vom 3. März.",
    );
    mention.file_number = "10.01.01-MS-2026-000999".into();
    mention.plan_code = "10.01.01".into();
    idx.upsert(&[
        own.clone(),
        neighbour.clone(),
        other_plan.clone(),
        mention.clone(),
    ])
    .unwrap();
    let versions = |text: &str| -> Vec<Uuid> {
        search(&idx, t, text)
            .hits
            .iter()
            .map(|h| h.version)
            .collect()
    };
    for text in [
        "32.10.05-MS-2026-000123",
        "MS-2026-000123",
        "ms-2026-000123",
        "000123",
        "Az. MS-2026-000123",
        "Aktenzeichen: 32.10.05-MS-2026-000123",
    ] {
        assert_eq!(
            versions(text),
            [own.version, mention.version],
            "{text}: own file first"
        );
    }
    let hit = &search(&idx, t, "MS-2026-000123").hits[1];
    assert_eq!(highlighted(&hit.snippet), ["MS-2026-000123"], "one range");
    let hit = &search(&idx, t, "32.10.05-MS-2026-000123").hits[1];
    assert_eq!(highlighted(&hit.snippet), ["32.10.05-MS-2026-000123"]);
    assert_eq!(versions("MS-2026-000124"), [neighbour.version]);
    let mut plan = versions("32.10.05");
    plan.sort();
    let mut expected = vec![own.version, neighbour.version, mention.version];
    expected.sort();
    assert_eq!(plan, expected, "plan code (and the mention of it)");
    assert_eq!(versions("61.20"), [other_plan.version], "plan group");
    assert_eq!(
        versions("61.20.01-MS-2025-000007 Vermerk"),
        [other_plan.version]
    );
    assert_eq!(versions("32.10.05-MS-2026-000125"), Vec::<Uuid>::new());
    assert_eq!(
        search(&idx, t, "MS-2026-000123").hits[0].file_number,
        "32.10.05-MS-2026-000123"
    );
}

#[test]
fn file_filter_keeps_to_one_vorgang() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let a = doc(t, "Antrag", "Baugenehmigung");
    let mut b = doc(t, "Antrag", "Baugenehmigung");
    b.file = Uuid::new_v4();
    idx.upsert(&[a.clone(), b]).unwrap();
    let r = idx
        .search(&RecordQuery {
            file: Some(a.file),
            ..query(t, "Antrag")
        })
        .unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].file, a.file);
}

#[test]
fn other_tenants_and_units_never_appear() {
    let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
    let (u1, u2, u3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let idx = RecordIndex::new().unwrap();
    let mut docs = Vec::new();
    for (tenant, units) in [
        (t, vec![u1]),
        (t, vec![u2]),
        (t, vec![u1, u3]),
        (t, vec![]),
        (other, vec![u1]),
        (other, vec![]),
    ] {
        // The other tenant's documents match better: they must still not come.
        let text = if tenant == other {
            "Gebühr Gebühr Gebühr"
        } else {
            "Gebühr"
        };
        let mut d = doc(tenant, "Gebühr", text);
        d.org_units = units;
        docs.push(d);
    }
    idx.upsert(&docs).unwrap();
    let run = |visible: Option<&[Uuid]>| {
        idx.search(&RecordQuery {
            visible_units: visible,
            limit: MAX_LIMIT,
            ..query(t, "Gebühr")
        })
        .unwrap()
    };
    assert_eq!(
        run(None).total,
        4,
        "records administration: all of the tenant"
    );
    // Filtered in the query, not afterwards: the one best hit is the tenant's.
    let first = idx
        .search(&RecordQuery {
            limit: 1,
            ..query(t, "Gebühr")
        })
        .unwrap();
    assert_eq!((first.total, first.hits.len()), (4, 1));
    assert_eq!(run(Some(&[u1])).total, 2);
    assert_eq!(run(Some(&[u2, u3])).total, 2);
    assert_eq!(run(Some(&[])).total, 0);
    assert_eq!(run(Some(&[Uuid::new_v4()])).total, 0);
    for h in run(None).hits {
        assert!(docs.iter().any(|d| d.version == h.version && d.tenant == t));
    }
}

#[test]
fn upsert_replaces_and_removals_remove() {
    let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
    let idx = RecordIndex::new().unwrap();
    let mut d = doc(t, "Vermerk", "Ortstermin Alpha");
    idx.upsert(std::slice::from_ref(&d)).unwrap();
    d.text = "Ortstermin Beta".into();
    idx.upsert(std::slice::from_ref(&d)).unwrap();
    assert_eq!(idx.len(), 1);
    assert_eq!(search(&idx, t, "Alpha").total, 0);
    assert_eq!(search(&idx, t, "Beta").total, 1);
    // A second version of the same document is a second entry.
    let mut v2 = d.clone();
    v2.version = Uuid::new_v4();
    let mut sibling = doc(t, "Vermerk", "Ortstermin Beta");
    sibling.file = d.file;
    let elsewhere = doc(t, "Vermerk", "Ortstermin Beta");
    let foreign = doc(other, "Vermerk", "Ortstermin Beta");
    idx.upsert(&[v2, sibling.clone(), elsewhere.clone(), foreign])
        .unwrap();
    assert_eq!(search(&idx, t, "Ortstermin").total, 4);
    idx.remove_documents(&[d.document]).unwrap();
    assert_eq!(search(&idx, t, "Ortstermin").total, 2, "both versions gone");
    idx.remove_file(d.file).unwrap();
    assert_eq!(
        search(&idx, t, "Ortstermin")
            .hits
            .iter()
            .map(|h| h.version)
            .collect::<Vec<_>>(),
        [elsewhere.version]
    );
    idx.remove_versions(&[elsewhere.version]).unwrap();
    assert_eq!(search(&idx, t, "Ortstermin").total, 0);
    idx.upsert(&[doc(t, "Vermerk", "Ortstermin")]).unwrap();
    idx.clear_tenant(t).unwrap();
    assert_eq!(search(&idx, t, "Ortstermin").total, 0);
    assert_eq!(
        search(&idx, other, "Ortstermin").total,
        1,
        "other tenant kept"
    );
    assert_eq!(idx.len(), 1);
}

#[test]
fn ties_go_to_the_newest_and_order_is_deterministic() {
    let t = Uuid::new_v4();
    let mut docs = Vec::new();
    for day in 1..=20 {
        let mut d = doc(t, "Vermerk", "Ortstermin am Grundstück");
        d.filed_at = at(day);
        docs.push(d);
    }
    // Same day: the version id decides.
    for _ in 0..5 {
        docs.push(doc(t, "Vermerk", "Ortstermin am Grundstück"));
    }
    let a = RecordIndex::new().unwrap();
    a.upsert(&docs).unwrap();
    let b = RecordIndex::new().unwrap();
    let mut reversed = docs.clone();
    reversed.reverse();
    for chunk in reversed.chunks(3) {
        b.upsert(chunk).unwrap(); // several segments
    }
    let all = |idx: &RecordIndex| -> Vec<RecordHit> {
        let r = idx
            .search(&RecordQuery {
                limit: 100,
                ..query(t, "Ortstermin")
            })
            .unwrap();
        assert_eq!(r.total, 25);
        r.hits
    };
    let (ha, hb) = (all(&a), all(&b));
    let ids = |h: &[RecordHit]| h.iter().map(|h| h.version).collect::<Vec<_>>();
    assert_eq!(
        ids(&ha),
        ids(&hb),
        "independent of insertion order and segments"
    );
    assert!(
        ha.windows(2).all(|w| w[0].filed_at >= w[1].filed_at),
        "newest first"
    );
    assert_eq!(ha[0].filed_at, at(20));
    // Pages are slices of the same order.
    let page = |offset| {
        a.search(&RecordQuery {
            limit: 7,
            offset,
            ..query(t, "Ortstermin")
        })
        .unwrap()
        .hits
    };
    let paged: Vec<Uuid> = (0..4).flat_map(|p| ids(&page(p * 7))).collect();
    assert_eq!(paged, ids(&ha));
    let counted = a
        .search(&RecordQuery {
            limit: 0,
            ..query(t, "Ortstermin")
        })
        .unwrap();
    assert_eq!((counted.total, counted.hits.len()), (25, 0));
}

#[test]
fn snippets_are_plain_text_with_valid_ranges() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(200);
    let text = format!(
        "{filler}Die <b>Gebühren</b> für\n\n  die Sondernutzung der Straße (€ 120,–) werden festgesetzt; die Gebühr ist fällig. 😀 {filler}"
    );
    idx.upsert(&[doc(t, "Bescheid", &text)]).unwrap();
    let r = search(&idx, t, "Gebühr Straße");
    let s = &r.hits[0].snippet;
    assert!(
        s.text.starts_with('…') && s.text.ends_with('…'),
        "{}",
        s.text
    );
    assert!(
        s.text.contains("Die <b>Gebühren</b> für die Sondernutzung"),
        "raw, collapsed: {}",
        s.text
    );
    assert!(!s.text.contains('\n'));
    assert!(s.text.len() <= rathaus_search::records::SNIPPET_BYTES + 8);
    assert_eq!(highlighted(s), ["Gebühren", "Straße", "Gebühr"]);
    check_ranges(s);
}

fn check_ranges(s: &Snippet) {
    let mut last = 0;
    for &(a, b) in &s.highlights {
        assert!(a >= last && a < b && b <= s.text.len(), "{s:?}");
        assert!(
            s.text.is_char_boundary(a) && s.text.is_char_boundary(b),
            "{s:?}"
        );
        last = b;
    }
}

#[test]
fn limits_are_refused_with_their_codes() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let code = |q: RecordQuery<'_>| idx.search(&q).unwrap_err().code();
    let long = "a".repeat(MAX_QUERY_CHARS + 1);
    assert_eq!(code(query(t, &long)), "search.too_long");
    let many = ["wort"; MAX_QUERY_TERMS + 1].join(" ");
    assert_eq!(code(query(t, &many)), "search.too_many_terms");
    assert_eq!(
        code(RecordQuery {
            limit: MAX_LIMIT + 1,
            ..query(t, "x")
        }),
        "search.limit_too_large"
    );
    assert_eq!(
        code(RecordQuery {
            offset: MAX_OFFSET + 1,
            ..query(t, "x")
        }),
        "search.offset_too_large"
    );
    let enough = ["wort"; MAX_QUERY_TERMS].join(" ");
    assert!(idx.search(&query(t, &enough)).is_ok());
    let exactly = "ä".repeat(MAX_QUERY_CHARS);
    assert!(
        idx.search(&query(t, &exactly)).is_ok(),
        "characters, not bytes"
    );
    assert!(
        idx.search(&query(t, &format!("  {exactly}  "))).is_ok(),
        "trimmed"
    );
}

#[test]
fn text_is_indexed_up_to_the_limit() {
    let t = Uuid::new_v4();
    let idx = RecordIndex::new().unwrap();
    let max = rathaus_search::records::MAX_TEXT_CHARS;
    // Multi-byte characters: the limit counts characters, cut on a boundary.
    let k = (max - "Anfang ".len() - "Schluss ".len()) / "Wörter ".chars().count();
    let text = format!("Anfang {}Schluss Ende", "Wörter ".repeat(k));
    assert_eq!(text.chars().count(), max + "Ende".len());
    idx.upsert(&[doc(t, "Lang", &text)]).unwrap();
    assert_eq!(search(&idx, t, "Anfang").total, 1);
    assert_eq!(
        search(&idx, t, "Ende").total,
        0,
        "beyond the first million characters"
    );
    let r = search(&idx, t, "Schluss");
    let s = &r.hits[0].snippet;
    assert_eq!(
        highlighted(s),
        ["Schluss"],
        "the last indexed word, in the snippet"
    );
    assert!(
        s.text.starts_with("…Wörter") && s.text.ends_with("Schluss"),
        "{}",
        s.text
    );
    check_ranges(s);
}

const WORDS: [&str; 6] = ["Antrag", "Bescheid", "Gebühr", "Hund", "Baum", "Straße"];

#[derive(Debug, Clone)]
struct Spec {
    tenant: usize,
    units: Vec<usize>,
    words: Vec<usize>,
    days: u32,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..3,
        proptest::collection::vec(0usize..4, 0..3),
        proptest::collection::vec(0usize..WORDS.len(), 1..4),
        1u32..28,
    )
        .prop_map(|(tenant, units, words, days)| Spec {
            tenant,
            units,
            words,
            days,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random documents, random viewers: never a hit outside the tenant or
    /// the units, and never one missing inside them.
    #[test]
    fn no_hit_outside_tenant_and_units(
        specs in proptest::collection::vec(spec(), 1..40),
        tenant in 0usize..3,
        visible in proptest::option::of(proptest::collection::vec(0usize..4, 0..3)),
        word in 0usize..WORDS.len(),
        limit in 1usize..=MAX_LIMIT,
    ) {
        let tenants: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let units: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        let docs: Vec<RecordDoc> = specs.iter().map(|s| {
            let text = s.words.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ");
            let mut d = doc(tenants[s.tenant], "Vermerk", &text);
            d.org_units = s.units.iter().map(|&u| units[u]).collect();
            d.filed_at = at(s.days);
            d
        }).collect();
        let idx = RecordIndex::new().unwrap();
        idx.upsert(&docs).unwrap();
        let visible: Option<Vec<Uuid>> = visible.map(|v| v.iter().map(|&u| units[u]).collect());
        let r = idx.search(&RecordQuery {
            tenant: tenants[tenant],
            text: WORDS[word],
            visible_units: visible.as_deref(),
            file: None,
            limit,
            offset: 0,
        }).unwrap();
        let allowed = |d: &RecordDoc| d.tenant == tenants[tenant]
            && visible.as_ref().is_none_or(|v| d.org_units.iter().any(|u| v.contains(u)));
        let expected = specs.iter().zip(&docs)
            .filter(|(s, d)| allowed(d) && s.words.contains(&word))
            .count();
        prop_assert_eq!(r.total, expected);
        prop_assert_eq!(r.hits.len(), expected.min(limit));
        for h in &r.hits {
            let d = docs.iter().find(|d| d.version == h.version).unwrap();
            prop_assert!(allowed(d), "hit outside tenant or units");
            check_ranges(&h.snippet);
            prop_assert!(!h.snippet.highlights.is_empty());
        }
    }

    /// Any text: the ranges are in bounds, on char boundaries, and cover
    /// the searched word.
    #[test]
    fn snippet_ranges_are_valid(
        before in "[a-zäöüß€😀 \n\t.,;-]{0,400}",
        after in "[a-zäöüß€😀 \n\t.,;-]{0,400}",
        word in 0usize..WORDS.len(),
    ) {
        let t = Uuid::new_v4();
        let idx = RecordIndex::new().unwrap();
        let text = format!("{before} {} {after}", WORDS[word]);
        idx.upsert(&[doc(t, "Vermerk", &text)]).unwrap();
        let r = search(&idx, t, WORDS[word]);
        prop_assert_eq!(r.total, 1);
        let s = &r.hits[0].snippet;
        check_ranges(s);
        let marked = highlighted(s);
        prop_assert!(marked.iter().any(|m| m.eq_ignore_ascii_case(WORDS[word])), "{:?}", s);
        for m in marked {
            prop_assert!(m.to_lowercase().starts_with(&WORDS[word].to_lowercase()[..3]), "{:?}", s);
        }
    }
}

/// Not a timed assertion: prints how long 10,000 documents take to index and
/// to search. `cargo test --release -p rathaus-search --test records -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput_10000_documents() {
    use std::time::Instant;
    let vocab = [
        "Antrag",
        "Bescheid",
        "Gebühr",
        "Sondernutzung",
        "Straße",
        "Baugenehmigung",
        "Widerspruch",
        "Anhörung",
        "Stellungnahme",
        "Frist",
        "Zahlung",
        "Mahnung",
        "Grundstück",
        "Eigentümer",
        "Bebauungsplan",
        "Ortstermin",
        "Vermerk",
        "Verfügung",
        "Rechtsbehelf",
        "Zustellung",
    ];
    let t = Uuid::new_v4();
    let units: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let mut seed = 42u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let docs: Vec<RecordDoc> = (0..10_000)
        .map(|i| {
            let text = (0..600)
                .map(|_| vocab[next() % vocab.len()])
                .collect::<Vec<_>>()
                .join(" ");
            let mut d = doc(t, vocab[next() % vocab.len()], &text);
            d.file_number = format!("32.10.{:02}-MS-2026-{:06}", i % 50, i);
            d.org_units = vec![units[next() % units.len()]];
            d.filed_at = at(1) + Duration::minutes(i as i64);
            d
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let idx = RecordIndex::new().unwrap();
    let start = Instant::now();
    for chunk in docs.chunks(500) {
        idx.upsert(chunk).unwrap();
    }
    let indexed = start.elapsed();
    println!(
        "indexed {} docs ({} MB text) in {indexed:?}",
        idx.len(),
        bytes / 1_000_000
    );
    let start = Instant::now();
    idx.upsert(&docs[..1]).unwrap();
    println!("one incremental upsert: {:?}", start.elapsed());
    let queries = [
        "Gebühr",
        "Widerspruch Frist",
        "MS-2026-004711",
        "Anhörung Eigentümer Grundstück",
        "32.10.07",
    ];
    let visible = &units[..3];
    for q in queries {
        for (label, v) in [("all", None), ("3 units", Some(visible))] {
            let n = 50;
            let start = Instant::now();
            let mut total = 0;
            for _ in 0..n {
                total = idx
                    .search(&RecordQuery {
                        visible_units: v,
                        ..query(t, q)
                    })
                    .unwrap()
                    .total;
            }
            println!(
                "{q:?} ({label}): {total} matches, {:?} per search of 20 hits",
                start.elapsed() / n
            );
        }
    }
    // Worst case for snippets: 20 texts of a million characters, the word in
    // the title only, so every text is scanned to its end.
    let big = "Lorem ipsum dolor sit amet consectetur adipiscing elit ".repeat(18_200);
    let large: Vec<RecordDoc> = (0..20).map(|_| doc(t, "Planfeststellung", &big)).collect();
    let start = Instant::now();
    idx.upsert(&large).unwrap();
    println!(
        "indexed 20 docs of {} MB each in {:?}",
        big.len() / 1_000_000,
        start.elapsed()
    );
    let start = Instant::now();
    let r = idx.search(&query(t, "Planfeststellung")).unwrap();
    println!(
        "{} hits on 1 MB texts, title-only match: {:?}",
        r.hits.len(),
        start.elapsed()
    );
    let start = Instant::now();
    let r = idx.search(&query(t, "Planfeststellung Lorem")).unwrap();
    println!(
        "{} hits on 1 MB texts, match at the start: {:?}",
        r.hits.len(),
        start.elapsed()
    );
}
