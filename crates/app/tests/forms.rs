//! Form use cases without HTTP: the editorial workflow on form versions.

mod content;

use content::World;
use rathaus_app::{
    UseCaseError,
    forms::{FimUpload, NewDefinition},
};
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

fn demo(path: &str) -> (String, String) {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/fim")
        .join(path);
    let text = std::fs::read_to_string(&full).expect("demo file");
    (path.to_string(), text)
}

#[tokio::test]
async fn fim_samples_import_as_drafts() {
    let w = World::new().await;
    let upload = FimUpload {
        schema: demo("gewerbeanmeldung/S00000009_xdatenfelder.xml"),
        code_lists: vec![],
        key: None,
        service: None,
    };
    let stored = w.app.import_fim(&w.alice, upload).await.unwrap();
    assert!(stored.created);
    assert_eq!(stored.version.status(), VersionStatus::Draft);
    assert!(
        !stored
            .version
            .definition()
            .expect("definition")
            .steps
            .is_empty()
    );

    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/fim/bewohnerparken");
    let mut lists = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.contains("genericode") {
            lists.push(demo(&format!("bewohnerparken/{name}")));
        }
    }
    let upload = FimUpload {
        schema: demo("bewohnerparken/S05000058V1.0_xdf2.xml"),
        code_lists: lists,
        key: Some("parken".into()),
        service: None,
    };
    let stored = w.app.import_fim(&w.bob, upload.clone()).await.unwrap();
    assert_eq!(stored.form.key, "parken");
    // The same key again is a new draft of that form.
    let again = w.app.import_fim(&w.bob, upload).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.form.id, stored.form.id);
    w.db.drop_db().await;
}

#[tokio::test]
async fn a_broken_fim_file_names_line_and_element() {
    let w = World::new().await;
    let (_, xml) = demo("gewerbeanmeldung/S00000009_xdatenfelder.xml");
    let cut: String = xml.lines().take(40).collect::<Vec<_>>().join("\n");
    let upload = FimUpload {
        schema: ("kaputt.xml".into(), cut),
        code_lists: vec![],
        key: None,
        service: None,
    };
    match w.app.import_fim(&w.alice, upload.clone()).await {
        Err(UseCaseError::BadFile(m)) => {
            assert!(m.contains("kaputt.xml") && m.contains("line"), "{m}");
            assert!(m.contains("element <"), "{m}");
        }
        other => panic!("a broken file is BadFile: {other:?}"),
    }
    assert!(matches!(
        w.app.import_fim(&w.clerk, upload).await,
        Err(UseCaseError::Forbidden)
    ));
    w.db.drop_db().await;
}

#[tokio::test]
async fn definitions_are_linted_and_attached_by_editors() {
    let w = World::new().await;
    let mut broken = definition("Name");
    broken.steps.clear();
    let input = |definition| NewDefinition {
        key: Some("test".into()),
        service: None,
        definition,
    };
    assert!(matches!(
        w.app.store_form_definition(&w.alice, input(broken)).await,
        Err(UseCaseError::Validation(_))
    ));
    let stored = w
        .app
        .store_form_definition(&w.alice, input(definition("Name")))
        .await
        .unwrap();
    let v = w
        .app
        .save_form(&w.bob, stored.form.id, &definition("Vollständiger Name"))
        .await
        .unwrap();
    assert_eq!(v.number, 1);
    assert!(matches!(
        w.app
            .save_form(&w.clerk, stored.form.id, &definition("x"))
            .await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app
            .attach_form(&w.alice, stored.form.id, Some("gibt-es-nicht"))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    let author = w.alice.staff().unwrap().user.id;
    let (service, _) =
        w.db.store
            .create_service(
                w.tenant,
                author,
                content::content("hundesteuer", "Hundesteuer"),
            )
            .await
            .unwrap();
    let requested = w
        .app
        .attach_form(&w.alice, stored.form.id, Some("hundesteuer"))
        .await
        .unwrap();
    assert_eq!(requested.target_id, Some(service.id));
    assert_eq!(requested.status, "pending");
    let service_of = || async {
        w.db.store
            .repo()
            .form(w.tenant, stored.form.id)
            .await
            .unwrap()
            .unwrap()
            .service_id
    };
    assert_eq!(
        service_of().await,
        None,
        "not linked before a second editor approves"
    );
    assert!(
        matches!(
            w.app
                .review_change::<Forms>(&w.alice, stored.form.id, true)
                .await,
            Err(UseCaseError::Workflow("workflow.own_approval"))
        ),
        "the requester cannot approve the link"
    );
    assert_eq!(service_of().await, None);
    let approved = w
        .app
        .review_change::<Forms>(&w.bob, stored.form.id, true)
        .await
        .unwrap();
    assert_eq!(approved.status, "approved");
    assert_eq!(service_of().await, Some(service.id), "linked once approved");
    assert!(
        matches!(
            w.app
                .review_change::<Forms>(&w.bob, stored.form.id, true)
                .await,
            Err(UseCaseError::Workflow("workflow.wrong_status"))
        ),
        "nothing pending any more"
    );
    // Unlinking is a change under the four eyes too; a rejection keeps the link.
    w.app
        .attach_form(&w.bob, stored.form.id, None)
        .await
        .unwrap();
    w.app
        .review_change::<Forms>(&w.alice, stored.form.id, false)
        .await
        .unwrap();
    assert_eq!(service_of().await, Some(service.id));
    assert!(matches!(
        w.app.attach_form(&w.stranger, stored.form.id, None).await,
        Err(UseCaseError::NotFound)
    ));
    w.db.drop_db().await;
}
