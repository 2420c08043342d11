//! Tenants and org units.

use chrono::Utc;
use rathaus_domain::{
    FieldError, ValidationErrors,
    tenancy::{
        Ags, OrgUnitKind, TenantId, TenantSlug, check_org_unit_placement, parse_postal_code,
    },
    validation::required_text,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, prelude::*};

use crate::{
    Repo, Result, StorageError,
    entities::{org_unit, tenant},
};

pub type Tenant = tenant::Model;
pub type OrgUnit = org_unit::Model;

impl tenant::Model {
    pub fn tenant_id(&self) -> TenantId {
        TenantId(self.id)
    }
}

/// Input for a new tenant; checked by [`NewTenant::validate`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub ags: String,
    pub host: Option<String>,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub representative: String,
    pub supervisory_authority: String,
    pub dpo_name: String,
    pub dpo_email: String,
}

impl NewTenant {
    pub fn validate(&self) -> Result<(TenantSlug, Ags), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let slug = errs.check(TenantSlug::parse(&self.slug));
        let ags = errs.check(Ags::parse(&self.ags));
        errs.check(required_text("name", &self.name, 200));
        errs.check(required_text("street", &self.street, 200));
        errs.check(parse_postal_code("postal_code", &self.postal_code));
        errs.check(required_text("city", &self.city, 200));
        errs.check(rathaus_domain::identity::Email::parse_field(
            "email",
            &self.email,
        ));
        errs.check(rathaus_domain::identity::Email::parse_field(
            "dpo_email",
            &self.dpo_email,
        ));
        errs.into_result()?;
        Ok((slug.expect("checked"), ags.expect("checked")))
    }
}

/// Input for a new org unit.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewOrgUnit {
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub short_name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub phone: String,
    pub email: String,
    pub opening_hours: String,
}

#[allow(async_fn_in_trait)]
pub trait TenantRepository {
    async fn create_tenant(&self, input: &NewTenant) -> Result<Tenant>;
    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;
    async fn tenant_by_host(&self, host: &str) -> Result<Option<Tenant>>;
    async fn tenants(&self) -> Result<Vec<Tenant>>;
}

#[allow(async_fn_in_trait)]
pub trait OrgUnitRepository {
    async fn create_org_unit(&self, tenant: TenantId, input: &NewOrgUnit) -> Result<OrgUnit>;
    async fn org_units(&self, tenant: TenantId) -> Result<Vec<OrgUnit>>;
    async fn org_unit(&self, tenant: TenantId, id: Uuid) -> Result<Option<OrgUnit>>;
    async fn org_unit_by_name(&self, tenant: TenantId, name: &str) -> Result<Option<OrgUnit>>;
}

impl<C: ConnectionTrait> TenantRepository for Repo<'_, C> {
    async fn create_tenant(&self, input: &NewTenant) -> Result<Tenant> {
        let (slug, ags) = input.validate()?;
        let model = tenant::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(slug.as_str().to_string()),
            name: Set(input.name.trim().to_string()),
            ags: Set(ags.as_str().to_string()),
            host: Set(input
                .host
                .as_deref()
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())),
            street: Set(input.street.trim().to_string()),
            postal_code: Set(input.postal_code.trim().to_string()),
            city: Set(input.city.trim().to_string()),
            phone: Set(input.phone.trim().to_string()),
            email: Set(input.email.trim().to_lowercase()),
            website: Set(input.website.trim().to_string()),
            representative: Set(input.representative.trim().to_string()),
            supervisory_authority: Set(input.supervisory_authority.trim().to_string()),
            dpo_name: Set(input.dpo_name.trim().to_string()),
            dpo_email: Set(input.dpo_email.trim().to_lowercase()),
            created_at: Set(Utc::now()),
        };
        model
            .insert(self.0)
            .await
            .map_err(StorageError::conflict_on("slug"))
    }

    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        Ok(tenant::Entity::find_by_id(id.0).one(self.0).await?)
    }

    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        Ok(tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug))
            .one(self.0)
            .await?)
    }

    async fn tenant_by_host(&self, host: &str) -> Result<Option<Tenant>> {
        Ok(tenant::Entity::find()
            .filter(tenant::Column::Host.eq(host.to_lowercase()))
            .one(self.0)
            .await?)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>> {
        Ok(tenant::Entity::find()
            .order_by_asc(tenant::Column::Slug)
            .all(self.0)
            .await?)
    }
}

impl<C: ConnectionTrait> OrgUnitRepository for Repo<'_, C> {
    async fn create_org_unit(&self, tenant: TenantId, input: &NewOrgUnit) -> Result<OrgUnit> {
        let mut errs = ValidationErrors::new();
        let kind = errs.check(OrgUnitKind::parse(&input.kind));
        errs.check(required_text("name", &input.name, 200));
        errs.check(parse_postal_code("postal_code", &input.postal_code));
        errs.check(required_text("city", &input.city, 200));
        errs.check(required_text("street", &input.street, 200));
        errs.into_result()?;
        let kind = kind.expect("checked");
        let parent_kind = match input.parent_id {
            None => None,
            Some(pid) => {
                // The parent must belong to the same tenant.
                let parent = self.org_unit(tenant, pid).await?.ok_or_else(|| {
                    ValidationErrors::from(FieldError::new("parent_id", "org_unit.parent_missing"))
                })?;
                Some(OrgUnitKind::parse(&parent.kind).map_err(ValidationErrors::from)?)
            }
        };
        check_org_unit_placement(kind, parent_kind).map_err(ValidationErrors::from)?;
        let model = org_unit::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            parent_id: Set(input.parent_id),
            kind: Set(kind.code().to_string()),
            name: Set(input.name.trim().to_string()),
            short_name: Set(input.short_name.trim().to_string()),
            street: Set(input.street.trim().to_string()),
            postal_code: Set(input.postal_code.trim().to_string()),
            city: Set(input.city.trim().to_string()),
            phone: Set(input.phone.trim().to_string()),
            email: Set(input.email.trim().to_lowercase()),
            opening_hours: Set(input.opening_hours.trim().to_string()),
            created_at: Set(Utc::now()),
        };
        model
            .insert(self.0)
            .await
            .map_err(StorageError::conflict_on("name"))
    }

    async fn org_units(&self, tenant: TenantId) -> Result<Vec<OrgUnit>> {
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::TenantId.eq(tenant.0))
            .order_by_asc(org_unit::Column::Name)
            .all(self.0)
            .await?)
    }

    async fn org_unit(&self, tenant: TenantId, id: Uuid) -> Result<Option<OrgUnit>> {
        Ok(org_unit::Entity::find_by_id(id)
            .filter(org_unit::Column::TenantId.eq(tenant.0))
            .one(self.0)
            .await?)
    }

    async fn org_unit_by_name(&self, tenant: TenantId, name: &str) -> Result<Option<OrgUnit>> {
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::TenantId.eq(tenant.0))
            .filter(org_unit::Column::Name.eq(name.trim()))
            .one(self.0)
            .await?)
    }
}

/// Org units ordered as a tree (parents before children) with their depth.
pub fn as_tree(units: &[OrgUnit]) -> Vec<(usize, &OrgUnit)> {
    fn walk<'a>(
        units: &'a [OrgUnit],
        parent: Option<Uuid>,
        depth: usize,
        out: &mut Vec<(usize, &'a OrgUnit)>,
    ) {
        for u in units.iter().filter(|u| u.parent_id == parent) {
            out.push((depth, u));
            walk(units, Some(u.id), depth + 1, out);
        }
    }
    let mut out = Vec::with_capacity(units.len());
    walk(units, None, 0, &mut out);
    out
}
