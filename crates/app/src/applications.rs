//! Applications (C3): submitting one (wizard draft or API data) and the
//! applicant's side of it — reading it with its mailbox, downloading its
//! files (opening a Bescheid is its Bekanntgabe) and answering the office.
//! The applicant is whoever holds the access token ([`Actor::Applicant`],
//! from [`App::applicant`]) or the citizen account it was submitted from.

use bytes::Bytes;
use chrono::Utc;
use rathaus_domain::tenancy::TenantId;
use rathaus_domain::{
    FieldError, ValidationErrors,
    applications::Reference,
    forms::{self, FormDefinition, Problem},
};
use rathaus_storage::applications::{
    Application, ApplicationFile, Case, CaseError, Message, NewApplication, NewFile, RECEIPT_PATH,
    Submitted,
};
use rathaus_storage::prelude::*;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Largest accepted upload (bytes).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Longest answer text (characters).
pub const MAX_ANSWER_CHARS: usize = 8000;
/// Most files in one answer (and never more than the configured quota,
/// [`crate::UploadLimits`]).
pub const MAX_ANSWER_FILES: usize = 20;
/// Longest access token accepted for a lookup.
const MAX_TOKEN_LEN: usize = 100;

/// Markup a browser's sniffer takes for HTML (or script) near the start of
/// a file: a PDF or image carrying it is a polyglot and refused.
pub(crate) fn looks_like_markup(content: &[u8]) -> bool {
    let head = &content[..content.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    [
        &b"<html"[..],
        b"<!doctype",
        b"<script",
        b"<body",
        b"<iframe",
        b"<svg",
        b"<?xml",
        b"<head",
        b"<img",
    ]
    .iter()
    .any(|m| lower.windows(m.len()).any(|w| w == *m))
}

/// The type of an upload from its first bytes (never from its name); a
/// file that also reads as HTML (a polyglot) has none.
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    if looks_like_markup(content) {
        return None;
    }
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Invisible characters that change how a name reads: bidirectional
/// overrides and isolates (U+202E turns `gpj.exe` into `exe.jpg`),
/// zero-width characters, the byte order mark, the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A file name safe to show and store: no paths, no control or invisible
/// characters, at most 100 characters, the extension of its type.
pub fn safe_file_name(name: &str, mime: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c) && !"<>:\"|?*".contains(*c))
        .take(100)
        .collect();
    clean = clean.trim().trim_start_matches('.').to_string();
    if clean.trim().trim_matches('.').is_empty() {
        clean = "datei".into();
    }
    let ext = match mime {
        "application/pdf" => ".pdf",
        "image/png" => ".png",
        _ => ".jpg",
    };
    let lower = clean.to_lowercase();
    let has_ext = lower.ends_with(ext) || (ext == ".jpg" && lower.ends_with(".jpeg"));
    if !has_ext {
        clean.push_str(ext);
    }
    clean
}

/// What is submitted.
#[derive(Debug, Clone)]
pub enum Submission {
    /// Data for the published version of a form (by id or key); no files.
    Data {
        form: String,
        data: Json,
        idempotency_key: Option<String>,
    },
    /// A wizard draft (by its token) with the files uploaded in its steps;
    /// without a key the draft's id keys the submission.
    Draft {
        token: String,
        idempotency_key: Option<String>,
    },
}

/// The answer to a submission.
#[derive(Debug)]
pub enum SubmitOutcome {
    /// Received (or found again by its idempotency key).
    Received(Box<Submitted>),
    /// The data breaks the form's rules; nothing was written.
    Invalid {
        definition: FormDefinition,
        problems: Vec<Problem>,
    },
}

/// The applicant's view of an application.
#[derive(Debug)]
pub struct ApplicantApplication {
    pub application: Application,
    pub case: Case,
    pub definition: FormDefinition,
    /// The responsible org unit's name.
    pub org_unit: Option<String>,
    /// Files of the submission and of its messages (`message_id`).
    pub files: Vec<ApplicationFile>,
    pub messages: Vec<Message>,
}

/// A new file of an answer, as uploaded.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub content: Bytes,
}

/// The applicant's answer to the office.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub body: String,
    pub files: Vec<Upload>,
}

/// The receipt's closing words (the receipt is German).
const RECEIPT_NEXT_STEPS: &str = "Die zuständige Stelle prüft Ihren Antrag. Fehlen Unterlagen, erhalten Sie eine Nachricht. Bitte geben Sie bei Rückfragen das Aktenzeichen an.";

