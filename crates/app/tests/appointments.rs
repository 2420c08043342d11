//! Terminvergabe without the web layer: 500 concurrent bookers of the last
//! time (exactly as many bookings as places, everyone else told at once and
//! shown the next free time), quotas per channel, the citizen's way (hold →
//! details → confirmation link → move → cancel), the waiting list taking a
//! freed time, the proof of work, the limits per address, holds that run
//! out, and who of the staff sees a location. SQLite, or PostgreSQL with
//! `RATHAUS_TEST_POSTGRES_URL`.

mod support;

use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rathaus_app::{
    Actor, UseCaseError,
    appointments::{AppointmentConfig, BookInput, local_now},
};
use rathaus_domain::appointments::{self as dom, BookingStatus, Channel, Land};
use rathaus_storage::appointments::{
    AppointmentRepository, BookableService, Location, NewLocation,
};
use support::{World, world};

/// The first day from tomorrow on that is no public holiday in Hessen.
fn open_day() -> NaiveDate {
    let mut d = local_now().date() + Duration::days(1);
    while dom::holiday(Land::HE, d).is_some() {
        d += Duration::days(1);
    }
    d
}

fn hours(from: &str, to: &str, counters: u32) -> String {
    let weekly: Vec<_> = (1..=7)
        .map(|wd| serde_json::json!({"weekday": wd, "from": from, "to": to, "counters": counters}))
        .collect();
    serde_json::json!({ "weekly": weekly }).to_string()
}

/// A location of the Bürgerbüro (the other clerk's unit), open every day
/// from `from` to `to`, and one service of 10 minutes; proof of work off.
async fn location(
    w: &mut World,
    from: &str,
    to: &str,
    counters: i32,
    quotas: (i32, i32, i32),
) -> (Location, BookableService) {
    let mut config = AppointmentConfig {
        pow_key: None,
        per_email_per_day: 1000,
        ..Default::default()
    };
    config.hold_minutes = 10;
    w.app.appointments = Arc::new(config);
    let l = w
        .app
        .save_appointment_location(
            &w.admin,
            NewLocation {
                slug: "buergerbuero".into(),
                name: "Bürgerbüro".into(),
                address: "Marktplatz 1".into(),
                org_unit_id: Some(w.other_office),
                land: "HE".into(),
                slot_minutes: 10,
                counters,
                quotas,
                window_days: 30,
                internal_window_days: 60,
                opening_hours: hours(from, to, counters as u32),
            },
        )
        .await
        .expect("location");
    let s = w
        .app
        .save_appointment_service(
            &w.admin,
            l.id,
            "meldebescheinigung",
            "Meldebescheinigung",
            10,
        )
        .await
        .expect("service");
    (l, s)
}

fn at(day: NaiveDate, hm: &str) -> String {
    format!("{}T{hm}", day.format("%Y-%m-%d"))
}

fn input(start: &str, n: usize) -> BookInput {
    BookInput {
        service: "meldebescheinigung".into(),
        location: Some("buergerbuero".into()),
        start: start.into(),
        name: format!("Person {n}"),
        email: format!("person{n}@example.org"),
        ..Default::default()
    }
}

fn anonymous(w: &World) -> Actor {
    Actor::Anonymous { tenant: w.tenant }
}

