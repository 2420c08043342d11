//! Case work use cases without HTTP: scope, permissions, steps, messages.

mod support;

use rathaus_app::{
    Actor, UseCaseError,
    cases::{CaseStep, InboxFilter, OfficeMessageInput},
};
use rathaus_domain::{
    cases::{CaseAction, CaseStatus},
    tenancy::TenantId,
};
use support::world;

#[tokio::test]
async fn scope_hides_other_units_and_tenants_and_refuses_non_clerks() {
    let w = world().await;
    assert!(
        w.app.case(&w.clerk, w.case).await.is_ok(),
        "a unit below the grant"
    );
    assert!(matches!(
        w.app.case(&w.other_clerk, w.case).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.case(&w.foreign_clerk, w.case).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.change_case(&w.editor, w.case, CaseStep::Claim).await,
        Err(UseCaseError::Forbidden)
    ));
    let anonymous = Actor::Anonymous {
        tenant: TenantId(w.tenant.0),
    };
    assert!(matches!(
        w.app.inbox(&anonymous, InboxFilter::default()).await,
        Err(UseCaseError::Unauthenticated)
    ));
    assert!(matches!(
        w.app
            .change_case(&w.other_clerk, w.case, CaseStep::Claim)
            .await,
        Err(UseCaseError::NotFound)
    ));
    let other_inbox = w
        .app
        .inbox(&w.other_clerk, InboxFilter::default())
        .await
        .expect("inbox");
    assert!(other_inbox.is_empty());
    w.db.drop_db().await;
}

#[tokio::test]
async fn a_clerk_of_the_unit_claims_notes_and_forwards() {
    let w = world().await;
    let inbox = w
        .app
        .inbox(&w.clerk, InboxFilter::default())
        .await
        .expect("inbox");
    assert_eq!(inbox.len(), 1);
    let c = w
        .app
        .change_case(&w.clerk, w.case, CaseStep::Claim)
        .await
        .expect("claim");
    assert_eq!(c.status(), CaseStatus::InProgress);
    assert_eq!(c.assignee_id, Some(w.clerk.staff().expect("staff").user.id));
    assert!(matches!(
        w.app
            .change_case(&w.clerk, w.case, CaseStep::Note(" ".into()))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    assert!(matches!(
        w.app
            .change_case(&w.clerk, w.case, CaseStep::Note("x".repeat(4001)))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    w.app
        .change_case(&w.clerk, w.case, CaseStep::Note("Rückruf".into()))
        .await
        .expect("note");
    let c = w
        .app
        .change_case(&w.clerk, w.case, CaseStep::Forward(w.other_office))
        .await
        .expect("forward");
    assert_eq!(c.org_unit_id, w.other_office);
    // Gone from the clerk's scope, in the other clerk's now.
    assert!(matches!(
        w.app.case(&w.clerk, w.case).await,
        Err(UseCaseError::NotFound)
    ));
    let (_, audit) = w
        .app
        .case_audit(&w.other_clerk, w.case)
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["received", "claimed", "note", "forwarded"]);
    w.db.drop_db().await;
}

#[tokio::test]
async fn refused_steps_are_transitions_and_deciding_needs_a_bescheid() {
    let w = world().await;
    w.app
        .change_case(&w.clerk, w.case, CaseStep::Status(CaseAction::Cancel))
        .await
        .expect("cancel");
    assert!(matches!(
        w.app
            .change_case(&w.clerk, w.case, CaseStep::Status(CaseAction::Close))
            .await,
        Err(UseCaseError::Transition(_))
    ));
    assert!(matches!(
        w.app
            .change_case(&w.clerk, w.case, CaseStep::Status(CaseAction::Decide))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    w.db.drop_db().await;
}

#[tokio::test]
async fn office_messages_check_their_limits_and_request_documents() {
    let w = world().await;
    let message = |body: &str, docs: &[&str], due| OfficeMessageInput {
        body: body.into(),
        requested_documents: docs.iter().map(|d| d.to_string()).collect(),
        due_date: due,
    };
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    for bad in [
        message("", &[], None),
        message(&"x".repeat(8001), &[], None),
        message("Bitte", &["Mietvertrag"], Some(yesterday)),
        message("Bitte", &[&"y".repeat(201)], None),
    ] {
        assert!(matches!(
            w.app.office_message(&w.clerk, w.case, bad).await,
            Err(UseCaseError::Validation(_))
        ));
    }
    assert!(matches!(
        w.app
            .office_message(&w.other_clerk, w.case, message("Hallo", &[], None))
            .await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app
            .office_message(&w.editor, w.case, message("Hallo", &[], None))
            .await,
        Err(UseCaseError::Forbidden)
    ));
    w.app
        .change_case(&w.clerk, w.case, CaseStep::Claim)
        .await
        .expect("claim");
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    w.app
        .office_message(
            &w.clerk,
            w.case,
            message(
                "Bitte nachreichen.",
                &["Mietvertrag", " ", "Ausweis"],
                Some(tomorrow),
            ),
        )
        .await
        .expect("document request");
    let c = w.app.case(&w.clerk, w.case).await.expect("case");
    assert_eq!(c.status(), CaseStatus::AwaitingDocuments);
    w.db.drop_db().await;
}

#[tokio::test]
async fn the_case_page_reads_through_the_scope() {
    let w = world().await;
    let view = w.app.case_view(&w.clerk, w.case).await.expect("view");
    assert_eq!(view.files.len(), 1);
    assert_eq!(view.names.unit(view.case.org_unit_id), "Gewerbe");
    assert!(matches!(
        w.app.case_view(&w.other_clerk, w.case).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.case_names(&w.editor, &[]).await,
        Err(UseCaseError::Forbidden)
    ));
    let file = view.files[0].id;
    assert!(matches!(
        w.app.case_file(&w.foreign_clerk, w.case, file).await,
        Err(UseCaseError::NotFound)
    ));
    // The upload itself was never stored in this test's file store.
    assert!(matches!(
        w.app.case_file(&w.clerk, w.case, file).await,
        Err(UseCaseError::NotFound)
    ));
    w.db.drop_db().await;
}
