//! Appointments API: free times, the proof-of-work challenge, booking (409
//! with the next free times when the time is gone), a booking by its code
//! with its `.ics`, confirming, moving and cancelling it, the waiting list;
//! for staff the day list, check-in and no-show, blocking slots, bookings
//! by phone and the utilisation per channel.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, NaiveDateTime};
use rathaus_app::{
    UseCaseError,
    appointments::{BookInput, BookingDetails, FreeTime, parse_day},
};
use rathaus_domain::appointments::Channel;
use uuid::Uuid;

use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiQuery, ApiStaff, RecordsStaff},
    client::Client,
    context::Ctx,
    error::AppError,
    openapi::{Auth, Op, op, query, schema},
    routes::{Routes, delete, get, post},
};

pub fn routes() -> Routes {
    Routes::new("appointments")
        .route("/appointments/services", get(services))
        .route("/appointments/slots", get(slots))
        .route("/appointments/challenge", get(challenge))
        .route("/appointments", post(book))
        .route("/appointments/waitlist", post(join_waitlist))
        .route("/appointments/waitlist/{code}", delete(leave_waitlist))
        .route("/appointments/{code}", get(one).delete(cancel))
        .route("/appointments/{code}/confirm", post(confirm))
        .route("/appointments/{code}/move", post(move_to))
        .route("/appointments/locations/{id}/day", get(day))
        .route("/appointments/locations/{id}/bookings", post(staff_book))
        .route("/appointments/locations/{id}/blocks", post(block))
        .route("/appointments/locations/{id}/utilisation", get(utilisation))
        .route("/appointments/bookings/{id}/attendance", post(attendance))
        .route("/appointments/bookings/{id}/cancel", post(staff_cancel))
        .map(|r| r.layer(axum::middleware::from_fn(ics_is_read_only)))
}

/// `/appointments/{code}.ics` shares its route with `/appointments/{code}`
/// (the router knows no suffixes): on the calendar file only GET and HEAD
/// are allowed, and the 405 says so.
async fn ics_is_read_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::Method;
    if req.uri().path().ends_with(".ics") && !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return r;
    }
    next.run(req).await
}

fn day_of(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_day(field, s)
            .map(Some)
            .map_err(|e| AppError::BadRequest(e.into())),
    }
}

fn id_of(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------

/// A bookable service.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceBody {
    id: Uuid,
    slug: String,
    name: String,
    duration_minutes: i32,
}

/// A location with its bookable services.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LocationBody {
    id: Uuid,
    slug: String,
    name: String,
    address: String,
    slot_minutes: i32,
    /// Days ahead one may book online.
    window_days: i32,
    services: Vec<ServiceBody>,
}

/// The locations and what can be booked there.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Offer {
    locations: Vec<LocationBody>,
}

/// Which free times.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct SlotParams {
    /// The service: its id or slug.
    #[param(min_length = 1, max_length = 60)]
    service: String,
    /// The location: its id or slug (may be left out when the service's slug is unique).
    #[param(max_length = 60)]
    location: Option<String>,
    /// First day (default: the first day of the booking window).
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    from: Option<String>,
    /// Last day (default: the last day of the window; at most 62 days).
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    to: Option<String>,
}

/// A free time.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct FreeTimeBody {
    /// Local time of the municipality (Europe/Berlin), `YYYY-MM-DDTHH:MM:SS`.
    #[schema(value_type = String, example = "2026-12-03T09:10:00")]
    start: NaiveDateTime,
    /// Free places at that time for the channel.
    free: u32,
}

impl From<&FreeTime> for FreeTimeBody {
    fn from(t: &FreeTime) -> Self {
        Self {
            start: t.start,
            free: t.free,
        }
    }
}

/// The free times of a day.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DayBody {
    date: NaiveDate,
    /// The public holiday that closes the location, if any.
    holiday: Option<String>,
    times: Vec<FreeTimeBody>,
}

/// Free times day by day.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SlotsBody {
    service: String,
    location: String,
    duration_minutes: i32,
    days: Vec<DayBody>,
}

/// The proof-of-work challenge (ALTCHA-compatible).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ChallengeBody {
    /// Whether a booking needs a solution (`pow`).
    required: bool,
    /// Find `number` ≤ `maxnumber` with hex(SHA-256(`salt` + number)) = `challenge`, and send
    /// `{algorithm, challenge, number, salt, signature}` (JSON or base64 of it) as `pow`.
    #[schema(value_type = Option<Object>)]
    challenge: Option<rathaus_domain::appointments::Challenge>,
}