#[tokio::test]
async fn five_hundred_bookers_of_the_last_time_overbook_nothing() {
    let mut w = world().await;
    let (l, s) = location(&mut w, "08:00", "08:20", 5, (100, 0, 0)).await;
    let day = open_day();
    let start = at(day, "08:00");
    let app = Arc::new(w.app.clone());
    let tenant = w.tenant;
    let mut tasks = Vec::new();
    for n in 0..500 {
        let app = app.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            app.book_appointment(
                &Actor::Anonymous { tenant },
                &input(&start, n),
                Channel::Online,
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut gone = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(d) => {
                assert_eq!(d.booking.status(), BookingStatus::Pending);
                ok += 1;
            }
            Err(UseCaseError::Conflict("slot_taken")) => gone += 1,
            Err(e) => panic!("a booker got neither a booking nor 'gone': {e:?}"),
        }
    }
    assert_eq!(ok, 5, "exactly as many bookings as counters");
    assert_eq!(gone, 495, "everyone else is told the time is gone");
    let slots = w
        .app
        .store
        .repo()
        .appointment_slots(tenant, l.id, day, day)
        .await
        .unwrap();
    let first = slots
        .iter()
        .find(|x| x.starts_at.format("%H:%M").to_string() == "08:00");
    assert_eq!(first.map(|x| x.booked_online), Some(5));
    let start_of_day = day.and_hms_opt(0, 0, 0).unwrap();
    let stored = w
        .app
        .store
        .repo()
        .bookings_between(tenant, l.id, start_of_day, start_of_day + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(stored.len(), 5, "no booking row without its place");
    // Whoever lost is shown the next free time.
    let after = NaiveDateTime::parse_from_str(&start, "%Y-%m-%dT%H:%M").unwrap();
    let next = w
        .app
        .next_free_times(tenant, &l, &s, Channel::Online, after, 3)
        .await
        .unwrap();
    assert_eq!(
        next.first().map(|t| t.start.format("%H:%M").to_string()),
        Some("08:10".to_string())
    );
    assert_eq!(next.first().map(|t| t.free), Some(5));
}

#[tokio::test]
async fn quotas_hold_per_channel() {
    let mut w = world().await;
    // One slot of 4 counters: 50 % online, 25 % phone, 25 % internal.
    let (l, _) = location(&mut w, "09:00", "09:10", 4, (50, 25, 25)).await;
    let day = open_day();
    let start = at(day, "09:00");
    let caps = dom::channel_capacities(
        4,
        dom::Quotas {
            online: 50,
            phone: 25,
            internal: 25,
        },
        0,
    );
    let mut n = 0;
    let mut booked = std::collections::HashMap::new();
    for channel in [Channel::Online, Channel::Phone, Channel::Internal] {
        let actor = if channel == Channel::Online {
            anonymous(&w)
        } else {
            w.other_clerk.clone()
        };
        let mut made = 0;
        loop {
            n += 1;
            match w
                .app
                .book_appointment(&actor, &input(&start, n), channel)
                .await
            {
                Ok(d) => {
                    assert_eq!(d.booking.channel(), channel);
                    made += 1;
                }
                Err(UseCaseError::Conflict("slot_taken")) => break,
                Err(e) => panic!("{channel:?}: {e:?}"),
            }
            assert!(made <= 4, "more bookings than counters on {channel:?}");
        }
        booked.insert(channel, made);
    }
    assert_eq!(booked[&Channel::Online], caps.online);
    assert_eq!(booked[&Channel::Phone], caps.phone);
    assert_eq!(booked[&Channel::Internal], caps.internal);
    assert_eq!(caps.total(), 4);
    let day_list = w
        .app
        .appointment_day(&w.other_clerk, "buergerbuero", day)
        .await
        .unwrap();
    assert_eq!(day_list.location.id, l.id);
    assert_eq!(day_list.bookings.len(), 4);
    let u = w
        .app
        .appointment_utilisation(&w.other_clerk, "buergerbuero", day, day)
        .await
        .unwrap();
    for (c, x) in u.channels {
        assert_eq!(x.booked, x.capacity, "{c:?} is full");
    }
}

#[tokio::test]
async fn a_citizen_holds_confirms_moves_and_cancels() {
    let mut w = world().await;
    let (l, s) = location(&mut w, "10:00", "11:00", 1, (100, 0, 0)).await;
    let day = open_day();
    let t = w.tenant;
    let held = w
        .app
        .hold_appointment(
            t,
            "meldebescheinigung",
            "buergerbuero",
            &at(day, "10:00"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(held.booking.status(), BookingStatus::Held);
    let code = held.booking.code.clone();
    // The held time is gone for others.
    let free = w
        .app
        .free_times(t, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    assert!(
        !free[0]
            .times
            .iter()
            .any(|x| x.start.format("%H:%M").to_string() == "10:00"),
        "a held time is not offered"
    );
    // Details: an invalid e-mail is refused by field.
    match w
        .app
        .give_appointment_details(t, &code, "Erika Mustermann", "keine-adresse")
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].field, "email"),
        other => panic!("{other:?}"),
    }
    let pending = w
        .app
        .give_appointment_details(t, &code, "Erika Mustermann", "erika@example.org")
        .await
        .unwrap();
    assert_eq!(pending.booking.status(), BookingStatus::Pending);
    // The confirmation e-mail carries the link; only its hash is stored.
    let mail = w
        .app
        .appointment_mail(t, pending.booking.id, "confirm", "https://portal.example")
        .await
        .unwrap()
        .expect("a confirmation mail");
    assert_eq!(mail.to, "erika@example.org");
    let link_prefix = format!("https://portal.example/termine/buchung/{code}/bestaetigen/");
    let secret = mail
        .body
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&link_prefix))
        .expect("the link")
        .to_string();
    let stored = w.app.appointment(t, &code).await.unwrap();
    assert_ne!(
        stored.booking.confirm_hash.as_deref(),
        Some(secret.as_str())
    );
    match w.app.confirm_appointment(t, &code, "falsch").await {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].code, "appointments.token"),
        other => panic!("{other:?}"),
    }
    let confirmed = w.app.confirm_appointment(t, &code, &secret).await.unwrap();
    assert_eq!(confirmed.booking.status(), BookingStatus::Confirmed);
    // A second click changes nothing.
    let again = w.app.confirm_appointment(t, &code, &secret).await.unwrap();
    assert_eq!(again.booking.status(), BookingStatus::Confirmed);
    let mail = w
        .app
        .appointment_mail(
            t,
            confirmed.booking.id,
            "confirmed",
            "https://portal.example",
        )
        .await
        .unwrap()
        .expect("the confirmation");
    let ics = mail.ics.expect("the calendar file is attached");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.contains("METHOD:PUBLISH"));
    assert!(ics.contains(&format!(
        "DTSTART;TZID=Europe/Berlin:{}T100000",
        day.format("%Y%m%d")
    )));
    // Moving takes the new time before giving the old one back.
    let moved = w
        .app
        .move_appointment(t, &code, &at(day, "10:30"))
        .await
        .unwrap();
    assert_eq!(moved.booking.starts_at.format("%H:%M").to_string(), "10:30");
    assert_eq!(moved.booking.sequence, 1);
    assert_eq!(moved.booking.status(), BookingStatus::Confirmed);
    let free = w
        .app
        .free_times(t, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    let times: Vec<String> = free[0]
        .times
        .iter()
        .map(|x| x.start.format("%H:%M").to_string())
        .collect();
    assert!(
        times.contains(&"10:00".to_string()),
        "the old time is free: {times:?}"
    );
    assert!(
        !times.contains(&"10:30".to_string()),
        "the new one is taken: {times:?}"
    );
    let ics = w
        .app
        .appointment_ics(t, &code, "https://portal.example")
        .await
        .unwrap();
    assert!(ics.contains("SEQUENCE:1"));
    // Cancelled: the time is free again, the calendar says CANCEL.
    let cancelled = w.app.cancel_appointment(t, &code).await.unwrap();
    assert_eq!(cancelled.booking.status(), BookingStatus::Cancelled);
    let ics = w
        .app
        .appointment_ics(t, &code, "https://portal.example")
        .await
        .unwrap();
    assert!(ics.contains("METHOD:CANCEL") && ics.contains("STATUS:CANCELLED"));
    match w.app.cancel_appointment(t, &code).await {
        Err(UseCaseError::Workflow(c)) => assert_eq!(c, "appointments.not_allowed"),
        other => panic!("a cancelled booking cannot be cancelled again: {other:?}"),
    }
    let free = w
        .app
        .free_times(t, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    assert_eq!(
        free[0].times.len(),
        6,
        "every time of the hour is free again"
    );
    // An unknown code is not found; another tenant never sees it.
    assert!(matches!(
        w.app.appointment(t, "ZZZZ-ZZZZ-ZZZZ").await,
        Err(UseCaseError::NotFound)
    ));
    let other = w.foreign_clerk.tenant();
    assert!(matches!(
        w.app.appointment(other, &code).await,
        Err(UseCaseError::NotFound)
    ));
}

#[tokio::test]
async fn the_waiting_list_gets_a_freed_time() {
    let mut w = world().await;
    let (_, s) = location(&mut w, "08:00", "08:10", 1, (100, 0, 0)).await;
    let day = open_day();
    let t = w.tenant;
    let from = day.format("%Y-%m-%d").to_string();
    // While a time is free, nobody waits.
    match w
        .app
        .join_waitlist(
            t,
            "meldebescheinigung",
            Some("buergerbuero"),
            &from,
            &from,
            "Wera Warten",
            "wera@example.org",
        )
        .await
    {
        Err(UseCaseError::Conflict("times_free")) => {}
        other => panic!("{other:?}"),
    }
    let first = w
        .app
        .book_appointment(
            &anonymous(&w),
            &input(&at(day, "08:00"), 1),
            Channel::Online,
        )
        .await
        .unwrap();
    let entry = w
        .app
        .join_waitlist(
            t,
            "meldebescheinigung",
            Some("buergerbuero"),
            &from,
            &from,
            "Wera Warten",
            "wera@example.org",
        )
        .await
        .unwrap();
    assert_eq!(entry.status, "waiting");
    // Once per address.
    assert!(matches!(
        w.app
            .join_waitlist(
                t,
                "meldebescheinigung",
                Some("buergerbuero"),
                &from,
                &from,
                "Wera",
                "wera@example.org"
            )
            .await,
        Err(UseCaseError::Validation(_))
    ));
    let second = w
        .app
        .join_waitlist(
            t,
            "meldebescheinigung",
            Some("buergerbuero"),
            &from,
            &from,
            "Zweite Person",
            "zweite@example.org",
        )
        .await
        .unwrap();
    // The time is cancelled: the first person waiting gets it, held.
    w.app
        .cancel_appointment(t, &first.booking.code)
        .await
        .unwrap();
    let offered = w.app.offer_freed_time(t, s.id, day).await.unwrap();
    assert_eq!(offered, 1, "one free time, one offer");
    let entry = w.app.waitlist_entry(t, &entry.code).await.unwrap();
    assert_eq!(entry.status, "offered");
    let booking = w
        .app
        .store
        .repo()
        .booking(t, entry.booking_id.expect("the held booking"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(booking.status(), BookingStatus::Pending);
    assert_eq!(booking.email.as_deref(), Some("wera@example.org"));
    assert_eq!(
        w.app.waitlist_entry(t, &second.code).await.unwrap().status,
        "waiting",
        "the second person still waits"
    );
    let mail = w
        .app
        .appointment_mail(t, booking.id, "offer", "https://portal.example")
        .await
        .unwrap()
        .unwrap();
    assert!(mail.body.contains("frei geworden"));
    let secret = mail
        .body
        .split_whitespace()
        .find_map(|x| x.split("/bestaetigen/").nth(1))
        .unwrap()
        .to_string();
    w.app
        .confirm_appointment(t, &booking.code, &secret)
        .await
        .unwrap();
    assert_eq!(
        w.app.waitlist_entry(t, &entry.code).await.unwrap().status,
        "booked"
    );
    // Leaving the list.
    w.app.leave_waitlist(t, &second.code).await.unwrap();
    assert_eq!(
        w.app.waitlist_entry(t, &second.code).await.unwrap().status,
        "ended"
    );
}

#[tokio::test]
async fn the_proof_of_work_is_checked_and_good_once() {
    let mut w = world().await;
    location(&mut w, "08:00", "09:00", 2, (50, 50, 0)).await;
    let mut config = (*w.app.appointments).clone();
    config.pow_key = Some([7u8; 32]);
    config.pow_maxnumber = 2_000;
    w.app.appointments = Arc::new(config);
    let day = open_day();
    let actor = anonymous(&w);
    match w
        .app
        .book_appointment(&actor, &input(&at(day, "08:00"), 1), Channel::Online)
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].code, "appointments.pow_required"),
        other => panic!("{other:?}"),
    }
    let c = w.app.booking_challenge().expect("on");
    let number = dom::solve(&c).expect("solvable");
    let solution = serde_json::json!({
        "algorithm": c.algorithm, "challenge": c.challenge, "number": number,
        "salt": c.salt, "signature": c.signature,
    })
    .to_string();
    let mut wrong = input(&at(day, "08:00"), 2);
    wrong.pow = Some(solution.replace(
        &format!("\"number\":{number}"),
        &format!("\"number\":{}", number + 1),
    ));
    match w
        .app
        .book_appointment(&actor, &wrong, Channel::Online)
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].field, "pow"),
        other => panic!("a wrong number must be refused: {other:?}"),
    }
    let mut good = input(&at(day, "08:00"), 3);
    good.pow = Some(solution.clone());
    w.app
        .book_appointment(&actor, &good, Channel::Online)
        .await
        .expect("a solved challenge books");
    let mut replay = input(&at(day, "08:10"), 4);
    replay.pow = Some(solution);
    match w
        .app
        .book_appointment(&actor, &replay, Channel::Online)
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].code, "appointments.pow_used"),
        other => panic!("a solution is good once: {other:?}"),
    }
    // Staff book by phone without one.
    w.app
        .book_appointment(&w.other_clerk, &input(&at(day, "08:20"), 5), Channel::Phone)
        .await
        .expect("no proof of work for staff");
}

