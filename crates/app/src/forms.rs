//! Form editing (C2): FIM XDatenfelder import (with genericode lists),
//! storing and changing definitions, attaching a form to a service — once,
//! for the editor's pages and the forms API. The review of form versions is
//! the editorial workflow ([`crate::editorial`]).

use rathaus_domain::{
    FieldError, ValidationErrors,
    catalog::slugify,
    forms::{self, FormDefinition},
    tenancy::TenantId,
};
use rathaus_standards::xdatenfelder::{self, Warning};
use rathaus_storage::forms::{Form, FormOverview, FormVersion, Forms};
use rathaus_storage::prelude::*;
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseError, UseCaseResult};

/// Most code list files one import may carry.
pub const MAX_CODE_LISTS: usize = 100;
/// Most bytes of all files of one import together.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
/// Longest form key (characters).
pub const MAX_KEY_CHARS: usize = 40;

/// A definition to store: as a new form with the key, or as a new draft of
/// the form with that key.
#[derive(Debug, Clone)]
pub struct NewDefinition {
    /// The form's key; made from the definition's key or title when absent.
    pub key: Option<String>,
    /// The slug of the service to attach the form to.
    pub service: Option<String>,
    pub definition: FormDefinition,
}

/// An uploaded XDatenfelder schema with its code lists (file name, text).
#[derive(Debug, Clone)]
pub struct FimUpload {
    pub schema: (String, String),
    pub code_lists: Vec<(String, String)>,
    pub key: Option<String>,
    pub service: Option<String>,
}

/// A stored definition.
#[derive(Debug, Clone)]
pub struct StoredForm {
    pub form: Form,
    pub version: FormVersion,
    /// A new form (not a new version of an existing one).
    pub created: bool,
    /// What a FIM import asks the editor to look at.
    pub report: Vec<Warning>,
    /// The link to the named service when it waits for a second editor
    /// (an existing form linked to another service).
    pub pending_change: Option<crate::editorial::RecordChange>,
}

