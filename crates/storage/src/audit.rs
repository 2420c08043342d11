//! The hash-chained audit log of cases: append and verify, per tenant.

use chrono::{SecondsFormat, Utc};
use rathaus_domain::{
    audit::{self, EntryFields},
    tenancy::TenantId,
};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, QueryOrder,
    prelude::*,
    sea_query::{ExprTrait, OnConflict},
};

use crate::{
    Repo, Result, StorageError,
    entities::{audit_entry, audit_head},
};

pub type AuditEntry = audit_entry::Model;

/// The next entry of a tenant's audit chain after `prev_hash`, with its hash.
pub(crate) fn audit_entry_model(
    tenant: TenantId,
    case_id: Uuid,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
    at: chrono::DateTime<Utc>,
    prev_hash: &str,
) -> (audit_entry::ActiveModel, String) {
    let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let detail = detail.to_string();
    let hash = audit::entry_hash(
        prev_hash,
        &EntryFields {
            tenant: &tenant.0.to_string(),
            case: &case_id.to_string(),
            actor,
            action,
            detail: &detail,
            at: &at,
        },
    );
    let entry = audit_entry::ActiveModel {
        tenant_id: Set(tenant.0),
        case_id: Set(case_id),
        actor: Set(actor.to_string()),
        action: Set(action.to_string()),
        detail: Set(detail),
        at: Set(at),
        prev_hash: Set(prev_hash.to_string()),
        hash: Set(hash.clone()),
        ..Default::default()
    };
    (entry, hash)
}

/// Reserves `entries` places in the tenant's audit chain and returns the
/// head before them. The update takes the head row's lock (PostgreSQL) or
/// runs under the write lock (SQLite): appenders of one tenant serialise
/// here until their transaction ends, so the chain never forks.
pub(crate) async fn lock_audit_head(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    entries: i64,
) -> Result<audit_head::Model> {
    audit_head::Entity::insert(audit_head::ActiveModel {
        tenant_id: Set(tenant.0),
        entries: Set(0),
        last_hash: Set(audit::GENESIS.to_string()),
    })
    .on_conflict(
        OnConflict::column(audit_head::Column::TenantId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Entries,
            Expr::col(audit_head::Column::Entries).add(entries),
        )
        .filter(audit_head::Column::TenantId.eq(tenant.0))
        .exec(db)
        .await?;
    audit_head::Entity::find_by_id(tenant.0)
        .one(db)
        .await?
        .ok_or(StorageError::NotFound("audit head"))
}

/// Moves the tenant's head to the last appended entry's hash.
pub(crate) async fn set_audit_head(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    hash: String,
) -> Result<()> {
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastHash, Expr::value(hash))
        .filter(audit_head::Column::TenantId.eq(tenant.0))
        .exec(db)
        .await?;
    Ok(())
}

#[allow(async_fn_in_trait)]
pub trait AuditRepository {
    /// Appends an audit entry for `case`. Writes the head, the entry and the
    /// head again: call it inside a write transaction (a [`crate::Store`]
    /// method); the head update serialises concurrent appenders (a row lock
    /// on PostgreSQL, the write lock on SQLite), so the chain never forks.
    async fn append_audit(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<AuditEntry>;
    /// A case's audit entries, oldest first.
    async fn audit_of_case(&self, tenant: TenantId, case_id: Uuid) -> Result<Vec<AuditEntry>>;
    /// Checks a tenant's whole chain; returns (entries checked, first broken entry).
    async fn verify_audit(&self, tenant: TenantId) -> Result<(usize, Option<AuditEntry>)>;
}

impl<C: ConnectionTrait> AuditRepository for Repo<'_, C> {
    async fn append_audit(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<AuditEntry> {
        let head = lock_audit_head(self.0, tenant, 1).await?;
        let (entry, hash) = audit_entry_model(
            tenant,
            case_id,
            actor,
            action,
            detail,
            Utc::now(),
            &head.last_hash,
        );
        let entry = entry.insert(self.0).await?;
        set_audit_head(self.0, tenant, hash).await?;
        Ok(entry)
    }

    async fn audit_of_case(&self, tenant: TenantId, case_id: Uuid) -> Result<Vec<AuditEntry>> {
        Ok(audit_entry::Entity::find()
            .filter(audit_entry::Column::TenantId.eq(tenant.0))
            .filter(audit_entry::Column::CaseId.eq(case_id))
            .order_by_asc(audit_entry::Column::Id)
            .all(self.0)
            .await?)
    }

    async fn verify_audit(&self, tenant: TenantId) -> Result<(usize, Option<AuditEntry>)> {
        let entries = audit_entry::Entity::find()
            .filter(audit_entry::Column::TenantId.eq(tenant.0))
            .order_by_asc(audit_entry::Column::Id)
            .all(self.0)
            .await?;
        let tenant_s = tenant.0.to_string();
        let cases: Vec<String> = entries.iter().map(|e| e.case_id.to_string()).collect();
        let broken = audit::first_broken(entries.iter().zip(&cases).map(|(e, c)| {
            (
                e.prev_hash.as_str(),
                e.hash.as_str(),
                EntryFields {
                    tenant: &tenant_s,
                    case: c,
                    actor: &e.actor,
                    action: &e.action,
                    detail: &e.detail,
                    at: &e.at,
                },
            )
        }));
        // A deleted last entry leaves the head pointing past the chain.
        let head = audit_head::Entity::find_by_id(tenant.0).one(self.0).await?;
        let broken = broken.or_else(|| match (&head, entries.last()) {
            (Some(h), Some(last)) if h.last_hash != last.hash => Some(entries.len() - 1),
            (Some(h), None) if h.last_hash != audit::GENESIS => Some(0),
            _ => None,
        });
        let n = entries.len();
        Ok((n, broken.and_then(|i| entries.into_iter().nth(i))))
    }
}
