//! askama views. Every page embeds a [`Page`] with what the layout needs.

use askama::Template;
use askama_web::WebTemplate;
use rathaus_storage::{
    identity::Grant,
    tenancy::{OrgUnit, Tenant},
};

use crate::{
    assets,
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