/// The key a form gets: the given one, else from the definition.
fn form_key(key: Option<&str>, def: &FormDefinition) -> String {
    let key = key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .unwrap_or_else(|| {
            let k = slugify(&def.key.replace('_', "-"));
            if k.len() >= 2 {
                k
            } else {
                slugify(&def.title.de)
            }
        });
    key.chars()
        .take(MAX_KEY_CHARS)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The definition's lint problems as validation errors naming each path.
pub fn lint(def: &FormDefinition) -> UseCaseResult<()> {
    let problems = forms::lint(def);
    if problems.is_empty() {
        return Ok(());
    }
    Err(ValidationErrors(
        problems
            .into_iter()
            .map(|(path, _)| FieldError::new(path, "form.lint"))
            .collect(),
    )
    .into())
}

impl App {
    /// The service with that slug in the tenant (`Validation` on `service`
    /// when there is none).
    async fn service_by_slug(
        &self,
        tenant: TenantId,
        slug: Option<&str>,
    ) -> UseCaseResult<Option<Uuid>> {
        match slug.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => self
                .store
                .repo()
                .service_by_slug(tenant, s)
                .await?
                .map(|s| Some(s.id))
                .ok_or_else(|| {
                    ValidationErrors::from(FieldError::new("service", "service.unknown")).into()
                }),
        }
    }

    /// Stores a definition as a new form or a new draft of the form with
    /// the same key (attaching it when a service is named), in one
    /// transaction.
    pub async fn store_form_definition(
        &self,
        actor: &Actor,
        input: NewDefinition,
    ) -> UseCaseResult<StoredForm> {
        self.store_definition(actor, input, Vec::new()).await
    }

    async fn store_definition(
        &self,
        actor: &Actor,
        input: NewDefinition,
        report: Vec<Warning>,
    ) -> UseCaseResult<StoredForm> {
        let staff = actor.require(Permission::EditContent)?;
        lint(&input.definition)?;
        let tenant = staff.tenant();
        let service = self
            .service_by_slug(tenant, input.service.as_deref())
            .await?;
        let key = form_key(input.key.as_deref(), &input.definition);
        let report_json = (!report.is_empty())
            .then(|| serde_json::to_value(&report))
            .transpose()
            .map_err(|e| UseCaseError::Internal(e.to_string()))?;
        // A new form is linked at once: it goes public (and replaces the
        // service's current form) only with its first version, which a
        // second editor approves. Linking an existing form is a change under
        // the four eyes.
        let direct = match service {
            None => true,
            Some(_) => self.store.repo().form_by_key(tenant, &key).await?.is_none(),
        };
        let (form, version, created) = self
            .store
            .store_form_definition(
                tenant,
                staff.user.id,
                &key,
                if direct { service } else { None },
                &input.definition,
                report_json.as_ref(),
            )
            .await?;
        let pending_change = match service {
            Some(s) if !direct && form.service_id != Some(s) => Some(
                self.request_change::<Forms>(
                    actor,
                    form.id,
                    crate::editorial::ChangeAction::Attach(Some(s)),
                )
                .await?,
            ),
            _ => None,
        };
        if service.is_some() && direct {
            self.changed();
        }
        Ok(StoredForm {
            form,
            version,
            created,
            report,
            pending_change,
        })
    }

    /// Imports an XDatenfelder schema with its code lists as a form draft;
    /// a file that cannot be read is `BadFile` naming file, line and element.
    pub async fn import_fim(&self, actor: &Actor, upload: FimUpload) -> UseCaseResult<StoredForm> {
        actor.require(Permission::EditContent)?;
        if upload.code_lists.len() > MAX_CODE_LISTS {
            return Err(ValidationErrors::from(FieldError::new("codelists", "too_many")).into());
        }
        let bytes = upload.schema.1.len()
            + upload
                .code_lists
                .iter()
                .map(|(_, t)| t.len())
                .sum::<usize>();
        if bytes > MAX_IMPORT_BYTES {
            return Err(UseCaseError::BadFile(format!(
                "the files are larger than {} MiB together",
                MAX_IMPORT_BYTES / (1024 * 1024)
            )));
        }
        let (name, xml) = &upload.schema;
        let import = xdatenfelder::import(name, xml, &upload.code_lists)
            .map_err(|e| UseCaseError::BadFile(e.to_string()))?;
        let input = NewDefinition {
            key: upload.key,
            service: upload.service,
            definition: import.form,
        };
        self.store_definition(actor, input, import.report).await
    }

    /// Changes the open draft of a form, or starts a new draft version.
    pub async fn save_form(
        &self,
        actor: &Actor,
        id: Uuid,
        definition: &FormDefinition,
    ) -> UseCaseResult<FormVersion> {
        let staff = actor.require(Permission::EditContent)?;
        lint(definition)?;
        Ok(self
            .store
            .repo()
            .save_form_draft(staff.tenant(), id, staff.user.id, definition, None)
            .await?)
    }

    /// Asks to link the form to the service with that slug (or to none):
    /// a pending change that another editor must approve
    /// ([`App::review_change`]); on approval the service's previous form is
    /// detached.
    pub async fn attach_form(
        &self,
        actor: &Actor,
        id: Uuid,
        service: Option<&str>,
    ) -> UseCaseResult<crate::editorial::RecordChange> {
        let staff = actor.require(Permission::EditContent)?;
        let service = self.service_by_slug(staff.tenant(), service).await?;
        self.request_change::<Forms>(actor, id, crate::editorial::ChangeAction::Attach(service))
            .await
    }

    /// The editor's overview of all forms.
    pub async fn forms_overview(&self, actor: &Actor) -> UseCaseResult<Vec<FormOverview>> {
        let staff = actor.require(Permission::EditContent)?;
        Ok(self.store.repo().forms_overview(staff.tenant()).await?)
    }

    /// A form of the actor's tenant for its editors, by id or key.
    pub async fn form_for_editing(&self, actor: &Actor, id: &str) -> UseCaseResult<Form> {
        let staff = actor.require(Permission::EditContent)?;
        self.find_form(staff.tenant(), id).await
    }
}
