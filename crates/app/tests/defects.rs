//! Mängelmelder without the web layer: categories and routing by area, a
//! report by address that becomes a case in the routed unit's inbox, photos
//! without their metadata, duplicates within 50 m, the status steps that
//! keep the case in step and tell the reporter, moderation, merging, the
//! Open311 keys, and who of the staff sees what. SQLite, or PostgreSQL with
//! `RATHAUS_TEST_POSTGRES_URL`.

mod support;

use bytes::Bytes;
use rathaus_app::{
    Actor, UseCaseError,
    defects::{AreaRoute, CategoryInput, DefectQuery, PhotoInput, ReportChannel, ReportInput},
};
use rathaus_domain::{cases::CaseStatus, defects::DefectStatus};
use rathaus_storage::prelude::*;
use support::{World, world};

const STREETS: &str = "strasse;plz;lat;long\nHauptstraße;12345;50.2000;9.1900\nNordring;12399;50.3000;9.1900\nMarktplatz;12345;50.2010;9.1910\n";

/// A polygon around the Nordring (lat 50.29–50.31).
const NORTH: &str = r#"{"type":"Polygon","coordinates":[[[9.18,50.29],[9.20,50.29],[9.20,50.31],[9.18,50.31],[9.18,50.29]]]}"#;

async fn setup(w: &World) {
    let e = w
        .app
        .save_defect_category(
            &w.clerk,
            CategoryInput {
                code: "x".into(),
                name: "X".into(),
                org_unit_id: Some(w.office),
                active: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, UseCaseError::Forbidden), "{e:?}");
    w.app
        .save_defect_category(
            &w.admin,
            CategoryInput {
                code: "schlagloch".into(),
                name: "Schlagloch".into(),
                description: "Löcher in der Straße".into(),
                org_unit_id: Some(w.office),
                routes: vec![AreaRoute {
                    org_unit_id: w.other_office,
                    postal_codes: None,
                    geojson: Some(NORTH.into()),
                }],
                attributes: r#"[{"code":"groesse","variable":true,"datatype":"singlevaluelist","required":true,"description":"Größe","datatype_description":"","order":1,"values":[{"key":"klein","name":"klein"},{"key":"gross","name":"groß"}]}]"#.into(),
                active: true,
                ..Default::default()
            },
        )
        .await
        .expect("category");
    w.app
        .import_defect_streets(&w.admin, STREETS)
        .await
        .expect("streets");
}

fn report(address: &str) -> ReportInput {
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert("groesse".to_string(), vec!["gross".to_string()]);
    ReportInput {
        service_code: "schlagloch".into(),
        address: Some(address.into()),
        description: "Tiefes Loch vor Hausnummer 3".into(),
        attributes,
        email: Some("melder@example.org".into()),
        strict_address: true,
        ..Default::default()
    }
}

fn anonymous(w: &World) -> Actor {
    Actor::Anonymous { tenant: w.tenant }
}

/// A JPEG with GPS and camera data in its EXIF block.
fn photo() -> Bytes {
    Bytes::from(rathaus_standards::photo::sample_jpeg_with_gps(
        50.2001, 9.1901,
    ))
}

