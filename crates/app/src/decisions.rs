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
use rathaus_storage::decisions::DecisionTemplate;
use rathaus_storage::prelude::*;
use sha2::Digest;
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Longest reason text (characters).
pub const MAX_REASON_CHARS: usize = 20_000;

/// What the clerk decides.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub variant: Variant,
    /// Fills `{{begruendung}}`.
    pub reason: String,
    /// A fee set with the Bescheid (pay later): its amount as typed
    /// (`30,70`); empty or `None`: no fee.
    pub fee: Option<String>,
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
        // A fee with the Bescheid is checked before anything is stored.
        let fee = match input
            .fee
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            None => None,
            Some(text) => {
                if !self.payments_enabled() {
                    return Err(UseCaseError::Workflow("payment.not_configured"));
                }
                match rathaus_domain::payments::Money::parse_field("fee", text) {
                    Ok(m) if !m.is_zero() => Some(m),
                    Ok(_) => return Err(FieldError::new("fee", "payment.amount_zero").into()),
                    Err(e) => return Err(e.into()),
                }
            }
        };
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
        if let Some(amount) = fee {
            // Asked for with the Bescheid: a fee request in the mailbox. Should
            // this step fail after the decision, the clerk sees no request on
            // the case page and asks for it there.
            self.request_fee(
                actor,
                case.id,
                &amount.to_string(),
                &format!("Gebühr laut Bescheid ({})", app.reference),
            )
            .await?;
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

/// Longest template title and body (characters).
pub const MAX_TEMPLATE_TITLE_CHARS: usize = 200;
pub const MAX_TEMPLATE_BODY_CHARS: usize = 50_000;

/// A service of the tenant as the Fachadministration's template list shows it.
#[derive(Debug, Clone)]
pub struct TemplateOverview {
    pub service: Uuid,
    /// Title of the newest version.
    pub title: String,
    /// Per [`Variant::ALL`]: the service has its own template.
    pub own: Vec<bool>,
    /// Number of routing rules.
    pub rules: usize,
}

/// A template to edit: the saved one (if any) and what may be used in it.
#[derive(Debug, Clone)]
pub struct TemplateEdit {
    /// The service's title; `None` for the tenant's default.
    pub service_title: Option<String>,
    pub saved: Option<DecisionTemplate>,
    /// The built-in text of the variant (title, body).
    pub builtin: (&'static str, &'static str),
    /// Fields of the service's published form: (path, label).
    pub fields: Vec<(String, String)>,
}

/// A template to save: for a service, or the tenant default (`service: None`).
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub service: Option<Uuid>,
    pub variant: Variant,
    pub title: String,
    pub body: String,
}

/// Why a template was not saved; the page shows it beside the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    /// A plain field problem (`template_title`/`template_body`, code).
    Field(FieldError),
    /// A placeholder the template may not use.
    Placeholder(TemplateError),
}

impl App {
    /// The tenant's services with their own templates and routing rules.
    pub async fn decision_templates(&self, actor: &Actor) -> UseCaseResult<Vec<TemplateOverview>> {
        actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        let repo = self.store.repo();
        let mut rows = Vec::new();
        for o in repo.overview(tenant).await? {
            let own = repo.service_templates(tenant, o.service.id).await?;
            let rules = repo.routing_rules(tenant, o.service.id).await?.len();
            rows.push(TemplateOverview {
                service: o.service.id,
                title: o.latest.content().title.de,
                own: Variant::ALL
                    .iter()
                    .map(|v| own.iter().any(|t| t.variant == v.code()))
                    .collect(),
                rules,
            });
        }
        Ok(rows)
    }

    /// The template of a service (or the default) for one variant.
    pub async fn decision_template(
        &self,
        actor: &Actor,
        service: Option<Uuid>,
        variant: Variant,
    ) -> UseCaseResult<TemplateEdit> {
        actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        let service_title = match service {
            Some(s) => Some(self.service_head(tenant, s).await?.0),
            None => None,
        };
        let repo = self.store.repo();
        let fields = match service {
            Some(s) => self
                .published_definition(tenant, s)
                .await?
                .map(|d| rathaus_domain::forms::field_list(&d))
                .unwrap_or_default(),
            None => vec![],
        };
        Ok(TemplateEdit {
            service_title,
            saved: repo.decision_template(tenant, service, variant).await?,
            builtin: decisions::default_template(variant),
            fields,
        })
    }

    /// Saves a template after checking its placeholders against the
    /// service's published form. A refused draft is the inner `Err`.
    pub async fn save_decision_template(
        &self,
        actor: &Actor,
        input: TemplateInput,
    ) -> UseCaseResult<Result<DecisionTemplate, TemplateProblem>> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        let form = match input.service {
            Some(s) => {
                self.service_head(tenant, s).await?;
                self.published_definition(tenant, s).await?
            }
            None => None,
        };
        let title = input.title.trim().to_string();
        let body = input.body.replace("\r\n", "\n");
        let field = |f: &str, code| Err(TemplateProblem::Field(FieldError::new(f, code)));
        let problem = if title.is_empty() {
            field("template_title", "required")
        } else if body.trim().is_empty() {
            field("template_body", "required")
        } else if title.chars().count() > MAX_TEMPLATE_TITLE_CHARS {
            field("template_title", "too_long")
        } else if body.chars().count() > MAX_TEMPLATE_BODY_CHARS {
            field("template_body", "too_long")
        } else {
            decisions::check(&title, form.as_ref())
                .and_then(|_| decisions::check(&body, form.as_ref()))
                .map_err(TemplateProblem::Placeholder)
        };
        if let Err(p) = problem {
            return Ok(Err(p));
        }
        let saved = self
            .store
            .save_decision_template(
                tenant,
                input.service,
                input.variant,
                &title,
                &body,
                &staff.user.email,
            )
            .await?;
        Ok(Ok(saved))
    }

    /// A service's title and responsible org unit (newest version); a
    /// service of another tenant is `NotFound`.
    pub(crate) async fn service_head(
        &self,
        tenant: rathaus_domain::tenancy::TenantId,
        service: Uuid,
    ) -> UseCaseResult<(String, Uuid)> {
        let o = self
            .store
            .repo()
            .overview(tenant)
            .await?
            .into_iter()
            .find(|o| o.service.id == service)
            .ok_or(UseCaseError::NotFound)?;
        Ok((o.latest.content().title.de, o.latest.org_unit_id))
    }

    /// The definition of a service's published form, if it has one.
    pub(crate) async fn published_definition(
        &self,
        tenant: rathaus_domain::tenancy::TenantId,
        service: Uuid,
    ) -> UseCaseResult<Option<rathaus_domain::forms::FormDefinition>> {
        Ok(self
            .store
            .repo()
            .published_form_for_service(tenant, service)
            .await?
            .and_then(|(_, v)| v.definition()))
    }
}
