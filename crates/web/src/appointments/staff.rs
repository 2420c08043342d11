//! The staff's pages of Terminvergabe: the locations they work, the day
//! list of a location (bookings with check-in, no-show and cancel; the
//! slots with capacity per channel and blocking; a booking by phone or at
//! the counter; a print view) and the utilisation of a range.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Datelike, Duration, NaiveDate};
use rathaus_app::{
    UseCaseError,
    appointments::{BookInput, local_now},
};
use rathaus_domain::{
    FieldError,
    appointments::{BookingStatus, Channel},
};
use uuid::Uuid;

use super::views::{
    ChannelRow, DayRow, FieldMessage, Input, SlotRow, StaffBookForm, StaffDayPage, StaffLocation,
    StaffLocationsPage, StaffStatsPage, anchored, channel_label, day_long, field_messages, lengths,
    percent, start_value, status_code_label, status_label, time_label,
};
use crate::platform::{
    AppState,
    auth::{StaffUser, staff_page},
    context::{Ctx, describe},
    error::AppError,
    i18n::{self, Lang},
    layout::no_store,
    routes::{Routes, get, post},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("appointments")
        .route("/staff/termine", get(locations_page))
        .route("/staff/termine/{location}", get(day_page))
        .route("/staff/termine/{location}/statistik", get(stats_page))
        .route("/staff/termine/{location}/sperren", post(block))
        .route("/staff/termine/{location}/buchen", post(book))
        .route("/staff/termine/buchungen/{id}/erschienen", post(checked_in))
        .route(
            "/staff/termine/buchungen/{id}/nicht-erschienen",
            post(no_show),
        )
        .route("/staff/termine/buchungen/{id}/absagen", post(cancel))
}

/// Longest location slug or id taken from a path or a form.
const MAX_LOCATION: usize = 100;

fn location_part(s: &str) -> Result<&str, AppError> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_LOCATION {
        Err(AppError::NotFound)
    } else {
        Ok(s)
    }
}

/// A day as `YYYY-MM-DD` (empty: today); `field` names it in the error.
fn day_of(field: &str, s: Option<&str>, default: NaiveDate) -> Result<NaiveDate, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(d) if d.len() > 20 => Err(AppError::Validation(
            FieldError::new(field, "too_long").into(),
        )),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::Validation(FieldError::new(field, "date.invalid").into())),
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ----------------------------------------------------------------------
// Locations
// ----------------------------------------------------------------------

async fn locations_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
) -> Result<Response, AppError> {
    let actor = staff.actor(&state).await?;
    let locations = state.app.staff_locations(&actor).await?;
    let page = staff_page(&ctx, &staff, ctx.t("appointments.staff_title")).await?;
    Ok(no_store(
        StaffLocationsPage {
            page,
            locations: locations
                .into_iter()
                .map(|l| StaffLocation {
                    href: format!("/staff/termine/{}", l.slug),
                    name: l.name,
                    address: l.address,
                })
                .collect(),
        }
        .into_response(),
    ))
}

// ----------------------------------------------------------------------
// The day list
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct DayQuery {
    tag: Option<String>,
    druck: Option<String>,
    msg: Option<String>,
}

/// The messages a redirect may name.
const DAY_MSGS: [&str; 6] = [
    "booked",
    "checked_in",
    "no_show",
    "cancelled",
    "blocked",
    "unblocked",
];

/// What a render of the day list carries besides the day.
#[derive(Default)]
struct DayExtra {
    print: bool,
    msg: Option<String>,
    error: Option<String>,
    errors: Vec<FieldMessage>,
    form: Option<BookForm>,
}

async fn day_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(location): Path<String>,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    let day = day_of("tag", q.tag.as_deref(), local_now().date())?;
    render_day(
        &state,
        &ctx,
        &staff,
        &location,
        day,
        DayExtra {
            print: q.druck.as_deref().is_some_and(|d| d == "1"),
            msg: q.msg,
            ..DayExtra::default()
        },
        StatusCode::OK,
    )
    .await
}

fn slot_use(s: &rathaus_storage::appointments::Slot, c: Channel) -> String {
    format!("{}/{}", s.booked(c), s.cap(c))
}

