//! Citizen accounts without HTTP: registration, confirmation, login check,
//! profile and "Meine Anträge".

mod common;

use std::collections::HashMap;

use rathaus_app::{
    Actor, UseCaseError,
    accounts::{Login, Registration},
};
use rathaus_storage::prelude::*;

const PASSWORD: &str = "ein langes Passwort 123";

fn registration(email: &str) -> Registration {
    Registration {
        email: email.into(),
        password: PASSWORD.into(),
        password_repeat: PASSWORD.into(),
    }
}

fn login(email: &str, password: &str) -> Login {
    Login {
        email: email.into(),
        password: password.into(),
    }
}

/// The token of the confirmation email queued for the newest registration.
async fn confirm_token(w: &common::World) -> String {
    let repo = w.db.store.repo();
    let mut token = None;
    for id in 1..=20 {
        if let Some(job) = repo.job(id).await.unwrap()
            && job.kind == "account.confirm"
        {
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
            token = payload["token"].as_str().map(String::from);
        }
    }
    token.expect("a confirmation job")
}

#[tokio::test]
async fn registration_is_confirmed_by_the_emailed_token_only() {
    let w = common::world().await;
    let anonymous = w.anonymous();
    let bad = Registration {
        password_repeat: "anders".into(),
        ..registration("kein-at")
    };
    match w.app.register(&anonymous, bad).await {
        Err(UseCaseError::Validation(v)) => {
            assert!(v.0.iter().any(|e| e.field == "email"));
            assert!(v.0.iter().any(|e| e.field == "password_repeat"));
        }
        other => panic!("{other:?}"),
    }
    w.app
        .register(&anonymous, registration("erika@example.org"))
        .await
        .unwrap();
    // The same address again gets the same answer and no second account.
    w.app
        .register(&anonymous, registration("erika@example.org"))
        .await
        .unwrap();
    assert!(matches!(
        w.app
            .citizen_login(w.tenant, login("erika@example.org", PASSWORD))
            .await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.confirm_account(w.tenant, "wrong-token").await,
        Err(UseCaseError::NotFound)
    ));
    let token = confirm_token(&w).await;
    w.app.confirm_account(w.tenant, &token).await.unwrap();
    assert!(matches!(
        w.app.confirm_account(w.tenant, &token).await,
        Err(UseCaseError::NotFound)
    ));
    let c = w
        .app
        .citizen_login(w.tenant, login("erika@example.org", PASSWORD))
        .await
        .unwrap();
    assert_eq!(c.email, "erika@example.org");
    assert!(matches!(
        w.app
            .citizen_login(w.tenant, login("erika@example.org", "falsch falsch falsch"))
            .await,
        Err(UseCaseError::Unauthenticated)
    ));
    assert!(matches!(
        w.app
            .citizen_login(w.tenant, login("erika@example.org", ""))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    // A logged-in citizen does not register again.
    let citizen = Actor::Citizen {
        tenant: w.tenant,
        account: c.id,
    };
    assert!(matches!(
        w.app
            .register(&citizen, registration("x@example.org"))
            .await,
        Err(UseCaseError::Forbidden)
    ));
}

#[tokio::test]
async fn a_citizen_sees_only_their_own_applications() {
    let w = common::world().await;
    let max = w.citizen("max@example.org").await;
    let eva = w.citizen("eva@example.org").await;
    for (actor, name) in [(&max, "Max"), (&eva, "Eva"), (&w.anonymous(), "Anon")] {
        common::submit(&w, actor, name).await;
    }
    let rows = w.app.my_applications(&max).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].application.data()["name"], "Max");
    assert_eq!(
        rows[0].title.as_ref().map(|t| t.de.as_str()),
        Some("Testantrag")
    );
    assert!(matches!(
        w.app.my_applications(&w.anonymous()).await,
        Err(UseCaseError::Unauthenticated)
    ));
    // Eva cannot open Max's application by its reference.
    assert!(matches!(
        w.app
            .read_application(&eva, Some(&rows[0].application.reference), false)
            .await,
        Err(UseCaseError::NotFound)
    ));
}

#[tokio::test]
async fn the_profile_is_checked_before_it_is_saved() {
    let w = common::world().await;
    let max = w.citizen("max@example.org").await;
    let mut profile = HashMap::from([("given-name".to_string(), "x".repeat(201))]);
    assert!(matches!(
        w.app.save_profile(&max, profile.clone()).await,
        Err(UseCaseError::Validation(_))
    ));
    profile.insert("given-name".into(), "Max".into());
    profile.insert("bday".into(), "1990-02-30".into());
    assert!(matches!(
        w.app.save_profile(&max, profile.clone()).await,
        Err(UseCaseError::Validation(_))
    ));
    profile.insert("bday".into(), "1990-02-28".into());
    w.app.save_profile(&max, profile).await.unwrap();
    let account = w.app.citizen_account(&max).await.unwrap();
    assert_eq!(account.profile_map()["given-name"], "Max");
    assert!(matches!(
        w.app.save_profile(&w.anonymous(), HashMap::new()).await,
        Err(UseCaseError::Unauthenticated)
    ));
}
