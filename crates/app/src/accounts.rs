//! Citizen accounts (Bürgerkonto): registration with email confirmation,
//! the login check, the profile that prefills forms and "Meine Anträge".
//! Sessions and login rate limits are the web layer's.

use std::collections::HashMap;

use rathaus_domain::{
    FieldError, ValidationErrors,
    catalog::I18nText,
    identity::{Email, check_new_password},
    tenancy::TenantId,
};
use rathaus_storage::{
    Repo, StorageError,
    accounts::{Citizen, PROFILE_FIELDS},
    applications::{Application, Case},
    prelude::*,
};
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// Longest profile value (characters).
pub const MAX_PROFILE_CHARS: usize = 200;

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
    /// Creates the unconfirmed account and queues the confirmation email in
    /// one transaction. An address that has an account already gets the same
    /// answer (no account enumeration).
    pub async fn register(&self, actor: &Actor, input: Registration) -> UseCaseResult<()> {
        let tenant = actor.tenant();
        if actor.staff().is_some() || matches!(actor, Actor::Citizen { .. }) {
            return Err(UseCaseError::Forbidden);
        }
        let email = input.check()?;
        let token = rathaus_storage::identity::generate_token();
        let txn = self.store.begin_write().await.map_err(internal)?;
        let repo = Repo(&txn);
        match repo
            .create_citizen(tenant, &email, &input.password, &token)
            .await
        {
            Ok(c) => {
                repo.enqueue(
                    Some(tenant),
                    "account.confirm",
                    &serde_json::json!({ "citizen": c.id, "token": token }),
                )
                .await?;
                txn.commit().await.map_err(internal)?;
            }
            Err(StorageError::Conflict(_)) => {
                tracing::info!("registration for an existing address");
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Confirms the account the emailed token was sent for (the token is used
    /// up); `NotFound` for an unknown or used token.
    pub async fn confirm_account(&self, tenant: TenantId, token: &str) -> UseCaseResult<Citizen> {
        if token.len() > 100 {
            return Err(UseCaseError::NotFound);
        }
        self.store
            .repo()
            .confirm_citizen(tenant, token)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// The login check: the confirmed account with this address and
    /// password. A wrong pair is `Unauthenticated`, an unconfirmed account
    /// `Forbidden`.
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
