//! askama views of the Fachadministration's pages (Bescheid templates, routing rules).

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::layout::Page;

pub struct TemplateListRow {
    pub id: String,
    pub title: String,
    /// Per variant (approval, rejection): the service has its own template.
    pub own: Vec<bool>,
    pub rules: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "decisions/templates.html")]
pub struct TemplateListPage {
    pub page: Page,
    pub rows: Vec<TemplateListRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "decisions/template_edit.html")]
pub struct TemplateEditPage {
    pub page: Page,
    pub action: String,
    pub service: Option<String>,
    pub title: String,
    pub body: String,
    pub placeholders: Vec<(String, String)>,
    pub fields: Vec<(String, String)>,
    pub saved_by: Option<String>,
    pub error: Option<String>,
}
#[derive(Default, Clone)]
pub struct RoutingRow {
    pub field: String,
    pub pattern: String,
    pub org_unit: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "decisions/routing.html")]
pub struct RoutingPage {
    pub page: Page,
    pub action: String,
    pub service: String,
    pub default_unit: String,
    pub rows: Vec<RoutingRow>,
    pub units: Vec<(String, String)>,
    pub fields: Vec<(String, String)>,
    pub error: Option<String>,
}
