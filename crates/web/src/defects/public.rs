//! The public pages of the Mängelmelder: the recent reports, reporting a
//! defect in two steps (category and place; then duplicates nearby, the
//! category's questions, text, photos and an e-mail address for feedback),
//! the page of a report and its released photos. Everything works without
//! JavaScript: step 1 is a GET form, the street list a `<datalist>`.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, Query, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Actor, UseCaseError,
    defects::{CategoryView, DefectQuery, PhotoInput, ReportChannel, ReportInput},
};
use rathaus_domain::{
    FieldError,
    defects::{self as dom, Datatype, GeoPoint, Street},
    tenancy::TenantId,
};
use tower_sessions::Session;

use super::views::{
    AttrField, CategoryChoice, Choice, DetailsPage, FieldMessage, Input, ListPage, ListRow,
    NearbyRow, PhotoLink, PlacePage, ReportPage, Suggestion, UpdateRow, anchored, coordinates,
    date_label, datetime_label, field_messages, metres, place_label, status_label,
};
use crate::platform::{
    AppState,
    auth::{current_citizen, current_user, urlencode, with_staff},
    client::Client,
    context::Ctx,
    error::AppError,
    i18n::{self, Lang},
    json::body_limit,
    layout::{Page, cache_header, no_store},
    multipart::{self, MultipartError},
    routes::{Routes, get, post},
    security::{csrf_token, verify_csrf},
};

/// The largest report the form may send (text and up to three photos of
/// 10 MB each).
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Reports per page of the public list.
const PAGE_SIZE: u64 = 20;
/// Longest reference taken from a path.
const MAX_REFERENCE: usize = 40;

pub fn routes() -> Routes {
    Routes::new("defects")
        .route("/maengel", get(list_page))
        .route("/maengel/melden", get(place_page))
        .route("/maengel/melden/angaben", get(details_page))
        .route("/maengel/{reference}", get(report_page))
        .route("/maengel/{reference}/fotos/{n}", get(photo))
        .merge(
            Routes::new("defects")
                .route("/maengel/melden", post(report))
                .map(|r| r.layer(body_limit(MAX_BODY))),
        )
}

fn reference_part(s: &str) -> Result<&str, AppError> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_REFERENCE {
        Err(AppError::NotFound)
    } else {
        Ok(s)
    }
}

/// Who asks: a logged-in staff member (sees unreleased photos of their
/// reports), a citizen (their e-mail address prefills), else anonymous.
async fn actor_of(state: &AppState, ctx: &Ctx, session: &Session) -> Result<Actor, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    if let Some(user) = current_user(state, ctx, session).await? {
        return Ok(state
            .app
            .staff_actor_for(user, rathaus_app::Channel::Session)
            .await?);
    }
    if let Some(c) = current_citizen(state, ctx, session).await? {
        return Ok(Actor::Citizen {
            tenant,
            account: c.id,
        });
    }
    Ok(Actor::Anonymous { tenant })
}

/// A page with the session's CSRF token (anonymous: the cookie's).
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    title: &str,
) -> Result<Page, AppError> {
    let mut page = with_staff(state, ctx, session, Page::new(ctx, title)).await?;
    if page.csrf.is_none() {
        page.csrf = Some(csrf_token(session).await?);
    }
    Ok(page)
}

fn with_status(status: StatusCode, r: impl IntoResponse) -> Response {
    no_store((status, r).into_response())
}

