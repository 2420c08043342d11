//! Deciding a case with a Bescheid (C6): the service's template (or the
//! tenant's default, or the built-in text) filled for the case, typeset as
//! PDF/A, stored with the case and delivered into the mailbox.

use std::collections::HashMap;

use chrono::Utc;
use rathaus_domain::{
    FieldError,
    cases::{CaseAction, transition},
    decisions::{self, TemplateError, Variant},
};
use rathaus_storage::applications::{Application, Case, NewDecision, NewFile};
use rathaus_storage::prelude::*;
use sha2::Digest;
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// Longest reason text (characters).
pub const MAX_REASON_CHARS: usize = 20_000;

/// What the clerk decides.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub variant: Variant,
    /// Fills `{{begruendung}}`.
    pub reason: String,
}

/// A typeset Bescheid.
#[derive(Debug, Clone)]
pub struct RenderedDecision {
    pub title: String,
    pub pdf: Vec<u8>,
}

/// The message code of a template error (`validation.<code>`).
pub fn template_code(e: &TemplateError) -> &'static str {
    match e {
        TemplateError::Unknown(_) => "template.unknown",
        TemplateError::Unclosed(_) => "template.unclosed",
        TemplateError::UnknownField(_) => "template.field",
    }
}

impl App {
    /// The Bescheid as it would be issued now, without issuing it.
    pub async fn preview_decision(
        &self,
        actor: &Actor,
        case_id: Uuid,
        input: DecisionInput,
    ) -> UseCaseResult<RenderedDecision> {
        let case = self.case(actor, case_id).await?;
        check_reason(&input.reason)?;
        let app = self.application_of(actor, &case).await?;
        self.render_decision(actor, &case, &app, &input).await
    }

    /// Decides the case: renders the Bescheid, stores the PDF and records the
    /// decision (status, message, audit entry, notification job) in one
    /// transaction. Returns the case as decided.
    pub async fn decide(
        &self,
        actor: &Actor,
        case_id: Uuid,
        input: DecisionInput,
    ) -> UseCaseResult<Case> {
        let case = self.case(actor, case_id).await?;
        let staff = actor.require(crate::Permission::WorkCases)?;
        check_reason(&input.reason)?;
        transition(case.status(), CaseAction::Decide)?;
        let app = self.application_of(actor, &case).await?;
        let rendered = self.render_decision(actor, &case, &app, &input).await?;
        let tenant = actor.tenant();
        let key = format!("decisions/{}.pdf", Uuid::now_v7());
        let sha256 = hex::encode(sha2::Sha256::digest(&rendered.pdf));
        let size = rendered.pdf.len() as i64;
        self.files
            .put(tenant, &key, rendered.pdf.into())
            .await
            .map_err(|e| UseCaseError::Internal(e.to_string()))?;
        let decision = NewDecision {
            variant: input.variant,
            title: rendered.title,
            file: NewFile {
                field_path: "bescheid".into(),
                file_key: key.clone(),
                name: format!("Bescheid-{}.pdf", app.reference),
                mime: "application/pdf".into(),
                size,
                sha256,
            },
        };
        let audit_actor = staff.audit_name();
        if let Err(e) = self
            .store
            .decide(tenant, case.id, (staff.user.id, &audit_actor), decision)
            .await
        {
            // Not recorded: the stored PDF belongs to nothing.
            if let Err(d) = self.files.delete(tenant, &key).await {
                tracing::warn!(error = %d, %key, "unrecorded Bescheid not removed");
            }
            return Err(e.into());
        }
        self.store
            .repo()
            .case(tenant, case.id)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    async fn application_of(&self, actor: &Actor, case: &Case) -> UseCaseResult<Application> {
        self.store
            .repo()
            .application(actor.tenant(), case.application_id)
            .await?
            .ok_or(UseCaseError::NotFound)
    }

    /// Fills the template for this case and typesets it.
    async fn render_decision(
        &self,
        actor: &Actor,
        case: &Case,
        app: &Application,
        input: &DecisionInput,
    ) -> UseCaseResult<RenderedDecision> {
        let tenant = actor.tenant();
        let clerk = actor
            .staff()
            .map(|s| s.user.display_name.clone())
            .unwrap_or_default();
        let repo = self.store.repo();
        let municipality = repo
            .tenant(tenant)
            .await?
            .ok_or(UseCaseError::NotFound)?
            .name;
        let (title_t, body_t) = match repo
            .decision_template(tenant, app.service_id, input.variant)
            .await?
        {
            Some(t) => (t.title, t.body),
            None => {
                let (t, b) = decisions::default_template(input.variant);
                (t.to_string(), b.to_string())
            }
        };
        let version = repo
            .form_version(tenant, app.form_version_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let def = version.definition().ok_or(UseCaseError::NotFound)?;
        let data = app.data();
        let office = repo
            .org_unit(tenant, case.org_unit_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let service = match app.service_id {
            Some(s) => repo
                .published(tenant, s)
                .await?
                .map(|p| p.content.title.de)
                .unwrap_or_else(|| def.title.de.clone()),
            None => def.title.de.clone(),
        };
        let (name, address) = decisions::applicant_from_form(&def, &data);
        let today = Utc::now().date_naive();
        let named = HashMap::from([
            ("aktenzeichen", app.reference.clone()),
            ("datum", today.format("%d.%m.%Y").to_string()),
            ("eingang", app.submitted_at.format("%d.%m.%Y").to_string()),
            ("leistung", service),
            ("behoerde", municipality.clone()),
            ("stelle", office.clone()),
            ("name", name.clone()),
            ("anschrift", address.clone()),
            ("begruendung", input.reason.trim().to_string()),
            ("sachbearbeitung", clerk.clone()),
        ]);
        let ctx = decisions::Context {
            named,
            data: &data,
            form: Some(&def),
        };
        let template_error =
            |e: TemplateError| UseCaseError::from(FieldError::new("template", template_code(&e)));
        let title = decisions::render(&title_t, &ctx).map_err(template_error)?;
        let body = decisions::render(&body_t, &ctx).map_err(template_error)?;
        let doc = rathaus_documents::Decision {
            municipality,
            office,
            reference: app.reference.clone(),
            title: title.clone(),
            recipient: [name, address]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            body,
            clerk,
            date: today,
        };
        let pdf = tokio::task::spawn_blocking(move || rathaus_documents::decision_pdf(&doc))
            .await
            .map_err(|e| UseCaseError::Internal(e.to_string()))?
            .map_err(|e| UseCaseError::Internal(e.to_string()))?;
        Ok(RenderedDecision { title, pdf })
    }
}

fn check_reason(reason: &str) -> UseCaseResult<()> {
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(FieldError::new("reason", "too_long").into());
    }
    Ok(())
}
