//! askama views of the applicant's pages of an application.

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::{layout::Page, payment::PaymentRow, thread::ThreadRow};

#[derive(Template, WebTemplate)]
#[template(path = "applications/submitted.html")]
pub struct SubmittedPage {
    pub page: Page,
    pub reference: String,
    pub form_title: String,
    pub submitted_at: String,
    pub org_unit: String,
    pub status: String,
    pub files: Vec<String>,
    /// The access link to show (applicants without an account).
    pub link: Option<String>,
    /// Path prefix of this application's pages (access link or account).
    pub base: String,
    pub thread: Vec<ThreadRow>,
    pub open: bool,
    pub notice: Option<String>,
    /// A problem to show (a payment that could not be started).
    pub problem: Option<String>,
    /// The application waits for its fee (pay before sending).
    pub awaiting_payment: bool,
    pub payments: Vec<PaymentRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "applications/access_help.html")]
pub struct AccessHelpPage {
    pub page: Page,
    pub reference: Option<String>,
}
