//! Submitting an application and the applicant's side of it, without HTTP.

mod common;

use bytes::Bytes;
use rathaus_app::{
    Actor, UseCaseError,
    applications::{Answer, MAX_ANSWER_CHARS, MAX_ANSWER_FILES, Submission, SubmitOutcome, Upload},
};
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