// ----------------------------------------------------------------------
// The list
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    seite: Option<String>,
    kategorie: Option<String>,
    status: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let tenant = ctx.tenant()?.tenant_id();
    let page_no: u64 = q
        .seite
        .as_deref()
        .and_then(|s| s.trim().parse().ok())
        .filter(|n| (1..=5000).contains(n))
        .unwrap_or(1);
    let category = q
        .kategorie
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 40)
        .map(str::to_string);
    let status = q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| *s == "open" || *s == "closed")
        .map(str::to_string);
    let query = DefectQuery {
        service_codes: category.iter().cloned().collect(),
        open311_status: status.iter().cloned().collect(),
        limit: PAGE_SIZE,
        offset: (page_no - 1) * PAGE_SIZE,
        ..DefectQuery::default()
    };
    let reports = state.app.public_defects(tenant, &query).await?;
    let total = state.app.count_public_defects(tenant, &query).await?;
    let categories = state.app.defect_categories(tenant).await?;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let href = |n: u64| {
        let mut parts = vec![format!("seite={n}")];
        if let Some(c) = &category {
            parts.push(format!("kategorie={}", urlencode(c)));
        }
        if let Some(s) = &status {
            parts.push(format!("status={s}"));
        }
        format!("/maengel?{}", parts.join("&"))
    };
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("defects.title")),
    )
    .await?;
    let headers = cache_header(&page).not_stored();
    let view = ListPage {
        page,
        rows: reports
            .into_iter()
            .map(|r| ListRow {
                href: format!("/maengel/{}", urlencode(&r.reference)),
                place: place_label(
                    lang,
                    r.address.as_deref(),
                    r.landmark.as_deref(),
                    r.point.map(|p| (p.lat, p.long)),
                ),
                reference: r.reference,
                category: r.category_name,
                status_code: r.status.code(),
                status: status_label(lang, r.status),
                date: date_label(lang, r.created_at),
            })
            .collect(),
        count: i18n::tf(
            lang,
            "defects.list_count",
            &[
                ("total", &total.to_string()),
                ("page", &page_no.to_string()),
                ("pages", &pages.to_string()),
            ],
        ),
        categories: categories
            .iter()
            .map(|c| Choice {
                id: format!("filter-{}", c.category.code),
                value: c.category.code.clone(),
                label: c.category.name.clone(),
                checked: category.as_deref() == Some(c.category.code.as_str()),
            })
            .collect(),
        statuses: ["open", "closed"]
            .into_iter()
            .map(|s| Choice {
                id: format!("status-{s}"),
                value: s.to_string(),
                label: i18n::t(lang, &format!("defects.open311_{s}")).to_string(),
                checked: status.as_deref() == Some(s),
            })
            .collect(),
        prev_href: (page_no > 1).then(|| href(page_no - 1)),
        next_href: (page_no < pages).then(|| href(page_no + 1)),
        filtered: category.is_some() || status.is_some(),
    };
    Ok((headers, view).into_response())
}

// ----------------------------------------------------------------------
// Step 1: category and place
// ----------------------------------------------------------------------

/// Step 1's values (the query of step 2, the hidden fields of its form).
#[derive(serde::Deserialize, Default, Clone)]
struct PlaceValues {
    #[serde(default)]
    kategorie: String,
    #[serde(default)]
    adresse: String,
    #[serde(default)]
    orientierung: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    long: String,
}

impl PlaceValues {
    fn pairs(&self) -> Vec<(String, String)> {
        [
            ("kategorie", &self.kategorie),
            ("adresse", &self.adresse),
            ("orientierung", &self.orientierung),
            ("lat", &self.lat),
            ("long", &self.long),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    fn query(&self) -> String {
        self.pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", urlencode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Overlong values are cut (the inputs' `maxlength`s; the checks
    /// refuse what is left).
    fn bounded(mut self) -> Self {
        fn cut(s: &mut String, max: usize) {
            if s.chars().count() > max {
                *s = s.chars().take(max).collect();
            }
        }
        cut(&mut self.kategorie, 40);
        cut(&mut self.adresse, 301);
        cut(&mut self.orientierung, 301);
        cut(&mut self.lat, 41);
        cut(&mut self.long, 41);
        self
    }
}

/// The form field of a use case's field name (place and category).
fn form_field(field: &str) -> &str {
    match field {
        "service_code" => "kategorie",
        "address" => "adresse",
        "landmark" => "orientierung",
        other => other,
    }
}

const PLACE_FIELDS: [&str; 5] = ["kategorie", "adresse", "orientierung", "lat", "long"];

async fn place_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(v): Query<PlaceValues>,
) -> Result<Response, AppError> {
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("defects.report_title")),
    )
    .await?;
    let headers = cache_header(&page).not_stored();
    let view = place_view(&state, &ctx, page, &v.bounded(), &[], Vec::new()).await?;
    Ok((headers, view).into_response())
}

