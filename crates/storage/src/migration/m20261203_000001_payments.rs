//! E-Payment (C7): the fee and booking data of each service, the tenant's
//! payment settings, the payments with their provider transaction, the log
//! of every notification and status answer that reached a payment (applied,
//! ignored or refused), and refunds with four eyes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ServiceFees {
    Table,
    ServiceId,
    TenantId,
    Fee,
    Haushaltsstelle,
    Objektnummer,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum PaymentSettings {
    Table,
    TenantId,
    Provider,
    Procedure,
    KassenzeichenPrefix,
    KassenzeichenScheme,
    RefundThresholdCents,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    TenantId,
    ApplicationId,
    Purpose,
    AmountCents,
    Currency,
    Status,
    Provider,
    ProviderTxid,
    ProviderUrl,
    Kassenzeichen,
    Haushaltsstelle,
    Objektnummer,
    Method,
    Description,
    RefundedCents,
    CreatedAt,
    StartedAt,
    PaidAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentEvents {
    Table,
    Id,
    TenantId,
    PaymentId,
    At,
    Source,
    Event,
    StatusFrom,
    StatusTo,
    Outcome,
    Detail,
}

#[derive(DeriveIden)]
enum PaymentRefunds {
    Table,
    Id,
    TenantId,
    PaymentId,
    AmountCents,
    Reason,
    Status,
    RequestedBy,
    RequestedAt,
    ApprovedBy,
    ApprovedAt,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceFees::Table)
                    .col(pk_uuid(ServiceFees::ServiceId))
                    .col(uuid(ServiceFees::TenantId))
                    .col(text(ServiceFees::Fee))
                    .col(string_len(ServiceFees::Haushaltsstelle, 40))
                    .col(string_len(ServiceFees::Objektnummer, 40))
                    .col(timestamp_with_time_zone(ServiceFees::UpdatedAt))
                    .col(uuid_null(ServiceFees::UpdatedBy))
                    .foreign_key(&mut tenant_fk("fk_service_fees_tenant", ServiceFees::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentSettings::Table)
                    .col(pk_uuid(PaymentSettings::TenantId))
                    .col(string_len(PaymentSettings::Provider, 20))
                    .col(string_len(PaymentSettings::Procedure, 100))
                    .col(string_len(PaymentSettings::KassenzeichenPrefix, 12))
                    .col(string_len(PaymentSettings::KassenzeichenScheme, 30))
                    .col(big_integer(PaymentSettings::RefundThresholdCents))
                    .col(timestamp_with_time_zone(PaymentSettings::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_payment_settings_tenant",
                        PaymentSettings::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid(Payments::TenantId))
                    .col(uuid(Payments::ApplicationId))
                    .col(string_len(Payments::Purpose, 20))
                    .col(big_integer(Payments::AmountCents))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Status, 20))
                    .col(string_len(Payments::Provider, 20))
                    .col(string_len_null(Payments::ProviderTxid, 64))
                    .col(string_len_null(Payments::ProviderUrl, 1024))
                    .col(string_len(Payments::Kassenzeichen, 40))
                    .col(string_len(Payments::Haushaltsstelle, 40))
                    .col(string_len(Payments::Objektnummer, 40))
                    .col(string_len_null(Payments::Method, 64))
                    .col(string_len(Payments::Description, 200))
                    .col(big_integer(Payments::RefundedCents).default(0))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Payments::StartedAt))
                    .col(timestamp_with_time_zone_null(Payments::PaidAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .foreign_key(&mut tenant_fk("fk_payments_tenant", Payments::Table))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_payments_kassenzeichen",
                &["tenant_id", "kassenzeichen"][..],
                true,
            ),
            ("ux_payments_txid", &["provider", "provider_txid"][..], true),
            (
                "ix_payments_application",
                &["tenant_id", "application_id"][..],
                false,
            ),
            (
                "ix_payments_status",
                &["tenant_id", "status", "started_at"][..],
                false,
            ),
            (
                "ix_payments_updated",
                &["tenant_id", "updated_at"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, Payments::Table, cols, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PaymentEvents::Table)
                    .col(pk_uuid(PaymentEvents::Id))
                    .col(uuid(PaymentEvents::TenantId))
                    .col(uuid(PaymentEvents::PaymentId))
                    .col(timestamp_with_time_zone(PaymentEvents::At))
                    .col(string_len(PaymentEvents::Source, 30))
                    .col(string_len(PaymentEvents::Event, 30))
                    .col(string_len(PaymentEvents::StatusFrom, 20))
                    .col(string_len(PaymentEvents::StatusTo, 20))
                    .col(string_len(PaymentEvents::Outcome, 40))
                    .col(text(PaymentEvents::Detail))
                    .foreign_key(&mut tenant_fk(
                        "fk_payment_events_tenant",
                        PaymentEvents::Table,
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_payment_events_payment")
                            .from(PaymentEvents::Table, PaymentEvents::PaymentId)
                            .to(Payments::Table, Payments::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_payment_events_payment",
                PaymentEvents::Table,
                &["payment_id", "at"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentRefunds::Table)
                    .col(pk_uuid(PaymentRefunds::Id))
                    .col(uuid(PaymentRefunds::TenantId))
                    .col(uuid(PaymentRefunds::PaymentId))
                    .col(big_integer(PaymentRefunds::AmountCents))
                    .col(string_len(PaymentRefunds::Reason, 500))
                    .col(string_len(PaymentRefunds::Status, 20))
                    .col(uuid(PaymentRefunds::RequestedBy))
                    .col(timestamp_with_time_zone(PaymentRefunds::RequestedAt))
                    .col(uuid_null(PaymentRefunds::ApprovedBy))
                    .col(timestamp_with_time_zone_null(PaymentRefunds::ApprovedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_payment_refunds_tenant",
                        PaymentRefunds::Table,
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_payment_refunds_payment")
                            .from(PaymentRefunds::Table, PaymentRefunds::PaymentId)
                            .to(Payments::Table, Payments::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PaymentRefunds::Table.into_iden(),
            PaymentEvents::Table.into_iden(),
            Payments::Table.into_iden(),
            PaymentSettings::Table.into_iden(),
            ServiceFees::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
