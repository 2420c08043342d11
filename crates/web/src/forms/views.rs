//! askama views of the form pages (public wizard and form editor).

use askama::Template;
use askama_web::WebTemplate;

use super::staff::ItemForm;
use crate::platform::{editorial::WorkflowView, layout::Page};

#[derive(Template, WebTemplate)]
#[template(path = "forms/start.html")]
pub struct FormStartPage {
    pub page: Page,
    pub slug: String,
    pub service_title: String,
    pub steps: Vec<String>,
    pub draft_days: u32,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/step.html")]
pub struct FormStepPage {
    pub page: Page,
    pub form_title: String,
    pub step_title: String,
    pub number: usize,
    pub total: usize,
    pub action: String,
    /// Where the script asks for a re-evaluated step.
    pub refresh: String,
    /// Rendered fields (escaped by `form_render`).
    pub fields: crate::platform::form_render::FieldMarkup,
    /// (element id, message) for the error summary.
    pub errors: Vec<(String, String)>,
    pub notice: Option<String>,
    pub multipart: bool,
    /// Visible field paths when rendered (to notice fields that appear).
    pub shown: String,
    /// Editor preview: nothing is saved.
    pub preview: bool,
}

pub struct ReviewSection {
    pub title: String,
    pub href: String,
    pub rows: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/review.html")]
pub struct FormReviewPage {
    pub page: Page,
    pub form_title: String,
    pub sections: Vec<ReviewSection>,
    /// (link to the field, message)
    pub errors: Vec<(String, String)>,
    pub token: String,
    pub expires: String,
    /// Sent with the submit button: a double click makes one application.
    pub idempotency_key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/saved.html")]
pub struct FormSavedPage {
    pub page: Page,
    pub form_title: String,
    pub link: String,
    pub expires: String,
}

pub struct FormListRow {
    pub id: uuid::Uuid,
    pub key: String,
    pub title: String,
    pub service: String,
    pub latest: i32,
    pub status: &'static str,
    pub published: Option<i32>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/staff_forms_list.html")]
pub struct FormsListPage {
    pub page: Page,
    pub rows: Vec<FormListRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/staff_form_import.html")]
pub struct FormImportPage {
    pub page: Page,
    /// (slug, title)
    pub services: Vec<(String, String)>,
    pub error: Option<String>,
    pub field_errors: Vec<(String, String)>,
    pub json: String,
}

pub struct ItemRow {
    pub path: String,
    pub depth: usize,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub condition: String,
    pub step: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/staff_form_detail.html")]
pub struct FormDetailPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub key: String,
    pub title: String,
    pub service: Option<String>,
    pub services: Vec<(String, String)>,
    pub public: bool,
    pub latest_status: &'static str,
    pub can_edit: bool,
    pub workflow: WorkflowView,
    pub steps: Vec<String>,
    pub items: Vec<ItemRow>,
    pub report: Vec<String>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/staff_form_item.html")]
pub struct FormItemPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub path: String,
    pub is_group: bool,
    pub v: ItemForm,
    pub problems: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/staff_form_json.html")]
pub struct FormJsonPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub json: String,
    pub problems: Vec<String>,
}