#[tokio::test]
async fn limits_per_address_and_one_open_booking_per_service() {
    let mut w = world().await;
    location(&mut w, "08:00", "10:00", 3, (100, 0, 0)).await;
    let mut config = (*w.app.appointments).clone();
    config.per_email_per_day = 2;
    w.app.appointments = Arc::new(config);
    let day = open_day();
    let actor = anonymous(&w);
    let same = |hm: &str| {
        let mut i = input(&at(day, hm), 1);
        i.email = "viel@example.org".into();
        i
    };
    let first = w
        .app
        .book_appointment(&actor, &same("08:00"), Channel::Online)
        .await
        .unwrap();
    match w
        .app
        .book_appointment(&actor, &same("08:10"), Channel::Online)
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].code, "appointments.open_booking"),
        other => panic!("one open booking per service and address: {other:?}"),
    }
    // The refused attempt kept no place.
    let l = w
        .app
        .store
        .repo()
        .appointment_location_by_slug(w.tenant, "buergerbuero")
        .await
        .unwrap()
        .unwrap();
    let slots = w
        .app
        .store
        .repo()
        .appointment_slots(w.tenant, l.id, day, day)
        .await
        .unwrap();
    assert_eq!(slots.iter().map(|s| s.booked_online).sum::<i32>(), 1);
    w.app
        .cancel_appointment(w.tenant, &first.booking.code)
        .await
        .unwrap();
    w.app
        .book_appointment(&actor, &same("08:20"), Channel::Online)
        .await
        .expect("after cancelling, the address may book again");
    w.app
        .cancel_appointment(w.tenant, &first.booking.code)
        .await
        .ok();
    match w
        .app
        .book_appointment(&actor, &same("08:30"), Channel::Online)
        .await
    {
        Err(UseCaseError::RateLimited) => {}
        other => panic!("at most 2 bookings per address and day: {other:?}"),
    }
    // Bad input names its field.
    let mut bad = input("morgen früh", 9);
    bad.name = " ".into();
    match w.app.book_appointment(&actor, &bad, Channel::Online).await {
        Err(UseCaseError::Validation(v)) => {
            let fields: Vec<_> = v.0.iter().map(|e| e.field.as_str()).collect();
            assert!(
                fields.contains(&"name") && fields.contains(&"start"),
                "{fields:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Outside the window.
    let far = local_now().date() + Duration::days(400);
    match w
        .app
        .book_appointment(&actor, &input(&at(far, "08:00"), 10), Channel::Online)
        .await
    {
        Err(UseCaseError::Validation(v)) => assert_eq!(v.0[0].code, "appointments.window"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn holds_that_run_out_are_released_and_the_time_offered_again() {
    let mut w = world().await;
    let (l, s) = location(&mut w, "08:00", "08:10", 1, (100, 0, 0)).await;
    let mut config = (*w.app.appointments).clone();
    config.hold_minutes = -1;
    w.app.appointments = Arc::new(config);
    let day = open_day();
    let t = w.tenant;
    let held = w
        .app
        .hold_appointment(
            t,
            "meldebescheinigung",
            "buergerbuero",
            &at(day, "08:00"),
            None,
        )
        .await
        .unwrap();
    let free = w
        .app
        .free_times(t, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    assert!(free[0].times.is_empty());
    let released = w.app.sweep_appointments().await.unwrap();
    assert!(released >= 1);
    let b = w.app.appointment(t, &held.booking.code).await.unwrap();
    assert_eq!(b.booking.status(), BookingStatus::Released);
    let free = w
        .app
        .free_times(t, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    assert_eq!(free[0].times.len(), 1, "the released time is free again");
    // A released hold takes no details any more.
    assert!(matches!(
        w.app
            .give_appointment_details(t, &held.booking.code, "Zu Spät", "spaet@example.org")
            .await,
        Err(UseCaseError::Workflow(_))
    ));
}

#[tokio::test]
async fn staff_see_the_locations_of_their_units() {
    let mut w = world().await;
    location(&mut w, "08:00", "09:00", 2, (50, 50, 0)).await;
    let day = open_day();
    // The Bürgerbüro's clerk and the Fachadministration see the day.
    w.app
        .appointment_day(&w.other_clerk, "buergerbuero", day)
        .await
        .expect("the location's clerk");
    w.app
        .appointment_day(&w.admin, "buergerbuero", day)
        .await
        .expect("the Fachadministration");
    // A clerk of another unit does not; another tenant does not know it; nobody anonymous.
    assert!(matches!(
        w.app.appointment_day(&w.clerk, "buergerbuero", day).await,
        Err(UseCaseError::Forbidden)
    ));
    assert!(matches!(
        w.app
            .appointment_day(&w.foreign_clerk, "buergerbuero", day)
            .await,
        Err(UseCaseError::NotFound)
    ));
    assert!(matches!(
        w.app
            .appointment_day(&Actor::Anonymous { tenant: w.tenant }, "buergerbuero", day)
            .await,
        Err(UseCaseError::Unauthenticated)
    ));
    assert!(matches!(
        w.app
            .book_appointment(&w.clerk, &input(&at(day, "08:00"), 1), Channel::Phone)
            .await,
        Err(UseCaseError::Forbidden)
    ));
    // Blocked slots are not offered; bookings made stay.
    w.app
        .block_appointment_slot(&w.other_clerk, "buergerbuero", &at(day, "08:00"), true)
        .await
        .unwrap();
    let (l, s) = w
        .app
        .bookable(w.tenant, "meldebescheinigung", Some("buergerbuero"))
        .await
        .unwrap();
    let free = w
        .app
        .free_times(w.tenant, &l, &s, Channel::Online, Some(day), Some(day))
        .await
        .unwrap();
    assert!(
        !free[0]
            .times
            .iter()
            .any(|x| x.start.format("%H:%M").to_string() == "08:00")
    );
    // Check-in only on the day.
    let b = w
        .app
        .book_appointment(&w.other_clerk, &input(&at(day, "08:10"), 2), Channel::Phone)
        .await
        .unwrap();
    assert_eq!(b.booking.status(), BookingStatus::Confirmed);
    match w
        .app
        .mark_attendance(&w.other_clerk, b.booking.id, true)
        .await
    {
        Err(UseCaseError::Workflow(c)) => assert_eq!(c, "appointments.not_yet"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.app.mark_attendance(&w.clerk, b.booking.id, true).await,
        Err(UseCaseError::NotFound)
    ));
}

#[tokio::test]
async fn the_day_before_a_reminder_goes_out_once() {
    let mut w = world().await;
    location(&mut w, "08:00", "09:00", 2, (50, 50, 0)).await;
    let tomorrow = local_now().date() + Duration::days(1);
    if dom::holiday(Land::HE, tomorrow).is_some() {
        // Closed tomorrow: no appointment, no reminder to test.
        return;
    }
    let t = w.tenant;
    let b = w
        .app
        .book_appointment(
            &w.other_clerk,
            &input(&at(tomorrow, "08:00"), 1),
            Channel::Phone,
        )
        .await
        .unwrap();
    assert_eq!(b.booking.status(), BookingStatus::Confirmed);
    let mut later_day = tomorrow + Duration::days(3);
    while dom::holiday(Land::HE, later_day).is_some() {
        later_day += Duration::days(1);
    }
    let later = w
        .app
        .book_appointment(
            &w.other_clerk,
            &input(&at(later_day, "08:00"), 2),
            Channel::Phone,
        )
        .await
        .unwrap();
    w.app.sweep_appointments().await.unwrap();
    let reminded = w.app.appointment(t, &b.booking.code).await.unwrap();
    assert!(
        reminded.booking.reminder_sent_at.is_some(),
        "tomorrow's booking is reminded"
    );
    let not_yet = w.app.appointment(t, &later.booking.code).await.unwrap();
    assert!(
        not_yet.booking.reminder_sent_at.is_none(),
        "a later one is not"
    );
    let mail = w
        .app
        .appointment_mail(t, b.booking.id, "reminder", "https://portal.example")
        .await
        .unwrap()
        .expect("the reminder");
    assert!(mail.body.contains("erinnern"));
    assert!(mail.ics.is_some(), "with the calendar file");
    // A second sweep sends nothing again.
    let first = reminded.booking.reminder_sent_at;
    w.app.sweep_appointments().await.unwrap();
    let again = w.app.appointment(t, &b.booking.code).await.unwrap();
    assert_eq!(again.booking.reminder_sent_at, first);
}
