//! The staff's pages of the Mängelmelder: the reports of the clerk's units,
//! a report with everything (contact data while kept, photos, duplicates
//! nearby) and its three forms (status with a public note, release of text
//! and photos, merging into another report), and the Fachadministration's
//! settings (categories with their questions and area routes, Open311 keys,
//! the street list).

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Duration, Utc};
use rathaus_app::{
    Permission, UseCaseError,
    defects::{AreaRoute, CategoryInput, DefectQuery, KEEP_CONTACT_DAYS, StaffReport},
};
use rathaus_domain::{FieldError, defects::DefectStatus};
use uuid::Uuid;

use super::views::{
    CategoryForm, CategoryRow, Choice, FieldMessage, Input, KeyRow, PhotoLink, RouteRow,
    SettingsPage, StaffDetailPage, StaffListPage, StaffNearby, StaffRow, UpdateRow, anchored,
    coordinates, date_label, datetime_label, field_messages, metres, place_label, status_label,
};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page, urlencode},
    context::{Ctx, describe},
    error::AppError,
    i18n::{self, Lang},
    layout::no_store,
    routes::{Routes, get, post},
    security::CsrfForm,
};

/// Reports per page of the staff list.
const PAGE_SIZE: u64 = 50;
/// Area route rows of the category form.
const ROUTE_ROWS: usize = 3;

pub fn routes() -> Routes {
    Routes::new("defects")
        .route("/staff/maengel", get(list_page))
        .route("/staff/maengel/einstellungen", get(settings_page))
        .route(
            "/staff/maengel/einstellungen/kategorie",
            post(save_category),
        )
        .route("/staff/maengel/einstellungen/schluessel", post(create_key))
        .route(
            "/staff/maengel/einstellungen/schluessel/{id}/widerrufen",
            post(revoke_key),
        )
        .route(
            "/staff/maengel/einstellungen/strassen",
            post(import_streets),
        )
        .route("/staff/maengel/{id}", get(detail_page))
        .route("/staff/maengel/{id}/status", post(change_status))
        .route("/staff/maengel/{id}/freigabe", post(moderate))
        .route("/staff/maengel/{id}/zusammenfuehren", post(merge))
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::NotFound)
}

fn yes_no(lang: Lang, b: bool) -> &'static str {
    i18n::t(lang, if b { "defects.yes" } else { "defects.no" })
}

// ----------------------------------------------------------------------
// The list
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    kategorie: Option<String>,
    seite: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let actor = staff.actor(&state).await?;
    let status = q
        .status
        .as_deref()
        .map(str::trim)
        .and_then(DefectStatus::parse);
    let category = q
        .kategorie
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 40)
        .map(str::to_string);
    let page_no: u64 = q
        .seite
        .as_deref()
        .and_then(|s| s.trim().parse().ok())
        .filter(|n| (1..=2000).contains(n))
        .unwrap_or(1);
    let reports = state
        .app
        .staff_defects(
            &actor,
            &DefectQuery {
                statuses: status.into_iter().collect(),
                service_codes: category.iter().cloned().collect(),
                limit: PAGE_SIZE,
                offset: (page_no - 1) * PAGE_SIZE,
                ..DefectQuery::default()
            },
        )
        .await?;
    let categories = state.app.defect_categories(actor.tenant()).await?;
    let href = |n: u64| {
        let mut parts = vec![format!("seite={n}")];
        if let Some(s) = status {
            parts.push(format!("status={}", s.code()));
        }
        if let Some(c) = &category {
            parts.push(format!("kategorie={}", urlencode(c)));
        }
        format!("/staff/maengel?{}", parts.join("&"))
    };
    let full = reports.len() as u64 == PAGE_SIZE;
    let settings = actor
        .staff()
        .is_some_and(|s| s.holds(Permission::AdministerTenant));
    let page = staff_page(&ctx, &staff, ctx.t("defects.staff_title")).await?;
    Ok(no_store(
        StaffListPage {
            page,
            rows: reports
                .into_iter()
                .map(|s| {
                    let r = &s.public;
                    StaffRow {
                        href: format!("/staff/maengel/{}", r.id),
                        reference: r.reference.clone(),
                        category: r.category_name.clone(),
                        place: place_label(
                            lang,
                            r.address.as_deref(),
                            r.landmark.as_deref(),
                            r.point.map(|p| (p.lat, p.long)),
                        ),
                        status_code: r.status.code(),
                        status: status_label(lang, r.status),
                        received: datetime_label(lang, r.created_at),
                        released: i18n::tf(
                            lang,
                            "defects.released_cell",
                            &[
                                ("text", yes_no(lang, s.report.text_public)),
                                ("photos", yes_no(lang, s.report.photos_public)),
                                ("n", &s.photo_count.to_string()),
                            ],
                        ),
                    }
                })
                .collect(),
            statuses: DefectStatus::ALL
                .into_iter()
                .map(|s| Choice {
                    id: format!("status-{}", s.code()),
                    value: s.code().to_string(),
                    label: status_label(lang, s).to_string(),
                    checked: status == Some(s),
                })
                .collect(),
            categories: categories
                .iter()
                .map(|c| Choice {
                    id: format!("kategorie-{}", c.category.code),
                    value: c.category.code.clone(),
                    label: c.category.name.clone(),
                    checked: category.as_deref() == Some(c.category.code.as_str()),
                })
                .collect(),
            prev_href: (page_no > 1).then(|| href(page_no - 1)),
            next_href: full.then(|| href(page_no + 1)),
            settings,
        }
        .into_response(),
    ))
}

