//! Citizen accounts (Bürgerkonto, basic): email + password (argon2id), email
//! confirmation by a one-time token (stored as SHA-256), profile data that
//! prefills forms. Accounts belong to a tenant like everything else.

use std::collections::HashMap;

use chrono::Utc;
use rathaus_domain::{identity::Email, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, prelude::*};

use crate::{
    Repo, Result, StorageError,
    entities::citizen,
    identity::{dummy_hash, hash_password, token_hash, verify_password},
};

pub type Citizen = citizen::Model;

impl citizen::Model {
    /// Profile values by autocomplete token.
    pub fn profile_map(&self) -> HashMap<String, String> {
        serde_json::from_str(&self.profile).unwrap_or_default()
    }

    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// The profile fields an account keeps (autocomplete tokens, the keys that
/// prefill forms), with German and English labels.
pub const PROFILE_FIELDS: [(&str, &str, &str); 8] = [
    ("given-name", "Vorname", "Given name"),
    ("family-name", "Familienname", "Family name"),
    (
        "bday",
        "Geburtsdatum (JJJJ-MM-TT)",
        "Date of birth (YYYY-MM-DD)",
    ),
    ("address-line1", "Straße", "Street"),
    ("address-line2", "Hausnummer", "House number"),
    ("postal-code", "Postleitzahl", "Postal code"),
    ("address-level2", "Ort", "Town"),
    ("tel", "Telefon", "Phone"),
];

#[allow(async_fn_in_trait)]
pub trait CitizenRepository {
    /// Creates an unconfirmed account; `confirm_token` is the token sent by
    /// email. An existing address is a conflict on `email`.
    async fn create_citizen(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
        confirm_token: &str,
    ) -> Result<Citizen>;
    /// Confirms the account the token was sent for; the token is used up.
    async fn confirm_citizen(&self, tenant: TenantId, token: &str) -> Result<Option<Citizen>>;
    async fn citizen(&self, tenant: TenantId, id: Uuid) -> Result<Option<Citizen>>;
    async fn citizen_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<Citizen>>;
    /// The account with this email and password, confirmed or not (the caller
    /// tells an unconfirmed account apart). Takes the same time whether or
    /// not the account exists.
    async fn check_citizen_password(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
    ) -> Result<Option<Citizen>>;
    /// Replaces the profile (only the known fields are kept).
    async fn save_profile(
        &self,
        tenant: TenantId,
        id: Uuid,
        profile: &HashMap<String, String>,
    ) -> Result<Citizen>;
}

impl<C: ConnectionTrait> CitizenRepository for Repo<'_, C> {
    async fn create_citizen(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
        confirm_token: &str,
    ) -> Result<Citizen> {
        citizen::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            email: Set(email.as_str().to_string()),
            password_hash: Set(hash_password(password)),
            profile: Set("{}".into()),
            confirm_token_hash: Set(Some(token_hash(confirm_token))),
            confirmed_at: Set(None),
            created_at: Set(Utc::now()),
            last_login_at: Set(None),
        }
        .insert(self.0)
        .await
        .map_err(StorageError::conflict_on("email"))
    }

    async fn confirm_citizen(&self, tenant: TenantId, token: &str) -> Result<Option<Citizen>> {
        let Some(c) = citizen::Entity::find()
            .filter(citizen::Column::TenantId.eq(tenant.0))
            .filter(citizen::Column::ConfirmTokenHash.eq(token_hash(token)))
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        let mut am: citizen::ActiveModel = c.into();
        am.confirm_token_hash = Set(None);
        am.confirmed_at = Set(Some(Utc::now()));
        Ok(Some(am.update(self.0).await?))
    }

    async fn citizen(&self, tenant: TenantId, id: Uuid) -> Result<Option<Citizen>> {
        Ok(citizen::Entity::find_by_id(id)
            .filter(citizen::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn citizen_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<Citizen>> {
        Ok(citizen::Entity::find()
            .filter(citizen::Column::TenantId.eq(tenant.0))
            .filter(citizen::Column::Email.eq(email.as_str()))
            .one(self.0)
            .await?)
    }

    async fn check_citizen_password(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
    ) -> Result<Option<Citizen>> {
        match self.citizen_by_email(tenant, email).await? {
            Some(c) if verify_password(password, &c.password_hash) => {
                let mut am: citizen::ActiveModel = c.into();
                am.last_login_at = Set(Some(Utc::now()));
                Ok(Some(am.update(self.0).await?))
            }
            Some(_) => Ok(None),
            None => {
                verify_password(password, dummy_hash());
                Ok(None)
            }
        }
    }

    async fn save_profile(
        &self,
        tenant: TenantId,
        id: Uuid,
        profile: &HashMap<String, String>,
    ) -> Result<Citizen> {
        let c = self
            .citizen(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("citizen"))?;
        let kept: HashMap<&str, &str> = PROFILE_FIELDS
            .iter()
            .filter_map(|(k, _, _)| {
                profile
                    .get(*k)
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*k, v))
            })
            .collect();
        let mut am: citizen::ActiveModel = c.into();
        am.profile = Set(serde_json::to_string(&kept).unwrap_or_else(|_| "{}".into()));
        Ok(am.update(self.0).await?)
    }
}
