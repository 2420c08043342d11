//! Routing rules per service (Zuständigkeitsprüfung): which org unit
//! receives an application, by a field's value. Tenant configuration.

use rathaus_domain::tenancy::TenantId;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, prelude::*};

use crate::{Repo, Result, Store, entities::routing_rule};

pub type RoutingRule = routing_rule::Model;

#[allow(async_fn_in_trait)]
pub trait RoutingRepository {
    /// The routing rules of a service, in order.
    async fn routing_rules(&self, tenant: TenantId, service: Uuid) -> Result<Vec<RoutingRule>>;
}

impl<C: ConnectionTrait> RoutingRepository for Repo<'_, C> {
    async fn routing_rules(&self, tenant: TenantId, service: Uuid) -> Result<Vec<RoutingRule>> {
        Ok(routing_rule::Entity::find()
            .filter(routing_rule::Column::TenantId.eq(tenant.0))
            .filter(routing_rule::Column::ServiceId.eq(service))
            .order_by_asc(routing_rule::Column::Position)
            .all(self.0)
            .await?)
    }
}

impl Store {
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
