//! Staff users, role grants per org unit, API tokens, browser sessions and
//! password hashing (argon2id).

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use chrono::{DateTime, Utc};
use rathaus_domain::{
    ValidationErrors,
    identity::{Email, Role},
    tenancy::TenantId,
    validation::required_text,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    prelude::*, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};

use crate::{
    Repo, Result, StorageError,
    entities::{api_token, org_unit, role_grant, session, user},
};

pub type User = user::Model;
pub type ApiToken = api_token::Model;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a PHC hash; false for malformed hashes.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// argon2 runs at most this many at a time, on the blocking pool: one core
/// fewer than the machine has (at least one), so the async workers that
/// serve every other request always keep a core.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// [`hash_password`] on the blocking pool (never on an async worker and never
/// inside a write transaction: argon2 is deliberately slow).
pub async fn hash_password_off_thread(password: &str) -> String {
    let password = password.to_string();
    let _slot = hashing_slots().acquire().await;
    match tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await
    {
        Ok(h) => h,
        // The blocking pool is gone (runtime shutting down): hash here.
        Err(_) => hash_password(&password),
    }
}

/// [`verify_password`] on the blocking pool; `None` as hash verifies against
/// [`dummy_hash`] (same time whether or not the account exists) and is false.
pub async fn verify_password_off_thread(password: &str, phc: Option<&str>) -> bool {
    let password = password.to_string();
    let phc = phc.map(str::to_string);
    let _slot = hashing_slots().acquire().await;
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that response
/// time does not reveal which emails have accounts.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("rathaus-timing-equaliser"))
}

/// SHA-256 hex of an API token: the only form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random API token (`rh_` + 64 hex characters, 256 bits).
pub fn generate_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("rh_{}", hex::encode(bytes))
}

/// Input for a new staff user.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    /// PHC string from [`hash_password`].
    pub password_hash: String,
}

/// One role a user holds in one org unit.
#[derive(Debug, Clone)]
pub struct Grant {
    pub role: Role,
    pub org_unit: org_unit::Model,
}

#[allow(async_fn_in_trait)]
pub trait UserRepository {
    async fn create_user(&self, tenant: TenantId, input: &NewUser) -> Result<User>;
    async fn user(&self, tenant: TenantId, id: Uuid) -> Result<Option<User>>;
    async fn user_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<User>>;
    async fn users(&self, tenant: TenantId) -> Result<Vec<User>>;
    async fn record_login(&self, tenant: TenantId, id: Uuid) -> Result<()>;
    /// Grants `role` in `org_unit`; granting twice is a no-op.
    async fn grant_role(
        &self,
        tenant: TenantId,
        user: Uuid,
        org_unit: Uuid,
        role: Role,
    ) -> Result<()>;
    async fn grants(&self, tenant: TenantId, user: Uuid) -> Result<Vec<Grant>>;
    /// The active user with this email and password, or `None`. Takes the same
    /// time whether or not the account exists (a dummy hash is verified).
    async fn check_password(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
    ) -> Result<Option<User>>;
}

