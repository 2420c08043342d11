//! askama views. Every page embeds a [`Page`] with what the layout needs.

use askama::Template;
use askama_web::WebTemplate;
use rathaus_storage::{
    identity::Grant,
    tenancy::{OrgUnit, Tenant},
};

use crate::{
    assets,
    catalog::{HitView, Section},
    catalog_search::Facet,
    context::Ctx,
    i18n::{self, Lang},
};

/// What the layout needs on every page.
pub struct Page {
    pub lang: Lang,
    pub title: String,
    pub tenant_name: String,
    pub path: String,
    /// Email of the logged-in staff member (shows the staff link and logout).
    pub staff: Option<String>,
    /// CSRF token for forms in the layout (logout).
    pub csrf: Option<String>,
    /// Email of the logged-in citizen (shows "Mein Konto" and logout).
    pub citizen: Option<String>,
}

impl Page {
    pub fn new(ctx: &Ctx, title: &str) -> Self {
        Self {
            lang: ctx.lang,
            title: title.to_string(),
            tenant_name: ctx
                .tenant
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_else(|| "rathaus".into()),
            path: ctx.path.clone(),
            staff: None,
            csrf: None,
            citizen: None,
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        i18n::tf(self.lang, key, &[(name, value)])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The other languages, with the link that switches to them.
    pub fn other_langs(&self) -> Vec<(&'static str, &'static str, String)> {
        Lang::ALL
            .into_iter()
            .filter(|l| *l != self.lang)
            .map(|l| {
                (
                    l.code(),
                    l.endonym(),
                    format!("{}?lang={}", self.path, l.code()),
                )
            })
            .collect()
    }

    pub fn asset(&self, path: &str) -> String {
        assets::url(path)
    }

    pub fn role_name(&self, grant: &Grant) -> &'static str {
        self.t(&format!("role.{}", grant.role.code()))
    }

    pub fn case_status(&self, code: &str) -> &'static str {
        self.t(&format!("case_status.{code}"))
    }

    pub fn case_action(&self, code: &str) -> &'static str {
        self.t(&format!("cases.action.{code}"))
    }

    pub fn status_label(&self, code: &str) -> &'static str {
        self.t(&format!("editor.status.{code}"))
    }

    pub fn section_label(&self, key: &str) -> &'static str {
        self.t(&format!("catalog.section.{key}"))
    }

    pub fn org_kind(&self, kind: &str) -> &'static str {
        self.t(&format!("org_kind.{kind}"))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub page: Page,
    pub message: String,
    pub fields: Vec<String>,
    pub reference: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub page: Page,
    pub tenant: Tenant,
    pub offices: Vec<OrgUnit>,
    pub topics: Vec<Facet>,
    pub life_situations: Vec<Facet>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog/search.html")]
pub struct SearchPage {
    pub page: Page,
    pub q: String,
    pub audience: String,
    pub topic: String,
    pub topics: Vec<Facet>,
    pub searched: bool,
    pub hits: Vec<HitView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog/list.html")]
pub struct ListPage {
    pub page: Page,
    pub audience: String,
    pub hits: Vec<HitView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog/service.html")]
pub struct ServicePage {
    pub page: Page,
    pub content: rathaus_domain::catalog::ServiceContent,
    pub unit: OrgUnit,
    pub title_lang: Option<&'static str>,
    pub summary: String,
    pub summary_lang: Option<&'static str>,
    /// `Some("de")` on English pages: the text modules are German.
    pub text_lang: Option<&'static str>,
    pub sections: Vec<Section>,
    pub topics: Vec<(String, String)>,
    pub life_situations: Vec<(String, String)>,
    /// Start of the online application when a published form is attached.
    pub form_url: Option<String>,
}

impl ServicePage {
    pub fn title(&self) -> &str {
        &self.page.title
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "impressum.html")]
pub struct ImpressumPage {
    pub page: Page,
    pub tenant: Tenant,
}

#[derive(Template, WebTemplate)]
#[template(path = "privacy.html")]
pub struct PrivacyPage {
    pub page: Page,
    pub tenant: Tenant,
}

#[derive(Template, WebTemplate)]
#[template(path = "accessibility.html")]
pub struct AccessibilityPage {
    pub page: Page,
    pub tenant: Tenant,
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
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
#[template(path = "staff.html")]
pub struct StaffPage {
    pub page: Page,
    pub display_name: String,
    pub email: String,
    pub grants: Vec<Grant>,
    /// All org units of the tenant as a tree: (depth, unit).
    pub tree: Vec<(usize, OrgUnit)>,
}

impl StaffPage {
    pub fn is_editor(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == rathaus_domain::identity::Role::Editor)
    }

