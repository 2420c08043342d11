//! The applicant's unsent form (Entwurf): started from a service's published
//! form (prefilled from a logged-in citizen's profile), saved after every
//! step, found by the SHA-256 of its resume token, with uploads stored under
//! the tenant's prefix. The wizard's pages call these; sending a draft is
//! `App::submit_application`.

use bytes::Bytes;
use chrono::{Duration, NaiveDate, Utc};
use rathaus_domain::{
    forms::{self, FieldKind, FormDefinition, Problem},
    tenancy::TenantId,
};
use rathaus_storage::{
    catalog::PublishedService,
    forms::{FormDraft, FormVersion},
    prelude::*,
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{
    Actor, App, UseCaseError, UseCaseResult,
    applications::{MAX_UPLOAD_BYTES, safe_file_name, sniff},
};

/// Longest resume token that is looked up at all.
const MAX_TOKEN_CHARS: usize = 100;

/// A draft with its form definition and current data.
pub struct Draft {
    pub tenant: TenantId,
    /// The form the draft's version belongs to.
    pub form_id: Uuid,
    pub draft: FormDraft,
    pub definition: FormDefinition,
    pub data: Json,
}

/// A file sent with a wizard step: field path, file name, content.
pub struct Upload {
    pub path: String,
    pub name: String,
    pub content: Bytes,
}

impl App {
    /// The published service by slug with its published form.
    pub async fn service_form(
        &self,
        tenant: TenantId,
        slug: &str,
    ) -> UseCaseResult<(PublishedService, FormVersion, FormDefinition)> {
        let repo = self.store.repo();
        let service = repo
            .published_by_slug(tenant, slug)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let (_, version) = repo
            .published_form_for_service(tenant, service.service.id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let definition = version.definition().ok_or(UseCaseError::NotFound)?;
        Ok((service, version, definition))
    }

    /// Starts a draft of the service's form, kept `days` after its last
    /// change; a citizen's profile prefills it. Returns the resume token.
    pub async fn start_draft(
        &self,
        actor: &Actor,
        slug: &str,
        days: u32,
        today: NaiveDate,
    ) -> UseCaseResult<String> {
        let tenant = actor.tenant();
        let (_, version, definition) = self.service_form(tenant, slug).await?;
        let mut data = serde_json::json!({});
        if let Actor::Citizen { account, .. } = actor
            && let Some(c) = self.store.repo().citizen(tenant, *account).await?
        {
            let mut profile = c.profile_map();
            profile.insert("email".into(), c.email.clone());
            forms::prefill(&definition, &mut data, &profile);
        }
        forms::apply_computed(&definition, &mut data, today);
        let expires = Utc::now() + Duration::days(days.into());
        let (_, token) = self
            .store
            .repo()
            .create_draft(tenant, version.id, &data, expires)
            .await?;
        Ok(token)
    }

    /// The draft behind a resume token, with its form.
    pub async fn draft(&self, tenant: TenantId, token: &str) -> UseCaseResult<Draft> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(UseCaseError::NotFound);
        }
        let repo = self.store.repo();
        let draft = repo
            .draft_by_token(tenant, token)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let version = repo
            .form_version(tenant, draft.form_version_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let definition = version.definition().ok_or(UseCaseError::NotFound)?;
        let data = draft.data();
        Ok(Draft {
            tenant,
            form_id: version.form_id,
            draft,
            definition,
            data,
        })
    }

    /// Saves the draft's data and step; it is kept `days` from now.
    pub async fn save_draft(&self, draft: &Draft, step: usize, days: u32) -> UseCaseResult<()> {
        let expires = Utc::now() + Duration::days(days.into());
        self.store
            .repo()
            .update_draft(
                draft.tenant,
                draft.draft.id,
                &draft.data,
                step as i32,
                expires,
            )
            .await?;
        Ok(())
    }

    /// Stores the files of a step (file fields only, checked by size and by
    /// content); returns the field values that reference them and the
    /// problems of the refused ones.
    pub async fn store_uploads(
        &self,
        draft: &Draft,
        files: Vec<Upload>,
    ) -> UseCaseResult<(Vec<(String, String)>, Vec<Problem>)> {
        let mut pairs = Vec::new();
        let mut problems = Vec::new();
        for Upload {
            path,
            name,
            content,
        } in files
        {
            if forms::field_at(&draft.definition, &path).is_none_or(|f| f.kind != FieldKind::File) {
                continue;
            }
            if content.len() > MAX_UPLOAD_BYTES {
                problems.push(Problem {
                    path,
                    code: "file.too_large",
                    message: None,
                });
                continue;
            }
            let Some(mime) = sniff(&content) else {
                problems.push(Problem {
                    path,
                    code: "file.type",
                    message: None,
                });
                continue;
            };
            let id = Uuid::now_v7();
            self.files
                .put(draft.tenant, &format!("uploads/{id}"), content)
                .await
                .map_err(|e| UseCaseError::Internal(e.to_string()))?;
            pairs.push((path, format!("{id}/{}", safe_file_name(&name, mime))));
        }
        Ok((pairs, problems))
    }
}
