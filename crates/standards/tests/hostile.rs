//! Hostile input for the standards' readers: XML bombs, external entities,
//! deep nesting, floods of elements, and property tests over arbitrary and
//! mutated documents (the same readers the `cargo fuzz` targets in `fuzz/`
//! drive; this runs them in every `cargo test`). Every reader answers with
//! an error, never a panic, a stack overflow or an expansion.

use proptest::prelude::*;
use rathaus_standards::{genericode, xdatenfelder};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/fim");

fn sample(rel: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}/{rel}")).unwrap()
}

/// A small, valid XDatenfelder 3 message (one field).
const XDF3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.datenfeld.0200 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:datenfeld>
    <xdf:identifikation><xdf:id>F60000001</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
    <xdf:name>Familienname</xdf:name>
    <xdf:bezeichnungEingabe>Familienname</xdf:bezeichnungEingabe>
    <xdf:feldart><code>input</code></xdf:feldart>
    <xdf:datentyp><code>text</code></xdf:datentyp>
    <xdf:praezisierung minLength="1" maxLength="120"/>
  </xdf:datenfeld>
</xdf:xdatenfelder.datenfeld.0200>"#;

/// Billion laughs: ten entities, each ten times the one before.
fn billion_laughs() -> String {
    let mut dtd = String::from("<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        dtd.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    XDF3.replacen(
        "<xdf:xdatenfelder",
        &format!("<!DOCTYPE lolz [\n{dtd}]>\n<xdf:xdatenfelder"),
        1,
    )
    .replace(
        "<xdf:name>Familienname</xdf:name>",
        "<xdf:name>&lol9;</xdf:name>",
    )
}

fn external_entity() -> String {
    XDF3.replacen(
        "<xdf:xdatenfelder",
        "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<xdf:xdatenfelder",
        1,
    )
    .replace(
        "<xdf:name>Familienname</xdf:name>",
        "<xdf:name>&xxe;</xdf:name>",
    )
}

#[test]
fn the_sample_documents_still_read() {
    xdatenfelder::parse(XDF3).unwrap();
    genericode::parse(&sample("bewohnerparken/C05000073_genericode.xml")).unwrap();
}

#[test]
fn billion_laughs_is_refused_at_the_doctype() {
    let src = billion_laughs();
    for e in [
        xdatenfelder::parse(&src).unwrap_err(),
        genericode::parse(&src).unwrap_err(),
    ] {
        assert!(e.message.contains("DOCTYPE"), "{e}");
        assert!(!e.to_string().contains("lollol"), "nothing expanded: {e}");
    }
}

#[test]
fn external_entities_are_refused_and_nothing_is_read() {
    let src = external_entity();
    let e = xdatenfelder::parse(&src).unwrap_err();
    assert!(e.message.contains("DOCTYPE"), "{e}");
    assert!(!e.to_string().contains("root:"), "no file content: {e}");
    let e = xdatenfelder::import("x.xml", XDF3, &[("list.xml".into(), src)]).unwrap_err();
    assert_eq!(e.file, "list.xml");
    assert!(e.error.message.contains("DOCTYPE"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // 200,000 levels: without the depth limit the tree's recursive drop
    // overflows the test thread's stack.
    let n = 200_000;
    let src = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let e = xdatenfelder::parse(&src).unwrap_err();
    assert!(e.message.contains("nested"), "{e}");
    let e = genericode::parse(&src).unwrap_err();
    assert!(e.message.contains("nested"), "{e}");
}

#[test]
fn a_flood_of_elements_is_refused() {
    let src = format!("<CodeList>{}</CodeList>", "<a/>".repeat(300_000));
    let e = genericode::parse(&src).unwrap_err();
    assert!(e.message.contains("elements"), "{e}");
}

#[test]
fn stray_end_tags_and_second_roots_are_errors() {
    for src in [
        "</a>",
        "<a/></a>",
        "<a/><b/>",
        "<CodeList/><CodeList/>",
        "<a></a></a>",
    ] {
        assert!(genericode::parse(src).is_err(), "{src}");
        assert!(xdatenfelder::parse(src).is_err(), "{src}");
    }
}

/// Replaces `len` bytes at `at` (both scaled to the document) by `with`,
/// keeping the text valid UTF-8.
fn mutate(doc: &str, at: f64, len: usize, with: &str) -> String {
    let mut start = ((doc.len() as f64) * at) as usize;
    while !doc.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(doc.len());
    while !doc.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &doc[..start], with, &doc[end..])
}

/// XML-ish pieces the readers look for.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<".to_string()),
        Just("</".to_string()),
        Just("/>".to_string()),
        Just(">".to_string()),
        Just("&".to_string()),
        Just("&amp;".to_string()),
        Just("&#0;".to_string()),
        Just("&#x110000;".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("<!--".to_string()),
        Just("<?xml version='1.0'?>".to_string()),
        Just("<!DOCTYPE a>".to_string()),
        Just("xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\"".to_string()),
        prop::sample::select(vec![
            "xdf:struktur",
            "xdf:enthaelt",
            "xdf:datenfeldgruppe",
            "xdf:datenfeld",
            "xdf:anzahl",
            "xdf:identifikation",
            "xdf:id",
            "xdf:praezisierung",
            "xdf:regel",
            "Row",
            "Value",
            "SimpleValue",
            "Column",
            "Key",
            "ColumnRef",
        ])
        .prop_map(|t| format!("<{t}>")),
        "[0-9:*]{0,5}",
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = xdatenfelder::parse(&text);
        let _ = genericode::parse(&text);
    }

    #[test]
    fn tag_soup_never_panics(pieces in prop::collection::vec(piece(), 0..200)) {
        let text = pieces.concat();
        let _ = xdatenfelder::parse(&text);
        let _ = genericode::parse(&text);
        let _ = xdatenfelder::import("s.xml", &text, &[("c.xml".into(), text.clone())]);
    }

    #[test]
    fn mutated_schemas_never_panic(
        at in 0.0f64..1.0,
        len in 0usize..64,
        with in prop_oneof![piece(), ".{0,16}"],
    ) {
        let doc = mutate(XDF3, at, len, &with);
        if let Ok(schema) = xdatenfelder::parse(&doc) {
            let _ = xdatenfelder::to_form(&schema, &[]);
        }
    }

    #[test]
    fn mutated_code_lists_never_panic(
        at in 0.0f64..1.0,
        len in 0usize..64,
        with in prop_oneof![piece(), ".{0,16}"],
    ) {
        let doc = mutate(&sample("bewohnerparken/C05000103_genericode.xml"), at, len, &with);
        let _ = genericode::parse(&doc);
    }
}
