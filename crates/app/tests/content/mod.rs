//! A tenant with an office, two editors and a clerk, for the content use
//! cases (catalog, forms, editorial workflow).

#![allow(dead_code)]

use rathaus_app::{Actor, App, Channel};
use rathaus_domain::{
    catalog::{Audience, I18nText, ServiceContent},
    identity::Role,
    tenancy::TenantId,
};
use rathaus_storage::{
    files::FileStore,
    identity::{NewUser, UserRepository},
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
    test_support::TestDb,
};

pub struct World {
    pub db: TestDb,
    pub app: App,
    pub tenant: TenantId,
    pub alice: Actor,
    pub bob: Actor,
    pub clerk: Actor,
    pub anonymous: Actor,
    /// An editor of another tenant.
    pub stranger: Actor,
}

async fn tenant(app: &App, slug: &str) -> (TenantId, uuid::Uuid) {
    let repo = app.store.repo();
    let t = repo
        .create_tenant(&NewTenant {
            slug: slug.into(),
            name: format!("Stadt {slug}"),
            ags: "09162000".into(),
            host: None,
            street: "Marktplatz 1".into(),
            postal_code: "12345".into(),
            city: "Musterstadt".into(),
            phone: "+49 123 4567".into(),
            email: "info@example.org".into(),
            website: "https://example.org".into(),
            representative: "Erika Mustermann".into(),
            supervisory_authority: "Landratsamt".into(),
            dpo_name: "Max Datenschutz".into(),
            dpo_email: "datenschutz@example.org".into(),
        })
        .await
        .expect("tenant")
        .tenant_id();
    let unit = repo
        .create_org_unit(
            t,
            &NewOrgUnit {
                parent_id: None,
                kind: "office".into(),
                name: "Steueramt".into(),
                short_name: String::new(),
                street: "Marktplatz 1".into(),
                postal_code: "12345".into(),
                city: "Musterstadt".into(),
                phone: String::new(),
                email: String::new(),
                opening_hours: "Mo–Fr 8–12 Uhr".into(),
            },
        )
        .await
        .expect("unit");
    (t, unit.id)
}

async fn user(app: &App, t: TenantId, unit: uuid::Uuid, email: &str, role: Role) -> Actor {
    let repo = app.store.repo();
    let u = repo
        .create_user(
            t,
            &NewUser {
                email: email.into(),
                display_name: email.into(),
                password_hash: "x".into(),
            },
        )
        .await
        .expect("user");
    repo.grant_role(t, u.id, unit, role).await.expect("grant");
    app.staff_actor(t, u.id, Channel::Session)
        .await
        .expect("actor")
        .expect("active user")
}

impl World {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        let app = App::new(db.store.clone(), FileStore::memory());
        let (t, unit) = tenant(&app, "stadt-a").await;
        let alice = user(&app, t, unit, "alice@example.org", Role::Editor).await;
        let bob = user(&app, t, unit, "bob@example.org", Role::Editor).await;
        let clerk = user(&app, t, unit, "clerk@example.org", Role::Clerk).await;
        let (t2, unit2) = tenant(&app, "stadt-b").await;
        let stranger = user(&app, t2, unit2, "eve@example.org", Role::Editor).await;
        World {
            db,
            app,
            tenant: t,
            alice,
            bob,
            clerk,
            anonymous: Actor::Anonymous { tenant: t },
            stranger,
        }
    }
}

pub fn content(slug: &str, title: &str) -> ServiceContent {
    ServiceContent {
        slug: slug.into(),
        leika_key: "99018001000000".into(),
        audience: vec![Audience::Citizen],
        org_unit: "Steueramt".into(),
        title: I18nText {
            de: title.into(),
            en: String::new(),
        },
        summary: I18nText {
            de: "Hunde anmelden.".into(),
            en: String::new(),
        },
        ..Default::default()
    }
}
