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
    /// Writes more than once: on the pool use [`Store::approve_version`].
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

impl Store {
    /// [`Repo::submit_version`] in one write transaction.
    pub async fn submit_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
    ) -> Result<T::Version> {
        let txn = self.begin_write().await?;
        let v = Repo(&txn).submit_version::<T>(tenant, id, actor).await?;
        txn.commit().await?;
        Ok(v)
    }

    /// [`Repo::approve_version`] in one write transaction, so a publication
    /// is all or nothing.
    pub async fn approve_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
    ) -> Result<T::Version> {
        let txn = self.begin_write().await?;
        let v = Repo(&txn).approve_version::<T>(tenant, id, actor).await?;
        txn.commit().await?;
        Ok(v)
    }

    /// [`Repo::reject_version`] in one write transaction.
    pub async fn reject_version<T: Versioned>(
        &self,
        tenant: TenantId,
        id: Uuid,
        actor: Uuid,
        comment: &str,
    ) -> Result<T::Version> {
        let txn = self.begin_write().await?;
        let v = Repo(&txn)
            .reject_version::<T>(tenant, id, actor, comment)
            .await?;
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

/// [`VersionRow`] for a version entity with the common workflow columns.
macro_rules! version_row {
    ($model:ty) => {
        impl $crate::editorial::VersionRow for $model {
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn number(&self) -> i32 {
                self.number
            }
            fn status(&self) -> rathaus_domain::catalog::VersionStatus {
                <$model>::status(self)
            }
            fn author(&self) -> uuid::Uuid {
                self.author_id
            }
            fn reviewer(&self) -> Option<uuid::Uuid> {
                self.reviewed_by
            }
            fn review_comment(&self) -> Option<&str> {
                self.review_comment.as_deref()
            }
            fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.updated_at
            }
        }
    };
}
pub(crate) use version_row;

/// Applies a [`Stamp`] to a version's active model (same columns everywhere).
macro_rules! apply_stamp {
    ($am:expr, $status:expr, $stamp:expr) => {{
        use sea_orm::ActiveValue::Set;
        $am.status = Set($status.code().to_string());
        $am.updated_at = Set(chrono::Utc::now());
        match $stamp {
            $crate::editorial::Stamp::Submitted { by } => $am.submitted_by = Set(Some(by)),
            $crate::editorial::Stamp::Approved { by } => {
                $am.reviewed_by = Set(Some(by));
                $am.reviewed_at = Set(Some(chrono::Utc::now()));
            }
            $crate::editorial::Stamp::Rejected { by, comment } => {
                $am.reviewed_by = Set(Some(by));
                $am.reviewed_at = Set(Some(chrono::Utc::now()));
                $am.review_comment = Set(comment);
            }
        }
    }};
}
pub(crate) use apply_stamp;
