//! The editorial workflow (four eyes, versions, history) once, for every
//! kind of versioned content: services ([`crate::catalog::Services`]) and
//! forms ([`crate::forms::Forms`]). A kind names its tables through
//! [`Versioned`]; submit, approve, reject, archive and history are written
//! here, on top of the domain rule `rathaus_domain::catalog::transition`.

use chrono::{DateTime, Utc};
use rathaus_domain::{
    catalog::{VersionStatus, WorkflowAction, WorkflowError, transition},
    tenancy::TenantId,
};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{Repo, Result, Store};

/// The workflow columns every version row has.
pub trait VersionRow: Clone + Send + Sync {
    fn id(&self) -> Uuid;
    fn number(&self) -> i32;
    fn status(&self) -> VersionStatus;
    /// Who wrote the version (the one who may not approve it).
    fn author(&self) -> Uuid;
    fn reviewer(&self) -> Option<Uuid>;
    fn review_comment(&self) -> Option<&str>;
    fn updated_at(&self) -> DateTime<Utc>;
}

/// What a workflow step records on a version besides its new status.
#[derive(Debug, Clone)]
pub enum Stamp {
    Submitted { by: Uuid },
    Approved { by: Uuid },
    Rejected { by: Uuid, comment: Option<String> },
}

/// The table-specific part of a versioned kind of content.
#[allow(async_fn_in_trait)]
pub trait Versioned {
    type Version: VersionRow;
    /// The published version's id; `NotFound` when the record does not exist.
    async fn published_pointer<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<Uuid>>;
    /// The draft or in-review version, if there is one.
    async fn open_version<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<Self::Version>>;
    /// All versions, newest first.
    async fn history<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Vec<Self::Version>>;
    /// Sets the status and records the step.
    async fn stamp<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        version: Self::Version,
        status: VersionStatus,
        stamp: Stamp,
    ) -> Result<Self::Version>;
    /// Marks a formerly published version superseded.
    async fn supersede<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        version: Uuid,
    ) -> Result<()>;
    /// Points the record at its newly published version.
    async fn publish<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
        version: Uuid,
    ) -> Result<()>;
}

/// A kind whose records can be taken off the public portal.
#[allow(async_fn_in_trait)]
pub trait Archivable: Versioned {
    async fn archive<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<()>;
}

impl<C: ConnectionTrait> Repo<'_, C> {
    async fn open_or_refuse<T: Versioned>(&self, tenant: TenantId, id: Uuid) -> Result<T::Version> {
        Ok(T::open_version(self, tenant, id)
            .await?
            .ok_or(WorkflowError::WrongStatus)?)
    }

    /// Hands the open draft to review.
    pub async fn submit_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
    ) -> Result<T::Version> {
        let v = self.open_or_refuse::<T>(tenant, id).await?;
        let next = transition(v.status(), WorkflowAction::Submit, &actor, &v.author())?;
        T::stamp(self, v, next, Stamp::Submitted { by: actor }).await
    }

    /// Publishes the version in review; refuses the author's own approval.
    /// Writes more than once: on the pool use [`Store::workflow_step`].
    pub async fn approve_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
    ) -> Result<T::Version> {
        let current = T::published_pointer(self, tenant, id).await?;
        let v = self.open_or_refuse::<T>(tenant, id).await?;
        let next = transition(v.status(), WorkflowAction::Approve, &actor, &v.author())?;
        if let Some(old) = current {
            T::supersede(self, tenant, old).await?;
        }
        let vid = v.id();
        let published = T::stamp(self, v, next, Stamp::Approved { by: actor }).await?;
        T::publish(self, tenant, id, vid).await?;
        Ok(published)
    }

    /// Sends the version in review back to its author with a comment.
    pub async fn reject_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<T::Version> {
        let v = self.open_or_refuse::<T>(tenant, id).await?;
        let next = transition(v.status(), WorkflowAction::Reject, &actor, &v.author())?;
        let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
        T::stamp(self, v, next, Stamp::Rejected { by: actor, comment }).await
    }

    /// All versions, newest first.
    pub async fn version_history<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Vec<T::Version>> {
        T::history(self, tenant, id).await
    }
}

/// A step of the workflow, as [`Store::workflow_step`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowStep {
    Submit,
    Approve,
    /// With a comment for the author (may be empty).
    Reject(String),
}

