//! The real FIM samples (demo/fim/ in the repository) and the parser
//! fixtures in ../shared/standards next to the checkout. A missing fixture
//! fails the test: nothing here is skipped.

use std::path::PathBuf;

use rathaus_standards::{
    genericode,
    xdatenfelder::{self, Item, XdfVersion},
};

/// The FIM samples shipped with the demo (same files as shared/standards/…/samples).
fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../demo/fim")
}

/// The parser fixtures: `$RATHAUS_SHARED_DIR/standards/xdatenfelder` when set,
/// else `../shared/standards/xdatenfelder` beside the repository.
fn fixtures() -> PathBuf {
    let shared = std::env::var_os("RATHAUS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let p = shared.join("standards/xdatenfelder/parser-fixtures");
    assert!(
        p.is_dir(),
        "the XDatenfelder parser fixtures are missing at {}: put the project's shared/ folder next to the \
         repository, or set RATHAUS_SHARED_DIR to it",
        p.display()
    );
    p
}

fn read_sample(rel: &str) -> String {
    let p = samples().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn read_fixture(name: &str) -> String {
    let p = fixtures().join(format!("{name}.xml"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The genericode lists uploaded with the Bewohnerparkausweis sample.
fn parken_code_lists() -> Vec<genericode::CodeList> {
    let mut paths: Vec<_> = std::fs::read_dir(samples().join("bewohnerparken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("genericode"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            genericode::parse(&std::fs::read_to_string(p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

#[test]
fn gewerbeanmeldung_s00000009_reads_completely() {
    let src = read_sample("gewerbeanmeldung/S00000009_xdatenfelder.xml");
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
    let src = read_sample("bewohnerparken/S05000058V1.0_xdf2.xml");
    let s = xdatenfelder::parse(&src).unwrap();
    assert_eq!(s.root.id, "S05000058");
    let selects: Vec<_> = s
        .fields()
        .into_iter()
        .filter(|f| f.code_list.is_some())
        .collect();
    assert!(!selects.is_empty());
    let lists = parken_code_lists();
    for cl in &lists {
        assert!(!cl.entries.is_empty(), "{}", cl.canonical_uri);
        assert!(!cl.canonical_uri.is_empty());
    }
    assert_eq!(lists.len(), 6);
}

const VALID: [&str; 9] = [
    "v2/data-field-rule",
    "v2/data-group-rule",
    "v2/label",
    "v2/minimal",
    "v2/rule",
    "v2/select",
    "v2/simple",
    "v3/input",
    "v3/simple",
];

/// (fixture, words the error must contain)
const INVALID: [(&str, &str); 9] = [
    ("v2/duplicate-optional-value", "only once"),
    ("v2/duplicate-required-value", "only once"),
    ("v2/unknown-namespace", "unknown namespace"),
    ("v3/duplicate-id-node", "only once"),
    ("v3/empty-id-node", "<id> is empty"),
    ("v3/missing-id-node", "<id> is missing"),
    ("v3/invalid-freigabestatus", "freigabestatus"),
    ("v3/unexpected-node", "unexpected element"),
    ("v3/unknown-namespace", "unknown namespace"),
];

#[test]
fn every_parser_fixture_is_checked() {
    let mut on_disk = Vec::new();
    for version in ["v2", "v3"] {
        for e in std::fs::read_dir(fixtures().join(version)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".xml") {
                on_disk.push(format!("{version}/{stem}"));
            }
        }
    }
    on_disk.sort();
    let mut checked: Vec<String> = VALID
        .iter()
        .chain(INVALID.iter().map(|(f, _)| f))
        .map(|f| f.to_string())
        .collect();
    checked.sort();
    assert_eq!(
        on_disk, checked,
        "a fixture on disk is not in VALID or INVALID"
    );
}

#[test]
fn valid_fixtures_read() {
    for f in VALID {
        let src = read_fixture(f);
        let s = xdatenfelder::parse(&src).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!s.root.id.is_empty(), "{f}");
    }
    let src = read_fixture("v2/rule");
    let s = xdatenfelder::parse(&src).unwrap();
    assert!(
        !s.rules().is_empty() && !s.warnings.is_empty(),
        "rules are listed for the editor"
    );
}

#[test]
fn invalid_fixtures_give_clear_errors() {
    for (f, needle) in INVALID {
        let src = read_fixture(f);
        let e = xdatenfelder::parse(&src).expect_err(f);
        assert!(e.to_string().contains(needle), "{f}: {e}");
        assert!(e.line > 0, "{f}: the error names a line");
    }
}

#[test]
fn real_schemas_become_forms() {
    use rathaus_domain::forms::{self, FieldKind};
    let src = read_sample("gewerbeanmeldung/S00000009_xdatenfelder.xml");
    let schema = xdatenfelder::parse(&src).unwrap();
    let import = xdatenfelder::to_form(&schema, &[]);
    let count = |items: &[forms::Item]| -> usize {
        fn c(items: &[forms::Item]) -> usize {
            items
                .iter()
                .map(|i| match i {
                    forms::Item::Field(_) => 1,
                    forms::Item::Group(g) => c(&g.items),
                })
                .sum()
        }
        c(items)
    };
    let total: usize = import.form.steps.iter().map(|s| count(&s.items)).sum();
    assert_eq!(total, 132, "every Datenfeld becomes a form field");
    assert!(import.form.steps.len() > 1);
    assert!(
        import
            .report
            .iter()
            .any(|w| w.message.contains("was not uploaded")),
        "missing code lists are reported"
    );
    // Empty data is refused with per-field problems, and the schema is draft 2020-12.
    let problems = forms::validate(&import.form, &serde_json::json!({}), chrono_today());
    assert!(!problems.is_empty() && problems.iter().all(|p| p.code == "required"));
    assert_eq!(
        forms::lint(&import.form),
        vec![],
        "an imported form is usable as is"
    );
    let example = forms::example_data(&import.form);
    assert_eq!(
        forms::validate(&import.form, &example, chrono_today()),
        vec![],
        "generated example data is valid"
    );
    let js = forms::json_schema(&import.form);
    assert_eq!(
        js["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );

    // Bewohnerparkausweis with its uploaded code lists: selects get entries.
    let src = read_sample("bewohnerparken/S05000058V1.0_xdf2.xml");
    let lists = parken_code_lists();
    let import = xdatenfelder::to_form(&xdatenfelder::parse(&src).unwrap(), &lists);
    assert_eq!(
        forms::lint(&import.form),
        vec![],
        "an imported form is usable as is"
    );
    let text = serde_json::to_string(&import.form).unwrap();
    assert!(
        text.contains("\"kind\":\"select\""),
        "code-list fields are selects"
    );
    fn selects(items: &[forms::Item]) -> Vec<&forms::FieldDef> {
        items
            .iter()
            .flat_map(|i| match i {
                forms::Item::Field(f) if f.kind == FieldKind::Select => vec![f],
                forms::Item::Group(g) => selects(&g.items),
                _ => vec![],
            })
            .collect()
    }
    let all: Vec<_> = import
        .form
        .steps
        .iter()
        .flat_map(|s| selects(&s.items))
        .collect();
    assert!(!all.is_empty() && all.iter().all(|f| !f.options.is_empty()));
}

fn chrono_today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}
