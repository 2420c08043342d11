//! Terminvergabe (C8): the use cases of booking an appointment, the waiting
//! list, and the staff's day at a location.
//!
//! A citizen's booking goes `held` (a time chosen, in the browser) →
//! `pending` (name and e-mail given; the e-mail with the confirmation link
//! goes out through the outbox) → `confirmed` (the link followed; the e-mail
//! with the `.ics` goes out). A hold or a confirmation that runs out is
//! released by the sweep, and the time goes to the first person on the
//! waiting list. Staff book by phone (channel `phone`) or at the counter
//! (`internal`): confirmed at once. Capacity is enforced by the database
//! (see `rathaus_storage::appointments`).
//!
//! Anonymous holds through the API need a proof of work (ALTCHA-style,
//! verified here, each solution good once); the browser without JavaScript
//! holds without one, and relies on the e-mail confirmation instead.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rathaus_domain::{
    FieldError, ValidationErrors,
    appointments::{
        self as dom, BookingAction, BookingCode, BookingStatus, BookingWindow, Challenge, Channel,
        IcsEvent, IcsMethod, Land, OpeningHours, Quotas, WaitRange,
    },
    identity::Email,
    permissions::Permission,
    tenancy::TenantId,
};
use rathaus_storage::{
    StorageError,
    appointments::{
        AppointmentRepository, BookableService, Booking, BookingChange, ChannelUse, FREED_JOB,
        Location, MAIL_JOB, NewBooking, NewLocation, Slot, WAITLIST_MAIL_JOB, WaitlistEntry,
    },
    tenancy::TenantRepository,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// How booking behaves (configuration).
#[derive(Debug, Clone)]
pub struct AppointmentConfig {
    /// The key proof-of-work challenges are signed with; `None` turns the
    /// proof of work off (`RATHAUS_BOOKING_POW=off`).
    pub pow_key: Option<[u8; 32]>,
    /// How hard the puzzle is (the largest secret number).
    pub pow_maxnumber: u64,
    /// How long a chosen time is held while name and e-mail are entered.
    pub hold_minutes: i64,
    /// How long a booking waits for its e-mail confirmation.
    pub confirm_minutes: i64,
    /// How long a time offered to the waiting list is held.
    pub offer_minutes: i64,
    /// Bookings one e-mail address may make per 24 hours.
    pub per_email_per_day: u64,
    /// Days after an appointment its name and address are forgotten.
    pub keep_days: i64,
}

impl Default for AppointmentConfig {
    fn default() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        Self {
            pow_key: Some(key),
            pow_maxnumber: dom::POW_MAXNUMBER,
            hold_minutes: 10,
            confirm_minutes: 30,
            offer_minutes: 120,
            per_email_per_day: 5,
            keep_days: 30,
        }
    }
}

/// The municipality's wall-clock time now (Europe/Berlin).
pub fn local_now() -> NaiveDateTime {
    local_of(Utc::now())
}

/// The wall-clock time (Europe/Berlin) of an instant.
pub fn local_of(t: DateTime<Utc>) -> NaiveDateTime {
    dom::utc_to_berlin(t)
}

/// A location with what can be booked there.
#[derive(Debug, Clone)]
pub struct LocationOffer {
    pub location: Location,
    pub services: Vec<BookableService>,
}

/// Free times of one day.
#[derive(Debug, Clone)]
pub struct DayTimes {
    pub day: NaiveDate,
    /// Why the location is closed that day (a public holiday), if it is.
    pub holiday: Option<&'static str>,
    pub times: Vec<FreeTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeTime {
    pub start: NaiveDateTime,
    pub free: u32,
}

/// A booking with its location and service.
#[derive(Debug, Clone)]
pub struct BookingDetails {
    pub booking: Booking,
    pub location: Location,
    pub service: BookableService,
}

/// What a citizen (or a client of the API) asks to book.
#[derive(Debug, Clone, Default)]
pub struct BookInput {
    /// The service: its id or slug.
    pub service: String,
    /// The location: its id or slug (may be left out when the service's
    /// slug names one location's service).
    pub location: Option<String>,
    /// Local start time, `YYYY-MM-DDTHH:MM`.
    pub start: String,
    pub name: String,
    pub email: String,
    /// Staff only: a telephone number to call back.
    pub phone: Option<String>,
    /// The proof-of-work solution (JSON or base64 JSON).
    pub pow: Option<String>,
}

/// A staff member's day at a location.
#[derive(Debug, Clone)]
pub struct DayList {
    pub location: Location,
    pub day: NaiveDate,
    pub slots: Vec<Slot>,
    pub bookings: Vec<(Booking, String)>,
}

/// Utilisation of a location in a range.
#[derive(Debug, Clone)]
pub struct Utilisation {
    pub location: Location,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub channels: [(Channel, ChannelUse); 3],
    pub statuses: Vec<(String, i64)>,
}

/// An e-mail about a booking (made by the mail job).
#[derive(Debug, Clone)]
pub struct AppointmentMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The calendar file to attach.
    pub ics: Option<String>,
}

