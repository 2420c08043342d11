//! The JSON Schema export of real FIM forms is valid draft 2020-12, accepts
//! data the server accepts, and rejects data it must reject.

use rathaus_domain::forms::{self, FormDefinition};
use rathaus_standards::xdatenfelder;
use serde_json::{Value, json};

const FIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/fim");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIM}/{rel}")).unwrap()
}

fn gewerbe() -> FormDefinition {
    xdatenfelder::import(
        "S00000009",
        &read("gewerbeanmeldung/S00000009_xdatenfelder.xml"),
        &[],
    )
    .unwrap()
    .form
}

fn parken() -> FormDefinition {
    let lists: Vec<(String, String)> = std::fs::read_dir(format!("{FIM}/bewohnerparken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("genericode"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert_eq!(lists.len(), 6);
    xdatenfelder::import(
        "S05000058",
        &read("bewohnerparken/S05000058V1.0_xdf2.xml"),
        &lists,
    )
    .unwrap()
    .form
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn check(def: &FormDefinition) -> (jsonschema::Validator, Value) {
    let schema = forms::json_schema(def);
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("not a valid 2020-12 schema: {e}"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let example = forms::example_data(def);
    assert_eq!(
        forms::validate(def, &example, today()),
        vec![],
        "the server accepts the example"
    );
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the schema accepts the example: {errors:?}"
    );
    (validator, example)
}

fn first_required(schema: &Value) -> String {
    schema["required"][0]
        .as_str()
        .expect("a required property")
        .to_string()
}

#[test]
fn gewerbe_anmeldung_schema() {
    let def = gewerbe();
    let (validator, example) = check(&def);
    let schema = forms::json_schema(&def);
    let mut broken = example.clone();
    broken
        .as_object_mut()
        .unwrap()
        .remove(&first_required(&schema));
    assert!(
        !validator.is_valid(&broken),
        "a missing required field is rejected"
    );
    assert!(!validator.is_valid(&json!([])), "data must be an object");
}

#[test]
fn bewohnerparkausweis_schema_with_code_lists() {
    let def = parken();
    let (validator, example) = check(&def);
    let schema = forms::json_schema(&def);
    // Find a select with an enum and put a value outside the code list.
    fn enum_path(s: &Value, path: &mut Vec<String>) -> bool {
        if let Some(props) = s.get("properties").and_then(|p| p.as_object()) {
            for (k, v) in props {
                path.push(k.clone());
                if v.get("enum").is_some() || enum_path(v, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = Vec::new();
    assert!(
        enum_path(&schema, &mut path),
        "code-list fields have an enum"
    );
    let mut broken = example.clone();
    let mut cur = &mut broken;
    for (i, k) in path.iter().enumerate() {
        if i + 1 == path.len() {
            cur[k] = json!("gibt-es-nicht");
        } else {
            cur = &mut cur[k];
        }
    }
    assert!(
        !validator.is_valid(&broken),
        "a value outside the code list is rejected"
    );
    assert!(
        !forms::validate(&def, &broken, today()).is_empty(),
        "and the server agrees"
    );
}
