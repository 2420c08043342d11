//! Renders the visible nodes of a form step ([`forms::layout`]) as KERN
//! markup. Written in Rust rather than a template because groups nest to any
//! depth; every text goes through [`esc`].

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use rathaus_domain::{
    catalog::I18nText,
    forms::{self, FieldKind, FormDefinition, Item, Node, Problem},
};
use serde_json::Value as Json;

use crate::platform::i18n::{self, Lang};

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The element id of the input for a data path (`hunde[1].name` → `f-hunde-1-name`).
pub fn field_id(path: &str) -> String {
    let mut id = String::from("f-");
    for c in path.chars() {
        match c {
            '[' | '.' => id.push('-'),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => id.push(c),
            _ => id.push('_'),
        }
    }
    id
}

/// Text in the page language; on English pages a German-only text is marked `lang="de"`.
fn text(t: &I18nText, lang: Lang) -> String {
    let english = lang == Lang::En;
    if english && t.en.trim().is_empty() && !t.de.is_empty() {
        format!("<span lang=\"de\">{}</span>", esc(&t.de))
    } else {
        esc(t.get(english))
    }
}

/// A label for messages: the field's label plus the group instance
/// (`Name (Hund 2)`), in the page language.
pub fn path_label(def: &FormDefinition, path: &str, lang: Lang) -> String {
    forms::path_label(def, path, lang == Lang::En)
}

/// The message for a problem, naming the field, in the page language.
pub fn problem_text(def: &FormDefinition, p: &Problem, lang: Lang) -> String {
    if let Some(m) = &p.message {
        return format!(
            "{}: {}",
            path_label(def, &p.path, lang),
            m.get(lang == Lang::En)
        );
    }
    // An unknown key has no label: name it as sent.
    let label = if p.code == "field.unknown" {
        p.path.clone()
    } else {
        path_label(def, &p.path, lang)
    };
    let f = forms::field_at(def, &p.path);
    let num = |v: Option<f64>| {
        v.map(|n| {
            n.to_string()
                .replace('.', if lang == Lang::De { "," } else { "." })
        })
    };
    let min = f
        .and_then(|f| num(f.min_value).or(f.min_length.map(|n| n.to_string())))
        .unwrap_or_default();
    let max = f
        .and_then(|f| num(f.max_value).or(f.max_length.map(|n| n.to_string())))
        .unwrap_or_default();
    i18n::tf(
        lang,
        &format!("validation.{}", p.code),
        &[("field", &label), ("min", &min), ("max", &max)],
    )
}

/// What the renderer needs besides the nodes.
pub struct RenderCtx<'a> {
    pub lang: Lang,
    /// Problems by path (already worded).
    pub errors: &'a HashMap<String, String>,
    /// Field keys that rules depend on: changing them re-evaluates the step.
    pub deps: &'a HashSet<String>,
}

/// Keys of all fields that any rule of the definition reads.
pub fn rule_dependencies(def: &FormDefinition) -> HashSet<String> {
    fn walk(items: &[Item], out: &mut HashSet<String>) {
        for i in items {
            let rules: Vec<&String> = match i {
                Item::Field(f) => [&f.visible_if, &f.required_if, &f.computed]
                    .into_iter()
                    .flatten()
                    .chain(f.checks.iter().map(|c| &c.rule))
                    .collect(),
                Item::Group(g) => {
                    walk(&g.items, out);
                    g.visible_if.iter().collect()
                }
            };
            for r in rules {
                if let Ok(e) = rathaus_domain::rules::parse(r) {
                    for p in rathaus_domain::rules::fields_used(&e) {
                        out.insert(p.rsplit('.').next().unwrap_or(&p).to_string());
                    }
                }
            }
        }
    }
    let mut out = HashSet::new();
    for s in &def.steps {
        walk(&s.items, &mut out);
    }
    out
}

fn value_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Shows a stored file reference (`<uuid>/<name>`) by its name.
pub fn file_name(v: &str) -> &str {
    v.split_once('/').map_or(v, |(_, n)| n)
}

