//! Who asks: the one permission model of rathaus.
//!
//! Every use case takes an [`Actor`]. Staff permissions come from role grants
//! per org unit (`rathaus_domain::permissions`); a use case asks
//! [`Actor::require`] for a permission, and for anything bound to a case
//! [`Actor::require_case`], which applies the one case-scope rule: a clerk
//! works the cases of the granted org units and of every unit below them; a
//! case outside that scope is reported as not found, so its existence is not
//! revealed.

use std::collections::HashSet;

use rathaus_domain::{
    permissions::{self, Grant, Permission},
    tenancy::TenantId,
};
use rathaus_storage::{
    Repo,
    identity::{User, UserRepository},
    tenancy::OrgUnitRepository,
};
use uuid::Uuid;

use crate::{App, UseCaseError, UseCaseResult};

/// How a staff member reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A browser session (HTML pages, CSRF-protected forms).
    Session,
    /// An API bearer token (its id).
    ApiToken(Uuid),
}

/// A logged-in staff member with the grants held at the time of the request.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub grants: Vec<Grant>,
    pub via: Channel,
    /// Every org unit of the tenant with its parent (for scopes).
    units: Vec<(Uuid, Option<Uuid>)>,
}

impl Staff {
    pub fn tenant(&self) -> TenantId {
        TenantId(self.user.tenant_id)
    }

    /// How the audit log names this staff member.
    pub fn audit_name(&self) -> String {
        format!("user:{}", self.user.id)
    }

    pub fn holds(&self, permission: Permission) -> bool {
        permissions::holds(&self.grants, permission)
    }

    /// The org units in which this staff member holds `permission`.
    pub fn scope(&self, permission: Permission) -> HashSet<Uuid> {
        permissions::scope(&self.grants, permission, &self.units)
    }
}

/// Whoever calls a use case.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Nobody logged in (a visitor of the portal, an API call without token).
    Anonymous { tenant: TenantId },
    /// The holder of an application's access link or token.
    Applicant { tenant: TenantId, application: Uuid },
    /// A citizen logged in to their account.
    Citizen { tenant: TenantId, account: Uuid },
    /// A staff member (browser session or API token).
    Staff(Staff),
}

impl Actor {
    pub fn tenant(&self) -> TenantId {
        match self {
            Actor::Anonymous { tenant }
            | Actor::Applicant { tenant, .. }
            | Actor::Citizen { tenant, .. } => *tenant,
            Actor::Staff(s) => s.tenant(),
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Actor::Staff(s) => Some(s),
            _ => None,
        }
    }

    /// The staff member, if they hold `permission` (in any org unit).
    pub fn require(&self, permission: Permission) -> UseCaseResult<&Staff> {
        match self {
            Actor::Staff(s) if s.holds(permission) => Ok(s),
            Actor::Staff(_) => Err(UseCaseError::Forbidden),
            Actor::Anonymous { .. } => Err(UseCaseError::Unauthenticated),
            Actor::Applicant { .. } | Actor::Citizen { .. } => Err(UseCaseError::Forbidden),
        }
    }

    /// The org units in which the actor works cases: `Forbidden` without a
    /// clerk grant.
    pub fn case_scope(&self) -> UseCaseResult<HashSet<Uuid>> {
        let staff = self.require(Permission::WorkCases)?;
        Ok(staff.scope(Permission::WorkCases))
    }

    /// The one case-scope rule: the actor works cases and `case_org_unit` is
    /// one of their units or below one; a case outside the scope is
    /// `NotFound`.
    pub fn require_case(&self, case_org_unit: Uuid) -> UseCaseResult<&Staff> {
        let scope = self.case_scope()?;
        if scope.contains(&case_org_unit) {
            self.require(Permission::WorkCases)
        } else {
            Err(UseCaseError::NotFound)
        }
    }

    /// Whether the actor is the applicant of `application` (access link).
    pub fn is_applicant_of(&self, application: Uuid) -> bool {
        matches!(self, Actor::Applicant { application: a, .. } if *a == application)
    }
}

impl App {
    /// The staff actor for an active user of `tenant`, with grants and the
    /// tenant's org units; `None` when the user does not exist or is inactive.
    pub async fn staff_actor(
        &self,
        tenant: TenantId,
        user_id: Uuid,
        via: Channel,
    ) -> UseCaseResult<Option<Actor>> {
        let repo = self.store.repo();
        let Some(user) = repo.user(tenant, user_id).await?.filter(|u| u.active) else {
            return Ok(None);
        };
        Ok(Some(Self::staff_of(&repo, user, via).await?))
    }

    /// The staff actor for a user already loaded (e.g. by token).
    pub async fn staff_actor_for(&self, user: User, via: Channel) -> UseCaseResult<Actor> {
        Self::staff_of(&self.store.repo(), user, via).await
    }

    async fn staff_of<C: rathaus_storage::ConnectionTrait>(
        repo: &Repo<'_, C>,
        user: User,
        via: Channel,
    ) -> UseCaseResult<Actor> {
        let tenant = TenantId(user.tenant_id);
        let grants = repo
            .grants(tenant, user.id)
            .await?
            .into_iter()
            .map(|g| Grant {
                role: g.role,
                org_unit: g.org_unit.id,
            })
            .collect();
        let units = repo
            .org_units(tenant)
            .await?
            .into_iter()
            .map(|u| (u.id, u.parent_id))
            .collect();
        Ok(Actor::Staff(Staff {
            user,
            grants,
            via,
            units,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rathaus_domain::identity::Role;

    fn staff(grants: Vec<Grant>, units: Vec<(Uuid, Option<Uuid>)>) -> Actor {
        let tenant = Uuid::from_u128(99);
        Actor::Staff(Staff {
            user: User {
                id: Uuid::from_u128(7),
                tenant_id: tenant,
                email: "a@b.example".into(),
                display_name: "A".into(),
                password_hash: String::new(),
                active: true,
                created_at: chrono::Utc::now(),
                last_login_at: None,
            },
            grants,
            via: Channel::Session,
            units,
        })
    }

    #[test]
    fn require_maps_actor_kinds_to_errors() {
        let t = TenantId(Uuid::from_u128(99));
        let anon = Actor::Anonymous { tenant: t };
        assert!(matches!(
            anon.require(Permission::EditContent),
            Err(UseCaseError::Unauthenticated)
        ));
        let citizen = Actor::Citizen {
            tenant: t,
            account: Uuid::nil(),
        };
        assert!(matches!(
            citizen.require(Permission::WorkCases),
            Err(UseCaseError::Forbidden)
        ));
        let editor = staff(
            vec![Grant {
                role: Role::Editor,
                org_unit: Uuid::from_u128(1),
            }],
            vec![],
        );
        assert!(editor.require(Permission::EditContent).is_ok());
        assert!(matches!(
            editor.require(Permission::AdministerTenant),
            Err(UseCaseError::Forbidden)
        ));
    }

    #[test]
    fn case_scope_hides_other_units_and_refuses_non_clerks() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let units = vec![(a, None), (b, Some(a)), (c, None)];
        let clerk = staff(
            vec![Grant {
                role: Role::Clerk,
                org_unit: a,
            }],
            units.clone(),
        );
        assert!(
            clerk.require_case(b).is_ok(),
            "a unit below the grant is in scope"
        );
        assert!(matches!(clerk.require_case(c), Err(UseCaseError::NotFound)));
        let editor = staff(
            vec![Grant {
                role: Role::Editor,
                org_unit: a,
            }],
            units,
        );
        assert!(matches!(
            editor.require_case(a),
            Err(UseCaseError::Forbidden)
        ));
    }
}
