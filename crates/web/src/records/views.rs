//! askama views of the e-file's pages.

use askama::Template;
use askama_web::WebTemplate;

use crate::platform::layout::Page;

pub struct PlanRow {
    pub code: String,
    pub title: String,
    /// Depth in the tree (for the indentation class).
    pub depth: usize,
    /// "10 Jahre ab Abschluss, A" or empty.
    pub rule: String,
    pub services: String,
}

pub struct FileRow {
    pub href: String,
    pub file_number: String,
    pub subject: String,
    pub status: String,
    pub extra: String,
}

pub struct DisposalRow {
    pub href: String,
    pub id: String,
    pub as_of: String,
    pub status: String,
    pub files: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/overview.html")]
pub struct OverviewPage {
    pub page: Page,
    pub plan: Vec<PlanRow>,
    pub as_of: String,
    pub due: Vec<FileRow>,
    pub disposals: Vec<DisposalRow>,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct ItemRow {
    pub file_number: String,
    pub subject: String,
    pub proposal: String,
    pub decision: String,
    pub receipt: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/disposal.html")]
pub struct DisposalPage {
    pub page: Page,
    pub id: String,
    pub as_of: String,
    pub status: String,
    pub status_code: String,
    pub items: Vec<ItemRow>,
    pub requested_by_me: bool,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct DocumentRow {
    pub number: i32,
    pub kind: String,
    pub title: String,
    pub date: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/record.html")]
pub struct RecordPage {
    pub page: Page,
    pub case_href: String,
    pub record_id: String,
    pub file_number: String,
    pub subject: String,
    pub status: String,
    pub plan: String,
    pub retention: String,
    pub retention_ends: String,
    pub legal_hold: Option<String>,
    pub can_hold: bool,
    pub documents: Vec<DocumentRow>,
    pub deletions: Vec<(String, String, usize)>,
    pub message: Option<String>,
}
