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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// A check written in the rule language; fails when the rule is false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub rule: String,
    pub message: I18nText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// A regular expression the whole (trimmed) value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// HTML autocomplete token (`family-name`, `postal-code`, …); also the key
    /// under which account data prefills the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// For file fields: the required document of the service this upload provides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupDef {
    pub key: String,
    pub label: I18nText,
    /// Instances: at least `min`, at most `max` (`None`: unbounded). 1..1 is a plain group.
    pub min: u32,
    pub max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_if: Option<String>,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub items: Vec<Item>,
}

impl GroupDef {
    pub fn repeatable(&self) -> bool {
        self.max != Some(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Definitions are loaded once per request and walked by reference; boxing the
// field would only add indirection to the JSON format's code.
#[allow(clippy::large_enum_variant)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Item {
    Field(FieldDef),
    Group(GroupDef),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub key: String,
    pub title: I18nText,
    pub items: Vec<Item>,
}

/// A form: steps of fields and groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        // A group instance counts as present (`count(hunde)` = number of dogs).
        Json::Object(_) => Value::Bool(true),
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
        FieldKind::Text | FieldKind::MultiLine
            if f.pattern
                .as_deref()
                .is_some_and(|p| !pattern_matches(p, text.as_deref().unwrap_or_default())) =>
        {
            push(out, "pattern.mismatch");
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
/// Values the definition does not know are problems too (`field.unknown`,
/// named by their path): nothing is stored that the form did not ask for.
pub fn validate(def: &FormDefinition, data: &Json, today: NaiveDate) -> Vec<Problem> {
    let empty = serde_json::Map::new();
    let root = data.as_object().unwrap_or(&empty);
    let mut scope = Scope {
        layers: vec![root],
        today,
    };
    let mut out: Vec<Problem> = unknown_keys(def, data)
        .into_iter()
        .map(|path| Problem {
            path,
            code: "field.unknown",
            message: None,
        })
        .collect();
    for s in &def.steps {
        walk(&s.items, root, &mut scope, "", &mut out);
    }
    out
}

/// Most unknown paths reported for one submission.
const MAX_UNKNOWN: usize = 50;

/// The paths of values in `data` that no field or group of the definition
/// holds (`erfunden`, `hunde[0].farbe`; `hunde[2]` for an instance that is
/// no object), in document order of the data; at most [`MAX_UNKNOWN`].
pub fn unknown_keys(def: &FormDefinition, data: &Json) -> Vec<String> {
    /// `lists`: the item lists that may hold a key at this level.
    fn walk(
        lists: &[&[Item]],
        obj: &serde_json::Map<String, Json>,
        prefix: &str,
        out: &mut Vec<String>,
    ) {
        for (key, value) in obj {
            if out.len() >= MAX_UNKNOWN {
                return;
            }
            let path = format!("{prefix}{key}");
            match lists.iter().find_map(|items| find_item(items, key)) {
                None => out.push(path),
                Some(Item::Field(_)) => {}
                Some(Item::Group(g)) => {
                    let inner: &[&[Item]] = &[&g.items];
                    match value {
                        Json::Array(a) if g.repeatable() => {
                            for (i, inst) in a.iter().enumerate() {
                                match inst {
                                    Json::Object(o) => {
                                        walk(inner, o, &format!("{path}[{i}]."), out)
                                    }
                                    _ => out.push(format!("{path}[{i}]")),
                                }
                            }
                        }
                        Json::Object(o) => walk(inner, o, &format!("{path}."), out),
                        // Wrong types are reported by validation where it reads them.
                        _ => {}
                    }
                }
            }
        }
    }
    let Some(root) = data.as_object() else {
        return Vec::new();
    };
    let steps: Vec<&[Item]> = def.steps.iter().map(|s| s.items.as_slice()).collect();
    let mut out = Vec::new();
    walk(&steps, root, "", &mut out);
    out
}

/// Removes the values of fields and groups that the form's rules hide for
/// this data (`visible_if` false): what the applicant was not shown is not
/// stored. Repeated until nothing changes, as a removed value may hide
/// another field.
pub fn drop_hidden(def: &FormDefinition, data: &mut Json, today: NaiveDate) {
    /// (key, index in its array) from the root to a value.
    type Path = Vec<(String, Option<usize>)>;
    fn collect<'a>(
        items: &'a [Item],
        data: &'a serde_json::Map<String, Json>,
        scope: &mut Scope<'a>,
        prefix: &Path,
        out: &mut Vec<Path>,
    ) {
        for item in items {
            let (key, visible_if) = match item {
                Item::Field(f) => (&f.key, &f.visible_if),
                Item::Group(g) => (&g.key, &g.visible_if),
            };
            let Some(value) = data.get(key) else { continue };
            let mut path = prefix.clone();
            path.push((key.clone(), None));
            if !holds(visible_if, scope, true) {
                out.push(path);
                continue;
            }
            if let Item::Group(g) = item {
                let instances: Vec<(Option<usize>, &serde_json::Map<String, Json>)> = match value {
                    Json::Array(a) => a
                        .iter()
                        .enumerate()
                        .filter_map(|(i, x)| x.as_object().map(|o| (Some(i), o)))
                        .collect(),
                    Json::Object(o) => vec![(None, o)],
                    _ => vec![],
                };
                for (i, inst) in instances {
                    let mut inner = prefix.clone();
                    inner.push((key.clone(), i));
                    scope.layers.push(inst);
                    collect(&g.items, inst, scope, &inner, out);
                    scope.layers.pop();
                }
            }
        }
    }
    fn remove(data: &mut Json, path: &[(String, Option<usize>)]) {
        let Some(((last, _), parents)) = path.split_last() else {
            return;
        };
        let mut cur = data;
        for (key, index) in parents {
            let Some(next) = cur.get_mut(key.as_str()) else {
                return;
            };
            cur = match index {
                Some(i) => match next.get_mut(*i) {
                    Some(n) => n,
                    None => return,
                },
                None => next,
            };
        }
        if let Some(o) = cur.as_object_mut() {
            o.remove(last);
        }
    }
    // Each round removes at least one value; a form has finitely many.
    for _ in 0..100 {
        let hidden = {
            let Some(root) = data.as_object() else { return };
            let mut scope = Scope {
                layers: vec![root],
                today,
            };
            let mut out = Vec::new();
            for s in &def.steps {
                collect(&s.items, root, &mut scope, &Vec::new(), &mut out);
            }
            out
        };
        if hidden.is_empty() {
            return;
        }
        for path in &hidden {
            remove(data, path);
        }
    }
}

/// Validates only the items of step `step` (conditions still see all data).
pub fn validate_step(
    def: &FormDefinition,
    step: usize,
    data: &Json,
    today: NaiveDate,
) -> Vec<Problem> {
    let empty = serde_json::Map::new();
    let root = data.as_object().unwrap_or(&empty);
    let mut scope = Scope {
        layers: vec![root],
        today,
    };
    let mut out = Vec::new();
    if let Some(s) = def.steps.get(step) {
        walk(&s.items, root, &mut scope, "", &mut out);
    }
    out
}

/// Whether `pattern` is a usable regular expression.
pub fn pattern_valid(pattern: &str) -> bool {
    pattern.len() <= 500 && regex::Regex::new(&format!("^(?:{pattern})$")).is_ok()
}

fn pattern_matches(pattern: &str, text: &str) -> bool {
    use std::cell::RefCell;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 1000 {
            c.clear();
        }
        let re = c
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok());
        // An unusable pattern never blocks a citizen; the editor is told on save.
        re.as_ref().is_none_or(|r| r.is_match(text))
    })
}

