//! Mängelmelder (C9): categories, reports, their public updates and the
//! Open311 API keys.
//!
//! A report is written together with its application and case by the
//! submission writer ([`crate::applications::NewApplication::defect`]), so
//! "received" means the report, the case in the routed unit's inbox, the
//! audit entry and the mail job are one commit. Status changes, moderation
//! and merging are [`Store::change_defect`]: one transaction that moves the
//! report, records the public update, keeps the case in step (open while the
//! report is open, closed when it is done or forwarded), appends to the
//! case's audit chain and enqueues the reporter's mail.

use chrono::{DateTime, Utc};
use rathaus_domain::{cases::CaseStatus, defects::DefectStatus, tenancy::TenantId};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{ExprTrait, Query},
};

use crate::{
    Repo, Result, StorageError, Store,
    audit::AuditRepository,
    entities::{
        case, defect_api_key, defect_category, defect_report, defect_street, defect_update,
    },
    identity::token_hash,
    outbox::OutboxRepository,
};

pub type Category = defect_category::Model;
pub type Report = defect_report::Model;
pub type Update = defect_update::Model;
pub type ApiKey = defect_api_key::Model;
pub type StreetRow = defect_street::Model;

/// `defect.mail {"report", "kind"}`: tells the reporter (`received`,
/// `status`, `merged`).
pub const MAIL_JOB: &str = "defect.mail";
/// `defects.sweep {}`: forgets the reporters' contact data 30 days after
/// their report was closed.
pub const SWEEP_JOB: &str = "defects.sweep";

impl defect_report::Model {
    /// The stored status; an unknown value is corrupt.
    pub fn status(&self) -> Result<DefectStatus> {
        DefectStatus::parse(&self.status).ok_or_else(|| StorageError::Corrupt {
            table: "defect_reports",
            column: "status",
            value: self.status.clone(),
        })
    }
}

/// The report part of a submission: the writer fills in the application,
/// case and reference, inserts the report with its first public update and
/// enqueues `jobs`.
#[derive(Debug, Clone)]
pub struct NewDefect {
    pub report: Report,
    pub jobs: Vec<(&'static str, serde_json::Value)>,
}

/// Which reports a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// References (Open311 `service_request_id`).
    pub references: Vec<String>,
    pub categories: Vec<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub statuses: Vec<DefectStatus>,
    /// Only reports whose case lies in one of these units (staff scope).
    pub org_units: Option<Vec<Uuid>>,
    /// Leaves out merged duplicates.
    pub without_merged: bool,
    pub limit: u64,
    pub offset: u64,
}

/// One change of a report by staff.
#[derive(Debug, Clone)]
pub enum DefectChange {
    /// A new status with the public note shown to everyone (and mailed).
    Status {
        to: DefectStatus,
        note: Option<String>,
    },
    /// What of the report the public sees.
    Moderate {
        text_public: bool,
        photos_public: bool,
    },
    /// The report duplicates `into`: it is closed as done, pointing there.
    Merge { into: Uuid, note: String },
}

#[allow(async_fn_in_trait)]
pub trait DefectRepository {
    async fn defect_categories(&self, tenant: TenantId, active_only: bool)
    -> Result<Vec<Category>>;
    async fn defect_category(&self, tenant: TenantId, id: Uuid) -> Result<Option<Category>>;
    async fn defect_category_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<Category>>;
    async fn defect_report(&self, tenant: TenantId, id: Uuid) -> Result<Option<Report>>;
    async fn defect_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<Report>>;
    async fn defect_by_token(&self, tenant: TenantId, token: &str) -> Result<Option<Report>>;
    async fn defect_by_case(&self, tenant: TenantId, case: Uuid) -> Result<Option<Report>>;
    /// Open, unmerged reports of a category with coordinates inside the box
    /// (min lat, max lat, min long, max long).
    async fn open_defects_in_box(
        &self,
        tenant: TenantId,
        category: Uuid,
        bbox: (f64, f64, f64, f64),
    ) -> Result<Vec<Report>>;
    async fn defect_reports(&self, tenant: TenantId, filter: &ReportFilter) -> Result<Vec<Report>>;
    async fn count_defect_reports(&self, tenant: TenantId, filter: &ReportFilter) -> Result<u64>;
    async fn defect_updates(&self, tenant: TenantId, report: Uuid) -> Result<Vec<Update>>;
    /// The key with this SHA-256 (any tenant; the caller checks the tenant
    /// and that it is not revoked).
    async fn defect_api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    async fn defect_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>>;
    /// Remembers when a key was last used (at most once a minute).
    async fn touch_defect_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    async fn defect_streets(&self, tenant: TenantId) -> Result<Vec<StreetRow>>;
}