#[allow(async_fn_in_trait)]
pub trait TokenRepository {
    async fn create_token(
        &self,
        tenant: TenantId,
        user: Uuid,
        name: &str,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken>;
    /// The token and its user, when the token is valid (known, not revoked,
    /// not expired, user active). Marks it used.
    async fn authenticate_token(&self, token: &str) -> Result<Option<(ApiToken, User)>>;
    async fn revoke_token(&self, tenant: TenantId, id: Uuid) -> Result<bool>;
    async fn tokens(&self, tenant: TenantId, user: Uuid) -> Result<Vec<ApiToken>>;
}

#[allow(async_fn_in_trait)]
pub trait SessionRepository {
    /// Writes the session; a new one is created at `now_ms` (kept on later saves).
    async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<()>;
    /// The data of the session, unless it expired (idle) or was created at
    /// or before `created_after_ms` (absolute lifetime).
    async fn load_session(
        &self,
        id: &str,
        now_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<String>>;
    async fn delete_session(&self, id: &str) -> Result<()>;
    /// Deletes sessions expired by idleness or by their absolute lifetime.
    async fn delete_expired_sessions(&self, now_ms: i64, created_after_ms: i64) -> Result<u64>;
    /// How many sessions are stored (tests and metrics).
    async fn count_sessions(&self) -> Result<u64>;
}

impl<C: ConnectionTrait> UserRepository for Repo<'_, C> {
    async fn check_password(
        &self,
        tenant: TenantId,
        email: &Email,
        password: &str,
    ) -> Result<Option<User>> {
        let user = self.user_by_email(tenant, email).await?;
        // argon2 is deliberately slow: keep it off the async workers.
        let valid =
            verify_password_off_thread(password, user.as_ref().map(|u| u.password_hash.as_str()))
                .await;
        Ok(user.filter(|u| valid && u.active))
    }

    async fn create_user(&self, tenant: TenantId, input: &NewUser) -> Result<User> {
        let mut errs = ValidationErrors::new();
        let email = errs.check(Email::parse(&input.email));
        errs.check(required_text("display_name", &input.display_name, 200));
        errs.into_result()?;
        let model = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            email: Set(email.expect("checked").as_str().to_string()),
            display_name: Set(input.display_name.trim().to_string()),
            password_hash: Set(input.password_hash.clone()),
            active: Set(true),
            created_at: Set(Utc::now()),
            last_login_at: Set(None),
        };
        model
            .insert(self.0)
            .await
            .map_err(StorageError::conflict_on("email"))
    }