#[tokio::test]
async fn a_report_by_address_becomes_a_case_in_the_routed_inbox() {
    let w = world().await;
    setup(&w).await;
    let mut input = report("hauptstr. 3");
    input.photos = vec![PhotoInput {
        name: "IMG_0001.jpg".into(),
        content: photo(),
    }];
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, input)
        .await
        .expect("received");
    let stored = w
        .app
        .store
        .repo()
        .defect_report(w.tenant, r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.address.as_deref(), Some("Hauptstraße 3"));
    assert_eq!(
        (stored.lat, stored.long),
        (Some(50.2), Some(9.19)),
        "street's point"
    );
    let case = w
        .app
        .store
        .repo()
        .case(w.tenant, stored.case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.org_unit_id, w.office, "the category's unit");
    assert_eq!(case.status(), CaseStatus::Received);
    // In the clerk's inbox; not in the other clerk's.
    let inbox = w.app.inbox(&w.clerk, Default::default()).await.unwrap();
    assert!(
        inbox.iter().any(|row| row.case.id == case.id),
        "in the inbox"
    );
    let other = w
        .app
        .inbox(&w.other_clerk, Default::default())
        .await
        .unwrap();
    assert!(!other.iter().any(|row| row.case.id == case.id));
    // The photo is stored without its metadata.
    let files = w
        .app
        .store
        .repo()
        .application_files(w.tenant, stored.application_id)
        .await
        .unwrap();
    let f = files
        .iter()
        .find(|f| f.field_path == "fotos")
        .expect("photo");
    let bytes = w
        .files
        .store
        .get(w.tenant, &f.file_key)
        .await
        .unwrap()
        .unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(
        !bytes.windows(4).any(|x| x == b"Exif"),
        "no EXIF left in the stored photo"
    );
    assert!(bytes.len() < photo().len() * 4);
    // Not public before moderation; the staff in scope see it.
    let e = w
        .app
        .defect_photo(&anonymous(&w), &r.reference, 1)
        .await
        .unwrap_err();
    assert!(matches!(e, UseCaseError::NotFound));
    assert!(w.app.defect_photo(&w.clerk, &r.reference, 1).await.is_ok());
    assert!(
        w.app
            .defect_photo(&w.other_clerk, &r.reference, 1)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_report_in_the_polygon_goes_to_the_area_unit() {
    let w = world().await;
    setup(&w).await;
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, report("Nordring 1"))
        .await
        .expect("received");
    let s = w
        .app
        .staff_defect(&w.other_clerk, r.id)
        .await
        .expect("in scope");
    assert_eq!(s.org_unit_id, w.other_office);
    let e = w.app.staff_defect(&w.clerk, r.id).await.unwrap_err();
    assert!(
        matches!(e, UseCaseError::NotFound),
        "outside the clerk's scope"
    );
    // By coordinates inside the polygon, too (Open311 with any address).
    let mut by_point = report("");
    by_point.address = None;
    by_point.lat = Some("50.30".into());
    by_point.long = Some("9.19".into());
    by_point.strict_address = false;
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Api, by_point)
        .await
        .unwrap();
    assert!(w.app.staff_defect(&w.other_clerk, r.id).await.is_ok());
}

#[tokio::test]
async fn bad_reports_name_their_fields() {
    let w = world().await;
    setup(&w).await;
    let fields = |e: UseCaseError| match e {
        UseCaseError::Validation(v) => v.0.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let mut i = report("Unbekannte Gasse 4");
    i.description = " ".into();
    i.attributes.clear();
    i.email = Some("not-an-address".into());
    let e = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, i)
        .await
        .unwrap_err();
    let f = fields(e);
    for name in ["address", "description", "attribute[groesse]", "email"] {
        assert!(f.contains(&name.to_string()), "{name} in {f:?}");
    }
    let mut i = report("");
    i.address = None;
    i.lat = Some("91".into());
    i.long = Some("abc".into());
    let f = fields(
        w.app
            .report_defect(&anonymous(&w), ReportChannel::Web, i)
            .await
            .unwrap_err(),
    );
    assert!(
        f.contains(&"lat".into()) && f.contains(&"long".into()),
        "{f:?}"
    );
    let mut i = report("Hauptstraße");
    i.service_code = "unbekannt".into();
    let f = fields(
        w.app
            .report_defect(&anonymous(&w), ReportChannel::Web, i)
            .await
            .unwrap_err(),
    );
    assert_eq!(f, vec!["service_code".to_string()]);
    let mut i = report("Hauptstraße");
    i.photos = vec![PhotoInput {
        name: "x.jpg".into(),
        content: Bytes::from_static(b"%PDF-1.7 not a photo"),
    }];
    let f = fields(
        w.app
            .report_defect(&anonymous(&w), ReportChannel::Web, i)
            .await
            .unwrap_err(),
    );
    assert_eq!(f, vec!["photos".to_string()]);
    let mut i = report("Hauptstraße");
    i.photos = (0..4)
        .map(|n| PhotoInput {
            name: format!("{n}.jpg"),
            content: photo(),
        })
        .collect();
    assert!(
        w.app
            .report_defect(&anonymous(&w), ReportChannel::Web, i)
            .await
            .is_err(),
        "at most three photos"
    );
}