// ----------------------------------------------------------------------
// A report
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct DetailQuery {
    ok: Option<String>,
}

/// The messages a redirect may name.
const DETAIL_MSGS: [&str; 3] = ["status", "freigabe", "zusammengefuehrt"];

/// What a render of the detail page carries besides the report.
#[derive(Default)]
struct DetailExtra {
    message: Option<String>,
    error: Option<String>,
    errors: Vec<FieldMessage>,
    note: String,
    to: String,
    into: String,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let message =
        q.ok.as_deref()
            .filter(|m| DETAIL_MSGS.contains(m))
            .map(|m| ctx.t(&format!("defects.staff_ok_{m}")).to_string());
    render_detail(
        &state,
        &ctx,
        &staff,
        id,
        DetailExtra {
            message,
            ..DetailExtra::default()
        },
        StatusCode::OK,
    )
    .await
}

/// The reporter's contact data kept, or why there is none.
fn contact_of(lang: Lang, s: &StaffReport) -> (Vec<(String, String)>, Option<String>) {
    let r = &s.report;
    let name = [r.first_name.as_deref(), r.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = Vec::new();
    if !name.trim().is_empty() {
        out.push((i18n::t(lang, "defects.field.name").to_string(), name));
    }
    if let Some(e) = &r.email {
        out.push((i18n::t(lang, "defects.field.email").to_string(), e.clone()));
    }
    if let Some(p) = &r.phone {
        out.push((i18n::t(lang, "defects.field.phone").to_string(), p.clone()));
    }
    if !out.is_empty() {
        return (out, None);
    }
    let forgotten = r
        .closed_at
        .is_some_and(|c| c <= Utc::now() - Duration::days(KEEP_CONTACT_DAYS));
    let note = if forgotten {
        "defects.contact_deleted"
    } else {
        "defects.contact_none"
    };
    (out, Some(i18n::t(lang, note).to_string()))
}

async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    extra: DetailExtra,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let actor = staff.actor(state).await?;
    let s = state.app.staff_defect(&actor, id).await?;
    let r = &s.public;
    let enc = urlencode(&r.reference);
    let (contact, contact_note) = contact_of(lang, &s);
    let attributes: Vec<(String, String)> = match &s.attributes {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => Vec::new(),
    };
    let channel = if s.report.api_key_id.is_some() {
        "defects.channel_open311"
    } else if s.report.citizen_id.is_some() {
        "defects.channel_account"
    } else {
        "defects.channel_portal"
    };
    let errs = &extra.errors;
    let errors = anchored(
        errs,
        &[
            ("to".into(), "status-to".into()),
            ("note".into(), "status-note".into()),
            ("into".into(), "merge-into".into()),
        ],
        "status-to",
    );
    let base = format!("/staff/maengel/{}", r.id);
    let page = staff_page(
        ctx,
        staff,
        &i18n::tf(
            lang,
            "defects.staff_detail_title",
            &[("reference", &r.reference)],
        ),
    )
    .await?;
    let view = StaffDetailPage {
        page,
        public_href: format!("/maengel/{enc}"),
        category: r.category_name.clone(),
        status_code: r.status.code(),
        status: status_label(lang, r.status),
        place: place_label(
            lang,
            r.address.as_deref(),
            r.landmark.as_deref(),
            r.point.map(|p| (p.lat, p.long)),
        ),
        coordinates: r.point.map(|p| coordinates(p.lat, p.long)),
        unit: r.unit_name.clone(),
        received: datetime_label(lang, r.created_at),
        channel: i18n::t(lang, channel).to_string(),
        description: s.description.clone(),
        attributes,
        photos: (1..=s.photo_count)
            .map(|n| PhotoLink {
                src: format!("/maengel/{enc}/fotos/{n}"),
                alt: i18n::tf(
                    lang,
                    "defects.photo_alt",
                    &[("n", &n.to_string()), ("reference", &r.reference)],
                ),
            })
            .collect(),
        media_url: r.media_url.clone(),
        contact,
        contact_note,
        case_href: format!("/staff/cases/{}", s.case_id),
        nearby: s
            .nearby
            .iter()
            .map(|(n, d)| StaffNearby {
                href: format!("/staff/maengel/{}", n.id),
                reference: n.reference.clone(),
                status: status_label(lang, n.status),
                place: place_label(
                    lang,
                    n.address.as_deref(),
                    n.landmark.as_deref(),
                    n.point.map(|p| (p.lat, p.long)),
                ),
                distance: metres(*d),
            })
            .collect(),
        merged_into: r
            .merged_into
            .as_ref()
            .map(|m| (format!("/maengel/{}", urlencode(m)), m.clone())),
        public_note: r.public_note.clone(),
        updates: r
            .updates
            .iter()
            .map(|u| UpdateRow {
                date: datetime_label(lang, u.at),
                status: status_label(lang, u.status),
                note: u.note.clone().unwrap_or_default(),
            })
            .collect(),
        next: s
            .next
            .iter()
            .map(|n| Choice {
                id: format!("to-{}", n.code()),
                value: n.code().to_string(),
                label: status_label(lang, *n).to_string(),
                checked: extra.to == n.code(),
            })
            .collect(),
        note: Input::with(extra.note, "note", errs),
        to_error: errs
            .iter()
            .find(|e| e.field == "to")
            .map(|e| e.message.clone()),
        text_public: s.report.text_public,
        photos_public: s.report.photos_public,
        into: Input::with(extra.into, "into", errs),
        message: extra.message,
        error: extra.error,
        errors,
        reference: r.reference.clone(),
        base,
    };
    Ok(no_store((status, view).into_response()))
}