    pub fn is_admin(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == rathaus_domain::identity::Role::TenantAdmin)
    }

    pub fn is_clerk(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == rathaus_domain::identity::Role::Clerk)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/catalog_list.html")]
pub struct CatalogListPage {
    pub page: Page,
    pub rows: Vec<rathaus_storage::catalog::ServiceOverview>,
}

impl CatalogListPage {
    pub fn title_of(&self, row: &rathaus_storage::catalog::ServiceOverview) -> String {
        row.latest.content().title.de
    }
    pub fn status_of(&self, row: &rathaus_storage::catalog::ServiceOverview) -> &'static str {
        self.page
            .t(&format!("editor.status.{}", row.latest.status().code()))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/catalog_form.html")]
pub struct CatalogFormPage {
    pub page: Page,
    pub action: String,
    pub slug_fixed: bool,
    pub units: Vec<String>,
    pub content: rathaus_domain::catalog::ServiceContent,
    pub error_summary: Option<String>,
    pub field_errors: Vec<(String, String)>,
}

impl CatalogFormPage {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn locked(&self, name: &str) -> bool {
        name == "slug" && self.slug_fixed
    }
    pub fn has(&self, a: &str) -> bool {
        self.content.audience.iter().any(|x| x.code() == a)
    }
    /// (field name, label key, value) of the one-line fields.
    pub fn short_fields(&self) -> Vec<(&'static str, &'static str, String)> {
        let c = &self.content;
        vec![
            ("title_de", "editor.field.title_de", c.title.de.clone()),
            ("title_en", "editor.field.title_en", c.title.en.clone()),
            ("slug", "editor.field.slug", c.slug.clone()),
            ("leika_key", "editor.field.leika_key", c.leika_key.clone()),
            ("topics", "editor.field.topics", c.topics.join(", ")),
            (
                "life_situations",
                "editor.field.life_situations",
                c.life_situations.join(", "),
            ),
            (
                "ozg_service",
                "editor.field.ozg_service",
                c.ozg.service.clone(),
            ),
            ("ozg_field", "editor.field.ozg_field", c.ozg.field.clone()),
        ]
    }

