//! Submitting an application and the applicant's side of it, without HTTP.

mod common;

use bytes::Bytes;
use rathaus_app::{
    Actor, UseCaseError,
    applications::{Answer, MAX_ANSWER_CHARS, MAX_ANSWER_FILES, Submission, SubmitOutcome, Upload},
};
use rathaus_storage::prelude::*;
use serde_json::json;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n";

fn pdf(name: &str) -> Upload {
    Upload {
        name: name.into(),
        content: Bytes::from_static(PDF),
    }
}

fn is_validation(r: &Result<impl std::fmt::Debug, UseCaseError>, field: &str) -> bool {
    matches!(r, Err(UseCaseError::Validation(v)) if v.0.iter().any(|e| e.field == field))
}

#[tokio::test]
async fn a_submission_is_numbered_routed_and_found_again_by_its_key() {
    let w = common::world().await;
    let prefix = rathaus_domain::applications::Reference::prefix_for("Stadt Musterstadt");
    let year = chrono::Utc::now().format("%Y").to_string();
    let first = common::submit(&w, &w.anonymous(), "Muster").await;
    assert!(first.created);
    assert_eq!(
        first.application.reference,
        format!("{prefix}-{year}-000001")
    );
    assert_eq!(
        first.case.org_unit_id, w.intake,
        "routed to the central intake"
    );
    assert!(first.access_token.is_some());
    assert_eq!(
        common::submit(&w, &w.anonymous(), "Zweiter")
            .await
            .application
            .reference,
        format!("{prefix}-{year}-000002")
    );

    let keyed = || Submission::Data {
        form: "test-form".into(),
        data: json!({ "name": "Muster" }),
        idempotency_key: Some("key-0000001".into()),
    };
    let a = common::received(&w, keyed()).await;
    let b = common::received(&w, keyed()).await;
    assert!(a.created && !b.created);
    assert_eq!(a.application.id, b.application.id);
}