/// A refused step's message for the detail page (validation, workflow,
/// conflicts); anything else is an error page.
fn refusal(
    lang: Lang,
    e: UseCaseError,
) -> Result<(StatusCode, String, Vec<FieldMessage>), AppError> {
    match e {
        UseCaseError::Validation(errs) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::t(lang, "defects.error_summary").to_string(),
            field_messages(lang, &errs.0, &[]),
        )),
        UseCaseError::Workflow(code) => {
            let key = format!("editor.{code}");
            let m = if i18n::has(lang, &key) {
                i18n::t(lang, &key).to_string()
            } else {
                i18n::t(lang, "defects.not_possible").to_string()
            };
            Ok((StatusCode::CONFLICT, m, vec![]))
        }
        UseCaseError::Conflict(_) => {
            let e: AppError = e.into();
            Ok((StatusCode::CONFLICT, describe(lang, &e).0, vec![]))
        }
        e => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

async fn change_status(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<StatusForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let form = f.form;
    let actor = staff.actor(&state).await?;
    let result = match DefectStatus::parse(form.to.trim()) {
        Some(to) => {
            state
                .app
                .change_defect_status(&actor, id, to, &form.note)
                .await
        }
        None => Err(UseCaseError::Validation(
            FieldError::new(
                "to",
                if form.to.trim().is_empty() {
                    "required"
                } else {
                    "option.unknown"
                },
            )
            .into(),
        )),
    };
    let keep = DetailExtra {
        note: form.note,
        to: form.to,
        ..DetailExtra::default()
    };
    after_step(&state, &ctx, &staff, id, result.map(|_| ()), "status", keep).await
}

