//! A tenant with a published form, for the use-case tests.

#![allow(dead_code)]

use rathaus_app::{
    Actor, App,
    applications::{Submission, SubmitOutcome},
};
use rathaus_domain::{
    catalog::I18nText,
    forms::{FormDefinition, Item, Step},
    identity::Email,
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::Submitted,
    identity::NewUser,
    prelude::*,
    tenancy::NewOrgUnit,
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
    /// The tenant's central intake (its top-level org unit).
    pub intake: Uuid,
}

fn definition() -> FormDefinition {
    FormDefinition {
        key: "test-form".into(),
        title: I18nText {
            de: "Testantrag".into(),
            en: "Test application".into(),
        },
        steps: vec![Step {
            key: "s".into(),
            title: I18nText::default(),
            items: [
                serde_json::json!({
                    "key": "name", "label": {"de": "Name", "en": "Name"},
                    "kind": "text", "required": true
                }),
                serde_json::json!({
                    "key": "email", "label": {"de": "E-Mail", "en": "Email"},
                    "kind": "email"
                }),
                serde_json::json!({
                    "key": "firma", "label": {"de": "Als Firma", "en": "As a company"},
                    "kind": "yes_no"
                }),
                serde_json::json!({
                    "key": "firmenname", "label": {"de": "Firmenname", "en": "Company name"},
                    "kind": "text", "visible_if": "firma == true"
                }),
            ]
            .into_iter()
            .map(|f| Item::Field(serde_json::from_value(f).expect("field")))
            .collect(),
        }],
    }
}

/// A fresh database with one tenant, its central intake and the published
/// form `test-form` (a required field `name`, an optional `email`, and
/// `firmenname`, shown only when `firma` is true; no service).
pub async fn world() -> World {
    let db = TestDb::new().await;
    let repo = db.store.repo();
    let tenant = repo
        .create_tenant(&tenant_input("musterstadt"))
        .await
        .expect("tenant")
        .tenant_id();
    let intake = repo
        .create_org_unit(
            tenant,
            &NewOrgUnit {
                parent_id: None,
                kind: "office".into(),
                name: "Bürgerbüro".into(),
                short_name: String::new(),
                street: "Marktplatz 1".into(),
                postal_code: "12345".into(),
                city: "Musterstadt".into(),
                phone: String::new(),
                email: String::new(),
                opening_hours: String::new(),
            },
        )
        .await
        .expect("org unit")
        .id;
    let mut authors = Vec::new();
    for email in ["alice@example.org", "bob@example.org"] {
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
        authors.push(user.id);
    }
    let (form, _) = db
        .store
        .create_form(tenant, authors[0], "test-form", None, &definition(), None)
        .await
        .expect("form");
    repo.submit_form(tenant, form.id, authors[0])
        .await
        .expect("submit form");
    db.store
        .approve_form(tenant, form.id, authors[1])
        .await
        .expect("approve form");
    let (app, files) = {
        let files = TestFiles::new();
        (App::new(db.store.clone(), files.store.clone()), files)
    };
    World {
        db,
        files,
        app,
        tenant,
        intake,
    }
}

impl World {
    pub fn anonymous(&self) -> Actor {
        Actor::Anonymous {
            tenant: self.tenant,
        }
    }

    /// A confirmed citizen account.
    pub async fn citizen(&self, email: &str) -> Actor {
        let repo = self.db.store.repo();
        let email = Email::parse(email).expect("email");
        let hash = rathaus_storage::identity::hash_password("ein langes Passwort 123");
        let c = repo
            .create_citizen(self.tenant, &email, &hash)
            .await
            .expect("citizen");
        repo.confirm_citizen(self.tenant, c.id, None)
            .await
            .expect("confirm");
        Actor::Citizen {
            tenant: self.tenant,
            account: c.id,
        }
    }
}

/// Submits `{"name": name}` for `test-form`.
pub async fn submit(w: &World, actor: &Actor, name: &str) -> Submitted {
    let submission = Submission::Data {
        form: "test-form".into(),
        data: serde_json::json!({ "name": name }),
        idempotency_key: None,
    };
    received_as(w, actor, submission).await
}

/// Submits anonymously what must be received.
pub async fn received(w: &World, submission: Submission) -> Submitted {
    received_as(w, &w.anonymous(), submission).await
}

async fn received_as(w: &World, actor: &Actor, submission: Submission) -> Submitted {
    match w.app.submit_application(actor, submission).await {
        Ok(SubmitOutcome::Received(s)) => *s,
        other => panic!("not received: {other:?}"),
    }
}