#[tokio::test]
async fn invalid_data_and_wrong_actors_are_refused() {
    let w = common::world().await;
    let outcome = w
        .app
        .submit_application(
            &w.anonymous(),
            Submission::Data {
                form: "test-form".into(),
                data: json!({}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, SubmitOutcome::Invalid { ref problems, .. } if problems[0].path == "name")
    );
    let not_object = w
        .app
        .submit_application(
            &w.anonymous(),
            Submission::Data {
                form: "test-form".into(),
                data: json!([1]),
                idempotency_key: None,
            },
        )
        .await;
    assert!(is_validation(&not_object, "data"));
    let unknown = w
        .app
        .submit_application(
            &w.anonymous(),
            Submission::Data {
                form: "no-such-form".into(),
                data: json!({"name": "x"}),
                idempotency_key: None,
            },
        )
        .await;
    assert!(matches!(unknown, Err(UseCaseError::NotFound)));

    let s = common::submit(&w, &w.anonymous(), "Muster").await;
    let applicant = Actor::Applicant {
        tenant: w.tenant,
        application: s.application.id,
    };
    let again = w
        .app
        .submit_application(
            &applicant,
            Submission::Draft {
                token: "x".into(),
                idempotency_key: None,
            },
        )
        .await;
    assert!(matches!(again, Err(UseCaseError::Forbidden)));
}

#[tokio::test]
async fn an_over_long_answer_or_too_many_files_is_refused_for_both_ways_of_access() {
    let w = common::world().await;
    let by_link = common::submit(&w, &w.anonymous(), "Muster").await;
    let link = w
        .app
        .applicant(w.tenant, by_link.access_token.as_deref().unwrap())
        .await
        .unwrap();
    let citizen = w.citizen("max@example.org").await;
    let by_account = common::submit(&w, &citizen, "Max").await;
    assert!(by_account.application.citizen_id.is_some());

    for (actor, reference) in [
        (&link, None),
        (&citizen, Some(by_account.application.reference.as_str())),
    ] {
        let long = Answer {
            body: "x".repeat(MAX_ANSWER_CHARS + 1),
            files: vec![],
        };
        let r = w.app.answer_application(actor, reference, long).await;
        assert!(is_validation(&r, "body"), "{r:?}");
        let many = Answer {
            body: "Anbei.".into(),
            files: (0..=MAX_ANSWER_FILES)
                .map(|i| pdf(&format!("{i}.pdf")))
                .collect(),
        };
        let r = w.app.answer_application(actor, reference, many).await;
        assert!(is_validation(&r, "files"), "{r:?}");
        let not_pdf = Answer {
            body: "Anbei.".into(),
            files: vec![Upload {
                name: "x.pdf".into(),
                content: Bytes::from_static(b"MZ not a pdf"),
            }],
        };
        let r = w.app.answer_application(actor, reference, not_pdf).await;
        assert!(is_validation(&r, "files[0].content"), "{r:?}");
        let empty = w
            .app
            .answer_application(actor, reference, Answer::default())
            .await;
        assert!(is_validation(&empty, "body"));

        let ok = Answer {
            body: "Anbei der Vertrag.".into(),
            files: vec![pdf("../Vertrag")],
        };
        w.app
            .answer_application(actor, reference, ok)
            .await
            .expect("answered");
        let read = w
            .app
            .read_application(actor, reference, true)
            .await
            .unwrap();
        assert_eq!(read.messages.len(), 1);
        let file = read.files.iter().find(|f| f.message_id.is_some()).unwrap();
        assert_eq!(file.name, "Vertrag.pdf");
        let (_, bytes) = w
            .app
            .applicant_file(actor, reference, file.id)
            .await
            .unwrap();
        assert_eq!(&bytes[..], PDF);
    }
}

#[tokio::test]
async fn another_applicants_token_cannot_read_or_answer() {
    let w = common::world().await;
    let mine = common::submit(&w, &w.anonymous(), "Muster").await;
    let theirs = common::submit(&w, &w.anonymous(), "Andere").await;
    let me = w
        .app
        .applicant(w.tenant, mine.access_token.as_deref().unwrap())
        .await
        .unwrap();
    let other_ref = Some(theirs.application.reference.as_str());
    assert!(matches!(
        w.app.read_application(&me, other_ref, false).await,
        Err(UseCaseError::NotFound)
    ));
    let answer = Answer {
        body: "Hallo".into(),
        files: vec![],
    };
    assert!(matches!(
        w.app.answer_application(&me, other_ref, answer).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.applicant(w.tenant, "not-a-token").await,
        Err(UseCaseError::NotFound)
    ));
    // Nobody, and a citizen who did not submit it, cannot either.
    assert!(matches!(
        w.app
            .read_application(&w.anonymous(), other_ref, false)
            .await,
        Err(UseCaseError::Unauthenticated)
    ));
    let citizen = w.citizen("max@example.org").await;
    assert!(matches!(
        w.app.read_application(&citizen, other_ref, false).await,
        Err(UseCaseError::NotFound)
    ));
    let own = w
        .app
        .read_application(&me, Some(&mine.application.reference), false)
        .await
        .unwrap();
    assert_eq!(own.application.id, mine.application.id);
    assert_eq!(own.org_unit.as_deref(), Some("Bürgerbüro"));
}

#[tokio::test]
async fn an_idempotency_key_is_bound_to_its_request() {
    let w = common::world().await;
    let with = |data: serde_json::Value| Submission::Data {
        form: "test-form".into(),
        data,
        idempotency_key: Some("key-bound-0001".into()),
    };
    let first = common::received(
        &w,
        with(json!({"name": "Muster", "email": "m@example.org"})),
    )
    .await;
    // The same body, its keys in another order, is a retry.
    let retry = common::received(
        &w,
        with(json!({"email": "m@example.org", "name": "Muster"})),
    )
    .await;
    assert!(!retry.created);
    assert_eq!(retry.application.id, first.application.id);
    // Another body with the same key is refused, not answered with the first.
    let other = w
        .app
        .submit_application(&w.anonymous(), with(json!({"name": "Jemand anderes"})))
        .await;
    assert!(
        matches!(other, Err(UseCaseError::IdempotencyMismatch)),
        "{other:?}"
    );
    let stored =
        w.db.store
            .repo()
            .application(w.tenant, first.application.id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.data()["name"], "Muster", "the first stays as it was");
    w.db.drop_db().await;
}

#[tokio::test]
async fn unknown_keys_are_refused_and_hidden_values_are_not_stored() {
    let w = common::world().await;
    let outcome = w
        .app
        .submit_application(
            &w.anonymous(),
            Submission::Data {
                form: "test-form".into(),
                data: json!({"name": "Muster", "erfunden": "x", "auch_erfunden": 1}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    match outcome {
        SubmitOutcome::Invalid { problems, .. } => {
            let mut unknown: Vec<_> = problems
                .iter()
                .filter(|p| p.code == "field.unknown")
                .map(|p| p.path.as_str())
                .collect();
            unknown.sort();
            assert_eq!(unknown, ["auch_erfunden", "erfunden"]);
        }
        other => panic!("an invented key was accepted: {other:?}"),
    }
    // `firmenname` shows only for a company: sent without one, it is dropped.
    let s = common::received(
        &w,
        Submission::Data {
            form: "test-form".into(),
            data: json!({"name": "Muster", "firma": false, "firmenname": "Geheim GmbH"}),
            idempotency_key: None,
        },
    )
    .await;
    let stored =
        w.db.store
            .repo()
            .application(w.tenant, s.application.id)
            .await
            .unwrap()
            .unwrap()
            .data();
    assert_eq!(stored, json!({"name": "Muster", "firma": false}));
    let shown = common::received(
        &w,
        Submission::Data {
            form: "test-form".into(),
            data: json!({"name": "Muster", "firma": true, "firmenname": "Muster GmbH"}),
            idempotency_key: None,
        },
    )
    .await;
    assert_eq!(shown.application.data()["firmenname"], "Muster GmbH");
    w.db.drop_db().await;
}

#[tokio::test]
async fn the_receipt_is_typeset_once_and_stored_with_its_hash() {
    use sha2::Digest;
    let w = common::world().await;
    let s = common::submit(&w, &w.anonymous(), "Muster").await;
    let repo = w.db.store.repo();
    assert!(
        repo.receipt_file(w.tenant, s.application.id)
            .await
            .unwrap()
            .is_none()
    );
    // What the job `application.receipt` does after the submission.
    let (file, bytes) = w
        .app
        .ensure_receipt(w.tenant, s.application.id)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(file.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(file.mime, "application/pdf");
    assert_eq!(
        repo.receipt_file(w.tenant, s.application.id)
            .await
            .unwrap()
            .map(|f| f.id),
        Some(file.id),
        "a document of the case"
    );
    // Later changes do not reach it: it is never typeset again.
    w.db.db_execute("UPDATE tenants SET name = 'Umbenannt'")
        .await;
    let applicant = w
        .app
        .applicant(w.tenant, s.access_token.as_deref().unwrap())
        .await
        .unwrap();
    let (_, downloaded) = w.app.receipt_pdf(&applicant, None).await.unwrap();
    assert_eq!(downloaded, bytes, "the stored bytes, not a new typesetting");
    let (again, _) = w
        .app
        .ensure_receipt(w.tenant, s.application.id)
        .await
        .unwrap();
    assert_eq!(again.id, file.id, "one receipt per application");
    // A download before the job ran typesets and stores it once as well.
    let later = common::submit(&w, &w.anonymous(), "Später").await;
    let applicant = w
        .app
        .applicant(w.tenant, later.access_token.as_deref().unwrap())
        .await
        .unwrap();
    let (_, first) = w.app.receipt_pdf(&applicant, None).await.unwrap();
    let stored = repo
        .receipt_file(w.tenant, later.application.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sha256, hex::encode(sha2::Sha256::digest(&first)));
    w.db.drop_db().await;
}

#[tokio::test]
async fn the_access_token_never_stands_in_plain_text_in_the_outbox() {
    let w = common::world().await;
    let s = common::received(
        &w,
        Submission::Data {
            form: "test-form".into(),
            data: json!({"name": "Muster", "email": "muster@example.org"}),
            idempotency_key: None,
        },
    )
    .await;
    let token = s.access_token.clone().unwrap();
    let payloads = w.db.query_strings("SELECT payload FROM outbox_jobs").await;
    assert!(!payloads.is_empty());
    let received: serde_json::Value = payloads
        .iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
        .find(|p| p.get("reference").is_some())
        .expect("the receipt email's job");
    for p in &payloads {
        assert!(!p.contains(&token), "token in plain text: {p}");
        assert!(
            !p.contains(&token["rh_".len()..]),
            "token's hex in plain text: {p}"
        );
    }
    // Sealed for this application with the instance key, it opens again.
    let sealed = received["sealed_access_token"].as_str().unwrap();
    assert_eq!(
        w.db.store
            .secrets()
            .open(sealed, &s.application.id.to_string())
            .as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        w.db.store.secrets().open(sealed, "another application"),
        None
    );
    w.db.drop_db().await;
}