#[tokio::test]
async fn the_photo_position_is_used_only_when_asked() {
    let w = world().await;
    setup(&w).await;
    let mut i = report("");
    i.address = None;
    i.landmark = Some("beim Brunnen".into());
    i.photos = vec![PhotoInput {
        name: "a.jpg".into(),
        content: photo(),
    }];
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, i.clone())
        .await
        .unwrap();
    let s = w.app.staff_defect(&w.clerk, r.id).await.unwrap();
    assert_eq!(s.report.lat, None, "GPS not used without consent");
    i.use_photo_location = true;
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, i)
        .await
        .unwrap();
    let s = w.app.staff_defect(&w.clerk, r.id).await.unwrap();
    let lat = s.report.lat.expect("from the photo");
    assert!((lat - 50.2001).abs() < 1e-4, "{lat}");
}

#[tokio::test]
async fn duplicates_status_moderation_and_merge() {
    let w = world().await;
    setup(&w).await;
    let first = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, report("Hauptstraße 1"))
        .await
        .unwrap();
    // 30 m away: shown as a duplicate; the Marktplatz (140 m) is not.
    let near = rathaus_domain::defects::GeoPoint::new(50.20027, 9.19).unwrap();
    let found = w
        .app
        .nearby_defects(w.tenant, "schlagloch", near)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.reference, first.reference);
    assert!(found[0].1 < 50.0);
    let far = rathaus_domain::defects::GeoPoint::new(50.2010, 9.1910).unwrap();
    assert!(
        w.app
            .nearby_defects(w.tenant, "schlagloch", far)
            .await
            .unwrap()
            .is_empty()
    );

    // Public: no text before moderation, never the reporter.
    let p = w
        .app
        .public_defect(w.tenant, &first.reference)
        .await
        .unwrap();
    assert_eq!(p.status, DefectStatus::Open);
    assert!(p.description.is_none());
    w.app
        .moderate_defect(&w.clerk, first.id, true, false)
        .await
        .unwrap();
    let p = w
        .app
        .public_defect(w.tenant, &first.reference)
        .await
        .unwrap();
    assert_eq!(
        p.description.as_deref(),
        Some("Tiefes Loch vor Hausnummer 3")
    );

    // Status steps move the case and reach the public page.
    w.app
        .change_defect_status(
            &w.clerk,
            first.id,
            DefectStatus::InProgress,
            "Reparatur beauftragt",
        )
        .await
        .unwrap();
    let p = w
        .app
        .public_defect(w.tenant, &first.reference)
        .await
        .unwrap();
    assert_eq!(p.status, DefectStatus::InProgress);
    assert_eq!(p.public_note.as_deref(), Some("Reparatur beauftragt"));
    assert_eq!(p.updates.len(), 2, "received + in progress");
    let s = w.app.staff_defect(&w.clerk, first.id).await.unwrap();
    let case = w
        .app
        .store
        .repo()
        .case(w.tenant, s.case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.status(), CaseStatus::InProgress);
    let mail = w
        .app
        .defect_mail(w.tenant, first.id, "status", "https://portal.example")
        .await
        .unwrap()
        .expect("the reporter is told");
    assert_eq!(mail.to, "melder@example.org");
    assert!(mail.body.contains("in Bearbeitung") && mail.body.contains("Reparatur beauftragt"));
    assert!(mail.body.contains(&format!(
        "https://portal.example/maengel/{}",
        first.reference
    )));
    // A step the machine refuses, and "forwarded" without a note.
    let e = w
        .app
        .change_defect_status(&w.clerk, first.id, DefectStatus::Open, "")
        .await
        .unwrap_err();
    assert!(matches!(e, UseCaseError::Workflow(_)), "{e:?}");
    let e = w
        .app
        .change_defect_status(&w.clerk, first.id, DefectStatus::Forwarded, " ")
        .await
        .unwrap_err();
    assert!(matches!(e, UseCaseError::Validation(_)), "{e:?}");
    // Another unit's clerk and another tenant's clerk see nothing.
    for other in [&w.other_clerk, &w.foreign_clerk] {
        assert!(
            w.app
                .change_defect_status(other, first.id, DefectStatus::Done, "x")
                .await
                .is_err()
        );
    }

    // The duplicate is merged: closed, pointing to the first, told.
    let second = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, report("Hauptstraße 2"))
        .await
        .unwrap();
    let s = w.app.staff_defect(&w.clerk, second.id).await.unwrap();
    assert_eq!(s.nearby.len(), 1, "the first is shown to staff");
    w.app
        .merge_defect(&w.clerk, second.id, &first.reference)
        .await
        .unwrap();
    let p = w
        .app
        .public_defect(w.tenant, &second.reference)
        .await
        .unwrap();
    assert_eq!(p.status, DefectStatus::Done);
    assert_eq!(p.merged_into.as_deref(), Some(first.reference.as_str()));
    assert!(
        w.app
            .merge_defect(&w.clerk, second.id, &first.reference)
            .await
            .is_err(),
        "once"
    );
    // Done: the case is closed; the lists filter by Open311 status.
    w.app
        .change_defect_status(&w.clerk, first.id, DefectStatus::Done, "Repariert")
        .await
        .unwrap();
    let case = w
        .app
        .store
        .repo()
        .case(w.tenant, s.case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.status(), CaseStatus::Closed);
    let closed = w
        .app
        .public_defects(
            w.tenant,
            &DefectQuery {
                open311_status: vec!["closed".into()],
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(closed.len(), 2);
    let open = w
        .app
        .public_defects(
            w.tenant,
            &DefectQuery {
                open311_status: vec!["open".into()],
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(open.is_empty());
    // The audit chain of the case holds every step.
    let (_, broken) = w.app.store.repo().verify_audit(w.tenant).await.unwrap();
    assert!(broken.is_none(), "audit chain intact");
}

#[tokio::test]
async fn open311_keys_are_per_tenant_and_revocable() {
    let w = world().await;
    setup(&w).await;
    assert!(w.app.create_open311_key(&w.clerk, "App").await.is_err());
    let (key, secret) = w.app.create_open311_key(&w.admin, "App").await.unwrap();
    assert!(w.app.open311_key(w.tenant, &secret).await.is_ok());
    assert!(w.app.open311_key(w.tenant, "wrong").await.is_err());
    let other = w.foreign_clerk.tenant();
    assert!(
        w.app.open311_key(other, &secret).await.is_err(),
        "another tenant's key"
    );
    let e = w.app.create_open311_key(&w.admin, "App").await.unwrap_err();
    assert!(matches!(e, UseCaseError::Conflict(_)), "{e:?}");
    w.app.revoke_open311_key(&w.admin, key.id).await.unwrap();
    assert!(
        w.app.open311_key(w.tenant, &secret).await.is_err(),
        "revoked"
    );
}

#[tokio::test]
async fn contact_data_is_forgotten_after_the_report_closed() {
    let w = world().await;
    setup(&w).await;
    let r = w
        .app
        .report_defect(&anonymous(&w), ReportChannel::Web, report("Hauptstraße 1"))
        .await
        .unwrap();
    w.app
        .change_defect_status(&w.clerk, r.id, DefectStatus::Done, "erledigt")
        .await
        .unwrap();
    assert_eq!(w.app.sweep_defects().await.unwrap(), 0, "kept 30 days");
    let n = w
        .app
        .store
        .forget_defect_reporters(chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let s = w.app.staff_defect(&w.clerk, r.id).await.unwrap();
    assert!(s.report.email.is_none());
    assert!(
        w.app
            .defect_mail(w.tenant, r.id, "status", "https://x")
            .await
            .unwrap()
            .is_none(),
        "nobody to tell any more"
    );
}
