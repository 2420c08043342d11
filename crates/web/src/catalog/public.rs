//! Public catalog pages: search, lists by audience, topic and life situation,
//! service pages, sitemap.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use rathaus_app::catalog::{MAX_SEARCH_CHARS, SearchText};
use rathaus_domain::catalog::{Audience, ServiceContent, slugify};
use rathaus_search::{Hit, ListQuery};
use rathaus_storage::forms::FormRepository;
use tower_sessions::Session;

use super::views::{ListPage, SearchPage, ServicePage};
use crate::platform::{
    AppState,
    auth::with_staff,
    context::Ctx,
    error::AppError,
    i18n::{self, Lang},
    layout::{Page, cache_header},
    routes::{Routes, get},
};
use rathaus_app::catalog::search::Facet;

pub fn routes() -> Routes {
    Routes::new("catalog")
        .route("/suche", get(search))
        .route("/leistungen", get(list))
        .route("/leistungen/{slug}", get(service_page))
        .route("/themen/{slug}", get(topic))
        .route("/lebenslagen/{slug}", get(life_situation))
        .route("/sitemap.xml", get(sitemap))
}

/// A result as the list shows it.
pub struct HitView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// `Some("de")` when an English page shows German text.
    pub text_lang: Option<&'static str>,
}

impl HitView {
    pub fn new(h: &Hit, lang: Lang) -> Self {
        let en = lang == Lang::En && !h.title_en.is_empty();
        Self {
            slug: h.slug.clone(),
            title: if en {
                h.title_en.clone()
            } else {
                h.title_de.clone()
            },
            summary: if en && !h.summary_en.is_empty() {
                h.summary_en.clone()
            } else {
                h.summary_de.clone()
            },
            text_lang: (lang == Lang::En && !en).then_some("de"),
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    topic: String,
}

impl Filters {
    fn audience(&self) -> Option<&str> {
        Audience::parse(&self.audience).map(|a| a.code())
    }
    fn topic(&self) -> Option<&str> {
        Some(self.topic.as_str()).filter(|t| !t.is_empty())
    }
}

async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    // A refused text is shown back (shortened) with the reason, answered 400.
    let (q, hits, error) = match SearchText::parse(&f.q) {
        Ok(text) if text.is_empty() => (String::new(), Default::default(), None),
        Ok(text) => {
            let hits = state
                .app
                .search_services(tenant.tenant_id(), &text, f.audience(), f.topic(), 30)
                .await?;
            (text.as_str().to_string(), hits, None)
        }
        Err(e) => (
            f.q.trim().chars().take(MAX_SEARCH_CHARS).collect(),
            Default::default(),
            Some(i18n::field_error(ctx.lang, &e.field, e.code)),
        ),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let title = if q.is_empty() || error.is_some() {
        ctx.t("catalog.search_title").to_string()
    } else {
        format!("{} „{}“", ctx.t("catalog.results_for"), q)
    };
    let page = with_staff(&state, &ctx, &session, Page::new(&ctx, &title)).await?;
    let headers = cache_header(&page).not_stored();
    Ok((
        status,
        headers,
        SearchPage {
            page,
            q: q.clone(),
            audience: f.audience().unwrap_or_default().to_string(),
            topic: f.topic().unwrap_or_default().to_string(),
            topics: state.app.search.topics(tenant.tenant_id()),
            searched: !q.is_empty() && error.is_none(),
            hits: hits.iter().map(|h| HitView::new(h, ctx.lang)).collect(),
            error,
        },
    )
        .into_response())
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    heading: String,
    query: ListQuery<'_>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let hits = state
        .app
        .search
        .index
        .list(tenant.id, &query)
        .map_err(AppError::internal)?;
    let page = with_staff(state, ctx, session, Page::new(ctx, &heading)).await?;
    let headers = cache_header(&page);
    Ok((
        headers,
        ListPage {
            page,
            audience: query.audience.unwrap_or_default().to_string(),
            hits: hits.iter().map(|h| HitView::new(h, ctx.lang)).collect(),
        },
    )
        .into_response())
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    let heading = match f.audience() {
        Some("citizen") => ctx.t("catalog.for_citizens"),
        Some("business") => ctx.t("catalog.for_businesses"),
        _ => ctx.t("catalog.all_services"),
    }
    .to_string();
    render_list(
        &state,
        &ctx,
        &session,
        heading,
        ListQuery {
            audience: f.audience(),
            topic: f.topic(),
            life_situation: None,
        },
    )
    .await
}

fn facet_name(facets: &[Facet], slug: &str) -> Option<String> {
    facets
        .iter()
        .find(|f| f.slug == slug)
        .map(|f| f.name.clone())
}

async fn topic(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let name = facet_name(&state.app.search.topics(tenant.tenant_id()), &slug)
        .ok_or(AppError::NotFound)?;
    let heading = format!("{}: {}", ctx.t("catalog.topic"), name);
    render_list(
        &state,
        &ctx,
        &session,
        heading,
        ListQuery {
            topic: Some(&slug),
            ..Default::default()
        },
    )
    .await
}

async fn life_situation(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let name = facet_name(&state.app.search.life_situations(tenant.tenant_id()), &slug)
        .ok_or(AppError::NotFound)?;
    let heading = format!("{}: {}", ctx.t("catalog.life_situation"), name);
    render_list(
        &state,
        &ctx,
        &session,
        heading,
        ListQuery {
            life_situation: Some(&slug),
            ..Default::default()
        },
    )
    .await
}

/// A text module as paragraphs and bullet lists ("- " lines).
pub enum Block {
    Para(String),
    List(Vec<String>),
}

pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for chunk in text.split("\n\n") {
        let lines: Vec<&str> = chunk
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        if lines.iter().all(|l| l.starts_with("- ")) {
            out.push(Block::List(
                lines.iter().map(|l| l[2..].trim().to_string()).collect(),
            ));
        } else {
            let mut para = Vec::new();
            for l in lines {
                if let Some(item) = l.strip_prefix("- ") {
                    if !para.is_empty() {
                        out.push(Block::Para(para.join(" ")));
                        para.clear();
                    }
                    match out.last_mut() {
                        Some(Block::List(items)) => items.push(item.to_string()),
                        _ => out.push(Block::List(vec![item.to_string()])),
                    }
                } else {
                    para.push(l);
                }
            }
            if !para.is_empty() {
                out.push(Block::Para(para.join(" ")));
            }
        }
    }
    out
}

/// One section of a service page.
pub struct Section {
    pub key: &'static str,
    pub id: String,
    pub blocks: Vec<Block>,
}

pub fn sections(c: &ServiceContent) -> Vec<Section> {
    c.sections()
        .into_iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(key, t)| Section {
            key,
            id: key.replace('_', "-"),
            blocks: blocks(t),
        })
        .collect()
}

