//! The citizen's pages of Terminvergabe: the offer, the days and times of a
//! service, holding a time, name and e-mail, the confirmation by the mail
//! link (a page with a button: only the POST confirms), the booking page by
//! its code (calendar file, cancel, move) and the waiting list. Everything
//! works without JavaScript; `pow.js` only adds the proof of work to the
//! hold form (the server holds without one in the browser, the e-mail
//! confirmation being the check).

use axum::{
    extract::{Path, Query, State},
    http::{Extensions, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDate, NaiveDateTime};
use rathaus_app::{
    UseCaseError,
    appointments::{BookingDetails, DayTimes, FreeTime, local_now, local_of},
};
use rathaus_domain::{
    FieldError, ValidationErrors,
    appointments::{BookingStatus, Channel, Land, OpeningHours},
    tenancy::TenantId,
};
use rathaus_storage::appointments::{BookableService, Location};
use tower_sessions::Session;

use super::views::{
    BookingPage, BookingView, ConfirmPage, DayLink, FieldMessage, Input, OfferLocation, OfferPage,
    OfferService, TimeChoice, TimeOption, TimesPage, WaitForm, WaitlistPage, anchored, day_long,
    day_short, field_messages, lengths, minutes_label, start_value, status_label, time_label,
    when_label,
};
use crate::platform::{
    AppState,
    auth::with_staff,
    context::{Ctx, describe},
    error::AppError,
    i18n::{self, Lang},
    layout::{Page, cache_header, no_store},
    routes::{Routes, get, post},
    security::{CsrfForm, client_ip, csrf_token},
};

pub fn routes() -> Routes {
    Routes::new("appointments")
        .route("/termine", get(offer_page))
        .route("/termine/{location}/{service}", get(times_page))
        .route("/termine/{location}/{service}/halten", post(hold))
        .route(
            "/termine/{location}/{service}/warteliste",
            post(join_waitlist),
        )
        .route("/termine/buchung/{code}", get(booking_page))
        .route("/termine/buchung/{code}/daten", post(give_details))
        .route("/termine/buchung/{code}/termin.ics", get(ics))
        .route("/termine/buchung/{code}/absagen", post(cancel))
        .route(
            "/termine/buchung/{code}/verlegen",
            get(move_page).post(move_post),
        )
        .route(
            "/termine/buchung/{code}/bestaetigen/{token}",
            get(confirm_page).post(confirm_post),
        )
        .route("/termine/warteliste/{code}", get(waitlist_page))
        .route("/termine/warteliste/{code}/abmelden", post(leave_waitlist))
}

/// Longest slug, code or token taken from a path.
const MAX_PATH_PART: usize = 200;

fn path_part(s: &str) -> Result<&str, AppError> {
    if s.is_empty() || s.len() > MAX_PATH_PART {
        Err(AppError::NotFound)
    } else {
        Ok(s)
    }
}

fn invalid(field: &str, code: &'static str) -> ValidationErrors {
    FieldError::new(field, code).into()
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
// The offer
// ----------------------------------------------------------------------

async fn offer_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let offer = state.app.appointment_offer(tenant).await?;
    let lang = ctx.lang;
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("appointments.title")),
    )
    .await?;
    let headers = cache_header(&page);
    let view = OfferPage {
        page,
        locations: offer
            .into_iter()
            .filter(|o| !o.services.is_empty())
            .map(|o| OfferLocation {
                services: o
                    .services
                    .iter()
                    .map(|s| OfferService {
                        href: format!("/termine/{}/{}", o.location.slug, s.slug),
                        name: s.name.clone(),
                        duration: minutes_label(lang, s.duration_minutes),
                    })
                    .collect(),
                name: o.location.name,
                address: o.location.address,
            })
            .collect(),
    };
    Ok((headers, view).into_response())
}

// ----------------------------------------------------------------------
// Days and times
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct DayQuery {
    tag: Option<String>,
}

