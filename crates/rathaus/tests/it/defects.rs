//! Mängelmelder over HTTP against the real server: Open311 GeoReport v2 in
//! JSON and XML (services, definitions, POST and GET requests, tokens) with
//! the demo app's key, the errors the specification asks for (missing
//! service_code, bad coordinates, unknown jurisdiction, wrong api_key), the
//! report arriving in the right clerk's inbox, and a status change that
//! reaches the public page, the Open311 answer and the reporter's mailbox.

use serde_json::Value;

use crate::helpers::{TestApp, client, csrf_of, location, staff_login, text};
use crate::notifications::{MailSink, deliver};

const KEY: &str = rathaus::demo::DEMO_OPEN311_KEY;

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = client()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = client().get(app.url(path)).send().await.unwrap();
    let s = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (s, ct, r.text().await.unwrap())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The one error of an Open311 JSON error answer.
fn error_of(body: &str) -> (u64, String) {
    let v = json(body);
    let e = &v.as_array().expect("an array of errors")[0];
    (
        e["code"].as_u64().expect("code"),
        e["description"].as_str().expect("description").to_string(),
    )
}

#[tokio::test]
async fn open311_json_and_xml_report_lands_in_the_right_inbox() {
    let app = TestApp::spawn().await;
    // Discovery and services in both formats.
    let (s, ct, body) = get(&app, "/open311/v2/discovery.json").await;
    assert_eq!(s, 200, "{body}");
    assert!(ct.starts_with("application/json"));
    assert!(
        json(&body)["endpoints"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/open311/v2/")
    );
    let (s, _, body) = get(
        &app,
        "/open311/v2/services.json?jurisdiction_id=musterstadt",
    )
    .await;
    assert_eq!(s, 200);
    let services = json(&body);
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    for c in [
        "schlagloch",
        "strassenbeleuchtung",
        "wilder-muell",
        "graffiti",
        "spielplatz",
        "verkehrszeichen",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    let pothole = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "schlagloch")
        .unwrap();
    assert_eq!(pothole["metadata"], true);
    assert_eq!(pothole["type"], "realtime");
    let (s, ct, xml) = get(&app, "/open311/v2/services.xml").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/xml"), "{ct}");
    assert!(xml.contains("<services>") && xml.contains("<service_code>schlagloch</service_code>"));
    let (s, _, body) = get(&app, "/open311/v2/services/schlagloch.json").await;
    assert_eq!(s, 200);
    let def = json(&body);
    assert_eq!(def["service_code"], "schlagloch");
    assert_eq!(def["attributes"][0]["code"], "groesse");
    assert_eq!(def["attributes"][0]["datatype"], "singlevaluelist");
    let (s, _, xml) = get(&app, "/open311/v2/services/schlagloch.xml").await;
    assert_eq!(s, 200);
    assert!(xml.contains("<service_definition>") && xml.contains("<attribute>"));

    // POST in JSON by coordinates, with an attribute.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", KEY),
            ("jurisdiction_id", "musterstadt"),
            ("service_code", "schlagloch"),
            ("lat", "50.1950"),
            ("long", "9.2000"),
            ("attribute[groesse]", "gross"),
            ("email", "app-nutzer@example.org"),
            ("first_name", "Erika"),
            ("last_name", "Muster"),
            ("description", "Großes Loch am Radweg"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let created = json(&body);
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = created[0]["token"].as_str().unwrap().to_string();
    assert!(id.starts_with("MS-"), "{id}");
    // GET it back with the specification's fields; no personal data.
    let (s, _, body) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(s, 200, "{body}");
    let r = &json(&body)[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "schlagloch");
    assert_eq!(r["service_name"], "Schlagloch");
    assert_eq!(r["lat"].as_f64(), Some(50.195));
    assert_eq!(r["long"].as_f64(), Some(9.2));
    assert_eq!(r["agency_responsible"], "Straßenverkehrsbehörde");
    assert!(r["requested_datetime"].as_str().unwrap().starts_with("20"));
    assert!(!body.contains("app-nutzer@example.org") && !body.contains("Erika"));
    let (s, _, body) = get(&app, &format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(s, 200);
    assert_eq!(json(&body)[0]["service_request_id"], id.as_str());
    // The list, filtered as the specification says.
    let (s, _, body) = get(
        &app,
        "/open311/v2/requests.json?service_code=schlagloch&status=open",
    )
    .await;
    assert_eq!(s, 200);
    let list = json(&body);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "open" && r["service_code"] == "schlagloch")
    );
    let (_, _, body) = get(&app, "/open311/v2/requests.json?status=closed").await;
    assert!(!body.contains(&id));

    // POST in XML by address (the host names the tenant).
    let (s, xml) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", KEY),
            ("service_code", "graffiti"),
            ("address_string", "Bahnhofstraße 5"),
            ("description", "Schmiererei an der Unterführung"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{xml}");
    assert!(
        xml.contains("<service_requests>") && xml.contains("<service_request_id>MS-"),
        "{xml}"
    );
    let xml_id = xml
        .split("<service_request_id>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_string();
    let (s, _, xml) = get(&app, &format!("/open311/v2/requests/{xml_id}.xml")).await;
    assert_eq!(s, 200);
    for element in [
        "<request>",
        "<status>open</status>",
        "<service_name>Graffiti</service_name>",
        "<address>Bahnhofstraße 5</address>",
        "<requested_datetime>",
    ] {
        assert!(xml.contains(element), "{element} in {xml}");
    }

    // The right inboxes: the pothole for the road office's clerk, the
    // graffiti for the environment office's; neither for the other.
    let roads = staff_login(&app, "strassen@musterstadt.example").await;
    let inbox = text(&roads, app.url("/staff/cases")).await;
    assert!(
        inbox.contains(&id),
        "the pothole in the road office's inbox"
    );
    assert!(!inbox.contains(&xml_id));
    let environment = staff_login(&app, "umwelt@musterstadt.example").await;
    let inbox = text(&environment, app.url("/staff/cases")).await;
    assert!(inbox.contains(&xml_id) && !inbox.contains(&id));
    app.stop().await;
}

#[tokio::test]
async fn malformed_open311_input_is_answered_per_the_spec() {
    let app = TestApp::spawn().await;
    let base = [
        ("api_key", KEY),
        ("service_code", "schlagloch"),
        ("lat", "50.2"),
        ("long", "9.19"),
        ("description", "Loch"),
    ];
    let with = |over: &[(&'static str, &'static str)],
                drop: &[&str]|
     -> Vec<(&'static str, &'static str)> {
        let mut f: Vec<(&str, &str)> = base
            .iter()
            .filter(|(k, _)| !drop.contains(k) && !over.iter().any(|(o, _)| o == k))
            .copied()
            .collect();
        f.extend_from_slice(over);
        f
    };
    // Missing service_code: 400 naming it.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[], &["service_code"]),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (code, text) = error_of(&body);
    assert_eq!(code, 400);
    assert!(text.contains("service_code"), "{text}");
    // Unknown service_code: 404.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[("service_code", "ufo")], &[]),
    )
    .await;
    assert_eq!((s, error_of(&body).0), (404, 404), "{body}");
    // Bad coordinates: 400 naming lat and long.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[("lat", "200"), ("long", "x")], &[]),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let all: Vec<Value> = json(&body).as_array().unwrap().clone();
    assert!(
        all.iter()
            .any(|e| e["description"].as_str().unwrap().starts_with("lat")),
        "{body}"
    );
    assert!(
        all.iter()
            .any(|e| e["description"].as_str().unwrap().starts_with("long")),
        "{body}"
    );
    // No place at all.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[], &["lat", "long"]),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    // Unknown jurisdiction: 404.
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[("jurisdiction_id", "atlantis")], &[]),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    assert!(error_of(&body).1.contains("jurisdiction_id"));
    let (s, _, body) = get(&app, "/open311/v2/services.json?jurisdiction_id=atlantis").await;
    assert_eq!((s, error_of(&body).0), (404, 404));
    // Wrong and missing api_key: 403, in XML as <errors>.
    let (s, xml) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &with(&[("api_key", "o311_wrong")], &[]),
    )
    .await;
    assert_eq!(s, 403, "{xml}");
    assert!(
        xml.contains("<errors>")
            && xml.contains("<error>")
            && xml.contains("<code>403</code>")
            && xml.contains("<description>"),
        "{xml}"
    );
    let (s, body) = post_form(&app, "/open311/v2/requests.json", &with(&[], &["api_key"])).await;
    assert_eq!((s, error_of(&body).0), (403, 403));
    // Another tenant's name with this key: the key is not theirs.
    let (s, _) = post_form(
        &app,
        "/open311/v2/requests.json",
        &with(&[("jurisdiction_id", "nachbardorf")], &[]),
    )
    .await;
    assert_eq!(s, 403);
    // Reading: unknown ids, tokens, formats, bad dates and statuses.
    let (s, _, body) = get(&app, "/open311/v2/requests/MS-1900-000001.json").await;
    assert_eq!((s, error_of(&body).0), (404, 404));
    let (s, _, _) = get(&app, "/open311/v2/tokens/nope.xml").await;
    assert_eq!(s, 404);
    let (s, _, _) = get(&app, "/open311/v2/services.html").await;
    assert_eq!(s, 404);
    let (s, _, body) = get(&app, "/open311/v2/requests.json?start_date=gestern").await;
    assert_eq!(s, 400, "{body}");
    assert!(error_of(&body).1.contains("start_date"));
    let (s, _, _) = get(&app, "/open311/v2/requests.json?status=pending").await;
    assert_eq!(s, 400);
    // Nothing of this was stored.
    let (_, _, body) = get(&app, "/open311/v2/requests.json").await;
    assert!(!body.contains("\"Loch\""));
    app.stop().await;
}

