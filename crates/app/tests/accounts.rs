//! Citizen accounts without HTTP: registration, confirmation, login check,
//! profile and "Meine Anträge".

mod common;

use std::collections::HashMap;

use rathaus_app::{
    Actor, UseCaseError,
    accounts::{Login, Registration},
};
use rathaus_storage::{accounts::TokenPurpose, prelude::*};

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

/// The secrets of the account emails of `kind` queued so far, as the job
/// that sends them makes them (only their hashes are stored).
async fn mailed_tokens(w: &common::World, kind: &str) -> Vec<String> {
    let repo = w.db.store.repo();
    let mut out = Vec::new();
    for id in 1..=50 {
        if let Some(job) = repo.job(id).await.unwrap()
            && job.kind == kind
        {
            assert!(
                !job.payload.contains("rh_"),
                "no secret in the job: {}",
                job.payload
            );
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
            let token = uuid::Uuid::parse_str(payload["account_token"].as_str().unwrap()).unwrap();
            if let Some((_, secret)) = repo.issue_account_token(w.tenant, token).await.unwrap() {
                out.push(secret);
            }
        }
    }
    out
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
    // The same address again gets the same answer, no second account, and
    // a second confirmation email.
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
    let tokens = mailed_tokens(&w, "account.confirm").await;
    assert_eq!(tokens.len(), 2, "each registration mails the address");
    let token = tokens[1].clone();
    w.app.confirm_account(w.tenant, &token).await.unwrap();
    assert!(
        matches!(
            w.app.confirm_account(w.tenant, &tokens[0]).await,
            Err(UseCaseError::NotFound)
        ),
        "confirming uses up every confirmation link of the account"
    );
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

#[tokio::test]
async fn a_registration_for_a_confirmed_address_mails_its_owner_a_reset_link() {
    let w = common::world().await;
    let anonymous = w.anonymous();
    w.citizen("owner@example.org").await;
    // A squatter's registration: the same answer as for a new address …
    w.app
        .register(
            &anonymous,
            Registration {
                email: "owner@example.org".into(),
                password: "des Squatters Passwort".into(),
                password_repeat: "des Squatters Passwort".into(),
            },
        )
        .await
        .unwrap();
    // … and the owner is told, with a reset link; the password is unchanged.
    assert!(mailed_tokens(&w, "account.confirm").await.is_empty());
    let reset = mailed_tokens(&w, "account.exists").await;
    assert_eq!(reset.len(), 1);
    assert!(matches!(
        w.app
            .citizen_login(
                w.tenant,
                login("owner@example.org", "des Squatters Passwort")
            )
            .await,
        Err(UseCaseError::Unauthenticated)
    ));
    w.app
        .citizen_login(w.tenant, login("owner@example.org", PASSWORD))
        .await
        .unwrap();
    // The reset link sets a new password, once.
    let new = rathaus_app::accounts::NewPassword {
        password: "ganz neues Passwort 1".into(),
        password_repeat: "ganz neues Passwort 1".into(),
    };
    let c = w
        .app
        .reset_password(w.tenant, &reset[0], new.clone())
        .await
        .unwrap();
    assert!(c.password_changed_at.is_some());
    assert!(matches!(
        w.app.reset_password(w.tenant, &reset[0], new).await,
        Err(UseCaseError::NotFound)
    ));
    w.app
        .citizen_login(
            w.tenant,
            login("owner@example.org", "ganz neues Passwort 1"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_password_reset_is_mailed_only_to_accounts_and_checks_the_new_password() {
    let w = common::world().await;
    let anonymous = w.anonymous();
    w.citizen("max@example.org").await;
    w.app
        .request_password_reset(&anonymous, "niemand@example.org")
        .await
        .unwrap();
    assert!(mailed_tokens(&w, "account.reset").await.is_empty());
    w.app
        .request_password_reset(&anonymous, "MAX@example.org")
        .await
        .unwrap();
    let reset = mailed_tokens(&w, "account.reset").await;
    assert_eq!(reset.len(), 1);
    match w
        .app
        .reset_password(
            w.tenant,
            &reset[0],
            rathaus_app::accounts::NewPassword {
                password: "kurz".into(),
                password_repeat: "anders".into(),
            },
        )
        .await
    {
        Err(UseCaseError::Validation(v)) => {
            assert!(v.0.iter().any(|e| e.field == "password"));
            assert!(v.0.iter().any(|e| e.field == "password_repeat"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.app.request_password_reset(&anonymous, "kein-at").await,
        Err(UseCaseError::Validation(_))
    ));
    assert!(
        w.app
            .check_account_token(w.tenant, &reset[0], TokenPurpose::Reset)
            .await
            .is_ok(),
        "a refused new password leaves the link usable"
    );
    assert!(matches!(
        w.app
            .check_account_token(w.tenant, &reset[0], TokenPurpose::Confirm)
            .await,
        Err(UseCaseError::NotFound)
    ));
}