fn day_param(s: Option<&str>) -> Option<NaiveDate> {
    let s = s?.trim();
    if s.len() > 20 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Why a location is closed on a day (or `None` when it is open): a public
/// holiday by name, an exception's note, or plainly closed.
fn closed_on(lang: Lang, l: &Location, d: &DayTimes) -> Option<String> {
    if let Some(h) = d.holiday {
        return Some(i18n::tf(
            lang,
            "appointments.closed_holiday",
            &[("name", h)],
        ));
    }
    let hours: OpeningHours = serde_json::from_str(&l.opening_hours).ok()?;
    let land = Land::parse(&l.land)?;
    if !hours
        .intervals_on(d.day, land, l.counters.max(1) as u32)
        .is_empty()
    {
        return None;
    }
    match hours.exceptions.iter().find(|e| e.date == d.day) {
        Some(e) if !e.note.trim().is_empty() => Some(i18n::tf(
            lang,
            "appointments.closed_holiday",
            &[("name", e.note.trim())],
        )),
        _ => Some(i18n::t(lang, "appointments.closed").to_string()),
    }
}

fn time_options(
    lang: Lang,
    times: &[FreeTime],
    with_day: bool,
    checked: Option<&str>,
) -> Vec<TimeOption> {
    times
        .iter()
        .map(|t| {
            let value = start_value(t.start);
            TimeOption {
                id: format!("time-{}", t.start.format("%Y%m%d%H%M")),
                label: if with_day {
                    when_label(lang, t.start)
                } else {
                    time_label(lang, t.start)
                },
                checked: checked == Some(value.as_str()),
                value,
            }
        })
        .collect()
}

/// What the days-and-times page is for.
enum Mode {
    /// Holding a new time (with the proof of work and the waiting list).
    Book,
    /// Moving a booking (its code, its present time).
    Move {
        code: String,
        current: NaiveDateTime,
    },
}

/// Everything a render of the days-and-times page can carry besides the
/// days.
#[derive(Default)]
struct Extra {
    error: Option<String>,
    errors: Vec<FieldMessage>,
    /// The next free times after a lost race (shown instead of the day).
    next: Option<Vec<FreeTime>>,
    /// The time asked for (checked again).
    start: Option<String>,
    /// Show the waiting-list form (with these values) even when times are
    /// free.
    wait: Option<WaitValues>,
}

#[derive(Default, Clone)]
struct WaitValues {
    name: String,
    email: String,
    from: String,
    to: String,
}

#[allow(clippy::too_many_arguments)]
/// The request and the service a days-and-times page is rendered for.
struct Times<'a> {
    state: &'a AppState,
    ctx: &'a Ctx,
    session: &'a Session,
    tenant: TenantId,
    l: &'a Location,
    s: &'a BookableService,
}