async fn service_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let p = state
        .app
        .published_service_by_slug(tenant.tenant_id(), &slug)
        .await?;
    let english = ctx.lang == Lang::En;
    let title = p.content.title.get(english).to_string();
    let page = with_staff(&state, &ctx, &session, Page::new(&ctx, &title)).await?;
    let headers = cache_header(&page);
    let sections = sections(&p.content);
    let form_url = state
        .store
        .repo()
        .published_form_for_service(tenant.tenant_id(), p.service.id)
        .await?
        .map(|_| format!("/leistungen/{slug}/antrag"));
    Ok((
        headers,
        ServicePage {
            form_url,
            page,
            title_lang: (english && p.content.title.en.is_empty()).then_some("de"),
            summary: p.content.summary.get(english).to_string(),
            summary_lang: (english && p.content.summary.en.is_empty()).then_some("de"),
            text_lang: english.then_some("de"),
            topics: p
                .content
                .topics
                .iter()
                .map(|t| (slugify(t), t.clone()))
                .collect(),
            life_situations: p
                .content
                .life_situations
                .iter()
                .map(|t| (slugify(t), t.clone()))
                .collect(),
            sections,
            content: p.content,
            unit: p.org_unit,
        },
    )
        .into_response())
}

async fn sitemap(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let base = state.config.public_url.trim_end_matches('/').to_string();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut push = |path: &str| {
        xml.push_str(&format!(
            "  <url><loc>{base}{}</loc></url>\n",
            escape_xml(path)
        ));
    };
    for p in [
        "/",
        "/suche",
        "/leistungen",
        "/impressum",
        "/datenschutz",
        "/barrierefreiheit",
    ] {
        push(p);
    }
    for f in state.app.search.topics(tenant.tenant_id()) {
        push(&format!("/themen/{}", f.slug));
    }
    for f in state.app.search.life_situations(tenant.tenant_id()) {
        push(&format!("/lebenslagen/{}", f.slug));
    }
    for h in state
        .app
        .search
        .index
        .list(tenant.id, &ListQuery::default())
        .map_err(AppError::internal)?
    {
        push(&format!("/leistungen/{}", h.slug));
    }
    xml.push_str("</urlset>\n");
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        xml,
    )
        .into_response())
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