async fn place_view(
    state: &AppState,
    ctx: &Ctx,
    page: Page,
    v: &PlaceValues,
    errors: &[FieldMessage],
    suggestions: Vec<Suggestion>,
) -> Result<PlacePage, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let categories = state.app.defect_categories(tenant).await?;
    let mut streets: Vec<String> = state
        .app
        .defect_streets(tenant)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    streets.sort();
    streets.dedup();
    let first_category = categories
        .first()
        .map(|c| format!("kategorie-{}", c.category.code))
        .unwrap_or_else(|| "kategorie".into());
    let shown: Vec<(String, String)> = vec![
        ("kategorie".into(), first_category.clone()),
        ("adresse".into(), "adresse".into()),
        ("orientierung".into(), "orientierung".into()),
        ("lat".into(), "lat".into()),
        ("long".into(), "long".into()),
    ];
    let invalid_coords = errors.iter().any(|e| e.field == "lat" || e.field == "long");
    Ok(PlacePage {
        categories: categories
            .iter()
            .map(|c| CategoryChoice {
                id: format!("kategorie-{}", c.category.code),
                code: c.category.code.clone(),
                name: c.category.name.clone(),
                description: c.category.description.clone(),
                group: c.category.group_name.clone(),
                checked: c.category.code == v.kategorie.trim(),
            })
            .collect(),
        category_error: errors
            .iter()
            .find(|e| e.field == "kategorie")
            .map(|e| e.message.clone()),
        address: Input::with(v.adresse.clone(), "adresse", errors),
        landmark: Input::with(v.orientierung.clone(), "orientierung", errors),
        lat: Input::with(v.lat.clone(), "lat", errors),
        long: Input::with(v.long.clone(), "long", errors),
        coords_open: invalid_coords || !v.lat.trim().is_empty() || !v.long.trim().is_empty(),
        streets,
        suggestions,
        error: (!errors.is_empty()).then(|| ctx.t("defects.error_summary").to_string()),
        errors: anchored(errors, &shown, &first_category),
        page,
    })
}

/// What step 1 chose, checked.
struct Place {
    category: CategoryView,
    /// The place in words.
    label: String,
    point: Option<GeoPoint>,
}