    async fn user(&self, tenant: TenantId, id: Uuid) -> Result<Option<User>> {
        Ok(user::Entity::find_by_id(id)
            .filter(user::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn user_by_email(&self, tenant: TenantId, email: &Email) -> Result<Option<User>> {
        Ok(user::Entity::find()
            .filter(user::Column::TenantId.eq(tenant.0))
            .filter(user::Column::Email.eq(email.as_str()))
            .one(self.0)
            .await?)
    }

    async fn users(&self, tenant: TenantId) -> Result<Vec<User>> {
        Ok(user::Entity::find()
            .filter(user::Column::TenantId.eq(tenant.0))
            .order_by_asc(user::Column::Email)
            .all(self.0)
            .await?)
    }

    async fn record_login(&self, tenant: TenantId, id: Uuid) -> Result<()> {
        user::Entity::update_many()
            .col_expr(user::Column::LastLoginAt, Expr::value(Utc::now()))
            .filter(user::Column::TenantId.eq(tenant.0))
            .filter(user::Column::Id.eq(id))
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn grant_role(
        &self,
        tenant: TenantId,
        user_id: Uuid,
        org_unit_id: Uuid,
        role: Role,
    ) -> Result<()> {
        // Both sides must belong to the tenant.
        if self.user(tenant, user_id).await?.is_none() {
            return Err(StorageError::NotFound("user"));
        }
        let unit = org_unit::Entity::find_by_id(org_unit_id)
            .filter(org_unit::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?;
        if unit.is_none() {
            return Err(StorageError::NotFound("org_unit"));
        }
        let model = role_grant::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            user_id: Set(user_id),
            org_unit_id: Set(org_unit_id),
            role: Set(role.code().to_string()),
            created_at: Set(Utc::now()),
        };
        role_grant::Entity::insert(model)
            .on_conflict_do_nothing_on([
                role_grant::Column::UserId,
                role_grant::Column::OrgUnitId,
                role_grant::Column::Role,
            ])
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn grants(&self, tenant: TenantId, user_id: Uuid) -> Result<Vec<Grant>> {
        let grants = role_grant::Entity::find()
            .filter(role_grant::Column::TenantId.eq(tenant.0))
            .filter(role_grant::Column::UserId.eq(user_id))
            .all(self.0)
            .await?;
        let unit_ids: Vec<Uuid> = grants.iter().map(|g| g.org_unit_id).collect();
        let units = org_unit::Entity::find()
            .filter(org_unit::Column::TenantId.eq(tenant.0))
            .filter(org_unit::Column::Id.is_in(unit_ids))
            .all(self.0)
            .await?;
        let mut out: Vec<Grant> = grants
            .into_iter()
            .filter_map(|g| {
                let role = Role::parse(&g.role).ok()?;
                let unit = units.iter().find(|u| u.id == g.org_unit_id)?.clone();
                Some(Grant {
                    role,
                    org_unit: unit,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            a.org_unit
                .name
                .cmp(&b.org_unit.name)
                .then(a.role.cmp(&b.role))
        });
        Ok(out)
    }
}

impl<C: ConnectionTrait> TokenRepository for Repo<'_, C> {
    async fn create_token(
        &self,
        tenant: TenantId,
        user_id: Uuid,
        name: &str,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken> {
        let name = required_text("name", name, 200).map_err(ValidationErrors::from)?;
        if self.user(tenant, user_id).await?.is_none() {
            return Err(StorageError::NotFound("user"));
        }
        let model = api_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            user_id: Set(user_id),
            name: Set(name),
            token_hash: Set(token_hash(token)),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
        };
        Ok(model.insert(self.0).await?)
    }

    async fn authenticate_token(&self, token: &str) -> Result<Option<(ApiToken, User)>> {
        let Some(tok) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(token)))
            .one(self.0)
            .await?
        else {
            return Ok(None);
        };
        let now = Utc::now();
        if tok.revoked_at.is_some() || tok.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let tenant = TenantId(tok.tenant_id);
        let Some(user) = self.user(tenant, tok.user_id).await?.filter(|u| u.active) else {
            return Ok(None);
        };
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(tok.id))
            .exec(self.0)
            .await?;
        Ok(Some((tok, user)))
    }

    async fn revoke_token(&self, tenant: TenantId, id: Uuid) -> Result<bool> {
        let res = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(api_token::Column::TenantId.eq(tenant.0))
            .filter(api_token::Column::Id.eq(id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(self.0)
            .await?;
        Ok(res.rows_affected > 0)
    }

    async fn tokens(&self, tenant: TenantId, user_id: Uuid) -> Result<Vec<ApiToken>> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::TenantId.eq(tenant.0))
            .filter(api_token::Column::UserId.eq(user_id))
            .order_by_desc(api_token::Column::CreatedAt)
            .all(self.0)
            .await?)
    }
}

impl<C: ConnectionTrait> SessionRepository for Repo<'_, C> {
    async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<()> {
        let model = session::ActiveModel {
            id: Set(id.to_string()),
            data: Set(data.to_string()),
            expires_at_ms: Set(expires_at_ms),
            created_at_ms: Set(now_ms),
        };
        session::Entity::insert(model)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([session::Column::Data, session::Column::ExpiresAtMs])
                    .to_owned(),
            )
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn load_session(
        &self,
        id: &str,
        now_ms: i64,
        created_after_ms: i64,
    ) -> Result<Option<String>> {
        Ok(session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAtMs.gt(now_ms))
            .filter(session::Column::CreatedAtMs.gt(created_after_ms))
            .one(self.0)
            .await?
            .map(|s| s.data))
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        session::Entity::delete_by_id(id.to_string())
            .exec(self.0)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now_ms: i64, created_after_ms: i64) -> Result<u64> {
        let res = session::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(session::Column::ExpiresAtMs.lte(now_ms))
                    .add(session::Column::CreatedAtMs.lte(created_after_ms)),
            )
            .exec(self.0)
            .await?;
        Ok(res.rows_affected)
    }

    async fn count_sessions(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(session::Entity::find().count(self.0).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_roundtrip() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 67);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