async fn render_times(
    t: &Times<'_>,
    mode: Mode,
    day: Option<NaiveDate>,
    extra: Extra,
    status: StatusCode,
) -> Result<Response, AppError> {
    let Times {
        state,
        ctx,
        session,
        tenant,
        l,
        s,
    } = *t;
    let lang = ctx.lang;
    let days = state
        .app
        .free_times(tenant, l, s, Channel::Online, None, None)
        .await?;
    let base = match &mode {
        Mode::Book => format!("/termine/{}/{}", l.slug, s.slug),
        Mode::Move { code, .. } => format!("/termine/buchung/{code}/verlegen"),
    };
    let chosen = day
        .filter(|d| days.iter().any(|x| x.day == *d))
        .or_else(|| days.iter().find(|d| !d.times.is_empty()).map(|d| d.day));
    let links = days
        .iter()
        .map(|d| {
            let n = d.times.len();
            let closed = if n == 0 { closed_on(lang, l, d) } else { None };
            DayLink {
                href: format!("{base}?tag={}", d.day.format("%Y-%m-%d")),
                label: day_short(lang, d.day),
                note: match (n, closed) {
                    (0, Some(c)) => c,
                    (0, None) => i18n::t(lang, "appointments.no_free_time").to_string(),
                    (1, _) => i18n::t(lang, "appointments.one_free_time").to_string(),
                    (n, _) => i18n::tf(lang, "appointments.free_times", &[("n", &n.to_string())]),
                },
                bookable: n > 0,
                current: Some(d.day) == chosen,
            }
        })
        .collect::<Vec<_>>();
    let any_free = days.iter().any(|d| !d.times.is_empty());
    let checked = extra.start.as_deref();
    let (choice, day_empty) = if let Some(next) = &extra.next {
        if next.is_empty() {
            (
                None,
                Some(i18n::t(lang, "appointments.no_next").to_string()),
            )
        } else {
            (
                Some(TimeChoice {
                    legend: i18n::t(lang, "appointments.next_free").to_string(),
                    times: time_options(lang, next, true, checked),
                }),
                None,
            )
        }
    } else {
        match chosen.and_then(|c| days.iter().find(|d| d.day == c)) {
            Some(d) if !d.times.is_empty() => (
                Some(TimeChoice {
                    legend: day_long(lang, d.day),
                    times: time_options(lang, &d.times, false, checked),
                }),
                None,
            ),
            Some(d) => (
                None,
                Some(i18n::tf(
                    lang,
                    "appointments.day_empty",
                    &[("day", &day_long(lang, d.day))],
                )),
            ),
            None => (None, None),
        }
    };
    let (first, last) = days
        .first()
        .zip(days.last())
        .map(|(a, b)| (a.day, b.day))
        .unwrap_or_else(|| (local_now().date(), local_now().date()));
    let (action, submit, pow, current, title, back_href, back_label) = match &mode {
        Mode::Book => (
            format!("/termine/{}/{}/halten", l.slug, s.slug),
            i18n::t(lang, "appointments.hold_submit").to_string(),
            state
                .app
                .booking_challenge()
                .and_then(|c| serde_json::to_string(&c).ok()),
            None,
            s.name.clone(),
            "/termine".to_string(),
            i18n::t(lang, "appointments.back_offer").to_string(),
        ),
        Mode::Move { code, current } => (
            format!("/termine/buchung/{code}/verlegen"),
            i18n::t(lang, "appointments.move_submit").to_string(),
            None,
            Some(when_label(lang, *current)),
            i18n::tf(lang, "appointments.move_title", &[("service", &s.name)]),
            format!("/termine/buchung/{code}"),
            i18n::t(lang, "appointments.back_booking").to_string(),
        ),
    };
    let waitlist = if matches!(mode, Mode::Book) && (extra.wait.is_some() || !any_free) {
        let v = extra.wait.clone().unwrap_or_default();
        Some(WaitForm {
            action: format!("/termine/{}/{}/warteliste", l.slug, s.slug),
            name: Input::with(v.name, "name", &extra.errors),
            email: Input::with(v.email, "email", &extra.errors),
            from: Input::with(
                if v.from.is_empty() {
                    first.format("%Y-%m-%d").to_string()
                } else {
                    v.from
                },
                "from",
                &extra.errors,
            ),
            to: Input::with(
                if v.to.is_empty() {
                    last.format("%Y-%m-%d").to_string()
                } else {
                    v.to
                },
                "to",
                &extra.errors,
            ),
            min: first.format("%Y-%m-%d").to_string(),
            max: last.format("%Y-%m-%d").to_string(),
        })
    } else {
        None
    };
    let shown: &[(&str, &str)] = if waitlist.is_some() && extra.wait.is_some() {
        &[
            ("name", "wait-name"),
            ("email", "wait-email"),
            ("from", "wait-from"),
            ("to", "wait-to"),
        ]
    } else {
        &[]
    };
    let first_time = choice
        .as_ref()
        .and_then(|c| c.times.first())
        .map(|t| t.id.clone())
        .unwrap_or_else(|| "times".to_string());
    let errors = anchored(&extra.errors, shown, &first_time);
    let page = form_page(state, ctx, session, &title).await?;
    Ok(with_status(
        status,
        TimesPage {
            page,
            service: s.name.clone(),
            duration: minutes_label(lang, s.duration_minutes),
            location: l.name.clone(),
            address: l.address.clone(),
            current,
            days: links,
            choice,
            day: chosen
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            day_empty,
            action,
            submit,
            pow,
            error: extra.error,
            errors,
            waitlist,
            back_href,
            back_label,
        },
    ))
}

