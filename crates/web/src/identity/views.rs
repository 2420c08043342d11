//! askama views of the staff login and home pages.

use askama::Template;
use askama_web::WebTemplate;
use rathaus_storage::{identity::Grant, tenancy::OrgUnit};

use crate::platform::layout::Page;

#[derive(Template, WebTemplate)]
#[template(path = "identity/login.html")]
pub struct LoginPage {
    pub page: Page,
    pub csrf_token: String,
    pub email: String,
    /// General error (wrong password, rate limit), shown as alert.
    pub error: Option<String>,
    /// Field errors: (field, message).
    pub field_errors: Vec<(String, String)>,
    pub notice: Option<String>,
    pub demo_mode: bool,
}

impl LoginPage {
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "identity/staff.html")]
pub struct StaffPage {
    pub page: Page,
    pub display_name: String,
    pub email: String,
    pub grants: Vec<Grant>,
    /// All org units of the tenant as a tree: (depth, unit).
    pub tree: Vec<(usize, OrgUnit)>,
    /// What the staff member may do (`Staff::holds`): which tiles to show.
    pub works_cases: bool,
    pub edits_content: bool,
    pub administers: bool,
}
