//! Cases (C5): the inboxes of the org units, case reads and the clerk's
//! changes to a case.

use chrono::Utc;
use rathaus_domain::{cases::CaseStatus, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, prelude::*};

use crate::{
    Repo, Result, StorageError, Store,
    applications::{Application, ApplicationRepository},
    audit::AuditRepository,
    entities::{application, case},
    outbox::OutboxRepository,
};

pub type Case = case::Model;

impl case::Model {
    /// The status. Rows read through the repositories are checked
    /// ([`StorageError::Corrupt`] otherwise), so this is the stored value;
    /// use [`case::Model::try_status`] for a row from elsewhere.
    pub fn status(&self) -> CaseStatus {
        self.try_status().unwrap_or(CaseStatus::Received)
    }

    /// The status, or [`StorageError::Corrupt`] for an unknown value.
    pub fn try_status(&self) -> Result<CaseStatus> {
        crate::parse_column("cases", "status", &self.status, CaseStatus::parse)
    }

    /// Open and past its due date.
    pub fn overdue(&self, now: chrono::DateTime<Utc>) -> bool {
        self.status().is_open()
            && !matches!(self.status(), CaseStatus::Decided)
            && self.due_at.is_some_and(|d| d < now)
    }
}

/// A case as read: its status must be a known one.
pub(crate) fn checked(c: Case) -> Result<Case> {
    c.try_status()?;
    Ok(c)
}

/// Filters of a case inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// Only these statuses; empty: all open ones.
    pub statuses: Vec<CaseStatus>,
    /// Only cases assigned to this user.
    pub assignee: Option<Uuid>,
    /// Only unassigned cases.
    pub unassigned: bool,
    /// Only open cases past their due date.
    pub overdue: bool,
    /// Reference number (exact, case-insensitive).
    pub reference: Option<String>,
    /// Keyset: cases created before this (created_at, id).
    pub before: Option<(chrono::DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// A row of an inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub case: Case,
    pub application: Application,
}

#[allow(async_fn_in_trait)]
pub trait CaseRepository {
    /// Cases in the given org units, newest first, by keyset.
    async fn inbox(
        &self,
        tenant: TenantId,
        units: &[Uuid],
        q: &InboxQuery,
    ) -> Result<Vec<InboxRow>>;
    async fn case(&self, tenant: TenantId, id: Uuid) -> Result<Option<Case>>;
    /// The case of an application.
    async fn case_of(&self, tenant: TenantId, application: Uuid) -> Result<Option<Case>>;
    /// Moves a case to `next` (one update).
    async fn set_case_status(&self, c: &Case, next: CaseStatus) -> Result<Case>;
}

