//! Deciding with a Bescheid, templates, routing and identity use cases
//! without HTTP.

mod support;

use rathaus_app::{
    UseCaseError,
    cases::CaseStep,
    decisions::{DecisionInput, TemplateInput, TemplateProblem},
    identity::Credentials,
    routing::RuleInput,
};
use rathaus_domain::{
    cases::{CaseAction, CaseStatus},
    catalog::{Audience, I18nText, ServiceContent},
    decisions::Variant,
};
use rathaus_storage::prelude::*;
use support::world;
use uuid::Uuid;

fn approval(reason: &str) -> DecisionInput {
    DecisionInput {
        variant: Variant::Approval,
        reason: reason.into(),
        fee: None,
    }
}

#[tokio::test]
async fn a_decision_stores_the_pdf_and_moves_the_case() {
    let w = world().await;
    assert!(matches!(
        w.app.decide(&w.other_clerk, w.case, approval("ok")).await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app.decide(&w.editor, w.case, approval("ok")).await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app
            .decide(&w.clerk, w.case, approval(&"x".repeat(20_001)))
            .await,
        Err(UseCaseError::Validation(_))
    ));
    // Received cases are taken first.
    assert!(matches!(
        w.app.decide(&w.clerk, w.case, approval("ok")).await,
        Err(UseCaseError::Transition(_))
    ));
    w.app
        .change_case(&w.clerk, w.case, CaseStep::Claim)
        .await
        .expect("claim");
    let preview = w
        .app
        .preview_decision(&w.clerk, w.case, approval("Alles da."))
        .await
        .expect("preview");
    assert!(preview.pdf.starts_with(b"%PDF"));
    let c = w
        .app
        .decide(&w.clerk, w.case, approval("Alles da."))
        .await
        .expect("decide");
    assert_eq!(c.status(), CaseStatus::Decided);
    let files = w
        .app
        .store
        .repo()
        .message_files(w.tenant, c.application_id)
        .await
        .expect("files");
    assert_eq!(files.len(), 1);
    let pdf = w
        .app
        .files
        .get(w.tenant, &files[0].file_key)
        .await
        .expect("read")
        .expect("stored");
    assert!(pdf.starts_with(b"%PDF"));
    assert!(matches!(
        w.app
            .change_case(&w.clerk, w.case, CaseStep::Status(CaseAction::Cancel))
            .await,
        Err(UseCaseError::Transition(_))
    ));
    w.db.drop_db().await;
}

async fn service(w: &support::World) -> Uuid {
    let author = w.editor.staff().expect("staff").user.id;
    let (s, _) = w
        .app
        .store
        .create_service(
            w.tenant,
            author,
            ServiceContent {
                slug: "gewerbe".into(),
                leika_key: "99050012104000".into(),
                audience: vec![Audience::Citizen],
                org_unit: "Ordnungsamt".into(),
                title: I18nText {
                    de: "Gewerbe-Anmeldung".into(),
                    en: String::new(),
                },
                summary: I18nText {
                    de: "Ein Gewerbe anmelden.".into(),
                    en: String::new(),
                },
                ..Default::default()
            },
        )
        .await
        .expect("service");
    s.id
}

#[tokio::test]
async fn routing_is_the_fachadministration_s() {
    let w = world().await;
    let s = service(&w).await;
    let rule = |pattern: &str, unit| RuleInput {
        field: "plz".into(),
        pattern: pattern.into(),
        org_unit: Some(unit),
    };
    assert!(matches!(
        w.app
            .save_routing(&w.editor, s, vec![rule("99*", w.other_office)])
            .await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app
            .save_routing(&w.clerk, s, vec![rule("99*", w.other_office)])
            .await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.save_routing(&w.admin, Uuid::now_v7(), vec![]).await,
        Err(UseCaseError::NotFound)
    ));
    let refused = w
        .app
        .save_routing(
            &w.admin,
            s,
            vec![
                rule("99*", w.other_office),
                RuleInput::default(),
                rule("99-9", w.other_office),
            ],
        )
        .await
        .expect("checked");
    assert_eq!(
        refused.expect_err("bad pattern").row,
        1,
        "blank rows dropped"
    );
    let unknown = w
        .app
        .save_routing(&w.admin, s, vec![rule("99*", Uuid::now_v7())])
        .await
        .expect("checked");
    assert_eq!(unknown.expect_err("unknown unit").code, "org_unit.unknown");
    let saved = w
        .app
        .save_routing(&w.admin, s, vec![rule("99*", w.other_office)])
        .await
        .expect("saved")
        .expect("valid");
    assert_eq!(saved.len(), 1);
    let routing = w.app.service_routing(&w.admin, s).await.expect("routing");
    assert_eq!(routing.rules.len(), 1);
    assert_eq!(routing.default_unit, w.office);
    w.db.drop_db().await;
}

#[tokio::test]
async fn templates_are_checked_before_they_are_saved() {
    let w = world().await;
    let s = service(&w).await;
    let input = |title: &str, body: &str| TemplateInput {
        service: Some(s),
        variant: Variant::Rejection,
        title: title.into(),
        body: body.into(),
    };
    assert!(matches!(
        w.app
            .save_decision_template(&w.clerk, input("Bescheid", "Text"))
            .await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app.decision_templates(&w.editor).await,
        Err(UseCaseError::Forbidden)
    ));
    let empty = w
        .app
        .save_decision_template(&w.admin, input(" ", "Text"))
        .await
        .expect("checked");
    assert!(matches!(empty, Err(TemplateProblem::Field(_))));
    let unknown = w
        .app
        .save_decision_template(&w.admin, input("Bescheid", "{{gibtsnicht}}"))
        .await
        .expect("checked");
    assert!(matches!(unknown, Err(TemplateProblem::Placeholder(_))));
    w.app
        .save_decision_template(&w.admin, input("Ablehnung", "Sehr geehrte/r {{name}}"))
        .await
        .expect("saved")
        .expect("valid");
    let list = w.app.decision_templates(&w.admin).await.expect("list");
    let row = list.iter().find(|r| r.service == s).expect("listed");
    assert_eq!(row.own, [false, true]);
    let edit = w
        .app
        .decision_template(&w.admin, Some(s), Variant::Rejection)
        .await
        .expect("edit");
    assert_eq!(edit.saved.expect("saved").title, "Ablehnung");
    w.db.drop_db().await;
}

#[tokio::test]
async fn identity_checks_credentials_and_scopes_org_units() {
    let w = world().await;
    assert!(Credentials::parse("kein-email", "").is_err());
    let c = Credentials::parse("clerk@example.org", "falsch").expect("well-formed");
    assert!(matches!(
        w.app.staff_login(w.tenant, &c).await,
        Err(UseCaseError::Unauthenticated)
    ));
    let me = w.app.me(&w.clerk).await.expect("me");
    assert_eq!(me.grants.len(), 1);
    assert_eq!(w.app.org_units(&w.clerk).await.expect("units").len(), 3);
    assert!(matches!(
        w.app.org_unit(&w.foreign_clerk, w.office).await,
        Err(UseCaseError::NotFound)
    ));
    // A browser session has no token to revoke.
    assert!(matches!(
        w.app.revoke_token(&w.clerk).await,
        Err(UseCaseError::Forbidden)
    ));
    w.db.drop_db().await;
}
