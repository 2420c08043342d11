//! Form definitions (C2) and their server-side validation, with conditions,
//! repeatable groups and checks expressed in the one rule language
//! ([`crate::rules`]). A definition is plain data with a stable JSON format,
//! so it can be exported and re-used by another tenant.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::{
    catalog::I18nText,
    rules::{self, Expr, Fields, Value},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    MultiLine,
    Number,
    Integer,
    Currency,
    Date,
    Select,
    Radio,
    Checkboxes,
    YesNo,
    Email,
    Phone,
    Iban,
    File,
    /// Shows text only; never has a value.
    Label,
}

/// One entry of a code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// A check written in the rule language; fails when the rule is false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub message: I18nText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub key: String,
    pub label: I18nText,
    #[serde(default)]
    pub help: I18nText,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Shown only when this rule is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<String>,
    /// Required when this rule is true (in addition to `required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_if: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Computed by the server from this rule; not entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDef {
    pub key: String,
    pub label: I18nText,
    /// Instances: at least `min`, at most `max` (`None`: unbounded). 1..1 is a plain group.
    pub min: u32,
    pub max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<String>,
    pub items: Vec<Item>,
}

impl GroupDef {
    pub fn repeatable(&self) -> bool {
        self.max != Some(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    Field(FieldDef),
    Group(GroupDef),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub key: String,
    pub title: I18nText,
    pub items: Vec<Item>,
}

/// A form: steps of fields and groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDefinition {
    pub key: String,
    pub title: I18nText,
    pub steps: Vec<Step>,
}

/// A problem with the submitted data at `path` (`"hunde[1].name"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub path: String,
    /// Message code (`required`, `too_long`, `iban.invalid`, …) or `check` with `message`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<I18nText>,
}

/// Every rule of a definition that does not parse, with its location.
pub fn check_rules(def: &FormDefinition) -> Vec<(String, rules::RuleError)> {
    let mut out = Vec::new();
    fn walk(items: &[Item], out: &mut Vec<(String, rules::RuleError)>) {
        for item in items {
            match item {
                Item::Field(f) => {
                    let mut all: Vec<&String> = [&f.visible_if, &f.required_if, &f.computed]
                        .into_iter()
                        .flatten()
                        .collect();
                    all.extend(f.checks.iter().map(|c| &c.rule));
                    for r in all {
                        if let Err(e) = rules::parse(r) {
                            out.push((f.key.clone(), e));
                        }
                    }
                }
                Item::Group(g) => {
                    if let Some(r) = &g.visible_if
                        && let Err(e) = rules::parse(r)
                    {
                        out.push((g.key.clone(), e));
                    }
                    walk(&g.items, out);
                }
            }
        }
    }
    for s in &def.steps {
        walk(&s.items, &mut out);
    }
    out
}

fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(a) => Value::List(a.iter().map(to_value).collect()),
        Json::Object(_) => Value::Null,
    }
}

/// The values a rule sees: the current group instance's fields by key, and
/// every enclosing scope's fields (inner scopes win).
struct Scope<'a> {
    layers: Vec<&'a serde_json::Map<String, Json>>,
    today: NaiveDate,
}

impl Fields for Scope<'_> {
    fn get(&self, path: &str) -> Value {
        for layer in self.layers.iter().rev() {
            let mut cur: Option<&Json> = None;
            for (i, part) in path.split('.').enumerate() {
                cur = if i == 0 {
                    layer.get(part)
                } else {
                    cur.and_then(|c| c.get(part))
                };
            }
            if let Some(v) = cur {
                return to_value(v);
            }
        }
        Value::Null
    }
    fn today(&self) -> NaiveDate {
        self.today
    }
}

fn holds(rule: &Option<String>, scope: &Scope<'_>, default: bool) -> bool {
    match rule {
        None => default,
        Some(r) => rules::parse(r)
            .map(|e: Expr| rules::eval(&e, scope).truthy())
            .unwrap_or(default),
    }
}