impl<C: ConnectionTrait> CaseRepository for Repo<'_, C> {
    /// Cases in the given org units, newest first, by keyset.
    async fn inbox(
        &self,
        tenant: TenantId,
        units: &[Uuid],
        q: &InboxQuery,
    ) -> Result<Vec<InboxRow>> {
        let statuses: Vec<&str> = if q.statuses.is_empty() {
            CaseStatus::ALL
                .iter()
                .filter(|s| s.in_inbox())
                .map(|s| s.code())
                .collect()
        } else {
            q.statuses.iter().map(|s| s.code()).collect()
        };
        let application = match &q.reference {
            Some(r) => match self.application_by_reference(tenant, r).await? {
                Some(app) => Some(app.id),
                None => return Ok(vec![]),
            },
            None => None,
        };
        let limit = q.limit.clamp(1, 200);
        let query = |units: &[Uuid], statuses: &[&str]| {
            let mut find = case::Entity::find()
                .filter(case::Column::TenantId.eq(tenant.0))
                .filter(case::Column::OrgUnitId.is_in(units.iter().copied()))
                .filter(case::Column::Status.is_in(statuses.iter().copied()));
            if let Some(a) = q.assignee {
                find = find.filter(case::Column::AssigneeId.eq(a));
            }
            if q.unassigned {
                find = find.filter(case::Column::AssigneeId.is_null());
            }
            if q.overdue {
                find = find.filter(case::Column::DueAt.lt(Utc::now()));
            }
            if let Some(app) = application {
                find = find.filter(case::Column::ApplicationId.eq(app));
            }
            if let Some((at, id)) = q.before {
                // The plain bound comes first: without it SQLite plans the OR
                // as two index searches whose union it sorts in full (every
                // older case); with it, one backwards range walk that stops
                // after a page.
                find = find.filter(case::Column::CreatedAt.lte(at)).filter(
                    sea_orm::Condition::any()
                        .add(case::Column::CreatedAt.lt(at))
                        .add(
                            sea_orm::Condition::all()
                                .add(case::Column::CreatedAt.eq(at))
                                .add(case::Column::Id.lt(id)),
                        ),
                );
            }
            find.order_by_desc(case::Column::CreatedAt)
                .order_by_desc(case::Column::Id)
                .limit(limit)
        };
        // One query per (org unit, status): each walks the inbox index
        // (tenant, unit, status, created_at) backwards and stops after
        // `limit` rows, so a page costs the same with a thousand or a million
        // cases; the newest `limit` of all of them form the page. With very
        // many pairs, one query filters instead.
        let mut cases = if units.len() * statuses.len() <= 48 {
            let mut all = Vec::new();
            for u in units {
                for st in &statuses {
                    all.extend(
                        query(std::slice::from_ref(u), std::slice::from_ref(st))
                            .all(self.0)
                            .await?,
                    );
                }
            }
            all
        } else {
            query(units, &statuses).all(self.0).await?
        };
        cases.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id)));
        cases.truncate(limit as usize);
        let apps: std::collections::HashMap<Uuid, Application> = application::Entity::find()
            .filter(application::Column::TenantId.eq(tenant.0))
            .filter(application::Column::Id.is_in(cases.iter().map(|c| c.application_id)))
            .all(self.0)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        cases
            .into_iter()
            .filter_map(|c| {
                let a = apps.get(&c.application_id)?.clone();
                Some(checked(c).map(|case| InboxRow {
                    case,
                    application: a,
                }))
            })
            .collect()
    }

    async fn case(&self, tenant: TenantId, id: Uuid) -> Result<Option<Case>> {
        case::Entity::find_by_id(id)
            .filter(case::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    async fn case_of(&self, tenant: TenantId, application: Uuid) -> Result<Option<Case>> {
        case::Entity::find()
            .filter(case::Column::TenantId.eq(tenant.0))
            .filter(case::Column::ApplicationId.eq(application))
            .one(self.0)
            .await?
            .map(checked)
            .transpose()
    }

    async fn set_case_status(&self, c: &Case, next: CaseStatus) -> Result<Case> {
        let mut am: case::ActiveModel = c.clone().into();
        am.status = Set(next.code().to_string());
        am.updated_at = Set(Utc::now());
        let c = am.update(self.0).await?;
        // The e-file follows every status change (its Vorgang closes with
        // the case and its retention starts): filed by the outbox job.
        self.enqueue(
            Some(TenantId(c.tenant_id)),
            crate::outbox::FILE_CASE_JOB,
            &serde_json::json!({ "application": c.application_id }),
        )
        .await?;
        Ok(c)
    }
}

/// Why a case action is refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Transition(#[from] rathaus_domain::cases::TransitionError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sea_orm::DbErr> for CaseError {
    fn from(e: sea_orm::DbErr) -> Self {
        CaseError::Storage(e.into())
    }
}

/// What a clerk does to a case.
#[derive(Debug, Clone)]
pub enum CaseChange {
    /// Take the case (and start working on it).
    Claim,
    Status(rathaus_domain::cases::CaseAction),
    Note(String),
    Forward(Uuid),
}

impl Store {
    /// Applies a clerk's change to a case in one transaction with its audit entry.
    pub async fn change_case(
        &self,
        tenant: TenantId,
        case_id: Uuid,
        actor: (Uuid, &str),
        change: CaseChange,
    ) -> std::result::Result<Case, CaseError> {
        use rathaus_domain::cases::{CaseAction, transition};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let c = repo
            .case(tenant, case_id)
            .await?
            .ok_or(StorageError::NotFound("case"))?;
        let status = c.status();
        let mut am: case::ActiveModel = c.clone().into();
        let (action, detail) = match &change {
            CaseChange::Claim => {
                let next = if status == CaseStatus::Received {
                    transition(status, CaseAction::Start)?
                } else if status.is_open() {
                    status
                } else {
                    return Err(rathaus_domain::cases::TransitionError {
                        from: status,
                        action: CaseAction::Start,
                    }
                    .into());
                };
                am.assignee_id = Set(Some(actor.0));
                am.status = Set(next.code().to_string());
                (
                    "claimed",
                    serde_json::json!({ "assignee": actor.0, "status": next.code() }),
                )
            }
            CaseChange::Status(a) => {
                let next = transition(status, *a)?;
                am.status = Set(next.code().to_string());
                (
                    "status",
                    serde_json::json!({ "from": status.code(), "to": next.code() }),
                )
            }
            CaseChange::Note(text) => ("note", serde_json::json!({ "text": text })),
            CaseChange::Forward(unit) => {
                use crate::tenancy::OrgUnitRepository;
                if repo.org_unit(tenant, *unit).await?.is_none() {
                    return Err(StorageError::NotFound("org unit").into());
                }
                am.org_unit_id = Set(*unit);
                am.assignee_id = Set(None);
                (
                    "forwarded",
                    serde_json::json!({ "from": c.org_unit_id, "to": unit }),
                )
            }
        };
        am.updated_at = Set(Utc::now());
        let updated = am.update(&txn).await?;
        repo.append_audit(tenant, case_id, actor.1, action, &detail)
            .await?;
        if !matches!(change, CaseChange::Note(_)) {
            // The e-file follows the status and the unit (as with
            // `set_case_status`).
            repo.enqueue(
                Some(tenant),
                crate::outbox::FILE_CASE_JOB,
                &serde_json::json!({ "application": updated.application_id }),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(updated)
    }
}
