//! Bescheid templates per service and variant, and routing rules per
//! service (Zuständigkeitsprüfung). Both are tenant configuration kept by
//! Fachadministration.

use chrono::Utc;
use rathaus_domain::{decisions::Variant, tenancy::TenantId};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, prelude::*};

use crate::{
    Repo, Result, Store,
    entities::{decision_template, routing_rule},
};

pub type DecisionTemplate = decision_template::Model;
pub type RoutingRule = routing_rule::Model;

impl<C: ConnectionTrait> Repo<'_, C> {
    /// The template of a service and variant, else the tenant's default for
    /// the variant; `None`: the built-in text applies.
    pub async fn decision_template(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        variant: Variant,
    ) -> Result<Option<DecisionTemplate>> {
        if let Some(s) = service
            && let Some(t) = decision_template::Entity::find()
                .filter(decision_template::Column::TenantId.eq(tenant.0))
                .filter(decision_template::Column::ServiceId.eq(s))
                .filter(decision_template::Column::Variant.eq(variant.code()))
                .one(self.0)
                .await?
        {
            return Ok(Some(t));
        }
        Ok(decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::ServiceId.is_null())
            .filter(decision_template::Column::Variant.eq(variant.code()))
            .one(self.0)
            .await?)
    }

    /// The service's own templates (not the defaults).
    pub async fn service_templates(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<Vec<DecisionTemplate>> {
        Ok(decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::ServiceId.eq(service))
            .all(self.0)
            .await?)
    }

    /// The routing rules of a service, in order.
    pub async fn routing_rules(&self, tenant: TenantId, service: Uuid) -> Result<Vec<RoutingRule>> {
        Ok(routing_rule::Entity::find()
            .filter(routing_rule::Column::TenantId.eq(tenant.0))
            .filter(routing_rule::Column::ServiceId.eq(service))
            .order_by_asc(routing_rule::Column::Position)
            .all(self.0)
            .await?)
    }
}

impl Store {
    /// Creates or replaces the template of a service (or the tenant default
    /// when `service` is `None`) for a variant. The caller has checked the
    /// placeholders.
    pub async fn save_decision_template(
        &self,
        tenant: TenantId,
        service: Option<Uuid>,
        variant: Variant,
        title: &str,
        body: &str,
        by: &str,
    ) -> Result<DecisionTemplate> {
        let txn = self.begin_write().await?;
        let mut q = decision_template::Entity::find()
            .filter(decision_template::Column::TenantId.eq(tenant.0))
            .filter(decision_template::Column::Variant.eq(variant.code()));
        q = match service {
            Some(s) => q.filter(decision_template::Column::ServiceId.eq(s)),
            None => q.filter(decision_template::Column::ServiceId.is_null()),
        };
        let saved = match q.one(&txn).await? {
            Some(t) => {
                let mut am: decision_template::ActiveModel = t.into();
                am.title = Set(title.to_string());
                am.body = Set(body.to_string());
                am.updated_at = Set(Utc::now());
                am.updated_by = Set(by.to_string());
                am.update(&txn).await?
            }
            None => {
                decision_template::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant.0),
                    service_id: Set(service),
                    variant: Set(variant.code().to_string()),
                    title: Set(title.to_string()),
                    body: Set(body.to_string()),
                    updated_at: Set(Utc::now()),
                    updated_by: Set(by.to_string()),
                }
                .insert(&txn)
                .await?
            }
        };
        txn.commit().await?;
        Ok(saved)
    }

    /// Replaces the routing rules of a service with `rules` (field, pattern,
    /// org unit), in this order. The caller has checked patterns and that the
    /// org units belong to the tenant.
    pub async fn replace_routing_rules(
        &self,
        tenant: TenantId,
        service: Uuid,
        rules: &[(String, String, Uuid)],
    ) -> Result<Vec<RoutingRule>> {
        let txn = self.begin_write().await?;
        routing_rule::Entity::delete_many()
            .filter(routing_rule::Column::TenantId.eq(tenant.0))
            .filter(routing_rule::Column::ServiceId.eq(service))
            .exec(&txn)
            .await?;
        let mut out = Vec::with_capacity(rules.len());
        for (i, (field, pattern, unit)) in rules.iter().enumerate() {
            out.push(
                routing_rule::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant.0),
                    service_id: Set(service),
                    position: Set(i as i32),
                    field: Set(field.clone()),
                    pattern: Set(pattern.clone()),
                    org_unit_id: Set(*unit),
                }
                .insert(&txn)
                .await?,
            );
        }
        txn.commit().await?;
        Ok(out)
    }
}
