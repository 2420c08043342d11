//! Form use cases without HTTP: the editorial workflow on form versions.

mod content;

use content::World;
use rathaus_app::UseCaseError;
use rathaus_domain::{
    catalog::{I18nText, VersionStatus},
    forms::FormDefinition,
};
use rathaus_storage::forms::{FormRepository, Forms};
use uuid::Uuid;

fn definition(label: &str) -> FormDefinition {
    serde_json::from_value(serde_json::json!({
        "key": "test",
        "title": {"de": "Test"},
        "steps": [{"key": "s", "title": {"de": "Schritt"}, "items": [
            {"type": "field", "key": "name", "label": {"de": label}, "kind": "text", "required": true}
        ]}]
    }))
    .expect("definition")
}

async fn form(w: &World) -> Uuid {
    let author = w.alice.staff().expect("staff").user.id;
    let (f, _) =
        w.db.store
            .create_form(w.tenant, author, "test", None, &definition("Name"), None)
            .await
            .expect("form");
    f.id
}

#[tokio::test]
async fn form_versions_follow_four_eyes() {
    let w = World::new().await;
    let id = form(&w).await;
    w.app.submit_version::<Forms>(&w.alice, id).await.unwrap();
    assert!(matches!(
        w.app.approve_version::<Forms>(&w.alice, id).await,
        Err(UseCaseError::Workflow("workflow.own_approval"))
    ));
    let v = w.app.approve_version::<Forms>(&w.bob, id).await.unwrap();
    assert_eq!(v.status(), VersionStatus::Published);
    let (_, published) =
        w.db.store
            .repo()
            .published_form(w.tenant, id)
            .await
            .unwrap()
            .expect("published");
    assert_eq!(published.id, v.id);
    let history = w.app.version_history::<Forms>(&w.bob, id).await.unwrap();
    assert!(!history.own_change && history.can_edit && !history.can_submit);
    assert_eq!(
        history.latest().definition().map(|d| d.title),
        Some(I18nText {
            de: "Test".into(),
            en: String::new()
        })
    );
    w.db.drop_db().await;
}

#[tokio::test]
async fn only_editors_of_the_tenant_review_forms() {
    let w = World::new().await;
    let id = form(&w).await;
    assert!(matches!(
        w.app.submit_version::<Forms>(&w.clerk, id).await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.reject_version::<Forms>(&w.stranger, id, "").await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.approve_version::<Forms>(&w.anonymous, id).await,
        Err(UseCaseError::Unauthenticated)
    ));
    assert!(matches!(
        w.app.approve_version::<Forms>(&w.bob, id).await,
        Err(UseCaseError::Workflow("workflow.wrong_status"))
    ));
    w.db.drop_db().await;
}
