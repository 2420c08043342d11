//! Catalog and editorial use cases without HTTP: four eyes, permissions,
//! tenants, and the search index following publication.

mod content;

use content::{World, content};
use rathaus_app::UseCaseError;
use rathaus_domain::catalog::VersionStatus;
use rathaus_search::SearchQuery;
use rathaus_storage::catalog::Services;
use uuid::Uuid;

async fn draft(w: &World, slug: &str, title: &str) -> Uuid {
    let author = w.alice.staff().expect("staff").user.id;
    let (s, _) =
        w.db.store
            .create_service(w.tenant, author, content(slug, title))
            .await
            .expect("service");
    s.id
}

fn findable(w: &World, text: &str) -> Vec<Uuid> {
    let synonyms = rathaus_search::Synonyms::default();
    w.app
        .search
        .index
        .search(
            &SearchQuery {
                tenant: w.tenant.0,
                text,
                audience: None,
                topic: None,
                limit: 10,
            },
            &synonyms,
        )
        .expect("search")
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[tokio::test]
async fn four_eyes_and_publishing_makes_the_service_findable() {
    let w = World::new().await;
    let id = draft(&w, "hundesteuer", "Hundesteuer anmelden").await;
    let v = w
        .app
        .submit_version::<Services>(&w.alice, id)
        .await
        .unwrap();
    assert_eq!(v.status(), VersionStatus::InReview);
    assert!(
        matches!(
            w.app.approve_version::<Services>(&w.alice, id).await,
            Err(UseCaseError::Workflow("workflow.own_approval"))
        ),
        "the author cannot approve"
    );
    assert!(findable(&w, "Hundesteuer").is_empty(), "not public yet");
    let v = w.app.approve_version::<Services>(&w.bob, id).await.unwrap();
    assert_eq!(v.status(), VersionStatus::Published);
    assert_eq!(findable(&w, "Hundesteuer"), [id]);

    let history = w
        .app
        .version_history::<Services>(&w.alice, id)
        .await
        .unwrap();
    assert_eq!(history.history.len(), 1);
    assert_eq!(history.history[0].author, "alice@example.org");
    assert_eq!(history.history[0].reviewer, "bob@example.org");
    assert!(history.own_change && !history.can_review);

    w.app.archive::<Services>(&w.bob, id).await.unwrap();
    assert!(findable(&w, "Hundesteuer").is_empty(), "archived is gone");
    w.db.drop_db().await;
}

#[tokio::test]
async fn reject_keeps_the_comment_and_limits_it() {
    let w = World::new().await;
    let id = draft(&w, "hundesteuer", "Hundesteuer").await;
    w.app
        .submit_version::<Services>(&w.alice, id)
        .await
        .unwrap();
    let long = "x".repeat(rathaus_app::editorial::MAX_COMMENT_CHARS + 1);
    assert!(matches!(
        w.app.reject_version::<Services>(&w.bob, id, &long).await,
        Err(UseCaseError::Validation(_))
    ));
    let v = w
        .app
        .reject_version::<Services>(&w.bob, id, "  Gebühr fehlt ")
        .await
        .unwrap();
    assert_eq!(v.status(), VersionStatus::Draft);
    assert_eq!(v.review_comment.as_deref(), Some("Gebühr fehlt"));
    assert!(matches!(
        w.app.reject_version::<Services>(&w.bob, id, "").await,
        Err(UseCaseError::Workflow("workflow.wrong_status"))
    ));
    w.db.drop_db().await;
}

#[tokio::test]
async fn only_editors_of_the_tenant_take_workflow_steps() {
    let w = World::new().await;
    let id = draft(&w, "hundesteuer", "Hundesteuer").await;
    assert!(matches!(
        w.app.submit_version::<Services>(&w.clerk, id).await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.submit_version::<Services>(&w.anonymous, id).await,
        Err(UseCaseError::Unauthenticated)
    ));
    assert!(matches!(
        w.app.submit_version::<Services>(&w.stranger, id).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.version_history::<Services>(&w.stranger, id).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.archive::<Services>(&w.clerk, id).await,
        Err(UseCaseError::Forbidden)
    ));
    w.db.drop_db().await;
}
