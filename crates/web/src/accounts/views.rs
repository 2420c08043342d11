//! askama views of the citizen account pages.

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::layout::Page;

pub struct AccountField {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub hint: Option<String>,
}

/// Register, log in and profile: one form layout.
#[derive(Template, WebTemplate)]
#[template(path = "accounts/form.html")]
pub struct AccountFormPage {
    pub page: Page,
    pub intro: String,
    pub action: String,
    pub fields: Vec<AccountField>,
    pub submit: String,
    pub summary: Option<String>,
    pub errors: Vec<(String, String)>,
    pub notice: Option<String>,
    pub links: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/notice.html")]
pub struct AccountNoticePage {
    pub page: Page,
    pub text: String,
    pub link: Option<(String, String)>,
}

pub struct AccountRow {
    pub reference: String,
    pub title: String,
    pub submitted: String,
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/home.html")]
pub struct AccountHomePage {
    pub page: Page,
    pub email: String,
    pub rows: Vec<AccountRow>,
}
