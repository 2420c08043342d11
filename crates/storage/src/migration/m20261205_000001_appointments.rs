//! Terminvergabe (C8): locations with their opening hours, channel quotas and
//! booking window; the services bookable there; one row per slot with its
//! capacity and bookings per channel (the database enforces "never
//! overbooked": a booking raises `booked_<channel>` only where it is below
//! `cap_<channel>`, in the transaction that stores the booking); the
//! bookings; the waiting list; and the proof-of-work challenges already
//! used (until they expire).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AppointmentLocations {
    Table,
    Id,
    TenantId,
    OrgUnitId,
    Slug,
    Name,
    Address,
    Land,
    SlotMinutes,
    Counters,
    QuotaOnline,
    QuotaPhone,
    QuotaInternal,
    WindowDays,
    InternalWindowDays,
    OpeningHours,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AppointmentServices {
    Table,
    Id,
    TenantId,
    LocationId,
    Slug,
    Name,
    DurationMinutes,
    Active,
}

#[derive(DeriveIden)]
enum AppointmentSlots {
    Table,
    Id,
    TenantId,
    LocationId,
    StartsAt,
    Day,
    CapOnline,
    CapPhone,
    CapInternal,
    BookedOnline,
    BookedPhone,
    BookedInternal,
    Blocked,
}

#[derive(DeriveIden)]
enum AppointmentBookings {
    Table,
    Id,
    TenantId,
    Code,
    LocationId,
    ServiceId,
    StartsAt,
    EndsAt,
    Slots,
    Channel,
    Status,
    Name,
    Email,
    Phone,
    HoldUntil,
    ConfirmHash,
    Sequence,
    WaitlistId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ConfirmedAt,
    ReminderSentAt,
}

