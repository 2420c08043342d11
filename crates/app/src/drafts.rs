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
    uploads::{DraftUpload, NewDraftUpload},
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
    ///
    /// Every file field value must name an upload stored for this very draft
    /// (a value pointing at another draft's or application's file is refused,
    /// nothing is saved). Uploads the data no longer refers to (replaced by
    /// a new upload of the same field, or of a removed group entry) are
    /// deleted from the file store.
    pub async fn save_draft(&self, draft: &Draft, step: usize, days: u32) -> UseCaseResult<()> {
        let repo = self.store.repo();
        let uploads = repo.draft_uploads(draft.tenant, draft.draft.id).await?;
        let values = all_file_values(&draft.definition, &draft.data);
        for (path, value) in &values {
            if upload_of(&uploads, value).is_none() {
                return Err(field_error(path, "file.forged"));
            }
        }
        let expires = Utc::now() + Duration::days(days.into());
        repo.update_draft(
            draft.tenant,
            draft.draft.id,
            &draft.data,
            step as i32,
            expires,
        )
        .await?;
        for u in &uploads {
            let referenced = values
                .iter()
                .any(|(_, v)| upload_of(std::slice::from_ref(u), v).is_some());
            if !referenced {
                self.delete_draft_upload(draft.tenant, u).await;
            }
        }
        Ok(())
    }

    /// Deletes one upload of a draft: the object, then its row (a failure
    /// leaves an orphan for the sweep, never a row without its file).
    async fn delete_draft_upload(&self, tenant: TenantId, u: &DraftUpload) {
        if let Err(e) = self.files.delete(tenant, &u.file_key).await {
            tracing::warn!(error = %e, key = %u.file_key, "replaced upload not deleted; the orphan sweep will");
            return;
        }
        if let Err(e) = self.store.repo().delete_draft_upload(tenant, u.id).await {
            tracing::warn!(error = %e, key = %u.file_key, "row of a deleted upload not removed");
        }
    }

    /// Stores the files of a step, all or none.
    ///
    /// Refused outright (nothing stored): a part for a field that is not a
    /// file field of this step, two parts for one field, a file field value
    /// among `pairs` that names no upload of this draft. Refused as problems
    /// of their field (nothing stored): empty, too large or untyped files,
    /// and files beyond the draft's quota ([`crate::UploadLimits`]; files
    /// this step replaces do not count). Returns the field values that
    /// reference the stored files and the problems.
    pub async fn store_uploads(
        &self,
        draft: &Draft,
        step: usize,
        files: Vec<Upload>,
        pairs: &[(String, String)],
    ) -> UseCaseResult<(Vec<(String, String)>, Vec<Problem>)> {
        let def = &draft.definition;
        let uploads = self
            .store
            .repo()
            .draft_uploads(draft.tenant, draft.draft.id)
            .await?;
        // Text values of file fields: only references to this draft's uploads.
        for (name, value) in pairs {
            if name.starts_with('_') || value.trim().is_empty() {
                continue;
            }
            if forms::field_at(def, name).is_some_and(|f| f.kind == FieldKind::File)
                && upload_of(&uploads, value).is_none()
            {
                return Err(field_error(name, "file.forged"));
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for f in &files {
            let is_step_file = f.path.len() <= MAX_PATH_CHARS
                && forms::step_of(def, &f.path) == Some(step)
                && forms::field_at(def, &f.path).is_some_and(|d| d.kind == FieldKind::File);
            if !is_step_file {
                return Err(field_error(&f.path, "file.field"));
            }
            if seen.contains(&f.path.as_str()) {
                return Err(field_error(&f.path, "file.duplicate"));
            }
            seen.push(&f.path);
        }
        let mut problems = Vec::new();
        let mut accepted = Vec::new();
        for f in files {
            let code = if f.content.is_empty() {
                Some("file.empty")
            } else if f.content.len() > MAX_UPLOAD_BYTES {
                Some("file.too_large")
            } else {
                None
            };
            if let Some(code) = code {
                problems.push(problem(f.path, code));
                continue;
            }
            let Some(mime) = sniff(&f.content) else {
                problems.push(problem(f.path, "file.type"));
                continue;
            };
            accepted.push((f, mime));
        }
        // The quota: what the draft keeps (minus what this step replaces) plus the new files.
        let current = all_file_values(def, &draft.data);
        let replaced: Vec<Uuid> = accepted
            .iter()
            .filter_map(|(f, _)| {
                let (_, v) = current.iter().find(|(p, _)| *p == f.path)?;
                upload_of(&uploads, v).map(|u| u.id)
            })
            .collect();
        let kept = uploads.iter().filter(|u| !replaced.contains(&u.id));
        let (mut count, mut bytes) =
            kept.fold((0u64, 0u64), |(n, b), u| (n + 1, b + u.size.max(0) as u64));
        let limits = self.uploads;
        let mut over = None;
        for (f, _) in &accepted {
            count += 1;
            bytes += f.content.len() as u64;
            if count > u64::from(limits.quota_files) {
                over = Some("file.quota_files");
            } else if bytes > limits.quota_bytes {
                over = Some("file.quota_bytes");
            }
        }
        if let Some(code) = over {
            problems.extend(accepted.into_iter().map(|(f, _)| problem(f.path, code)));
            return Ok((Vec::new(), problems));
        }
        let mut out = Vec::new();
        for (
            Upload {
                path,
                name,
                content,
            },
            mime,
        ) in accepted
        {
            let id = Uuid::now_v7();
            let key = format!("uploads/{id}");
            let stored = self
                .files
                .put(draft.tenant, &key, content)
                .await
                .map_err(|e| UseCaseError::Internal(e.to_string()))?;
            let name = safe_file_name(&name, mime);
            let recorded = self
                .store
                .repo()
                .record_draft_upload(
                    draft.tenant,
                    draft.draft.id,
                    &NewDraftUpload {
                        id,
                        field_path: path.clone(),
                        file_key: key.clone(),
                        name: name.clone(),
                        mime: mime.to_string(),
                        size: stored.size as i64,
                        sha256: stored.sha256,
                    },
                )
                .await;
            if let Err(e) = recorded {
                let _ = self.files.delete(draft.tenant, &key).await;
                return Err(e.into());
            }
            out.push((path, format!("{id}/{name}")));
        }
        Ok((out, problems))
    }

    /// Deletes the drafts expired at `now` with their uploads (personal
    /// data kept no longer than its purpose). Returns (drafts, files).
    pub async fn purge_expired_drafts(
        &self,
        now: chrono::DateTime<Utc>,
    ) -> UseCaseResult<(u64, u64)> {
        let repo = self.store.repo();
        let files = repo.expired_draft_uploads(now).await?;
        let mut deleted = 0;
        for (tenant, key) in &files {
            match self.files.delete(*tenant, key).await {
                Ok(()) => deleted += 1,
                // The row goes with the draft; the orphan sweep finds the file.
                Err(e) => {
                    tracing::warn!(error = %e, %key, "upload of an expired draft not deleted")
                }
            }
        }
        let drafts = repo.purge_expired_drafts(now).await?;
        Ok((drafts, deleted))
    }
}

/// Longest file field path accepted.
const MAX_PATH_CHARS: usize = 200;

fn problem(path: String, code: &'static str) -> Problem {
    Problem {
        path,
        code,
        message: None,
    }
}

fn field_error(field: &str, code: &'static str) -> UseCaseError {
    let field: String = field.chars().take(MAX_PATH_CHARS).collect();
    UseCaseError::Validation(rathaus_domain::FieldError::new(field, code).into())
}

/// The upload a file field value (`<id>/<name>`) names, among `uploads`.
pub(crate) fn upload_of<'a>(uploads: &'a [DraftUpload], value: &str) -> Option<&'a DraftUpload> {
    let (id, _) = value.split_once('/')?;
    let id = Uuid::parse_str(id).ok()?;
    uploads.iter().find(|u| u.id == id)
}

