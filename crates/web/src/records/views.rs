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
    pub id: String,
    pub sealed: bool,
    /// Filed by staff (a document, note or mail): may move to another Vorgang.
    pub movable: bool,
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
    /// Documents and Umlaufmappen may be added (open or closed Vorgang).
    pub can_file: bool,
    pub circulations: Vec<CirculationRow>,
    /// Staff members for the Umlaufmappe form (id, name).
    pub people: Vec<(String, String)>,
    /// Places of the Umlaufmappe form (1 to 5).
    pub slots: Vec<usize>,
    /// Some document may move to another Vorgang.
    pub can_move: bool,
}

/// A piece of text, highlighted or not (escaped by the template).
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

pub struct SearchHitRow {
    pub href: String,
    pub record_href: String,
    pub file_number: String,
    pub title: Vec<Segment>,
    pub snippet: Vec<Segment>,
    pub filed_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/search.html")]
pub struct SearchPage {
    pub page: Page,
    pub q: String,
    pub total: Option<usize>,
    pub hits: Vec<SearchHitRow>,
    pub next: Option<String>,
    pub error: Option<String>,
}

pub struct PlanChangeRow {
    pub id: String,
    pub summary: String,
    pub status: String,
    pub pending: bool,
    pub mine: bool,
    pub requested_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/plan.html")]
pub struct PlanChangesPage {
    pub page: Page,
    /// (code, title)
    pub nodes: Vec<(String, String)>,
    /// (id, name)
    pub services: Vec<(uuid::Uuid, String)>,
    pub changes: Vec<PlanChangeRow>,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct CirculationRow {
    pub href: String,
    pub title: String,
    pub file_number: String,
    pub status: String,
    pub current: String,
    pub started_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulations.html")]
pub struct CirculationsPage {
    pub page: Page,
    pub waiting: Vec<CirculationRow>,
    pub started: Vec<CirculationRow>,
}

pub struct StepRow {
    pub position: i32,
    pub person: String,
    pub status: String,
    pub comment: String,
    pub done_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/circulation.html")]
pub struct CirculationPage {
    pub page: Page,
    pub id: String,
    pub title: String,
    pub instruction: String,
    pub record_href: String,
    pub file_number: String,
    /// (href, title)
    pub document: Option<(String, String)>,
    pub status: String,
    pub started_by: String,
    pub steps: Vec<StepRow>,
    pub my_turn: bool,
    pub can_cancel: bool,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct IntrayRow {
    pub href: String,
    pub name: String,
    pub sender: String,
    pub received: String,
    pub proposal: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/intray.html")]
pub struct IntrayPage {
    pub page: Page,
    pub items: Vec<IntrayRow>,
    pub can_admin: bool,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct ProposalRow {
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/intray_item.html")]
pub struct IntrayItemPage {
    pub page: Page,
    pub id: String,
    pub open: bool,
    pub file_name: String,
    pub sender: String,
    pub subject: String,
    pub received: String,
    pub excerpt: String,
    pub proposals: Vec<ProposalRow>,
    /// (id, label, preselected)
    pub candidates: Vec<(String, String, bool)>,
    pub error: Option<String>,
}

pub struct RuleRow {
    pub id: String,
    pub name: String,
    pub priority: i32,
    pub sender: String,
    pub keywords: String,
    pub target: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/intray_settings.html")]
pub struct IntraySettingsPage {
    pub page: Page,
    pub rules: Vec<RuleRow>,
    /// (code, title)
    pub nodes: Vec<(String, String)>,
    pub trained_at: Option<String>,
    pub samples: i32,
    pub available: usize,
    pub accuracy: Option<String>,
    pub baseline: Option<String>,
    pub tested_on: usize,
    /// (plan code, correct, tested)
    pub per_label: Vec<(String, usize, usize)>,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct CheckResult {
    pub valid: bool,
    pub verdict: String,
    pub issuer: String,
    pub sealed_at: String,
    pub title: String,
    pub fingerprint: String,
    pub sha256: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/check.html")]
pub struct CheckPage {
    pub page: Page,
    pub result: Option<CheckResult>,
    pub error: Option<String>,
}
