//! Citizen accounts (Bürgerkonto): registration with email confirmation,
//! password reset by email, the login check, the profile that prefills forms
//! and "Meine Anträge". Sessions and rate limits are the web layer's.
//!
//! No account enumeration and no squatting: every registration sends a
//! mail to the address (confirm the account, or "you already have one" with
//! a reset link) and gets the same answer; a confirmation sets the password
//! chosen in *that* registration; tokens expire (confirmation 24 h, reset
//! 1 h) and are stored as SHA-256 only; unconfirmed accounts are purged.
//! argon2 runs before any write transaction, on the blocking pool.

use std::collections::HashMap;

use rathaus_domain::{
    FieldError, ValidationErrors,
    catalog::I18nText,
    identity::{Email, check_new_password},
    tenancy::TenantId,
};
use rathaus_storage::{
    Repo,
    accounts::{Citizen, PROFILE_FIELDS, TokenPurpose},
    applications::{Application, Case},
    identity::hash_password_off_thread,
    prelude::*,
};
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// Longest profile value (characters).
pub const MAX_PROFILE_CHARS: usize = 200;
/// Hours a confirmation link works (and an unconfirmed account is kept).
pub const CONFIRM_HOURS: i64 = 24;
/// Minutes a password-reset link works.
pub const RESET_MINUTES: i64 = 60;
/// Longest token accepted from a link (longer ones are unknown anyway).
const MAX_TOKEN_CHARS: usize = 100;

/// A new password as entered twice (password reset).
#[derive(Debug, Clone, Default)]
pub struct NewPassword {
    pub password: String,
    pub password_repeat: String,
}

impl NewPassword {
    fn check(&self, email: &Email) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        if let Err(fe) = check_new_password(&self.password, email) {
            errs.push(fe);
        }
        if self.password != self.password_repeat {
            errs.push(FieldError::new("password_repeat", "password.mismatch"));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// A registration as entered.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub password_repeat: String,
}

impl Registration {
    /// The address, if every rule holds; else every problem at once.
    pub fn check(&self) -> Result<Email, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let email = errs.check(Email::parse(&self.email));
        // The password is checked even when the address is not yet valid.
        let for_check = match &email {
            Some(e) => check_new_password(&self.password, e),
            None => match Email::parse("nobody@invalid.example") {
                Ok(e) => check_new_password(&self.password, &e),
                Err(_) => Ok(()),
            },
        };
        if let Err(fe) = for_check {
            errs.push(fe);
        }
        if self.password != self.password_repeat {
            errs.push(FieldError::new("password_repeat", "password.mismatch"));
        }
        match email {
            Some(e) if errs.is_empty() => Ok(e),
            _ => Err(errs),
        }
    }
}

/// A login as entered.
#[derive(Debug, Clone, Default)]
pub struct Login {
    pub email: String,
    pub password: String,
}

impl Login {
    /// The address, if both fields are filled in properly.
    pub fn check(&self) -> Result<Email, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let email = errs.check(Email::parse(&self.email));
        if self.password.is_empty() {
            errs.push(FieldError::new("password", "required"));
        }
        match email {
            Some(e) if errs.is_empty() => Ok(e),
            _ => Err(errs),
        }
    }
}

/// One row of "Meine Anträge".
#[derive(Debug, Clone)]
pub struct AccountApplication {
    pub application: Application,
    pub case: Option<Case>,
    /// The form's title (none: its version is gone).
    pub title: Option<I18nText>,
}