#[tokio::test]
async fn a_status_change_reaches_the_public_page_open311_and_the_reporter() {
    let app = TestApp::spawn().await;
    let sink = MailSink::start("defects");
    let (s, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", KEY),
            ("service_code", "strassenbeleuchtung"),
            ("address_string", "Goethestraße 4"),
            ("attribute[mastnummer]", "L-117"),
            ("email", "nachbarin@example.org"),
            ("description", "Laterne flackert seit Tagen"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let id = json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    deliver(&app, &sink).await;
    let mails = sink.mails();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("nachbarin@example.org") && m.contains(&id)),
        "the reporter's receipt: {mails:#?}"
    );
    // The public page: status, no text before moderation, no reporter.
    let (s, page) = app.get_text(&format!("/maengel/{id}")).await;
    assert_eq!(s, 200);
    assert!(page.contains(&id) && !page.contains("nachbarin") && !page.contains("flackert"));

    // The road office's clerk finds it and sets it in progress.
    let clerk = staff_login(&app, "strassen@musterstadt.example").await;
    let list = text(&clerk, app.url("/staff/maengel")).await;
    let href = list
        .split("href=\"/staff/maengel/")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_string())
        .find(|h| list.contains(&id) && !h.starts_with("einstellungen"))
        .expect("a report link");
    // Find the link of this very report.
    let detail_id = list
        .split(&format!("{id}</a>"))
        .next()
        .and_then(|before| before.rsplit("href=\"/staff/maengel/").next())
        .map(|r| r.split('"').next().unwrap().to_string())
        .unwrap_or(href);
    let detail = text(&clerk, app.url(&format!("/staff/maengel/{detail_id}"))).await;
    assert!(
        detail.contains("nachbarin@example.org"),
        "staff see the contact"
    );
    let csrf = csrf_of(&detail).unwrap();
    let r = clerk
        .post(app.url(&format!("/staff/maengel/{detail_id}/status")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("to", "in_progress"),
            ("note", "Der Bauhof tauscht die Lampe am Donnerstag."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    assert!(location(&r).contains(&format!("/staff/maengel/{detail_id}")));
    let (_, page) = app.get_text(&format!("/maengel/{id}")).await;
    assert!(
        page.contains("Der Bauhof tauscht die Lampe am Donnerstag."),
        "public note shown"
    );
    let (_, _, body) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    let r = &json(&body)[0];
    assert_eq!(r["status"], "open");
    assert_eq!(
        r["status_notes"],
        "Der Bauhof tauscht die Lampe am Donnerstag."
    );
    // Done: closed in Open311; the reporter is told.
    let detail = text(&clerk, app.url(&format!("/staff/maengel/{detail_id}"))).await;
    let csrf = csrf_of(&detail).unwrap();
    let r = clerk
        .post(app.url(&format!("/staff/maengel/{detail_id}/status")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("to", "done"),
            ("note", "Lampe getauscht."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (_, _, body) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(json(&body)[0]["status"], "closed");
    deliver(&app, &sink).await;
    let mails = sink.mails();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Lampe getauscht.") && m.contains("erledigt")),
        "the reporter is told: {mails:#?}"
    );
    // Another unit's clerk cannot open it.
    let other = staff_login(&app, "umwelt@musterstadt.example").await;
    let r = other
        .get(app.url(&format!("/staff/maengel/{detail_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    app.stop().await;
}
