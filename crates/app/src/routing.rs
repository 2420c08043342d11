//! Routing rules per service (Zuständigkeitsprüfung), kept by the
//! Fachadministration: which org unit receives an application, by the value
//! of one of its fields.

use rathaus_domain::routing;
use rathaus_storage::prelude::*;
use rathaus_storage::{routing::RoutingRule, tenancy::OrgUnit};
use uuid::Uuid;

use crate::{Actor, App, Permission, UseCaseResult};

/// Longest field path of a rule.
pub const MAX_RULE_FIELD_CHARS: usize = 200;
/// Most rules of one service.
pub const MAX_RULES: usize = 200;

/// The routing of a service as its page shows it.
#[derive(Debug, Clone)]
pub struct ServiceRouting {
    pub title: String,
    /// The org unit that receives what no rule matches.
    pub default_unit: Uuid,
    pub rules: Vec<RoutingRule>,
    /// Every org unit of the tenant (the rules' targets).
    pub units: Vec<OrgUnit>,
    /// Fields of the published form: (path, label).
    pub fields: Vec<(String, String)>,
}

/// One rule as entered: `org_unit` is `None` when it named no unit.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub field: String,
    pub pattern: String,
    pub org_unit: Option<Uuid>,
}

/// Why rules were not saved: the first bad rule (0-based) and the message code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub row: usize,
    pub code: &'static str,
}

impl App {
    /// The routing of a service of the actor's tenant.
    pub async fn service_routing(
        &self,
        actor: &Actor,
        service: Uuid,
    ) -> UseCaseResult<ServiceRouting> {
        actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        let (title, default_unit) = self.service_head(tenant, service).await?;
        let repo = self.store.repo();
        Ok(ServiceRouting {
            title,
            default_unit,
            rules: repo.routing_rules(tenant, service).await?,
            units: repo.org_units(tenant).await?,
            fields: self
                .published_definition(tenant, service)
                .await?
                .map(|d| rathaus_domain::forms::field_list(&d))
                .unwrap_or_default(),
        })
    }

    /// Replaces a service's rules (in order). Rules without field and pattern
    /// are dropped; a bad rule refuses all (the inner `Err`). Submissions
    /// read the new rules at once.
    pub async fn save_routing(
        &self,
        actor: &Actor,
        service: Uuid,
        rules: Vec<RuleInput>,
    ) -> UseCaseResult<Result<Vec<RoutingRule>, RuleProblem>> {
        actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        self.service_head(tenant, service).await?;
        let units: Vec<Uuid> = self
            .store
            .repo()
            .org_units(tenant)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let rules: Vec<RuleInput> = rules
            .into_iter()
            .map(|r| RuleInput {
                field: r.field.trim().to_string(),
                pattern: r.pattern.trim().to_string(),
                org_unit: r.org_unit,
            })
            .filter(|r| !(r.field.is_empty() && r.pattern.is_empty()))
            .collect();
        let mut checked = Vec::with_capacity(rules.len());
        for (row, r) in rules.into_iter().enumerate() {
            let unit = r.org_unit.filter(|u| units.contains(u));
            let code = if row >= MAX_RULES {
                Some("too_long")
            } else if r.field.is_empty() || r.field.chars().count() > MAX_RULE_FIELD_CHARS {
                Some("routing.field")
            } else if let Err(e) = routing::check_pattern(&r.pattern) {
                Some(e.code)
            } else if unit.is_none() {
                Some("org_unit.unknown")
            } else {
                None
            };
            match (code, unit) {
                (None, Some(unit)) => checked.push((r.field, r.pattern, unit)),
                (code, _) => {
                    return Ok(Err(RuleProblem {
                        row,
                        code: code.unwrap_or("org_unit.unknown"),
                    }));
                }
            }
        }
        let saved = self
            .store
            .replace_routing_rules(tenant, service, &checked)
            .await?;
        self.changed();
        Ok(Ok(saved))
    }
}
