//! askama views of the catalog pages (public and Redaktion).

use askama::Template;
use askama_web::WebTemplate;
use rathaus_storage::tenancy::{OrgUnit, Tenant};

use super::public::{HitView, Section};
use crate::platform::{editorial::WorkflowView, layout::Page};
use rathaus_app::catalog::search::Facet;

#[derive(Template, WebTemplate)]
#[template(path = "catalog/home.html")]
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
    /// Why the search text was refused (too long, too many words).
    pub error: Option<String>,
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
#[template(path = "catalog/staff_catalog_list.html")]
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
#[template(path = "catalog/staff_catalog_form.html")]
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

#[derive(Template, WebTemplate)]
#[template(path = "catalog/staff_catalog_detail.html")]
pub struct CatalogDetailPage {
    pub page: Page,
    pub service: rathaus_storage::catalog::Service,
    pub public: bool,
    pub title: String,
    pub latest_status: &'static str,
    pub can_edit: bool,
    pub workflow: WorkflowView,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog/staff_catalog_diff.html")]
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
#[template(path = "catalog/staff_synonyms.html")]
pub struct SynonymsPage {
    pub page: Page,
    pub rows: Vec<rathaus_storage::catalog::Synonym>,
    pub error: Option<String>,
    pub field_errors: Vec<(String, String)>,
}