/// Problems of profile values (length, control characters, the birthday's date).
pub fn check_profile(profile: &HashMap<String, String>) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::new();
    for (k, _, _) in PROFILE_FIELDS {
        if let Some(v) = profile.get(k) {
            if v.chars().count() > MAX_PROFILE_CHARS {
                errs.push(FieldError::new(k, "too_long"));
            } else if v.chars().any(|c| c.is_control()) {
                errs.push(FieldError::new(k, "control_chars"));
            }
        }
    }
    if let Some(b) = profile
        .get("bday")
        .map(|b| b.trim())
        .filter(|b| !b.is_empty())
        && chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_err()
    {
        errs.push(FieldError::new("bday", "date.invalid"));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn internal(e: impl std::fmt::Display) -> UseCaseError {
    UseCaseError::Internal(e.to_string())
}

fn citizen_of(actor: &Actor) -> UseCaseResult<(TenantId, Uuid)> {
    match actor {
        Actor::Citizen { tenant, account } => Ok((*tenant, *account)),
        Actor::Anonymous { .. } => Err(UseCaseError::Unauthenticated),
        Actor::Applicant { .. } | Actor::Staff(_) => Err(UseCaseError::Forbidden),
    }
}

impl App {
    /// A registration. Whatever the address, the answer is the same (no
    /// account enumeration) and its owner gets an email in the same
    /// transaction: a new or unconfirmed account gets a confirmation link
    /// (confirming sets the password chosen here), a confirmed one "you
    /// already have an account" with a password-reset link. The password is
    /// hashed first, on the blocking pool, outside the write transaction.
    pub async fn register(&self, actor: &Actor, input: Registration) -> UseCaseResult<()> {
        let tenant = actor.tenant();
        if actor.staff().is_some() || matches!(actor, Actor::Citizen { .. }) {
            return Err(UseCaseError::Forbidden);
        }
        let email = input.check()?;
        let hash = hash_password_off_thread(&input.password).await;
        // Two registrations of one new address at once (PostgreSQL): the
        // second finds the first one's account when it tries again.
        for attempt in 0..2 {
            match self.register_once(tenant, &email, &hash).await {
                Err(UseCaseError::Conflict(_)) if attempt == 0 => continue,
                other => return other,
            }
        }
        Ok(())
    }

    async fn register_once(
        &self,
        tenant: TenantId,
        email: &Email,
        hash: &str,
    ) -> UseCaseResult<()> {
        let now = chrono::Utc::now();
        let txn = self.store.begin_write().await.map_err(internal)?;
        let repo = Repo(&txn);
        let existing = repo.citizen_by_email(tenant, email).await?;
        let (kind, token) = match existing {
            Some(c) if c.confirmed() => {
                let t = repo
                    .create_account_token(
                        tenant,
                        c.id,
                        TokenPurpose::Reset,
                        None,
                        now + chrono::Duration::minutes(RESET_MINUTES),
                    )
                    .await?;
                ("account.exists", t)
            }
            existing => {
                let c = match existing {
                    Some(c) => c,
                    None => repo.create_citizen(tenant, email, hash).await?,
                };
                let t = repo
                    .create_account_token(
                        tenant,
                        c.id,
                        TokenPurpose::Confirm,
                        Some(hash),
                        now + chrono::Duration::hours(CONFIRM_HOURS),
                    )
                    .await?;
                ("account.confirm", t)
            }
        };
        repo.enqueue(
            Some(tenant),
            kind,
            &serde_json::json!({ "account_token": token.id }),
        )
        .await?;
        txn.commit().await.map_err(internal)?;
        Ok(())
    }

    /// Whether a confirmation or reset link is valid (unknown, used or
    /// expired: `NotFound`). Looking does not use it up.
    pub async fn check_account_token(
        &self,
        tenant: TenantId,
        token: &str,
        purpose: TokenPurpose,
    ) -> UseCaseResult<()> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(UseCaseError::NotFound);
        }
        self.store
            .repo()
            .account_token(tenant, token, purpose)
            .await?
            .map(|_| ())
            .ok_or(UseCaseError::NotFound)
    }

    /// Confirms the account the emailed token was sent for, with the
    /// password chosen in that registration; every confirmation token of the
    /// account is used up. `NotFound` for an unknown, used or expired token.
    pub async fn confirm_account(&self, tenant: TenantId, token: &str) -> UseCaseResult<Citizen> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(UseCaseError::NotFound);
        }
        let txn = self.store.begin_write().await.map_err(internal)?;
        let repo = Repo(&txn);
        let t = repo
            .account_token(tenant, token, TokenPurpose::Confirm)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let c = repo
            .confirm_citizen(tenant, t.citizen_id, t.password_hash.as_deref())
            .await?;
        repo.delete_account_tokens(tenant, c.id, TokenPurpose::Confirm)
            .await?;
        txn.commit().await.map_err(internal)?;
        Ok(c)
    }

    /// "Forgot password": a confirmed account with this address gets an
    /// email with a reset link (1 h); any other address gets nothing, and
    /// the caller the same answer.
    pub async fn request_password_reset(&self, actor: &Actor, email: &str) -> UseCaseResult<()> {
        let tenant = actor.tenant();
        if actor.staff().is_some() {
            return Err(UseCaseError::Forbidden);
        }
        let mut errs = ValidationErrors::new();
        let email = errs.check(Email::parse(email));
        let Some(email) = email else {
            return Err(errs.into());
        };
        let txn = self.store.begin_write().await.map_err(internal)?;
        let repo = Repo(&txn);
        if let Some(c) = repo
            .citizen_by_email(tenant, &email)
            .await?
            .filter(|c| c.confirmed())
        {
            let t = repo
                .create_account_token(
                    tenant,
                    c.id,
                    TokenPurpose::Reset,
                    None,
                    chrono::Utc::now() + chrono::Duration::minutes(RESET_MINUTES),
                )
                .await?;
            repo.enqueue(
                Some(tenant),
                "account.reset",
                &serde_json::json!({ "account_token": t.id }),
            )
            .await?;
        }
        txn.commit().await.map_err(internal)?;
        Ok(())
    }

    /// Sets a new password with an emailed reset token: the token (and every
    /// other reset token of the account) is used up, and every session the
    /// account had is over. `NotFound` for an unknown, used or expired token.
    pub async fn reset_password(
        &self,
        tenant: TenantId,
        token: &str,
        input: NewPassword,
    ) -> UseCaseResult<Citizen> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(UseCaseError::NotFound);
        }
        let repo = self.store.repo();
        let t = repo
            .account_token(tenant, token, TokenPurpose::Reset)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let c = repo
            .citizen(tenant, t.citizen_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let email = Email::parse(&c.email).map_err(|_| UseCaseError::NotFound)?;
        input.check(&email)?;
        let hash = hash_password_off_thread(&input.password).await;
        let txn = self.store.begin_write().await.map_err(internal)?;
        let repo = Repo(&txn);
        // Still valid (not used meanwhile)?
        let t = repo
            .account_token(tenant, token, TokenPurpose::Reset)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let c = repo
            .set_citizen_password(tenant, t.citizen_id, &hash)
            .await?;
        repo.delete_account_tokens(tenant, c.id, TokenPurpose::Reset)
            .await?;
        txn.commit().await.map_err(internal)?;
        Ok(c)
    }

    /// The login check: the confirmed account with this address and
    /// password. A wrong pair is `Unauthenticated`, an unconfirmed account
    /// `Forbidden`. argon2 runs on the blocking pool.
    pub async fn citizen_login(&self, tenant: TenantId, input: Login) -> UseCaseResult<Citizen> {
        let email = input.check()?;
        let c = self
            .store
            .repo()
            .check_citizen_password(tenant, &email, &input.password)
            .await?
            .ok_or(UseCaseError::Unauthenticated)?;
        if !c.confirmed() {
            return Err(UseCaseError::Forbidden);
        }
        Ok(c)
    }

    /// The logged-in citizen's account (a confirmed one).
    pub async fn citizen_account(&self, actor: &Actor) -> UseCaseResult<Citizen> {
        let (tenant, account) = citizen_of(actor)?;
        self.store
            .repo()
            .citizen(tenant, account)
            .await?
            .filter(|c| c.confirmed())
            .ok_or(UseCaseError::Unauthenticated)
    }

    /// Replaces the citizen's profile (only the known fields are kept).
    pub async fn save_profile(
        &self,
        actor: &Actor,
        profile: HashMap<String, String>,
    ) -> UseCaseResult<Citizen> {
        let (tenant, account) = citizen_of(actor)?;
        check_profile(&profile)?;
        Ok(self
            .store
            .repo()
            .save_profile(tenant, account, &profile)
            .await?)
    }

    /// "Meine Anträge": the applications submitted from the citizen's
    /// account, newest first.
    pub async fn my_applications(&self, actor: &Actor) -> UseCaseResult<Vec<AccountApplication>> {
        let (tenant, account) = citizen_of(actor)?;
        let repo = self.store.repo();
        let mut rows = Vec::new();
        for (application, case) in repo.applications_of_citizen(tenant, account).await? {
            let title = repo
                .form_version(tenant, application.form_version_id)
                .await?
                .and_then(|v| v.definition())
                .map(|d| d.title);
            rows.push(AccountApplication {
                application,
                case,
                title,
            });
        }
        Ok(rows)
    }
}
