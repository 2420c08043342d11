//! The one permission model: which role may do what, and which org units a
//! grant reaches.
//!
//! A staff member holds roles per org unit ([`Grant`]). A [`Permission`] is
//! held when some grant's role carries it; permissions that concern the work of
//! an org unit (cases) reach the granted unit and every unit below it
//! ([`scope_below`]). Citizens, applicants (holders of an access link) and
//! anonymous visitors hold no staff permission; what they may do is decided by
//! the use case from what they own (their account, their application).

use std::collections::HashSet;

use uuid::Uuid;

use crate::identity::Role;

/// What a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Write and review service descriptions, synonyms and forms (Redaktion).
    EditContent,
    /// Work the cases of an org unit and the units below it (Sachbearbeitung).
    WorkCases,
    /// Keep Bescheid templates, routing rules and other tenant settings (Fachadministration).
    AdministerTenant,
    /// Read dashboards and monitoring (Steuerung).
    ViewSteering,
    /// Run the platform (Plattformbetrieb).
    OperatePlatform,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Self::EditContent,
        Self::WorkCases,
        Self::AdministerTenant,
        Self::ViewSteering,
        Self::OperatePlatform,
    ];

    /// The role that carries this permission.
    pub fn role(self) -> Role {
        match self {
            Self::EditContent => Role::Editor,
            Self::WorkCases => Role::Clerk,
            Self::AdministerTenant => Role::TenantAdmin,
            Self::ViewSteering => Role::Management,
            Self::OperatePlatform => Role::Operator,
        }
    }

    /// Whether the permission is bound to the org units of its grants.
    pub fn scoped_to_org_units(self) -> bool {
        matches!(self, Self::WorkCases)
    }
}

/// One role held in one org unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grant {
    pub role: Role,
    pub org_unit: Uuid,
}

/// Whether any of `grants` carries `permission` (in any org unit).
pub fn holds(grants: &[Grant], permission: Permission) -> bool {
    grants.iter().any(|g| g.role == permission.role())
}

/// The org units in which `grants` carry `permission`: the granted units and
/// every unit below them. `units` lists each org unit with its parent.
pub fn scope(
    grants: &[Grant],
    permission: Permission,
    units: &[(Uuid, Option<Uuid>)],
) -> HashSet<Uuid> {
    let granted: Vec<Uuid> = grants
        .iter()
        .filter(|g| g.role == permission.role())
        .map(|g| g.org_unit)
        .collect();
    scope_below(&granted, units)
}

/// `granted` and every unit below one of them. Terminates on any input, also on
/// a (corrupt) parent cycle.
pub fn scope_below(granted: &[Uuid], units: &[(Uuid, Option<Uuid>)]) -> HashSet<Uuid> {
    let mut out: HashSet<Uuid> = granted.iter().copied().collect();
    loop {
        let before = out.len();
        for (id, parent) in units {
            if parent.is_some_and(|p| out.contains(&p)) {
                out.insert(*id);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn each_permission_belongs_to_its_role() {
        let g = [Grant {
            role: Role::Clerk,
            org_unit: id(1),
        }];
        assert!(holds(&g, Permission::WorkCases));
        for p in Permission::ALL
            .into_iter()
            .filter(|p| *p != Permission::WorkCases)
        {
            assert!(!holds(&g, p), "{p:?} must not come with a clerk grant");
        }
        assert!(!holds(&[], Permission::EditContent));
    }

    #[test]
    fn scope_reaches_units_below_but_not_beside_or_above() {
        // 1 Hauptamt; 2 Bürgerbüro below 1; 3 Gewerbe below 2; 4 Bauamt beside.
        let units = [
            (id(1), None),
            (id(2), Some(id(1))),
            (id(3), Some(id(2))),
            (id(4), None),
        ];
        let g = [Grant {
            role: Role::Clerk,
            org_unit: id(2),
        }];
        let s = scope(&g, Permission::WorkCases, &units);
        assert_eq!(s, [id(2), id(3)].into_iter().collect());
        // An editor grant in Hauptamt gives no case scope.
        let e = [Grant {
            role: Role::Editor,
            org_unit: id(1),
        }];
        assert!(scope(&e, Permission::WorkCases, &units).is_empty());
    }

    proptest! {
        /// The scope always contains the granted units, only known units
        /// besides them, and every unit whose parent is in it.
        #[test]
        fn scope_is_closed_downwards(parents in proptest::collection::vec(proptest::option::of(0u128..20), 0..20), granted in proptest::collection::vec(0u128..20, 0..4)) {
            let units: Vec<(Uuid, Option<Uuid>)> = parents.iter().enumerate().map(|(i, p)| (id(i as u128), p.map(id))).collect();
            let granted: Vec<Uuid> = granted.into_iter().map(id).collect();
            let s = scope_below(&granted, &units);
            for g in &granted { prop_assert!(s.contains(g)); }
            for (u, p) in &units {
                if p.is_some_and(|p| s.contains(&p)) { prop_assert!(s.contains(u)); }
            }
            for x in &s { prop_assert!(granted.contains(x) || units.iter().any(|(u, _)| u == x)); }
        }
    }
}
