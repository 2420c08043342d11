//! The demo forms written in the JSON format (`demo/forms/`) are valid
//! definitions and their rules do what the municipality means.

use chrono::NaiveDate;
use rathaus_domain::forms::{self, FormDefinition, Node};
use serde_json::{Value, json};

fn load(name: &str) -> FormDefinition {
    let path = format!("{}/../../demo/forms/{name}", env!("CARGO_MANIFEST_DIR"));
    let def: FormDefinition = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(forms::lint(&def), vec![], "{name} lints clean");
    assert_eq!(
        forms::json_schema(&def)["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    def
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn problems(def: &FormDefinition, data: &Value) -> Vec<(String, &'static str)> {
    forms::validate(def, data, today())
        .into_iter()
        .map(|p| (p.path, p.code))
        .collect()
}

fn hund(rasse: &str) -> Value {
    json!({"name": "Bello", "rasse": rasse, "wurfdatum": "2021-03-01", "haltung_seit": "2021-06-01"})
}

fn halter() -> Value {
    json!({
        "vorname": "Erika", "familienname": "Mustermann", "geburtsdatum": "1980-05-17",
        "anschrift": {"strasse": "Hauptstraße", "hausnummer": "1", "plz": "12345", "ort": "Musterstadt"},
        "hunde": [hund("mischling")],
        "ermaessigung": false, "lastschrift": false, "richtigkeit": true
    })
}

#[test]
fn hundesteuer_rules() {
    let def = load("hundesteuer-anmeldung.json");
    assert_eq!(problems(&def, &halter()), vec![]);

    let mut d = halter();
    d["geburtsdatum"] = json!("2010-01-01");
    assert_eq!(problems(&def, &d), vec![("geburtsdatum".into(), "check")]);

    let mut d = halter();
    d["hunde"] = json!([hund("mischling"), hund("pitbull")]);
    assert_eq!(
        problems(&def, &d),
        vec![("hunde[1].erlaubnis".into(), "required")]
    );

    let mut d = halter();
    d["hunde"] = json!(vec![hund("mischling"); 6]);
    assert_eq!(problems(&def, &d), vec![("hunde".into(), "group.too_many")]);

    let mut d = halter();
    d["lastschrift"] = json!(true);
    assert_eq!(
        problems(&def, &d),
        vec![
            ("kontoinhaber".into(), "required"),
            ("iban".into(), "required")
        ]
    );
    d["kontoinhaber"] = json!("Erika Mustermann");
    d["iban"] = json!("DE00370400440532013000");
    assert_eq!(problems(&def, &d), vec![("iban".into(), "iban.invalid")]);

    let mut d = halter();
    d["anschrift"]["plz"] = json!("1234");
    d["hunde"][0]["wurfdatum"] = json!("2030-01-01");
    d["richtigkeit"] = json!(false);
    assert_eq!(
        problems(&def, &d),
        vec![
            ("anschrift.plz".into(), "pattern.mismatch"),
            ("hunde[0].wurfdatum".into(), "check"),
            ("hunde[0].haltung_seit".into(), "check"),
            ("richtigkeit".into(), "check"),
        ]
    );

    // Conditions: the other breed's text field and the reduction fields appear only when meant.
    let mut d = halter();
    let shown =
        |d: &Value, step: usize| forms::visible_paths(&forms::layout(&def, step, d, today()));
    assert!(!shown(&d, 1).contains(&"hunde[0].rasse_sonstige".to_string()));
    d["hunde"][0]["rasse"] = json!("sonstige");
    assert!(shown(&d, 1).contains(&"hunde[0].rasse_sonstige".to_string()));
    assert!(!shown(&d, 2).contains(&"ermaessigung_grund".to_string()));
    d["ermaessigung"] = json!(true);
    assert!(shown(&d, 2).contains(&"ermaessigung_grund".to_string()));

    // The computed number of dogs.
    let mut d = halter();
    d["hunde"] = json!([hund("mischling"), hund("dackel")]);
    forms::apply_computed(&def, &mut d, today());
    assert_eq!(d["anzahl_hunde"], json!(2));
    let nodes = forms::layout(&def, 1, &d, today());
    assert!(
        nodes
            .iter()
            .any(|n| matches!(n, Node::Group { instances, .. } if instances.len() == 2))
    );
}

#[test]
fn brunnenbohrung_rules() {
    let def = load("brunnenbohrung-anzeige.json");
    let base = json!({
        "vorname": "Max", "familienname": "Muster", "email": "max@example.org", "eigentuemer": true,
        "anschrift": {"strasse": "Am Brunnen", "hausnummer": "3", "plz": "12345", "ort": "Musterstadt"},
        "gemarkung": "Musterstadt", "flur": 4, "flurstueck": "123/4",
        "zweck": "garten", "tiefe": 12, "entnahme": 50, "beginn": "2027-01-15",
        "lageplan": "x/lageplan.pdf", "richtigkeit": true
    });
    assert_eq!(problems(&def, &base), vec![]);
    let mut d = base.clone();
    d["zweck"] = json!("erdwaerme");
    assert_eq!(
        problems(&def, &d),
        vec![("waermeleistung".into(), "required")]
    );
    let mut d = base.clone();
    d["beginn"] = json!("2026-11-23");
    assert_eq!(problems(&def, &d), vec![("beginn".into(), "check")]);
    let mut d = base.clone();
    d["eigentuemer"] = json!(false);
    d["tiefe"] = json!(150);
    assert_eq!(
        problems(&def, &d),
        vec![
            ("einverstaendnis".into(), "required"),
            ("tiefe".into(), "too_large")
        ]
    );
}
