//! The e-file over HTTP on the demo: a Hundesteuer case decided and closed
//! is in its Vorgang with all its documents (filed by the outbox jobs); the
//! hand-over runs through the API paths (0501, 0502, 0503, receipt,
//! destruction on four eyes), and the destroyed content is gone from the
//! database and the file store, its deletion record stays.

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, claim_case, client, get_json, grant_steueramt, hundesteuer_data, run_jobs,
    staff_login, submitted, text, token,
};

fn archive_message(process: &str, code: &str, name: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdomea:{name}.{code} xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0">
  <xdomea:Kopf>
    <xdomea:ProzessID>{process}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>{code}</code><name>{name}</name></xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2100-01-02T10:00:00Z</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Stadtarchiv Musterstadt</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt Musterstadt</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>
    <xdomea:SendendesSystem><xdomea:InstanzID>2f1ee0f2-61c7-4c29-9f3a-6c1c1a0e33b1</xdomea:InstanzID><xdomea:Produktname>Archiv</xdomea:Produktname><xdomea:Version>1</xdomea:Version></xdomea:SendendesSystem>
{receipt}  </xdomea:Kopf>
{body}</xdomea:{name}.{code}>
"#,
        // Only the 0502 asks for a receipt in its Kopf (the schema has no such element in 0504–0507).
        receipt = if code == "0502" {
            "    <xdomea:Empfangsbestaetigung>0</xdomea:Empfangsbestaetigung>\n"
        } else {
            ""
        }
    )
}

async fn post_xml(url: String, token: &str, xml: String) -> reqwest::Response {
    client()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap()
}

