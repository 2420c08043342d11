//! The tenants' seal keys (elektronisches Siegel): the private key is stored
//! sealed with the instance key (`RATHAUS_SECRET_KEY`, see [`crate::secrets`]),
//! never in plain text; the certificate is public. A tenant has one active
//! key; older keys stay as trust anchors so that documents sealed before a
//! key change still verify.

use chrono::Utc;
use rathaus_domain::tenancy::TenantId;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, prelude::*};

use crate::{Repo, Result, Store, entities::seal_key};

pub type SealKeyRow = seal_key::Model;

/// A new key to store (the private key already sealed by the caller's
/// [`crate::secrets::SecretKey`] — [`Store::add_seal_key`] does it).
#[derive(Debug, Clone)]
pub struct NewSealKey {
    pub algorithm: String,
    /// PKCS#8, base64 (sealed before it is written).
    pub private_key: String,
    pub certificate_pem: String,
    pub fingerprint: String,
}

#[allow(async_fn_in_trait)]
pub trait SealKeyRepository {
    /// The tenant's active key.
    async fn active_seal_key(&self, tenant: TenantId) -> Result<Option<SealKeyRow>>;
    /// All keys of the tenant, newest first (trust anchors).
    async fn seal_keys(&self, tenant: TenantId) -> Result<Vec<SealKeyRow>>;
}

impl<C: ConnectionTrait> SealKeyRepository for Repo<'_, C> {
    async fn active_seal_key(&self, tenant: TenantId) -> Result<Option<SealKeyRow>> {
        Ok(seal_key::Entity::find()
            .filter(seal_key::Column::TenantId.eq(tenant.0))
            .filter(seal_key::Column::Active.eq(true))
            .order_by_desc(seal_key::Column::CreatedAt)
            .one(self.0)
            .await?)
    }

    async fn seal_keys(&self, tenant: TenantId) -> Result<Vec<SealKeyRow>> {
        Ok(seal_key::Entity::find()
            .filter(seal_key::Column::TenantId.eq(tenant.0))
            .order_by_desc(seal_key::Column::CreatedAt)
            .all(self.0)
            .await?)
    }
}

impl Store {
    /// Stores a new active key (the private key sealed with the instance key
    /// under the tenant's id); an earlier active key stays as a trust anchor.
    /// When another process created a key first, that one is returned and
    /// this one dropped (one active key per tenant).
    pub async fn add_seal_key(&self, tenant: TenantId, key: NewSealKey) -> Result<SealKeyRow> {
        let txn = self.begin_write().await?;
        let repo = Repo(&txn);
        if let Some(k) = repo.active_seal_key(tenant).await? {
            txn.commit().await?;
            return Ok(k);
        }
        let sealed = self
            .secrets()
            .seal(&key.private_key, &format!("seal-key/{}", tenant.0));
        let row = seal_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            algorithm: Set(key.algorithm),
            private_key: Set(sealed),
            certificate: Set(key.certificate_pem),
            fingerprint: Set(key.fingerprint),
            created_at: Set(Utc::now()),
            active: Set(true),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The private key of a stored row (base64 PKCS#8), or none when the
    /// instance key is not the one it was sealed with.
    pub fn open_seal_key(&self, row: &SealKeyRow) -> Option<String> {
        self.secrets()
            .open(&row.private_key, &format!("seal-key/{}", row.tenant_id))
    }
}