fn filtered(tenant: TenantId, f: &ReportFilter) -> sea_orm::Select<defect_report::Entity> {
    use defect_report::Column as R;
    let mut q = defect_report::Entity::find().filter(R::TenantId.eq(tenant.0));
    if !f.references.is_empty() {
        q = q.filter(R::Reference.is_in(f.references.iter().cloned()));
    }
    if !f.categories.is_empty() {
        q = q.filter(R::CategoryId.is_in(f.categories.iter().copied()));
    }
    if let Some(from) = f.from {
        q = q.filter(R::CreatedAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(R::CreatedAt.lte(to));
    }
    if !f.statuses.is_empty() {
        q = q.filter(R::Status.is_in(f.statuses.iter().map(|s| s.code())));
    }
    if f.without_merged {
        q = q.filter(R::MergedInto.is_null());
    }
    if let Some(units) = &f.org_units {
        q = q.filter(
            R::CaseId.in_subquery(
                Query::select()
                    .column(case::Column::Id)
                    .from(case::Entity)
                    .and_where(case::Column::TenantId.eq(tenant.0))
                    .and_where(case::Column::OrgUnitId.is_in(units.iter().copied()))
                    .to_owned(),
            ),
        );
    }
    q
}

impl<C: ConnectionTrait> DefectRepository for Repo<'_, C> {
    async fn defect_categories(
        &self,
        tenant: TenantId,
        active_only: bool,
    ) -> Result<Vec<Category>> {
        use defect_category::Column as K;
        let mut q = defect_category::Entity::find().filter(K::TenantId.eq(tenant.0));
        if active_only {
            q = q.filter(K::Active.eq(true));
        }
        Ok(q.order_by_asc(K::Position)
            .order_by_asc(K::Name)
            .all(self.0)
            .await?)
    }

    async fn defect_category(&self, tenant: TenantId, id: Uuid) -> Result<Option<Category>> {
        Ok(defect_category::Entity::find_by_id(id)
            .filter(defect_category::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn defect_category_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<Category>> {
        Ok(defect_category::Entity::find()
            .filter(defect_category::Column::TenantId.eq(tenant.0))
            .filter(defect_category::Column::Code.eq(code))
            .one(self.0)
            .await?)
    }

    async fn defect_report(&self, tenant: TenantId, id: Uuid) -> Result<Option<Report>> {
        Ok(defect_report::Entity::find_by_id(id)
            .filter(defect_report::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn defect_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<Report>> {
        Ok(defect_report::Entity::find()
            .filter(defect_report::Column::TenantId.eq(tenant.0))
            .filter(defect_report::Column::Reference.eq(reference))
            .one(self.0)
            .await?)
    }

    async fn defect_by_token(&self, tenant: TenantId, token: &str) -> Result<Option<Report>> {
        Ok(defect_report::Entity::find()
            .filter(defect_report::Column::TenantId.eq(tenant.0))
            .filter(defect_report::Column::Token.eq(token))
            .one(self.0)
            .await?)
    }

    async fn defect_by_case(&self, tenant: TenantId, case: Uuid) -> Result<Option<Report>> {
        Ok(defect_report::Entity::find()
            .filter(defect_report::Column::TenantId.eq(tenant.0))
            .filter(defect_report::Column::CaseId.eq(case))
            .one(self.0)
            .await?)
    }

    async fn open_defects_in_box(
        &self,
        tenant: TenantId,
        category: Uuid,
        (min_lat, max_lat, min_long, max_long): (f64, f64, f64, f64),
    ) -> Result<Vec<Report>> {
        use defect_report::Column as R;
        let open: Vec<&str> = DefectStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.code())
            .collect();
        Ok(defect_report::Entity::find()
            .filter(R::TenantId.eq(tenant.0))
            .filter(R::CategoryId.eq(category))
            .filter(R::Status.is_in(open))
            .filter(R::MergedInto.is_null())
            .filter(R::Lat.between(min_lat, max_lat))
            .filter(R::Long.between(min_long, max_long))
            .order_by_asc(R::CreatedAt)
            .limit(50)
            .all(self.0)
            .await?)
    }

    async fn defect_reports(&self, tenant: TenantId, filter: &ReportFilter) -> Result<Vec<Report>> {
        Ok(filtered(tenant, filter)
            .order_by_desc(defect_report::Column::CreatedAt)
            .order_by_desc(defect_report::Column::Id)
            .limit(filter.limit.clamp(1, 1000))
            .offset(filter.offset)
            .all(self.0)
            .await?)
    }

    async fn count_defect_reports(&self, tenant: TenantId, filter: &ReportFilter) -> Result<u64> {
        Ok(filtered(tenant, filter).count(self.0).await?)
    }

    async fn defect_updates(&self, tenant: TenantId, report: Uuid) -> Result<Vec<Update>> {
        Ok(defect_update::Entity::find()
            .filter(defect_update::Column::TenantId.eq(tenant.0))
            .filter(defect_update::Column::ReportId.eq(report))
            .order_by_asc(defect_update::Column::CreatedAt)
            .order_by_asc(defect_update::Column::Id)
            .all(self.0)
            .await?)
    }

    async fn defect_api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        Ok(defect_api_key::Entity::find()
            .filter(defect_api_key::Column::KeyHash.eq(hash))
            .one(self.0)
            .await?)
    }

    async fn defect_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        Ok(defect_api_key::Entity::find()
            .filter(defect_api_key::Column::TenantId.eq(tenant.0))
            .order_by_asc(defect_api_key::Column::Name)
            .all(self.0)
            .await?)
    }

    async fn touch_defect_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        use defect_api_key::Column as K;
        defect_api_key::Entity::update_many()
            .col_expr(K::LastUsedAt, Expr::value(now))
            .filter(K::Id.eq(id))
            .filter(
                K::LastUsedAt
                    .is_null()
                    .or(K::LastUsedAt.lt(now - chrono::Duration::minutes(1))),
            )
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn defect_streets(&self, tenant: TenantId) -> Result<Vec<StreetRow>> {
        Ok(defect_street::Entity::find()
            .filter(defect_street::Column::TenantId.eq(tenant.0))
            .order_by_asc(defect_street::Column::Name)
            .all(self.0)
            .await?)
    }
}

/// The first public update of a new report (written by the submission writer).
pub(crate) fn first_update(report: &Report) -> defect_update::ActiveModel {
    defect_update::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(report.tenant_id),
        report_id: Set(report.id),
        status: Set(report.status.clone()),
        note: Set(None),
        actor_id: Set(None),
        created_at: Set(report.created_at),
    }
}

impl Store {
    /// Creates or changes the category with `model.code` (the id of an
    /// existing one is kept).
    pub async fn save_defect_category(&self, mut model: Category) -> Result<Category> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let tenant = TenantId(model.tenant_id);
        let now = Utc::now();
        model.updated_at = now;
        let saved = match repo.defect_category_by_code(tenant, &model.code).await? {
            Some(old) => {
                model.id = old.id;
                model.created_at = old.created_at;
                let mut am: defect_category::ActiveModel = model.into();
                am = am.reset_all();
                am.id = sea_orm::ActiveValue::Unchanged(old.id);
                am.update(&txn).await?
            }
            None => {
                model.created_at = now;
                defect_category::ActiveModel::from(model)
                    .insert(&txn)
                    .await
                    .map_err(StorageError::conflict_on("code"))?
            }
        };
        txn.commit().await?;
        Ok(saved)
    }

    /// Changes a report (see [`DefectChange`]) in one transaction. `actor` is
    /// (user id, audit name). A status step the domain refuses is
    /// `Conflict("status")`.
    pub async fn change_defect(
        &self,
        tenant: TenantId,
        report: Uuid,
        actor: (Uuid, &str),
        change: DefectChange,
    ) -> Result<Report> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let r = repo
            .defect_report(tenant, report)
            .await?
            .ok_or(StorageError::NotFound("report"))?;
        let now = Utc::now();
        let from = r.status()?;
        let mut am: defect_report::ActiveModel = r.clone().into();
        am.updated_at = Set(now);
        let (action, detail, update, mail) = match change {
            DefectChange::Status { to, note } => {
                let to = from
                    .next(to)
                    .map_err(|_| StorageError::Conflict("status"))?;
                am.status = Set(to.code().into());
                if note.is_some() {
                    am.public_note = Set(note.clone());
                }
                am.closed_at = Set((!to.is_open()).then_some(now));
                (
                    "defect_status",
                    serde_json::json!({ "from": from.code(), "to": to.code(), "note": note }),
                    Some((to, note)),
                    Some("status"),
                )
            }
            DefectChange::Moderate {
                text_public,
                photos_public,
            } => {
                am.text_public = Set(text_public);
                am.photos_public = Set(photos_public);
                am.moderated_at = Set(Some(now));
                (
                    "defect_moderated",
                    serde_json::json!({ "text_public": text_public, "photos_public": photos_public }),
                    None,
                    None,
                )
            }
            DefectChange::Merge { into, note } => {
                if into == r.id {
                    return Err(StorageError::Conflict("merge"));
                }
                let target = repo
                    .defect_report(tenant, into)
                    .await?
                    .ok_or(StorageError::NotFound("report"))?;
                if target.merged_into.is_some() || r.merged_into.is_some() {
                    return Err(StorageError::Conflict("merge"));
                }
                let to = if from.is_open() {
                    from.next(DefectStatus::Done)
                        .map_err(|_| StorageError::Conflict("status"))?
                } else {
                    from
                };
                am.merged_into = Set(Some(into));
                am.status = Set(to.code().into());
                am.public_note = Set(Some(note.clone()));
                am.closed_at = Set(Some(now));
                (
                    "defect_merged",
                    serde_json::json!({ "into": into, "reference": target.reference }),
                    Some((to, Some(note))),
                    Some("merged"),
                )
            }
        };
        let saved = am.update(&txn).await?;
        if let Some((to, note)) = update {
            defect_update::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                report_id: Set(r.id),
                status: Set(to.code().into()),
                note: Set(note),
                actor_id: Set(Some(actor.0)),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            // The case follows the report: open while it is open, closed
            // when it is done or forwarded.
            let case_status = if to.is_open() {
                if to == DefectStatus::Open {
                    CaseStatus::Received
                } else {
                    CaseStatus::InProgress
                }
            } else {
                CaseStatus::Closed
            };
            case::Entity::update_many()
                .col_expr(case::Column::Status, Expr::value(case_status.code()))
                .col_expr(case::Column::UpdatedAt, Expr::value(now))
                .filter(case::Column::TenantId.eq(tenant.0))
                .filter(case::Column::Id.eq(r.case_id))
                .exec(&txn)
                .await?;
        }
        repo.append_audit(tenant, r.case_id, actor.1, action, &detail)
            .await?;
        if let Some(kind) = mail
            && r.email.is_some()
        {
            repo.enqueue(
                Some(tenant),
                MAIL_JOB,
                &serde_json::json!({ "report": r.id, "kind": kind }),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(saved)
    }

    /// Issues an Open311 API key: returns it with the key in plain text
    /// (shown once; only its SHA-256 is stored).
    pub async fn create_defect_api_key(
        &self,
        tenant: TenantId,
        name: &str,
        created_by: Option<Uuid>,
    ) -> Result<(ApiKey, String)> {
        let key = crate::identity::generate_token().replacen("rh_", "o311_", 1);
        let saved = self
            .insert_defect_api_key(tenant, name, created_by, &key)
            .await?;
        Ok((saved, key))
    }

    /// Stores a key chosen by the caller (the demo's known key).
    pub async fn insert_defect_api_key(
        &self,
        tenant: TenantId,
        name: &str,
        created_by: Option<Uuid>,
        key: &str,
    ) -> Result<ApiKey> {
        let model = defect_api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            name: Set(name.into()),
            key_hash: Set(token_hash(key)),
            prefix: Set(key.chars().take(12).collect()),
            created_by: Set(created_by),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
            last_used_at: Set(None),
        };
        let txn = self.begin_write().await?;
        let saved = model
            .insert(&txn)
            .await
            .map_err(StorageError::conflict_on("name"))?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Revokes a key (idempotent).
    pub async fn revoke_defect_api_key(&self, tenant: TenantId, id: Uuid) -> Result<ApiKey> {
        let txn = self.begin_write().await?;
        let key = defect_api_key::Entity::find_by_id(id)
            .filter(defect_api_key::Column::TenantId.eq(tenant.0))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound("api_key"))?;
        let saved = if key.revoked_at.is_some() {
            key
        } else {
            let mut am: defect_api_key::ActiveModel = key.into();
            am.revoked_at = Set(Some(Utc::now()));
            am.update(&txn).await?
        };
        txn.commit().await?;
        Ok(saved)
    }

    /// Replaces the tenant's street list (name, postal code, lat, long).
    pub async fn replace_defect_streets(
        &self,
        tenant: TenantId,
        streets: &[(String, String, f64, f64)],
    ) -> Result<usize> {
        let txn = self.begin_write().await?;
        defect_street::Entity::delete_many()
            .filter(defect_street::Column::TenantId.eq(tenant.0))
            .exec(&txn)
            .await?;
        let rows: Vec<defect_street::ActiveModel> = streets
            .iter()
            .map(|(name, plz, lat, long)| defect_street::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.0),
                name: Set(name.clone()),
                postal_code: Set(plz.clone()),
                lat: Set(*lat),
                long: Set(*long),
            })
            .collect();
        for chunk in rows.chunks(200) {
            defect_street::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await
                .map_err(StorageError::conflict_on("name"))?;
        }
        txn.commit().await?;
        Ok(streets.len())
    }

    /// Forgets the contact data of reports closed before `before`; returns
    /// how many reports were cleared.
    pub async fn forget_defect_reporters(&self, before: DateTime<Utc>) -> Result<u64> {
        use defect_report::Column as R;
        let txn = self.begin_write().await?;
        let n = defect_report::Entity::update_many()
            .col_expr(R::Email, Expr::value(Option::<String>::None))
            .col_expr(R::FirstName, Expr::value(Option::<String>::None))
            .col_expr(R::LastName, Expr::value(Option::<String>::None))
            .col_expr(R::Phone, Expr::value(Option::<String>::None))
            .filter(R::ClosedAt.lt(before))
            .filter(
                R::Email
                    .is_not_null()
                    .or(R::FirstName.is_not_null())
                    .or(R::LastName.is_not_null())
                    .or(R::Phone.is_not_null()),
            )
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(n)
    }
}
