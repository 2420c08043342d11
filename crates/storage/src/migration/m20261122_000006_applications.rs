use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FormVersions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    TenantId,
    Reference,
    Year,
    Seq,
    ServiceId,
    FormVersionId,
    Data,
    IdempotencyKey,
    AccessTokenHash,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum ApplicationFiles {
    Table,
    Id,
    TenantId,
    ApplicationId,
    FieldPath,
    FileKey,
    Name,
    Mime,
    Size,
    Sha256,
    MessageId,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    TenantId,
    ApplicationId,
    OrgUnitId,
    Status,
    AssigneeId,
    DueAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TenantId,
    ApplicationId,
    Kind,
    FromOffice,
    AuthorId,
    Body,
    RequestedDocuments,
    DueDate,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    TenantId,
    Entries,
    LastHash,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    CaseId,
    Actor,
    Action,
    Detail,
    At,
    PrevHash,
    Hash,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(if cascade {
            ForeignKeyAction::Cascade
        } else {
            ForeignKeyAction::Restrict
        })
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<Alias>, unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
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
                    .table(Applications::Table)
                    .col(pk_uuid(Applications::Id))
                    .col(uuid(Applications::TenantId))
                    .col(string_len(Applications::Reference, 24))
                    .col(integer(Applications::Year))
                    .col(big_integer(Applications::Seq))
                    .col(uuid_null(Applications::ServiceId))
                    .col(uuid(Applications::FormVersionId))
                    .col(text(Applications::Data))
                    .col(string_len_null(Applications::IdempotencyKey, 100))
                    .col(string_len(Applications::AccessTokenHash, 64))
                    .col(timestamp_with_time_zone(Applications::SubmittedAt))
                    .foreign_key(&mut fk(
                        "fk_applications_tenant",
                        (Applications::Table, Applications::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_applications_form_version",
                        (Applications::Table, Applications::FormVersionId),
                        (FormVersions::Table, FormVersions::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_applications_seq",
                vec!["tenant_id", "year", "seq"],
                true,
            ),
            (
                "ux_applications_reference",
                vec!["tenant_id", "reference"],
                true,
            ),
            (
                "ux_applications_idempotency",
                vec!["tenant_id", "idempotency_key"],
                true,
            ),
            ("ux_applications_access", vec!["access_token_hash"], true),
        ] {
            manager
                .create_index(index(
                    name,
                    Applications::Table,
                    cols.into_iter().map(Alias::new).collect(),
                    unique,
                ))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ApplicationFiles::Table)
                    .col(pk_uuid(ApplicationFiles::Id))
                    .col(uuid(ApplicationFiles::TenantId))
                    .col(uuid(ApplicationFiles::ApplicationId))
                    .col(string_len(ApplicationFiles::FieldPath, 200))
                    .col(string_len(ApplicationFiles::FileKey, 200))
                    .col(string_len(ApplicationFiles::Name, 120))
                    .col(string_len(ApplicationFiles::Mime, 60))
                    .col(big_integer(ApplicationFiles::Size))
                    .col(string_len(ApplicationFiles::Sha256, 64))
                    .col(uuid_null(ApplicationFiles::MessageId))
                    .foreign_key(&mut fk(
                        "fk_application_files_application",
                        (ApplicationFiles::Table, ApplicationFiles::ApplicationId),
                        (Applications::Table, Applications::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_application_files_application",
                ApplicationFiles::Table,
                vec![Alias::new("tenant_id"), Alias::new("application_id")],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    .col(uuid(Cases::TenantId))
                    .col(uuid(Cases::ApplicationId))
                    .col(uuid(Cases::OrgUnitId))
                    .col(string_len(Cases::Status, 30))
                    .col(uuid_null(Cases::AssigneeId))
                    .col(timestamp_with_time_zone_null(Cases::DueAt))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_cases_application",
                        (Cases::Table, Cases::ApplicationId),
                        (Applications::Table, Applications::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_cases_org_unit",
                        (Cases::Table, Cases::OrgUnitId),
                        (OrgUnits::Table, OrgUnits::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_cases_application",
                Cases::Table,
                vec![Alias::new("application_id")],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_cases_inbox",
                Cases::Table,
                vec![
                    Alias::new("tenant_id"),
                    Alias::new("org_unit_id"),
                    Alias::new("status"),
                    Alias::new("created_at"),
                ],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::TenantId))
                    .col(uuid(Messages::ApplicationId))
                    .col(string_len(Messages::Kind, 30))
                    .col(boolean(Messages::FromOffice))
                    .col(uuid_null(Messages::AuthorId))
                    .col(text(Messages::Body))
                    .col(text_null(Messages::RequestedDocuments))
                    .col(date_null(Messages::DueDate))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .col(timestamp_with_time_zone_null(Messages::ReadAt))
                    .foreign_key(&mut fk(
                        "fk_messages_application",
                        (Messages::Table, Messages::ApplicationId),
                        (Applications::Table, Applications::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_messages_application",
                Messages::Table,
                vec![
                    Alias::new("tenant_id"),
                    Alias::new("application_id"),
                    Alias::new("created_at"),
                ],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditHeads::Table)
                    .col(pk_uuid(AuditHeads::TenantId))
                    .col(big_integer(AuditHeads::Entries))
                    .col(string_len(AuditHeads::LastHash, 64))
                    .foreign_key(&mut fk(
                        "fk_audit_heads_tenant",
                        (AuditHeads::Table, AuditHeads::TenantId),
                        (Tenants::Table, Tenants::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(uuid(AuditLog::TenantId))
                    .col(uuid(AuditLog::CaseId))
                    .col(string_len(AuditLog::Actor, 200))
                    .col(string_len(AuditLog::Action, 60))
                    .col(text(AuditLog::Detail))
                    .col(string_len(AuditLog::At, 40))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_case",
                AuditLog::Table,
                vec![Alias::new("tenant_id"), Alias::new("case_id")],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditLog::Table.into_iden(),
            AuditHeads::Table.into_iden(),
            Messages::Table.into_iden(),
            Cases::Table.into_iden(),
            ApplicationFiles::Table.into_iden(),
            Applications::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