/// German local time at `t` (summer time April to October, approximately).
fn berlin_offset(t: chrono::DateTime<Utc>) -> chrono::FixedOffset {
    use chrono::Datelike;
    let summer = (4..=10).contains(&t.month());
    chrono::FixedOffset::east_opt(if summer { 7200 } else { 3600 }).expect("offset")
}

fn field_error(field: &str, code: &'static str) -> UseCaseError {
    UseCaseError::Validation(FieldError::new(field, code).into())
}

/// Every visible file field's value, with its path.
fn file_values(def: &FormDefinition, data: &Json) -> Vec<(String, String)> {
    fn walk(nodes: &[forms::Node<'_>], out: &mut Vec<(String, String)>) {
        for n in nodes {
            match n {
                forms::Node::Field {
                    path, def, value, ..
                } => {
                    if def.kind == forms::FieldKind::File
                        && let Some(v) = value.as_str()
                    {
                        out.push((path.clone(), v.to_string()));
                    }
                }
                forms::Node::Group { instances, .. } => {
                    for (_, inner) in instances {
                        walk(inner, out);
                    }
                }
            }
        }
    }
    let today = Utc::now().date_naive();
    let mut out = Vec::new();
    for i in 0..def.steps.len() {
        walk(&forms::layout(def, i, data, today), &mut out);
    }
    out
}

/// A submission ready for the writer.
struct Prepared {
    service_id: Option<Uuid>,
    form_version_id: Uuid,
    data: Json,
    files: Vec<NewFile>,
    draft_id: Option<Uuid>,
    idempotency_key: Option<String>,
    /// SHA-256 of the request, stored with the key.
    request_hash: String,
    notify_email: Option<String>,
    channel: &'static str,
}

/// `v` as JSON with the keys of every object sorted: equal data gives equal
/// text whatever order the client sent.
fn canonical_json(v: &Json, out: &mut String) {
    match v {
        Json::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&o[k], out);
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The SHA-256 (hex) of a submission request: what it submits to and its
/// canonical data.
fn request_hash(target: &str, data: &Json) -> String {
    use sha2::Digest;
    let mut text = String::new();
    canonical_json(data, &mut text);
    let mut h = sha2::Sha256::new();
    h.update(target.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

impl App {
    /// Submits an application: validated against its form, routed, then
    /// handed to the batching writer (ADR 0009) — application, files, case,
    /// audit entry and outbox job in one transaction; a draft goes with it.
    /// A retry with the same idempotency key finds the same application.
    /// Anonymous, or a citizen (the application is linked to the account).
    pub async fn submit_application(
        &self,
        actor: &Actor,
        submission: Submission,
    ) -> UseCaseResult<SubmitOutcome> {
        let tenant = actor.tenant();
        let citizen = match actor {
            Actor::Anonymous { .. } => None,
            Actor::Citizen { account, .. } => Some(
                self.store
                    .repo()
                    .citizen(tenant, *account)
                    .await?
                    .filter(|c| c.confirmed())
                    .ok_or(UseCaseError::Unauthenticated)?,
            ),
            Actor::Applicant { .. } | Actor::Staff(_) => return Err(UseCaseError::Forbidden),
        };
        let today = Utc::now().date_naive();
        let prepared = match submission {
            Submission::Data {
                form,
                mut data,
                idempotency_key,
            } => {
                let published = self.published_form(tenant, &form).await?;
                let def = &published.definition;
                if !data.is_object() {
                    return Err(field_error("data", "forms.data_object"));
                }
                // The request as sent (the form by id, however it was named).
                let hash = request_hash(&format!("form:{}", published.form.id), &data);
                // What the rules hide was not asked for: it is not stored.
                forms::apply_computed(def, &mut data, today);
                forms::drop_hidden(def, &mut data, today);
                forms::apply_computed(def, &mut data, today);
                let problems = forms::validate(def, &data, today);
                if !problems.is_empty() {
                    return Ok(SubmitOutcome::Invalid {
                        definition: def.clone(),
                        problems,
                    });
                }
                Prepared {
                    service_id: published.form.service_id,
                    form_version_id: published.version.id,
                    notify_email: rathaus_domain::decisions::email_from_form(def, &data),
                    data,
                    files: Vec::new(),
                    draft_id: None,
                    idempotency_key,
                    request_hash: hash,
                    channel: "applicant:api",
                }
            }
            Submission::Draft {
                token,
                idempotency_key,
            } => {
                let crate::drafts::Draft {
                    form_id,
                    draft,
                    definition: def,
                    mut data,
                    ..
                } = self.draft(tenant, &token).await?;
                forms::drop_hidden(&def, &mut data, today);
                forms::apply_computed(&def, &mut data, today);
                let form = self
                    .store
                    .repo()
                    .form(tenant, form_id)
                    .await?
                    .ok_or(UseCaseError::NotFound)?;
                let problems = forms::validate(&def, &data, today);
                if !problems.is_empty() {
                    return Ok(SubmitOutcome::Invalid {
                        definition: def,
                        problems,
                    });
                }
                Prepared {
                    service_id: form.service_id,
                    form_version_id: draft.form_version_id,
                    files: self.draft_files(tenant, draft.id, &def, &data).await?,
                    notify_email: rathaus_domain::decisions::email_from_form(&def, &data),
                    data,
                    request_hash: request_hash(&format!("draft:{}", draft.id), &Json::Null),
                    draft_id: Some(draft.id),
                    idempotency_key: Some(
                        idempotency_key.unwrap_or_else(|| format!("draft-{}", draft.id)),
                    ),
                    channel: "applicant",
                }
            }
        };
        let (org_unit_id, due_days) = self
            .route(tenant, prepared.service_id, &prepared.data)
            .await?;
        let fee = self
            .fee_due(tenant, prepared.service_id, &prepared.data)
            .await?;
        let awaiting_payment = self.pays_before_sending(fee.as_ref());
        let prefix = Reference::prefix_for(&self.tenant_name(tenant).await?);
        let submitted = self
            .store
            .submit_application(NewApplication {
                tenant,
                prefix,
                service_id: prepared.service_id,
                form_version_id: prepared.form_version_id,
                data: prepared.data,
                idempotency_key: prepared.idempotency_key,
                request_hash: Some(prepared.request_hash.clone()),
                files: prepared.files,
                org_unit_id,
                draft_id: prepared.draft_id,
                actor: prepared.channel.into(),
                due_days,
                citizen_id: citizen.as_ref().map(|c| c.id),
                notify_email: match citizen {
                    Some(c) => Some(c.email),
                    None => prepared.notify_email,
                },
                awaiting_payment,
                defect: None,
            })
            .await?;
        // A key seen before answers with its application only for the
        // same request (rows from before hashes were kept pass).
        if !submitted.created
            && submitted
                .application
                .request_hash
                .as_deref()
                .is_some_and(|h| h != prepared.request_hash)
        {
            return Err(UseCaseError::IdempotencyMismatch);
        }
        // Pay before sending: the payment of the fee (also on a retry, should
        // the first attempt have stopped between the two).
        self.ensure_application_payment(tenant, &submitted.application)
            .await?;
        Ok(SubmitOutcome::Received(Box::new(submitted)))
    }

    /// The files a draft's file fields point to (uploaded in its steps and
    /// recorded for this draft — a value naming any other file is refused),
    /// checked again: within the size limit and of an accepted type.
    async fn draft_files(
        &self,
        tenant: rathaus_domain::tenancy::TenantId,
        draft: Uuid,
        def: &FormDefinition,
        data: &Json,
    ) -> UseCaseResult<Vec<NewFile>> {
        let uploads = self.store.repo().draft_uploads(tenant, draft).await?;
        let mut files = Vec::new();
        for (path, value) in file_values(def, data) {
            let upload = crate::drafts::upload_of(&uploads, &value)
                .ok_or_else(|| field_error(&path, "file.forged"))?;
            let Some(bytes) = self.files.get(tenant, &upload.file_key).await? else {
                return Err(field_error(&path, "file.missing"));
            };
            if bytes.len() > MAX_UPLOAD_BYTES {
                return Err(field_error(&path, "file.too_large"));
            }
            let mime = sniff(&bytes).ok_or_else(|| field_error(&path, "file.type"))?;
            use sha2::Digest;
            files.push(NewFile {
                field_path: path,
                file_key: upload.file_key.clone(),
                name: upload.name.clone(),
                mime: mime.to_string(),
                size: bytes.len() as i64,
                sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            });
        }
        Ok(files)
    }

    /// The applicant actor for an access token (the access link, or the
    /// bearer token of the API).
    pub async fn applicant(
        &self,
        tenant: rathaus_domain::tenancy::TenantId,
        token: &str,
    ) -> UseCaseResult<Actor> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(UseCaseError::NotFound);
        }
        let application = self
            .store
            .repo()
            .application_by_access_token(tenant, token)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok(Actor::Applicant {
            tenant,
            application: application.id,
        })
    }

    /// Checks that `reference` is the actor's own application (the one of its
    /// access token, or of its account) — before anything else is read.
    pub async fn require_own_application(
        &self,
        actor: &Actor,
        reference: &str,
    ) -> UseCaseResult<()> {
        self.own_application(actor, Some(reference))
            .await
            .map(|_| ())
    }

    /// The application the actor may see as its applicant: the one of the
    /// access token (and `reference`, if given, must be its), or one
    /// submitted from the citizen's account (by `reference`).
    pub(crate) async fn own_application(
        &self,
        actor: &Actor,
        reference: Option<&str>,
    ) -> UseCaseResult<Application> {
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let found = match actor {
            Actor::Applicant { application, .. } => repo
                .application(tenant, *application)
                .await?
                .filter(|a| reference.is_none_or(|r| a.reference.eq_ignore_ascii_case(r.trim()))),
            Actor::Citizen { account, .. } => match reference {
                Some(r) => repo
                    .application_by_reference(tenant, r.trim())
                    .await?
                    .filter(|a| a.citizen_id == Some(*account)),
                None => None,
            },
            Actor::Anonymous { .. } => return Err(UseCaseError::Unauthenticated),
            Actor::Staff(_) => return Err(UseCaseError::Forbidden),
        };
        found.ok_or(UseCaseError::NotFound)
    }

    /// An application with its mailbox, for its applicant or a clerk of the
    /// responsible org units. `open_mailbox`: the applicant opens the
    /// mailbox, which records the office's messages as read.
    pub async fn read_application(
        &self,
        actor: &Actor,
        reference: Option<&str>,
        open_mailbox: bool,
    ) -> UseCaseResult<ApplicantApplication> {
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let (application, case) = match actor {
            Actor::Staff(_) => {
                actor.require(Permission::WorkCases)?;
                let application = repo
                    .application_by_reference(tenant, reference.unwrap_or_default().trim())
                    .await?
                    .ok_or(UseCaseError::NotFound)?;
                let case = repo
                    .case_of(tenant, application.id)
                    .await?
                    .ok_or(UseCaseError::NotFound)?;
                actor.require_case(case.org_unit_id)?;
                (application, case)
            }
            _ => {
                let application = self.own_application(actor, reference).await?;
                let case = repo
                    .case_of(tenant, application.id)
                    .await?
                    .ok_or(UseCaseError::NotFound)?;
                (application, case)
            }
        };
        let definition = repo
            .form_version(tenant, application.form_version_id)
            .await?
            .and_then(|v| v.definition())
            .ok_or(UseCaseError::NotFound)?;
        let org_unit = repo
            .org_unit(tenant, case.org_unit_id)
            .await?
            .map(|u| u.name);
        let files = repo.application_files(tenant, application.id).await?;
        if open_mailbox && actor.staff().is_none() {
            repo.mark_read(tenant, application.id, true).await?;
        }
        let messages = repo.messages(tenant, application.id).await?;
        Ok(ApplicantApplication {
            application,
            case,
            definition,
            org_unit,
            files,
            messages,
        })
    }

    /// The confirmation of receipt of the actor's application as PDF/A:
    /// the stored document (typeset once, see [`App::ensure_receipt`]).
    pub async fn receipt_pdf(
        &self,
        actor: &Actor,
        reference: Option<&str>,
    ) -> UseCaseResult<(Application, Bytes)> {
        let application = self.own_application(actor, reference).await?;
        let (_, bytes) = self.ensure_receipt(actor.tenant(), application.id).await?;
        Ok((application, bytes))
    }

    /// The stored confirmation of receipt of an application; typeset and
    /// stored first if it is not yet (the job `application.receipt` does
    /// this right after the submission and retries until it succeeds; a
    /// download before that does the same). Its SHA-256 is checked on every
    /// read.
    pub async fn ensure_receipt(
        &self,
        tenant: TenantId,
        application: Uuid,
    ) -> UseCaseResult<(ApplicationFile, Bytes)> {
        let repo = self.store.repo();
        if let Some(f) = repo.receipt_file(tenant, application).await? {
            let bytes = self.stored_receipt(tenant, &f).await?;
            return Ok((f, bytes));
        }
        let app = repo
            .application(tenant, application)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let receipt = self.receipt_content(tenant, &app).await?;
        let pdf = tokio::task::spawn_blocking(move || rathaus_documents::receipt_pdf(&receipt))
            .await
            .map_err(|e| UseCaseError::Internal(format!("typesetting the receipt: {e}")))?
            .map_err(|e| UseCaseError::Internal(format!("typesetting the receipt: {e}")))?;
        let key = format!("receipts/{}/{}.pdf", app.id, Uuid::now_v7());
        let bytes = Bytes::from(pdf);
        let stored = self.files.put(tenant, &key, bytes.clone()).await?;
        let (row, recorded) = self
            .store
            .store_receipt(
                tenant,
                app.id,
                &NewFile {
                    field_path: RECEIPT_PATH.into(),
                    file_key: key.clone(),
                    name: format!("Eingangsbestaetigung-{}.pdf", app.reference),
                    mime: "application/pdf".into(),
                    size: stored.size as i64,
                    sha256: stored.sha256,
                },
            )
            .await?;
        if recorded {
            return Ok((row, bytes));
        }
        // Another worker or download stored it first: keep that one.
        if let Err(e) = self.files.delete(tenant, &key).await {
            tracing::warn!(error = %e, %key, "removing a receipt typeset twice failed");
        }
        let bytes = self.stored_receipt(tenant, &row).await?;
        Ok((row, bytes))
    }

    /// The bytes of a stored receipt, if they still have their SHA-256.
    async fn stored_receipt(&self, tenant: TenantId, f: &ApplicationFile) -> UseCaseResult<Bytes> {
        use sha2::Digest;
        let bytes =
            self.files.get(tenant, &f.file_key).await?.ok_or_else(|| {
                UseCaseError::Internal(format!("receipt {} is missing", f.file_key))
            })?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != f.sha256 {
            return Err(UseCaseError::Internal(format!(
                "receipt {} does not match its SHA-256",
                f.file_key
            )));
        }
        Ok(bytes)
    }

    /// What the confirmation of receipt shows, from the stored application
    /// as it is now (right after the submission, when the job runs).
    async fn receipt_content(
        &self,
        tenant: TenantId,
        app: &Application,
    ) -> UseCaseResult<rathaus_documents::Receipt> {
        let repo = self.store.repo();
        let definition = repo
            .form_version(tenant, app.form_version_id)
            .await?
            .and_then(|v| v.definition())
            .ok_or(UseCaseError::NotFound)?;
        let case = repo
            .case_of(tenant, app.id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let office = repo
            .org_unit(tenant, case.org_unit_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let municipality = repo
            .tenant(tenant)
            .await?
            .ok_or(UseCaseError::NotFound)?
            .name;
        let fees = match app.service_id {
            Some(s) => repo
                .published(tenant, s)
                .await?
                .map(|p| p.content.costs)
                .unwrap_or_default(),
            None => String::new(),
        };
        let files = repo
            .application_files(tenant, app.id)
            .await?
            .into_iter()
            .filter(|f| f.message_id.is_none() && f.field_path != RECEIPT_PATH)
            .map(|f| f.name)
            .collect();
        let local = app
            .submitted_at
            .with_timezone(&berlin_offset(app.submitted_at));
        Ok(rathaus_documents::Receipt {
            municipality,
            office,
            reference: app.reference.clone(),
            form_title: definition.title.de.clone(),
            submitted_at: format!("{} Uhr", local.format("%d.%m.%Y, %H:%M")),
            sections: forms::receipt_sections(&definition, &app.data(), local.date_naive()),
            files,
            fees,
            next_steps: RECEIPT_NEXT_STEPS.into(),
            date: local.date_naive(),
        })
    }

    /// A file of the application (of the submission or a message) for its
    /// applicant, with its content. The first opening of a Bescheid is its
    /// Bekanntgabe: the time is recorded, which the clerk sees.
    pub async fn applicant_file(
        &self,
        actor: &Actor,
        reference: Option<&str>,
        file: Uuid,
    ) -> UseCaseResult<(ApplicationFile, Bytes)> {
        let tenant = actor.tenant();
        let application = self.own_application(actor, reference).await?;
        let repo = self.store.repo();
        let f = repo
            .application_files(tenant, application.id)
            .await?
            .into_iter()
            .find(|f| f.id == file)
            .ok_or(UseCaseError::NotFound)?;
        if let Some(m) = f.message_id
            && repo
                .decision_message(tenant, application.id, m)
                .await?
                .is_some()
        {
            self.store.open_decision(tenant, m).await?;
        }
        let bytes = self
            .files
            .get(tenant, &f.file_key)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok((f, bytes))
    }

    /// The applicant answers the office (text and files, typed by content).
    /// An answer to a document request returns the case to the clerk.
    pub async fn answer_application(
        &self,
        actor: &Actor,
        reference: Option<&str>,
        answer: Answer,
    ) -> UseCaseResult<Message> {
        let tenant = actor.tenant();
        let application = self.own_application(actor, reference).await?;
        let text = answer.body.trim().to_string();
        let mut errors = ValidationErrors::new();
        if text.chars().count() > MAX_ANSWER_CHARS {
            errors.push(FieldError::new("body", "too_long"));
        }
        let limits = self.uploads;
        if answer.files.len() > MAX_ANSWER_FILES.min(limits.quota_files as usize) {
            errors.push(FieldError::new("files", "file.quota_files"));
        }
        let bytes: u64 = answer.files.iter().map(|f| f.content.len() as u64).sum();
        if bytes > limits.quota_bytes {
            errors.push(FieldError::new("files", "file.quota_bytes"));
        }
        if !errors.is_empty() {
            return Err(UseCaseError::Validation(errors));
        }
        let mut checked = Vec::new();
        for (i, f) in answer.files.into_iter().enumerate() {
            let field = format!("files[{i}].content");
            if f.content.is_empty() {
                return Err(field_error(&field, "file.empty"));
            }
            if f.content.len() > MAX_UPLOAD_BYTES {
                return Err(field_error(&field, "file.too_large"));
            }
            let mime = sniff(&f.content).ok_or_else(|| field_error(&field, "file.type"))?;
            checked.push((f.name, mime, f.content));
        }
        if text.is_empty() && checked.is_empty() {
            return Err(field_error("body", "required"));
        }
        let mut files = Vec::new();
        for (name, mime, content) in checked {
            let key = format!("uploads/{}", Uuid::now_v7());
            let stored = self.files.put(tenant, &key, content).await?;
            files.push(NewFile {
                field_path: "antwort".into(),
                file_key: key,
                name: safe_file_name(&name, mime),
                mime: mime.to_string(),
                size: stored.size as i64,
                sha256: stored.sha256,
            });
        }
        match self
            .store
            .applicant_answer(tenant, application.id, text, files)
            .await
        {
            Ok(m) => Ok(m),
            Err(CaseError::Transition(t)) => Err(UseCaseError::Transition(t)),
            Err(CaseError::Storage(e)) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_typed_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(sniff(b"MZ\x90\x00 an exe named x.pdf"), None);
        assert_eq!(
            sniff(b"%PDF-1.4\n<html><script>alert(1)</script></html>"),
            None,
            "a PDF/HTML polyglot is refused"
        );
        assert_eq!(
            safe_file_name("C:\\Users\\x\\Nachweis.pdf", "application/pdf"),
            "Nachweis.pdf"
        );
        assert_eq!(
            safe_file_name("../../etc/passwd", "image/png"),
            "passwd.png"
        );
        assert_eq!(safe_file_name("foto.jpeg", "image/jpeg"), "foto.jpeg");
        assert_eq!(safe_file_name("", "application/pdf"), "datei.pdf");
        assert_eq!(
            safe_file_name("rechnung\u{202E}fdp.exe", "application/pdf"),
            "rechnungfdp.exe.pdf"
        );
        assert_eq!(safe_file_name("a\0b\r\n.pdf", "application/pdf"), "ab.pdf");
        assert_eq!(safe_file_name("..", "application/pdf"), "datei.pdf");
        assert_eq!(safe_file_name(".htaccess", "image/png"), "htaccess.png");
        assert_eq!(
            safe_file_name(&"x".repeat(300), "application/pdf")
                .chars()
                .count(),
            104
        );
    }
}