/// Checks step 1: a known category, some place, an address from the street
/// list (else suggestions), valid coordinates.
async fn check_place(
    state: &AppState,
    ctx: &Ctx,
    tenant: TenantId,
    v: &PlaceValues,
) -> Result<Result<Place, (Vec<FieldError>, Vec<Suggestion>)>, AppError> {
    let lang = ctx.lang;
    let mut errors = Vec::new();
    let mut suggestions = Vec::new();
    let code = v.kategorie.trim();
    let category = if code.is_empty() {
        errors.push(FieldError::new("kategorie", "required"));
        None
    } else {
        match state.app.defect_category(tenant, code).await {
            Ok(c) => Some(c),
            Err(UseCaseError::NotFound) => {
                errors.push(FieldError::new("kategorie", "defects.unknown_category"));
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    let address = v.adresse.trim();
    let landmark = v.orientierung.trim();
    let (lat, long) = (v.lat.trim(), v.long.trim());
    let mut point = None;
    if !lat.is_empty() || !long.is_empty() {
        match GeoPoint::parse(lat, long) {
            Ok(p) => point = Some(p),
            Err(es) => errors.extend(es),
        }
    }
    if landmark.chars().count() > 300 {
        errors.push(FieldError::new("orientierung", "too_long"));
    }
    let mut address_label = None;
    if !address.is_empty() {
        let streets: Vec<Street> = state.app.defect_streets(tenant).await?;
        if address.chars().count() > 300 {
            errors.push(FieldError::new("adresse", "too_long"));
        } else {
            match dom::find_address(address, &streets) {
                Some(m) => {
                    address_label = Some(match &m.house_number {
                        Some(n) => format!("{} {}, {}", m.street.name, n, m.street.postal_code),
                        None => format!("{}, {}", m.street.name, m.street.postal_code),
                    });
                    if point.is_none() {
                        point = Some(m.street.point);
                    }
                }
                None => {
                    errors.push(FieldError::new("adresse", "defects.address_unknown"));
                    let number = house_number(address);
                    for s in dom::suggest(address, &streets, 5) {
                        let typed = match &number {
                            Some(n) => format!("{} {n}", s.name),
                            None => s.name.clone(),
                        };
                        let again = PlaceValues {
                            adresse: format!("{typed}, {}", s.postal_code),
                            ..v.clone()
                        };
                        suggestions.push(Suggestion {
                            href: format!("/maengel/melden/angaben?{}", again.query()),
                            label: format!("{typed}, {}", s.postal_code),
                        });
                    }
                }
            }
        }
    }
    if address.is_empty() && landmark.is_empty() && lat.is_empty() && long.is_empty() {
        errors.push(FieldError::new("adresse", "defects.place_required"));
    }
    match category {
        Some(category) if errors.is_empty() => Ok(Ok(Place {
            category,
            label: place_label(
                lang,
                address_label.as_deref(),
                Some(landmark).filter(|l| !l.is_empty()),
                point.map(|p| (p.lat, p.long)),
            ),
            point,
        })),
        _ => Ok(Err((errors, suggestions))),
    }
}

/// The house number typed after the street ("Hauptstr 12a" → "12a").
fn house_number(address: &str) -> Option<String> {
    let main = address.split(',').next().unwrap_or(address).trim();
    let last = main.rsplit(char::is_whitespace).next()?;
    (main.contains(char::is_whitespace) && last.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| last.to_string())
}

// ----------------------------------------------------------------------
// Step 2: duplicates, details, photos, contact
// ----------------------------------------------------------------------

/// The values of step 2's form (kept when it is refused).
#[derive(Default)]
struct DetailValues {
    description: String,
    email: String,
    attributes: BTreeMap<String, Vec<String>>,
    use_photo_location: bool,
    /// Photos had been chosen (they must be chosen again).
    had_photos: bool,
}

async fn details_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(v): Query<PlaceValues>,
) -> Result<Response, AppError> {
    let v = v.bounded();
    let email = current_citizen(&state, &ctx, &session)
        .await?
        .map(|c| c.email)
        .unwrap_or_default();
    render_details(
        &state,
        &ctx,
        &session,
        &v,
        DetailValues {
            email,
            ..DetailValues::default()
        },
        &[],
        StatusCode::OK,
    )
    .await
}

/// Step 2 — or step 1 again when its values do not hold.
async fn render_details(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    v: &PlaceValues,
    d: DetailValues,
    refused: &[FieldError],
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let tenant = ctx.tenant()?.tenant_id();
    let place = match check_place(state, ctx, tenant, v).await? {
        Ok(p) => p,
        Err((mut errs, suggestions)) => {
            // Problems of step 2's own fields are told on step 2 once the
            // place holds.
            errs.extend(
                refused
                    .iter()
                    .filter(|e| PLACE_FIELDS.contains(&form_field(&e.field)))
                    .map(|e| FieldError::new(form_field(&e.field), e.code)),
            );
            errs.dedup_by(|a, b| a.field == b.field && a.code == b.code);
            let messages = field_messages(lang, &errs, &[]);
            let page = with_staff(
                state,
                ctx,
                session,
                Page::new(ctx, ctx.t("defects.report_title")),
            )
            .await?;
            let view = place_view(state, ctx, page, v, &messages, suggestions).await?;
            return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, view));
        }
    };
    if refused
        .iter()
        .any(|e| PLACE_FIELDS.contains(&form_field(&e.field)))
    {
        // The use case refused the place the page accepted (a race with a
        // new street list): back to step 1 with its message.
        let errs: Vec<FieldError> = refused
            .iter()
            .filter(|e| PLACE_FIELDS.contains(&form_field(&e.field)))
            .map(|e| FieldError::new(form_field(&e.field), e.code))
            .collect();
        let messages = field_messages(lang, &errs, &[]);
        let page = with_staff(
            state,
            ctx,
            session,
            Page::new(ctx, ctx.t("defects.report_title")),
        )
        .await?;
        let view = place_view(state, ctx, page, v, &messages, Vec::new()).await?;
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, view));
    }
    let nearby = match place.point {
        Some(p) => state
            .app
            .nearby_defects(tenant, &place.category.category.code, p)
            .await?
            .into_iter()
            .map(|(r, d)| NearbyRow {
                href: format!("/maengel/{}", urlencode(&r.reference)),
                place: place_label(
                    lang,
                    r.address.as_deref(),
                    r.landmark.as_deref(),
                    r.point.map(|p| (p.lat, p.long)),
                ),
                reference: r.reference,
                status: status_label(lang, r.status),
                distance: metres(d),
            })
            .collect(),
        None => Vec::new(),
    };
    let labels: Vec<(String, String)> = place
        .category
        .attributes
        .iter()
        .map(|a| (format!("attribute[{}]", a.code), attribute_label(a)))
        .collect();
    let messages = field_messages(lang, refused, &labels);
    let attributes: Vec<AttrField> = place
        .category
        .attributes
        .iter()
        .map(|a| attr_field(lang, a, d.attributes.get(&a.code), &messages))
        .collect();
    let mut shown: Vec<(String, String)> = vec![
        ("description".into(), "defect-description".into()),
        ("email".into(), "defect-email".into()),
        ("photos".into(), "defect-photos".into()),
    ];
    for a in &attributes {
        let anchor = match a.kind {
            "radios" | "checkboxes" => format!("{}-0", a.id),
            _ => a.id.clone(),
        };
        shown.push((a.name.clone(), anchor));
    }
    let page = form_page(state, ctx, session, ctx.t("defects.details_title")).await?;
    let photos = Input::with("", "photos", &messages);
    Ok(with_status(
        status,
        DetailsPage {
            category: place.category.category.name.clone(),
            category_description: place.category.category.description.clone(),
            place: place.label,
            coordinates: place.point.map(|p| coordinates(p.lat, p.long)),
            hidden: v.pairs(),
            change_href: format!("/maengel/melden?{}", v.query()),
            nearby,
            attributes,
            description: Input::with(d.description, "description", &messages),
            email: Input::with(d.email, "email", &messages),
            photos,
            photos_again: d.had_photos,
            use_photo_location: d.use_photo_location,
            error: (!messages.is_empty()).then(|| ctx.t("defects.error_summary").to_string()),
            errors: anchored(&messages, &shown, "defect-description"),
            page,
        },
    ))
}