/// Every file field value in a draft's data, visible or not, with its path.
pub(crate) fn all_file_values(def: &FormDefinition, data: &Json) -> Vec<(String, String)> {
    fn walk(items: &[forms::Item], obj: &Json, prefix: &str, out: &mut Vec<(String, String)>) {
        let Some(obj) = obj.as_object() else { return };
        for item in items {
            match item {
                forms::Item::Field(f) => {
                    if f.kind == FieldKind::File
                        && let Some(v) = obj.get(&f.key)
                    {
                        let text = match v {
                            Json::String(s) => s.clone(),
                            Json::Null => continue,
                            other => other.to_string(),
                        };
                        if !text.trim().is_empty() {
                            out.push((format!("{prefix}{}", f.key), text));
                        }
                    }
                }
                forms::Item::Group(g) => match obj.get(&g.key) {
                    Some(Json::Array(instances)) => {
                        for (i, inst) in instances.iter().enumerate() {
                            walk(&g.items, inst, &format!("{prefix}{}[{i}].", g.key), out);
                        }
                    }
                    Some(inner @ Json::Object(_)) => {
                        walk(&g.items, inner, &format!("{prefix}{}.", g.key), out)
                    }
                    _ => {}
                },
            }
        }
    }
    let mut out = Vec::new();
    for s in &def.steps {
        walk(&s.items, data, "", &mut out);
    }
    out
}
