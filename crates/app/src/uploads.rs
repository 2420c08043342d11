//! What applicants' uploads occupy, and the sweep of orphans: objects below
//! `uploads/` that no draft, application, answer or document refers to
//! (an upload whose row was never written, a file of a draft purged while
//! the file store was unreachable). Run periodically by the outbox job
//! `storage.sweep` and by `rathaus admin storage-report --sweep`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rathaus_domain::tenancy::TenantId;
use rathaus_storage::{
    prelude::*,
    uploads::{TenantUsage, Usage},
};
use uuid::Uuid;

use crate::{App, UseCaseResult};

/// Prefix of applicants' uploads in a tenant's part of the file store.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// One tenant's part of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantStorage {
    pub tenant: Uuid,
    /// Empty for objects of a tenant that no longer exists.
    pub slug: String,
    #[serde(flatten)]
    pub usage: TenantUsage,
    /// Uploads nothing refers to.
    pub orphans: Usage,
}

/// Usage per tenant, orphans and what the sweep deleted.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StorageReport {
    pub tenants: Vec<TenantStorage>,
    /// Uploads nothing refers to, all tenants (before the sweep).
    pub orphans: Usage,
    /// Orphans older than the grace period, deleted by the sweep.
    pub swept: Usage,
}

impl App {
    /// Counts what uploads occupy per tenant and finds orphans; with
    /// `sweep_older_than`, deletes orphans older than that (younger ones may
    /// be uploads whose row is about to be written).
    pub async fn storage_report(
        &self,
        sweep_older_than: Option<Duration>,
        now: DateTime<Utc>,
    ) -> UseCaseResult<StorageReport> {
        // List first, then read the references: an upload recorded in
        // between is seen as referenced.
        let objects = self.files.list().await?;
        let repo = self.store.repo();
        let usage = repo.upload_usage().await?;
        let slugs: HashMap<Uuid, String> = repo
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.slug))
            .collect();
        let mut referenced: HashMap<TenantId, HashSet<String>> = HashMap::new();
        let mut orphans: BTreeMap<Uuid, Usage> = BTreeMap::new();
        let mut report = StorageReport::default();
        for o in objects {
            if !o.name.starts_with(UPLOADS_PREFIX) {
                continue;
            }
            let refs = match referenced.entry(o.tenant) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(repo.referenced_files(o.tenant).await?)
                }
            };
            if refs.contains(&o.name) {
                continue;
            }
            orphans.entry(o.tenant.0).or_default().add(o.size);
            report.orphans.add(o.size);
            if let Some(grace) = sweep_older_than
                && o.modified + grace < now
            {
                match self.files.delete(o.tenant, &o.name).await {
                    Ok(()) => report.swept.add(o.size),
                    Err(e) => tracing::warn!(error = %e, name = %o.name, "orphan not deleted"),
                }
            }
        }
        let mut ids: Vec<Uuid> = slugs.keys().copied().collect();
        ids.extend(usage.keys().copied());
        ids.extend(orphans.keys().copied());
        ids.sort();
        ids.dedup();
        let mut tenants: Vec<TenantStorage> = ids
            .into_iter()
            .map(|id| TenantStorage {
                tenant: id,
                slug: slugs.get(&id).cloned().unwrap_or_default(),
                usage: usage.get(&id).copied().unwrap_or_default(),
                orphans: orphans.get(&id).copied().unwrap_or_default(),
            })
            .collect();
        tenants.sort_by(|a, b| a.slug.cmp(&b.slug).then(a.tenant.cmp(&b.tenant)));
        report.tenants = tenants;
        if report.swept.files > 0 {
            tracing::info!(
                files = report.swept.files,
                bytes = report.swept.bytes,
                "orphaned uploads deleted"
            );
        }
        Ok(report)
    }

    /// Deletes orphaned uploads older than `grace`; returns what went.
    pub async fn sweep_orphans(&self, grace: Duration) -> UseCaseResult<Usage> {
        Ok(self.storage_report(Some(grace), Utc::now()).await?.swept)
    }
}
