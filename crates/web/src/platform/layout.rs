//! The layout every page shares: [`Page`], the error page, the version rows
//! of the editors and the cache header of public pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    http::{HeaderValue, header},
    response::{IntoResponseParts, Response, ResponseParts},
};
use rathaus_storage::identity::Grant;

use crate::platform::{
    assets,
    context::Ctx,
    i18n::{self, Lang},
    page_cache,
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
#[template(path = "platform/error.html")]
pub struct ErrorPage {
    pub page: Page,
    pub message: String,
    pub fields: Vec<String>,
    pub reference: Option<String>,
}

pub struct VersionRow {
    pub number: i32,
    pub status: &'static str,
    pub author: String,
    pub reviewer: String,
    pub comment: String,
    pub updated: String,
}

/// The caching of a public page: browsers and proxies may keep it briefly
/// when nobody is logged in (it shows no personal data then), and the
/// instance's page cache keeps it for every anonymous visitor
/// ([`crate::platform::page_cache`]). A page with a staff member, a citizen or
/// a CSRF token is private and never stored.
pub fn cache_header(page: &Page) -> CacheHeaders {
    let personal = page.staff.is_some() || page.citizen.is_some() || page.csrf.is_some();
    CacheHeaders {
        personal,
        store: !personal,
    }
}

/// Response parts made by [`cache_header`].
#[derive(Debug, Clone, Copy)]
pub struct CacheHeaders {
    personal: bool,
    store: bool,
}

impl CacheHeaders {
    /// Still public for browsers, but not kept by the page cache (pages
    /// whose query is free text: one entry per search would crowd out the
    /// catalogue pages; the search results have a cache of their own).
    pub fn not_stored(mut self) -> Self {
        self.store = false;
        self
    }
}

impl IntoResponseParts for CacheHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let cc = if self.personal {
            "private, no-store"
        } else {
            "public, max-age=60"
        };
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
        h.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Accept-Language"),
        );
        if self.store {
            res.extensions_mut().insert(page_cache::Cacheable);
        }
        Ok(res)
    }
}

/// Marks a response with personal data as never to be cached.
pub fn no_store(mut r: Response) -> Response {
    // Drafts hold personal data: never cache them anywhere.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
