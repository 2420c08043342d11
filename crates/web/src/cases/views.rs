//! askama views of the case work pages.

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::{layout::Page, thread::ThreadRow};

pub struct CaseInboxRow {
    pub id: uuid::Uuid,
    pub reference: String,
    pub service: String,
    pub submitted: String,
    pub status: &'static str,
    pub assignee: String,
    pub org_unit: String,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/cases.html")]
pub struct CaseInboxPage {
    pub page: Page,
    pub rows: Vec<CaseInboxRow>,
    pub status: String,
    pub mine: bool,
    pub unassigned: bool,
    pub overdue: bool,
    pub q: String,
    /// Link to the next (older) page, already HTML-escaped.
    pub next: Option<String>,
    pub statuses: Vec<&'static str>,
}

pub struct CaseAuditRow {
    pub at: String,
    pub actor: String,
    pub text: String,
}

pub struct CaseFileRow {
    pub href: String,
    pub name: String,
    pub size_kb: i64,
    pub field: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/case.html")]
pub struct CaseDetailPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub reference: String,
    pub form_title: String,
    pub service: String,
    pub submitted: String,
    pub status: &'static str,
    pub assignee: String,
    pub mine: bool,
    pub open: bool,
    pub org_unit: String,
    pub due: String,
    pub overdue: bool,
    pub sections: Vec<(String, Vec<(String, String)>)>,
    pub files: Vec<CaseFileRow>,
    pub history: Vec<CaseAuditRow>,
    /// (action code, label key suffix) of the status changes possible now.
    pub actions: Vec<(&'static str, &'static str)>,
    pub thread: Vec<ThreadRow>,
    pub units: Vec<(uuid::Uuid, String)>,
    /// The case may be decided now (shows the Bescheid form).
    pub can_decide: bool,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The case's payments: link to the payment's page and its row.
    pub payments: Vec<(String, crate::platform::payment::PaymentRow)>,
    /// The clerk may ask for a fee (payments are on, the case is open and
    /// received).
    pub can_request_fee: bool,
    /// Payments are on: the Bescheid may ask for a fee.
    pub payments_on: bool,
    /// The case is a defect report: the report's page (status, release,
    /// the reporter's feedback).
    pub defect_href: Option<String>,
}