/// The answer to a step on a report: back to its page with `?ok=<ok>`, or
/// the page again with the refusal and what was typed (`keep`).
async fn after_step(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    id: Uuid,
    result: Result<(), UseCaseError>,
    ok: &str,
    keep: DetailExtra,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(no_store(
            Redirect::to(&format!("/staff/maengel/{id}?ok={ok}")).into_response(),
        )),
        Err(e) => {
            let (status, error, errors) = refusal(ctx.lang, e)?;
            render_detail(
                state,
                ctx,
                staff,
                id,
                DetailExtra {
                    error: Some(error),
                    errors,
                    ..keep
                },
                status,
            )
            .await
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct ModerateForm {
    #[serde(default)]
    text_public: Option<String>,
    #[serde(default)]
    photos_public: Option<String>,
}

async fn moderate(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<ModerateForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let form = f.form;
    let actor = staff.actor(&state).await?;
    let on = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    let result = state
        .app
        .moderate_defect(&actor, id, on(&form.text_public), on(&form.photos_public))
        .await
        .map(|_| ());
    after_step(
        &state,
        &ctx,
        &staff,
        id,
        result,
        "freigabe",
        DetailExtra::default(),
    )
    .await
}

#[derive(serde::Deserialize, Default)]
struct MergeForm {
    #[serde(default)]
    into: String,
}

async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<MergeForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let form = f.form;
    let actor = staff.actor(&state).await?;
    let result = if form.into.trim().is_empty() {
        Err(UseCaseError::Validation(
            FieldError::new("into", "required").into(),
        ))
    } else if form.into.chars().count() > 40 {
        Err(UseCaseError::Validation(
            FieldError::new("into", "too_long").into(),
        ))
    } else {
        state.app.merge_defect(&actor, id, &form.into).await
    };
    let keep = DetailExtra {
        into: form.into,
        ..DetailExtra::default()
    };
    after_step(
        &state,
        &ctx,
        &staff,
        id,
        result.map(|_| ()),
        "zusammengefuehrt",
        keep,
    )
    .await
}

// ----------------------------------------------------------------------
// Settings (Fachadministration)
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct SettingsQuery {
    kategorie: Option<String>,
    ok: Option<String>,
    anzahl: Option<String>,
}

/// The category form's fields as posted.
#[derive(serde::Deserialize, Default, Clone)]
struct CategoryPost {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    org_unit_id: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    attributes: String,
    #[serde(default)]
    route_unit_1: String,
    #[serde(default)]
    route_postal_1: String,
    #[serde(default)]
    route_geojson_1: String,
    #[serde(default)]
    route_unit_2: String,
    #[serde(default)]
    route_postal_2: String,
    #[serde(default)]
    route_geojson_2: String,
    #[serde(default)]
    route_unit_3: String,
    #[serde(default)]
    route_postal_3: String,
    #[serde(default)]
    route_geojson_3: String,
}

impl CategoryPost {
    /// The route rows as (unit, postal codes, GeoJSON), 1-based.
    fn route_rows(&self) -> [(usize, &str, &str, &str); ROUTE_ROWS] {
        [
            (
                1,
                &self.route_unit_1,
                &self.route_postal_1,
                &self.route_geojson_1,
            ),
            (
                2,
                &self.route_unit_2,
                &self.route_postal_2,
                &self.route_geojson_2,
            ),
            (
                3,
                &self.route_unit_3,
                &self.route_postal_3,
                &self.route_geojson_3,
            ),
        ]
        .map(|(n, u, p, g)| (n, u.as_str(), p.as_str(), g.as_str()))
    }

    fn set_route(&mut self, n: usize, unit: String, postal: String, geojson: String) {
        match n {
            1 => {
                (self.route_unit_1, self.route_postal_1, self.route_geojson_1) =
                    (unit, postal, geojson)
            }
            2 => {
                (self.route_unit_2, self.route_postal_2, self.route_geojson_2) =
                    (unit, postal, geojson)
            }
            3 => {
                (self.route_unit_3, self.route_postal_3, self.route_geojson_3) =
                    (unit, postal, geojson)
            }
            _ => {}
        }
    }
}

/// What a render of the settings page carries besides the stored data.
#[derive(Default)]
struct SettingsExtra {
    form: Option<CategoryPost>,
    /// The posted rows' numbers in the order the use case saw them.
    route_numbers: Vec<usize>,
    new_key: Option<(String, String)>,
    key_name: String,
    streets: Option<String>,
    message: Option<String>,
    error: Option<String>,
    errors: Vec<FieldMessage>,
}

const ATTRIBUTES_EXAMPLE: &str = r#"[{"code": "tiefe", "datatype": "singlevaluelist", "required": true, "description": "Wie tief ist das Schlagloch?", "values": [{"key": "flach", "name": "unter 5 cm"}, {"key": "tief", "name": "5 cm oder tiefer"}]}]"#;

async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let actor = staff.actor(&state).await?;
    let message = match q.ok.as_deref() {
        Some("kategorie") => Some(i18n::t(lang, "defects.settings_ok_category").to_string()),
        Some("widerrufen") => Some(i18n::t(lang, "defects.settings_ok_revoked").to_string()),
        Some("strassen") => Some(i18n::tf(
            lang,
            "defects.settings_ok_streets",
            &[(
                "n",
                &q.anzahl
                    .as_deref()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
                    .to_string(),
            )],
        )),
        _ => None,
    };
    // Changing a category: the form starts with its values.
    let mut form = None;
    if let Some(code) = q
        .kategorie
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let all = state.app.all_defect_categories(&actor).await?;
        let c = all
            .iter()
            .find(|c| c.category.code == code)
            .ok_or(AppError::NotFound)?;
        let c = &c.category;
        let mut post = CategoryPost {
            code: c.code.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            keywords: c.keywords.clone(),
            group: c.group_name.clone(),
            org_unit_id: c.org_unit_id.to_string(),
            position: c.position.to_string(),
            active: c.active.then(|| "1".to_string()),
            attributes: if c.attributes.trim() == "[]" {
                String::new()
            } else {
                serde_json::from_str::<serde_json::Value>(&c.attributes)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_else(|| c.attributes.clone())
            },
            ..CategoryPost::default()
        };
        let routes: Vec<AreaRoute> = serde_json::from_str(&c.routes).unwrap_or_default();
        for (i, r) in routes.into_iter().take(ROUTE_ROWS).enumerate() {
            post.set_route(
                i + 1,
                r.org_unit_id.to_string(),
                r.postal_codes.unwrap_or_default(),
                r.geojson.unwrap_or_default(),
            );
        }
        form = Some(post);
    }
    render_settings(
        &state,
        &ctx,
        &staff,
        SettingsExtra {
            form,
            message,
            ..SettingsExtra::default()
        },
        StatusCode::OK,
    )
    .await
}

