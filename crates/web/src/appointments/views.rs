//! askama views of the appointment pages, and the wording they share:
//! dates and times in the page's language, statuses and channels, and the
//! messages of refused input (naming the field).

use askama::Template;
use askama_web::WebTemplate;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rathaus_domain::{
    FieldError, ValidationErrors,
    appointments::{BookingStatus, Channel},
};

pub use crate::platform::form_input::{FieldMessage, Input};
use crate::platform::{
    i18n::{self, Lang},
    layout::Page,
};

// ----------------------------------------------------------------------
// Wording
// ----------------------------------------------------------------------

/// "Montag, 7. Dezember 2026" / "Monday, 7 December 2026".
pub fn day_long(lang: Lang, d: NaiveDate) -> String {
    i18n::tf(
        lang,
        "appointments.date_long",
        &[
            (
                "weekday",
                i18n::t(
                    lang,
                    &format!("appointments.weekday_{}", d.weekday().number_from_monday()),
                ),
            ),
            ("day", &d.day().to_string()),
            (
                "month",
                i18n::t(lang, &format!("appointments.month_{}", d.month())),
            ),
            ("year", &d.year().to_string()),
        ],
    )
}

/// "Mo., 07.12." / "Mon 07/12" — the short form of the day list.
pub fn day_short(lang: Lang, d: NaiveDate) -> String {
    i18n::tf(
        lang,
        "appointments.date_short",
        &[
            (
                "weekday",
                i18n::t(
                    lang,
                    &format!(
                        "appointments.weekday_short_{}",
                        d.weekday().number_from_monday()
                    ),
                ),
            ),
            ("day", &format!("{:02}", d.day())),
            ("month", &format!("{:02}", d.month())),
        ],
    )
}

/// "09:10 Uhr" / "09:10".
pub fn time_label(lang: Lang, t: NaiveDateTime) -> String {
    i18n::tf(
        lang,
        "appointments.time",
        &[("time", &t.format("%H:%M").to_string())],
    )
}

/// "Montag, 7. Dezember 2026, 09:10 Uhr".
pub fn when_label(lang: Lang, t: NaiveDateTime) -> String {
    format!("{}, {}", day_long(lang, t.date()), time_label(lang, t))
}

/// The form value of a start time.
pub fn start_value(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

pub fn status_label(lang: Lang, s: BookingStatus) -> &'static str {
    status_code_label(lang, s.code())
}

/// A status by its stored code (unknown codes show themselves).
pub fn status_code_label(lang: Lang, code: &str) -> &'static str {
    let key = format!("appointments.status_{code}");
    if i18n::has(lang, &key) {
        i18n::t(lang, &key)
    } else {
        Box::leak(code.to_string().into_boxed_str())
    }
}

pub fn channel_label(lang: Lang, c: Channel) -> &'static str {
    i18n::t(lang, &format!("appointments.channel_{}", c.code()))
}

pub fn minutes_label(lang: Lang, minutes: i32) -> String {
    i18n::tf(
        lang,
        "appointments.minutes",
        &[("minutes", &minutes.to_string())],
    )
}

/// The label of a form field in these pages.
pub fn field_label(lang: Lang, field: &str) -> &'static str {
    let own = format!("appointments.field.{field}");
    if i18n::has(lang, &own) {
        return i18n::t(lang, &own);
    }
    let shared = format!("field.{field}");
    if i18n::has(lang, &shared) {
        return i18n::t(lang, &shared);
    }
    Box::leak(field.to_string().into_boxed_str())
}

/// The message of a refused field, naming it.
pub fn field_message(lang: Lang, field: &str, code: &str) -> String {
    let key = format!("validation.{code}");
    let key = if i18n::has(lang, &key) {
        key
    } else {
        "validation.check".to_string()
    };
    i18n::tf(lang, &key, &[("field", field_label(lang, field))])
}

/// Every refused field with its message.
pub fn field_messages(lang: Lang, errs: &ValidationErrors) -> Vec<FieldMessage> {
    errs.0
        .iter()
        .map(|e| FieldMessage {
            field: e.field.clone(),
            message: field_message(lang, &e.field, e.code),
        })
        .collect()
}