/// How an attribute is asked: its description, else its code.
fn attribute_label(a: &dom::AttributeDef) -> String {
    if a.description.trim().is_empty() {
        a.code.clone()
    } else {
        a.description.trim().to_string()
    }
}

fn attr_field(
    lang: Lang,
    a: &dom::AttributeDef,
    given: Option<&Vec<String>>,
    errors: &[FieldMessage],
) -> AttrField {
    let name = format!("attribute[{}]", a.code);
    let id = format!("attr-{}", a.code);
    let given: Vec<String> = given.cloned().unwrap_or_default();
    let first = given.first().cloned().unwrap_or_default();
    let kind = if !a.variable {
        "info"
    } else {
        match a.datatype {
            Datatype::String => "string",
            Datatype::Text => "text",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::SingleValueList if a.values.len() > 5 => "select",
            Datatype::SingleValueList => "radios",
            Datatype::MultiValueList => "checkboxes",
        }
    };
    let options = a
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| Choice {
            id: format!("{id}-{i}"),
            value: v.key.clone(),
            label: v.name.clone(),
            checked: given.iter().any(|g| g == &v.key),
        })
        .collect();
    let mut hint = a.datatype_description.trim().to_string();
    if hint.is_empty() && a.datatype == Datatype::Datetime && a.variable {
        hint = i18n::t(lang, "defects.datetime_hint").to_string();
    }
    AttrField {
        label: attribute_label(a),
        hint,
        required: a.required && a.variable,
        kind,
        value: first,
        options,
        error: errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone()),
        id,
        name,
    }
}

// ----------------------------------------------------------------------
// Sending
// ----------------------------------------------------------------------

