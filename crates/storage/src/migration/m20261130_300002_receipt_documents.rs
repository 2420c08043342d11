//! The confirmation of receipt is typeset once and kept as a document of
//! the case (an `application_files` row under the reserved field path
//! `_eingangsbestaetigung`, with its SHA-256). At most one per application:
//! the job and a first download may race, the index lets one win.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A partial unique index: the same statement on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_application_files_receipt ON application_files (application_id) \
                 WHERE field_path = '_eingangsbestaetigung'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_application_files_receipt")
            .await?;
        Ok(())
    }
}
