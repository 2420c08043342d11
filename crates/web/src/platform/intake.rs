//! The submission cache lives in the use-case layer (`rathaus_app::intake`),
//! dropped by every staff use case that changes what submissions read
//! (`App::changed`); these wrappers keep the forms API's calls short.

pub use rathaus_app::intake::TtlMap;
use rathaus_domain::{forms::FormDefinition, tenancy::TenantId};
use rathaus_storage::forms::{Form, FormVersion};

use crate::platform::{AppState, error::AppError};

/// A form by id or key.
pub async fn find_form(state: &AppState, tenant: TenantId, id: &str) -> Result<Form, AppError> {
    Ok(state.app.find_form(tenant, id).await?)
}

/// The published version of a form (by id or key) with its parsed definition.
pub async fn published(
    state: &AppState,
    tenant: TenantId,
    id: &str,
) -> Result<(Form, FormVersion, FormDefinition), AppError> {
    Ok(state.app.published(tenant, id).await?)
}
