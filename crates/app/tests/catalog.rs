//! Catalog and editorial use cases without HTTP: four eyes, permissions,
//! tenants, and the search index following publication.

mod content;

use content::{World, content};

use rathaus_app::UseCaseError;
use rathaus_domain::catalog::VersionStatus;
use rathaus_search::SearchQuery;
use rathaus_storage::{catalog::Services, prelude::*};
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

    // Archiving is a change under the four eyes too.
    let change = w.app.archive::<Services>(&w.bob, id).await.unwrap();
    assert_eq!(
        (change.action.as_str(), change.status.as_str()),
        ("archive", "pending")
    );
    assert_eq!(
        findable(&w, "Hundesteuer"),
        [id],
        "public until a second editor approves"
    );
    assert!(
        matches!(
            w.app.review_change::<Services>(&w.bob, id, true).await,
            Err(UseCaseError::Workflow("workflow.own_approval"))
        ),
        "the requester cannot approve"
    );
    assert_eq!(findable(&w, "Hundesteuer"), [id]);
    assert!(
        w.db.store
            .repo()
            .service(w.tenant, id)
            .await
            .unwrap()
            .unwrap()
            .archived_at
            .is_none()
    );
    assert!(matches!(
        w.app.review_change::<Services>(&w.clerk, id, true).await,
        Err(UseCaseError::Forbidden)
    ));
    w.app
        .review_change::<Services>(&w.alice, id, true)
        .await
        .unwrap();
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

#[tokio::test]
async fn services_are_written_by_editors_and_validated() {
    let w = World::new().await;
    assert!(matches!(
        w.app
            .create_service(&w.clerk, content("hundesteuer", "Hundesteuer"))
            .await,
        Err(UseCaseError::Forbidden)
    ));
    let mut bad = content("hundesteuer", "Hundesteuer");
    bad.org_unit = "Gibt es nicht".into();
    assert!(matches!(
        w.app.create_service(&w.alice, bad).await,
        Err(UseCaseError::Validation(_))
    ));
    let (s, v1) = w
        .app
        .create_service(&w.alice, content("hundesteuer", "Hundesteuer"))
        .await
        .unwrap();
    assert_eq!(v1.number, 1);
    assert!(matches!(
        w.app
            .create_service(&w.bob, content("hundesteuer", "Noch einmal"))
            .await,
        Err(UseCaseError::Conflict("slug"))
    ));
    assert!(matches!(
        w.app
            .save_service(&w.stranger, s.id, content("hundesteuer", "Fremd"))
            .await,
        Err(UseCaseError::NotFound)
    ));
    let v = w
        .app
        .save_service(&w.bob, s.id, content("hundesteuer", "Hundesteuer neu"))
        .await
        .unwrap();
    assert_eq!(
        (v.number, v.content().title.de.as_str()),
        (1, "Hundesteuer neu")
    );
    let overview = w.app.catalog_overview(&w.alice).await.unwrap();
    assert_eq!(overview.len(), 1);
    assert!(
        w.app
            .catalog_overview(&w.stranger)
            .await
            .unwrap()
            .is_empty()
    );
    w.db.drop_db().await;
}

#[tokio::test]
async fn import_takes_what_it_can_and_export_shows_the_published() {
    let w = World::new().await;
    let good = serde_json::to_value(content("hundesteuer", "Hundesteuer")).unwrap();
    let report = w
        .app
        .import_catalog(&w.alice, vec![good.clone(), serde_json::json!({"slug": 5})])
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (1, 0));
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].index, 1);
    let again = w.app.import_catalog(&w.bob, vec![good]).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 1));
    assert!(matches!(
        w.app.import_catalog(&w.clerk, vec![]).await,
        Err(UseCaseError::Forbidden)
    ));
    let too_many = vec![serde_json::Value::Null; rathaus_app::catalog::MAX_IMPORT_SERVICES + 1];
    assert!(matches!(
        w.app.import_catalog(&w.alice, too_many).await,
        Err(UseCaseError::Validation(_))
    ));
    assert!(w.app.export_catalog(w.tenant).await.unwrap().is_empty());
    w.db.drop_db().await;
}

#[tokio::test]
async fn synonyms_widen_the_search_at_once() {
    let w = World::new().await;
    let id = draft(&w, "hundesteuer", "Hundesteuer anmelden").await;
    w.app
        .submit_version::<Services>(&w.alice, id)
        .await
        .unwrap();
    w.app.approve_version::<Services>(&w.bob, id).await.unwrap();
    let search = |text: &'static str| {
        let app = w.app.clone();
        let tenant = w.tenant;
        async move {
            let text = rathaus_app::catalog::SearchText::parse(text).unwrap();
            app.search_services(tenant, &text, None, None, 10)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(search("Wauwau").await, 0);
    assert!(matches!(
        w.app.add_synonym(&w.clerk, "wauwau", "hundesteuer").await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.add_synonym(&w.alice, " ", "hundesteuer").await,
        Err(UseCaseError::Validation(_))
    ));
    let s = w
        .app
        .add_synonym(&w.alice, "Wauwau", "hundesteuer")
        .await
        .unwrap();
    assert_eq!(search("Wauwau").await, 1);
    assert!(!w.app.delete_synonym(&w.stranger, s.id).await.unwrap());
    assert!(w.app.delete_synonym(&w.alice, s.id).await.unwrap());
    assert_eq!(search("Wauwau").await, 0);
    w.db.drop_db().await;
}

/// The submission cache is dropped by a committed publication only: refused
/// steps (anonymous, a clerk, the author approving their own draft) leave it.
#[tokio::test]
async fn only_a_committed_publication_drops_the_submission_cache() {
    let w = World::new().await;
    let id = draft(&w, "cache-probe", "Cache-Probe").await;
    w.app
        .submit_version::<Services>(&w.alice, id)
        .await
        .unwrap();
    let before = w.app.intake.generation();
    for refused in [&w.anonymous, &w.clerk, &w.alice, &w.stranger] {
        assert!(
            w.app
                .approve_version::<Services>(refused, id)
                .await
                .is_err(),
            "{refused:?} may not approve"
        );
    }
    assert_eq!(
        w.app.intake.generation(),
        before,
        "a refused step kept the cache"
    );
    w.app.approve_version::<Services>(&w.bob, id).await.unwrap();
    assert!(
        w.app.intake.generation() > before,
        "a publication drops the cache"
    );
}
