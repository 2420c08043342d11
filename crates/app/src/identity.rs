//! Staff identity: logging in (browser session or API token), revoking a
//! token, who the caller is, the staff home and the tenant's org units. The
//! rate limiter of login attempts stays with the web layer (it knows the
//! client address).

use chrono::{DateTime, Duration, Utc};
use rathaus_domain::{FieldError, ValidationErrors, identity::Email, tenancy::TenantId};
use rathaus_storage::prelude::*;
use rathaus_storage::{
    identity::{ApiToken, Grant, User, generate_token},
    tenancy::{OrgUnit, Tenant},
};
use uuid::Uuid;

use crate::{Actor, App, Channel, UseCaseError, UseCaseResult};

/// Tokens issued by password login live 90 days unless revoked.
pub const TOKEN_LIFETIME_DAYS: i64 = 90;
/// Longest token label (characters).
pub const MAX_TOKEN_NAME_CHARS: usize = 200;

/// Email and password, checked for form: both present, the email valid.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: Email,
    pub password: String,
}

impl Credentials {
    /// The credentials, or the field errors naming what is missing.
    pub fn parse(email: &str, password: &str) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let email = errs.check(Email::parse(email));
        if password.is_empty() {
            errs.push(FieldError::new("password", "required"));
        }
        match email {
            Some(email) if errs.is_empty() => Ok(Self {
                email,
                password: password.to_string(),
            }),
            _ => Err(errs),
        }
    }
}

/// A token just issued: the secret is shown this once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub secret: String,
    pub record: ApiToken,
    pub expires_at: DateTime<Utc>,
    pub tenant: Tenant,
}

/// The caller: user, tenant and grants per org unit.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub tenant: Tenant,
    pub grants: Vec<Grant>,
}

impl App {
    /// The tenant with this slug; `Validation` on `tenant` when there is none.
    pub async fn tenant_by_slug(&self, slug: &str) -> UseCaseResult<Tenant> {
        self.store
            .repo()
            .tenant_by_slug(slug)
            .await?
            .ok_or_else(|| FieldError::new("tenant", "slug.invalid").into())
    }

    /// A browser login: the active user with these credentials (recorded as
    /// logged in now); `Unauthenticated` when they do not match.
    pub async fn staff_login(
        &self,
        tenant: TenantId,
        credentials: &Credentials,
    ) -> UseCaseResult<User> {
        let user = self.check_credentials(tenant, credentials).await?;
        self.store.repo().record_login(tenant, user.id).await?;
        Ok(user)
    }

    /// An API login: a bearer token for the user with these credentials.
    pub async fn issue_token(
        &self,
        tenant: &Tenant,
        credentials: &Credentials,
        name: Option<String>,
    ) -> UseCaseResult<IssuedToken> {
        let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_TOKEN_NAME_CHARS)
        {
            return Err(FieldError::new("name", "too_long").into());
        }
        let tid = tenant.tenant_id();
        let user = self.check_credentials(tid, credentials).await?;
        let secret = generate_token();
        let expires_at = Utc::now() + Duration::days(TOKEN_LIFETIME_DAYS);
        let record = self
            .store
            .repo()
            .create_token(
                tid,
                user.id,
                name.as_deref().unwrap_or("API"),
                &secret,
                Some(expires_at),
            )
            .await?;
        Ok(IssuedToken {
            secret,
            record,
            expires_at,
            tenant: tenant.clone(),
        })
    }

    /// Revokes the token the actor called with.
    pub async fn revoke_token(&self, actor: &Actor) -> UseCaseResult<()> {
        let staff = actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        let Channel::ApiToken(id) = staff.via else {
            return Err(UseCaseError::Forbidden);
        };
        self.store.repo().revoke_token(staff.tenant(), id).await?;
        Ok(())
    }

    /// Who the staff actor is, with tenant and grants.
    pub async fn me(&self, actor: &Actor) -> UseCaseResult<Me> {
        let staff = actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        let repo = self.store.repo();
        let tenant = repo
            .tenant(staff.tenant())
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let grants = repo.grants(staff.tenant(), staff.user.id).await?;
        Ok(Me {
            user: staff.user.clone(),
            tenant,
            grants,
        })
    }

    /// The org units of the staff actor's tenant.
    pub async fn org_units(&self, actor: &Actor) -> UseCaseResult<Vec<OrgUnit>> {
        let staff = actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        Ok(self.store.repo().org_units(staff.tenant()).await?)
    }

    /// One org unit of the staff actor's tenant.
    pub async fn org_unit(&self, actor: &Actor, id: Uuid) -> UseCaseResult<OrgUnit> {
        let staff = actor.staff().ok_or(UseCaseError::Unauthenticated)?;
        self.store
            .repo()
            .org_unit(staff.tenant(), id)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    async fn check_credentials(
        &self,
        tenant: TenantId,
        credentials: &Credentials,
    ) -> UseCaseResult<User> {
        self.store
            .repo()
            .check_password(tenant, &credentials.email, &credentials.password)
            .await?
            .ok_or(UseCaseError::Unauthenticated)
    }
}