fn parse_start(field: &str, s: &str) -> Result<NaiveDateTime, FieldError> {
    let s = s.trim();
    if s.len() > 40 {
        return Err(FieldError::new(field, "too_long"));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .map_err(|_| FieldError::new(field, "appointments.start"))
}

/// A day as `YYYY-MM-DD`.
pub fn parse_day(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    let s = s.trim();
    if s.len() > 20 {
        return Err(FieldError::new(field, "too_long"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| FieldError::new(field, "date.invalid"))
}

fn invalid(e: FieldError) -> UseCaseError {
    UseCaseError::Validation(ValidationErrors(vec![e]))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_code() -> BookingCode {
    let b = Uuid::new_v4();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&b.as_bytes()[..8]);
    BookingCode::from_random(bytes)
}

fn random_hex() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// What the use cases read of a location's settings.
trait LocationSettings {
    fn hours(&self) -> OpeningHours;
    fn land_(&self) -> Land;
    fn quotas(&self) -> Quotas;
    fn window(&self) -> BookingWindow;
    fn slot_len(&self) -> u32;
}

impl LocationSettings for Location {
    fn hours(&self) -> OpeningHours {
        serde_json::from_str(&self.opening_hours).unwrap_or_default()
    }
    fn land_(&self) -> Land {
        Land::parse(&self.land).unwrap_or(Land::HE)
    }
    fn quotas(&self) -> Quotas {
        Quotas {
            online: self.quota_online.clamp(0, 100) as u8,
            phone: self.quota_phone.clamp(0, 100) as u8,
            internal: self.quota_internal.clamp(0, 100) as u8,
        }
    }
    fn window(&self) -> BookingWindow {
        BookingWindow {
            public_days: self.window_days.max(1) as u32,
            internal_days: self.internal_window_days.max(self.window_days).max(1) as u32,
        }
    }
    fn slot_len(&self) -> u32 {
        self.slot_minutes.max(5) as u32
    }
}

impl App {
    // ------------------------------------------------------------------
    // Public reads
    // ------------------------------------------------------------------

    /// The active locations of the tenant with their active services.
    pub async fn appointment_offer(&self, tenant: TenantId) -> UseCaseResult<Vec<LocationOffer>> {
        let repo = self.store.repo();
        let locations = repo.appointment_locations(tenant).await?;
        let services = repo.appointment_services(tenant).await?;
        Ok(locations
            .into_iter()
            .filter(|l| l.active)
            .map(|l| LocationOffer {
                services: services
                    .iter()
                    .filter(|s| s.active && s.location_id == l.id)
                    .cloned()
                    .collect(),
                location: l,
            })
            .collect())
    }

    /// A service and its location, by id or slug.
    pub async fn bookable(
        &self,
        tenant: TenantId,
        service: &str,
        location: Option<&str>,
    ) -> UseCaseResult<(Location, BookableService)> {
        let offer = self.appointment_offer(tenant).await?;
        let wanted_location = location.map(str::trim).filter(|l| !l.is_empty());
        let mut found = offer.iter().filter(|o| {
            wanted_location.is_none_or(|w| o.location.slug == w || o.location.id.to_string() == w)
        });
        let service = service.trim();
        let hits: Vec<_> = found
            .by_ref()
            .flat_map(|o| {
                o.services
                    .iter()
                    .filter(|s| s.slug == service || s.id.to_string() == service)
                    .map(move |s| (o.location.clone(), s.clone()))
            })
            .collect();
        match hits.len() {
            1 => Ok(hits.into_iter().next().expect("one")),
            0 if wanted_location.is_some()
                && !offer.iter().any(|o| {
                    wanted_location
                        .is_some_and(|w| o.location.slug == w || o.location.id.to_string() == w)
                }) =>
            {
                Err(invalid(FieldError::new(
                    "location",
                    "appointments.location",
                )))
            }
            0 => Err(invalid(FieldError::new("service", "appointments.service"))),
            _ => Err(invalid(FieldError::new("location", "required"))),
        }
    }

    /// Makes the slots of `from..=to` that do not exist yet.
    async fn ensure_days(
        &self,
        tenant: TenantId,
        l: &Location,
        from: NaiveDate,
        to: NaiveDate,
    ) -> UseCaseResult<()> {
        let hours = l.hours();
        let mut specs = Vec::new();
        let mut d = from;
        while d <= to {
            specs.extend(dom::slots_on(
                &hours,
                l.land_(),
                d,
                l.slot_len(),
                l.counters.max(1) as u32,
                l.quotas(),
            ));
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        self.store.ensure_slots(tenant, l.id, &specs).await?;
        Ok(())
    }

    /// The free times of a service at a location for a channel, day by day,
    /// within the booking window (`from`/`to` are clamped to it; at most 62
    /// days).
    pub async fn free_times(
        &self,
        tenant: TenantId,
        location: &Location,
        service: &BookableService,
        channel: Channel,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> UseCaseResult<Vec<DayTimes>> {
        let now = local_now();
        let today = now.date();
        let (first, last) = location.window().range(channel, today);
        let from = from.unwrap_or(first).max(first);
        let to = to.unwrap_or(last).min(last).min(from + Duration::days(61));
        if to < from {
            return Ok(Vec::new());
        }
        let n = dom::slots_needed(i64::from(service.duration_minutes), location.slot_len())
            .map_err(invalid)?;
        self.ensure_days(tenant, location, from, to).await?;
        let slots = self
            .store
            .repo()
            .appointment_slots(tenant, location.id, from, to)
            .await?;
        let by_start: HashMap<NaiveDateTime, &Slot> =
            slots.iter().map(|s| (s.starts_at, s)).collect();
        let mut out: Vec<DayTimes> = Vec::new();
        let mut d = from;
        loop {
            let day_slots: Vec<NaiveDateTime> = slots
                .iter()
                .filter(|s| s.day == d)
                .map(|s| s.starts_at)
                .collect();
            let mut times = Vec::new();
            for start in dom::possible_starts(&day_slots, location.slot_len(), n) {
                if start <= now {
                    continue;
                }
                let free = (0..n)
                    .map(|k| {
                        by_start
                            .get(&(start + Duration::minutes(i64::from(k * location.slot_len()))))
                            .map_or(0, |s| s.free(channel))
                    })
                    .min()
                    .unwrap_or(0);
                if free > 0 {
                    times.push(FreeTime {
                        start,
                        free: free as u32,
                    });
                }
            }
            out.push(DayTimes {
                day: d,
                holiday: dom::holiday(location.land_(), d),
                times,
            });
            if d >= to {
                break;
            }
            d = d.succ_opt().unwrap_or(to);
        }
        Ok(out)
    }

    /// The first free times after `after` (what a booker who lost the race
    /// is shown).
    pub async fn next_free_times(
        &self,
        tenant: TenantId,
        location: &Location,
        service: &BookableService,
        channel: Channel,
        after: NaiveDateTime,
        count: usize,
    ) -> UseCaseResult<Vec<FreeTime>> {
        let days = self
            .free_times(tenant, location, service, channel, Some(after.date()), None)
            .await?;
        Ok(days
            .into_iter()
            .flat_map(|d| d.times)
            .filter(|t| t.start >= after)
            .take(count)
            .collect())
    }

    // ------------------------------------------------------------------
    // Proof of work
    // ------------------------------------------------------------------

    /// A fresh challenge (none when the proof of work is off).
    pub fn booking_challenge(&self) -> Option<Challenge> {
        let key = self.appointments.pow_key?;
        let max = self.appointments.pow_maxnumber.max(1);
        let secret =
            u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([0; 8])) % max;
        Some(dom::make_challenge(
            &key,
            &random_hex()[..24],
            secret,
            max,
            Utc::now() + Duration::minutes(10),
        ))
    }

    /// Checks a solution and uses it up; `required` makes a missing one an
    /// error.
    async fn check_pow(&self, pow: Option<&str>, required: bool) -> UseCaseResult<()> {
        let Some(key) = self.appointments.pow_key else {
            return Ok(());
        };
        let Some(payload) = pow.map(str::trim).filter(|p| !p.is_empty()) else {
            return if required {
                Err(invalid(FieldError::new("pow", "appointments.pow_required")))
            } else {
                Ok(())
            };
        };
        let s =
            dom::parse_solution(payload).map_err(|e| invalid(FieldError::new("pow", e.code())))?;
        dom::verify_solution(&key, &s, Utc::now())
            .map_err(|e| invalid(FieldError::new("pow", e.code())))?;
        let expires = Utc::now() + Duration::minutes(15);
        if !self.store.use_pow_challenge(&s.challenge, expires).await? {
            return Err(invalid(FieldError::new("pow", "appointments.pow_used")));
        }
        Ok(())
    }

    // ------------------------------------------------------------------
    // Booking
    // ------------------------------------------------------------------

    /// The staff member may work the appointments of `l`: the Fachadministration,
    /// and clerks of its org unit (or above it).
    fn require_location(&self, actor: &Actor, l: &Location) -> UseCaseResult<Uuid> {
        let staff = actor.staff().ok_or(match actor {
            Actor::Anonymous { .. } => UseCaseError::Unauthenticated,
            _ => UseCaseError::Forbidden,
        })?;
        if l.tenant_id != actor.tenant().0 {
            return Err(UseCaseError::NotFound);
        }
        if actor.require(Permission::AdministerTenant).is_ok() {
            return Ok(staff.user.id);
        }
        let scope = actor.case_scope()?;
        match l.org_unit_id {
            Some(u) if scope.contains(&u) => Ok(staff.user.id),
            _ => Err(UseCaseError::Forbidden),
        }
    }

    /// Validated time of a booking: the slot starts it covers and its end.
    fn covered(
        &self,
        l: &Location,
        s: &BookableService,
        start: NaiveDateTime,
        channel: Channel,
    ) -> UseCaseResult<(Vec<NaiveDateTime>, NaiveDateTime)> {
        let n = dom::slots_needed(i64::from(s.duration_minutes), l.slot_len()).map_err(invalid)?;
        let now = local_now();
        if start <= now || !l.window().allows(channel, now.date(), start.date()) {
            return Err(invalid(FieldError::new("start", "appointments.window")));
        }
        let step = Duration::minutes(i64::from(l.slot_len()));
        let starts: Vec<_> = (0..n).map(|k| start + step * k as i32).collect();
        Ok((starts, start + step * n as i32))
    }

    /// Stores a booking; a lost race reads as `Conflict("slot_taken")`.
    async fn store_booking(
        &self,
        tenant: TenantId,
        new: NewBooking,
        jobs: &[(&str, serde_json::Value)],
    ) -> UseCaseResult<Booking> {
        let mut new = new;
        for _ in 0..3 {
            match self.store.insert_booking(tenant, &new, jobs).await {
                Err(StorageError::Conflict("code")) => new.code = random_code().to_string(),
                Err(StorageError::Conflict("open_booking")) => {
                    return Err(invalid(FieldError::new(
                        "email",
                        "appointments.open_booking",
                    )));
                }
                other => return Ok(other?),
            }
        }
        Err(UseCaseError::Internal("no free booking code".into()))
    }

    async fn check_email_limit(&self, tenant: TenantId, email: &Email) -> UseCaseResult<()> {
        let since = Utc::now() - Duration::hours(24);
        let n = self
            .store
            .repo()
            .bookings_by_email_since(tenant, email.as_str(), since)
            .await?;
        if n >= self.appointments.per_email_per_day {
            return Err(UseCaseError::RateLimited);
        }
        Ok(())
    }

    /// Makes sure the slots of the day exist (a booking may name a time
    /// nobody listed yet).
    async fn ensure_day_of(
        &self,
        tenant: TenantId,
        l: &Location,
        start: NaiveDateTime,
    ) -> UseCaseResult<()> {
        self.ensure_days(tenant, l, start.date(), start.date())
            .await
    }

    /// Books in one step (the API; staff by phone or at the counter).
    ///
    /// Citizens and anonymous callers book online: a proof of work when it
    /// is on, name and e-mail, and the booking waits for the e-mail
    /// confirmation. Staff book into the phone (`channel` phone) or internal
    /// quota; their bookings are confirmed at once, the e-mail is optional.
    pub async fn book_appointment(
        &self,
        actor: &Actor,
        input: &BookInput,
        channel: Channel,
    ) -> UseCaseResult<BookingDetails> {
        let tenant = actor.tenant();
        let mut errors = Vec::new();
        let name = dom::parse_name(&input.name)
            .map_err(|e| errors.push(e))
            .ok();
        let staff = actor.staff().is_some();
        let email = if staff && input.email.trim().is_empty() {
            None
        } else {
            Email::parse(&input.email).map_err(|e| errors.push(e)).ok()
        };
        let start = parse_start("start", &input.start)
            .map_err(|e| errors.push(e))
            .ok();
        let phone = match input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(p)
                if p.chars().count() > 40
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +-/()".contains(c)) =>
            {
                errors.push(FieldError::new("phone", "appointments.phone"));
                None
            }
            p => p.map(str::to_string),
        };
        if !errors.is_empty() {
            return Err(UseCaseError::Validation(ValidationErrors(errors)));
        }
        let (Some(name), Some(start)) = (name, start) else {
            return Err(UseCaseError::Internal("unreachable".into()));
        };
        let (l, s) = self
            .bookable(tenant, &input.service, input.location.as_deref())
            .await?;
        let (channel, created_by, status) = if staff {
            let by = self.require_location(actor, &l)?;
            let c = if channel == Channel::Online {
                Channel::Phone
            } else {
                channel
            };
            (c, Some(by), BookingStatus::Confirmed)
        } else {
            self.check_pow(input.pow.as_deref(), true).await?;
            (Channel::Online, None, BookingStatus::Pending)
        };
        if let Some(e) = &email {
            self.check_email_limit(tenant, e).await?;
        }
        let (starts, ends_at) = self.covered(&l, &s, start, channel)?;
        self.ensure_day_of(tenant, &l, start).await?;
        let kind = if status == BookingStatus::Confirmed {
            "confirmed"
        } else {
            "confirm"
        };
        let jobs: Vec<(&str, serde_json::Value)> = if email.is_some() {
            vec![(MAIL_JOB, serde_json::json!({ "kind": kind }))]
        } else {
            vec![]
        };
        let booking = self
            .store_booking(
                tenant,
                NewBooking {
                    code: random_code().to_string(),
                    location_id: l.id,
                    service_id: s.id,
                    starts,
                    ends_at,
                    channel,
                    status,
                    name,
                    email: email.map(|e| e.as_str().to_string()),
                    phone,
                    hold_until: (status == BookingStatus::Pending)
                        .then(|| Utc::now() + Duration::minutes(self.appointments.confirm_minutes)),
                    waitlist_id: None,
                    created_by,
                },
                &jobs,
            )
            .await?;
        Ok(BookingDetails {
            booking,
            location: l,
            service: s,
        })
    }

    /// Holds a time for a few minutes (the browser's first step). A proof
    /// of work is checked when sent; without one (no JavaScript) the e-mail
    /// confirmation that follows is the check.
    pub async fn hold_appointment(
        &self,
        tenant: TenantId,
        service: &str,
        location: &str,
        start: &str,
        pow: Option<&str>,
    ) -> UseCaseResult<BookingDetails> {
        let start = parse_start("start", start).map_err(invalid)?;
        let (l, s) = self.bookable(tenant, service, Some(location)).await?;
        self.check_pow(pow, false).await?;
        let (starts, ends_at) = self.covered(&l, &s, start, Channel::Online)?;
        self.ensure_day_of(tenant, &l, start).await?;
        let booking = self
            .store_booking(
                tenant,
                NewBooking {
                    code: random_code().to_string(),
                    location_id: l.id,
                    service_id: s.id,
                    starts,
                    ends_at,
                    channel: Channel::Online,
                    status: BookingStatus::Held,
                    name: String::new(),
                    email: None,
                    phone: None,
                    hold_until: Some(
                        Utc::now() + Duration::minutes(self.appointments.hold_minutes),
                    ),
                    waitlist_id: None,
                    created_by: None,
                },
                &[],
            )
            .await?;
        Ok(BookingDetails {
            booking,
            location: l,
            service: s,
        })
    }

    /// A booking by its code.
    pub async fn appointment(&self, tenant: TenantId, code: &str) -> UseCaseResult<BookingDetails> {
        let code = BookingCode::parse(code).map_err(|_| UseCaseError::NotFound)?;
        let repo = self.store.repo();
        let booking = repo
            .booking_by_code(tenant, code.as_str())
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.details(tenant, booking).await
    }

    async fn details(&self, tenant: TenantId, booking: Booking) -> UseCaseResult<BookingDetails> {
        let repo = self.store.repo();
        let location = repo
            .appointment_location(tenant, booking.location_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let service = repo
            .appointment_service(tenant, booking.service_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok(BookingDetails {
            booking,
            location,
            service,
        })
    }

    fn step(&self, status: BookingStatus, action: BookingAction) -> UseCaseResult<BookingStatus> {
        dom::next(status, action).map_err(|e| UseCaseError::Workflow(e.code()))
    }

    /// Name and e-mail for a held time: it now waits for the e-mail
    /// confirmation.
    pub async fn give_appointment_details(
        &self,
        tenant: TenantId,
        code: &str,
        name: &str,
        email: &str,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.appointment(tenant, code).await?;
        let mut errors = Vec::new();
        let name = dom::parse_name(name).map_err(|e| errors.push(e)).ok();
        let email = Email::parse(email).map_err(|e| errors.push(e)).ok();
        if !errors.is_empty() {
            return Err(UseCaseError::Validation(ValidationErrors(errors)));
        }
        let (Some(name), Some(email)) = (name, email) else {
            return Err(UseCaseError::Internal("unreachable".into()));
        };
        let to = self.step(d.booking.status(), BookingAction::GiveDetails)?;
        self.check_email_limit(tenant, &email).await?;
        let booking = self
            .store
            .change_booking(
                tenant,
                d.booking.id,
                d.booking.status(),
                to,
                BookingChange::Details {
                    name,
                    email: email.as_str().to_string(),
                    hold_until: Utc::now() + Duration::minutes(self.appointments.confirm_minutes),
                },
                &[(MAIL_JOB, serde_json::json!({ "kind": "confirm" }))],
            )
            .await
            .map_err(|e| match e {
                StorageError::Conflict(f) if f != "booking_changed" => {
                    invalid(FieldError::new("email", "appointments.open_booking"))
                }
                e => e.into(),
            })?;
        Ok(BookingDetails { booking, ..d })
    }

    /// The e-mail link followed: the booking is confirmed. A second click
    /// changes nothing.
    pub async fn confirm_appointment(
        &self,
        tenant: TenantId,
        code: &str,
        token: &str,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.appointment(tenant, code).await?;
        let token = token.trim();
        if token.is_empty() || token.chars().count() > 200 {
            return Err(invalid(FieldError::new("token", "appointments.token")));
        }
        let status = d.booking.status();
        if status == BookingStatus::Confirmed {
            return Ok(d);
        }
        let ok = d
            .booking
            .confirm_hash
            .as_deref()
            .is_some_and(|h| constant_eq(h, &sha256_hex(token)));
        if !ok {
            return Err(invalid(FieldError::new("token", "appointments.token")));
        }
        let to = self.step(status, BookingAction::Confirm)?;
        let booking = self
            .store
            .change_booking(
                tenant,
                d.booking.id,
                status,
                to,
                BookingChange::Confirm,
                &[(MAIL_JOB, serde_json::json!({ "kind": "confirmed" }))],
            )
            .await?;
        Ok(BookingDetails { booking, ..d })
    }

    /// Cancels a booking (by its code; staff by id through
    /// [`App::staff_cancel_appointment`]). The time goes to the waiting list.
    pub async fn cancel_appointment(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.appointment(tenant, code).await?;
        self.free_booking(tenant, d, BookingAction::Cancel).await
    }

    async fn free_booking(
        &self,
        tenant: TenantId,
        d: BookingDetails,
        action: BookingAction,
    ) -> UseCaseResult<BookingDetails> {
        let status = d.booking.status();
        let to = self.step(status, action)?;
        let mut jobs = vec![(
            FREED_JOB,
            serde_json::json!({
                "location": d.booking.location_id,
                "service": d.booking.service_id,
                "day": d.booking.starts_at.date(),
            }),
        )];
        if d.booking.email.is_some()
            && matches!(status, BookingStatus::Pending | BookingStatus::Confirmed)
        {
            let kind = if action == BookingAction::Release {
                "released"
            } else {
                "cancelled"
            };
            jobs.push((MAIL_JOB, serde_json::json!({ "kind": kind })));
        }
        let booking = self
            .store
            .change_booking(tenant, d.booking.id, status, to, BookingChange::Free, &jobs)
            .await?;
        Ok(BookingDetails { booking, ..d })
    }

    /// Moves a booking to another time of the same service and location
    /// (the new time is taken before the old one is given back).
    pub async fn move_appointment(
        &self,
        tenant: TenantId,
        code: &str,
        start: &str,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.appointment(tenant, code).await?;
        let start = parse_start("start", start).map_err(invalid)?;
        let status = d.booking.status();
        let to = self.step(status, BookingAction::Move)?;
        if start == d.booking.starts_at {
            return Ok(d);
        }
        let (starts, ends_at) =
            self.covered(&d.location, &d.service, start, d.booking.channel())?;
        self.ensure_day_of(tenant, &d.location, start).await?;
        let mut jobs = vec![(
            FREED_JOB,
            serde_json::json!({
                "location": d.booking.location_id,
                "service": d.booking.service_id,
                "day": d.booking.starts_at.date(),
            }),
        )];
        if d.booking.email.is_some() && status == BookingStatus::Confirmed {
            jobs.push((MAIL_JOB, serde_json::json!({ "kind": "moved" })));
        }
        let booking = self
            .store
            .change_booking(
                tenant,
                d.booking.id,
                status,
                to,
                BookingChange::Move { starts, ends_at },
                &jobs,
            )
            .await?;
        Ok(BookingDetails { booking, ..d })
    }

    /// The booking's calendar file (RFC 5545).
    pub async fn appointment_ics(
        &self,
        tenant: TenantId,
        code: &str,
        base_url: &str,
    ) -> UseCaseResult<String> {
        let d = self.appointment(tenant, code).await?;
        if !d.booking.status().occupies() && d.booking.status() != BookingStatus::Cancelled {
            return Err(UseCaseError::NotFound);
        }
        let tenant_name = self
            .store
            .repo()
            .tenant(tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        Ok(ics_of(&d, &tenant_name, base_url))
    }

    // ------------------------------------------------------------------
    // Waiting list
    // ------------------------------------------------------------------

    /// Puts a person on the waiting list of a service — only when no time
    /// is free in the range they ask for.
    #[allow(clippy::too_many_arguments)]
    pub async fn join_waitlist(
        &self,
        tenant: TenantId,
        service: &str,
        location: Option<&str>,
        from: &str,
        to: &str,
        name: &str,
        email: &str,
    ) -> UseCaseResult<WaitlistEntry> {
        let (l, s) = self.bookable(tenant, service, location).await?;
        let today = local_now().date();
        let mut errors = Vec::new();
        let range = WaitRange::parse(from, to, today, l.window())
            .map_err(|e| errors.extend(e.0))
            .ok();
        let name = dom::parse_name(name).map_err(|e| errors.push(e)).ok();
        let email = Email::parse(email).map_err(|e| errors.push(e)).ok();
        if !errors.is_empty() {
            return Err(UseCaseError::Validation(ValidationErrors(errors)));
        }
        let (Some(range), Some(name), Some(email)) = (range, name, email) else {
            return Err(UseCaseError::Internal("unreachable".into()));
        };
        let free = self
            .free_times(
                tenant,
                &l,
                &s,
                Channel::Online,
                Some(range.from),
                Some(range.to),
            )
            .await?;
        if free.iter().any(|d| !d.times.is_empty()) {
            return Err(UseCaseError::Conflict("times_free"));
        }
        let now = Utc::now();
        let entry = WaitlistEntry {
            id: Uuid::now_v7(),
            tenant_id: tenant.0,
            code: random_code().to_string(),
            location_id: l.id,
            service_id: s.id,
            name,
            email: email.as_str().to_string(),
            from_day: range.from,
            to_day: range.to,
            status: "waiting".into(),
            booking_id: None,
            created_at: now,
            updated_at: now,
        };
        let saved = self
            .store
            .insert_waitlist(
                tenant,
                entry,
                &[(WAITLIST_MAIL_JOB, serde_json::json!({ "kind": "joined" }))],
            )
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => {
                    invalid(FieldError::new("email", "appointments.open_wait"))
                }
                e => e.into(),
            })?;
        Ok(saved)
    }

    /// A place on the waiting list by its code.
    pub async fn waitlist_entry(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> UseCaseResult<WaitlistEntry> {
        let code = BookingCode::parse(code).map_err(|_| UseCaseError::NotFound)?;
        self.store
            .repo()
            .waitlist_by_code(tenant, code.as_str())
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// Leaves the waiting list.
    pub async fn leave_waitlist(&self, tenant: TenantId, code: &str) -> UseCaseResult<()> {
        let e = self.waitlist_entry(tenant, code).await?;
        self.store.end_waitlist(tenant, e.id).await?;
        Ok(())
    }

    /// A time became free on `day`: the first people waiting for the
    /// service get a free time in their range, each held for them (the job
    /// `appointment.freed`). Returns how many were offered a time.
    pub async fn offer_freed_time(
        &self,
        tenant: TenantId,
        service: Uuid,
        day: NaiveDate,
    ) -> UseCaseResult<u32> {
        let repo = self.store.repo();
        let Some(s) = repo.appointment_service(tenant, service).await? else {
            return Ok(0);
        };
        let Some(l) = repo.appointment_location(tenant, s.location_id).await? else {
            return Ok(0);
        };
        let mut offered = 0;
        for entry in self.store.waiting_for(tenant, service, day).await? {
            let times = self
                .free_times(
                    tenant,
                    &l,
                    &s,
                    Channel::Online,
                    Some(entry.from_day),
                    Some(entry.to_day),
                )
                .await?;
            let Some(t) = times
                .iter()
                .flat_map(|d| d.times.iter())
                .find(|t| t.start.date() == day)
                .or_else(|| times.iter().flat_map(|d| d.times.iter()).next())
                .copied()
            else {
                break;
            };
            let Ok((starts, ends_at)) = self.covered(&l, &s, t.start, Channel::Online) else {
                continue;
            };
            let r = self
                .store_booking(
                    tenant,
                    NewBooking {
                        code: random_code().to_string(),
                        location_id: l.id,
                        service_id: s.id,
                        starts,
                        ends_at,
                        channel: Channel::Online,
                        status: BookingStatus::Pending,
                        name: entry.name.clone(),
                        email: Some(entry.email.clone()),
                        phone: None,
                        hold_until: Some(
                            Utc::now() + Duration::minutes(self.appointments.offer_minutes),
                        ),
                        waitlist_id: Some(entry.id),
                        created_by: None,
                    },
                    &[(MAIL_JOB, serde_json::json!({ "kind": "offer" }))],
                )
                .await;
            match r {
                Ok(_) => offered += 1,
                Err(UseCaseError::Conflict("slot_taken")) => break,
                // The address booked the service meanwhile: it needs no offer.
                Err(UseCaseError::Validation(_)) => {
                    self.store.end_waitlist(tenant, entry.id).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(offered)
    }

    // ------------------------------------------------------------------
    // The sweep
    // ------------------------------------------------------------------

    /// Releases holds and confirmations that ran out (their times go to the
    /// waiting list), enqueues tomorrow's reminders, forgets what is no
    /// longer needed. Returns how many holds were released.
    pub async fn sweep_appointments(&self) -> UseCaseResult<u32> {
        let mut released = 0;
        for b in self.store.expired_holds(Utc::now(), 500).await? {
            let tenant = TenantId(b.tenant_id);
            let d = self.details(tenant, b).await?;
            match self.free_booking(tenant, d, BookingAction::Release).await {
                Ok(_) => released += 1,
                Err(UseCaseError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let today = local_now().date();
        let tomorrow = today.succ_opt().unwrap_or(today);
        let start = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.store
            .due_reminders(start, start + Duration::days(1))
            .await?;
        let before = (today - Duration::days(self.appointments.keep_days))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        self.store.forget_appointments(Utc::now(), before).await?;
        Ok(released)
    }

    /// The e-mail the job `appointment.mail` sends (none when the booking
    /// no longer needs it). For `confirm` and `offer` the link's secret is
    /// made here and only its hash stored.
    pub async fn appointment_mail(
        &self,
        tenant: TenantId,
        booking: Uuid,
        kind: &str,
        base_url: &str,
    ) -> UseCaseResult<Option<AppointmentMail>> {
        let Some(b) = self.store.repo().booking(tenant, booking).await? else {
            return Ok(None);
        };
        let Some(to) = b.email.clone() else {
            return Ok(None);
        };
        let d = self.details(tenant, b).await?;
        let tenant_name = self
            .store
            .repo()
            .tenant(tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let base = base_url.trim_end_matches('/');
        let code = d.booking.code.clone();
        let when = format!(
            "{} um {} Uhr",
            d.booking.starts_at.format("%d.%m.%Y"),
            d.booking.starts_at.format("%H:%M")
        );
        let what = format!(
            "{} – {}, {}",
            d.service.name, d.location.name, d.location.address
        );
        let manage = format!("{base}/termine/buchung/{code}");
        let status = d.booking.status();
        let (subject, body, ics) = match kind {
            "confirm" | "offer" => {
                if status != BookingStatus::Pending {
                    return Ok(None);
                }
                let secret = random_hex();
                if !self
                    .store
                    .set_confirm_hash(tenant, d.booking.id, &sha256_hex(&secret))
                    .await?
                {
                    return Ok(None);
                }
                let until = d
                    .booking
                    .hold_until
                    .map(|t| local_of(t).format("%H:%M").to_string())
                    .unwrap_or_default();
                let link = format!("{base}/termine/buchung/{code}/bestaetigen/{secret}");
                let intro = if kind == "offer" {
                    "ein Termin ist frei geworden, auf den Sie gewartet haben. Wir halten ihn für Sie"
                } else {
                    "Sie haben einen Termin gewählt. Wir halten ihn für Sie"
                };
                (
                    format!("Termin bestätigen – {tenant_name}"),
                    format!(
                        "Guten Tag {name},\n\n{intro}: {what}, am {when}.\n\n\
                         Bitte bestätigen Sie ihn bis {until} Uhr mit diesem Link:\n{link}\n\n\
                         Ohne Bestätigung wird der Termin wieder freigegeben.\n\
                         Buchungscode: {code}\n\n\
                         Please confirm your appointment ({when}) with the link above by {until}; \
                         without confirmation it is released again.\n\n-- \n{tenant_name}\n",
                        name = d.booking.name
                    ),
                    None,
                )
            }
            "confirmed" | "moved" | "reminder" => {
                if status != BookingStatus::Confirmed {
                    return Ok(None);
                }
                let (subject, intro) = match kind {
                    "confirmed" => ("Terminbestätigung", "Ihr Termin ist gebucht"),
                    "moved" => ("Termin verlegt", "Ihr Termin ist verlegt"),
                    _ => (
                        "Erinnerung an Ihren Termin",
                        "wir erinnern Sie an Ihren Termin morgen",
                    ),
                };
                (
                    format!("{subject} – {tenant_name}"),
                    format!(
                        "Guten Tag {name},\n\n{intro}: {what}, am {when}.\n\
                         Buchungscode: {code}\n\n\
                         Den Termin ändern oder absagen: {manage}\n\
                         Die Kalenderdatei hängt an.\n\n\
                         Your appointment: {when}. Change or cancel it at the link above; \
                         the calendar file is attached.\n\n-- \n{tenant_name}\n",
                        name = d.booking.name
                    ),
                    Some(ics_of(&d, &tenant_name, base)),
                )
            }
            "cancelled" | "released" => {
                let intro = if kind == "released" {
                    "Ihr Termin wurde nicht bestätigt und ist wieder freigegeben"
                } else {
                    "Ihr Termin ist abgesagt"
                };
                (
                    format!("Termin abgesagt – {tenant_name}"),
                    format!(
                        "Guten Tag {name},\n\n{intro}: {what}, am {when}.\n\
                         Einen neuen Termin buchen Sie unter {base}/termine\n\n\
                         Your appointment of {when} is cancelled.\n\n-- \n{tenant_name}\n",
                        name = d.booking.name
                    ),
                    (kind == "cancelled").then(|| ics_of(&d, &tenant_name, base)),
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(AppointmentMail {
            to,
            subject,
            body,
            ics,
        }))
    }

    /// The e-mail about a place on the waiting list.
    pub async fn waitlist_mail(
        &self,
        tenant: TenantId,
        entry: Uuid,
        base_url: &str,
    ) -> UseCaseResult<Option<AppointmentMail>> {
        let repo = self.store.repo();
        let Some(e) = repo.waitlist_entry(tenant, entry).await? else {
            return Ok(None);
        };
        let Some(s) = repo.appointment_service(tenant, e.service_id).await? else {
            return Ok(None);
        };
        let tenant_name = repo
            .tenant(tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let base = base_url.trim_end_matches('/');
        Ok(Some(AppointmentMail {
            to: e.email.clone(),
            subject: format!("Warteliste: {} – {tenant_name}", s.name),
            body: format!(
                "Guten Tag {name},\n\nSie stehen auf der Warteliste für „{service}“ \
                 vom {from} bis {to}. Wird ein Termin frei, halten wir ihn für Sie und \
                 schreiben Ihnen.\n\nVon der Warteliste abmelden: {base}/termine/warteliste/{code}\n\n\
                 You are on the waiting list; when a time becomes free we hold it for you and \
                 write to you.\n\n-- \n{tenant_name}\n",
                name = e.name,
                service = s.name,
                from = e.from_day.format("%d.%m.%Y"),
                to = e.to_day.format("%d.%m.%Y"),
                code = e.code,
            ),
            ics: None,
        }))
    }

    // ------------------------------------------------------------------
    // Staff
    // ------------------------------------------------------------------

    /// The locations the staff member works.
    pub async fn staff_locations(&self, actor: &Actor) -> UseCaseResult<Vec<Location>> {
        let tenant = actor.tenant();
        let all = self.store.repo().appointment_locations(tenant).await?;
        let mine: Vec<_> = all
            .into_iter()
            .filter(|l| self.require_location(actor, l).is_ok())
            .collect();
        if mine.is_empty() {
            // Anonymous is 401, a staff member without any location 403.
            actor.staff().ok_or(UseCaseError::Unauthenticated)?;
            if actor.require(Permission::WorkCases).is_err()
                && actor.require(Permission::AdministerTenant).is_err()
            {
                return Err(UseCaseError::Forbidden);
            }
        }
        Ok(mine)
    }

    /// A location the staff member works, by id or slug.
    pub async fn staff_location(&self, actor: &Actor, location: &str) -> UseCaseResult<Location> {
        actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let l = match Uuid::parse_str(location) {
            Ok(id) => repo.appointment_location(tenant, id).await?,
            Err(_) => repo.appointment_location_by_slug(tenant, location).await?,
        }
        .ok_or(UseCaseError::NotFound)?;
        self.require_location(actor, &l)?;
        Ok(l)
    }

    /// The day list of a location: its slots and bookings.
    pub async fn appointment_day(
        &self,
        actor: &Actor,
        location: &str,
        day: NaiveDate,
    ) -> UseCaseResult<DayList> {
        let l = self.staff_location(actor, location).await?;
        let tenant = actor.tenant();
        self.ensure_days(tenant, &l, day, day).await?;
        let repo = self.store.repo();
        let slots = repo.appointment_slots(tenant, l.id, day, day).await?;
        let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        let services: HashMap<Uuid, String> = repo
            .appointment_services(tenant)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let bookings = repo
            .bookings_between(tenant, l.id, start, start + Duration::days(1))
            .await?
            .into_iter()
            .filter(|b| b.status().occupies())
            .map(|b| {
                let name = services.get(&b.service_id).cloned().unwrap_or_default();
                (b, name)
            })
            .collect();
        Ok(DayList {
            location: l,
            day,
            slots,
            bookings,
        })
    }

    async fn staff_booking(&self, actor: &Actor, id: Uuid) -> UseCaseResult<BookingDetails> {
        actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        if actor.require(Permission::AdministerTenant).is_err() {
            actor.require(Permission::WorkCases)?;
        }
        let tenant = actor.tenant();
        let b = self
            .store
            .repo()
            .booking(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let d = self.details(tenant, b).await?;
        self.require_location(actor, &d.location)
            .map_err(|_| UseCaseError::NotFound)?;
        Ok(d)
    }

    /// Check-in (`true`) or no-show (`false`) on the day of the appointment.
    pub async fn mark_attendance(
        &self,
        actor: &Actor,
        id: Uuid,
        arrived: bool,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.staff_booking(actor, id).await?;
        let action = if arrived {
            BookingAction::CheckIn
        } else {
            BookingAction::NoShow
        };
        let status = d.booking.status();
        let to = self.step(status, action)?;
        if d.booking.starts_at.date() > local_now().date() {
            return Err(UseCaseError::Workflow("appointments.not_yet"));
        }
        let booking = self
            .store
            .change_booking(
                actor.tenant(),
                id,
                status,
                to,
                BookingChange::Attendance,
                &[],
            )
            .await?;
        Ok(BookingDetails { booking, ..d })
    }

    /// Cancels a booking on the citizen's behalf (a phone call).
    pub async fn staff_cancel_appointment(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> UseCaseResult<BookingDetails> {
        let d = self.staff_booking(actor, id).await?;
        self.free_booking(actor.tenant(), d, BookingAction::Cancel)
            .await
    }

    /// Blocks (or frees again) one slot of a location: nobody can book it;
    /// bookings already made stay.
    pub async fn block_appointment_slot(
        &self,
        actor: &Actor,
        location: &str,
        start: &str,
        blocked: bool,
    ) -> UseCaseResult<()> {
        let l = self.staff_location(actor, location).await?;
        let start = parse_start("start", start).map_err(invalid)?;
        self.ensure_day_of(actor.tenant(), &l, start).await?;
        if !self
            .store
            .block_slot(actor.tenant(), l.id, start, blocked)
            .await?
        {
            return Err(invalid(FieldError::new("start", "appointments.no_slot")));
        }
        Ok(())
    }

    /// Utilisation per channel of a location over a range (at most a year).
    pub async fn appointment_utilisation(
        &self,
        actor: &Actor,
        location: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> UseCaseResult<Utilisation> {
        let l = self.staff_location(actor, location).await?;
        if to < from || to - from > Duration::days(366) {
            return Err(invalid(FieldError::new("from", "appointments.range")));
        }
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let channels = repo.utilisation(tenant, l.id, from, to).await?;
        let statuses = repo
            .booking_counts(
                tenant,
                l.id,
                from.and_hms_opt(0, 0, 0).unwrap_or_default(),
                (to + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            )
            .await?;
        Ok(Utilisation {
            location: l,
            from,
            to,
            channels,
            statuses,
        })
    }

    /// Creates or changes a location (the Fachadministration; the demo).
    pub async fn save_appointment_location(
        &self,
        actor: &Actor,
        new: NewLocation,
    ) -> UseCaseResult<Location> {
        actor.require(Permission::AdministerTenant)?;
        let mut errors = Vec::new();
        let slot = dom::check_slot_minutes(i64::from(new.slot_minutes))
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(e) = Quotas::parse(
            i64::from(new.quotas.0),
            i64::from(new.quotas.1),
            i64::from(new.quotas.2),
        ) {
            errors.extend(e.0);
        }
        if let Err(e) = BookingWindow::parse(
            i64::from(new.window_days),
            i64::from(new.internal_window_days),
        ) {
            errors.extend(e.0);
        }
        if Land::parse(&new.land).is_none() {
            errors.push(FieldError::new("land", "appointments.land"));
        }
        if !(1..=50).contains(&new.counters) {
            errors.push(FieldError::new("counters", "appointments.counters"));
        }
        match serde_json::from_str::<OpeningHours>(&new.opening_hours) {
            Ok(h) => {
                if let Some(slot) = slot
                    && let Err(e) = h.check(slot)
                {
                    errors.extend(e.0);
                }
            }
            Err(_) => errors.push(FieldError::new("opening_hours", "appointments.hours")),
        }
        if !errors.is_empty() {
            return Err(UseCaseError::Validation(ValidationErrors(errors)));
        }
        Ok(self
            .store
            .save_location(actor.tenant(), &new, local_now().date())
            .await?)
    }

    /// Creates or changes a bookable service of a location.
    pub async fn save_appointment_service(
        &self,
        actor: &Actor,
        location: Uuid,
        slug: &str,
        name: &str,
        duration_minutes: i64,
    ) -> UseCaseResult<BookableService> {
        actor.require(Permission::AdministerTenant)?;
        let l = self
            .store
            .repo()
            .appointment_location(actor.tenant(), location)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        dom::slots_needed(duration_minutes, l.slot_len()).map_err(invalid)?;
        Ok(self
            .store
            .save_appointment_service(actor.tenant(), l.id, slug, name, duration_minutes as i32)
            .await?)
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The calendar file of a booking.
pub fn ics_of(d: &BookingDetails, tenant_name: &str, base_url: &str) -> String {
    let b = &d.booking;
    let base = base_url.trim_end_matches('/');
    let cancelled = !b.status().occupies();
    dom::ics(
        if cancelled {
            IcsMethod::Cancel
        } else {
            IcsMethod::Publish
        },
        &IcsEvent {
            uid: format!("{}@rathaus", b.id),
            start: b.starts_at,
            end: b.ends_at,
            summary: format!("{} – {}", d.service.name, tenant_name),
            location: format!("{}, {}", d.location.name, d.location.address),
            description: format!(
                "Buchungscode: {}\nÄndern oder absagen: {base}/termine/buchung/{}",
                b.code, b.code
            ),
            url: Some(format!("{base}/termine/buchung/{}", b.code)),
            sequence: b.sequence.max(0) as u32,
            cancelled,
            stamp: b.updated_at,
            organizer: None,
        },
    )
}
