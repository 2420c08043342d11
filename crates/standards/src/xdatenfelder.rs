//! FIM XDatenfelder 2.0 and 3.0.0: reads a Stammdatenschema (or a single
//! Datenfeldgruppe / Datenfeld message) into one version-neutral model that
//! the form builder turns into a form. Problems that make the file unusable
//! are errors naming element and line; things an editor should look at are
//! warnings (for the import report).

use serde::Serialize;

use crate::xml::{self, Node, XmlError};

pub const NS_V2: &str = "urn:xoev-de:fim:standard:xdatenfelder_2";
pub const NS_V3: &str = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum XdfVersion {
    V2,
    V3,
}

/// How often an element may or must occur: `anzahl` "min:max" (`*` = unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cardinality {
    pub min: u32,
    pub max: Option<u32>,
}

impl Cardinality {
    pub const ONE: Cardinality = Cardinality {
        min: 1,
        max: Some(1),
    };

    pub fn parse(s: &str) -> Option<Cardinality> {
        let (a, b) = s.trim().split_once(':')?;
        let min = a.trim().parse().ok()?;
        let max = match b.trim() {
            "*" => None,
            n => Some(n.parse().ok()?),
        };
        if max.is_some_and(|m| m < min) {
            return None;
        }
        Some(Cardinality { min, max })
    }
}

/// Limits from `praezisierung` (v2: JSON text, v3: attributes).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Precision {
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
    pub pattern: Option<String>,
}

/// Reference to a code list (genericode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeListRef {
    pub id: String,
    pub canonical_uri: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    /// v2: JavaScript (never executed; shown to the editor).
    pub script: String,
    /// v3: free text.
    pub free_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub id: String,
    pub version: String,
    pub name: String,
    pub label: String,
    pub help: String,
    pub cardinality: Cardinality,
    /// feldart: input, select, label, hidden, locked.
    pub kind: String,
    /// datentyp: text, date, bool, num, num_int, num_currency, file, obj, …
    pub datatype: String,
    pub precision: Precision,
    pub code_list: Option<CodeListRef>,
    /// inhalt: fixed content or default.
    pub content: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub id: String,
    pub version: String,
    pub name: String,
    pub label: String,
    pub help: String,
    pub cardinality: Cardinality,
    pub rules: Vec<Rule>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    Group(Group),
    Field(Box<Field>),
}

/// Something an editor should look at; the import still works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub line: usize,
    pub element: String,
    pub message: String,
}

/// A read schema: its root group plus warnings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    pub version: XdfVersion,
    /// The Stammdatenschema (or the message's single group/field wrapped as a group).
    pub root: Group,
    pub warnings: Vec<Warning>,
}