/// Checks the lengths of a form's texts (the pages' `maxlength`s):
/// `too_long` for each text longer than its limit.
pub fn lengths(fields: &[(&str, &str, usize)]) -> Result<(), ValidationErrors> {
    let errs: Vec<FieldError> = fields
        .iter()
        .filter(|(_, v, max)| v.chars().count() > *max)
        .map(|(f, _, _)| FieldError::new(*f, "too_long"))
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errs))
    }
}

/// Messages whose field is not shown in the form go to the page's summary
/// only; this gives the anchor to link to (the form's first field).
pub fn anchored(
    errors: &[FieldMessage],
    shown: &[(&str, &str)],
    fallback: &str,
) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            let anchor = shown
                .iter()
                .find(|(f, _)| *f == e.field)
                .map(|(_, id)| (*id).to_string())
                .unwrap_or_else(|| fallback.to_string());
            (anchor, e.message.clone())
        })
        .collect()
}

// ----------------------------------------------------------------------
// Public pages
// ----------------------------------------------------------------------

pub struct OfferService {
    pub href: String,
    pub name: String,
    pub duration: String,
}

pub struct OfferLocation {
    pub name: String,
    pub address: String,
    pub services: Vec<OfferService>,
}

/// `/termine`: the locations with what can be booked there.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/offer.html")]
pub struct OfferPage {
    pub page: Page,
    pub locations: Vec<OfferLocation>,
}

/// One day of the booking window in the list of days.
pub struct DayLink {
    pub href: String,
    pub label: String,
    /// "12 freie Zeiten", "geschlossen (Neujahr)", "keine freie Zeit".
    pub note: String,
    /// Some time is free that day (the day is a link).
    pub bookable: bool,
    /// The day shown below.
    pub current: bool,
}