    /// (field name, label key, value) of the long text modules.
    pub fn long_fields(&self) -> Vec<(&'static str, String, String)> {
        let c = &self.content;
        vec![
            (
                "summary_de",
                "editor.field.summary_de".into(),
                c.summary.de.clone(),
            ),
            (
                "summary_en",
                "editor.field.summary_en".into(),
                c.summary.en.clone(),
            ),
            (
                "full_text",
                "catalog.section.full_text".into(),
                c.full_text.clone(),
            ),
            (
                "required_documents",
                "catalog.section.required_documents".into(),
                c.required_documents.clone(),
            ),
            (
                "prerequisites",
                "catalog.section.prerequisites".into(),
                c.prerequisites.clone(),
            ),
            ("costs", "catalog.section.costs".into(), c.costs.clone()),
            (
                "deadlines",
                "catalog.section.deadlines".into(),
                c.deadlines.clone(),
            ),
            (
                "processing_time",
                "catalog.section.processing_time".into(),
                c.processing_time.clone(),
            ),
            (
                "procedure",
                "catalog.section.procedure".into(),
                c.procedure.clone(),
            ),
            (
                "legal_basis",
                "catalog.section.legal_basis".into(),
                c.legal_basis.clone(),
            ),
            ("notes", "catalog.section.notes".into(), c.notes.clone()),
            (
                "privacy_personal_data",
                "catalog.privacy.personal_data".into(),
                c.privacy.personal_data.clone(),
            ),
            (
                "privacy_purpose",
                "catalog.privacy.purpose".into(),
                c.privacy.purpose.clone(),
            ),
            (
                "privacy_legal_basis",
                "catalog.privacy.legal_basis".into(),
                c.privacy.legal_basis.clone(),
            ),
            (
                "privacy_retention",
                "catalog.privacy.retention".into(),
                c.privacy.retention.clone(),
            ),
            (
                "privacy_contact",
                "catalog.privacy.contact".into(),
                c.privacy.contact.clone(),
            ),
        ]
    }
}

pub struct VersionRow {
    pub number: i32,
    pub status: &'static str,
    pub author: String,
    pub reviewer: String,
    pub comment: String,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/catalog_detail.html")]
pub struct CatalogDetailPage {
    pub page: Page,
    pub service: rathaus_storage::catalog::Service,
    pub public: bool,
    pub title: String,
    pub latest_status: &'static str,
    pub can_edit: bool,
    pub can_submit: bool,
    pub can_review: bool,
    pub own_change: bool,
    pub versions: Vec<VersionRow>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/catalog_diff.html")]
pub struct CatalogDiffPage {
    pub page: Page,
    pub service_id: uuid::Uuid,
    pub title: String,
    pub from: i32,
    pub to: i32,
    pub numbers: Vec<i32>,
    pub changes: Vec<rathaus_domain::catalog::FieldDiff>,
}

impl CatalogDiffPage {
    pub fn field_label(&self, field: &str) -> &'static str {
        self.page.t(&format!("editor.field.{field}"))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/synonyms.html")]
pub struct SynonymsPage {
    pub page: Page,
    pub rows: Vec<rathaus_storage::catalog::Synonym>,
    pub error: Option<String>,
    pub field_errors: Vec<(String, String)>,
}

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
    pub fields: String,
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
#[template(path = "staff/forms_list.html")]
pub struct FormsListPage {
    pub page: Page,
    pub rows: Vec<FormListRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/form_import.html")]
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
#[template(path = "staff/form_detail.html")]
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
    pub can_submit: bool,
    pub can_review: bool,
    pub own_change: bool,
    pub versions: Vec<VersionRow>,
    pub steps: Vec<String>,
    pub items: Vec<ItemRow>,
    pub report: Vec<String>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/form_item.html")]
pub struct FormItemPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub path: String,
    pub is_group: bool,
    pub v: crate::staff_forms::ItemForm,
    pub problems: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/form_json.html")]
pub struct FormJsonPage {
    pub page: Page,
    pub id: uuid::Uuid,
    pub json: String,
    pub problems: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/submitted.html")]
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
}

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
#[template(path = "staff/cases.html")]
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
#[template(path = "staff/case.html")]
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
}

/// One message of a mailbox thread as shown to either side.
pub struct ThreadRow {
    pub from_office: bool,
    pub kind: &'static str,
    pub at: String,
    pub body: String,
    pub documents: Vec<String>,
    pub due: String,
    /// When the other side opened it ("" = not yet).
    pub read_at: String,
    /// (link, name) of files that came with it.
    pub files: Vec<(String, String)>,
}

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
#[template(path = "account/form.html")]
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
#[template(path = "account/notice.html")]
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
#[template(path = "account/home.html")]
pub struct AccountHomePage {
    pub page: Page,
    pub email: String,
    pub rows: Vec<AccountRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/access_help.html")]
pub struct AccessHelpPage {
    pub page: Page,
    pub reference: Option<String>,
}

pub struct TemplateListRow {
    pub id: String,
    pub title: String,
    /// Per variant (approval, rejection): the service has its own template.
    pub own: Vec<bool>,
    pub rules: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/templates.html")]
pub struct TemplateListPage {
    pub page: Page,
    pub rows: Vec<TemplateListRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/template_edit.html")]
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
#[template(path = "staff/routing.html")]
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