/// One visible element of a step, as the wizard renders it. Hidden fields
/// and groups are left out; conditions are evaluated here, on the server.
#[derive(Debug, Clone)]
pub enum Node<'a> {
    Field {
        path: String,
        def: &'a FieldDef,
        value: Json,
        /// Required now (static or by `required_if`).
        required: bool,
    },
    Group {
        path: String,
        def: &'a GroupDef,
        /// Each instance's nodes, with the instance path (`hunde[1]` or `anschrift`).
        instances: Vec<(String, Vec<Node<'a>>)>,
        can_add: bool,
        can_remove: bool,
    },
}

impl Node<'_> {
    pub fn path(&self) -> &str {
        match self {
            Node::Field { path, .. } | Node::Group { path, .. } => path,
        }
    }
}

fn layout_items<'a>(
    items: &'a [Item],
    data: &'a serde_json::Map<String, Json>,
    scope: &mut Scope<'a>,
    prefix: &str,
    out: &mut Vec<Node<'a>>,
) {
    for item in items {
        match item {
            Item::Field(f) => {
                if !holds(&f.visible_if, scope, true) {
                    continue;
                }
                out.push(Node::Field {
                    path: format!("{prefix}{}", f.key),
                    def: f,
                    value: data.get(&f.key).cloned().unwrap_or(Json::Null),
                    required: f.kind != FieldKind::Label
                        && f.computed.is_none()
                        && (f.required || holds(&f.required_if, scope, false)),
                });
            }
            Item::Group(g) => {
                if !holds(&g.visible_if, scope, true) {
                    continue;
                }
                let path = format!("{prefix}{}", g.key);
                static EMPTY: std::sync::OnceLock<serde_json::Map<String, Json>> =
                    std::sync::OnceLock::new();
                let empty = EMPTY.get_or_init(serde_json::Map::new);
                let mut instances: Vec<&serde_json::Map<String, Json>> = match data.get(&g.key) {
                    Some(Json::Array(a)) => a.iter().filter_map(|x| x.as_object()).collect(),
                    Some(Json::Object(o)) => vec![o],
                    _ => vec![],
                };
                let shown_min = if g.repeatable() { g.min } else { 1 };
                while (instances.len() as u32) < shown_min {
                    instances.push(empty);
                }
                let count = instances.len() as u32;
                let mut rendered = Vec::new();
                for (i, inst) in instances.into_iter().enumerate() {
                    let ipath = if g.repeatable() {
                        format!("{path}[{i}]")
                    } else {
                        path.clone()
                    };
                    scope.layers.push(inst);
                    let mut nodes = Vec::new();
                    layout_items(&g.items, inst, scope, &format!("{ipath}."), &mut nodes);
                    scope.layers.pop();
                    rendered.push((ipath, nodes));
                }
                out.push(Node::Group {
                    path,
                    def: g,
                    instances: rendered,
                    can_add: g.repeatable() && g.max.is_none_or(|m| count < m),
                    can_remove: g.repeatable() && count > g.min,
                });
            }
        }
    }
}

/// The visible nodes of step `step` for `data`.
pub fn layout<'a>(
    def: &'a FormDefinition,
    step: usize,
    data: &'a Json,
    today: NaiveDate,
) -> Vec<Node<'a>> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Json>> = std::sync::OnceLock::new();
    let root = data
        .as_object()
        .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new));
    let mut scope = Scope {
        layers: vec![root],
        today,
    };
    let mut out = Vec::new();
    if let Some(s) = def.steps.get(step) {
        layout_items(&s.items, root, &mut scope, "", &mut out);
    }
    out
}