async fn render_day(
    state: &AppState,
    ctx: &Ctx,
    staff: &StaffUser,
    location: &str,
    day: NaiveDate,
    extra: DayExtra,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let actor = staff.actor(state).await?;
    let list = state
        .app
        .appointment_day(&actor, location_part(location)?, day)
        .await?;
    let l = &list.location;
    let offer = state.app.appointment_offer(actor.tenant()).await?;
    let services: Vec<(String, String)> = offer
        .iter()
        .filter(|o| o.location.id == l.id)
        .flat_map(|o| o.services.iter())
        .map(|s| {
            (
                s.id.to_string(),
                format!(
                    "{} ({})",
                    s.name,
                    super::views::minutes_label(lang, s.duration_minutes)
                ),
            )
        })
        .collect();
    let now = local_now();
    let today = now.date();
    let mut bookings = list.bookings.clone();
    bookings.sort_by_key(|(b, _)| b.starts_at);
    let rows = bookings
        .iter()
        .map(|(b, service)| {
            let st = b.status();
            DayRow {
                id: b.id.to_string(),
                time: format!(
                    "{}–{}",
                    b.starts_at.format("%H:%M"),
                    b.ends_at.format("%H:%M")
                ),
                service: service.clone(),
                name: b.name.clone(),
                contact: [b.phone.clone(), b.email.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                channel: channel_label(lang, b.channel()),
                status_code: st.code(),
                status: status_label(lang, st),
                code: b.code.clone(),
                attendable: st == BookingStatus::Confirmed && b.starts_at.date() <= today,
                cancellable: st.open(),
            }
        })
        .collect();
    let mut slots = list.slots.clone();
    slots.sort_by_key(|s| s.starts_at);
    let times = slots
        .iter()
        .filter(|s| s.starts_at > now && !s.blocked)
        .filter(|s| s.free(Channel::Phone) > 0 || s.free(Channel::Internal) > 0)
        .map(|s| {
            (
                start_value(s.starts_at),
                i18n::tf(
                    lang,
                    "appointments.staff_time_option",
                    &[
                        ("time", &time_label(lang, s.starts_at)),
                        ("phone", &s.free(Channel::Phone).to_string()),
                        ("internal", &s.free(Channel::Internal).to_string()),
                    ],
                ),
            )
        })
        .collect();
    let slot_rows = slots
        .iter()
        .map(|s| SlotRow {
            start: start_value(s.starts_at),
            time: time_label(lang, s.starts_at),
            online: slot_use(s, Channel::Online),
            phone: slot_use(s, Channel::Phone),
            internal: slot_use(s, Channel::Internal),
            blocked: s.blocked,
        })
        .collect();
    let v = extra.form.unwrap_or_default();
    let errs = &extra.errors;
    let form = StaffBookForm {
        service: Input::with(v.service, "service", errs),
        start: Input::with(v.start, "start", errs),
        channel: if v.channel == "internal" {
            "internal".into()
        } else {
            "phone".into()
        },
        name: Input::with(v.name, "name", errs),
        email: Input::with(v.email, "email", errs),
        phone: Input::with(v.phone, "phone", errs),
    };
    let errors = anchored(
        errs,
        &[
            ("service", "book-service"),
            ("start", "book-start"),
            ("name", "book-name"),
            ("email", "book-email"),
            ("phone", "book-phone"),
            ("location", "book-service"),
        ],
        "book-service",
    );
    let slug = l.slug.clone();
    let base = format!("/staff/termine/{slug}");
    let page = staff_page(
        ctx,
        staff,
        &i18n::tf(
            lang,
            "appointments.staff_day_title",
            &[("location", &l.name)],
        ),
    )
    .await?;
    Ok(no_store(
        (
            status,
            StaffDayPage {
                page,
                location: l.name.clone(),
                address: l.address.clone(),
                day: ymd(day),
                day_label: day_long(lang, day),
                prev_href: format!("{base}?tag={}", ymd(day - Duration::days(1))),
                next_href: format!("{base}?tag={}", ymd(day + Duration::days(1))),
                print_href: format!("{base}?tag={}&druck=1", ymd(day)),
                screen_href: format!("{base}?tag={}", ymd(day)),
                stats_href: format!("{base}/statistik"),
                print: extra.print,
                rows,
                slots: slot_rows,
                services,
                times,
                form,
                message: extra
                    .msg
                    .as_deref()
                    .filter(|m| DAY_MSGS.contains(m))
                    .map(|m| i18n::t(lang, &format!("appointments.staff_msg_{m}")).to_string()),
                error: extra.error,
                errors,
                slug,
            },
        )
            .into_response(),
    ))
}

/// A refused step's message for the day list (validation, conflicts, steps
/// the status does not allow); anything else is an error page.
fn refusal(
    lang: Lang,
    e: UseCaseError,
) -> Result<(StatusCode, String, Vec<FieldMessage>), AppError> {
    match e {
        UseCaseError::Validation(errs) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::t(lang, "appointments.error_summary").to_string(),
            field_messages(lang, &errs),
        )),
        UseCaseError::Conflict("slot_taken") => Ok((
            StatusCode::CONFLICT,
            i18n::t(lang, "appointments.slot_taken").to_string(),
            vec![],
        )),
        UseCaseError::Workflow("appointments.not_yet") => Ok((
            StatusCode::CONFLICT,
            i18n::t(lang, "editor.appointments.not_yet").to_string(),
            vec![],
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

#[derive(serde::Deserialize, Default, Clone)]
struct BookForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    /// The day the list showed.
    #[serde(default)]
    tag: String,
}

async fn book(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(location): Path<String>,
    f: CsrfForm<BookForm>,
) -> Result<Response, AppError> {
    let location = location_part(&location)?.to_string();
    let actor = staff.actor(&state).await?;
    let form = f.form;
    let day = day_of("tag", Some(&form.tag), local_now().date())?;
    let channel = if form.channel == "internal" {
        Channel::Internal
    } else {
        Channel::Phone
    };
    let result = match lengths(&[
        ("service", &form.service, 100),
        ("start", &form.start, 40),
        ("name", &form.name, 100),
        ("email", &form.email, 254),
        ("phone", &form.phone, 40),
    ]) {
        Err(errs) => Err(UseCaseError::Validation(errs)),
        Ok(()) if form.service.trim().is_empty() => Err(UseCaseError::Validation(
            FieldError::new("service", "required").into(),
        )),
        Ok(()) if form.start.trim().is_empty() => Err(UseCaseError::Validation(
            FieldError::new("start", "appointments.choose_time").into(),
        )),
        Ok(()) => {
            state
                .app
                .book_appointment(
                    &actor,
                    &BookInput {
                        service: form.service.trim().to_string(),
                        location: Some(location.clone()),
                        start: form.start.trim().to_string(),
                        name: form.name.clone(),
                        email: form.email.clone(),
                        phone: Some(form.phone.trim().to_string()).filter(|p| !p.is_empty()),
                        pow: None,
                    },
                    channel,
                )
                .await
        }
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!(
            "/staff/termine/{}?tag={}&msg=booked",
            d.location.slug,
            ymd(d.booking.starts_at.date())
        ))
        .into_response()),
        Err(e) => {
            let (status, error, errors) = refusal(ctx.lang, e)?;
            render_day(
                &state,
                &ctx,
                &staff,
                &location,
                day,
                DayExtra {
                    error: Some(error),
                    errors,
                    form: Some(form),
                    ..DayExtra::default()
                },
                status,
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
struct BlockForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    blocked: String,
}

async fn block(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(location): Path<String>,
    f: CsrfForm<BlockForm>,
) -> Result<Response, AppError> {
    let location = location_part(&location)?.to_string();
    let actor = staff.actor(&state).await?;
    let start = f.form.start.trim();
    let blocked = f.form.blocked == "1" || f.form.blocked == "true";
    let day = chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M")
        .map(|t| t.date())
        .unwrap_or_else(|_| local_now().date());
    let result = if start.len() > 40 {
        Err(UseCaseError::Validation(
            FieldError::new("start", "too_long").into(),
        ))
    } else {
        state
            .app
            .block_appointment_slot(&actor, &location, start, blocked)
            .await
    };
    match result {
        Ok(()) => {
            let l = state.app.staff_location(&actor, &location).await?;
            Ok(Redirect::to(&format!(
                "/staff/termine/{}?tag={}&msg={}",
                l.slug,
                ymd(day),
                if blocked { "blocked" } else { "unblocked" }
            ))
            .into_response())
        }
        Err(e) => {
            let (status, error, errors) = refusal(ctx.lang, e)?;
            render_day(
                &state,
                &ctx,
                &staff,
                &location,
                day,
                DayExtra {
                    error: Some(error),
                    errors,
                    ..DayExtra::default()
                },
                status,
            )
            .await
        }
    }
}

/// The hidden fields of the row buttons: where the list was (for a refusal
/// shown on it).
#[derive(serde::Deserialize)]
struct RowForm {
    #[serde(default)]
    location: String,
    #[serde(default)]
    tag: String,
}

enum RowAction {
    CheckIn,
    NoShow,
    Cancel,
}

async fn row_action(
    state: AppState,
    ctx: Ctx,
    staff: StaffUser,
    id: String,
    form: RowForm,
    action: RowAction,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let actor = staff.actor(&state).await?;
    let (result, msg) = match action {
        RowAction::CheckIn => (
            state.app.mark_attendance(&actor, id, true).await,
            "checked_in",
        ),
        RowAction::NoShow => (
            state.app.mark_attendance(&actor, id, false).await,
            "no_show",
        ),
        RowAction::Cancel => (
            state.app.staff_cancel_appointment(&actor, id).await,
            "cancelled",
        ),
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!(
            "/staff/termine/{}?tag={}&msg={msg}",
            d.location.slug,
            ymd(d.booking.starts_at.date())
        ))
        .into_response()),
        Err(e) => {
            let (status, error, errors) = refusal(ctx.lang, e)?;
            let day = day_of("tag", Some(&form.tag), local_now().date())?;
            render_day(
                &state,
                &ctx,
                &staff,
                location_part(&form.location)?,
                day,
                DayExtra {
                    error: Some(error),
                    errors,
                    ..DayExtra::default()
                },
                status,
            )
            .await
        }
    }
}

async fn checked_in(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<RowForm>,
) -> Result<Response, AppError> {
    row_action(state, ctx, staff, id, f.form, RowAction::CheckIn).await
}

async fn no_show(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<RowForm>,
) -> Result<Response, AppError> {
    row_action(state, ctx, staff, id, f.form, RowAction::NoShow).await
}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<RowForm>,
) -> Result<Response, AppError> {
    row_action(state, ctx, staff, id, f.form, RowAction::Cancel).await
}