fn is_empty(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => true,
        Some(Json::String(s)) => s.trim().is_empty(),
        Some(Json::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn check_field(
    f: &FieldDef,
    v: Option<&Json>,
    scope: &Scope<'_>,
    path: &str,
    out: &mut Vec<Problem>,
) {
    let push = |out: &mut Vec<Problem>, code: &'static str| {
        out.push(Problem {
            path: path.to_string(),
            code,
            message: None,
        })
    };
    if f.kind == FieldKind::Label || f.computed.is_some() || !holds(&f.visible_if, scope, true) {
        return;
    }
    if is_empty(v) {
        if f.required || holds(&f.required_if, scope, false) {
            push(out, "required");
        }
        return;
    }
    let v = v.expect("not empty");
    let before = out.len();
    let text = match v {
        Json::String(s) => Some(s.trim().to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let len = text.as_ref().map(|t| t.chars().count() as u32);
    if let (Some(min), Some(l)) = (f.min_length, len)
        && l < min
    {
        push(out, "too_short");
    }
    if let (Some(max), Some(l)) = (f.max_length, len)
        && l > max
    {
        push(out, "too_long");
    }
    match f.kind {
        FieldKind::Number | FieldKind::Integer | FieldKind::Currency => {
            let n = match v {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
                _ => None,
            };
            match n {
                None => push(out, "number.invalid"),
                Some(n) => {
                    if f.kind == FieldKind::Integer && n.fract() != 0.0 {
                        push(out, "number.integer");
                    }
                    if f.min_value.is_some_and(|m| n < m) {
                        push(out, "too_small");
                    }
                    if f.max_value.is_some_and(|m| n > m) {
                        push(out, "too_large");
                    }
                }
            }
        }
        FieldKind::Date => {
            let ok = text.as_deref().is_some_and(|t| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()
                    || NaiveDate::parse_from_str(t, "%d.%m.%Y").is_ok()
            });
            if !ok {
                push(out, "date.invalid");
            }
        }
        FieldKind::Email
            if crate::identity::Email::parse(text.as_deref().unwrap_or_default()).is_err() =>
        {
            push(out, "email.invalid");
        }
        FieldKind::Iban if !rules::iban_valid(text.as_deref().unwrap_or_default()) => {
            push(out, "iban.invalid");
        }
        FieldKind::YesNo
            if !matches!(v, Json::Bool(_))
                && !matches!(text.as_deref(), Some("true" | "false" | "ja" | "nein")) =>
        {
            push(out, "yes_no.invalid");
        }
        FieldKind::Select | FieldKind::Radio
            if !f.options.is_empty()
                && !f
                    .options
                    .iter()
                    .any(|o| Some(o.code.as_str()) == text.as_deref()) =>
        {
            push(out, "option.unknown");
        }
        FieldKind::Checkboxes => {
            let codes: Vec<&str> = match v {
                Json::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                _ => vec![],
            };
            if codes
                .iter()
                .any(|c| !f.options.iter().any(|o| o.code == *c))
            {
                push(out, "option.unknown");
            }
        }
        FieldKind::Phone => {
            let t = text.unwrap_or_default();
            let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
            if digits < 5
                || !t
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
            {
                push(out, "phone.invalid");
            }
        }
        _ => {}
    }
    // Checks only run on values that passed the basic checks.
    if out.len() > before {
        return;
    }
    for c in &f.checks {
        let ok = rules::parse(&c.rule)
            .map(|e| rules::eval(&e, scope).truthy())
            .unwrap_or(true);
        if !ok {
            out.push(Problem {
                path: path.to_string(),
                code: "check",
                message: Some(c.message.clone()),
            });
        }
    }
}

fn walk<'a>(
    items: &'a [Item],
    data: &'a serde_json::Map<String, Json>,
    scope: &mut Scope<'a>,
    prefix: &str,
    out: &mut Vec<Problem>,
) {
    for item in items {
        match item {
            Item::Field(f) => check_field(
                f,
                data.get(&f.key),
                scope,
                &format!("{prefix}{}", f.key),
                out,
            ),
            Item::Group(g) => {
                if !holds(&g.visible_if, scope, true) {
                    continue;
                }
                let path = format!("{prefix}{}", g.key);
                let instances: Vec<&serde_json::Map<String, Json>> = match data.get(&g.key) {
                    Some(Json::Array(a)) => a.iter().filter_map(|x| x.as_object()).collect(),
                    Some(Json::Object(o)) => vec![o],
                    _ => vec![],
                };
                if (instances.len() as u32) < g.min {
                    out.push(Problem {
                        path: path.clone(),
                        code: if instances.is_empty() {
                            "required"
                        } else {
                            "group.too_few"
                        },
                        message: None,
                    });
                }
                if g.max.is_some_and(|m| instances.len() as u32 > m) {
                    out.push(Problem {
                        path: path.clone(),
                        code: "group.too_many",
                        message: None,
                    });
                }
                for (i, inst) in instances.into_iter().enumerate() {
                    let inner = if g.repeatable() {
                        format!("{path}[{i}].")
                    } else {
                        format!("{path}.")
                    };
                    scope.layers.push(inst);
                    walk(&g.items, inst, scope, &inner, out);
                    scope.layers.pop();
                }
            }
        }
    }
}

/// Validates submitted data (a JSON object) against the definition, on the
/// server, evaluating conditions with the rule engine. `today` fixes the date.
pub fn validate(def: &FormDefinition, data: &Json, today: NaiveDate) -> Vec<Problem> {
    let empty = serde_json::Map::new();
    let root = data.as_object().unwrap_or(&empty);
    let mut scope = Scope {
        layers: vec![root],
        today,
    };
    let mut out = Vec::new();
    for s in &def.steps {
        walk(&s.items, root, &mut scope, "", &mut out);
    }
    out
}

fn field_schema(f: &FieldDef) -> Json {
    let mut s = match f.kind {
        FieldKind::Number | FieldKind::Currency => json!({"type": "number"}),
        FieldKind::Integer => json!({"type": "integer"}),
        FieldKind::YesNo => json!({"type": "boolean"}),
        FieldKind::Date => json!({"type": "string", "format": "date"}),
        FieldKind::Email => json!({"type": "string", "format": "email"}),
        FieldKind::Checkboxes => {
            json!({"type": "array", "items": {"enum": f.options.iter().map(|o| o.code.clone()).collect::<Vec<_>>()}})
        }
        FieldKind::File => {
            json!({"type": "string", "description": "reference to an uploaded file"})
        }
        _ => json!({"type": "string"}),
    };
    let o = s.as_object_mut().expect("object");
    o.insert("title".into(), json!(f.label.de));
    if matches!(f.kind, FieldKind::Select | FieldKind::Radio) && !f.options.is_empty() {
        o.insert(
            "enum".into(),
            json!(f.options.iter().map(|c| c.code.clone()).collect::<Vec<_>>()),
        );
    }
    if let Some(v) = f.min_length {
        o.insert("minLength".into(), json!(v));
    }
    if let Some(v) = f.max_length {
        o.insert("maxLength".into(), json!(v));
    }
    if let Some(v) = f.min_value {
        o.insert("minimum".into(), json!(v));
    }
    if let Some(v) = f.max_value {
        o.insert("maximum".into(), json!(v));
    }
    s
}

fn items_schema(items: &[Item]) -> Json {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for item in items {
        match item {
            Item::Field(f) if f.kind == FieldKind::Label => {}
            Item::Field(f) => {
                props.insert(f.key.clone(), field_schema(f));
                if f.required && f.visible_if.is_none() && f.computed.is_none() {
                    required.push(f.key.clone());
                }
            }
            Item::Group(g) => {
                let inner = items_schema(&g.items);
                let s = if g.repeatable() {
                    let mut a = json!({"type": "array", "title": g.label.de, "items": inner, "minItems": g.min});
                    if let Some(m) = g.max {
                        a["maxItems"] = json!(m);
                    }
                    a
                } else {
                    inner
                };
                props.insert(g.key.clone(), s);
                if g.min > 0 && g.visible_if.is_none() {
                    required.push(g.key.clone());
                }
            }
        }
    }
    json!({"type": "object", "properties": props, "required": required})
}

/// The data model of a form as JSON Schema (draft 2020-12). Conditional
/// required-ness is not expressible there; the server enforces it.
pub fn json_schema(def: &FormDefinition) -> Json {
    let items: Vec<Item> = def.steps.iter().flat_map(|s| s.items.clone()).collect();
    let mut s = items_schema(&items);
    let o = s.as_object_mut().expect("object");
    o.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    o.insert("title".into(), json!(def.title.de));
    s
}

/// Every field key with its path, for reports.
pub fn field_paths(def: &FormDefinition) -> HashMap<String, String> {
    fn walk(items: &[Item], prefix: &str, out: &mut HashMap<String, String>) {
        for i in items {
            match i {
                Item::Field(f) => {
                    out.insert(f.key.clone(), format!("{prefix}{}", f.key));
                }
                Item::Group(g) => walk(&g.items, &format!("{prefix}{}.", g.key), out),
            }
        }
    }
    let mut out = HashMap::new();
    for s in &def.steps {
        walk(&s.items, "", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn t(s: &str) -> I18nText {
        I18nText {
            de: s.into(),
            en: String::new(),
        }
    }

    fn field(key: &str, kind: FieldKind, required: bool) -> FieldDef {
        FieldDef {
            key: key.into(),
            label: t(key),
            help: I18nText::default(),
            kind,
            required,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            options: vec![],
            visible_if: None,
            required_if: None,
            checks: vec![],
            computed: None,
        }
    }

    fn hundesteuer() -> FormDefinition {
        let mut rasse = field("rasse", FieldKind::Select, true);
        rasse.options = vec![
            Choice {
                code: "mischling".into(),
                label: "Mischling".into(),
            },
            Choice {
                code: "pitbull".into(),
                label: "Pitbull".into(),
            },
        ];
        let mut nachweis = field("wesenstest", FieldKind::File, false);
        nachweis.required_if = Some("rasse == 'pitbull'".into());
        let mut geburt = field("geburtsdatum", FieldKind::Date, true);
        geburt.checks = vec![Check {
            rule: "geburtsdatum <= today()".into(),
            message: t("Das Datum liegt in der Zukunft."),
        }];
        let mut name = field("name", FieldKind::Text, true);
        name.max_length = Some(20);
        FormDefinition {
            key: "hundesteuer".into(),
            title: t("Hundesteuer anmelden"),
            steps: vec![
                Step {
                    key: "halter".into(),
                    title: t("Halter"),
                    items: vec![
                        Item::Field(field("familienname", FieldKind::Text, true)),
                        Item::Field(field("email", FieldKind::Email, false)),
                        Item::Field(field("iban", FieldKind::Iban, true)),
                    ],
                },
                Step {
                    key: "hunde".into(),
                    title: t("Hunde"),
                    items: vec![Item::Group(GroupDef {
                        key: "hunde".into(),
                        label: t("Hund"),
                        min: 1,
                        max: Some(3),
                        visible_if: None,
                        items: vec![
                            Item::Field(name),
                            Item::Field(rasse),
                            Item::Field(geburt),
                            Item::Field(nachweis),
                        ],
                    })],
                },
            ],
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn codes(p: &[Problem]) -> Vec<(String, &'static str)> {
        p.iter().map(|x| (x.path.clone(), x.code)).collect()
    }

    #[test]
    fn valid_data_passes() {
        let data = json!({"familienname": "Muster", "email": "a@b.de", "iban": "DE89 3704 0044 0532 0130 00",
            "hunde": [{"name": "Bello", "rasse": "mischling", "geburtsdatum": "2020-05-01"}]});
        assert_eq!(validate(&hundesteuer(), &data, today()), vec![]);
    }

    #[test]
    fn problems_name_the_path() {
        let data = json!({"email": "kein-at", "iban": "DE00 1234",
            "hunde": [{"name": "Ein sehr sehr langer Hundename", "rasse": "dackel", "geburtsdatum": "2030-01-01"},
                      {"name": "Rex", "rasse": "pitbull", "geburtsdatum": "31.02.2020"}]});
        let p = validate(&hundesteuer(), &data, today());
        assert_eq!(
            codes(&p),
            vec![
                ("familienname".into(), "required"),
                ("email".into(), "email.invalid"),
                ("iban".into(), "iban.invalid"),
                ("hunde[0].name".into(), "too_long"),
                ("hunde[0].rasse".into(), "option.unknown"),
                ("hunde[0].geburtsdatum".into(), "check"),
                ("hunde[1].geburtsdatum".into(), "date.invalid"),
                ("hunde[1].wesenstest".into(), "required"),
            ]
        );
    }

    #[test]
    fn group_counts() {
        let p = validate(
            &hundesteuer(),
            &json!({"familienname": "M", "iban": "DE89370400440532013000"}),
            today(),
        );
        assert_eq!(codes(&p), vec![("hunde".into(), "required")]);
        let many = json!({"familienname": "M", "iban": "DE89370400440532013000", "hunde": [
            {"name": "a", "rasse": "mischling", "geburtsdatum": "2020-01-01"}, {"name": "b", "rasse": "mischling", "geburtsdatum": "2020-01-01"},
            {"name": "c", "rasse": "mischling", "geburtsdatum": "2020-01-01"}, {"name": "d", "rasse": "mischling", "geburtsdatum": "2020-01-01"}]});
        assert_eq!(
            codes(&validate(&hundesteuer(), &many, today())),
            vec![("hunde".into(), "group.too_many")]
        );
    }

    #[test]
    fn json_format_and_schema() {
        let def = hundesteuer();
        let text = serde_json::to_string(&def).unwrap();
        assert_eq!(serde_json::from_str::<FormDefinition>(&text).unwrap(), def);
        let s = json_schema(&def);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["properties"]["hunde"]["maxItems"], 3);
        assert_eq!(
            s["properties"]["hunde"]["items"]["properties"]["rasse"]["enum"][1],
            "pitbull"
        );
        assert!(s["required"].as_array().unwrap().contains(&json!("iban")));
        assert!(check_rules(&def).is_empty());
        assert_eq!(field_paths(&def)["rasse"], "hunde.rasse");
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            (-1e6f64..1e6).prop_map(|n| json!(n)),
            ".{0,30}".prop_map(Json::String),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::hash_map(
                    prop::sample::select(vec![
                        "familienname",
                        "email",
                        "iban",
                        "hunde",
                        "name",
                        "rasse",
                        "geburtsdatum",
                        "x"
                    ])
                    .prop_map(String::from),
                    inner,
                    0..6
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn validation_never_panics_on_any_json(data in arb_json()) {
            let _ = validate(&hundesteuer(), &data, today());
        }

        #[test]
        fn hidden_fields_are_never_required(flag in any::<bool>()) {
            let mut f = field("extra", FieldKind::Text, true);
            f.visible_if = Some("zeigen == true".into());
            let def = FormDefinition { key: "k".into(), title: t("k"), steps: vec![Step { key: "s".into(), title: t("s"), items: vec![Item::Field(f)] }] };
            let p = validate(&def, &json!({"zeigen": flag}), today());
            prop_assert_eq!(p.is_empty(), !flag);
        }
    }
}