/// A booking to make.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct BookBody {
    /// The service: its id or slug.
    #[schema(min_length = 1, max_length = 60)]
    service: String,
    /// The location: its id or slug.
    #[schema(max_length = 60)]
    location: Option<String>,
    /// Local start time (Europe/Berlin), `YYYY-MM-DDTHH:MM`.
    #[schema(min_length = 1, max_length = 40, example = "2026-12-03T09:10")]
    start: String,
    /// The name the citizen is called by at the counter.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(min_length = 1, max_length = 254)]
    email: String,
    /// The solved challenge of `GET /appointments/challenge` (when it is required).
    #[schema(max_length = 2048)]
    pow: Option<String>,
}

/// A booking by staff (phone or counter): confirmed at once.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct StaffBookBody {
    #[schema(min_length = 1, max_length = 60)]
    service: String,
    #[schema(min_length = 1, max_length = 40)]
    start: String,
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// Optional: the confirmation with the calendar file goes there.
    #[schema(max_length = 254)]
    email: Option<String>,
    #[schema(max_length = 40)]
    phone: Option<String>,
    /// `phone` (default) or `internal`.
    #[schema(pattern = "^(phone|internal)?$")]
    channel: Option<String>,
}

/// A booking.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct BookingBody {
    /// The booking code: keep it to look at, move or cancel the booking.
    code: String,
    /// `held`, `pending` (waiting for the e-mail confirmation), `confirmed`, `checked_in`,
    /// `no_show`, `cancelled`, `released`.
    status: String,
    channel: String,
    service: String,
    location: String,
    address: String,
    #[schema(value_type = String)]
    start: NaiveDateTime,
    #[schema(value_type = String)]
    end: NaiveDateTime,
    name: String,
    /// Until when an unconfirmed booking is held.
    hold_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The calendar file (RFC 5545).
    ics_url: String,
}

fn booking_body(state: &AppState, d: &BookingDetails) -> BookingBody {
    let base = state.config.public_url.trim_end_matches('/');
    BookingBody {
        code: d.booking.code.clone(),
        status: d.booking.status().code().into(),
        channel: d.booking.channel().code().into(),
        service: d.service.name.clone(),
        location: d.location.name.clone(),
        address: d.location.address.clone(),
        start: d.booking.starts_at,
        end: d.booking.ends_at,
        name: d.booking.name.clone(),
        hold_until: d.booking.hold_until,
        ics_url: format!("{base}/api/v1/appointments/{}.ics", d.booking.code),
    }
}

/// The confirmation link's secret.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ConfirmBody {
    /// The last part of the link in the e-mail.
    #[schema(min_length = 1, max_length = 200)]
    token: String,
}

/// The new time.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct MoveBody {
    #[schema(min_length = 1, max_length = 40, example = "2026-12-04T10:00")]
    start: String,
}

/// A place on the waiting list to take.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct WaitBody {
    #[schema(min_length = 1, max_length = 60)]
    service: String,
    #[schema(max_length = 60)]
    location: Option<String>,
    /// First acceptable day, `YYYY-MM-DD`.
    #[schema(min_length = 1, max_length = 20)]
    from: String,
    /// Last acceptable day.
    #[schema(min_length = 1, max_length = 20)]
    to: String,
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(min_length = 1, max_length = 254)]
    email: String,
}

/// A place on the waiting list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct WaitingBody {
    /// Keep it to leave the list.
    code: String,
    /// `waiting`, `offered`, `booked`, `ended`.
    status: String,
    from: NaiveDate,
    to: NaiveDate,
}

/// A day (default today).
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct DayParams {
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    date: Option<String>,
}

/// A range of days (default: this month so far).
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct RangeParams {
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    from: Option<String>,
    #[param(pattern = "^((19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?$")]
    to: Option<String>,
}

/// A slot of the day list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SlotBody {
    #[schema(value_type = String)]
    start: NaiveDateTime,
    blocked: bool,
    cap_online: i32,
    cap_phone: i32,
    cap_internal: i32,
    booked_online: i32,
    booked_phone: i32,
    booked_internal: i32,
}

/// A booking of the day list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DayBooking {
    id: Uuid,
    #[serde(flatten)]
    booking: BookingBody,
    email: Option<String>,
    phone: Option<String>,
}

