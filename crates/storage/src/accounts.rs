//! Citizen accounts (Bürgerkonto, basic): email + password (argon2id), email
//! confirmation and password reset by one-time tokens that expire (stored as
//! SHA-256 only, in `account_tokens`), profile data that prefills forms.
//! Accounts belong to a tenant like everything else. Passwords arrive here
//! hashed: argon2 runs before the write transaction, on the blocking pool.

use std::collections::HashMap;

use chrono::Utc;
use rathaus_domain::{identity::Email, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QuerySelect, QueryTrait, prelude::*};

use crate::{
    Repo, Result, StorageError,
    entities::{account_token, citizen},
    identity::{generate_token, token_hash, verify_password_off_thread},
};

pub type Citizen = citizen::Model;
pub type AccountToken = account_token::Model;

/// What an account token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Confirms a registration (and sets the password chosen in it).
    Confirm,
    /// Sets a new password.
    Reset,
}

impl TokenPurpose {
    pub fn code(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Reset => "reset",
        }
    }
}

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
    /// Creates an unconfirmed account with this (argon2id) password hash. An
    /// existing address is a conflict on `email`.
    async fn create_citizen(
        &self,
        tenant: TenantId,
        email: &Email,
        password_hash: &str,
    ) -> Result<Citizen>;
    /// Marks the account confirmed, with `password_hash` when given.
    async fn confirm_citizen(
        &self,
        tenant: TenantId,
        id: Uuid,
        password_hash: Option<&str>,
    ) -> Result<Citizen>;
    /// Sets a new password (hash); sessions logged in before now are over.
    async fn set_citizen_password(
        &self,
        tenant: TenantId,
        id: Uuid,
        password_hash: &str,
    ) -> Result<Citizen>;
    async fn citizen(&self, tenant: TenantId, id: Uuid) -> Result<Option<Citizen>>;
    async fn citizen_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<Citizen>>;
    /// The account with this email and password, confirmed or not (the caller
    /// tells an unconfirmed account apart), recorded as logged in. Takes the
    /// same time whether or not the account exists; argon2 runs on the
    /// blocking pool.
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
    /// A token for the account, valid until `expires_at`; its secret is made
    /// when the email is sent ([`CitizenRepository::issue_account_token`]).
    async fn create_account_token(
        &self,
        tenant: TenantId,
        citizen: Uuid,
        purpose: TokenPurpose,
        password_hash: Option<&str>,
        expires_at: chrono::DateTime<Utc>,
    ) -> Result<AccountToken>;
    /// Makes a fresh secret for the token `id` and stores its SHA-256 (a
    /// secret issued before stops working); `None` when the token is used
    /// up or expired. Called by the job that emails it.
    async fn issue_account_token(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(AccountToken, String)>>;
    /// The unexpired token with this secret and purpose.
    async fn account_token(
        &self,
        tenant: TenantId,
        secret: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<AccountToken>>;
    /// Uses up every token of this purpose of the account.
    async fn delete_account_tokens(
        &self,
        tenant: TenantId,
        citizen: Uuid,
        purpose: TokenPurpose,
    ) -> Result<u64>;
    /// Deletes expired tokens and the unconfirmed accounts created before
    /// `created_before` that have no unexpired token left; (tokens, accounts).
    async fn purge_unconfirmed_citizens(
        &self,
        now: chrono::DateTime<Utc>,
        created_before: chrono::DateTime<Utc>,
    ) -> Result<(u64, u64)>;
}

impl<C: ConnectionTrait> CitizenRepository for Repo<'_, C> {
    async fn create_citizen(
        &self,
        tenant: TenantId,
        email: &Email,
        password_hash: &str,
    ) -> Result<Citizen> {
        citizen::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            email: Set(email.as_str().to_string()),
            password_hash: Set(password_hash.to_string()),
            profile: Set("{}".into()),
            confirmed_at: Set(None),
            created_at: Set(Utc::now()),
            last_login_at: Set(None),
            password_changed_at: Set(None),
        }
        .insert(self.0)
        .await
        .map_err(StorageError::conflict_on("email"))
    }

    async fn confirm_citizen(
        &self,
        tenant: TenantId,
        id: Uuid,
        password_hash: Option<&str>,
    ) -> Result<Citizen> {
        let c = self
            .citizen(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("citizen"))?;
        let mut am: citizen::ActiveModel = c.into();
        am.confirmed_at = Set(Some(Utc::now()));
        if let Some(h) = password_hash {
            am.password_hash = Set(h.to_string());
        }
        Ok(am.update(self.0).await?)
    }

    async fn set_citizen_password(
        &self,
        tenant: TenantId,
        id: Uuid,
        password_hash: &str,
    ) -> Result<Citizen> {
        let c = self
            .citizen(tenant, id)
            .await?
            .ok_or(StorageError::NotFound("citizen"))?;
        let mut am: citizen::ActiveModel = c.into();
        am.password_hash = Set(password_hash.to_string());
        am.password_changed_at = Set(Some(Utc::now()));
        Ok(am.update(self.0).await?)
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
        let c = self.citizen_by_email(tenant, email).await?;
        let valid =
            verify_password_off_thread(password, c.as_ref().map(|c| c.password_hash.as_str()))
                .await;
        match c {
            Some(c) if valid => {
                let mut am: citizen::ActiveModel = c.into();
                am.last_login_at = Set(Some(Utc::now()));
                Ok(Some(am.update(self.0).await?))
            }
            _ => Ok(None),
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

    async fn create_account_token(
        &self,
        tenant: TenantId,
        citizen: Uuid,
        purpose: TokenPurpose,
        password_hash: Option<&str>,
        expires_at: chrono::DateTime<Utc>,
    ) -> Result<AccountToken> {
        Ok(account_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            citizen_id: Set(citizen),
            purpose: Set(purpose.code().to_string()),
            token_hash: Set(None),
            password_hash: Set(password_hash.map(str::to_string)),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
        }
        .insert(self.0)
        .await?)
    }

    async fn issue_account_token(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(AccountToken, String)>> {
        let Some(t) = account_token::Entity::find_by_id(id)
            .filter(account_token::Column::TenantId.eq(tenant.0))
            .filter(account_token::Column::ExpiresAt.gt(Utc::now()))
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        let secret = generate_token();
        let mut am: account_token::ActiveModel = t.into();
        am.token_hash = Set(Some(token_hash(&secret)));
        Ok(Some((am.update(self.0).await?, secret)))
    }

    async fn account_token(
        &self,
        tenant: TenantId,
        secret: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<AccountToken>> {
        Ok(account_token::Entity::find()
            .filter(account_token::Column::TenantId.eq(tenant.0))
            .filter(account_token::Column::TokenHash.eq(token_hash(secret)))
            .filter(account_token::Column::Purpose.eq(purpose.code()))
            .filter(account_token::Column::ExpiresAt.gt(Utc::now()))
            .one(self.0)
            .await?)
    }

    async fn delete_account_tokens(
        &self,
        tenant: TenantId,
        citizen: Uuid,
        purpose: TokenPurpose,
    ) -> Result<u64> {
        Ok(account_token::Entity::delete_many()
            .filter(account_token::Column::TenantId.eq(tenant.0))
            .filter(account_token::Column::CitizenId.eq(citizen))
            .filter(account_token::Column::Purpose.eq(purpose.code()))
            .exec(self.0)
            .await?
            .rows_affected)
    }

    async fn purge_unconfirmed_citizens(
        &self,
        now: chrono::DateTime<Utc>,
        created_before: chrono::DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        let tokens = account_token::Entity::delete_many()
            .filter(account_token::Column::ExpiresAt.lte(now))
            .exec(self.0)
            .await?
            .rows_affected;
        let pending = account_token::Entity::find()
            .select_only()
            .column(account_token::Column::CitizenId)
            .into_query();
        let accounts = citizen::Entity::delete_many()
            .filter(citizen::Column::ConfirmedAt.is_null())
            .filter(citizen::Column::CreatedAt.lt(created_before))
            .filter(citizen::Column::Id.not_in_subquery(pending))
            .exec(self.0)
            .await?
            .rows_affected;
        Ok((tokens, accounts))
    }
}
