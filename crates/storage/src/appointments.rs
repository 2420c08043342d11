//! Terminvergabe (C8): locations, bookable services, the slot grid with
//! capacity per channel, bookings and the waiting list.
//!
//! **Never overbooked.** A slot row holds `cap_<channel>` and
//! `booked_<channel>`. A booking raises `booked_<channel>` of each slot it
//! covers with one conditional `UPDATE … SET booked = booked + 1 WHERE
//! booked < cap AND NOT blocked`, in the write transaction that inserts the
//! booking; if fewer rows than slots were raised, the transaction is rolled
//! back and the time is gone (`Conflict("slot_taken")`). On SQLite the write
//! transaction holds the database's write lock; on PostgreSQL the row lock
//! of the `UPDATE` makes a concurrent booker re-read the row and see it full.
//! A `CHECK` constraint on the table refuses an overbooked row besides.
//! The same text runs on both.
//!
//! Slots are made from the opening hours when first asked for
//! ([`Store::ensure_slots`], `INSERT … ON CONFLICT DO NOTHING`), so a change
//! of the hours applies to days not yet made; [`Store::save_location`]
//! removes the future slots nobody booked, so they are made anew.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rathaus_domain::{
    appointments::{BookingStatus, Channel, SlotSpec},
    tenancy::TenantId,
};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, QueryOrder, QuerySelect, TransactionTrait,
    prelude::*,
    sea_query::{Alias, ExprTrait},
};

use crate::{
    Repo, Result, StorageError, Store,
    entities::{
        appointment_booking, appointment_location, appointment_pow_used, appointment_service,
        appointment_slot, appointment_waitlist,
    },
    outbox::OutboxRepository,
};

pub type Location = appointment_location::Model;
pub type BookableService = appointment_service::Model;
pub type Slot = appointment_slot::Model;
pub type Booking = appointment_booking::Model;
pub type WaitlistEntry = appointment_waitlist::Model;

/// `appointment.mail {"booking", "kind"}`: an e-mail about a booking
/// (`confirm`, `confirmed`, `moved`, `cancelled`, `reminder`, `offer`).
pub const MAIL_JOB: &str = "appointment.mail";
/// `appointment.freed {"location", "service", "day"}`: a time became free;
/// the first person waiting for it gets it.
pub const FREED_JOB: &str = "appointment.freed";
/// `appointments.sweep {}`: releases holds that ran out, sends tomorrow's
/// reminders, forgets used proof-of-work challenges and old personal data.
pub const SWEEP_JOB: &str = "appointments.sweep";
/// `appointment.waitlist_mail {"entry", "kind"}`: an e-mail about a place on
/// the waiting list (`joined`).
pub const WAITLIST_MAIL_JOB: &str = "appointment.waitlist_mail";

impl appointment_booking::Model {
    /// The status (an unknown stored value reads as `Released`, which
    /// occupies nothing and allows nothing).
    pub fn status(&self) -> BookingStatus {
        BookingStatus::parse(&self.status).unwrap_or(BookingStatus::Released)
    }

    pub fn channel(&self) -> Channel {
        Channel::parse(&self.channel).unwrap_or(Channel::Online)
    }

    /// The starts of the slots the booking covers.
    pub fn slot_starts(&self) -> Vec<NaiveDateTime> {
        let n = Ord::max(self.slots, 1);
        let step = (self.ends_at - self.starts_at) / n;
        (0..n).map(|k| self.starts_at + step * k).collect()
    }
}

impl appointment_slot::Model {
    pub fn cap(&self, c: Channel) -> i32 {
        match c {
            Channel::Online => self.cap_online,
            Channel::Phone => self.cap_phone,
            Channel::Internal => self.cap_internal,
        }
    }

    pub fn booked(&self, c: Channel) -> i32 {
        match c {
            Channel::Online => self.booked_online,
            Channel::Phone => self.booked_phone,
            Channel::Internal => self.booked_internal,
        }
    }

    /// Free places for `c` (none when blocked).
    pub fn free(&self, c: Channel) -> i32 {
        if self.blocked {
            0
        } else {
            Ord::max(self.cap(c) - self.booked(c), 0)
        }
    }
}