// ----------------------------------------------------------------------
// Utilisation
// ----------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
struct StatsQuery {
    von: Option<String>,
    bis: Option<String>,
}

async fn stats_page(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(location): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let today = local_now().date();
    let month_start = today.with_day(1).unwrap_or(today);
    let month_end = (month_start + Duration::days(40))
        .with_day(1)
        .map(|d| d - Duration::days(1))
        .unwrap_or(today);
    let from = day_of("von", q.von.as_deref(), month_start)?;
    let to = day_of("bis", q.bis.as_deref(), month_end)?;
    let actor = staff.actor(&state).await?;
    let u = state
        .app
        .appointment_utilisation(&actor, location_part(&location)?, from, to)
        .await?;
    let page = staff_page(
        &ctx,
        &staff,
        &i18n::tf(
            lang,
            "appointments.stats_title",
            &[("location", &u.location.name)],
        ),
    )
    .await?;
    let (cap, booked) = u
        .channels
        .iter()
        .fold((0, 0), |(c, b), (_, x)| (c + x.capacity, b + x.booked));
    let mut channels: Vec<ChannelRow> = u
        .channels
        .iter()
        .map(|(c, x)| ChannelRow {
            channel: channel_label(lang, *c),
            capacity: x.capacity.to_string(),
            booked: x.booked.to_string(),
            percent: percent(lang, x.booked, x.capacity),
        })
        .collect();
    channels.push(ChannelRow {
        channel: i18n::t(lang, "appointments.total"),
        capacity: cap.to_string(),
        booked: booked.to_string(),
        percent: percent(lang, booked, cap),
    });
    let slug = u.location.slug.clone();
    Ok(no_store(
        StaffStatsPage {
            page,
            location: u.location.name.clone(),
            from: ymd(u.from),
            to: ymd(u.to),
            range: i18n::tf(
                lang,
                "appointments.wait_range_text",
                &[
                    ("from", &day_long(lang, u.from)),
                    ("to", &day_long(lang, u.to)),
                ],
            ),
            channels,
            statuses: u
                .statuses
                .iter()
                .map(|(code, n)| (status_code_label(lang, code), n.to_string()))
                .collect(),
            back_href: format!("/staff/termine/{slug}"),
            slug,
        }
        .into_response(),
    ))
}
