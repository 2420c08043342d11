//! The real FIM samples and the parser fixtures in ../shared/standards.

use std::path::PathBuf;

use rathaus_standards::{
    genericode,
    xdatenfelder::{self, Item, XdfVersion},
};

fn standards() -> Option<PathBuf> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/standards/xdatenfelder");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "note: ../shared/standards not found next to the checkout; standards tests skipped"
        );
        None
    }
}

fn read(rel: &str) -> Option<String> {
    standards()
        .map(|p| std::fs::read_to_string(p.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn gewerbeanmeldung_s00000009_reads_completely() {
    let Some(src) = read("samples/gewerbeanmeldung/S00000009_xdatenfelder.xml") else {
        return;
    };
    let s = xdatenfelder::parse(&src).unwrap();
    assert_eq!(s.version, XdfVersion::V2);
    assert_eq!(s.root.id, "S00000009");
    assert_eq!(s.root.name, "Gewerbe Anmeldung");
    let fields = s.fields();
    assert_eq!(fields.len(), 132, "all Datenfelder of the sample");
    assert!(
        fields
            .iter()
            .any(|f| f.kind == "select" && f.code_list.is_some())
    );
    assert!(s.root.items.iter().any(|i| matches!(i, Item::Group(_))));
}

#[test]
fn bewohnerparken_s05000058_and_its_code_lists() {
    let Some(src) = read("samples/bewohnerparken/S05000058V1.0_xdf2.xml") else {
        return;
    };
    let s = xdatenfelder::parse(&src).unwrap();
    assert_eq!(s.root.id, "S05000058");
    let selects: Vec<_> = s
        .fields()
        .into_iter()
        .filter(|f| f.code_list.is_some())
        .collect();
    assert!(!selects.is_empty());
    let dir = standards().unwrap().join("samples/bewohnerparken");
    let mut lists = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains("genericode")
        {
            let cl = genericode::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert!(!cl.entries.is_empty(), "{path:?}");
            assert!(!cl.canonical_uri.is_empty());
            lists += 1;
        }
    }
    assert_eq!(lists, 6);
}

#[test]
fn valid_fixtures_read() {
    for f in [
        "v2/data-field-rule",
        "v2/data-group-rule",
        "v2/label",
        "v2/minimal",
        "v2/rule",
        "v2/select",
        "v2/simple",
        "v3/input",
        "v3/simple",
    ] {
        let Some(src) = read(&format!("parser-fixtures/{f}.xml")) else {
            return;
        };
        let s = xdatenfelder::parse(&src).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!s.root.id.is_empty(), "{f}");
    }
    let Some(src) = read("parser-fixtures/v2/rule.xml") else {
        return;
    };
    let s = xdatenfelder::parse(&src).unwrap();
    assert!(
        !s.rules().is_empty() && !s.warnings.is_empty(),
        "rules are listed for the editor"
    );
}

#[test]
fn invalid_fixtures_give_clear_errors() {
    for (f, needle) in [
        ("v2/duplicate-optional-value", "only once"),
        ("v2/duplicate-required-value", "only once"),
        ("v2/unknown-namespace", "unknown namespace"),
        ("v3/duplicate-id-node", "only once"),
        ("v3/empty-id-node", "<id> is empty"),
        ("v3/missing-id-node", "<id> is missing"),
        ("v3/invalid-freigabestatus", "freigabestatus"),
        ("v3/unexpected-node", "unexpected element"),
        ("v3/unknown-namespace", "unknown namespace"),
    ] {
        let Some(src) = read(&format!("parser-fixtures/{f}.xml")) else {
            return;
        };
        let e = xdatenfelder::parse(&src).expect_err(f);
        assert!(e.to_string().contains(needle), "{f}: {e}");
        assert!(e.line > 0, "{f}: the error names a line");
    }
}