/// Every path of a visible field in `nodes` (for noticing that a change made
/// new fields appear).
pub fn visible_paths(nodes: &[Node<'_>]) -> Vec<String> {
    fn walk(nodes: &[Node<'_>], out: &mut Vec<String>) {
        for n in nodes {
            match n {
                Node::Field { path, .. } => out.push(path.clone()),
                Node::Group { instances, .. } => {
                    for (_, inner) in instances {
                        walk(inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(nodes, &mut out);
    out
}

/// One segment of a data path: `hunde[1]` is `("hunde", Some(1))`.
fn segments(path: &str) -> Option<Vec<(&str, Option<usize>)>> {
    path.split('.')
        .map(|seg| match seg.find('[') {
            Some(i) if seg.ends_with(']') => seg[i + 1..seg.len() - 1]
                .parse::<usize>()
                .ok()
                .filter(|n| *n < 1000)
                .map(|n| (&seg[..i], Some(n))),
            Some(_) => None,
            None => Some((seg, None)),
        })
        .collect()
}

fn find_item<'a>(items: &'a [Item], key: &str) -> Option<&'a Item> {
    items.iter().find(|i| match i {
        Item::Field(f) => f.key == key,
        Item::Group(g) => g.key == key,
    })
}

/// The stored value at a data path (`hunde[1].name`, `inhaber.plz`).
pub fn value_at<'d>(data: &'d Json, path: &str) -> Option<&'d Json> {
    let mut cur = data;
    for (key, index) in segments(path)? {
        cur = cur.get(key)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// A stored value as German text: option labels instead of codes, dates as
/// `31.01.2026`, yes/no as Ja/Nein, lists joined by commas.
pub fn value_text_de(field: Option<&FieldDef>, v: &Json) -> String {
    let label = |c: String| {
        field
            .and_then(|f| f.options.iter().find(|o| o.code == c))
            .map_or(c, |o| o.label.clone())
    };
    match v {
        Json::Null => String::new(),
        Json::Bool(b) => if *b { "Ja" } else { "Nein" }.to_string(),
        Json::Number(n) => {
            if field.is_some_and(|f| f.kind == FieldKind::Currency) {
                n.as_f64()
                    .map(|x| format!("{x:.2} €").replace('.', ","))
                    .unwrap_or_else(|| n.to_string())
            } else {
                n.to_string().replace('.', ",")
            }
        }
        Json::String(s) => {
            if field.is_some_and(|f| f.kind == FieldKind::Date)
                && let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            {
                return d.format("%d.%m.%Y").to_string();
            }
            if field.is_some_and(|f| f.kind == FieldKind::File) {
                return s.split_once('/').map_or(s.clone(), |(_, n)| n.to_string());
            }
            label(s.clone())
        }
        Json::Array(a) => a
            .iter()
            .map(|x| value_text_de(field, x))
            .collect::<Vec<_>>()
            .join(", "),
        Json::Object(_) => String::new(),
    }
}

/// A label for messages: the field's label plus the group instance
/// (`Name (Hund 2)`), in German or English.
pub fn path_label(def: &FormDefinition, path: &str, english: bool) -> String {
    let mut items: Option<&[Item]> = def
        .steps
        .iter()
        .find(|s| {
            s.items.iter().any(|i| match i {
                Item::Field(f) => path.split(['.', '[']).next() == Some(f.key.as_str()),
                Item::Group(g) => path.split(['.', '[']).next() == Some(g.key.as_str()),
            })
        })
        .map(|s| s.items.as_slice());
    let mut context = Vec::new();
    let mut label = path.to_string();
    for seg in path.split('.') {
        let (key, index) = match seg.find('[') {
            Some(i) => (
                &seg[..i],
                seg[i + 1..].trim_end_matches(']').parse::<usize>().ok(),
            ),
            None => (seg, None),
        };
        let Some(list) = items else { break };
        match list.iter().find(|i| match i {
            Item::Field(f) => f.key == key,
            Item::Group(g) => g.key == key,
        }) {
            Some(Item::Field(f)) => {
                label = f.label.get(english).to_string();
                items = None;
            }
            Some(Item::Group(g)) => {
                label = g.label.get(english).to_string();
                if let Some(i) = index {
                    context.push(format!("{} {}", g.label.get(english), i + 1));
                }
                items = Some(&g.items);
            }
            None => break,
        }
    }
    // The last group instance is the field's own context; a group's own label needs none.
    let own_group = context.last().is_some_and(|c| c.starts_with(&label));
    match context.last() {
        Some(c) if !own_group => format!("{label} ({c})"),
        Some(c) => c.clone(),
        None => label,
    }
}

/// The words of the review rows in one language.
#[derive(Debug, Clone, Copy)]
pub struct ReviewWords<'a> {
    pub english: bool,
    pub not_answered: &'a str,
    pub yes: &'a str,
    pub no: &'a str,
}

impl ReviewWords<'static> {
    /// The German words (the receipt and Bescheide are German).
    pub const DE: Self = ReviewWords {
        english: false,
        not_answered: "Keine Angabe",
        yes: "Ja",
        no: "Nein",
    };
}

/// One answered field for the review page and the receipt: (label, shown
/// value), for the visible `nodes`.
pub fn review_rows(
    def: &FormDefinition,
    nodes: &[Node<'_>],
    words: &ReviewWords<'_>,
    out: &mut Vec<(String, String)>,
) {
    fn text(v: &Json) -> String {
        match v {
            Json::Null => String::new(),
            Json::String(s) => s.clone(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.to_string(),
            other => other.to_string(),
        }
    }
    let option = |f: &FieldDef, c: String| {
        f.options
            .iter()
            .find(|o| o.code == c)
            .map_or(c, |o| o.label.clone())
    };
    for n in nodes {
        match n {
            Node::Field {
                path,
                def: f,
                value,
                ..
            } => {
                if f.kind == FieldKind::Label {
                    continue;
                }
                let shown = match (f.kind, value) {
                    (_, Json::Null) => words.not_answered.to_string(),
                    (FieldKind::YesNo, Json::Bool(b)) => {
                        (if *b { words.yes } else { words.no }).to_string()
                    }
                    (FieldKind::Select | FieldKind::Radio, v) => option(f, text(v)),
                    (FieldKind::Checkboxes, Json::Array(a)) => a
                        .iter()
                        .map(|v| option(f, text(v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    (FieldKind::File, v) => {
                        let t = text(v);
                        t.split_once('/').map_or(t.clone(), |(_, n)| n.to_string())
                    }
                    (FieldKind::Date, Json::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map(|d| {
                            d.format(if words.english {
                                "%Y-%m-%d"
                            } else {
                                "%d.%m.%Y"
                            })
                            .to_string()
                        })
                        .unwrap_or_else(|_| s.clone()),
                    (_, v) => text(v),
                };
                out.push((path_label(def, path, words.english), shown));
            }
            Node::Group { instances, .. } => {
                for (_, inner) in instances {
                    review_rows(def, inner, words, out);
                }
            }
        }
    }
}

/// Every answered field of every step, as the receipt shows it: (step
/// title, rows), in German.
pub fn receipt_sections(
    def: &FormDefinition,
    data: &Json,
    today: NaiveDate,
) -> Vec<(String, Vec<(String, String)>)> {
    def.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut rows = Vec::new();
            review_rows(
                def,
                &layout(def, i, data, today),
                &ReviewWords::DE,
                &mut rows,
            );
            (s.title.de.clone(), rows)
        })
        .collect()
}

/// The field at a data path (`hunde[1].name`), if the definition has one.
pub fn field_at<'a>(def: &'a FormDefinition, path: &str) -> Option<&'a FieldDef> {
    let segs = segments(path)?;
    let (first, _) = segs.first()?;
    let mut items: &[Item] = &def
        .steps
        .iter()
        .find(|s| find_item(&s.items, first).is_some())?
        .items;
    for (i, (key, _)) in segs.iter().enumerate() {
        match find_item(items, key)? {
            Item::Field(f) if i + 1 == segs.len() => return Some(f),
            Item::Group(g) => items = &g.items,
            Item::Field(_) => return None,
        }
    }
    None
}

/// The step that holds the data at `path`.
pub fn step_of(def: &FormDefinition, path: &str) -> Option<usize> {
    let first = segments(path)?.first()?.0;
    def.steps
        .iter()
        .position(|s| find_item(&s.items, first).is_some())
}

fn typed_value(kind: FieldKind, raw: &str) -> Option<Json> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    Some(match kind {
        FieldKind::YesNo => match t {
            "true" | "ja" => Json::Bool(true),
            "false" | "nein" => Json::Bool(false),
            _ => json!(t),
        },
        FieldKind::Number | FieldKind::Integer | FieldKind::Currency => {
            let normal = if t.contains(',') {
                t.replace('.', "").replace(',', ".")
            } else {
                t.to_string()
            };
            match normal.parse::<f64>() {
                Ok(n)
                    if n.is_finite()
                        && kind == FieldKind::Integer
                        && n.fract() == 0.0
                        && n.abs() < 9e15 =>
                {
                    json!(n as i64)
                }
                Ok(n) if n.is_finite() => json!(n),
                _ => json!(t),
            }
        }
        FieldKind::Iban => json!(t.split_whitespace().collect::<String>().to_uppercase()),
        _ => json!(raw.trim_end()),
    })
}

/// Replaces the values of step `step` in `data` with the submitted form
/// pairs (`hunde[1].name` → value). Names starting with `_` and unknown names
/// are ignored; a pair `hunde[1]._` keeps an (empty) group instance.
pub fn apply_step(def: &FormDefinition, step: usize, data: &mut Json, pairs: &[(String, String)]) {
    let Some(s) = def.steps.get(step) else { return };
    if !data.is_object() {
        *data = json!({});
    }
    let root = data.as_object_mut().expect("object");
    for item in &s.items {
        match item {
            Item::Field(f) => root.remove(&f.key),
            Item::Group(g) => root.remove(&g.key),
        };
    }
    for (name, raw) in pairs {
        if name.starts_with('_') {
            continue;
        }
        let Some(segs) = segments(name) else { continue };
        if segs
            .first()
            .is_none_or(|(k, _)| find_item(&s.items, k).is_none())
        {
            continue;
        }
        set_path(&s.items, root, &segs, raw);
    }
    // Repeated instances arrive sparse after a removal; compact them.
    fn compact(v: &mut Json) {
        match v {
            Json::Array(a) => {
                a.retain(|x| !x.is_null());
                a.iter_mut().for_each(compact);
            }
            Json::Object(o) => o.values_mut().for_each(compact),
            _ => {}
        }
    }
    compact(data);
}

fn set_path(
    items: &[Item],
    obj: &mut serde_json::Map<String, Json>,
    segs: &[(&str, Option<usize>)],
    raw: &str,
) {
    let Some(((key, index), rest)) = segs.split_first() else {
        return;
    };
    match find_item(items, key) {
        Some(Item::Field(f)) if rest.is_empty() && index.is_none() => {
            if f.kind == FieldKind::Label || f.computed.is_some() {
                return;
            }
            let Some(v) = typed_value(f.kind, raw) else {
                return;
            };
            if f.kind == FieldKind::Checkboxes {
                let entry = obj.entry(f.key.clone()).or_insert_with(|| json!([]));
                if let Some(a) = entry.as_array_mut() {
                    a.push(v);
                }
            } else {
                obj.insert(f.key.clone(), v);
            }
        }
        Some(Item::Group(g)) => {
            let inst = if g.repeatable() {
                let Some(i) = index else { return };
                if g.max.is_some_and(|m| *i >= m as usize) {
                    return;
                }
                let arr = obj.entry(g.key.clone()).or_insert_with(|| json!([]));
                let Some(a) = arr.as_array_mut() else { return };
                while a.len() <= *i {
                    a.push(Json::Null);
                }
                if a[*i].is_null() {
                    a[*i] = json!({});
                }
                &mut a[*i]
            } else {
                if index.is_some() {
                    return;
                }
                obj.entry(g.key.clone()).or_insert_with(|| json!({}))
            };
            if let (Some(o), false) = (inst.as_object_mut(), rest.is_empty()) {
                if rest.len() == 1 && rest[0].0 == "_" {
                    return;
                }
                set_path(&g.items, o, rest, raw);
            }
        }
        _ => {}
    }
}

fn group_array<'d>(
    def: &FormDefinition,
    data: &'d mut Json,
    path: &str,
) -> Option<(&'d mut Vec<Json>, u32, Option<u32>)> {
    let segs = segments(path)?;
    let (first, _) = segs.first()?;
    let mut items: &[Item] = &def
        .steps
        .iter()
        .find(|s| find_item(&s.items, first).is_some())?
        .items;
    let mut cur = data;
    for (n, (key, index)) in segs.iter().enumerate() {
        let Some(Item::Group(g)) = find_item(items, key) else {
            return None;
        };
        items = &g.items;
        let obj = cur.as_object_mut()?;
        if n + 1 == segs.len() {
            if !g.repeatable() || index.is_some() {
                return None;
            }
            let arr = obj.entry(g.key.clone()).or_insert_with(|| json!([]));
            if !arr.is_array() {
                *arr = json!([]);
            }
            return Some((arr.as_array_mut()?, g.min, g.max));
        }
        let next = obj
            .entry(g.key.clone())
            .or_insert_with(|| if g.repeatable() { json!([]) } else { json!({}) });
        cur = match index {
            Some(i) => {
                let a = next.as_array_mut()?;
                while a.len() <= *i {
                    a.push(json!({}));
                }
                &mut a[*i]
            }
            None => next,
        };
    }
    None
}

/// Adds an empty instance to the repeatable group at `path` (`hunde`,
/// `betriebe[0].filialen`); false when the group is full or unknown.
pub fn add_instance(def: &FormDefinition, data: &mut Json, path: &str) -> bool {
    if !data.is_object() {
        *data = json!({});
    }
    match group_array(def, data, path) {
        Some((a, min, max)) => {
            while (a.len() as u32) < min {
                a.push(json!({}));
            }
            if max.is_some_and(|m| a.len() as u32 >= m) {
                return false;
            }
            a.push(json!({}));
            true
        }
        None => false,
    }
}

/// Removes the instance at `path` (`hunde[1]`); false when that would go
/// below the minimum or the path is unknown.
pub fn remove_instance(def: &FormDefinition, data: &mut Json, path: &str) -> bool {
    let Some(open) = path.rfind('[') else {
        return false;
    };
    let Ok(i) = path[open + 1..path.len().saturating_sub(1)].parse::<usize>() else {
        return false;
    };
    match group_array(def, data, &path[..open]) {
        Some((a, min, _)) if i < a.len() && a.len() as u32 > min => {
            a.remove(i);
            true
        }
        _ => false,
    }
}

fn computed_walk(
    items: &[Item],
    data: &mut serde_json::Map<String, Json>,
    parents: &[serde_json::Map<String, Json>],
    today: NaiveDate,
) {
    for item in items {
        match item {
            Item::Field(f) => {
                if let Some(rule) = &f.computed {
                    let mut layers: Vec<&serde_json::Map<String, Json>> = parents.iter().collect();
                    layers.push(data);
                    let value = rules::parse(rule)
                        .map(|e| rules::eval(&e, &Scope { layers, today }))
                        .unwrap_or(Value::Null);
                    let v = match value {
                        Value::Null => Json::Null,
                        Value::Bool(b) => json!(b),
                        Value::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => json!(n as i64),
                        Value::Num(n) => json!(n),
                        Value::Text(t) => json!(t),
                        other => json!(format!("{other:?}")),
                    };
                    data.insert(f.key.clone(), v);
                }
            }
            Item::Group(g) => {
                let Some(mut child) = data.remove(&g.key) else {
                    continue;
                };
                let mut inner_parents = parents.to_vec();
                inner_parents.push(data.clone());
                match &mut child {
                    Json::Array(a) => {
                        for inst in a.iter_mut().filter_map(|x| x.as_object_mut()) {
                            computed_walk(&g.items, inst, &inner_parents, today);
                        }
                    }
                    Json::Object(o) => computed_walk(&g.items, o, &inner_parents, today),
                    _ => {}
                }
                data.insert(g.key.clone(), child);
            }
        }
    }
}

/// Sets every computed field from its rule.
pub fn apply_computed(def: &FormDefinition, data: &mut Json, today: NaiveDate) {
    if let Some(root) = data.as_object_mut() {
        for s in &def.steps {
            computed_walk(&s.items, root, &[], today);
        }
    }
}

/// Prefill hook: fills empty fields whose `autocomplete` token is in
/// `profile` (the account's data: `family-name`, `email`, …). Each token
/// fills its first field in document order (the applicant comes before a
/// representative); plain groups are entered, repeatable groups only in their
/// first instance. Values already given are never overwritten.
pub fn prefill(def: &FormDefinition, data: &mut Json, profile: &HashMap<String, String>) {
    fn walk(
        items: &[Item],
        obj: &mut serde_json::Map<String, Json>,
        profile: &HashMap<String, String>,
        used: &mut std::collections::HashSet<String>,
    ) {
        for item in items {
            match item {
                Item::Field(f) => {
                    let Some(token) = f.autocomplete.as_ref() else {
                        continue;
                    };
                    if used.contains(token) || f.computed.is_some() {
                        continue;
                    }
                    let Some(v) = profile.get(token).filter(|v| !v.trim().is_empty()) else {
                        continue;
                    };
                    used.insert(token.clone());
                    if is_empty(obj.get(&f.key)) {
                        obj.insert(f.key.clone(), json!(v));
                    }
                }
                Item::Group(g) => {
                    if g.repeatable() {
                        let entry = obj.entry(g.key.clone()).or_insert_with(|| json!([]));
                        let Some(arr) = entry.as_array_mut() else {
                            continue;
                        };
                        if arr.is_empty() {
                            if g.min == 0 {
                                continue;
                            }
                            arr.push(json!({}));
                        }
                        if let Some(first) = arr[0].as_object_mut() {
                            walk(&g.items, first, profile, used);
                        }
                    } else {
                        let entry = obj.entry(g.key.clone()).or_insert_with(|| json!({}));
                        if let Some(inner) = entry.as_object_mut() {
                            walk(&g.items, inner, profile, used);
                        }
                    }
                }
            }
        }
    }
    if !data.is_object() {
        *data = json!({});
    }
    let root = data.as_object_mut().expect("object");
    let mut used = std::collections::HashSet::new();
    for s in &def.steps {
        walk(&s.items, root, profile, &mut used);
    }
}

/// Data that passes [`validate`] for definitions without checks: every field
/// filled with a plausible value (for tests, benchmarks and the API docs).
pub fn example_data(def: &FormDefinition) -> Json {
    fn value(f: &FieldDef) -> Option<Json> {
        if f.kind == FieldKind::Label || f.computed.is_some() {
            return None;
        }
        let mid = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
            (Some(l), Some(h)) => ((l + h) / 2.0).floor(),
            (Some(l), None) => l,
            (None, Some(h)) => h.min(1.0),
            _ => 1.0,
        };
        Some(match f.kind {
            FieldKind::Select | FieldKind::Radio if !f.options.is_empty() => {
                json!(f.options[0].code)
            }
            FieldKind::Checkboxes if !f.options.is_empty() => json!([f.options[0].code]),
            FieldKind::Checkboxes => return None,
            FieldKind::Date => json!("2020-01-31"),
            FieldKind::Number | FieldKind::Currency => json!(mid(f.min_value, f.max_value)),
            FieldKind::Integer => json!(mid(f.min_value, f.max_value) as i64),
            FieldKind::YesNo => json!(true),
            FieldKind::Email => json!("max.muster@example.org"),
            FieldKind::Phone => json!("030 1234567"),
            FieldKind::Iban => json!("DE89370400440532013000"),
            FieldKind::File => json!("beispiel.pdf"),
            _ => {
                let candidates = [
                    "Muster",
                    "12345",
                    "1",
                    "DE",
                    "A",
                    "Musterstraße 1",
                    "2020-01-31",
                    "0123456789",
                ];
                let min = f.min_length.unwrap_or(0) as usize;
                let max = f.max_length.map_or(usize::MAX, |m| m as usize);
                let fits = |c: &str| {
                    let n = c.chars().count();
                    n >= min
                        && n <= max
                        && f.pattern.as_deref().is_none_or(|p| pattern_matches(p, c))
                };
                let pick = candidates.iter().find(|c| fits(c)).map(|c| c.to_string());
                json!(pick.unwrap_or_else(|| "M".repeat(min.max(1).min(max))))
            }
        })
    }
    fn items(list: &[Item], out: &mut serde_json::Map<String, Json>) {
        for i in list {
            match i {
                Item::Field(f) => {
                    if let Some(v) = value(f) {
                        out.insert(f.key.clone(), v);
                    }
                }
                Item::Group(g) => {
                    let mut inst = serde_json::Map::new();
                    items(&g.items, &mut inst);
                    if g.repeatable() {
                        let n = g.min.max(1).min(g.max.unwrap_or(u32::MAX)) as usize;
                        out.insert(g.key.clone(), Json::Array(vec![Json::Object(inst); n]));
                    } else {
                        out.insert(g.key.clone(), Json::Object(inst));
                    }
                }
            }
        }
    }
    let mut out = serde_json::Map::new();
    for s in &def.steps {
        items(&s.items, &mut out);
    }
    Json::Object(out)
}

/// Problems of a definition an editor must fix before it can be reviewed:
/// rules that do not parse, unusable patterns, duplicate keys, empty steps.
pub fn lint(def: &FormDefinition) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = check_rules(def)
        .into_iter()
        .map(|(k, e)| (k, e.to_string()))
        .collect();
    fn walk(
        items: &[Item],
        seen: &mut std::collections::HashSet<String>,
        prefix: &str,
        out: &mut Vec<(String, String)>,
    ) {
        for i in items {
            let key = match i {
                Item::Field(f) => &f.key,
                Item::Group(g) => &g.key,
            };
            let path = format!("{prefix}{key}");
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push((path.clone(), "key must be letters, digits or _".into()));
            }
            if !seen.insert(key.clone()) {
                out.push((path.clone(), "key is used twice at this level".into()));
            }
            match i {
                Item::Field(f) => {
                    if let Some(p) = &f.pattern
                        && !pattern_valid(p)
                    {
                        out.push((
                            path,
                            format!("pattern {p:?} is not a valid regular expression"),
                        ));
                    }
                }
                Item::Group(g) => {
                    if g.max.is_some_and(|m| m < g.min.max(1)) {
                        out.push((path.clone(), "max must be at least min".into()));
                    }
                    walk(&g.items, &mut Default::default(), &format!("{path}."), out)
                }
            }
        }
    }
    let mut seen = Default::default();
    if def.steps.is_empty() {
        out.push(("steps".into(), "a form needs at least one step".into()));
    }
    for s in &def.steps {
        if s.items.is_empty() {
            out.push((s.key.clone(), "step has no fields".into()));
        }
        walk(&s.items, &mut seen, "", &mut out);
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
    if let Some(p) = &f.pattern {
        o.insert("pattern".into(), json!(format!("^(?:{p})$")));
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

/// Every input field with its data path (first instance of repeatable
/// groups: `hunde[0].name`) and German label, in document order: for
/// placeholders in Bescheid templates and for routing rules.
pub fn field_list(def: &FormDefinition) -> Vec<(String, String)> {
    fn walk(items: &[Item], prefix: &str, out: &mut Vec<(String, String)>) {
        for i in items {
            match i {
                Item::Field(f) if f.kind != FieldKind::Label => {
                    out.push((format!("{prefix}{}", f.key), f.label.de.clone()));
                }
                Item::Field(_) => {}
                Item::Group(g) => {
                    let p = if g.repeatable() {
                        format!("{prefix}{}[0].", g.key)
                    } else {
                        format!("{prefix}{}.", g.key)
                    };
                    walk(&g.items, &p, out)
                }
            }
        }
    }
    let mut out = Vec::new();
    for s in &def.steps {
        walk(&s.items, "", &mut out);
    }
    out
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
            pattern: None,
            autocomplete: None,
            document: None,
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
    fn unknown_keys_are_problems_named_by_path() {
        let data = json!({"familienname": "Muster", "iban": "DE89370400440532013000", "erfunden": 1,
            "hunde": [{"name": "Bello", "rasse": "mischling", "geburtsdatum": "2020-05-01", "farbe": "braun"}, "kein Objekt"]});
        let p = validate(&hundesteuer(), &data, today());
        let unknown: Vec<_> = codes(&p)
            .into_iter()
            .filter(|(_, c)| *c == "field.unknown")
            .map(|(p, _)| p)
            .collect();
        assert_eq!(unknown, vec!["erfunden", "hunde[0].farbe", "hunde[1]"]);
        assert_eq!(
            unknown_keys(&hundesteuer(), &json!({"familienname": "M"})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn hidden_values_are_dropped() {
        let mut def = hundesteuer();
        let mut extra = field("lastschrift_iban", FieldKind::Iban, false);
        extra.visible_if = Some("lastschrift == true".into());
        let mut grund = field("grund", FieldKind::Text, false);
        grund.visible_if = Some("lastschrift_iban == 'DE89370400440532013000'".into());
        def.steps[0]
            .items
            .push(Item::Field(field("lastschrift", FieldKind::YesNo, true)));
        def.steps[0].items.push(Item::Field(extra));
        def.steps[0].items.push(Item::Field(grund));
        if let Item::Group(g) = &mut def.steps[1].items[0] {
            let mut chip = field("chip", FieldKind::Text, false);
            chip.visible_if = Some("rasse == 'pitbull'".into());
            g.items.push(Item::Field(chip));
        }
        let mut data = json!({"lastschrift": false, "lastschrift_iban": "DE89370400440532013000", "grund": "x",
            "hunde": [{"name": "A", "rasse": "mischling", "chip": "1"}, {"name": "B", "rasse": "pitbull", "chip": "2"}]});
        drop_hidden(&def, &mut data, today());
        assert_eq!(
            data,
            json!({"lastschrift": false,
            "hunde": [{"name": "A", "rasse": "mischling"}, {"name": "B", "rasse": "pitbull", "chip": "2"}]}),
            "hidden values go, and so does what only they made visible"
        );
        let mut shown = json!({"lastschrift": true, "lastschrift_iban": "DE89370400440532013000"});
        let before = shown.clone();
        drop_hidden(&def, &mut shown, today());
        assert_eq!(shown, before);
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

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_step_is_applied_from_form_pairs() {
        let def = hundesteuer();
        let mut data = json!({"familienname": "Alt", "hunde": [{"name": "weg"}]});
        apply_step(
            &def,
            1,
            &mut data,
            &pairs(&[
                ("csrf_token", "x"),
                ("_action", "next"),
                ("hunde[0]._", ""),
                ("hunde[0].name", "Bello"),
                ("hunde[0].rasse", "mischling"),
                ("hunde[2].name", "Rex"),
                ("hunde[9].name", "zu viele"),
                ("unbekannt", "x"),
                ("familienname", "nicht in diesem Schritt"),
            ]),
        );
        // Other steps stay; the step's old values are replaced; sparse instances are compacted;
        // instances beyond max and unknown names are ignored.
        assert_eq!(
            data,
            json!({"familienname": "Alt", "hunde": [{"name": "Bello", "rasse": "mischling"}, {"name": "Rex"}]})
        );
        assert!(add_instance(&def, &mut data, "hunde"));
        assert_eq!(data["hunde"].as_array().unwrap().len(), 3);
        assert!(!add_instance(&def, &mut data, "hunde"), "max is 3");
        assert!(remove_instance(&def, &mut data, "hunde[0]"));
        assert_eq!(data["hunde"][0]["name"], "Rex");
        assert!(remove_instance(&def, &mut data, "hunde[1]"));
        assert!(!remove_instance(&def, &mut data, "hunde[0]"), "min is 1");
        assert!(
            !add_instance(&def, &mut data, "familienname"),
            "not a group"
        );
    }

    #[test]
    fn layout_shows_what_the_rules_allow() {
        let mut def = hundesteuer();
        let mut extra = field("lastschrift_iban", FieldKind::Iban, false);
        extra.visible_if = Some("lastschrift == true".into());
        extra.required_if = Some("lastschrift == true".into());
        def.steps[0]
            .items
            .push(Item::Field(field("lastschrift", FieldKind::YesNo, true)));
        def.steps[0].items.push(Item::Field(extra));
        let today = today();
        let hidden = json!({"lastschrift": false});
        let paths = visible_paths(&layout(&def, 0, &hidden, today));
        assert!(!paths.contains(&"lastschrift_iban".to_string()));
        let mut data = json!({});
        apply_step(&def, 0, &mut data, &pairs(&[("lastschrift", "true")]));
        assert_eq!(data["lastschrift"], json!(true));
        let nodes = layout(&def, 0, &data, today);
        let shown = nodes
            .iter()
            .find(|n| n.path() == "lastschrift_iban")
            .unwrap();
        assert!(matches!(shown, Node::Field { required: true, .. }));
        // A repeatable group shows at least its minimum of instances, with add/remove allowed as the bounds say.
        let nodes = layout(&def, 1, &data, today);
        match &nodes[0] {
            Node::Group {
                instances,
                can_add,
                can_remove,
                ..
            } => {
                assert_eq!(instances.len(), 1);
                assert_eq!(instances[0].0, "hunde[0]");
                assert!(*can_add && !*can_remove);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(field_at(&def, "hunde[0].rasse").unwrap().key, "rasse");
        assert_eq!(step_of(&def, "hunde[2].name"), Some(1));
        assert!(field_at(&def, "hunde[x].rasse").is_none());
    }

    #[test]
    fn numbers_computed_values_and_prefill() {
        let mut def = hundesteuer();
        let mut betrag = field("betrag", FieldKind::Currency, false);
        betrag.min_value = Some(0.0);
        let mut anzahl = field("anzahl", FieldKind::Integer, false);
        anzahl.computed = Some("count(hunde)".into());
        def.steps[1].items.push(Item::Field(betrag));
        def.steps[1].items.push(Item::Field(anzahl));
        if let Item::Field(f) = &mut def.steps[0].items[0] {
            f.autocomplete = Some("family-name".into());
        }
        let mut data = json!({});
        apply_step(
            &def,
            1,
            &mut data,
            &pairs(&[
                ("hunde[0].name", "A"),
                ("hunde[1].name", "B"),
                ("betrag", "1.234,50"),
            ]),
        );
        assert_eq!(data["betrag"], json!(1234.5), "German number format");
        apply_computed(&def, &mut data, today());
        assert_eq!(data["anzahl"], json!(2));
        let profile = HashMap::from([("family-name".to_string(), "Muster".to_string())]);
        prefill(&def, &mut data, &profile);
        assert_eq!(data["familienname"], "Muster");
        data["familienname"] = json!("Eigen");
        prefill(&def, &mut data, &profile);
        assert_eq!(data["familienname"], "Eigen", "prefill never overwrites");
    }

    #[test]
    fn lint_names_what_an_editor_must_fix() {
        let mut def = hundesteuer();
        def.steps[0]
            .items
            .push(Item::Field(field("familienname", FieldKind::Text, false)));
        let mut bad = field("plz", FieldKind::Text, false);
        bad.pattern = Some("[0-9".into());
        bad.visible_if = Some("a ==".into());
        def.steps[0].items.push(Item::Field(bad));
        let problems: Vec<String> = lint(&def).into_iter().map(|(p, _)| p).collect();
        assert!(
            problems.contains(&"familienname".to_string()),
            "{problems:?}"
        );
        assert_eq!(
            problems.iter().filter(|p| *p == "plz").count(),
            2,
            "{problems:?}"
        );
        assert!(lint(&hundesteuer()).is_empty());
        let example = example_data(&hundesteuer());
        assert_eq!(validate(&hundesteuer(), &example, today()), vec![]);
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
        fn applying_any_pairs_never_panics_and_keeps_data_valid_json(
            entries in prop::collection::vec((
                prop::sample::select(vec!["hunde", "hunde[0]", "hunde[1].name", "hunde[x].name", "hunde[99].rasse",
                    "hunde[0]._", "hunde.name", "familienname", "iban", "a.b.c", "[0]", "hunde[0].name[1]", ""]),
                ".{0,12}"), 0..12),
            step in 0usize..3,
        ) {
            let def = hundesteuer();
            let mut data = json!({"familienname": "x"});
            let pairs: Vec<(String, String)> = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            apply_step(&def, step, &mut data, &pairs);
            prop_assert!(data.is_object());
            let n = data.get("hunde").and_then(|h| h.as_array()).map_or(0, |a| a.len());
            prop_assert!(n <= 3, "never more instances than max");
            let _ = validate(&def, &data, today());
            let _ = layout(&def, step, &data, today());
        }

        #[test]
        fn hidden_fields_are_never_required(flag in any::<bool>()) {
            let mut f = field("extra", FieldKind::Text, true);
            f.visible_if = Some("zeigen == true".into());
            let zeigen = Item::Field(field("zeigen", FieldKind::YesNo, false));
            let def = FormDefinition { key: "k".into(), title: t("k"), steps: vec![Step { key: "s".into(), title: t("s"), items: vec![zeigen, Item::Field(f)] }] };
            let p = validate(&def, &json!({"zeigen": flag}), today());
            prop_assert_eq!(p.is_empty(), !flag);
        }
    }
}