pub struct TimeOption {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The times to choose from: a day's, or the next free ones after a lost
/// race.
pub struct TimeChoice {
    pub legend: String,
    pub times: Vec<TimeOption>,
}

/// The waiting-list form (shown when nothing is free in the window).
pub struct WaitForm {
    pub action: String,
    pub name: Input,
    pub email: Input,
    pub from: Input,
    pub to: Input,
    pub min: String,
    pub max: String,
}

/// The days of the booking window and the times of one day, as a form that
/// holds a time (or moves a booking to it).
#[derive(Template, WebTemplate)]
#[template(path = "appointments/times.html")]
pub struct TimesPage {
    pub page: Page,
    pub service: String,
    pub duration: String,
    pub location: String,
    pub address: String,
    /// Moving a booking: its present time.
    pub current: Option<String>,
    pub days: Vec<DayLink>,
    pub choice: Option<TimeChoice>,
    /// The chosen day (`YYYY-MM-DD`; sent back with the form, so that a
    /// refusal shows the same day again).
    pub day: String,
    /// The chosen day has no free time (said instead of the form).
    pub day_empty: Option<String>,
    pub action: String,
    pub submit: String,
    /// The proof-of-work challenge (JSON) for `pow.js`.
    pub pow: Option<String>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
    pub waitlist: Option<WaitForm>,
    pub back_href: String,
    pub back_label: String,
}

/// What every booking page says about the booking.
pub struct BookingView {
    pub code: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub service: String,
    pub duration: String,
    pub location: String,
    pub address: String,
    pub when: String,
}

/// `/termine/buchung/{code}`.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/booking.html")]
pub struct BookingPage {
    pub page: Page,
    pub b: BookingView,
    pub message: Option<String>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
    /// Held: "reserved until …"; pending: "confirm by …".
    pub until: String,
    /// Pending: the address the e-mail went to.
    pub email_sent_to: String,
    pub name: Input,
    pub email: Input,
    pub base: String,
    pub again_href: String,
}

/// `/termine/buchung/{code}/bestaetigen/{token}`: one button (mail scanners
/// follow links; only the POST confirms).
#[derive(Template, WebTemplate)]
#[template(path = "appointments/confirm.html")]
pub struct ConfirmPage {
    pub page: Page,
    pub b: BookingView,
    pub action: String,
    pub booking_href: String,
    pub error: Option<String>,
    /// Always empty (the page has no fields).
    pub errors: Vec<(String, String)>,
}

/// `/termine/warteliste/{code}`.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/waitlist.html")]
pub struct WaitlistPage {
    pub page: Page,
    pub code: String,
    pub service: String,
    pub location: String,
    pub range: String,
    pub status: &'static str,
    pub waiting: bool,
    pub message: Option<String>,
    pub action: String,
    pub again_href: String,
}

// ----------------------------------------------------------------------
// Staff pages
// ----------------------------------------------------------------------

pub struct StaffLocation {
    pub href: String,
    pub name: String,
    pub address: String,
}

/// `/staff/termine`.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/staff_locations.html")]
pub struct StaffLocationsPage {
    pub page: Page,
    pub locations: Vec<StaffLocation>,
}

/// A booking in the day list.
pub struct DayRow {
    pub id: String,
    pub time: String,
    pub service: String,
    pub name: String,
    pub contact: String,
    pub channel: &'static str,
    pub status_code: &'static str,
    pub status: &'static str,
    pub code: String,
    /// Confirmed: check-in and no-show are possible.
    pub attendable: bool,
    /// Held, pending or confirmed: it can be cancelled.
    pub cancellable: bool,
}

/// A slot of the day with capacity and bookings per channel.
pub struct SlotRow {
    pub start: String,
    pub time: String,
    pub online: String,
    pub phone: String,
    pub internal: String,
    pub blocked: bool,
}

/// The phone / counter booking form.
pub struct StaffBookForm {
    pub service: Input,
    pub start: Input,
    pub channel: String,
    pub name: Input,
    pub email: Input,
    pub phone: Input,
}

/// `/staff/termine/{location}?tag=`.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/staff_day.html")]
pub struct StaffDayPage {
    pub page: Page,
    pub location: String,
    pub address: String,
    pub slug: String,
    pub day: String,
    pub day_label: String,
    pub prev_href: String,
    pub next_href: String,
    pub print_href: String,
    pub screen_href: String,
    pub stats_href: String,
    pub print: bool,
    pub rows: Vec<DayRow>,
    pub slots: Vec<SlotRow>,
    pub services: Vec<(String, String)>,
    pub times: Vec<(String, String)>,
    pub form: StaffBookForm,
    pub message: Option<String>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
}

pub struct ChannelRow {
    pub channel: &'static str,
    pub capacity: String,
    pub booked: String,
    pub percent: String,
}

/// `/staff/termine/{location}/statistik`.
#[derive(Template, WebTemplate)]
#[template(path = "appointments/staff_stats.html")]
pub struct StaffStatsPage {
    pub page: Page,
    pub location: String,
    pub slug: String,
    pub from: String,
    pub to: String,
    pub range: String,
    pub channels: Vec<ChannelRow>,
    pub statuses: Vec<(&'static str, String)>,
    pub back_href: String,
}

/// Percent of `part` in `whole`, one decimal ("–" when there is nothing).
pub fn percent(lang: Lang, part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".into();
    }
    let p = (part as f64) * 100.0 / (whole as f64);
    let s = format!("{p:.1}");
    let s = if lang == Lang::De {
        s.replace('.', ",")
    } else {
        s
    };
    format!("{s} %")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_in_both_languages() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(day_long(Lang::De, d), "Montag, 7. Dezember 2026");
        assert_eq!(day_long(Lang::En, d), "Monday, 7 December 2026");
        let t = d.and_hms_opt(9, 10, 0).unwrap();
        assert_eq!(time_label(Lang::De, t), "09:10 Uhr");
        assert_eq!(start_value(t), "2026-12-07T09:10");
        assert_eq!(percent(Lang::De, 1, 3), "33,3 %");
        assert_eq!(percent(Lang::En, 0, 0), "–");
    }

    #[test]
    fn refused_fields_are_named() {
        let m = field_message(Lang::De, "start", "appointments.choose_time");
        assert!(m.contains("Uhrzeit"), "{m}");
        let m = field_message(Lang::En, "email", "email.invalid");
        assert!(m.contains("mail"), "{m}");
    }
}
