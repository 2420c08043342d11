//! Terminvergabe over HTTP against the real server: the demo's Bürgerbüro
//! through the API (the proof of work solved, the confirmation link taken
//! from the e-mail, the `.ics` read by Python's `icalendar`, moving and
//! cancelling), 500 concurrent bookers of the last place, the waiting list
//! handed a freed time by the outbox, and the per-address rate limit.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use rathaus_app::appointments::{AppointmentConfig, local_now};
use rathaus_domain::appointments::{self as dom, Challenge, Land};
use rathaus_storage::appointments::NewLocation;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, python_check, python_has, real_component};
use crate::notifications::{MailSink, deliver};

fn open_day() -> NaiveDate {
    let mut d = local_now().date() + Duration::days(1);
    while dom::holiday(Land::HE, d).is_some() {
        d += Duration::days(1);
    }
    d
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (s, body)
}

/// The link secret of the newest e-mail that confirms booking `code`.
fn confirm_token(mails: &[String], code: &str) -> String {
    let marker = format!("/termine/buchung/{code}/bestaetigen/");
    mails
        .iter()
        .rev()
        .find_map(|m| {
            m.split(&marker)
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("no confirmation link for {code} in {mails:#?}"))
}

/// A one-place location of 10-minute times, open 08:00–08:20 every day
/// (no proof of work: `pow` configured off on the server).
async fn small_location(app: &TestApp, counters: i32) {
    let store = &app.db.as_ref().unwrap().store;
    let tenant = store
        .repo()
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    use rathaus_storage::tenancy::TenantRepository;
    let weekly: Vec<_> = (1..=7)
        .map(|wd| json!({"weekday": wd, "from": "08:00", "to": "08:20"}))
        .collect();
    let l = store
        .save_location(
            tenant,
            &NewLocation {
                slug: "standesamt".into(),
                name: "Standesamt".into(),
                address: "Marktplatz 2".into(),
                org_unit_id: None,
                land: "HE".into(),
                slot_minutes: 10,
                counters,
                quotas: (100, 0, 0),
                window_days: 30,
                internal_window_days: 30,
                opening_hours: json!({ "weekly": weekly }).to_string(),
            },
            local_now().date(),
        )
        .await
        .unwrap();
    store
        .save_appointment_service(tenant, l.id, "eheschliessung", "Eheschließung anmelden", 10)
        .await
        .unwrap();
}

fn no_pow(c: &mut rathaus_web::WebConfig, bookings_per_minute: u32) {
    c.appointments = Arc::new(AppointmentConfig {
        pow_key: None,
        per_email_per_day: 1000,
        ..Default::default()
    });
    c.bookings_per_minute = bookings_per_minute;
}

#[tokio::test]
async fn through_the_api_a_citizen_books_confirms_moves_and_cancels() {
    let app = TestApp::spawn().await;
    let c = client();
    let sink = MailSink::start("appointments");
    // What can be booked.
    let (s, offer) = json_of(
        c.get(app.url("/api/v1/appointments/services"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let bb = offer["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slug"] == "buergerbuero")
        .expect("the demo's Bürgerbüro");
    let services: Vec<&str> = bb["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(services.len(), 3, "{services:?}");
    // Free times.
    let (s, slots) = json_of(
        c.get(
            app.url("/api/v1/appointments/slots?service=meldebescheinigung&location=buergerbuero"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{slots}");
    let times: Vec<(String, u64)> = slots["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["times"].as_array().unwrap().iter())
        .map(|t| {
            (
                t["start"].as_str().unwrap()[..16].to_string(),
                t["free"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(times.len() > 20, "the window offers times: {}", times.len());
    assert!(times.iter().all(|(_, free)| *free > 0));
    let (start, _) = times[0].clone();
    let (later, _) = times[5].clone();
    // Without the proof of work: refused, naming the field.
    let booking = json!({"service": "meldebescheinigung", "location": "buergerbuero",
        "start": start, "name": "Erika Mustermann", "email": "erika@example.org"});
    let (s, body) = json_of(
        c.post(app.url("/api/v1/appointments"))
            .json(&booking)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "pow");
    // Solved.
    let (_, ch) = json_of(
        c.get(app.url("/api/v1/appointments/challenge"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ch["required"], true);
    let challenge: Challenge = serde_json::from_value(ch["challenge"].clone()).unwrap();
    let number = dom::solve(&challenge).expect("the puzzle has a solution");
    let pow = json!({"algorithm": challenge.algorithm, "challenge": challenge.challenge,
        "number": number, "salt": challenge.salt, "signature": challenge.signature});
    let mut with_pow = booking.clone();
    with_pow["pow"] = json!(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        pow.to_string()
    ));
    let (s, made) = json_of(
        c.post(app.url("/api/v1/appointments"))
            .json(&with_pow)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["status"], "pending");
    let code = made["code"].as_str().unwrap().to_string();
    assert!(
        made["ics_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/v1/appointments/{code}.ics"))
    );
    // The same solution again: used up.
    let mut again = with_pow.clone();
    again["email"] = json!("zweite@example.org");
    let (s, body) = json_of(
        c.post(app.url("/api/v1/appointments"))
            .json(&again)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "pow");
    // The e-mail with the link; a wrong secret is refused.
    deliver(&app, &sink).await;
    let token = confirm_token(&sink.mails(), &code);
    let (s, _) = json_of(
        c.post(app.url(&format!("/api/v1/appointments/{code}/confirm")))
            .json(&json!({"token": "falsch"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    let (s, confirmed) = json_of(
        c.post(app.url(&format!("/api/v1/appointments/{code}/confirm")))
            .json(&json!({"token": token}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{confirmed}");
    assert_eq!(confirmed["status"], "confirmed");
    // The confirmation mail carries the calendar file.
    deliver(&app, &sink).await;
    let mails = sink.mails();
    let confirmation = mails
        .iter()
        .find(|m| m.contains("Ihr Termin ist gebucht"))
        .expect("the confirmation mail");
    assert!(confirmation.contains("termin.ics") && confirmation.contains("text/calendar"));
    // The .ics: text/calendar, and a parser reads it.
    let r = c
        .get(app.url(&format!("/api/v1/appointments/{code}.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = r.text().await.unwrap();
    assert_ical(&ics, &start, "CONFIRMED");
    // Moved.
    let (s, moved) = json_of(
        c.post(app.url(&format!("/api/v1/appointments/{code}/move")))
            .json(&json!({"start": later}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(&moved["start"].as_str().unwrap()[..16], later);
    let (_, one) = json_of(
        c.get(app.url(&format!("/api/v1/appointments/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one["status"], "confirmed");
    // Cancelled.
    let (s, cancelled) = json_of(
        c.delete(app.url(&format!("/api/v1/appointments/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(cancelled["status"], "cancelled");
    let ics = c
        .get(app.url(&format!("/api/v1/appointments/{code}.ics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("METHOD:CANCEL"));
    assert_ical(&ics, &later, "CANCELLED");
    let (s, _) = json_of(
        c.delete(app.url(&format!("/api/v1/appointments/{code}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409, "cancelled twice");
    assert_eq!(
        c.get(app.url("/api/v1/appointments/AAAA-BBBB-CCCC"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Python's `icalendar` reads the file: one event at `start` (local time,
/// Europe/Berlin) with the status.
fn assert_ical(ics: &str, start: &str, status: &str) {
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "folded at 75 octets: {line:?}");
    }
    if !real_component(
        python_has("icalendar"),
        "the Python package icalendar (the calendar file check)",
        "install it with `python3 -m pip install icalendar`; meanwhile only the lines are checked",
    ) {
        assert!(ics.contains("BEGIN:VEVENT") && ics.contains(&format!("STATUS:{status}")));
        return;
    }
    let script = format!(
        "import sys, icalendar\n\
         cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n\
         ev = [c for c in cal.walk('VEVENT')]\n\
         assert len(ev) == 1, ev\n\
         s = ev[0].decoded('DTSTART')\n\
         assert s.strftime('%Y-%m-%dT%H:%M') == '{start}', s\n\
         assert str(s.tzinfo) in ('Europe/Berlin', 'CET', 'CEST') or 'Berlin' in repr(s.tzinfo), s.tzinfo\n\
         assert str(ev[0].get('STATUS')) == '{status}', ev[0].get('STATUS')\n\
         assert ev[0].decoded('DTEND') > s\n\
         assert cal.walk('VTIMEZONE'), 'a VTIMEZONE'\n"
    );
    if let Err(e) = python_check(&["-c", &script], ics.as_bytes()) {
        panic!("icalendar refuses the file: {e}\n{ics}");
    }
}

#[tokio::test]
async fn five_hundred_concurrent_bookers_over_http_get_exactly_the_places() {
    let app = TestApp::spawn_with(|c| no_pow(c, 10_000)).await;
    small_location(&app, 3).await;
    let day = open_day();
    let start = format!("{}T08:00", day.format("%Y-%m-%d"));
    let c = client();
    let mut tasks = Vec::new();
    for n in 0..500 {
        let c = c.clone();
        let url = app.url("/api/v1/appointments");
        let body = json!({"service": "eheschliessung", "location": "standesamt", "start": start,
            "name": format!("Person {n}"), "email": format!("p{n}@example.org")});
        tasks.push(tokio::spawn(async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut created = 0;
    let mut gone = 0;
    for t in tasks {
        let (s, body) = t.await.unwrap();
        match s {
            201 => created += 1,
            409 => {
                gone += 1;
                let next = body["next_free"].as_array().expect("the next free times");
                assert_eq!(
                    next.first()
                        .and_then(|t| t["start"].as_str())
                        .map(|s| &s[11..16]),
                    Some("08:10"),
                    "{body}"
                );
                assert_eq!(body["error"]["fields"][0]["field"], "start");
            }
            other => panic!("status {other}: {body}"),
        }
    }
    assert_eq!(created, 3, "exactly as many bookings as counters");
    assert_eq!(gone, 497);
}

#[tokio::test]
async fn the_waiting_list_gets_the_freed_time_through_the_outbox() {
    let app = TestApp::spawn_with(|c| no_pow(c, 100)).await;
    small_location(&app, 1).await;
    let sink = MailSink::start("waitlist");
    let c = client();
    let day = open_day();
    let d = day.format("%Y-%m-%d").to_string();
    let mut codes = Vec::new();
    for (n, hm) in ["08:00", "08:10"].iter().enumerate() {
        let (s, b) = json_of(
            c.post(app.url("/api/v1/appointments"))
                .json(&json!({"service": "eheschliessung", "location": "standesamt",
                    "start": format!("{d}T{hm}"), "name": "Paar Eins", "email": format!("paar{n}@example.org")}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        codes.push(b["code"].as_str().unwrap().to_string());
    }
    let wait = json!({"service": "eheschliessung", "location": "standesamt", "from": d, "to": d,
        "name": "Wera Warten", "email": "wera@example.org"});
    let (s, entry) = json_of(
        c.post(app.url("/api/v1/appointments/waitlist"))
            .json(&wait)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{entry}");
    assert_eq!(entry["status"], "waiting");
    deliver(&app, &sink).await;
    assert!(sink.mails().iter().any(|m| m.contains("Warteliste")));
    // The first booking is cancelled: the outbox hands the time to Wera.
    let (s, _) = json_of(
        c.delete(app.url(&format!("/api/v1/appointments/{}", codes[0])))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    deliver(&app, &sink).await;
    let mails = sink.mails();
    let offer = mails
        .iter()
        .find(|m| m.contains("frei geworden") && m.contains("wera@example.org"))
        .unwrap_or_else(|| panic!("the offer to the person waiting: {mails:#?}"));
    let code = offer
        .split("/termine/buchung/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let token = confirm_token(&mails, &code);
    let (s, b) = json_of(
        c.post(app.url(&format!("/api/v1/appointments/{code}/confirm")))
            .json(&json!({"token": token}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(&b["start"].as_str().unwrap()[11..16], "08:00");
    // Leaving the list of a place no longer waiting is harmless.
    let (s, _) = json_of(
        c.delete(app.url(&format!(
            "/api/v1/appointments/waitlist/{}",
            entry["code"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 204);
}

#[tokio::test]
async fn bookings_are_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(|c| no_pow(c, 2)).await;
    let c = client();
    let day = open_day();
    let mut statuses = Vec::new();
    for n in 0..3 {
        let r = c
            .post(app.url("/api/v1/appointments"))
            .json(
                &json!({"service": "meldebescheinigung", "location": "buergerbuero",
                "start": format!("{}T23:50", day.format("%Y-%m-%d")),
                "name": "Rita Rate", "email": format!("rate{n}@example.org")}),
            )
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[2], 429, "{statuses:?}");
    assert_ne!(statuses[0], 429);
}