/// A location as the Fachadministration sets it.
#[derive(Debug, Clone)]
pub struct NewLocation {
    pub slug: String,
    pub name: String,
    pub address: String,
    pub org_unit_id: Option<Uuid>,
    pub land: String,
    pub slot_minutes: i32,
    pub counters: i32,
    pub quotas: (i32, i32, i32),
    pub window_days: i32,
    pub internal_window_days: i32,
    /// JSON of the opening hours (checked by the caller).
    pub opening_hours: String,
}

/// A booking to store: the slots it covers are raised in the same
/// transaction.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub code: String,
    pub location_id: Uuid,
    pub service_id: Uuid,
    pub starts: Vec<NaiveDateTime>,
    pub ends_at: NaiveDateTime,
    pub channel: Channel,
    pub status: BookingStatus,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub hold_until: Option<DateTime<Utc>>,
    pub waitlist_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

/// What a change of a booking does besides its status.
#[derive(Debug, Clone)]
pub enum BookingChange {
    /// Name and e-mail given (held → pending); the hold is extended.
    Details {
        name: String,
        email: String,
        hold_until: DateTime<Utc>,
    },
    /// The e-mail link was followed (pending → confirmed).
    Confirm,
    /// Cancelled or released: its slots are lowered again.
    Free,
    /// Checked in or no-show.
    Attendance,
    /// Another time: the new slots are raised (or the change fails with
    /// `slot_taken`), the old ones lowered; the calendar sequence grows.
    Move {
        starts: Vec<NaiveDateTime>,
        ends_at: NaiveDateTime,
    },
}

/// Utilisation of a location's slots per channel (sums over a range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelUse {
    pub capacity: i64,
    pub booked: i64,
}