async fn post_json(url: String, token: &str, body: Value) -> reqwest::Response {
    client()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_closed_case_is_filed_handed_over_and_destroyed() {
    let app = TestApp::spawn().await;
    let (store, tenant) = grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let admin2 = token(&app, "admin2@musterstadt.example").await;

    // The plan: Hundesteuer under 32.10.05 with its rule.
    let plan = get_json(app.url("/api/v1/records/plan"), &clerk).await;
    let hund = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "32.10.05")
        .expect("32.10.05 in the demo plan");
    assert_eq!(hund["retention"]["years"], 10);
    assert!(
        hund["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"].as_str().unwrap().contains("Hundesteuer")),
        "{hund}"
    );

    let sent = submitted(
        &app,
        "hundesteuer-anmeldung",
        "records-it-0001",
        &hundesteuer_data(),
    )
    .await;
    let reference = sent["reference"].as_str().unwrap().to_string();
    let case = claim_case(&app, &clerk, &reference).await;
    let r = post_json(
        app.url(&format!("/api/v1/cases/{case}/decide")),
        &clerk,
        json!({"variant": "approval", "reason": "Alle Angaben vollständig."}),
    )
    .await;
    assert_eq!(r.status(), 200, "decide: {}", r.text().await.unwrap());
    let r = post_json(
        app.url(&format!("/api/v1/cases/{case}/status")),
        &clerk,
        json!({"action": "close"}),
    )
    .await;
    assert_eq!(r.status(), 200, "close");
    run_jobs(&app).await;

    let record = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &clerk).await;
    assert_eq!(record["status"], "closed", "{record}");
    assert!(
        record["file_number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("32.10.05-{reference}")),
        "{record}"
    );
    let kinds: Vec<&str> = record["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    for k in ["application_data", "receipt", "decision", "message"] {
        assert!(kinds.contains(&k), "{k} filed: {kinds:?}");
    }
    for d in record["documents"].as_array().unwrap() {
        assert_eq!(
            d["versions"][0]["sha256"].as_str().unwrap().len(),
            64,
            "{d}"
        );
    }
    // Clerks read, they do not hand over.
    let r = post_json(
        app.url("/api/v1/records/disposals"),
        &clerk,
        json!({"as_of": "2100-01-01"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    // Not due yet on a day before the end of retention.
    let r = post_json(
        app.url("/api/v1/records/disposals"),
        &admin,
        json!({"as_of": "2030-01-01"}),
    )
    .await;
    assert_eq!(r.status(), 409, "nothing due in 2030");
    let r = post_json(
        app.url("/api/v1/records/disposals"),
        &admin,
        json!({"as_of": "2100-01-01"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let disposal: Value = r.json().await.unwrap();
    let pid = disposal["id"].as_str().unwrap().to_string();
    let items = disposal["items"].as_array().unwrap();
    let ours = items
        .iter()
        .find(|i| i["record"]["case"] == case.as_str())
        .expect("our file is offered");
    let record_id = ours["record"]["id"].as_str().unwrap().to_string();

    let r = client()
        .get(app.url(&format!("/api/v1/records/disposals/{pid}/0501")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let offer = r.text().await.unwrap();
    assert!(offer.contains("Aussonderung.Anbieteverzeichnis.0501") && offer.contains(&record_id));

    // A 0502 that is no xdomea is a clear 422; then the archive takes ours (A).
    let r = post_xml(
        app.url(&format!("/api/v1/records/disposals/{pid}/0502")),
        &admin,
        "<kein/>".into(),
    )
    .await;
    assert_eq!(r.status(), 422);
    let body: String = items
        .iter()
        .map(|i| {
            format!(
                "<xdomea:BewertetesObjekt><xdomea:ID>{}</xdomea:ID><xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI=\"urn:xoev-de:xdomea:codeliste:aussonderungsart\" listVersionID=\"1.0\"><code>A</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>\n",
                i["record"]["id"].as_str().unwrap()
            )
        })
        .collect();
    let r = post_xml(
        app.url(&format!("/api/v1/records/disposals/{pid}/0502")),
        &admin,
        archive_message(&pid, "0502", "Aussonderung.Bewertungsverzeichnis", &body),
    )
    .await;
    assert_eq!(r.status(), 200, "0502: {}", r.text().await.unwrap());
    let r = client()
        .get(app.url(&format!("/api/v1/records/disposals/{pid}/0503")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{pid}_Aussonderung.Aussonderung.0503.zip"))
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    let body: String = items
        .iter()
        .map(|i| {
            format!(
                "<xdomea:AusgesondertesSGO><xdomea:IDSGO>{}</xdomea:IDSGO><xdomea:Erfolgreich>1</xdomea:Erfolgreich><xdomea:Archivkennung>StA MS 1</xdomea:Archivkennung></xdomea:AusgesondertesSGO>\n",
                i["record"]["id"].as_str().unwrap()
            )
        })
        .collect();
    let r = post_xml(
        app.url(&format!("/api/v1/records/disposals/{pid}/receipt")),
        &admin,
        archive_message(
            &pid,
            "0506",
            "Aussonderung.AussonderungImportBestaetigen",
            &body,
        ),
    )
    .await;
    assert_eq!(r.status(), 200, "receipt: {}", r.text().await.unwrap());

    // Four eyes.
    let r = post_json(
        app.url(&format!("/api/v1/records/disposals/{pid}/destruction")),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post_json(
        app.url(&format!(
            "/api/v1/records/disposals/{pid}/destruction/approve"
        )),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 409, "the one who asked cannot approve");
    let keys: Vec<String> = rathaus_storage::entities::application_file::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.file_key)
        .collect();
    assert!(!keys.is_empty());
    let r = post_json(
        app.url(&format!(
            "/api/v1/records/disposals/{pid}/destruction/approve"
        )),
        &admin2,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let destroyed: Value = r.json().await.unwrap();
    assert!(!destroyed["deletions"].as_array().unwrap().is_empty());
    run_jobs(&app).await;
    // Gone: the application (by reference), the case, the objects.
    let r = client()
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the application is destroyed");
    for k in &keys {
        assert!(
            app.files.get(tenant, k).await.unwrap().is_none(),
            "{k} deleted from the file store"
        );
    }
    let record = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &admin).await;
    assert_eq!(record["status"], "archived");
    assert!(record["documents"].as_array().unwrap().is_empty());
    assert_eq!(record["deletions"].as_array().unwrap().len(), 1);

    // The pages work without JavaScript: the overview lists the hand-over.
    let browser = staff_login(&app, "admin@musterstadt.example").await;
    let html = text(&browser, app.url("/staff/records")).await;
    assert!(html.contains("32.10.05") && html.contains(&pid), "overview");
    let html = text(
        &browser,
        app.url(&format!("/staff/records/disposals/{pid}")),
    )
    .await;
    assert!(html.contains("abgeschlossen"), "disposal page");
    app.stop().await;
}

#[tokio::test]
async fn a_legal_hold_through_the_pages_blocks_the_hand_over() {
    let app = TestApp::spawn().await;
    let (_, _) = grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let sent = submitted(
        &app,
        "hundesteuer-anmeldung",
        "records-it-0002",
        &hundesteuer_data(),
    )
    .await;
    let reference = sent["reference"].as_str().unwrap().to_string();
    let case = claim_case(&app, &clerk, &reference).await;
    let r = post_json(
        app.url(&format!("/api/v1/cases/{case}/status")),
        &clerk,
        json!({"action": "cancel"}),
    )
    .await;
    assert_eq!(r.status(), 200, "cancel");
    run_jobs(&app).await;
    let browser = staff_login(&app, "admin@musterstadt.example").await;
    let page = text(&browser, app.url(&format!("/staff/cases/{case}/record"))).await;
    let csrf = crate::helpers::csrf_of(&page).unwrap();
    let record = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &admin).await;
    let id = record["id"].as_str().unwrap();
    let r = browser
        .post(app.url(&format!("/staff/records/{id}/hold")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("reason", "Klage vor dem VG"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let record = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &admin).await;
    assert_eq!(record["legal_hold"], true);
    let due = get_json(app.url("/api/v1/records/due?as_of=2100-01-01"), &admin).await;
    assert!(
        !due["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id),
        "a file on hold is not due"
    );
    // A clerk cannot set or lift holds.
    let r = client()
        .delete(app.url(&format!("/api/v1/records/{id}/hold")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client()
        .delete(app.url(&format!("/api/v1/records/{id}/hold")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let due = get_json(app.url("/api/v1/records/due?as_of=2100-01-01"), &admin).await;
    assert!(
        due["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id)
    );
    app.stop().await;
}