/// A location's day.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DayListBody {
    location: String,
    date: NaiveDate,
    slots: Vec<SlotBody>,
    bookings: Vec<DayBooking>,
}

/// Check-in or no-show.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct AttendanceBody {
    /// True: the citizen came (checked in); false: no-show.
    arrived: bool,
}

/// A slot to block or free again.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct BlockBody {
    #[schema(min_length = 1, max_length = 40, example = "2026-12-03T09:10")]
    start: String,
    blocked: bool,
}

/// Capacity and bookings of a channel.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ChannelUseBody {
    channel: String,
    capacity: i64,
    booked: i64,
    /// booked / capacity in percent (0 without capacity).
    percent: f64,
}

/// Utilisation of a location.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UtilisationBody {
    location: String,
    from: NaiveDate,
    to: NaiveDate,
    channels: Vec<ChannelUseBody>,
    /// Bookings per status in the range.
    statuses: std::collections::BTreeMap<String, i64>,
}

/// The time is gone: the error, and the next free times.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TakenBody {
    #[schema(value_type = Object)]
    error: serde_json::Value,
    next_free: Vec<FreeTimeBody>,
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

async fn services(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Offer>, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    let offer = state.app.appointment_offer(tid).await?;
    Ok(Json(Offer {
        locations: offer
            .into_iter()
            .map(|o| LocationBody {
                id: o.location.id,
                slug: o.location.slug,
                name: o.location.name,
                address: o.location.address,
                slot_minutes: o.location.slot_minutes,
                window_days: o.location.window_days,
                services: o
                    .services
                    .into_iter()
                    .map(|s| ServiceBody {
                        id: s.id,
                        slug: s.slug,
                        name: s.name,
                        duration_minutes: s.duration_minutes,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

async fn slots(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<SlotParams>,
) -> Result<Json<SlotsBody>, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    if q.service.len() > 60 || q.location.as_ref().is_some_and(|l| l.len() > 60) {
        return Err(AppError::BadQuery(
            "service/location: at most 60 characters".into(),
        ));
    }
    let from = day_of("from", q.from.as_deref())?;
    let to = day_of("to", q.to.as_deref())?;
    let (l, s) = state
        .app
        .bookable(tid, &q.service, q.location.as_deref())
        .await?;
    let days = state
        .app
        .free_times(tid, &l, &s, Channel::Online, from, to)
        .await?;
    Ok(Json(SlotsBody {
        service: s.slug,
        location: l.slug,
        duration_minutes: s.duration_minutes,
        days: days
            .iter()
            .map(|d| DayBody {
                date: d.day,
                holiday: d.holiday.map(str::to_string),
                times: d.times.iter().map(FreeTimeBody::from).collect(),
            })
            .collect(),
    }))
}

async fn challenge(State(state): State<AppState>) -> Json<ChallengeBody> {
    let c = state.app.booking_challenge();
    Json(ChallengeBody {
        required: c.is_some(),
        challenge: c,
    })
}

/// 409 with the next free times when the time is gone.
async fn taken(
    state: &AppState,
    ctx: &Ctx,
    service: &str,
    location: Option<&str>,
    after: &str,
    channel: Channel,
) -> Response {
    let tid = match ctx.tenant() {
        Ok(t) => t.tenant_id(),
        Err(e) => return e.into_response(),
    };
    let after = NaiveDateTime::parse_from_str(after.trim(), "%Y-%m-%dT%H:%M")
        .unwrap_or_else(|_| rathaus_app::appointments::local_now());
    let next = match state.app.bookable(tid, service, location).await {
        Ok((l, s)) => state
            .app
            .next_free_times(tid, &l, &s, channel, after, 5)
            .await
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let message = crate::platform::i18n::field_error(ctx.lang, "start", "conflict.slot_taken");
    (
        StatusCode::CONFLICT,
        Json(TakenBody {
            error: serde_json::json!({
                "status": 409, "code": "conflict", "message": message,
                "fields": [{"field": "start", "message": message}],
            }),
            next_free: next.iter().map(FreeTimeBody::from).collect(),
        }),
    )
        .into_response()
}

async fn book(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    ApiJson(body): ApiJson<BookBody>,
) -> Result<Response, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    if !state.limiter.check_booking(client) {
        return Err(AppError::RateLimited);
    }
    let input = BookInput {
        service: body.service,
        location: body.location,
        start: body.start,
        name: body.name,
        email: body.email,
        phone: None,
        pow: body.pow,
    };
    match state
        .app
        .book_appointment(
            &rathaus_app::Actor::Anonymous { tenant: tid },
            &input,
            Channel::Online,
        )
        .await
    {
        Ok(d) => Ok((StatusCode::CREATED, Json(booking_body(&state, &d))).into_response()),
        Err(UseCaseError::Conflict("slot_taken")) => Ok(taken(
            &state,
            &ctx,
            &input.service,
            input.location.as_deref(),
            &input.start,
            Channel::Online,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn one(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    if let Some(code) = code.strip_suffix(".ics") {
        let base = state.config.public_url.clone();
        let ics = state.app.appointment_ics(tid, code, &base).await?;
        let mut r = ics.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        );
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"termin.ics\""),
        );
        return Ok(r);
    }
    let d = state.app.appointment(tid, &code).await?;
    Ok(Json(booking_body(&state, &d)).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Json<BookingBody>, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    let d = state.app.cancel_appointment(tid, &code).await?;
    Ok(Json(booking_body(&state, &d)))
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Json<BookingBody>, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    let d = state
        .app
        .confirm_appointment(tid, &code, &body.token)
        .await?;
    Ok(Json(booking_body(&state, &d)))
}

async fn move_to(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<Response, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    // An unknown code is a 404 before it counts against the address.
    state.app.appointment(tid, &code).await?;
    if !state.limiter.check_booking(client) {
        return Err(AppError::RateLimited);
    }
    match state.app.move_appointment(tid, &code, &body.start).await {
        Ok(d) => Ok(Json(booking_body(&state, &d)).into_response()),
        Err(UseCaseError::Conflict("slot_taken")) => {
            let d = state.app.appointment(tid, &code).await?;
            Ok(taken(
                &state,
                &ctx,
                &d.service.id.to_string(),
                Some(&d.location.id.to_string()),
                &body.start,
                d.booking.channel(),
            )
            .await)
        }
        Err(e) => Err(e.into()),
    }
}

async fn join_waitlist(
    State(state): State<AppState>,
    ctx: Ctx,
    Client(client): Client,
    ApiJson(body): ApiJson<WaitBody>,
) -> Result<Response, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    if !state.limiter.check_booking(client) {
        return Err(AppError::RateLimited);
    }
    let e = state
        .app
        .join_waitlist(
            tid,
            &body.service,
            body.location.as_deref(),
            &body.from,
            &body.to,
            &body.name,
            &body.email,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WaitingBody {
            code: e.code,
            status: e.status,
            from: e.from_day,
            to: e.to_day,
        }),
    )
        .into_response())
}

async fn leave_waitlist(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    let tid = ctx.tenant()?.tenant_id();
    state.app.leave_waitlist(tid, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn day(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DayParams>,
) -> Result<Json<DayListBody>, AppError> {
    let date = day_of("date", q.date.as_deref())?
        .unwrap_or_else(|| rathaus_app::appointments::local_now().date());
    let list = state.app.appointment_day(&staff.actor, &id, date).await?;
    let base = state.config.public_url.trim_end_matches('/').to_string();
    Ok(Json(DayListBody {
        location: list.location.slug.clone(),
        date,
        slots: list
            .slots
            .iter()
            .map(|s| SlotBody {
                start: s.starts_at,
                blocked: s.blocked,
                cap_online: s.cap_online,
                cap_phone: s.cap_phone,
                cap_internal: s.cap_internal,
                booked_online: s.booked_online,
                booked_phone: s.booked_phone,
                booked_internal: s.booked_internal,
            })
            .collect(),
        bookings: list
            .bookings
            .iter()
            .map(|(b, service)| DayBooking {
                id: b.id,
                email: b.email.clone(),
                phone: b.phone.clone(),
                booking: BookingBody {
                    code: b.code.clone(),
                    status: b.status().code().into(),
                    channel: b.channel().code().into(),
                    service: service.clone(),
                    location: list.location.name.clone(),
                    address: list.location.address.clone(),
                    start: b.starts_at,
                    end: b.ends_at,
                    name: b.name.clone(),
                    hold_until: b.hold_until,
                    ics_url: format!("{base}/api/v1/appointments/{}.ics", b.code),
                },
            })
            .collect(),
    }))
}

async fn staff_book(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    ctx: Ctx,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, AppError> {
    // The location's staff only: checked before the body is read.
    state.app.staff_location(&staff.actor, &id).await?;
    let body: StaffBookBody = crate::platform::json::read_json(req, &state).await?;
    let channel = match body.channel.as_deref().unwrap_or("phone") {
        "" | "phone" => Channel::Phone,
        "internal" => Channel::Internal,
        _ => {
            return Err(AppError::Validation(
                rathaus_domain::FieldError::new("channel", "appointments.channel").into(),
            ));
        }
    };
    let input = BookInput {
        service: body.service,
        location: Some(id),
        start: body.start,
        name: body.name,
        email: body.email.unwrap_or_default(),
        phone: body.phone,
        pow: None,
    };
    match state
        .app
        .book_appointment(&staff.actor, &input, channel)
        .await
    {
        Ok(d) => Ok((StatusCode::CREATED, Json(booking_body(&state, &d))).into_response()),
        Err(UseCaseError::Conflict("slot_taken")) => Ok(taken(
            &state,
            &ctx,
            &input.service,
            input.location.as_deref(),
            &input.start,
            channel,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn block(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<StatusCode, AppError> {
    state.app.staff_location(&staff.actor, &id).await?;
    let body: BlockBody = crate::platform::json::read_json(req, &state).await?;
    state
        .app
        .block_appointment_slot(&staff.actor, &id, &body.start, body.blocked)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn utilisation(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Json<UtilisationBody>, AppError> {
    use chrono::Datelike;
    let today = rathaus_app::appointments::local_now().date();
    let to = day_of("to", q.to.as_deref())?;
    let from = day_of("from", q.from.as_deref())?;
    // Defaults: this month so far; one end given, the month up to it (or from it).
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, (f + chrono::Duration::days(30)).max(f)),
        (None, Some(t)) => (t.with_day(1).unwrap_or(t), t),
        (None, None) => (today.with_day(1).unwrap_or(today), today),
    };
    let u = state
        .app
        .appointment_utilisation(&staff.actor, &id, from, to)
        .await?;
    Ok(Json(UtilisationBody {
        location: u.location.slug,
        from,
        to,
        channels: u
            .channels
            .iter()
            .map(|(c, x)| ChannelUseBody {
                channel: c.code().into(),
                capacity: x.capacity,
                booked: x.booked,
                percent: if x.capacity > 0 {
                    (x.booked as f64 * 1000.0 / x.capacity as f64).round() / 10.0
                } else {
                    0.0
                },
            })
            .collect(),
        statuses: u.statuses.into_iter().collect(),
    }))
}

async fn attendance(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttendanceBody>,
) -> Result<Json<BookingBody>, AppError> {
    let id = id_of(&id)?;
    let d = state
        .app
        .mark_attendance(&staff.actor, id, body.arrived)
        .await?;
    Ok(Json(booking_body(&state, &d)))
}

async fn staff_cancel(
    State(state): State<AppState>,
    staff: ApiStaff<RecordsStaff>,
    Path(id): Path<String>,
) -> Result<Json<BookingBody>, AppError> {
    let id = id_of(&id)?;
    let d = state.app.staff_cancel_appointment(&staff.actor, id).await?;
    Ok(Json(booking_body(&state, &d)))
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/appointments/services",
        "appointments",
        "The locations and the services bookable there (with their duration)",
        Auth::Public,
        None,
        &[("200", "The offer", Some(schema::<Offer>))],
        &[],
    ),
    op(
        "get",
        "/appointments/slots",
        "appointments",
        "Free times of a service at a location, day by day, within the booking window (online quota); each with the number of free places",
        Auth::Public,
        None,
        &[("200", "Free times", Some(schema::<SlotsBody>))],
        &[422],
    )
    .with_query(query::<SlotParams>),
    op(
        "get",
        "/appointments/challenge",
        "appointments",
        "A proof-of-work challenge (ALTCHA-compatible, SHA-256, signed by the server; valid 10 minutes, each solution good for one booking). `required` is false when the proof of work is off",
        Auth::Public,
        None,
        &[("200", "The challenge", Some(schema::<ChallengeBody>))],
        &[],
    ),
    op(
        "post",
        "/appointments",
        "appointments",
        "Book a time (online quota): with the solved challenge (`pow`), name and e-mail. The booking is `pending` until the link in the e-mail is followed (`POST /appointments/{code}/confirm`); unconfirmed it is released after 30 minutes. One open booking per service and e-mail; limits per client address and per e-mail (429). 409 when the time is gone, with the next free times",
        Auth::Public,
        Some(schema::<BookBody>),
        &[("201", "The booking", Some(schema::<BookingBody>))],
        &[409, 429],
    ),
    op(
        "get",
        "/appointments/{code}",
        "appointments",
        "A booking by its code",
        Auth::Public,
        None,
        &[("200", "The booking", Some(schema::<BookingBody>))],
        &[],
    ),
    op(
        "get",
        "/appointments/{code}.ics",
        "appointments",
        "The booking's calendar file (RFC 5545, `text/calendar`; `METHOD:CANCEL` once cancelled)",
        Auth::Public,
        None,
        &[("200", "The calendar file", None)],
        &[],
    )
    .with_raw_response("text/calendar"),
    op(
        "delete",
        "/appointments/{code}",
        "appointments",
        "Cancel a booking; the time goes to the first person on the waiting list",
        Auth::Public,
        None,
        &[("200", "The booking, cancelled", Some(schema::<BookingBody>))],
        &[409],
    ),
    op(
        "post",
        "/appointments/{code}/confirm",
        "appointments",
        "Confirm a booking with the secret of the e-mail's link (a second confirmation changes nothing)",
        Auth::Public,
        Some(schema::<ConfirmBody>),
        &[("200", "The booking, confirmed", Some(schema::<BookingBody>))],
        &[409],
    ),
    op(
        "post",
        "/appointments/{code}/move",
        "appointments",
        "Move a booking to another time of the same service and location (the new time is taken before the old one is given back); 409 when it is gone, with the next free times",
        Auth::Public,
        Some(schema::<MoveBody>),
        &[("200", "The booking at its new time", Some(schema::<BookingBody>))],
        &[409, 429],
    ),
    op(
        "post",
        "/appointments/waitlist",
        "appointments",
        "Take a place on the waiting list of a service for a range of days (only when no time is free in it: 409 otherwise). A time that becomes free is held for the first person waiting, who gets an e-mail to confirm it",
        Auth::Public,
        Some(schema::<WaitBody>),
        &[("201", "The place", Some(schema::<WaitingBody>))],
        &[409, 429],
    ),
    op(
        "delete",
        "/appointments/waitlist/{code}",
        "appointments",
        "Leave the waiting list",
        Auth::Public,
        None,
        &[("204", "Left", None)],
        &[],
    ),
    op(
        "get",
        "/appointments/locations/{id}/day",
        "appointments",
        "A location's day: its slots with capacity and bookings per channel, and its bookings (the location's clerks and Fachadministration); `id` is the location's id or slug",
        Auth::Staff,
        None,
        &[("200", "The day", Some(schema::<DayListBody>))],
        &[],
    )
    .with_query(query::<DayParams>),
    op(
        "post",
        "/appointments/locations/{id}/bookings",
        "appointments",
        "Book by phone (`phone` quota) or at the counter (`internal` quota, a longer window): confirmed at once; the e-mail is optional (the location's clerks and Fachadministration)",
        Auth::Staff,
        Some(schema::<StaffBookBody>),
        &[("201", "The booking", Some(schema::<BookingBody>))],
        &[409],
    ),
    op(
        "post",
        "/appointments/locations/{id}/blocks",
        "appointments",
        "Block a slot (nobody can book it; bookings made stay) or free it again",
        Auth::Staff,
        Some(schema::<BlockBody>),
        &[("204", "Done", None)],
        &[],
    ),
    op(
        "get",
        "/appointments/locations/{id}/utilisation",
        "appointments",
        "Utilisation per channel (capacity and bookings of the slots) and bookings per status in a range of days (at most a year)",
        Auth::Staff,
        None,
        &[("200", "The utilisation", Some(schema::<UtilisationBody>))],
        &[],
    )
    .with_query(query::<RangeParams>),
    op(
        "post",
        "/appointments/bookings/{id}/attendance",
        "appointments",
        "Check in (`arrived: true`) or mark a no-show, on the day or after it",
        Auth::Staff,
        Some(schema::<AttendanceBody>),
        &[("200", "The booking", Some(schema::<BookingBody>))],
        &[409],
    ),
    op(
        "post",
        "/appointments/bookings/{id}/cancel",
        "appointments",
        "Cancel a booking on the citizen's behalf",
        Auth::Staff,
        None,
        &[("200", "The booking, cancelled", Some(schema::<BookingBody>))],
        &[409],
    ),
];