async fn times_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((location, service)): Path<(String, String)>,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (l, s) = bookable(&state, tenant, &location, &service).await?;
    let t = Times {
        state: &state,
        ctx: &ctx,
        session: &session,
        tenant,
        l: &l,
        s: &s,
    };
    render_times(
        &t,
        Mode::Book,
        day_param(q.tag.as_deref()),
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

/// The location's service; an unknown one is a 404 page (not a form error).
async fn bookable(
    state: &AppState,
    tenant: TenantId,
    location: &str,
    service: &str,
) -> Result<(Location, BookableService), AppError> {
    let location = path_part(location)?;
    let service = path_part(service)?;
    match state.app.bookable(tenant, service, Some(location)).await {
        Ok(x) => Ok(x),
        Err(UseCaseError::Validation(_)) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct HoldForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    pow: String,
    /// The day the form showed.
    #[serde(default)]
    tag: String,
}

/// The start of a refused hold or move, as a day to show again.
fn start_day(start: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%dT%H:%M").ok()
}

async fn hold(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: Extensions,
    Path((location, service)): Path<(String, String)>,
    f: CsrfForm<HoldForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (l, s) = bookable(&state, tenant, &location, &service).await?;
    let CsrfForm { form, session } = f;
    let t = Times {
        state: &state,
        ctx: &ctx,
        session: &session,
        tenant,
        l: &l,
        s: &s,
    };
    let start = form.start.trim().to_string();
    let refused = |errs: ValidationErrors| Extra {
        errors: field_messages(ctx.lang, &errs),
        error: Some(ctx.t("appointments.error_summary").to_string()),
        start: Some(start.clone()),
        ..Extra::default()
    };
    if start.is_empty() || start.len() > 40 {
        let code = if start.is_empty() {
            "appointments.choose_time"
        } else {
            "too_long"
        };
        return render_times(
            &t,
            Mode::Book,
            day_param(Some(&form.tag)),
            refused(invalid("start", code)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !state.limiter.check_booking(client_ip(&ext)) {
        return Err(AppError::RateLimited);
    }
    let pow = Some(form.pow.trim())
        .filter(|p| !p.is_empty() && p.len() <= rathaus_domain::appointments::MAX_SOLUTION_BYTES);
    let day = start_day(&start);
    match state
        .app
        .hold_appointment(tenant, &s.id.to_string(), &l.id.to_string(), &start, pow)
        .await
    {
        Ok(d) => Ok(no_store(
            Redirect::to(&format!("/termine/buchung/{}", d.booking.code)).into_response(),
        )),
        Err(UseCaseError::Conflict("slot_taken")) => {
            let after = day.unwrap_or_else(local_now);
            let next = state
                .app
                .next_free_times(tenant, &l, &s, Channel::Online, after, 6)
                .await?;
            render_times(
                &t,
                Mode::Book,
                day.map(|d| d.date()),
                Extra {
                    error: Some(ctx.t("appointments.slot_taken").to_string()),
                    next: Some(next),
                    ..Extra::default()
                },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(UseCaseError::Validation(errs)) => {
            render_times(
                &t,
                Mode::Book,
                day.map(|d| d.date()),
                refused(errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct WaitlistForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn join_waitlist(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: Extensions,
    Path((location, service)): Path<(String, String)>,
    f: CsrfForm<WaitlistForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let (l, s) = bookable(&state, tenant, &location, &service).await?;
    let CsrfForm { form, session } = f;
    let t = Times {
        state: &state,
        ctx: &ctx,
        session: &session,
        tenant,
        l: &l,
        s: &s,
    };
    let values = WaitValues {
        name: form.name.clone(),
        email: form.email.clone(),
        from: form.from.clone(),
        to: form.to.clone(),
    };
    let refused = |errs: ValidationErrors| Extra {
        errors: field_messages(ctx.lang, &errs),
        error: Some(ctx.t("appointments.error_summary").to_string()),
        wait: Some(values.clone()),
        ..Extra::default()
    };
    if let Err(errs) = lengths(&[
        ("name", &form.name, 100),
        ("email", &form.email, 254),
        ("from", &form.from, 10),
        ("to", &form.to, 10),
    ]) {
        return render_times(
            &t,
            Mode::Book,
            None,
            refused(errs),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !state.limiter.check_booking(client_ip(&ext)) {
        return Err(AppError::RateLimited);
    }
    match state
        .app
        .join_waitlist(
            tenant,
            &s.id.to_string(),
            Some(&l.id.to_string()),
            &form.from,
            &form.to,
            &form.name,
            &form.email,
        )
        .await
    {
        Ok(entry) => Ok(no_store(
            Redirect::to(&format!("/termine/warteliste/{}?msg=joined", entry.code)).into_response(),
        )),
        Err(UseCaseError::Conflict("times_free")) => {
            let day = day_param(Some(&form.from));
            render_times(
                &t,
                Mode::Book,
                day,
                Extra {
                    error: Some(ctx.t("appointments.times_free").to_string()),
                    ..Extra::default()
                },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(UseCaseError::Validation(errs)) => {
            render_times(
                &t,
                Mode::Book,
                None,
                refused(errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ----------------------------------------------------------------------
// The booking by its code
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

/// The messages a redirect may name (anything else is ignored).
const BOOKING_MSGS: [&str; 4] = ["details", "confirmed", "cancelled", "moved"];

async fn details_of(
    state: &AppState,
    tenant: TenantId,
    code: &str,
) -> Result<BookingDetails, AppError> {
    Ok(state.app.appointment(tenant, path_part(code)?).await?)
}

fn booking_view(lang: Lang, d: &BookingDetails) -> BookingView {
    let status = d.booking.status();
    BookingView {
        code: d.booking.code.clone(),
        status_code: status.code(),
        status: status_label(lang, status),
        service: d.service.name.clone(),
        duration: minutes_label(lang, d.service.duration_minutes),
        location: d.location.name.clone(),
        address: d.location.address.clone(),
        when: when_label(lang, d.booking.starts_at),
    }
}

/// A refused step's message for the page (validation, conflicts and steps
/// the status does not allow); anything else is an error page.
fn step_error(
    lang: Lang,
    e: UseCaseError,
) -> Result<(StatusCode, String, Vec<FieldMessage>), AppError> {
    match e {
        UseCaseError::Validation(errs) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::t(lang, "appointments.error_summary").to_string(),
            field_messages(lang, &errs),
        )),
        UseCaseError::Workflow(_) | UseCaseError::Conflict("booking_changed") => Ok((
            StatusCode::CONFLICT,
            i18n::t(lang, "appointments.not_possible").to_string(),
            vec![],
        )),
        UseCaseError::Conflict(_) => {
            let e: AppError = e.into();
            Ok((StatusCode::CONFLICT, describe(lang, &e).0, vec![]))
        }
        e => Err(e.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_booking(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    d: &BookingDetails,
    msg: Option<&str>,
    error: Option<String>,
    errors: Vec<FieldMessage>,
    values: (String, String),
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let b = booking_view(lang, d);
    let until = d
        .booking
        .hold_until
        .map(|t| time_label(lang, local_of(t)))
        .unwrap_or_default();
    let name = Input::with(values.0, "name", &errors);
    let email = Input::with(values.1, "email", &errors);
    let errors = anchored(
        &errors,
        &[("name", "booking-name"), ("email", "booking-email")],
        "booking-name",
    );
    let page = form_page(
        state,
        ctx,
        session,
        i18n::t(
            lang,
            &format!("appointments.booking_title_{}", b.status_code),
        ),
    )
    .await?;
    Ok(with_status(
        status,
        BookingPage {
            page,
            message: msg
                .filter(|m| BOOKING_MSGS.contains(m))
                .map(|m| i18n::t(lang, &format!("appointments.msg_{m}")).to_string()),
            error,
            errors,
            until,
            email_sent_to: d.booking.email.clone().unwrap_or_default(),
            name,
            email,
            base: format!("/termine/buchung/{}", d.booking.code),
            again_href: format!("/termine/{}/{}", d.location.slug, d.service.slug),
            b,
        },
    ))
}

async fn booking_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(code): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let d = details_of(&state, tenant, &code).await?;
    render_booking(
        &state,
        &ctx,
        &session,
        &d,
        q.msg.as_deref(),
        None,
        vec![],
        Default::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
struct DetailsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

async fn give_details(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    f: CsrfForm<DetailsForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let d = details_of(&state, tenant, &code).await?;
    let CsrfForm { form, session } = f;
    let result = match lengths(&[("name", &form.name, 100), ("email", &form.email, 254)]) {
        Err(errs) => Err(UseCaseError::Validation(errs)),
        Ok(()) => {
            state
                .app
                .give_appointment_details(tenant, &d.booking.code, &form.name, &form.email)
                .await
        }
    };
    match result {
        Ok(d) => Ok(no_store(
            Redirect::to(&format!("/termine/buchung/{}?msg=details", d.booking.code))
                .into_response(),
        )),
        Err(e) => {
            let (status, error, errors) = step_error(ctx.lang, e)?;
            // The booking as it is now (the hold may have run out).
            let d = details_of(&state, tenant, &d.booking.code).await?;
            render_booking(
                &state,
                &ctx,
                &session,
                &d,
                None,
                Some(error),
                errors,
                (form.name, form.email),
                status,
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let d = details_of(&state, tenant, &code).await?;
    match state.app.cancel_appointment(tenant, &d.booking.code).await {
        Ok(d) => Ok(no_store(
            Redirect::to(&format!(
                "/termine/buchung/{}?msg=cancelled",
                d.booking.code
            ))
            .into_response(),
        )),
        Err(e) => {
            let (status, error, errors) = step_error(ctx.lang, e)?;
            let d = details_of(&state, tenant, &d.booking.code).await?;
            render_booking(
                &state,
                &ctx,
                &f.session,
                &d,
                None,
                Some(error),
                errors,
                Default::default(),
                status,
            )
            .await
        }
    }
}

async fn ics(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let body = state
        .app
        .appointment_ics(tenant, path_part(&code)?, &state.config.public_url)
        .await?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"termin.ics\""),
    );
    Ok(no_store(r))
}

// ----------------------------------------------------------------------
// Moving
// ----------------------------------------------------------------------

/// A booking that may be moved (pending or confirmed), else its page.
fn movable(d: &BookingDetails) -> bool {
    matches!(
        d.booking.status(),
        BookingStatus::Pending | BookingStatus::Confirmed
    )
}

async fn move_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let d = details_of(&state, tenant, &code).await?;
    if !movable(&d) {
        return Ok(no_store(
            Redirect::to(&format!("/termine/buchung/{}", d.booking.code)).into_response(),
        ));
    }
    let day = day_param(q.tag.as_deref()).or(Some(d.booking.starts_at.date()));
    let t = Times {
        state: &state,
        ctx: &ctx,
        session: &session,
        tenant,
        l: &d.location,
        s: &d.service,
    };
    render_times(
        &t,
        Mode::Move {
            code: d.booking.code.clone(),
            current: d.booking.starts_at,
        },
        day,
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
struct MoveForm {
    #[serde(default)]
    start: String,
    /// The day the form showed.
    #[serde(default)]
    tag: String,
}

async fn move_post(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: Extensions,
    Path(code): Path<String>,
    f: CsrfForm<MoveForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let d = details_of(&state, tenant, &code).await?;
    let CsrfForm { form, session } = f;
    let t = Times {
        state: &state,
        ctx: &ctx,
        session: &session,
        tenant,
        l: &d.location,
        s: &d.service,
    };
    let start = form.start.trim().to_string();
    let mode = || Mode::Move {
        code: d.booking.code.clone(),
        current: d.booking.starts_at,
    };
    let day = start_day(&start);
    let refused = |errs: ValidationErrors| Extra {
        errors: field_messages(ctx.lang, &errs),
        error: Some(ctx.t("appointments.error_summary").to_string()),
        start: Some(start.clone()),
        ..Extra::default()
    };
    if start.is_empty() || start.len() > 40 {
        let code = if start.is_empty() {
            "appointments.choose_time"
        } else {
            "too_long"
        };
        return render_times(
            &t,
            mode(),
            day_param(Some(&form.tag)).or(Some(d.booking.starts_at.date())),
            refused(invalid("start", code)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !state.limiter.check_booking(client_ip(&ext)) {
        return Err(AppError::RateLimited);
    }
    match state
        .app
        .move_appointment(tenant, &d.booking.code, &start)
        .await
    {
        Ok(moved) => Ok(no_store(
            Redirect::to(&format!(
                "/termine/buchung/{}?msg=moved",
                moved.booking.code
            ))
            .into_response(),
        )),
        Err(UseCaseError::Conflict("slot_taken")) => {
            let after = day.unwrap_or_else(local_now);
            let next = state
                .app
                .next_free_times(tenant, &d.location, &d.service, Channel::Online, after, 6)
                .await?;
            render_times(
                &t,
                mode(),
                day.map(|d| d.date()),
                Extra {
                    error: Some(ctx.t("appointments.slot_taken").to_string()),
                    next: Some(next),
                    ..Extra::default()
                },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(UseCaseError::Validation(errs)) => {
            render_times(
                &t,
                mode(),
                day.map(|d| d.date()),
                refused(errs),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let (status, error, errors) = step_error(ctx.lang, e)?;
            render_booking(
                &state,
                &ctx,
                &session,
                &d,
                None,
                Some(error),
                errors,
                Default::default(),
                status,
            )
            .await
        }
    }
}

// ----------------------------------------------------------------------
// The confirmation link
// ----------------------------------------------------------------------

async fn render_confirm(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    d: &BookingDetails,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = form_page(state, ctx, session, ctx.t("appointments.confirm_title")).await?;
    Ok(with_status(
        status,
        ConfirmPage {
            page,
            b: booking_view(ctx.lang, d),
            action: format!("/termine/buchung/{}/bestaetigen/{token}", d.booking.code),
            booking_href: format!("/termine/buchung/{}", d.booking.code),
            error,
            errors: vec![],
        },
    ))
}

/// The token as it may appear in a link (hex).
fn token_part(token: &str) -> Result<&str, AppError> {
    let t = path_part(token)?;
    if t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(t)
    } else {
        Err(AppError::NotFound)
    }
}

async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path((code, token)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let token = token_part(&token)?;
    let d = details_of(&state, tenant, &code).await?;
    if d.booking.status() == BookingStatus::Confirmed {
        return Ok(no_store(
            Redirect::to(&format!(
                "/termine/buchung/{}?msg=confirmed",
                d.booking.code
            ))
            .into_response(),
        ));
    }
    render_confirm(&state, &ctx, &session, &d, token, None, StatusCode::OK).await
}

async fn confirm_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, token)): Path<(String, String)>,
    f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let token = token_part(&token)?;
    let d = details_of(&state, tenant, &code).await?;
    match state
        .app
        .confirm_appointment(tenant, &d.booking.code, token)
        .await
    {
        Ok(d) => Ok(no_store(
            Redirect::to(&format!(
                "/termine/buchung/{}?msg=confirmed",
                d.booking.code
            ))
            .into_response(),
        )),
        Err(UseCaseError::Validation(_)) => {
            let error = ctx.t("appointments.token_wrong").to_string();
            render_confirm(
                &state,
                &ctx,
                &f.session,
                &d,
                token,
                Some(error),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let (status, error, errors) = step_error(ctx.lang, e)?;
            let d = details_of(&state, tenant, &d.booking.code).await?;
            render_booking(
                &state,
                &ctx,
                &f.session,
                &d,
                None,
                Some(error),
                errors,
                Default::default(),
                status,
            )
            .await
        }
    }
}

// ----------------------------------------------------------------------
// The waiting list
// ----------------------------------------------------------------------

async fn waitlist_page(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(code): Path<String>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let lang = ctx.lang;
    let e = state.app.waitlist_entry(tenant, path_part(&code)?).await?;
    let offer = state.app.appointment_offer(tenant).await?;
    let location = offer.iter().find(|o| o.location.id == e.location_id);
    let service = location.and_then(|o| o.services.iter().find(|s| s.id == e.service_id));
    let status_key = format!("appointments.wait_status_{}", e.status);
    let page = form_page(&state, &ctx, &session, ctx.t("appointments.wait_title")).await?;
    Ok(no_store(
        WaitlistPage {
            page,
            code: e.code.clone(),
            service: service.map(|s| s.name.clone()).unwrap_or_default(),
            location: location
                .map(|o| format!("{}, {}", o.location.name, o.location.address))
                .unwrap_or_default(),
            range: i18n::tf(
                lang,
                "appointments.wait_range_text",
                &[
                    ("from", &day_long(lang, e.from_day)),
                    ("to", &day_long(lang, e.to_day)),
                ],
            ),
            status: if i18n::has(lang, &status_key) {
                i18n::t(lang, &status_key)
            } else {
                i18n::t(lang, "appointments.wait_status_ended")
            },
            waiting: e.status == "waiting",
            message: q
                .msg
                .as_deref()
                .filter(|m| ["joined", "left"].contains(m))
                .map(|m| i18n::t(lang, &format!("appointments.msg_wait_{m}")).to_string()),
            action: format!("/termine/warteliste/{}/abmelden", e.code),
            again_href: match (location, service) {
                (Some(o), Some(s)) => format!("/termine/{}/{}", o.location.slug, s.slug),
                _ => "/termine".into(),
            },
        }
        .into_response(),
    ))
}

async fn leave_waitlist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    _f: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let e = state.app.waitlist_entry(tenant, path_part(&code)?).await?;
    state.app.leave_waitlist(tenant, &e.code).await?;
    Ok(no_store(
        Redirect::to(&format!("/termine/warteliste/{}?msg=left", e.code)).into_response(),
    ))
}