fn error_block(out: &mut String, id: &str, msg: &str) {
    let _ = write!(
        out,
        "<p class=\"kern-error\" id=\"{id}-error\"><span class=\"kern-icon kern-icon--danger\" aria-hidden=\"true\"></span><span class=\"kern-body\">{}</span></p>",
        esc(msg)
    );
}

fn describedby(id: &str, help: bool, error: bool) -> String {
    let mut ids = Vec::new();
    if help {
        ids.push(format!("{id}-hint"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    if ids.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", ids.join(" "))
    }
}

fn render_field(
    out: &mut String,
    rc: &RenderCtx<'_>,
    path: &str,
    f: &forms::FieldDef,
    value: &Json,
    required: bool,
) {
    let lang = rc.lang;
    let id = field_id(path);
    let name = esc(path);
    let label = text(&f.label, lang);
    let document = f
        .document
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| esc(&i18n::tf(lang, "wizard.document", &[("document", d)])))
        .or_else(|| (f.kind == FieldKind::File).then(|| esc(i18n::t(lang, "wizard.file_hint"))));
    let has_help = !f.help.de.trim().is_empty() || document.is_some();
    let help = has_help.then(|| {
        let mut parts = Vec::new();
        if !f.help.de.trim().is_empty() {
            parts.push(text(&f.help, lang));
        }
        if let Some(d) = &document {
            parts.push(d.clone());
        }
        format!(
            "<div class=\"kern-hint\" id=\"{id}-hint\">{}</div>",
            parts.join(" ")
        )
    });
    let error = rc.errors.get(path);
    let optional = if required || f.kind == FieldKind::Label || f.computed.is_some() {
        String::new()
    } else {
        format!(
            " <span class=\"kern-label__optional\">{}</span>",
            i18n::t(lang, "wizard.optional")
        )
    };
    let refresh = if rc.deps.contains(&f.key) {
        " data-refresh=\"1\""
    } else {
        ""
    };
    let aria = describedby(&id, has_help, error.is_some());
    let invalid = if error.is_some() {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    let req = if required {
        " aria-required=\"true\""
    } else {
        ""
    };
    let auto = f
        .autocomplete
        .as_deref()
        .map(|a| format!(" autocomplete=\"{}\"", esc(a)))
        .unwrap_or_default();
    let current = value_text(value);

    if f.kind == FieldKind::Label {
        let _ = write!(
            out,
            "<div class=\"form-label-text\"><p class=\"kern-body\" id=\"{id}\">{label}</p>{}</div>",
            help.unwrap_or_default()
        );
        return;
    }
    if f.computed.is_some() {
        let _ = write!(
            out,
            "<div class=\"form-computed\"><p class=\"kern-body\"><span id=\"{id}-label\">{label}</span>: <output id=\"{id}\" aria-labelledby=\"{id}-label\">{}</output></p>{}</div>",
            esc(&current),
            help.unwrap_or_default()
        );
        return;
    }

    let choice_group = matches!(
        f.kind,
        FieldKind::Radio | FieldKind::Checkboxes | FieldKind::YesNo
    );
    if choice_group {
        let err_class = if error.is_some() {
            " kern-fieldset--error"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<fieldset class=\"kern-fieldset{err_class}\" id=\"{id}\"{aria}><legend class=\"kern-label\">{label}{optional}</legend>{}",
            help.unwrap_or_default()
        );
        let _ = write!(
            out,
            "<div class=\"kern-fieldset__body{}\">",
            if f.kind == FieldKind::YesNo {
                " kern-fieldset__body--horizontal"
            } else {
                ""
            }
        );
        let options: Vec<(String, String)> = if f.kind == FieldKind::YesNo {
            vec![
                ("true".into(), i18n::t(lang, "wizard.yes").into()),
                ("false".into(), i18n::t(lang, "wizard.no").into()),
            ]
        } else {
            f.options
                .iter()
                .map(|o| (o.code.clone(), o.label.clone()))
                .collect()
        };
        let selected: Vec<String> = match value {
            Json::Array(a) => a.iter().map(value_text).collect(),
            Json::Bool(b) => vec![b.to_string()],
            Json::Null => vec![],
            v => vec![value_text(v)],
        };
        let (ty, class) = if f.kind == FieldKind::Checkboxes {
            ("checkbox", "kern-form-check__checkbox")
        } else {
            ("radio", "kern-form-check__radio")
        };
        for (i, (code, text)) in options.iter().enumerate() {
            let checked = if selected.contains(code) {
                " checked"
            } else {
                ""
            };
            let err = if error.is_some() {
                format!(" {class}--error")
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<div class=\"kern-form-check\"><input class=\"{class}{err}\" type=\"{ty}\" id=\"{id}-{i}\" name=\"{name}\" value=\"{}\"{checked}{refresh}><label class=\"kern-label\" for=\"{id}-{i}\">{}</label></div>",
                esc(code),
                esc(text)
            );
        }
        out.push_str("</div>");
        if let Some(e) = error {
            error_block(out, &id, e);
        }
        out.push_str("</fieldset>");
        return;
    }

    let err_wrap = if error.is_some() {
        " kern-form-input--error"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<div class=\"kern-form-input{err_wrap}\"><label class=\"kern-label\" for=\"{id}\">{label}{optional}</label>{}",
        help.unwrap_or_default()
    );
    let input_err = if error.is_some() {
        " kern-form-input__input--error"
    } else {
        ""
    };
    match f.kind {
        FieldKind::MultiLine => {
            let _ = write!(
                out,
                "<textarea class=\"kern-form-input__input{input_err}\" id=\"{id}\" name=\"{name}\" rows=\"5\"{aria}{invalid}{req}{auto}{refresh}>{}</textarea>",
                esc(&current)
            );
        }
        FieldKind::Select => {
            let sel_err = if error.is_some() {
                " kern-form-input__select--error"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<div class=\"kern-form-input__select-wrapper\"><select class=\"kern-form-input__select{sel_err}\" id=\"{id}\" name=\"{name}\"{aria}{invalid}{req}{auto}{refresh}><option value=\"\">{}</option>",
                i18n::t(lang, "wizard.choose")
            );
            for o in &f.options {
                let s = if o.code == current { " selected" } else { "" };
                let _ = write!(
                    out,
                    "<option value=\"{}\"{s}>{}</option>",
                    esc(&o.code),
                    esc(&o.label)
                );
            }
            out.push_str("</select></div>");
        }
        FieldKind::File => {
            if !current.is_empty() {
                let _ = write!(
                    out,
                    "<p class=\"kern-body file-current\">{}</p><input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    esc(&i18n::tf(
                        lang,
                        "wizard.file_current",
                        &[("name", file_name(&current))]
                    )),
                    esc(&current)
                );
            }
            let _ = write!(
                out,
                "<input class=\"kern-form-input__input{input_err}\" type=\"file\" id=\"{id}\" name=\"_file:{name}\" accept=\".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg\"{aria}{invalid}{req}>"
            );
        }
        kind => {
            let (ty, mode) = match kind {
                FieldKind::Date => ("date", ""),
                FieldKind::Email => ("email", ""),
                FieldKind::Phone => ("tel", ""),
                FieldKind::Number | FieldKind::Currency => ("text", " inputmode=\"decimal\""),
                FieldKind::Integer => ("text", " inputmode=\"numeric\""),
                _ => ("text", ""),
            };
            let spell = if kind == FieldKind::Iban {
                " spellcheck=\"false\""
            } else {
                ""
            };
            let max = f
                .max_length
                .filter(|_| matches!(kind, FieldKind::Text))
                .map(|m| format!(" maxlength=\"{m}\""))
                .unwrap_or_default();
            let shown = if kind == FieldKind::Date {
                // type=date needs ISO; a German date typed without JS is kept as typed.
                current.clone()
            } else if lang == Lang::De
                && matches!(kind, FieldKind::Number | FieldKind::Currency)
                && value.is_number()
            {
                current.replace('.', ",")
            } else {
                current.clone()
            };
            let _ = write!(
                out,
                "<input class=\"kern-form-input__input{input_err}\" type=\"{ty}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{mode}{spell}{max}{aria}{invalid}{req}{auto}{refresh}>",
                esc(&shown)
            );
        }
    }
    if let Some(e) = error {
        error_block(out, &id, e);
    }
    out.push_str("</div>");
}