impl Store {
    /// Submits, approves or rejects in one write transaction (so a
    /// publication is all or nothing).
    pub async fn workflow_step<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
        step: WorkflowStep,
    ) -> Result<T::Version> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let v = match step {
            WorkflowStep::Submit => repo.submit_version::<T>(tenant, id, actor).await?,
            WorkflowStep::Approve => repo.approve_version::<T>(tenant, id, actor).await?,
            WorkflowStep::Reject(c) => repo.reject_version::<T>(tenant, id, actor, &c).await?,
        };
        txn.commit().await?;
        Ok(v)
    }

    /// Takes a record off the portal in one write transaction.
    pub async fn archive_record<T: Archivable>(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        let txn = self.begin_write().await?;
        T::archive(&Repo(&txn), tenant, id).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Implements [`VersionRow`] and [`Versioned`] for a kind whose version
/// entity has the common workflow columns. Names, at the call site: the kind,
/// its version model and entity module, and the `Repo` methods that read the
/// record, its open version and its history, and publish a version.
macro_rules! versioned {
    (
        $kind:ty, $model:ty, $entity:ident,
        record: $record:ident, open: $open:ident, history: $history:ident, publish: $publish:ident
    ) => {
        impl $crate::editorial::VersionRow for $model {
            fn id(&self) -> Uuid {
                self.id
            }
            fn number(&self) -> i32 {
                self.number
            }
            fn status(&self) -> VersionStatus {
                <$model>::status(self)
            }
            fn author(&self) -> Uuid {
                self.author_id
            }
            fn reviewer(&self) -> Option<Uuid> {
                self.reviewed_by
            }
            fn review_comment(&self) -> Option<&str> {
                self.review_comment.as_deref()
            }
            fn updated_at(&self) -> chrono::DateTime<Utc> {
                self.updated_at
            }
        }

        impl $crate::editorial::Versioned for $kind {
            type Version = $model;

            async fn published_pointer<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                tenant: TenantId,
                id: Uuid,
            ) -> Result<Option<Uuid>> {
                Ok(repo.$record(tenant, id).await?.published_version_id)
            }

            async fn open_version<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                tenant: TenantId,
                id: Uuid,
            ) -> Result<Option<$model>> {
                repo.$open(tenant, id).await
            }

            async fn history<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                tenant: TenantId,
                id: Uuid,
            ) -> Result<Vec<$model>> {
                repo.$history(tenant, id).await
            }

            async fn stamp<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                version: $model,
                status: VersionStatus,
                stamp: $crate::editorial::Stamp,
            ) -> Result<$model> {
                use $crate::editorial::Stamp;
                let mut am: $entity::ActiveModel = version.into();
                am.status = Set(status.code().to_string());
                am.updated_at = Set(Utc::now());
                match stamp {
                    Stamp::Submitted { by } => am.submitted_by = Set(Some(by)),
                    Stamp::Approved { by } => {
                        am.reviewed_by = Set(Some(by));
                        am.reviewed_at = Set(Some(Utc::now()));
                    }
                    Stamp::Rejected { by, comment } => {
                        am.reviewed_by = Set(Some(by));
                        am.reviewed_at = Set(Some(Utc::now()));
                        am.review_comment = Set(comment);
                    }
                }
                Ok(am.update(repo.0).await?)
            }

            async fn supersede<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                tenant: TenantId,
                version: Uuid,
            ) -> Result<()> {
                $entity::Entity::update_many()
                    .col_expr(
                        $entity::Column::Status,
                        Expr::value(VersionStatus::Superseded.code()),
                    )
                    .filter($entity::Column::Id.eq(version))
                    .filter($entity::Column::TenantId.eq(tenant.0))
                    .exec(repo.0)
                    .await?;
                Ok(())
            }

            async fn publish<C: ConnectionTrait>(
                repo: &Repo<'_, C>,
                tenant: TenantId,
                id: Uuid,
                version: Uuid,
            ) -> Result<()> {
                repo.$publish(tenant, id, version).await
            }
        }
    };
}
pub(crate) use versioned;

/// A change to a record outside its versions (see
/// [`crate::entities::editorial_change`]).
pub type RecordChange = crate::entities::editorial_change::Model;

/// What a [`RecordChange`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// Take the record off the portal.
    Archive,
    /// Link the form to this service (none: to no service).
    Attach(Option<Uuid>),
}

impl ChangeAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::Archive => "archive",
            Self::Attach(_) => "attach",
        }
    }
}

impl RecordChange {
    /// The action, or [`crate::StorageError::Corrupt`] for an unknown value.
    pub fn try_action(&self) -> Result<ChangeAction> {
        match self.action.as_str() {
            "archive" => Ok(ChangeAction::Archive),
            "attach" => Ok(ChangeAction::Attach(self.target_id)),
            other => Err(crate::StorageError::Corrupt {
                table: "editorial_changes",
                column: "action",
                value: other.to_string(),
            }),
        }
    }
}