impl Schema {
    /// All fields, depth first.
    pub fn fields(&self) -> Vec<&Field> {
        fn walk<'a>(g: &'a Group, out: &mut Vec<&'a Field>) {
            for i in &g.items {
                match i {
                    Item::Field(f) => out.push(f),
                    Item::Group(g) => walk(g, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// All rules (of the schema, groups and fields).
    pub fn rules(&self) -> Vec<&Rule> {
        fn walk<'a>(g: &'a Group, out: &mut Vec<&'a Rule>) {
            out.extend(g.rules.iter());
            for i in &g.items {
                match i {
                    Item::Field(f) => out.extend(f.rules.iter()),
                    Item::Group(g) => walk(g, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

/// Elements that may occur at most once in their parent.
const SINGLE: [&str; 27] = [
    "identifikation",
    "id",
    "version",
    "name",
    "bezeichnungEingabe",
    "bezeichnungAusgabe",
    "beschreibung",
    "definition",
    "status",
    "freigabestatus",
    "fachlicherErsteller",
    "versionshinweis",
    "freigabedatum",
    "veroeffentlichungsdatum",
    "gueltigAb",
    "gueltigBis",
    "schemaelementart",
    "hilfetextEingabe",
    "hilfetextAusgabe",
    "feldart",
    "datentyp",
    "praezisierung",
    "inhalt",
    "codelisteReferenz",
    "anzahl",
    "script",
    "freitextRegel",
];

/// Valid `freigabestatus` codes (XDatenfelder 3 code list).
const FREIGABESTATUS: [&str; 8] = ["1", "2", "3", "4", "5", "6", "7", "8"];

struct Reader {
    version: XdfVersion,
    warnings: Vec<Warning>,
}

impl Reader {
    fn warn(&mut self, n: &Node, message: impl Into<String>) {
        self.warnings.push(Warning {
            line: n.line,
            element: n.name.clone(),
            message: message.into(),
        });
    }

    fn check_singles(&self, n: &Node) -> Result<(), XmlError> {
        for name in SINGLE {
            // XDatenfelder 3 allows <inhalt> twice in a Datenfeld (fixed content and default).
            if name == "inhalt" && self.version == XdfVersion::V3 {
                continue;
            }
            let mut found = n.all(name);
            if let (Some(_), Some(second)) = (found.next(), found.next()) {
                return Err(second.error(format!("<{name}> may occur only once in <{}>", n.name)));
            }
        }
        Ok(())
    }

    fn identification(&self, n: &Node) -> Result<(String, String), XmlError> {
        let ident = n
            .child("identifikation")
            .ok_or_else(|| n.error("<identifikation> is missing"))?;
        self.check_singles(ident)?;
        if let Some(unknown) = ident
            .children
            .iter()
            .find(|c| c.name != "id" && c.name != "version")
        {
            return Err(unknown.error(format!(
                "unexpected element <{}> in <identifikation>",
                unknown.name
            )));
        }
        let id_node = ident
            .child("id")
            .ok_or_else(|| ident.error("<id> is missing"))?;
        let id = id_node.text.trim().to_string();
        if id.is_empty() {
            return Err(id_node.error("<id> is empty"));
        }
        Ok((id, ident.text_of("version")))
    }

    fn common(&mut self, n: &Node) -> Result<(String, String, String, String, String), XmlError> {
        self.check_singles(n)?;
        let (id, version) = self.identification(n)?;
        let name = n.text_of("name");
        if name.is_empty() {
            return Err(n.error("<name> is missing or empty"));
        }
        if let Some(fs) = n.child("freigabestatus") {
            let code = fs.text_of("code");
            if !FREIGABESTATUS.contains(&code.as_str()) {
                return Err(fs.error(format!(
                    "unknown freigabestatus code {code:?} (allowed 1 to 8)"
                )));
            }
        }
        let label = Some(n.text_of("bezeichnungEingabe"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| name.clone());
        Ok((id, version, name, label, n.text_of("hilfetextEingabe")))
    }

    fn rules(&mut self, n: &Node) -> Result<Vec<Rule>, XmlError> {
        let mut out = Vec::new();
        for r in n.all("regel") {
            self.check_singles(r)?;
            let (id, _) = self.identification(r)?;
            let rule = Rule {
                id,
                name: r.text_of("name"),
                description: r.text_of("beschreibung"),
                script: r.text_of(if self.version == XdfVersion::V2 {
                    "script"
                } else {
                    "skript"
                }),
                free_text: r.text_of("freitextRegel"),
            };
            self.warn(r, {
                let text = [&rule.free_text, &rule.description, &rule.script]
                    .into_iter()
                    .find(|t| !t.trim().is_empty())
                    .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default();
                let short: String = text.chars().take(300).collect();
                format!(
                    "rule {} ({}) must be expressed in the rule language by the Redaktion: {short}",
                    rule.id, rule.name
                )
            });
            out.push(rule);
        }
        Ok(out)
    }

    fn precision(&mut self, n: &Node) -> Precision {
        let Some(p) = n.child("praezisierung") else {
            return Precision::default();
        };
        let num = |s: Option<String>| s.and_then(|v| v.trim().parse::<u32>().ok());
        match self.version {
            XdfVersion::V3 => Precision {
                min_length: num(p.attr("minLength").map(String::from)),
                max_length: num(p.attr("maxLength").map(String::from)),
                min_value: p.attr("minValue").map(String::from),
                max_value: p.attr("maxValue").map(String::from),
                pattern: p.attr("pattern").map(String::from),
            },
            XdfVersion::V2 => {
                let text = p.text.trim();
                if text.is_empty() {
                    return Precision::default();
                }
                match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
                    Ok(m) => {
                        let get = |k: &str| {
                            m.get(k).map(|v| match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                        };
                        Precision {
                            min_length: num(get("minLength")),
                            max_length: num(get("maxLength")),
                            min_value: get("minValue"),
                            max_value: get("maxValue"),
                            pattern: get("pattern"),
                        }
                    }
                    Err(_) => {
                        self.warn(p, format!("praezisierung {text:?} is not JSON; ignored"));
                        Precision::default()
                    }
                }
            }
        }
    }

    fn code_list(&self, n: &Node) -> Option<CodeListRef> {
        let r = n.child("codelisteReferenz")?;
        let id = r
            .child("identifikation")
            .map(|i| i.text_of("id"))
            .unwrap_or_default();
        let gc = r
            .child("genericodeIdentification")
            .or_else(|| r.child("genericode"))
            .unwrap_or(r);
        let canonical_uri = gc.text_of("canonicalIdentification");
        let version = gc.text_of("version");
        (!id.is_empty() || !canonical_uri.is_empty()).then_some(CodeListRef {
            id,
            canonical_uri,
            version,
        })
    }

    fn field(&mut self, n: &Node, cardinality: Cardinality) -> Result<Field, XmlError> {
        let (id, version, name, label, help) = self.common(n)?;
        let kind = n
            .child("feldart")
            .map(|f| f.text_of("code"))
            .unwrap_or_default();
        let datatype = n
            .child("datentyp")
            .map(|f| f.text_of("code"))
            .unwrap_or_default();
        if kind.is_empty() {
            self.warn(n, format!("field {id} has no feldart; treated as input"));
        }
        let code_list = self.code_list(n);
        if kind == "select" && code_list.is_none() {
            self.warn(n, format!("select field {id} has no code list reference"));
        }
        Ok(Field {
            precision: self.precision(n),
            rules: self.rules(n)?,
            content: n
                .all("inhalt")
                .map(|c| c.text.trim().to_string())
                .filter(|t| !t.is_empty())
                .last()
                .unwrap_or_default(),
            kind: if kind.is_empty() {
                "input".into()
            } else {
                kind
            },
            datatype: if datatype.is_empty() {
                "text".into()
            } else {
                datatype
            },
            code_list,
            id,
            version,
            name,
            label,
            help,
            cardinality,
        })
    }

    fn group(
        &mut self,
        n: &Node,
        cardinality: Cardinality,
        depth: usize,
    ) -> Result<Group, XmlError> {
        if depth > 32 {
            return Err(n.error("groups are nested too deeply"));
        }
        let (id, version, name, label, help) = self.common(n)?;
        let rules = self.rules(n)?;
        let mut items = Vec::new();
        for s in n.all("struktur") {
            self.check_singles(s)?;
            let anzahl = s.text_of("anzahl");
            let card = Cardinality::parse(&anzahl).ok_or_else(|| {
                s.child("anzahl").unwrap_or(s).error(format!(
                    "invalid anzahl {anzahl:?} (expected min:max, e.g. 0:1 or 1:*)"
                ))
            })?;
            let content = s
                .child("enthaelt")
                .ok_or_else(|| s.error("<enthaelt> is missing"))?;
            for c in &content.children {
                match c.name.as_str() {
                    "datenfeld" => items.push(Item::Field(Box::new(self.field(c, card)?))),
                    "datenfeldgruppe" => items.push(Item::Group(self.group(c, card, depth + 1)?)),
                    other => {
                        return Err(c.error(format!("unexpected element <{other}> in <enthaelt>")));
                    }
                }
            }
        }
        Ok(Group {
            id,
            version,
            name,
            label,
            help,
            cardinality,
            rules,
            items,
        })
    }
}

/// Reads an XDatenfelder 2 or 3 message.
pub fn parse(src: &str) -> Result<Schema, XmlError> {
    let root = xml::parse(src)?;
    let ns_attr = match &root.prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    let version = match root.attr(&ns_attr) {
        Some(NS_V2) => XdfVersion::V2,
        Some(NS_V3) => XdfVersion::V3,
        Some(other) => {
            return Err(root.error(format!(
                "unknown namespace {other:?}; expected XDatenfelder 2 ({NS_V2}) or 3 ({NS_V3})"
            )));
        }
        None => return Err(root.error("no XDatenfelder namespace")),
    };
    if !root.name.starts_with("xdatenfelder.") {
        return Err(root.error("not an XDatenfelder message"));
    }
    let mut reader = Reader {
        version,
        warnings: Vec::new(),
    };
    let root_group = if let Some(s) = root.child("stammdatenschema") {
        reader.group(s, Cardinality::ONE, 0)?
    } else if let Some(g) = root.child("datenfeldgruppe") {
        reader.group(g, Cardinality::ONE, 0)?
    } else if let Some(f) = root.child("datenfeld") {
        let field = reader.field(f, Cardinality::ONE)?;
        Group {
            id: field.id.clone(),
            version: field.version.clone(),
            name: field.name.clone(),
            label: field.label.clone(),
            help: String::new(),
            cardinality: Cardinality::ONE,
            rules: vec![],
            items: vec![Item::Field(Box::new(field))],
        }
    } else {
        return Err(
            root.error("no <stammdatenschema>, <datenfeldgruppe> or <datenfeld> in the message")
        );
    };
    Ok(Schema {
        version,
        root: root_group,
        warnings: reader.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinality() {
        assert_eq!(
            Cardinality::parse("0:1"),
            Some(Cardinality {
                min: 0,
                max: Some(1)
            })
        );
        assert_eq!(
            Cardinality::parse("1:*"),
            Some(Cardinality { min: 1, max: None })
        );
        assert_eq!(Cardinality::parse("2:1"), None);
        assert_eq!(Cardinality::parse("x"), None);
    }

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        for src in [
            "",
            "<",
            "<a>",
            "no xml",
            "<xdf:x xmlns:xdf='urn:other'/>",
            "<a><b></a>",
        ] {
            assert!(parse(src).is_err(), "{src:?}");
        }
    }
}

/// A form built from an XDatenfelder schema, with what the editor should check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormImport {
    pub form: rathaus_domain::forms::FormDefinition,
    pub report: Vec<Warning>,
}

/// Turns a read schema into a form definition: top-level groups become steps,
/// top-level fields a first step; select fields get their entries from the
/// matching genericode list (a missing list is a warning, the field becomes
/// free text); cardinalities become required-ness and repeatable groups.
pub fn to_form(schema: &Schema, code_lists: &[crate::genericode::CodeList]) -> FormImport {
    use rathaus_domain::{
        catalog::I18nText,
        forms::{self, Choice, FieldDef, FieldKind, FormDefinition, GroupDef, Step},
    };
    let text = |s: &str| I18nText {
        de: s.to_string(),
        en: String::new(),
    };
    let mut report = schema.warnings.clone();

    /// A data key from a FIM id: lowercase, anything but letters, digits and
    /// `_` becomes `_` (S05000058 uses ids like `F00-4cb0dd14-…`).
    fn key_of(id: &str) -> String {
        id.to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    fn field_def(
        f: &Field,
        code_lists: &[crate::genericode::CodeList],
        report: &mut Vec<Warning>,
    ) -> FieldDef {
        let text = |s: &str| I18nText {
            de: s.to_string(),
            en: String::new(),
        };
        let mut options = Vec::new();
        let mut kind = match (f.kind.as_str(), f.datatype.as_str()) {
            ("label", _) => FieldKind::Label,
            ("select", _) => FieldKind::Select,
            (_, "date") => FieldKind::Date,
            (_, "bool") => FieldKind::YesNo,
            (_, "num_int") => FieldKind::Integer,
            (_, "num_currency") => FieldKind::Currency,
            (_, "num") => FieldKind::Number,
            (_, "file") => FieldKind::File,
            _ if f.precision.max_length.is_some_and(|m| m > 200) => FieldKind::MultiLine,
            _ => FieldKind::Text,
        };
        if kind == FieldKind::Select {
            let list = f.code_list.as_ref().and_then(|r| {
                code_lists
                    .iter()
                    .find(|c| !r.canonical_uri.is_empty() && c.canonical_uri == r.canonical_uri)
            });
            match list {
                Some(l) => {
                    options = l
                        .entries
                        .iter()
                        .map(|(code, label)| Choice {
                            code: code.clone(),
                            label: label.clone(),
                        })
                        .collect()
                }
                None => {
                    report.push(Warning {
                        line: 0,
                        element: "codelisteReferenz".into(),
                        message: format!(
                            "code list {} for field {} ({}) was not uploaded; the field accepts free text until it is",
                            f.code_list.as_ref().map(|r| if r.canonical_uri.is_empty() { r.id.clone() } else { r.canonical_uri.clone() }).unwrap_or_default(),
                            f.id,
                            f.name
                        ),
                    });
                    kind = FieldKind::Text;
                }
            }
        }
        let num = |s: &Option<String>| s.as_deref().and_then(|v| v.trim().parse::<f64>().ok());
        // FIM files often carry prose ("Mehrfachauswahl") in `pattern`; only
        // something that looks like and compiles as a regular expression is one.
        let pattern = f.precision.pattern.clone().filter(|p| {
            let looks = p.chars().any(|c| "[]\\^$(){}|*+?".contains(c));
            let ok = looks && forms::pattern_valid(p);
            if !ok {
                report.push(Warning {
                    line: 0,
                    element: "praezisierung".into(),
                    message: format!(
                        "pattern {p:?} of field {} ({}) is not a regular expression; it was not applied",
                        f.id, f.name
                    ),
                });
            }
            ok
        });
        // A label field shows its fixed content (`inhalt`), not its name.
        let shown = if kind == FieldKind::Label && !f.content.trim().is_empty() {
            &f.content
        } else {
            &f.label
        };
        FieldDef {
            key: key_of(&f.id),
            label: text(shown),
            help: text(&f.help),
            kind,
            required: f.cardinality.min >= 1 && kind != FieldKind::Label,
            min_length: f.precision.min_length.filter(|m| *m > 0),
            max_length: f.precision.max_length,
            min_value: num(&f.precision.min_value),
            max_value: num(&f.precision.max_value),
            options,
            visible_if: None,
            required_if: None,
            checks: vec![],
            computed: None,
            pattern,
            autocomplete: autocomplete_of(&f.name),
            document: None,
        }
    }

    /// The autocomplete token of a FIM Baukasten field by its name (the same
    /// names recur across Stammdatenschemata: Familienname, Postleitzahl, …);
    /// it makes the field fillable by the browser and by account data.
    fn autocomplete_of(name: &str) -> Option<String> {
        let token = match name.trim().to_lowercase().as_str() {
            "familienname" | "nachname" => "family-name",
            "vorname" | "vornamen" => "given-name",
            "straße" | "strasse" => "address-line1",
            "hausnummer" => "address-line2",
            "postleitzahl" | "plz" => "postal-code",
            "ort" | "wohnort" => "address-level2",
            "telefon" | "telefonnummer" => "tel",
            "e-mail" | "e-mail-adresse" | "email" => "email",
            "geburtsdatum" => "bday",
            _ => return None,
        };
        Some(token.to_string())
    }

    fn items(
        list: &[Item],
        code_lists: &[crate::genericode::CodeList],
        report: &mut Vec<Warning>,
    ) -> Vec<forms::Item> {
        list.iter()
            .map(|i| match i {
                Item::Field(f) => forms::Item::Field(field_def(f, code_lists, report)),
                Item::Group(g) => forms::Item::Group(GroupDef {
                    key: key_of(&g.id),
                    label: I18nText {
                        de: g.label.clone(),
                        en: String::new(),
                    },
                    min: g.cardinality.min,
                    max: g.cardinality.max,
                    visible_if: None,
                    items: items(&g.items, code_lists, report),
                }),
            })
            .collect()
    }

    let mut steps = Vec::new();
    let mut loose = Vec::new();
    for item in &schema.root.items {
        match item {
            Item::Group(g) if g.cardinality.max == Some(1) => steps.push(Step {
                key: key_of(&g.id),
                title: text(&g.label),
                items: items(&g.items, code_lists, &mut report),
            }),
            Item::Group(g) => steps.push(Step {
                key: key_of(&g.id),
                title: text(&g.label),
                items: items(std::slice::from_ref(item), code_lists, &mut report),
            }),
            Item::Field(_) => {
                loose.extend(items(std::slice::from_ref(item), code_lists, &mut report))
            }
        }
    }
    if !loose.is_empty() {
        steps.insert(
            0,
            Step {
                key: "allgemein".into(),
                title: text("Allgemeine Angaben"),
                items: loose,
            },
        );
    }
    let form = FormDefinition {
        key: key_of(&schema.root.id),
        title: text(&schema.root.label),
        steps,
    };
    FormImport { form, report }
}

/// A file that could not be read during an import, with where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}, line {}, element <{}>: {}", error.line, error.element, error.message)]
pub struct ImportError {
    pub file: String,
    pub error: XmlError,
}

/// Reads an XDatenfelder schema and the genericode lists uploaded with it
/// (name, content) and builds the form with its import report. A code list
/// that cannot be read fails the import naming that file.
pub fn import(
    schema_name: &str,
    schema_xml: &str,
    code_lists: &[(String, String)],
) -> Result<FormImport, ImportError> {
    let schema = parse(schema_xml).map_err(|error| ImportError {
        file: schema_name.to_string(),
        error,
    })?;
    let lists = code_lists
        .iter()
        .map(|(name, src)| {
            crate::genericode::parse(src).map_err(|error| ImportError {
                file: name.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(to_form(&schema, &lists))
}