/// The markup of a step's fields. Only [`FieldMarkup::render`] makes one,
/// and it passes every value, label and message through [`esc`]; so templates
/// print it as is (askama's `HtmlSafe`) without a `|safe` filter.
pub struct FieldMarkup(String);

impl FieldMarkup {
    pub fn render(rc: &RenderCtx<'_>, nodes: &[Node<'_>]) -> Self {
        let mut out = String::new();
        render_nodes(&mut out, rc, nodes);
        FieldMarkup(out)
    }
}

impl std::fmt::Display for FieldMarkup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for FieldMarkup {}

/// Renders nodes; `heading` is the level for group legends' numbering text.
pub fn render_nodes(out: &mut String, rc: &RenderCtx<'_>, nodes: &[Node<'_>]) {
    for n in nodes {
        match n {
            Node::Field {
                path,
                def,
                value,
                required,
            } => render_field(out, rc, path, def, value, *required),
            Node::Group {
                path,
                def,
                instances,
                can_add,
                can_remove,
            } => {
                let gid = field_id(path);
                let label = text(&def.label, rc.lang);
                let error = rc.errors.get(path.as_str());
                let _ = write!(out, "<div class=\"form-group\" id=\"{gid}\">");
                if let Some(e) = error {
                    error_block(out, &gid, e);
                }
                let repeatable = def.repeatable();
                for (i, (ipath, inner)) in instances.iter().enumerate() {
                    let legend = if repeatable {
                        format!("{label} {}", i + 1)
                    } else {
                        label.clone()
                    };
                    let _ = write!(
                        out,
                        "<fieldset class=\"kern-fieldset form-instance\" id=\"{}\"><legend class=\"kern-label\">{legend}</legend><div class=\"kern-fieldset__body\">",
                        field_id(ipath)
                    );
                    if repeatable {
                        let _ = write!(
                            out,
                            "<input type=\"hidden\" name=\"{}._\" value=\"\">",
                            esc(ipath)
                        );
                    }
                    render_nodes(out, rc, inner);
                    if *can_remove {
                        let _ = write!(
                            out,
                            "<div><button type=\"submit\" class=\"kern-btn kern-btn--tertiary\" name=\"_action\" value=\"remove:{}\"><span class=\"kern-label\">{}</span></button></div>",
                            esc(ipath),
                            esc(&i18n::tf(
                                rc.lang,
                                "wizard.remove",
                                &[(
                                    "item",
                                    &format!("{} {}", def.label.get(rc.lang == Lang::En), i + 1)
                                )]
                            ))
                        );
                    }
                    out.push_str("</div></fieldset>");
                }
                if *can_add {
                    let _ = write!(
                        out,
                        "<div><button type=\"submit\" class=\"kern-btn kern-btn--secondary\" name=\"_action\" value=\"add:{}\"><span class=\"kern-label\">{}</span></button></div>",
                        esc(path),
                        esc(&i18n::tf(
                            rc.lang,
                            "wizard.add",
                            &[("item", def.label.get(rc.lang == Lang::En))]
                        ))
                    );
                }
                out.push_str("</div>");
            }
        }
    }
}

/// One answered field for the review page: (label, shown value).
pub fn review_rows(
    def: &FormDefinition,
    nodes: &[Node<'_>],
    lang: Lang,
    out: &mut Vec<(String, String)>,
) {
    let words = forms::ReviewWords {
        english: lang == Lang::En,
        not_answered: i18n::t(lang, "wizard.not_answered"),
        yes: i18n::t(lang, "wizard.yes"),
        no: i18n::t(lang, "wizard.no"),
    };
    forms::review_rows(def, nodes, &words, out);
}

/// Problems as API errors with the message in the request's language and both.
pub fn problems_json(def: &FormDefinition, problems: &[forms::Problem], lang: Lang) -> Vec<Json> {
    problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "path": p.path,
                "code": p.code,
                "message": problem_text(def, p, lang),
                "messages": {
                    "de": problem_text(def, p, Lang::De),
                    "en": problem_text(def, p, Lang::En),
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_ids() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(field_id("hunde[1].name"), "f-hunde-1-name");
        assert_eq!(file_name("0193/antrag.pdf"), "antrag.pdf");
    }
}