#[allow(async_fn_in_trait)]
pub trait AppointmentRepository {
    async fn appointment_locations(&self, tenant: TenantId) -> Result<Vec<Location>>;
    async fn appointment_location(&self, tenant: TenantId, id: Uuid) -> Result<Option<Location>>;
    async fn appointment_location_by_slug(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> Result<Option<Location>>;
    /// Every bookable service of the tenant (all locations), by name.
    async fn appointment_services(&self, tenant: TenantId) -> Result<Vec<BookableService>>;
    async fn appointment_service(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<BookableService>>;
    /// The slots of a location from `from` to `to` (inclusive), by start.
    async fn appointment_slots(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Slot>>;
    async fn booking(&self, tenant: TenantId, id: Uuid) -> Result<Option<Booking>>;
    async fn booking_by_code(&self, tenant: TenantId, code: &str) -> Result<Option<Booking>>;
    /// The bookings of a location that start between `from` and `to`, by
    /// start (the day list).
    async fn bookings_between(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Booking>>;
    /// How many bookings an address made since `since` (the per-address limit).
    async fn bookings_by_email_since(
        &self,
        tenant: TenantId,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64>;
    async fn waitlist_entry(&self, tenant: TenantId, id: Uuid) -> Result<Option<WaitlistEntry>>;
    async fn waitlist_by_code(&self, tenant: TenantId, code: &str)
    -> Result<Option<WaitlistEntry>>;
    /// The people waiting for a service, first come first.
    async fn waitlist_of(&self, tenant: TenantId, service: Uuid) -> Result<Vec<WaitlistEntry>>;
    /// Capacity and bookings per channel of a location's slots in a range.
    async fn utilisation(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<[(Channel, ChannelUse); 3]>;
    /// Bookings per status that start in a range (check-ins, no-shows …).
    async fn booking_counts(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<(String, i64)>>;
}

impl<C: ConnectionTrait> AppointmentRepository for Repo<'_, C> {
    async fn appointment_locations(&self, tenant: TenantId) -> Result<Vec<Location>> {
        Ok(appointment_location::Entity::find()
            .filter(appointment_location::Column::TenantId.eq(tenant.0))
            .order_by_asc(appointment_location::Column::Name)
            .limit(1000)
            .all(self.0)
            .await?)
    }

    async fn appointment_location(&self, tenant: TenantId, id: Uuid) -> Result<Option<Location>> {
        Ok(appointment_location::Entity::find_by_id(id)
            .filter(appointment_location::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn appointment_location_by_slug(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> Result<Option<Location>> {
        Ok(appointment_location::Entity::find()
            .filter(appointment_location::Column::TenantId.eq(tenant.0))
            .filter(appointment_location::Column::Slug.eq(slug))
            .one(self.0)
            .await?)
    }

    async fn appointment_services(&self, tenant: TenantId) -> Result<Vec<BookableService>> {
        Ok(appointment_service::Entity::find()
            .filter(appointment_service::Column::TenantId.eq(tenant.0))
            .order_by_asc(appointment_service::Column::Name)
            .limit(10_000)
            .all(self.0)
            .await?)
    }

    async fn appointment_service(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<BookableService>> {
        Ok(appointment_service::Entity::find_by_id(id)
            .filter(appointment_service::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn appointment_slots(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Slot>> {
        Ok(appointment_slot::Entity::find()
            .filter(appointment_slot::Column::TenantId.eq(tenant.0))
            .filter(appointment_slot::Column::LocationId.eq(location))
            .filter(appointment_slot::Column::Day.gte(from))
            .filter(appointment_slot::Column::Day.lte(to))
            .order_by_asc(appointment_slot::Column::StartsAt)
            .limit(50_000)
            .all(self.0)
            .await?)
    }

    async fn booking(&self, tenant: TenantId, id: Uuid) -> Result<Option<Booking>> {
        Ok(appointment_booking::Entity::find_by_id(id)
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn booking_by_code(&self, tenant: TenantId, code: &str) -> Result<Option<Booking>> {
        Ok(appointment_booking::Entity::find()
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .filter(appointment_booking::Column::Code.eq(code))
            .one(self.0)
            .await?)
    }

    async fn bookings_between(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Booking>> {
        Ok(appointment_booking::Entity::find()
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .filter(appointment_booking::Column::LocationId.eq(location))
            .filter(appointment_booking::Column::StartsAt.gte(from))
            .filter(appointment_booking::Column::StartsAt.lt(to))
            .order_by_asc(appointment_booking::Column::StartsAt)
            .order_by_asc(appointment_booking::Column::CreatedAt)
            .limit(10_000)
            .all(self.0)
            .await?)
    }

    async fn bookings_by_email_since(
        &self,
        tenant: TenantId,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(appointment_booking::Entity::find()
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .filter(appointment_booking::Column::Email.eq(email))
            .filter(appointment_booking::Column::CreatedAt.gte(since))
            .count(self.0)
            .await?)
    }

    async fn waitlist_entry(&self, tenant: TenantId, id: Uuid) -> Result<Option<WaitlistEntry>> {
        Ok(appointment_waitlist::Entity::find_by_id(id)
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn waitlist_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<WaitlistEntry>> {
        Ok(appointment_waitlist::Entity::find()
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .filter(appointment_waitlist::Column::Code.eq(code))
            .one(self.0)
            .await?)
    }

    async fn waitlist_of(&self, tenant: TenantId, service: Uuid) -> Result<Vec<WaitlistEntry>> {
        Ok(appointment_waitlist::Entity::find()
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .filter(appointment_waitlist::Column::ServiceId.eq(service))
            .filter(appointment_waitlist::Column::Status.is_in(["waiting", "offered"]))
            .order_by_asc(appointment_waitlist::Column::CreatedAt)
            .limit(10_000)
            .all(self.0)
            .await?)
    }

    async fn utilisation(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<[(Channel, ChannelUse); 3]> {
        let slots = self.appointment_slots(tenant, location, from, to).await?;
        let mut out = Channel::ALL.map(|c| (c, ChannelUse::default()));
        for s in &slots {
            for (c, u) in &mut out {
                if !s.blocked {
                    u.capacity += i64::from(s.cap(*c));
                }
                u.booked += i64::from(s.booked(*c));
            }
        }
        Ok(out)
    }

    async fn booking_counts(
        &self,
        tenant: TenantId,
        location: Uuid,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = appointment_booking::Entity::find()
            .select_only()
            .column(appointment_booking::Column::Status)
            .column_as(appointment_booking::Column::Id.count(), "n")
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .filter(appointment_booking::Column::LocationId.eq(location))
            .filter(appointment_booking::Column::StartsAt.gte(from))
            .filter(appointment_booking::Column::StartsAt.lt(to))
            .group_by(appointment_booking::Column::Status)
            .into_tuple()
            .all(self.0)
            .await?;
        Ok(rows)
    }
}

fn booked_col(c: Channel) -> Alias {
    Alias::new(format!("booked_{}", c.code()))
}

fn cap_col(c: Channel) -> Alias {
    Alias::new(format!("cap_{}", c.code()))
}

/// Raises (`+1`) or lowers (`-1`) the bookings of `channel` on the slots
/// starting at `starts`; raising only where a place is free and the slot is
/// not blocked. Returns how many rows changed.
async fn shift_slots<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    location: Uuid,
    starts: &[NaiveDateTime],
    channel: Channel,
    raise: bool,
) -> Result<u64> {
    let booked = booked_col(channel);
    let mut q = appointment_slot::Entity::update_many()
        .filter(appointment_slot::Column::TenantId.eq(tenant.0))
        .filter(appointment_slot::Column::LocationId.eq(location))
        .filter(appointment_slot::Column::StartsAt.is_in(starts.iter().copied()));
    if raise {
        q = q
            .col_expr(booked.clone(), Expr::col(booked.clone()).add(1))
            .filter(Expr::col(booked).lt(Expr::col(cap_col(channel))))
            .filter(appointment_slot::Column::Blocked.eq(false));
    } else {
        q = q
            .col_expr(booked.clone(), Expr::col(booked.clone()).sub(1))
            .filter(Expr::col(booked).gt(0));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

impl Store {
    /// Creates or updates (by slug) a location. Future slots nobody booked
    /// are removed, so they are made anew from the new hours and counters.
    pub async fn save_location(
        &self,
        tenant: TenantId,
        new: &NewLocation,
        today: NaiveDate,
    ) -> Result<Location> {
        let txn = self.begin_write().await?;
        let now = Utc::now();
        let existing = Repo(&txn)
            .appointment_location_by_slug(tenant, &new.slug)
            .await?;
        let mut m = match &existing {
            Some(l) => appointment_location::ActiveModel::from(l.clone()),
            None => appointment_location::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                slug: Set(new.slug.clone()),
                created_at: Set(now),
                active: Set(true),
                ..Default::default()
            },
        };
        m.name = Set(new.name.clone());
        m.address = Set(new.address.clone());
        m.org_unit_id = Set(new.org_unit_id);
        m.land = Set(new.land.clone());
        m.slot_minutes = Set(new.slot_minutes);
        m.counters = Set(new.counters);
        m.quota_online = Set(new.quotas.0);
        m.quota_phone = Set(new.quotas.1);
        m.quota_internal = Set(new.quotas.2);
        m.window_days = Set(new.window_days);
        m.internal_window_days = Set(new.internal_window_days);
        m.opening_hours = Set(new.opening_hours.clone());
        m.updated_at = Set(now);
        let saved = match existing {
            Some(_) => m.update(&txn).await?,
            None => m.insert(&txn).await?,
        };
        appointment_slot::Entity::delete_many()
            .filter(appointment_slot::Column::TenantId.eq(tenant.0))
            .filter(appointment_slot::Column::LocationId.eq(saved.id))
            .filter(appointment_slot::Column::Day.gt(today))
            .filter(appointment_slot::Column::BookedOnline.eq(0))
            .filter(appointment_slot::Column::BookedPhone.eq(0))
            .filter(appointment_slot::Column::BookedInternal.eq(0))
            .filter(appointment_slot::Column::Blocked.eq(false))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Creates or updates (by location and slug) a bookable service.
    pub async fn save_appointment_service(
        &self,
        tenant: TenantId,
        location: Uuid,
        slug: &str,
        name: &str,
        duration_minutes: i32,
    ) -> Result<BookableService> {
        let txn = self.begin_write().await?;
        let existing = appointment_service::Entity::find()
            .filter(appointment_service::Column::TenantId.eq(tenant.0))
            .filter(appointment_service::Column::LocationId.eq(location))
            .filter(appointment_service::Column::Slug.eq(slug))
            .one(&txn)
            .await?;
        let saved = match existing {
            Some(s) => {
                let mut m = appointment_service::ActiveModel::from(s);
                m.name = Set(name.into());
                m.duration_minutes = Set(duration_minutes);
                m.active = Set(true);
                m.update(&txn).await?
            }
            None => {
                appointment_service::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant.0),
                    location_id: Set(location),
                    slug: Set(slug.into()),
                    name: Set(name.into()),
                    duration_minutes: Set(duration_minutes),
                    active: Set(true),
                }
                .insert(&txn)
                .await?
            }
        };
        txn.commit().await?;
        Ok(saved)
    }

    /// Makes the slots of `specs` that do not exist yet (a slot that exists
    /// keeps its capacity and bookings). Safe to run concurrently.
    pub async fn ensure_slots(
        &self,
        tenant: TenantId,
        location: Uuid,
        specs: &[SlotSpec],
    ) -> Result<()> {
        if specs.is_empty() {
            return Ok(());
        }
        let (Some(first), Some(last)) = (specs.first(), specs.last()) else {
            return Ok(());
        };
        let have: std::collections::HashSet<NaiveDateTime> = appointment_slot::Entity::find()
            .select_only()
            .column(appointment_slot::Column::StartsAt)
            .filter(appointment_slot::Column::TenantId.eq(tenant.0))
            .filter(appointment_slot::Column::LocationId.eq(location))
            .filter(appointment_slot::Column::StartsAt.gte(first.start))
            .filter(appointment_slot::Column::StartsAt.lte(last.start))
            .into_tuple::<NaiveDateTime>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let missing: Vec<_> = specs
            .iter()
            .filter(|s| !have.contains(&s.start))
            .map(|s| appointment_slot::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                location_id: Set(location),
                starts_at: Set(s.start),
                day: Set(s.start.date()),
                cap_online: Set(s.caps.online as i32),
                cap_phone: Set(s.caps.phone as i32),
                cap_internal: Set(s.caps.internal as i32),
                booked_online: Set(0),
                booked_phone: Set(0),
                booked_internal: Set(0),
                blocked: Set(false),
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for chunk in missing.chunks(200) {
            let txn = self.begin_write().await?;
            let r = appointment_slot::Entity::insert_many(chunk.to_vec())
                .on_conflict_do_nothing_on([
                    appointment_slot::Column::LocationId,
                    appointment_slot::Column::StartsAt,
                ])
                .exec_without_returning(&txn)
                .await;
            match r {
                Ok(_) | Err(DbErr::RecordNotInserted) => {}
                Err(e) => return Err(e.into()),
            }
            txn.commit().await?;
        }
        Ok(())
    }

    /// Stores a booking and raises its slots, in one transaction:
    /// `Conflict("slot_taken")` when a slot has no free place for the
    /// channel (nothing is stored), `Conflict("open_booking")` when the
    /// address already has an open booking of the service. `jobs` are
    /// enqueued in the same transaction (`{"booking"}` is added).
    pub async fn insert_booking(
        &self,
        tenant: TenantId,
        new: &NewBooking,
        jobs: &[(&str, serde_json::Value)],
    ) -> Result<Booking> {
        let txn = self.begin_write().await?;
        let raised = shift_slots(
            &txn,
            tenant,
            new.location_id,
            &new.starts,
            new.channel,
            true,
        )
        .await
        .map_err(slot_conflict)?;
        if raised != new.starts.len() as u64 {
            txn.rollback().await?;
            return Err(StorageError::Conflict("slot_taken"));
        }
        let now = Utc::now();
        let starts_at = new.starts.first().copied().unwrap_or(new.ends_at);
        let booking = appointment_booking::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            code: Set(new.code.clone()),
            location_id: Set(new.location_id),
            service_id: Set(new.service_id),
            starts_at: Set(starts_at),
            ends_at: Set(new.ends_at),
            slots: Set(new.starts.len() as i32),
            channel: Set(new.channel.code().into()),
            status: Set(new.status.code().into()),
            name: Set(new.name.clone()),
            email: Set(new.email.clone()),
            phone: Set(new.phone.clone()),
            hold_until: Set(new.hold_until),
            confirm_hash: Set(None),
            sequence: Set(0),
            waitlist_id: Set(new.waitlist_id),
            created_by: Set(new.created_by),
            created_at: Set(now),
            updated_at: Set(now),
            confirmed_at: Set((new.status == BookingStatus::Confirmed).then_some(now)),
            reminder_sent_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(m)) if m.contains("code") => {
                StorageError::Conflict("code")
            }
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                StorageError::Conflict("open_booking")
            }
            _ => StorageError::Db(e),
        })?;
        if let Some(w) = new.waitlist_id {
            appointment_waitlist::Entity::update_many()
                .col_expr(appointment_waitlist::Column::Status, Expr::value("offered"))
                .col_expr(
                    appointment_waitlist::Column::BookingId,
                    Expr::value(booking.id),
                )
                .col_expr(appointment_waitlist::Column::UpdatedAt, Expr::value(now))
                .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
                .filter(appointment_waitlist::Column::Id.eq(w))
                .exec(&txn)
                .await?;
        }
        enqueue_jobs(&txn, tenant, booking.id, jobs).await?;
        txn.commit().await?;
        Ok(booking)
    }

    /// Changes a booking that is still in `expected` to `to`, with what
    /// `change` does besides, in one transaction. `Conflict("booking_changed")`
    /// when it is no longer in `expected` (someone else was faster);
    /// `Conflict("slot_taken")` when a move finds the new time gone.
    pub async fn change_booking(
        &self,
        tenant: TenantId,
        id: Uuid,
        expected: BookingStatus,
        to: BookingStatus,
        change: BookingChange,
        jobs: &[(&str, serde_json::Value)],
    ) -> Result<Booking> {
        let txn = self.begin_write().await?;
        let Some(b) = Repo(&txn).booking(tenant, id).await? else {
            return Err(StorageError::NotFound("booking"));
        };
        if b.status() != expected {
            return Err(StorageError::Conflict("booking_changed"));
        }
        let now = Utc::now();
        let mut m = appointment_booking::ActiveModel::from(b.clone());
        m.status = Set(to.code().into());
        m.updated_at = Set(now);
        match change {
            BookingChange::Details {
                name,
                email,
                hold_until,
            } => {
                m.name = Set(name);
                m.email = Set(Some(email));
                m.hold_until = Set(Some(hold_until));
            }
            BookingChange::Confirm => {
                if b.confirmed_at.is_none() {
                    m.confirmed_at = Set(Some(now));
                }
                m.hold_until = Set(None);
                m.confirm_hash = Set(None);
            }
            BookingChange::Free => {
                shift_slots(
                    &txn,
                    tenant,
                    b.location_id,
                    &b.slot_starts(),
                    b.channel(),
                    false,
                )
                .await?;
                m.hold_until = Set(None);
                m.confirm_hash = Set(None);
                if let Some(w) = b.waitlist_id {
                    appointment_waitlist::Entity::update_many()
                        .col_expr(appointment_waitlist::Column::Status, Expr::value("ended"))
                        .col_expr(appointment_waitlist::Column::UpdatedAt, Expr::value(now))
                        .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
                        .filter(appointment_waitlist::Column::Id.eq(w))
                        .filter(appointment_waitlist::Column::Status.eq("offered"))
                        .exec(&txn)
                        .await?;
                }
            }
            BookingChange::Attendance => {}
            BookingChange::Move { starts, ends_at } => {
                let raised = shift_slots(&txn, tenant, b.location_id, &starts, b.channel(), true)
                    .await
                    .map_err(slot_conflict)?;
                if raised != starts.len() as u64 {
                    txn.rollback().await?;
                    return Err(StorageError::Conflict("slot_taken"));
                }
                shift_slots(
                    &txn,
                    tenant,
                    b.location_id,
                    &b.slot_starts(),
                    b.channel(),
                    false,
                )
                .await?;
                m.starts_at = Set(starts.first().copied().unwrap_or(b.starts_at));
                m.ends_at = Set(ends_at);
                m.slots = Set(starts.len() as i32);
                m.sequence = Set(b.sequence + 1);
                m.reminder_sent_at = Set(None);
            }
        }
        if to == BookingStatus::Confirmed
            && let Some(w) = b.waitlist_id
        {
            appointment_waitlist::Entity::update_many()
                .col_expr(appointment_waitlist::Column::Status, Expr::value("booked"))
                .col_expr(appointment_waitlist::Column::UpdatedAt, Expr::value(now))
                .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
                .filter(appointment_waitlist::Column::Id.eq(w))
                .exec(&txn)
                .await?;
        }
        let saved = m.update(&txn).await?;
        enqueue_jobs(&txn, tenant, saved.id, jobs).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Stores the hash of a confirmation link's secret, if the booking still
    /// waits for its confirmation.
    pub async fn set_confirm_hash(&self, tenant: TenantId, id: Uuid, hash: &str) -> Result<bool> {
        let r = appointment_booking::Entity::update_many()
            .col_expr(appointment_booking::Column::ConfirmHash, Expr::value(hash))
            .filter(appointment_booking::Column::TenantId.eq(tenant.0))
            .filter(appointment_booking::Column::Id.eq(id))
            .filter(appointment_booking::Column::Status.eq(BookingStatus::Pending.code()))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Blocks or unblocks a slot (existing bookings stay).
    pub async fn block_slot(
        &self,
        tenant: TenantId,
        location: Uuid,
        start: NaiveDateTime,
        blocked: bool,
    ) -> Result<bool> {
        let r = appointment_slot::Entity::update_many()
            .col_expr(appointment_slot::Column::Blocked, Expr::value(blocked))
            .filter(appointment_slot::Column::TenantId.eq(tenant.0))
            .filter(appointment_slot::Column::LocationId.eq(location))
            .filter(appointment_slot::Column::StartsAt.eq(start))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Puts a person on the waiting list (`Conflict("open_wait")` when the
    /// address already waits for the service).
    pub async fn insert_waitlist(
        &self,
        tenant: TenantId,
        entry: WaitlistEntry,
        jobs: &[(&str, serde_json::Value)],
    ) -> Result<WaitlistEntry> {
        let txn = self.begin_write().await?;
        let saved = appointment_waitlist::ActiveModel::from(entry)
            .insert(&txn)
            .await
            .map_err(StorageError::conflict_on("open_wait"))?;
        for (kind, payload) in jobs {
            let mut p = payload.clone();
            if let Some(o) = p.as_object_mut() {
                o.insert("entry".into(), serde_json::json!(saved.id));
            }
            Repo(&txn).enqueue(Some(tenant), kind, &p).await?;
        }
        txn.commit().await?;
        Ok(saved)
    }

    /// Ends a place on the waiting list (the person left it, or it ran out).
    pub async fn end_waitlist(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        let r = appointment_waitlist::Entity::update_many()
            .col_expr(appointment_waitlist::Column::Status, Expr::value("ended"))
            .col_expr(
                appointment_waitlist::Column::UpdatedAt,
                Expr::value(Utc::now()),
            )
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .filter(appointment_waitlist::Column::Id.eq(id))
            .filter(appointment_waitlist::Column::Status.is_in(["waiting", "offered"]))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Bookings (all tenants) held or pending whose hold ran out.
    pub async fn expired_holds(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Booking>> {
        Ok(appointment_booking::Entity::find()
            .filter(
                appointment_booking::Column::Status
                    .is_in([BookingStatus::Held.code(), BookingStatus::Pending.code()]),
            )
            .filter(appointment_booking::Column::HoldUntil.lt(now))
            .order_by_asc(appointment_booking::Column::HoldUntil)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Marks the reminders of confirmed bookings starting between `from`
    /// and `to` (all tenants) as sent and enqueues their e-mails, each in
    /// its own transaction. Returns how many.
    pub async fn due_reminders(&self, from: NaiveDateTime, to: NaiveDateTime) -> Result<u64> {
        let due = appointment_booking::Entity::find()
            .filter(appointment_booking::Column::Status.eq(BookingStatus::Confirmed.code()))
            .filter(appointment_booking::Column::StartsAt.gte(from))
            .filter(appointment_booking::Column::StartsAt.lt(to))
            .filter(appointment_booking::Column::ReminderSentAt.is_null())
            .filter(appointment_booking::Column::Email.is_not_null())
            .limit(10_000)
            .all(&self.db)
            .await?;
        let mut n = 0;
        for b in due {
            let txn = self.db.begin().await?;
            let r = appointment_booking::Entity::update_many()
                .col_expr(
                    appointment_booking::Column::ReminderSentAt,
                    Expr::value(Utc::now()),
                )
                .filter(appointment_booking::Column::Id.eq(b.id))
                .filter(appointment_booking::Column::ReminderSentAt.is_null())
                .exec(&txn)
                .await?;
            if r.rows_affected == 1 {
                Repo(&txn)
                    .enqueue(
                        Some(TenantId(b.tenant_id)),
                        MAIL_JOB,
                        &serde_json::json!({"booking": b.id, "kind": "reminder"}),
                    )
                    .await?;
                n += 1;
            }
            txn.commit().await?;
        }
        Ok(n)
    }

    /// Forgets what is no longer needed: used proof-of-work challenges that
    /// expired, the names and addresses of bookings whose day is more than
    /// `keep_days` past, and ended waiting-list places of the past.
    pub async fn forget_appointments(
        &self,
        now: DateTime<Utc>,
        before: NaiveDateTime,
    ) -> Result<u64> {
        appointment_pow_used::Entity::delete_many()
            .filter(appointment_pow_used::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        let r = appointment_booking::Entity::update_many()
            .col_expr(appointment_booking::Column::Name, Expr::value(""))
            .col_expr(
                appointment_booking::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                appointment_booking::Column::Phone,
                Expr::value(Option::<String>::None),
            )
            .filter(appointment_booking::Column::StartsAt.lt(before))
            .filter(appointment_booking::Column::Name.ne(""))
            .exec(&self.db)
            .await?;
        appointment_waitlist::Entity::delete_many()
            .filter(appointment_waitlist::Column::ToDay.lt(before.date()))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected)
    }

    /// Records a proof-of-work challenge as used: false if it was used before.
    pub async fn use_pow_challenge(&self, challenge: &str, expires: DateTime<Utc>) -> Result<bool> {
        let r = appointment_pow_used::Entity::insert(appointment_pow_used::ActiveModel {
            challenge: Set(challenge.chars().take(64).collect()),
            expires_at: Set(expires),
        })
        .on_conflict_do_nothing_on([appointment_pow_used::Column::Challenge])
        .exec_without_returning(&self.db)
        .await;
        match r {
            Ok(sea_orm::TryInsertResult::Inserted(n)) => Ok(n == 1),
            Ok(_) | Err(DbErr::RecordNotInserted) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Waiting-list places of a service that may take a time on `day`
    /// (still waiting, the day in their range), first come first.
    pub async fn waiting_for(
        &self,
        tenant: TenantId,
        service: Uuid,
        day: NaiveDate,
    ) -> Result<Vec<WaitlistEntry>> {
        Ok(appointment_waitlist::Entity::find()
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .filter(appointment_waitlist::Column::ServiceId.eq(service))
            .filter(appointment_waitlist::Column::Status.eq("waiting"))
            .filter(appointment_waitlist::Column::FromDay.lte(day))
            .filter(appointment_waitlist::Column::ToDay.gte(day))
            .order_by_asc(appointment_waitlist::Column::CreatedAt)
            .limit(50)
            .all(&self.db)
            .await?)
    }

    /// A waiting-list place whose offer was not taken goes back to waiting
    /// (behind nobody: it keeps its place) — used when the offered time
    /// could not be held after all.
    pub async fn waitlist_back(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        appointment_waitlist::Entity::update_many()
            .col_expr(appointment_waitlist::Column::Status, Expr::value("waiting"))
            .filter(appointment_waitlist::Column::TenantId.eq(tenant.0))
            .filter(appointment_waitlist::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The CHECK constraint refusing an overbooked row reads as "taken".
fn slot_conflict(e: StorageError) -> StorageError {
    match &e {
        StorageError::Db(db) if db.to_string().to_lowercase().contains("check") => {
            StorageError::Conflict("slot_taken")
        }
        _ => e,
    }
}

async fn enqueue_jobs<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    booking: Uuid,
    jobs: &[(&str, serde_json::Value)],
) -> Result<()> {
    for (kind, payload) in jobs {
        let mut p = payload.clone();
        if let Some(o) = p.as_object_mut() {
            o.entry("booking").or_insert(serde_json::json!(booking));
        }
        Repo(conn).enqueue(Some(tenant), kind, &p).await?;
    }
    Ok(())
}