async fn render_settings(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    extra: SettingsExtra,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let actor = staff.actor(state).await?;
    let categories = state.app.all_defect_categories(&actor).await?;
    let keys = state.app.open311_keys(&actor).await?;
    let units = state.app.org_units(&actor).await?;
    let streets = state.app.defect_streets(actor.tenant()).await?;
    let unit_name = |id: Uuid| {
        units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let errs = &extra.errors;
    let editing = extra
        .form
        .as_ref()
        .is_some_and(|f| categories.iter().any(|c| c.category.code == f.code.trim()));
    let post = extra.form.clone().unwrap_or_else(|| CategoryPost {
        active: Some("1".into()),
        position: "0".into(),
        ..CategoryPost::default()
    });
    // The use case names route rows by their index among the filled ones.
    let numbers = &extra.route_numbers;
    let route_field = |n: usize, inner: &str| -> String {
        let i = numbers.iter().position(|x| *x == n).unwrap_or(usize::MAX);
        format!("routes[{i}].{inner}")
    };
    let route_error = |n: usize, inners: &[&str]| -> Option<String> {
        errs.iter()
            .find(|e| inners.iter().any(|inner| e.field == route_field(n, inner)))
            .map(|e| e.message.clone())
    };
    let routes = post
        .route_rows()
        .into_iter()
        .map(|(n, u, p, g)| RouteRow {
            n,
            unit: Input {
                value: u.to_string(),
                error: route_error(n, &["org_unit_id"]),
            },
            postal_codes: Input {
                value: p.to_string(),
                error: route_error(n, &["postal_codes", "area"]),
            },
            geojson: Input {
                value: g.to_string(),
                error: route_error(n, &["geojson"]),
            },
        })
        .collect();
    let form = CategoryForm {
        code: Input::with(post.code.clone(), "code", errs),
        name: Input::with(post.name.clone(), "name", errs),
        description: Input::with(post.description.clone(), "description", errs),
        keywords: Input::with(post.keywords.clone(), "keywords", errs),
        group: Input::with(post.group.clone(), "group", errs),
        org_unit: Input::with(post.org_unit_id.clone(), "org_unit_id", errs),
        position: Input::with(post.position.clone(), "position", errs),
        active: post.active.as_deref().is_some_and(|a| !a.is_empty()),
        attributes: Input::with(post.attributes.clone(), "attributes", errs),
        routes,
    };
    let mut shown: Vec<(String, String)> = [
        ("code", "cat-code"),
        ("name", "cat-name"),
        ("description", "cat-description"),
        ("keywords", "cat-keywords"),
        ("group", "cat-group"),
        ("org_unit_id", "cat-unit"),
        ("position", "cat-position"),
        ("attributes", "cat-attributes"),
        ("routes", "route-1-unit"),
        ("key_name", "key-name"),
        ("csv", "streets-csv"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for n in 1..=ROUTE_ROWS {
        shown.push((route_field(n, "org_unit_id"), format!("route-{n}-unit")));
        shown.push((route_field(n, "postal_codes"), format!("route-{n}-postal")));
        shown.push((route_field(n, "area"), format!("route-{n}-postal")));
        shown.push((route_field(n, "geojson"), format!("route-{n}-geojson")));
    }
    let errors = anchored(errs, &shown, "cat-code");
    let streets_csv = extra.streets.clone().unwrap_or_else(|| {
        let mut s = String::from("strasse;plz;lat;long\n");
        for st in &streets {
            s.push_str(&format!(
                "{};{};{};{}\n",
                st.name, st.postal_code, st.point.lat, st.point.long
            ));
        }
        s
    });
    let page = staff_page(ctx, staff, ctx.t("defects.settings_title")).await?;
    let view = SettingsPage {
        page,
        categories: categories
            .iter()
            .map(|c| CategoryRow {
                code: c.category.code.clone(),
                name: c.category.name.clone(),
                group: c.category.group_name.clone(),
                unit: unit_name(c.category.org_unit_id),
                active: c.category.active,
                attributes: c.attributes.len(),
                position: c.category.position,
                edit_href: format!(
                    "/staff/maengel/einstellungen?kategorie={}#kategorie-form",
                    urlencode(&c.category.code)
                ),
            })
            .collect(),
        units: units
            .iter()
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        form,
        attributes_example: ATTRIBUTES_EXAMPLE,
        editing,
        keys: keys
            .iter()
            .map(|k| KeyRow {
                id: k.id.to_string(),
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                created: datetime_label(lang, k.created_at),
                last_used: k
                    .last_used_at
                    .map(|t| datetime_label(lang, t))
                    .unwrap_or_else(|| i18n::t(lang, "defects.never").to_string()),
                revoked: k.revoked_at.map(|t| date_label(lang, t)),
            })
            .collect(),
        new_key: extra.new_key,
        key_name: Input::with(extra.key_name, "key_name", errs),
        streets: Input::with(streets_csv, "csv", errs),
        street_count: i18n::tf(
            lang,
            "defects.street_count",
            &[("n", &streets.len().to_string())],
        ),
        message: extra.message,
        error: extra.error,
        errors,
    };
    Ok(no_store((status, view).into_response()))
}

async fn save_category(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<CategoryPost>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let post = f.form;
    let actor = staff.actor(&state).await?;
    let uuid = |s: &str| Uuid::parse_str(s.trim()).unwrap_or(Uuid::nil());
    let mut numbers = Vec::new();
    let mut routes = Vec::new();
    for (n, u, p, g) in post.route_rows() {
        if u.trim().is_empty() && p.trim().is_empty() && g.trim().is_empty() {
            continue;
        }
        numbers.push(n);
        routes.push(AreaRoute {
            org_unit_id: uuid(u),
            postal_codes: Some(p.trim().to_string()).filter(|p| !p.is_empty()),
            geojson: Some(g.trim().to_string()).filter(|g| !g.is_empty()),
        });
    }
    let position = post.position.trim();
    let position = if position.is_empty() {
        Ok(0)
    } else {
        position.parse::<i32>().map_err(|_| ())
    };
    let result = match position {
        Err(()) => Err(UseCaseError::Validation(
            FieldError::new("position", "number.integer").into(),
        )),
        Ok(position) => {
            let org_unit_id = Some(post.org_unit_id.trim())
                .filter(|u| !u.is_empty())
                .map(uuid);
            state
                .app
                .save_defect_category(
                    &actor,
                    CategoryInput {
                        code: post.code.clone(),
                        name: post.name.clone(),
                        description: post.description.clone(),
                        keywords: post.keywords.clone(),
                        group: post.group.clone(),
                        org_unit_id,
                        routes,
                        attributes: post.attributes.clone(),
                        position,
                        active: post.active.as_deref().is_some_and(|a| !a.is_empty()),
                    },
                )
                .await
        }
    };
    match result {
        Ok(_) => Ok(no_store(
            Redirect::to("/staff/maengel/einstellungen?ok=kategorie").into_response(),
        )),
        Err(UseCaseError::Validation(errs)) => {
            let mut errs = errs.0;
            // `service_code` is the code's own name in the domain.
            for e in &mut errs {
                if e.field == "service_code" {
                    e.field = "code".into();
                }
            }
            render_settings(
                &state,
                &ctx,
                &staff,
                SettingsExtra {
                    form: Some(post),
                    route_numbers: numbers,
                    error: Some(i18n::t(lang, "defects.error_summary").to_string()),
                    errors: field_messages(lang, &errs, &[]),
                    ..SettingsExtra::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
struct KeyForm {
    #[serde(default)]
    name: String,
}

async fn create_key(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<KeyForm>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let name = f.form.name;
    let actor = staff.actor(&state).await?;
    match state.app.create_open311_key(&actor, &name).await {
        // The key is shown once, on this answer; never in a URL.
        Ok((k, key)) => {
            render_settings(
                &state,
                &ctx,
                &staff,
                SettingsExtra {
                    new_key: Some((k.name, key)),
                    ..SettingsExtra::default()
                },
                StatusCode::OK,
            )
            .await
        }
        Err(UseCaseError::Validation(errs)) => {
            let errs: Vec<FieldError> = errs
                .0
                .into_iter()
                .map(|e| FieldError::new("key_name", e.code))
                .collect();
            render_settings(
                &state,
                &ctx,
                &staff,
                SettingsExtra {
                    key_name: name,
                    error: Some(i18n::t(lang, "defects.error_summary").to_string()),
                    errors: field_messages(lang, &errs, &[]),
                    ..SettingsExtra::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
struct Empty {}

async fn revoke_key(
    State(state): State<AppState>,
    staff: StaffUser,
    Path(id): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let id = id_of(&id)?;
    let actor = staff.actor(&state).await?;
    state.app.revoke_open311_key(&actor, id).await?;
    Ok(no_store(
        Redirect::to("/staff/maengel/einstellungen?ok=widerrufen").into_response(),
    ))
}

#[derive(serde::Deserialize, Default)]
struct StreetsForm {
    #[serde(default)]
    csv: String,
}

async fn import_streets(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    f: CsrfForm<StreetsForm>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let csv = f.form.csv;
    let actor = staff.actor(&state).await?;
    match state.app.import_defect_streets(&actor, &csv).await {
        Ok(n) => Ok(no_store(
            Redirect::to(&format!(
                "/staff/maengel/einstellungen?ok=strassen&anzahl={n}"
            ))
            .into_response(),
        )),
        Err(UseCaseError::BadFile(detail)) => {
            let message = i18n::tf(lang, "defects.streets_invalid", &[("detail", &detail)]);
            render_settings(
                &state,
                &ctx,
                &staff,
                SettingsExtra {
                    streets: Some(csv),
                    error: Some(i18n::t(lang, "defects.error_summary").to_string()),
                    errors: vec![FieldMessage {
                        field: "csv".into(),
                        message,
                    }],
                    ..SettingsExtra::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_rows_keep_their_numbers() {
        let mut p = CategoryPost::default();
        p.set_route(3, "u".into(), "63571".into(), String::new());
        let rows = p.route_rows();
        assert_eq!(rows[2], (3, "u", "63571", ""));
        assert_eq!(rows[0], (1, "", "", ""));
    }

    #[test]
    fn the_attribute_example_is_valid() {
        assert!(rathaus_domain::defects::parse_attribute_defs(ATTRIBUTES_EXAMPLE).is_ok());
    }
}