async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Client(client): Client,
    req: Request,
) -> Result<Response, AppError> {
    if !multipart::is_multipart(&req) {
        return Err(AppError::Csrf);
    }
    let parts = multipart::read(req).await.map_err(|e| match e {
        MultipartError::NotMultipart(_) => AppError::Csrf,
        MultipartError::TooLarge(_) => AppError::TooLarge { limit: MAX_BODY },
        MultipartError::Malformed(_) => {
            AppError::Validation(FieldError::new("body", "multipart.invalid").into())
        }
    })?;
    let mut csrf = None;
    let mut v = PlaceValues::default();
    let mut d = DetailValues::default();
    let mut photos = Vec::new();
    for part in parts {
        let name = part.name.as_str();
        if name == "fotos" {
            // A file input left empty sends an empty, unnamed part.
            let named = part.file_name.as_deref().is_some_and(|n| !n.is_empty());
            if !part.data.is_empty() || named {
                photos.push(PhotoInput {
                    name: part.file_name.clone().unwrap_or_default(),
                    content: part.data,
                });
            }
            continue;
        }
        let text = part.text();
        match name {
            "csrf_token" => csrf = Some(text),
            "kategorie" => v.kategorie = text,
            "adresse" => v.adresse = text,
            "orientierung" => v.orientierung = text,
            "lat" => v.lat = text,
            "long" => v.long = text,
            "description" => d.description = text,
            "email" => d.email = text,
            "use_photo_location" => d.use_photo_location = !text.is_empty(),
            _ => {
                if let Some(code) = name
                    .strip_prefix("attribute[")
                    .and_then(|c| c.strip_suffix(']'))
                    .filter(|c| !c.is_empty() && c.len() <= 40)
                {
                    let answers = d.attributes.entry(code.to_string()).or_default();
                    if answers.len() < 60 {
                        answers.push(text);
                    }
                }
            }
        }
    }
    verify_csrf(&session, csrf.as_deref()).await?;
    if !state.limiter.check_draft(client) {
        return Err(AppError::RateLimited);
    }
    if !photos.is_empty() && !state.limiter.check_upload(client) {
        return Err(AppError::RateLimited);
    }
    d.had_photos = !photos.is_empty();
    let v = v.bounded();
    let actor = actor_of(&state, &ctx, &session).await?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = ReportInput {
        service_code: v.kategorie.trim().to_string(),
        lat: opt(&v.lat),
        long: opt(&v.long),
        address: opt(&v.adresse),
        landmark: opt(&v.orientierung),
        description: d.description.clone(),
        attributes: d.attributes.clone(),
        email: opt(&d.email),
        photos,
        use_photo_location: d.use_photo_location,
        strict_address: true,
        ..ReportInput::default()
    };
    match state
        .app
        .report_defect(&actor, ReportChannel::Web, input)
        .await
    {
        Ok(r) => Ok(no_store(
            Redirect::to(&format!("/maengel/{}?neu=1", urlencode(&r.reference))).into_response(),
        )),
        Err(UseCaseError::Validation(errs)) => {
            render_details(
                &state,
                &ctx,
                &session,
                &v,
                d,
                &errs.0,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(UseCaseError::BadFile(_)) => {
            render_details(
                &state,
                &ctx,
                &session,
                &v,
                d,
                &[FieldError::new("photos", "defects.photo_type")],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ----------------------------------------------------------------------
// A report
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct ReportQuery {
    neu: Option<String>,
}

async fn report_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(reference): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let tenant = ctx.tenant()?.tenant_id();
    let reference = reference_part(&reference)?;
    let r = state.app.public_defect(tenant, reference).await?;
    let title = i18n::tf(
        lang,
        "defects.report_page_title",
        &[("reference", &r.reference)],
    );
    let page = with_staff(&state, &ctx, &session, Page::new(&ctx, &title)).await?;
    let new = q.neu.as_deref() == Some("1");
    let headers = cache_header(&page).not_stored();
    let enc = urlencode(&r.reference);
    let view = ReportPage {
        place: place_label(
            lang,
            r.address.as_deref(),
            r.landmark.as_deref(),
            r.point.map(|p| (p.lat, p.long)),
        ),
        coordinates: r.point.map(|p| coordinates(p.lat, p.long)),
        category: r.category_name.clone(),
        status_code: r.status.code(),
        status: status_label(lang, r.status),
        unit: r.unit_name.clone(),
        received: date_label(lang, r.created_at),
        description: r.description.clone(),
        photos: r
            .photos
            .iter()
            .map(|n| PhotoLink {
                src: format!("/maengel/{enc}/fotos/{n}"),
                alt: i18n::tf(
                    lang,
                    "defects.photo_alt",
                    &[("n", &n.to_string()), ("reference", &r.reference)],
                ),
            })
            .collect(),
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
        merged_into: r
            .merged_into
            .as_ref()
            .map(|m| (format!("/maengel/{}", urlencode(m)), m.clone())),
        reference: r.reference,
        new,
        page,
    };
    if new {
        return Ok(no_store(view.into_response()));
    }
    Ok((headers, view).into_response())
}

async fn photo(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((reference, n)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let reference = reference_part(&reference)?;
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| (1..=dom::MAX_PHOTOS).contains(n))
        .ok_or(AppError::NotFound)?;
    let actor = actor_of(&state, &ctx, &session).await?;
    let (mime, bytes) = state.app.defect_photo(&actor, reference, n).await?;
    let ct = match mime.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn house_numbers_are_kept_for_suggestions() {
        assert_eq!(house_number("Hauptstr 12a"), Some("12a".into()));
        assert_eq!(house_number("Hauptstr 12, 63571"), Some("12".into()));
        assert_eq!(house_number("Hauptstr"), None);
        assert_eq!(house_number("12"), None);
    }

    #[test]
    fn place_values_travel_in_the_query() {
        let v = PlaceValues {
            kategorie: "strassenschaden".into(),
            adresse: "Mühlweg 3".into(),
            ..PlaceValues::default()
        };
        let q = v.query();
        assert!(
            q.starts_with("kategorie=strassenschaden&adresse=M%C3%BChlweg%203"),
            "{q}"
        );
        let back: PlaceValues = serde_urlencoded::from_str(&q).unwrap();
        assert_eq!(back.adresse, "Mühlweg 3");
        assert_eq!(form_field("service_code"), "kategorie");
    }
}