#[derive(DeriveIden)]
enum AppointmentWaitlist {
    Table,
    Id,
    TenantId,
    Code,
    LocationId,
    ServiceId,
    Name,
    Email,
    FromDay,
    ToDay,
    Status,
    BookingId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AppointmentPowUsed {
    Table,
    Challenge,
    ExpiresAt,
}

fn tenant_fk(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// One open booking per service and e-mail address; one open place on the
/// waiting list per service and address. Partial indexes: the same text on
/// SQLite and PostgreSQL.
const PARTIAL: [(&str, &str); 2] = [
    (
        "ux_appointment_bookings_open",
        "CREATE UNIQUE INDEX ux_appointment_bookings_open ON appointment_bookings (tenant_id, service_id, email) WHERE email IS NOT NULL AND status IN ('held', 'pending', 'confirmed')",
    ),
    (
        "ux_appointment_waitlist_open",
        "CREATE UNIQUE INDEX ux_appointment_waitlist_open ON appointment_waitlist (tenant_id, service_id, email) WHERE status IN ('waiting', 'offered')",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AppointmentLocations as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(pk_uuid(L::Id))
                    .col(uuid(L::TenantId))
                    .col(uuid_null(L::OrgUnitId))
                    .col(string_len(L::Slug, 60))
                    .col(string_len(L::Name, 200))
                    .col(string_len(L::Address, 300))
                    .col(string_len(L::Land, 2))
                    .col(integer(L::SlotMinutes))
                    .col(integer(L::Counters))
                    .col(integer(L::QuotaOnline))
                    .col(integer(L::QuotaPhone))
                    .col(integer(L::QuotaInternal))
                    .col(integer(L::WindowDays))
                    .col(integer(L::InternalWindowDays))
                    .col(text(L::OpeningHours))
                    .col(boolean(L::Active))
                    .col(timestamp_with_time_zone(L::CreatedAt))
                    .col(timestamp_with_time_zone(L::UpdatedAt))
                    .foreign_key(&mut tenant_fk("fk_appointment_locations_tenant", L::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_appointment_locations_slug",
                L::Table,
                &["tenant_id", "slug"],
                true,
            ))
            .await?;
        use AppointmentServices as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(pk_uuid(S::Id))
                    .col(uuid(S::TenantId))
                    .col(uuid(S::LocationId))
                    .col(string_len(S::Slug, 60))
                    .col(string_len(S::Name, 200))
                    .col(integer(S::DurationMinutes))
                    .col(boolean(S::Active))
                    .foreign_key(&mut tenant_fk("fk_appointment_services_tenant", S::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_services_location")
                            .from(S::Table, S::LocationId)
                            .to(L::Table, L::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_appointment_services_slug",
                S::Table,
                &["tenant_id", "location_id", "slug"],
                true,
            ))
            .await?;
        use AppointmentSlots as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(pk_uuid(T::Id))
                    .col(uuid(T::TenantId))
                    .col(uuid(T::LocationId))
                    .col(date_time(T::StartsAt))
                    .col(date(T::Day))
                    .col(integer(T::CapOnline))
                    .col(integer(T::CapPhone))
                    .col(integer(T::CapInternal))
                    .col(integer(T::BookedOnline).default(0))
                    .col(integer(T::BookedPhone).default(0))
                    .col(integer(T::BookedInternal).default(0))
                    .col(boolean(T::Blocked).default(false))
                    .foreign_key(&mut tenant_fk("fk_appointment_slots_tenant", T::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_slots_location")
                            .from(T::Table, T::LocationId)
                            .to(L::Table, L::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // The database itself refuses an overbooked slot.
                    .check(Expr::cust(
                        "booked_online >= 0 AND booked_phone >= 0 AND booked_internal >= 0 \
                         AND booked_online <= cap_online AND booked_phone <= cap_phone \
                         AND booked_internal <= cap_internal",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_appointment_slots_start",
                T::Table,
                &["location_id", "starts_at"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_appointment_slots_day",
                T::Table,
                &["tenant_id", "location_id", "day"],
                false,
            ))
            .await?;
        use AppointmentBookings as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(pk_uuid(B::Id))
                    .col(uuid(B::TenantId))
                    .col(string_len(B::Code, 20))
                    .col(uuid(B::LocationId))
                    .col(uuid(B::ServiceId))
                    .col(date_time(B::StartsAt))
                    .col(date_time(B::EndsAt))
                    .col(integer(B::Slots))
                    .col(string_len(B::Channel, 10))
                    .col(string_len(B::Status, 12))
                    .col(string_len(B::Name, 100))
                    .col(string_len_null(B::Email, 254))
                    .col(string_len_null(B::Phone, 40))
                    .col(timestamp_with_time_zone_null(B::HoldUntil))
                    .col(string_len_null(B::ConfirmHash, 64))
                    .col(integer(B::Sequence).default(0))
                    .col(uuid_null(B::WaitlistId))
                    .col(uuid_null(B::CreatedBy))
                    .col(timestamp_with_time_zone(B::CreatedAt))
                    .col(timestamp_with_time_zone(B::UpdatedAt))
                    .col(timestamp_with_time_zone_null(B::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(B::ReminderSentAt))
                    .foreign_key(&mut tenant_fk("fk_appointment_bookings_tenant", B::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_bookings_service")
                            .from(B::Table, B::ServiceId)
                            .to(S::Table, S::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_appointment_bookings_code",
                B::Table,
                &["tenant_id", "code"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_appointment_bookings_day",
                B::Table,
                &["tenant_id", "location_id", "starts_at"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_appointment_bookings_hold",
                B::Table,
                &["status", "hold_until"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_appointment_bookings_email",
                B::Table,
                &["tenant_id", "email", "created_at"],
                false,
            ))
            .await?;
        use AppointmentWaitlist as W;
        manager
            .create_table(
                Table::create()
                    .table(W::Table)
                    .col(pk_uuid(W::Id))
                    .col(uuid(W::TenantId))
                    .col(string_len(W::Code, 20))
                    .col(uuid(W::LocationId))
                    .col(uuid(W::ServiceId))
                    .col(string_len(W::Name, 100))
                    .col(string_len(W::Email, 254))
                    .col(date(W::FromDay))
                    .col(date(W::ToDay))
                    .col(string_len(W::Status, 12))
                    .col(uuid_null(W::BookingId))
                    .col(timestamp_with_time_zone(W::CreatedAt))
                    .col(timestamp_with_time_zone(W::UpdatedAt))
                    .foreign_key(&mut tenant_fk("fk_appointment_waitlist_tenant", W::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appointment_waitlist_service")
                            .from(W::Table, W::ServiceId)
                            .to(S::Table, S::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_appointment_waitlist_code",
                W::Table,
                &["tenant_id", "code"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_appointment_waitlist_queue",
                W::Table,
                &["tenant_id", "service_id", "status", "created_at"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppointmentPowUsed::Table)
                    .col(string_len(AppointmentPowUsed::Challenge, 64).primary_key())
                    .col(timestamp_with_time_zone(AppointmentPowUsed::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (_, sql) in PARTIAL {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in PARTIAL {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX {name}"))
                .await?;
        }
        for t in [
            AppointmentPowUsed::Table.into_iden(),
            AppointmentWaitlist::Table.into_iden(),
            AppointmentBookings::Table.into_iden(),
            AppointmentSlots::Table.into_iden(),
            AppointmentServices::Table.into_iden(),
            AppointmentLocations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