/// A kind whose records take changes besides their versions; each applies
/// the actions it supports and refuses the others.
#[allow(async_fn_in_trait)]
pub trait ChangeKind: Versioned {
    /// The `kind` column (`services`, `forms`).
    const KIND: &'static str;
    /// Whether this kind has the action at all.
    fn supports(action: ChangeAction) -> bool;
    /// Applies an approved change (inside the approving transaction).
    async fn apply<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
        action: ChangeAction,
    ) -> Result<()>;
}

impl ChangeKind for crate::catalog::Services {
    const KIND: &'static str = "services";
    fn supports(action: ChangeAction) -> bool {
        action == ChangeAction::Archive
    }
    async fn apply<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
        action: ChangeAction,
    ) -> Result<()> {
        match action {
            ChangeAction::Archive => Self::archive(repo, tenant, id).await,
            ChangeAction::Attach(_) => Err(WorkflowError::WrongStatus.into()),
        }
    }
}

impl ChangeKind for crate::forms::Forms {
    const KIND: &'static str = "forms";
    fn supports(action: ChangeAction) -> bool {
        matches!(action, ChangeAction::Attach(_))
    }
    async fn apply<C: ConnectionTrait>(
        repo: &Repo<'_, C>,
        tenant: TenantId,
        id: Uuid,
        action: ChangeAction,
    ) -> Result<()> {
        use crate::forms::FormRepository;
        match action {
            ChangeAction::Attach(service) => repo.attach_form(tenant, id, service).await,
            ChangeAction::Archive => Err(WorkflowError::WrongStatus.into()),
        }
    }
}

impl<C: ConnectionTrait> Repo<'_, C> {
    /// The change of a record waiting for a second editor, if any.
    pub async fn pending_change<T: ChangeKind>(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<RecordChange>> {
        use crate::entities::editorial_change as ec;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        Ok(ec::Entity::find()
            .filter(ec::Column::TenantId.eq(tenant.0))
            .filter(ec::Column::Kind.eq(T::KIND))
            .filter(ec::Column::RecordId.eq(id))
            .filter(ec::Column::Status.eq("pending"))
            .order_by_desc(ec::Column::RequestedAt)
            .one(self.0)
            .await?)
    }
}

impl Store {
    /// Records a change of a record for review, in one write transaction: a
    /// change still pending for the record is replaced by this one. Nothing
    /// takes effect until [`Store::review_change`] approves it.
    pub async fn request_change<T: ChangeKind>(
        &self,
        tenant: TenantId,
        id: Uuid,
        action: ChangeAction,
        by: Uuid,
    ) -> Result<RecordChange> {
        use crate::entities::editorial_change as ec;
        use sea_orm::{
            ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
            sea_query::Expr,
        };
        if !T::supports(action) {
            return Err(WorkflowError::WrongStatus.into());
        }
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        T::published_pointer(&repo, tenant, id).await?; // NotFound for a stranger's record
        ec::Entity::update_many()
            .col_expr(ec::Column::Status, Expr::value("replaced"))
            .filter(ec::Column::TenantId.eq(tenant.0))
            .filter(ec::Column::Kind.eq(T::KIND))
            .filter(ec::Column::RecordId.eq(id))
            .filter(ec::Column::Status.eq("pending"))
            .exec(&txn)
            .await?;
        let change = ec::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            kind: Set(T::KIND.to_string()),
            record_id: Set(id),
            action: Set(action.code().to_string()),
            target_id: Set(match action {
                ChangeAction::Attach(s) => s,
                ChangeAction::Archive => None,
            }),
            requested_by: Set(by),
            requested_at: Set(Utc::now()),
            status: Set("pending".into()),
            reviewed_by: Set(None),
            reviewed_at: Set(None),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(change)
    }

    /// Approves (applies) or rejects the pending change of a record, in one
    /// write transaction. Its requester cannot approve it (the domain's
    /// four-eyes rule); rejecting their own request withdraws it.
    pub async fn review_change<T: ChangeKind>(
        &self,
        tenant: TenantId,
        id: Uuid,
        reviewer: Uuid,
        approve: bool,
    ) -> Result<RecordChange> {
        use crate::entities::editorial_change as ec;
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        let change = repo
            .pending_change::<T>(tenant, id)
            .await?
            .ok_or(WorkflowError::WrongStatus)?;
        let status = if approve {
            transition(
                VersionStatus::InReview,
                WorkflowAction::Approve,
                &reviewer,
                &change.requested_by,
            )?;
            T::apply(&repo, tenant, id, change.try_action()?).await?;
            "approved"
        } else {
            "rejected"
        };
        let mut am: ec::ActiveModel = change.into();
        am.status = Set(status.into());
        am.reviewed_by = Set(Some(reviewer));
        am.reviewed_at = Set(Some(Utc::now()));
        let change = am.update(&txn).await?;
        txn.commit().await?;
        Ok(change)
    }
}
