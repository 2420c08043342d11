//! A tenant with org units, staff of each role and one submitted case, for
//! the use-case suites (SQLite, or PostgreSQL with `RATHAUS_TEST_POSTGRES_URL`).

#![allow(dead_code)]

use rathaus_app::{Actor, App, Channel};
use rathaus_domain::{
    catalog::I18nText,
    forms::{FormDefinition, Item, Step},
    identity::Role,
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::{NewApplication, NewFile},
    identity::{NewUser, UserRepository},
    tenancy::{NewOrgUnit, OrgUnitRepository, TenantRepository},
    test_support::{TestDb, TestFiles, tenant_input},
};
use uuid::Uuid;

pub struct World {
    pub db: TestDb,
    /// The file storage of `app`: a fresh folder, or a fresh prefix on the
    /// test S3 server (`RATHAUS_TEST_S3_ENDPOINT`).
    pub files: TestFiles,
    pub app: App,
    pub tenant: TenantId,
    /// Ordnungsamt with the section Gewerbe below it, and the Bürgerbüro.
    pub office: Uuid,
    pub section: Uuid,
    pub other_office: Uuid,
    /// A case in the section (below the clerk's office).
    pub case: Uuid,
    pub clerk: Actor,
    pub other_clerk: Actor,
    pub editor: Actor,
    pub admin: Actor,
    /// A second Fachadministration (four eyes).
    pub admin2: Actor,
    /// A clerk of another tenant.
    pub foreign_clerk: Actor,
}

fn unit(kind: &str, name: &str, parent: Option<Uuid>) -> NewOrgUnit {
    NewOrgUnit {
        parent_id: parent,
        kind: kind.into(),
        name: name.into(),
        short_name: String::new(),
        street: "Marktplatz 1".into(),
        postal_code: "12345".into(),
        city: "Musterstadt".into(),
        phone: String::new(),
        email: String::new(),
        opening_hours: "Mo–Fr 8–12 Uhr".into(),
    }
}

async fn staff(app: &App, tenant: TenantId, email: &str, grant: Option<(Uuid, Role)>) -> Actor {
    let repo = app.store.repo();
    let user = repo
        .create_user(
            tenant,
            &NewUser {
                email: email.into(),
                display_name: email.into(),
                password_hash: "x".into(),
            },
        )
        .await
        .expect("user");
    if let Some((unit, role)) = grant {
        repo.grant_role(tenant, user.id, unit, role)
            .await
            .expect("grant");
    }
    app.staff_actor(tenant, user.id, Channel::Session)
        .await
        .expect("actor")
        .expect("active user")
}

async fn tenant(app: &App, slug: &str) -> TenantId {
    app.store
        .repo()
        .create_tenant(&tenant_input(slug))
        .await
        .expect("tenant")
        .tenant_id()
}

pub async fn world() -> World {
    let db = TestDb::new().await;
    let (app, files) = {
        let files = TestFiles::new();
        (App::new(db.store.clone(), files.store.clone()), files)
    };
    let t = tenant(&app, "stadt-a").await;
    let repo = app.store.repo();
    let office = repo
        .create_org_unit(t, &unit("office", "Ordnungsamt", None))
        .await
        .expect("unit")
        .id;
    let section = repo
        .create_org_unit(t, &unit("department", "Gewerbe", Some(office)))
        .await
        .expect("unit")
        .id;
    let other_office = repo
        .create_org_unit(t, &unit("office", "Bürgerbüro", None))
        .await
        .expect("unit")
        .id;
    let clerk = staff(&app, t, "clerk@example.org", Some((office, Role::Clerk))).await;
    let other_clerk = staff(
        &app,
        t,
        "other@example.org",
        Some((other_office, Role::Clerk)),
    )
    .await;
    let editor = staff(&app, t, "editor@example.org", Some((office, Role::Editor))).await;
    let admin = staff(
        &app,
        t,
        "admin@example.org",
        Some((office, Role::TenantAdmin)),
    )
    .await;
    let admin2 = staff(
        &app,
        t,
        "admin2@example.org",
        Some((office, Role::TenantAdmin)),
    )
    .await;
    let b = tenant(&app, "stadt-b").await;
    let b_unit = repo
        .create_org_unit(b, &unit("office", "Ordnungsamt", None))
        .await
        .expect("unit")
        .id;
    let foreign_clerk = staff(&app, b, "clerk@example.org", Some((b_unit, Role::Clerk))).await;
    let def = FormDefinition {
        key: "f".into(),
        title: I18nText::default(),
        steps: vec![Step {
            key: "s".into(),
            title: I18nText::default(),
            items: vec![Item::Field(
                serde_json::from_value(
                    serde_json::json!({"key": "name", "label": {"de": "Name"}, "kind": "text"}),
                )
                .expect("field"),
            )],
        }],
    };
    let author = editor.staff().expect("staff").user.id;
    let (_, version) = app
        .store
        .create_form(t, author, "test", None, &def, None)
        .await
        .expect("form");
    let submitted = app
        .store
        .submit_application(NewApplication {
            tenant: t,
            prefix: "MS".into(),
            service_id: None,
            form_version_id: version.id,
            data: serde_json::json!({"name": "Max Muster"}),
            idempotency_key: None,
            request_hash: None,
            files: vec![NewFile {
                field_path: "nachweis".into(),
                file_key: "uploads/x".into(),
                name: "nachweis.pdf".into(),
                mime: "application/pdf".into(),
                size: 10,
                sha256: "0".repeat(64),
            }],
            org_unit_id: section,
            draft_id: None,
            actor: "applicant".into(),
            due_days: Some(14),
            citizen_id: None,
            notify_email: Some("max@example.org".into()),
            awaiting_payment: false,
            defect: None,
        })
        .await
        .expect("submission");
    World {
        db,
        files,
        app,
        tenant: t,
        office,
        section,
        other_office,
        case: submitted.case.id,
        clerk,
        other_clerk,
        editor,
        admin,
        admin2,
        foreign_clerk,
    }
}
