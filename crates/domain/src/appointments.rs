//! Terminvergabe (capability C8): appointment booking at the counters of a
//! municipal office. Opening hours (weekly, alternating weeks, exception
//! days, public holidays of the Land), the slots of a day and how many of
//! each slot's counters belong to which booking channel (online, phone,
//! internal, like the ZMS `workstationCount`), the booking window, booking
//! codes, the booking state machine, the waiting list's date range, an
//! ALTCHA-compatible proof of work against bulk booking by bots, and the
//! iCalendar file sent with the confirmation. No I/O: the caller passes
//! `now`, `today` and random bytes in.
//!
//! All times of day are the local wall-clock time of the municipality
//! (Europe/Berlin) as `chrono::Naive*`; [`berlin_to_utc`] and
//! [`utc_to_berlin`] convert where an instant is needed.
//!
//! ```text
//!  OpeningHours ─intervals_on(date)─▶ [(Interval, counters)] ─slots_on─▶ [SlotSpec]
//!   weekly (weekday, Weeks)          exception day wins,                 start +
//!   exceptions (date, hours)         else a holiday is closed,           caps per Channel
//!                                    else the weekly entries             (Quotas)
//!
//!            GiveDetails               Confirm (mail link)
//!   Held ──────────────────▶ Pending ───────────────────▶ Confirmed ──CheckIn──▶ CheckedIn
//!    │                         │  ↺ Move                    │  ↺ Move, Confirm again
//!    │ Release                 │ Release                    └──NoShow─────────▶ NoShow
//!    ▼ (hold ran out)          ▼ (not confirmed in time)
//!   Released ◀─────────────────┘
//!
//!   Held, Pending, Confirmed ──Cancel──▶ Cancelled
//! ```
//!
//! [`BookingStatus::occupies`] tells which bookings take a place in a slot
//! (a no-show keeps its place: the slot has passed); CheckedIn, NoShow,
//! Released and Cancelled are final.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::{FieldError, ValidationErrors, identity::Email};

// ---------------------------------------------------------------------------
// Channels and quotas
// ---------------------------------------------------------------------------

/// Who books: the citizen on the web, the call centre for a caller, or
/// staff (counter, back office).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// The citizen books online.
    Online,
    /// The call centre (Bürgertelefon, 115) books for a caller.
    Phone,
    /// Staff book at the counter or in the back office.
    Internal,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Self::Online, Self::Phone, Self::Internal];

    pub fn code(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Phone => "phone",
            Self::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// Which share (percent) of the counters each channel may book. Built by
/// [`Quotas::parse`]: each 0 ..= 100, the sum 100. The default gives
/// everything to [`Channel::Online`].
///
/// Quotas built by hand whose sum is not 100 are scaled to 100 (all zero
/// counts as everything internal) wherever they are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quotas {
    pub online: u8,
    pub phone: u8,
    pub internal: u8,
}

impl Default for Quotas {
    fn default() -> Self {
        Self::ALL_ONLINE
    }
}

impl Quotas {
    /// Everything online.
    pub const ALL_ONLINE: Quotas = Quotas {
        online: 100,
        phone: 0,
        internal: 0,
    };

    /// Reads the three percentages (fields `quota_online`, `quota_phone`,
    /// `quota_internal`): each outside 0 ..= 100 is
    /// `appointments.quota_range` for its field; when all are in range but
    /// do not sum to 100, `appointments.quota_sum` is reported once, for
    /// `quota_online`.
    pub fn parse(online: i64, phone: i64, internal: i64) -> Result<Quotas, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let mut percent = |field: &str, v: i64| match u8::try_from(v) {
            Ok(p) if p <= 100 => Some(p),
            _ => {
                errs.push(FieldError::new(field, "appointments.quota_range"));
                None
            }
        };
        let o = percent("quota_online", online);
        let p = percent("quota_phone", phone);
        let i = percent("quota_internal", internal);
        match (o, p, i) {
            (Some(online), Some(phone), Some(internal)) => {
                if u32::from(online) + u32::from(phone) + u32::from(internal) == 100 {
                    Ok(Quotas {
                        online,
                        phone,
                        internal,
                    })
                } else {
                    Err(FieldError::new("quota_online", "appointments.quota_sum").into())
                }
            }
            _ => Err(errs),
        }
    }

    /// The percentage of `c`.
    pub fn get(self, c: Channel) -> u8 {
        match c {
            Channel::Online => self.online,
            Channel::Phone => self.phone,
            Channel::Internal => self.internal,
        }
    }

    /// The shares in the order of [`Channel::ALL`], scaled to sum to 100
    /// (largest remainder) if they do not already.
    fn percent(self) -> [u64; 3] {
        let q = [self.online, self.phone, self.internal].map(u64::from);
        let sum: u64 = q.iter().sum();
        if sum == 100 {
            return q;
        }
        if sum == 0 {
            return [0, 0, 100];
        }
        let mut out = q.map(|x| x * 100 / sum);
        let mut left = 100 - out.iter().sum::<u64>();
        let mut order = [0usize, 1, 2];
        order.sort_by_key(|&i| std::cmp::Reverse(q[i] * 100 % sum));
        for i in order {
            if left == 0 {
                break;
            }
            out[i] += 1;
            left -= 1;
        }
        out
    }
}

/// How many places of one slot each channel may book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelCaps {
    pub online: u32,
    pub phone: u32,
    pub internal: u32,
}

impl ChannelCaps {
    pub fn get(&self, c: Channel) -> u32 {
        match c {
            Channel::Online => self.online,
            Channel::Phone => self.phone,
            Channel::Internal => self.internal,
        }
    }

    pub fn total(&self) -> u32 {
        self.online + self.phone + self.internal
    }
}

/// The places the channels hold together after `seats` places of a day
/// were handed out, in the order of [`Channel::ALL`].
///
/// Places are handed out one at a time, each to the channel furthest below
/// its exact share (`percent * seats / 100`; ties to the earlier channel).
/// Plain largest-remainder apportionment of every total is not monotone (the
/// Alabama paradox: with 1/3/96 % it gives online 1 place of 50 but 0 of 51),
/// which would make a slot's capacity negative; this sequential form never
/// takes a place back and still keeps every channel within one place of its
/// exact share (checked for every quota in `cumulative_is_within_quota`).
/// After 100 places each channel holds exactly its percentage, so the
/// handing out repeats every 100 places.
fn cumulative(percent: [u64; 3], seats: u64) -> [u64; 3] {
    let rounds = seats / 100;
    let mut held = [0u64; 3];
    for t in 1..=seats % 100 {
        // deficit of channel i after t places, in hundredths of a place
        let deficit = |i: usize| (percent[i] * t) as i128 - 100 * held[i] as i128;
        let best = (0..3)
            .max_by_key(|&i| (deficit(i), std::cmp::Reverse(i)))
            .expect("three channels");
        held[best] += 1;
    }
    [0, 1, 2].map(|i| held[i] + rounds * percent[i])
}

/// Capacity of the slot with index `index` (0-based, counted over one day's
/// opening intervals) for `counters` counters: per slot
/// online + phone + internal == `counters`, and after `n` slots each channel
/// has had its share of `n * counters` places as closely as whole places
/// allow (always within one place; see [`cumulative`] for why this is not
/// plain largest remainder per total). With 3 counters and 60/25/15 the first
/// slot gets online 2, phone 1, internal 0.
pub fn channel_capacities(counters: u32, quotas: Quotas, index: u32) -> ChannelCaps {
    let percent = quotas.percent();
    let c = u64::from(counters);
    let before = cumulative(percent, u64::from(index) * c);
    let after = cumulative(percent, (u64::from(index) + 1) * c);
    let cap = |i: usize| u32::try_from(after[i] - before[i]).expect("at most `counters`");
    ChannelCaps {
        online: cap(0),
        phone: cap(1),
        internal: cap(2),
    }
}

// ---------------------------------------------------------------------------
// Public holidays
// ---------------------------------------------------------------------------

/// The sixteen Länder (their public holidays differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Land {
    BW,
    BY,
    BE,
    BB,
    HB,
    HH,
    HE,
    MV,
    NI,
    NW,
    RP,
    SL,
    SN,
    ST,
    SH,
    TH,
}

impl Land {
    pub const ALL: [Land; 16] = [
        Self::BW,
        Self::BY,
        Self::BE,
        Self::BB,
        Self::HB,
        Self::HH,
        Self::HE,
        Self::MV,
        Self::NI,
        Self::NW,
        Self::RP,
        Self::SL,
        Self::SN,
        Self::ST,
        Self::SH,
        Self::TH,
    ];

    /// The two-letter abbreviation (`BW`, `BY`, …, as in ISO 3166-2:DE).
    pub fn code(self) -> &'static str {
        match self {
            Self::BW => "BW",
            Self::BY => "BY",
            Self::BE => "BE",
            Self::BB => "BB",
            Self::HB => "HB",
            Self::HH => "HH",
            Self::HE => "HE",
            Self::MV => "MV",
            Self::NI => "NI",
            Self::NW => "NW",
            Self::RP => "RP",
            Self::SL => "SL",
            Self::SN => "SN",
            Self::ST => "ST",
            Self::SH => "SH",
            Self::TH => "TH",
        }
    }

    /// Reads the abbreviation, ignoring case and surrounding spaces; also
    /// `DE-BW`.
    pub fn parse(s: &str) -> Option<Land> {
        let s = s.trim();
        let s = s
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("DE-"))
            .map_or(s, |_| &s[3..]);
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s))
    }

    /// The German name of the Land.
    pub fn name(self) -> &'static str {
        match self {
            Self::BW => "Baden-Württemberg",
            Self::BY => "Bayern",
            Self::BE => "Berlin",
            Self::BB => "Brandenburg",
            Self::HB => "Bremen",
            Self::HH => "Hamburg",
            Self::HE => "Hessen",
            Self::MV => "Mecklenburg-Vorpommern",
            Self::NI => "Niedersachsen",
            Self::NW => "Nordrhein-Westfalen",
            Self::RP => "Rheinland-Pfalz",
            Self::SL => "Saarland",
            Self::SN => "Sachsen",
            Self::ST => "Sachsen-Anhalt",
            Self::SH => "Schleswig-Holstein",
            Self::TH => "Thüringen",
        }
    }
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous
/// Gregorian computus of Meeus/Jones/Butcher).
///
/// # Panics
/// For a year outside chrono's range (about ±262,000).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    let month = u32::try_from(n / 31).expect("3 or 4");
    let day = u32::try_from(n % 31 + 1).expect("1 ..= 31");
    NaiveDate::from_ymd_opt(year, month, day).expect("a year within chrono's range")
}

/// The Wednesday before 23 November (Buß- und Bettag).
fn buss_und_bettag(year: i32) -> NaiveDate {
    let nov22 = NaiveDate::from_ymd_opt(year, 11, 22).expect("a valid year");
    let back = (nov22.weekday().num_days_from_monday() + 7 - 2) % 7;
    nov22 - Days::new(u64::from(back))
}

/// The public holidays (gesetzliche Feiertage) of `land` in `year`, sorted
/// by date, with their German names: the nine nationwide ones and those of
/// the Land that hold in the whole Land (Heilige Drei Könige BW BY ST,
/// Internationaler Frauentag BE since 2019 and MV since 2023, Ostersonntag
/// and Pfingstsonntag BB, Fronleichnam BW BY HE NW RP SL, Mariä Himmelfahrt
/// SL, Weltkindertag TH since 2019, Reformationstag BB MV SN ST TH and
/// HB HH NI SH since 2018 (in 2017 everywhere), Allerheiligen BW BY NW RP SL,
/// Buß- und Bettag SN, and Berlin's one-off Tag der Befreiung on 8 May 2020
/// and 2025). Holidays of only part of a Land (Mariä Himmelfahrt in Bavaria,
/// Fronleichnam in parts of Saxony and Thuringia, Augsburg's Friedensfest)
/// are left out: an office there adds them as exception days. Today's rules
/// are applied to every year from 1995 on; earlier years are not modelled
/// historically. Empty for a year outside chrono's range.
pub fn public_holidays(land: Land, year: i32) -> Vec<(NaiveDate, &'static str)> {
    use Land::*;
    if NaiveDate::from_ymd_opt(year, 12, 31).is_none()
        || NaiveDate::from_ymd_opt(year, 1, 1).is_none()
    {
        return Vec::new();
    }
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(year, m, day).expect("a valid date");
    let easter = easter_sunday(year);
    let e = |offset: i64| easter + Duration::days(offset);
    let mut v = vec![
        (d(1, 1), "Neujahr"),
        (e(-2), "Karfreitag"),
        (e(1), "Ostermontag"),
        (d(5, 1), "Tag der Arbeit"),
        (e(39), "Christi Himmelfahrt"),
        (e(50), "Pfingstmontag"),
        (d(10, 3), "Tag der Deutschen Einheit"),
        (d(12, 25), "1. Weihnachtstag"),
        (d(12, 26), "2. Weihnachtstag"),
    ];
    if matches!(land, BW | BY | ST) {
        v.push((d(1, 6), "Heilige Drei Könige"));
    }
    if (land == BE && year >= 2019) || (land == MV && year >= 2023) {
        v.push((d(3, 8), "Internationaler Frauentag"));
    }
    if land == BB {
        v.push((easter, "Ostersonntag"));
        v.push((e(49), "Pfingstsonntag"));
    }
    if land == BE && (year == 2020 || year == 2025) {
        v.push((d(5, 8), "Tag der Befreiung"));
    }
    if matches!(land, BW | BY | HE | NW | RP | SL) {
        v.push((e(60), "Fronleichnam"));
    }
    if land == SL {
        v.push((d(8, 15), "Mariä Himmelfahrt"));
    }
    if land == TH && year >= 2019 {
        v.push((d(9, 20), "Weltkindertag"));
    }
    let reformation = year == 2017
        || match land {
            BB | MV | SN | ST | TH => true,
            HB | HH | NI | SH => year >= 2018,
            _ => false,
        };
    if reformation {
        v.push((d(10, 31), "Reformationstag"));
    }
    if matches!(land, BW | BY | NW | RP | SL) {
        v.push((d(11, 1), "Allerheiligen"));
    }
    if land == SN {
        v.push((buss_und_bettag(year), "Buß- und Bettag"));
    }
    v.sort_by_key(|(date, _)| *date);
    v
}

/// The name of the public holiday of `land` on `date`, if it is one (the
/// first, should two fall on one day).
pub fn holiday(land: Land, date: NaiveDate) -> Option<&'static str> {
    public_holidays(land, date.year())
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name)
}

// ---------------------------------------------------------------------------
// Opening hours
// ---------------------------------------------------------------------------

/// Most weekly entries of one office.
pub const MAX_WEEKLY: usize = 64;
/// Most exception days of one office.
pub const MAX_EXCEPTIONS: usize = 366;
/// Most opening intervals of one exception day.
pub const MAX_EXCEPTION_INTERVALS: usize = 24;
/// Most counters of one opening interval.
pub const MAX_COUNTERS: u32 = 50;
/// Longest note of an exception day.
pub const MAX_NOTE_CHARS: usize = 200;

/// Reads a time of day as `08:00` or `08:00:00` (chrono alone wants the
/// seconds).
fn de_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
    let s = String::deserialize(deserializer)?;
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| s.parse::<NaiveTime>())
        .map_err(|_| serde::de::Error::custom("time of day expected (HH:MM)"))
}

/// In which calendar weeks a weekly entry holds: every week, or only in
/// weeks with an even or odd ISO week number (offices open alternately on
/// Saturdays, say). A year with 53 ISO weeks has two odd weeks in a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Weeks {
    #[default]
    Every,
    Even,
    Odd,
}

impl Weeks {
    pub const ALL: [Weeks; 3] = [Self::Every, Self::Even, Self::Odd];

    pub fn code(self) -> &'static str {
        match self {
            Self::Every => "every",
            Self::Even => "even",
            Self::Odd => "odd",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.code() == s)
    }

    /// Whether the entry holds in the ISO week of `date`.
    pub fn matches(self, date: NaiveDate) -> bool {
        let even = date.iso_week().week().is_multiple_of(2);
        match self {
            Self::Every => true,
            Self::Even => even,
            Self::Odd => !even,
        }
    }

    /// Whether some week is matched by both.
    fn meets(self, other: Weeks) -> bool {
        self == Self::Every || other == Self::Every || self == other
    }
}

/// Regular opening hours of one weekday: from `from` to `to` (local time).
/// `counters` is the number of counters serving in that time (the office's
/// default when absent). In JSON times are `"08:00"` or `"08:00:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeeklyHours {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    #[serde(deserialize_with = "de_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:00"))]
    pub from: NaiveTime,
    #[serde(deserialize_with = "de_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12:00"))]
    pub to: NaiveTime,
    #[serde(default)]
    pub weeks: Weeks,
    #[serde(default)]
    pub counters: Option<u32>,
}

/// One opening interval of an exception day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    #[serde(deserialize_with = "de_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:00"))]
    pub from: NaiveTime,
    #[serde(deserialize_with = "de_time")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12:00"))]
    pub to: NaiveTime,
}

/// A day with other hours than usual: `hours` replace the weekly entries
/// (empty: closed that day; also on a public holiday: opened that day).
/// Its intervals have the office's default number of counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionDay {
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, format = Date, example = "2026-12-24")
    )]
    pub date: NaiveDate,
    #[serde(default)]
    pub hours: Vec<Interval>,
    /// Shown to citizens, e.g. "Betriebsausflug".
    #[serde(default)]
    pub note: String,
}

/// When an office is open for appointments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpeningHours {
    pub weekly: Vec<WeeklyHours>,
    #[serde(default)]
    pub exceptions: Vec<ExceptionDay>,
}

/// Whether `t` lies on the grid of `slot_minutes` (counted from midnight).
fn on_grid(t: NaiveTime, slot_minutes: u32) -> bool {
    t.nanosecond() == 0
        && t.num_seconds_from_midnight()
            .is_multiple_of(slot_minutes * 60)
}

/// Checks one interval: `from < to` (`appointments.interval` for `to`) and
/// both on the grid (`appointments.grid`).
fn check_interval(
    errs: &mut ValidationErrors,
    prefix: &str,
    from: NaiveTime,
    to: NaiveTime,
    grid: Option<u32>,
) {
    if from >= to {
        errs.push(FieldError::new(
            format!("{prefix}.to"),
            "appointments.interval",
        ));
    }
    if let Some(g) = grid {
        for (name, t) in [("from", from), ("to", to)] {
            if !on_grid(t, g) {
                errs.push(FieldError::new(
                    format!("{prefix}.{name}"),
                    "appointments.grid",
                ));
            }
        }
    }
}

fn overlaps(a: (NaiveTime, NaiveTime), b: (NaiveTime, NaiveTime)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl OpeningHours {
    /// Checks the opening hours for a slot length of `slot_minutes`; every
    /// problem is reported:
    ///
    /// - `slot_minutes` not one of [`SLOT_MINUTES`]: `slot_minutes`,
    ///   `appointments.slot_minutes` (the grid is then not checked);
    /// - more than [`MAX_WEEKLY`] weekly entries or [`MAX_EXCEPTIONS`]
    ///   exception days (`weekly`, `exceptions`), more than
    ///   [`MAX_EXCEPTION_INTERVALS`] intervals on one exception day
    ///   (`exceptions[i].hours`): `appointments.too_many` (too many entries
    ///   are not looked into further);
    /// - a weekday outside 1 ..= 7: `weekly[i].weekday`, `appointments.weekday`;
    /// - `from` not before `to`: `weekly[i].to` / `exceptions[i].hours[j].to`,
    ///   `appointments.interval` (a time of day cannot be 24:00: the last
    ///   interval of a day ends at 23:59 at the latest … on the grid, 23:00
    ///   for hourly slots);
    /// - a time off the grid (minutes since midnight not a multiple of
    ///   `slot_minutes`, or seconds): `….from` / `….to`, `appointments.grid`;
    /// - an interval overlapping an earlier one of the same weekday in a week
    ///   both hold (every/even/odd), or of the same exception day: its
    ///   `….from`, `appointments.overlap` (intervals may touch);
    /// - counters outside 1 ..= [`MAX_COUNTERS`]: `weekly[i].counters`,
    ///   `appointments.counters`;
    /// - a second exception for a date: `exceptions[i].date`,
    ///   `appointments.duplicate_date`;
    /// - a note longer than [`MAX_NOTE_CHARS`] (`too_long`) or with control
    ///   characters (`control_chars`): `exceptions[i].note`.
    pub fn check(&self, slot_minutes: u32) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let grid = SLOT_MINUTES.contains(&slot_minutes).then_some(slot_minutes);
        if grid.is_none() {
            errs.push(FieldError::new("slot_minutes", "appointments.slot_minutes"));
        }
        if self.weekly.len() > MAX_WEEKLY {
            errs.push(FieldError::new("weekly", "appointments.too_many"));
        }
        if self.exceptions.len() > MAX_EXCEPTIONS {
            errs.push(FieldError::new("exceptions", "appointments.too_many"));
        }
        if self.weekly.len() > MAX_WEEKLY || self.exceptions.len() > MAX_EXCEPTIONS {
            return Err(errs);
        }

        for (i, w) in self.weekly.iter().enumerate() {
            let prefix = format!("weekly[{i}]");
            if !(1..=7).contains(&w.weekday) {
                errs.push(FieldError::new(
                    format!("{prefix}.weekday"),
                    "appointments.weekday",
                ));
            }
            if let Some(c) = w.counters
                && !(1..=MAX_COUNTERS).contains(&c)
            {
                errs.push(FieldError::new(
                    format!("{prefix}.counters"),
                    "appointments.counters",
                ));
            }
            check_interval(&mut errs, &prefix, w.from, w.to, grid);
            let clash = self.weekly[..i].iter().any(|v| {
                v.weekday == w.weekday
                    && v.weeks.meets(w.weeks)
                    && overlaps((v.from, v.to), (w.from, w.to))
            });
            if clash {
                errs.push(FieldError::new(
                    format!("{prefix}.from"),
                    "appointments.overlap",
                ));
            }
        }

        let mut dates = BTreeSet::new();
        for (i, e) in self.exceptions.iter().enumerate() {
            let prefix = format!("exceptions[{i}]");
            if !dates.insert(e.date) {
                errs.push(FieldError::new(
                    format!("{prefix}.date"),
                    "appointments.duplicate_date",
                ));
            }
            if e.note.chars().count() > MAX_NOTE_CHARS {
                errs.push(FieldError::new(format!("{prefix}.note"), "too_long"));
            } else if e.note.chars().any(char::is_control) {
                errs.push(FieldError::new(format!("{prefix}.note"), "control_chars"));
            }
            if e.hours.len() > MAX_EXCEPTION_INTERVALS {
                errs.push(FieldError::new(
                    format!("{prefix}.hours"),
                    "appointments.too_many",
                ));
                continue;
            }
            for (j, h) in e.hours.iter().enumerate() {
                let hp = format!("{prefix}.hours[{j}]");
                check_interval(&mut errs, &hp, h.from, h.to, grid);
                if e.hours[..j]
                    .iter()
                    .any(|g| overlaps((g.from, g.to), (h.from, h.to)))
                {
                    errs.push(FieldError::new(
                        format!("{hp}.from"),
                        "appointments.overlap",
                    ));
                }
            }
        }
        errs.into_result()
    }

    /// The opening intervals of `date` with their counters
    /// (`default_counters` where an entry has none), sorted by start: an
    /// exception day wins; otherwise a public holiday of `land` is closed;
    /// otherwise the weekly entries of that weekday whose [`Weeks`] matches
    /// the ISO week's parity.
    pub fn intervals_on(
        &self,
        date: NaiveDate,
        land: Land,
        default_counters: u32,
    ) -> Vec<(Interval, u32)> {
        let mut out: Vec<(Interval, u32)> =
            if let Some(e) = self.exceptions.iter().find(|e| e.date == date) {
                e.hours.iter().map(|h| (*h, default_counters)).collect()
            } else if holiday(land, date).is_some() {
                Vec::new()
            } else {
                let weekday = date.weekday().number_from_monday();
                self.weekly
                    .iter()
                    .filter(|w| u32::from(w.weekday) == weekday && w.weeks.matches(date))
                    .map(|w| {
                        (
                            Interval {
                                from: w.from,
                                to: w.to,
                            },
                            w.counters.unwrap_or(default_counters),
                        )
                    })
                    .collect()
            };
        out.sort_by_key(|(iv, _)| (iv.from, iv.to));
        out
    }
}

/// Reads the office's default number of counters (field `counters`, code
/// `appointments.counters`): 1 ..= [`MAX_COUNTERS`].
pub fn check_counters(n: i64) -> Result<u32, FieldError> {
    u32::try_from(n)
        .ok()
        .filter(|c| (1..=MAX_COUNTERS).contains(c))
        .ok_or_else(|| FieldError::new("counters", "appointments.counters"))
}

// ---------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------

/// The slot lengths an office may choose (divisors of an hour).
pub const SLOT_MINUTES: [u32; 6] = [5, 10, 15, 20, 30, 60];
/// Longest service (eight hours).
pub const MAX_DURATION_MINUTES: i64 = 480;

/// One slot of a day: when it starts and how many places each channel may
/// book in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSpec {
    pub start: NaiveDateTime,
    pub caps: ChannelCaps,
}

/// Every slot of `date`: consecutive, `slot_minutes` long, from the start of
/// each opening interval as long as the slot ends within it. The caps come
/// from [`channel_capacities`] with the slot's index counted over the whole
/// day and the counters of the interval it lies in. A slot length not in
/// [`SLOT_MINUTES`] gives no slots; where unchecked intervals overlap, a slot
/// overlapping an earlier one is left out.
pub fn slots_on(
    hours: &OpeningHours,
    land: Land,
    date: NaiveDate,
    slot_minutes: u32,
    default_counters: u32,
    quotas: Quotas,
) -> Vec<SlotSpec> {
    if !SLOT_MINUTES.contains(&slot_minutes) {
        return Vec::new();
    }
    let step = Duration::minutes(i64::from(slot_minutes));
    let mut out = Vec::new();
    let mut index = 0u32;
    let mut taken_until: Option<NaiveDateTime> = None;
    for (iv, counters) in hours.intervals_on(date, land, default_counters) {
        let end = date.and_time(iv.to);
        let mut start = date.and_time(iv.from);
        while start + step <= end {
            if taken_until.is_none_or(|t| start >= t) {
                out.push(SlotSpec {
                    start,
                    caps: channel_capacities(counters, quotas, index),
                });
                index += 1;
                taken_until = Some(start + step);
            }
            start += step;
        }
    }
    out
}

/// Reads the slot length (field `slot_minutes`, code
/// `appointments.slot_minutes`): one of [`SLOT_MINUTES`].
pub fn check_slot_minutes(m: i64) -> Result<u32, FieldError> {
    u32::try_from(m)
        .ok()
        .filter(|m| SLOT_MINUTES.contains(m))
        .ok_or_else(|| FieldError::new("slot_minutes", "appointments.slot_minutes"))
}

/// How many slots a service of `duration_minutes` takes: the duration must
/// be a positive multiple of `slot_minutes`, at most
/// [`MAX_DURATION_MINUTES`] (field `duration_minutes`, code
/// `appointments.duration`).
pub fn slots_needed(duration_minutes: i64, slot_minutes: u32) -> Result<u32, FieldError> {
    let slot = i64::from(slot_minutes);
    if slot == 0
        || !(1..=MAX_DURATION_MINUTES).contains(&duration_minutes)
        || duration_minutes % slot != 0
    {
        return Err(FieldError::new("duration_minutes", "appointments.duration"));
    }
    Ok(u32::try_from(duration_minutes / slot).expect("at most 96"))
}

/// The starts among `slots` (sorted) from which `n` slots follow each other
/// without a gap (each start = the previous + `slot_minutes`). `n == 0`
/// gives none.
pub fn possible_starts(slots: &[NaiveDateTime], slot_minutes: u32, n: u32) -> Vec<NaiveDateTime> {
    if n == 0 {
        return Vec::new();
    }
    let step = Duration::minutes(i64::from(slot_minutes));
    // run[i]: how many slots follow each other from slots[i] on
    let mut run = vec![1u32; slots.len()];
    for i in (0..slots.len().saturating_sub(1)).rev() {
        if slots[i] + step == slots[i + 1] {
            run[i] = run[i + 1].saturating_add(1);
        }
    }
    slots
        .iter()
        .zip(&run)
        .filter(|(_, r)| **r >= n)
        .map(|(s, _)| *s)
        .collect()
}

// ---------------------------------------------------------------------------
// Booking window
// ---------------------------------------------------------------------------

/// Longest booking window.
pub const MAX_WINDOW_DAYS: i64 = 365;

/// How far ahead may be booked: online and by phone `public_days`, by staff
/// `internal_days` (at least as far).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingWindow {
    pub public_days: u32,
    pub internal_days: u32,
}

impl BookingWindow {
    /// Each 1 ..= [`MAX_WINDOW_DAYS`] (`appointments.window` for
    /// `window_days` / `internal_window_days`), and `internal_days` at least
    /// `public_days` (`appointments.window_order` for
    /// `internal_window_days`).
    pub fn parse(public_days: i64, internal_days: i64) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let days = |field: &str, v: i64| {
            u32::try_from(v)
                .ok()
                .filter(|d| (1..=MAX_WINDOW_DAYS).contains(&i64::from(*d)))
                .ok_or_else(|| FieldError::new(field, "appointments.window"))
        };
        let p = errs.check(days("window_days", public_days));
        let i = errs.check(days("internal_window_days", internal_days));
        match (p, i) {
            (Some(public_days), Some(internal_days)) if internal_days >= public_days => Ok(Self {
                public_days,
                internal_days,
            }),
            (Some(_), Some(_)) => {
                Err(FieldError::new("internal_window_days", "appointments.window_order").into())
            }
            _ => Err(errs),
        }
    }

    /// The first and last bookable day (inclusive): online and by phone from
    /// tomorrow to today + `public_days`, internally from today to today +
    /// `internal_days`.
    pub fn range(&self, channel: Channel, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let plus = |n: u32| {
            today
                .checked_add_days(Days::new(u64::from(n)))
                .unwrap_or(NaiveDate::MAX)
        };
        match channel {
            Channel::Online | Channel::Phone => (plus(1), plus(self.public_days)),
            Channel::Internal => (today, plus(self.internal_days)),
        }
    }

    /// Whether `channel` may book on `day`.
    pub fn allows(&self, channel: Channel, today: NaiveDate, day: NaiveDate) -> bool {
        let (first, last) = self.range(channel, today);
        first <= day && day <= last
    }
}

// ---------------------------------------------------------------------------
// Booking codes
// ---------------------------------------------------------------------------

/// Crockford's base32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_SYMBOLS: usize = 12;
/// Longest input [`BookingCode::parse`] reads.
const MAX_CODE_INPUT: usize = 40;

/// The code a citizen gets for a booking (to look it up, move or cancel it
/// without an account): 60 random bits as 12 symbols of Crockford's base32,
/// shown in three groups, `ABCD-EFGH-JKMN`. Read back forgivingly
/// ([`BookingCode::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "7K3M-Q9TX-2HPA")
)]
pub struct BookingCode(String);

impl BookingCode {
    /// The code of the first 60 bits of `bytes` (from a CSPRNG).
    pub fn from_random(bytes: [u8; 8]) -> BookingCode {
        Self::from_value(u64::from_be_bytes(bytes) >> 4)
    }

    fn from_value(v: u64) -> BookingCode {
        let mut s = String::with_capacity(CODE_SYMBOLS + 2);
        for i in 0..CODE_SYMBOLS {
            if i == 4 || i == 8 {
                s.push('-');
            }
            let shift = 5 * (CODE_SYMBOLS - 1 - i);
            s.push(char::from(CROCKFORD[((v >> shift) & 31) as usize]));
        }
        BookingCode(s)
    }

    /// The 60 bits the code stands for.
    pub fn value(&self) -> u64 {
        self.0
            .bytes()
            .filter(|b| *b != b'-')
            .filter_map(crockford_digit)
            .fold(0, |v, d| (v << 5) | d)
    }

    /// Reads a code as a person types it: case does not matter, dashes and
    /// spaces are optional (anywhere), `I` and `L` are read as `1` and `O`
    /// as `0` (Crockford). Field `code`: `required` when empty, else
    /// `appointments.code` unless exactly 12 symbols remain.
    pub fn parse(s: &str) -> Result<BookingCode, FieldError> {
        let err = || FieldError::new("code", "appointments.code");
        let t = s.trim();
        if t.is_empty() {
            return Err(FieldError::new("code", "required"));
        }
        if t.len() > MAX_CODE_INPUT {
            return Err(err());
        }
        let mut v = 0u64;
        let mut n = 0;
        for b in t.bytes() {
            if b == b'-' || b == b' ' {
                continue;
            }
            let d = crockford_digit(b).ok_or_else(err)?;
            n += 1;
            if n > CODE_SYMBOLS {
                return Err(err());
            }
            v = (v << 5) | d;
        }
        if n != CODE_SYMBOLS {
            return Err(err());
        }
        Ok(Self::from_value(v))
    }

    /// The canonical form, with dashes: `ABCD-EFGH-JKMN`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn crockford_digit(b: u8) -> Option<u64> {
    let b = match b.to_ascii_uppercase() {
        b'I' | b'L' => b'1',
        b'O' => b'0',
        b => b,
    };
    CROCKFORD.iter().position(|c| *c == b).map(|p| p as u64)
}

impl fmt::Display for BookingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BookingCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BookingCode> for String {
    fn from(c: BookingCode) -> Self {
        c.0
    }
}

// ---------------------------------------------------------------------------
// The booking state machine
// ---------------------------------------------------------------------------

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BookingStatus {
    /// A time was chosen; the citizen's details are not given yet.
    Held,
    /// Details given; waiting for the confirmation of the e-mail address.
    Pending,
    /// Confirmed (by the mail link, or booked by phone or staff).
    Confirmed,
    /// The citizen came and checked in.
    CheckedIn,
    /// The citizen did not come.
    NoShow,
    /// Cancelled by the citizen or the office.
    Cancelled,
    /// The hold or the time to confirm ran out; the place is free again.
    Released,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 7] = [
        Self::Held,
        Self::Pending,
        Self::Confirmed,
        Self::CheckedIn,
        Self::NoShow,
        Self::Cancelled,
        Self::Released,
    ];
    /// The statuses that may still change ([`BookingStatus::open`]).
    pub const OPEN: [BookingStatus; 3] = [Self::Held, Self::Pending, Self::Confirmed];

    pub fn code(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::CheckedIn => "checked_in",
            Self::NoShow => "no_show",
            Self::Cancelled => "cancelled",
            Self::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }

    /// Whether the booking takes a place in its slots (everything but
    /// cancelled and released).
    pub fn occupies(self) -> bool {
        !matches!(self, Self::Cancelled | Self::Released)
    }

    /// Whether the booking may still change (held, pending, confirmed).
    pub fn open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// What is done with a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAction {
    /// The citizen gives name and e-mail address.
    GiveDetails,
    /// The citizen follows the mail link.
    Confirm,
    /// The citizen or the office cancels.
    Cancel,
    /// The booking moves to another time (status unchanged).
    Move,
    /// The citizen checks in at the office.
    CheckIn,
    /// The citizen did not come.
    NoShow,
    /// A timer: the hold or the time to confirm ran out.
    Release,
}

impl BookingAction {
    pub const ALL: [BookingAction; 7] = [
        Self::GiveDetails,
        Self::Confirm,
        Self::Cancel,
        Self::Move,
        Self::CheckIn,
        Self::NoShow,
        Self::Release,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::GiveDetails => "give_details",
            Self::Confirm => "confirm",
            Self::Cancel => "cancel",
            Self::Move => "move",
            Self::CheckIn => "check_in",
            Self::NoShow => "no_show",
            Self::Release => "release",
        }
    }
}

/// Why a booking step or a proof of work is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppointmentError {
    #[error(
        "im Terminstatus {} nicht möglich: {} (not allowed in this booking status)",
        .status.code(),
        .action.code()
    )]
    NotAllowed {
        status: BookingStatus,
        action: BookingAction,
    },
    #[error("die Sicherheitsaufgabe ist nicht gelöst (proof of work invalid)")]
    PowInvalid,
    #[error("die Sicherheitsaufgabe ist abgelaufen (proof of work expired)")]
    PowExpired,
}

impl AppointmentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "appointments.not_allowed",
            Self::PowInvalid => "appointments.pow_invalid",
            Self::PowExpired => "appointments.pow_expired",
        }
    }
}

/// The booking state machine (see the diagram at the top):
///
/// - `Held` —GiveDetails→ `Pending` —Confirm→ `Confirmed`; Confirm on
///   `Confirmed` stays `Confirmed` (a second click on the mail link is
///   harmless);
/// - Cancel from `Held`, `Pending`, `Confirmed` → `Cancelled`;
/// - Release from `Held`, `Pending` → `Released`;
/// - Move on `Pending` or `Confirmed` keeps the status;
/// - `Confirmed` —CheckIn→ `CheckedIn`, —NoShow→ `NoShow`;
///
/// everything else is [`AppointmentError::NotAllowed`]; `CheckedIn`,
/// `NoShow`, `Cancelled` and `Released` allow nothing.
pub fn next(
    status: BookingStatus,
    action: BookingAction,
) -> Result<BookingStatus, AppointmentError> {
    use BookingAction as A;
    use BookingStatus as S;
    match (status, action) {
        (S::Held, A::GiveDetails) => Ok(S::Pending),
        (S::Pending | S::Confirmed, A::Confirm) => Ok(S::Confirmed),
        (S::Held | S::Pending | S::Confirmed, A::Cancel) => Ok(S::Cancelled),
        (S::Held | S::Pending, A::Release) => Ok(S::Released),
        (S::Pending | S::Confirmed, A::Move) => Ok(status),
        (S::Confirmed, A::CheckIn) => Ok(S::CheckedIn),
        (S::Confirmed, A::NoShow) => Ok(S::NoShow),
        _ => Err(AppointmentError::NotAllowed { status, action }),
    }
}

// ---------------------------------------------------------------------------
// The citizen's details
// ---------------------------------------------------------------------------

/// Shortest and longest name.
pub const MIN_NAME_CHARS: usize = 2;
pub const MAX_NAME_CHARS: usize = 100;

/// Reads the name the citizen is called by at the counter (field `name`):
/// trimmed; `required` when empty; `appointments.name` unless it has
/// [`MIN_NAME_CHARS`] ..= [`MAX_NAME_CHARS`] characters, no control
/// characters and at least one letter.
pub fn parse_name(input: &str) -> Result<String, FieldError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(FieldError::new("name", "required"));
    }
    let n = t.chars().count();
    if !(MIN_NAME_CHARS..=MAX_NAME_CHARS).contains(&n)
        || t.chars().any(char::is_control)
        || !t.chars().any(char::is_alphabetic)
    {
        return Err(FieldError::new("name", "appointments.name"));
    }
    Ok(t.to_string())
}

/// The details a citizen gives for a held booking (GiveDetails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDetails {
    pub name: String,
    pub email: Email,
}

impl ContactDetails {
    /// [`parse_name`] and [`Email::parse`] (field `email`), every problem
    /// reported.
    pub fn parse(name: &str, email: &str) -> Result<ContactDetails, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = errs.check(parse_name(name));
        let email = errs.check(Email::parse(email));
        match (name, email) {
            (Some(name), Some(email)) => Ok(ContactDetails { name, email }),
            _ => Err(errs),
        }
    }
}

// ---------------------------------------------------------------------------
// Waiting list
// ---------------------------------------------------------------------------

/// The days a citizen on the waiting list could come (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl WaitRange {
    /// Reads two ISO dates (`2026-06-04`; fields `from`, `to`): `required`
    /// when empty, `date.invalid` when not a date; then
    /// `appointments.wait_range` for `from` before tomorrow, for `to` before
    /// `from`, and for `to` after today + the public window.
    pub fn parse(
        from: &str,
        to: &str,
        today: NaiveDate,
        window: BookingWindow,
    ) -> Result<WaitRange, ValidationErrors> {
        let date = |field: &str, s: &str| {
            let s = s.trim();
            if s.is_empty() {
                return Err(FieldError::new(field, "required"));
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "date.invalid"))
        };
        let mut errs = ValidationErrors::new();
        let f = errs.check(date("from", from));
        let t = errs.check(date("to", to));
        let (Some(from), Some(to)) = (f, t) else {
            return Err(errs);
        };
        let (first, last) = window.range(Channel::Online, today);
        if from < first {
            errs.push(FieldError::new("from", "appointments.wait_range"));
        }
        if to < from || to > last {
            errs.push(FieldError::new("to", "appointments.wait_range"));
        }
        errs.into_result().map(|()| WaitRange { from, to })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

// ---------------------------------------------------------------------------
// Proof of work (ALTCHA)
// ---------------------------------------------------------------------------

/// A proof-of-work challenge as the ALTCHA widget reads it
/// (<https://altcha.org/docs/server-integration>): find the number `n` ≤
/// `maxnumber` with `hex(SHA-256(salt ++ decimal(n))) == challenge`;
/// `signature = hex(HMAC-SHA256(key, challenge))`, and the salt ends in
/// `?expires=<unix seconds>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    /// Always `SHA-256`.
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// A solved challenge as the widget sends it back (other fields such as
/// `took` are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Solution {
    pub algorithm: String,
    pub challenge: String,
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

/// The default `maxnumber` (a browser needs well under a second on average).
pub const POW_MAXNUMBER: u64 = 50_000;
/// The only algorithm offered and accepted.
pub const POW_ALGORITHM: &str = "SHA-256";
/// Longest payload [`parse_solution`] reads.
pub const MAX_SOLUTION_BYTES: usize = 2048;

fn sha256_hex(salt: &str, number: u64) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(number.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// HMAC-SHA256 (RFC 2104) on sha2 alone, so the domain needs no further
/// crate; checked against RFC 4231 in the tests.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Equality in time independent of where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The instant the `expires` parameter of a salt names (`…?expires=…`).
pub fn salt_expires(salt: &str) -> Option<DateTime<Utc>> {
    let (_, query) = salt.split_once('?')?;
    let secs = query
        .split('&')
        .find_map(|p| p.strip_prefix("expires="))?
        .parse::<i64>()
        .ok()?;
    DateTime::from_timestamp(secs, 0)
}

impl Challenge {
    /// When the challenge expires.
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        salt_expires(&self.salt)
    }
}

impl Solution {
    /// When the solved challenge expires: until then the caller must
    /// remember it (its `signature`, say) to refuse it a second time, since
    /// [`verify_solution`] alone cannot see a replay.
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        salt_expires(&self.salt)
    }
}

/// A challenge whose answer is `secret_number` (< `maxnumber`, chosen at
/// random by the caller); the salt is `random_hex` (the caller's random,
/// hex) with `?expires=<unix seconds of expires>`.
pub fn make_challenge(
    key: &[u8],
    random_hex: &str,
    secret_number: u64,
    maxnumber: u64,
    expires: DateTime<Utc>,
) -> Challenge {
    let salt = format!("{random_hex}?expires={}", expires.timestamp());
    let challenge = sha256_hex(&salt, secret_number);
    let signature = hex::encode(hmac_sha256(key, challenge.as_bytes()));
    Challenge {
        algorithm: POW_ALGORITHM.into(),
        challenge,
        maxnumber,
        salt,
        signature,
    }
}

/// Standard or URL-safe base64, padding optional (what ALTCHA sends).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // a single symbol left over (six bits) cannot end base64
    (bits < 6).then_some(out)
}

/// Reads a solution sent as JSON or as base64 of JSON (the widget's form
/// field); at most [`MAX_SOLUTION_BYTES`]. Anything else is
/// [`AppointmentError::PowInvalid`].
pub fn parse_solution(payload: &str) -> Result<Solution, AppointmentError> {
    if payload.len() > MAX_SOLUTION_BYTES {
        return Err(AppointmentError::PowInvalid);
    }
    let p = payload.trim();
    let json = if p.starts_with('{') {
        p.as_bytes().to_vec()
    } else {
        base64_decode(p).ok_or(AppointmentError::PowInvalid)?
    };
    serde_json::from_slice(&json).map_err(|_| AppointmentError::PowInvalid)
}

/// Checks a solution: the algorithm is `SHA-256`, the signature was made
/// with `key` over the challenge (compared in constant time), the challenge
/// is the hash of salt and number, and the salt's `expires` is present
/// (else [`AppointmentError::PowInvalid`]) and after `now` (else
/// [`AppointmentError::PowExpired`]). `maxnumber` is not in a solution and
/// not checked (the number is bound by the hash anyway). A replay is not
/// seen here: see [`Solution::expires`].
pub fn verify_solution(
    key: &[u8],
    s: &Solution,
    now: DateTime<Utc>,
) -> Result<(), AppointmentError> {
    if s.algorithm != POW_ALGORITHM {
        return Err(AppointmentError::PowInvalid);
    }
    let expected = hmac_sha256(key, s.challenge.as_bytes());
    let given = hex::decode(&s.signature).map_err(|_| AppointmentError::PowInvalid)?;
    if !constant_time_eq(&expected, &given) {
        return Err(AppointmentError::PowInvalid);
    }
    if !sha256_hex(&s.salt, s.number).eq_ignore_ascii_case(&s.challenge) {
        return Err(AppointmentError::PowInvalid);
    }
    match s.expires() {
        None => Err(AppointmentError::PowInvalid),
        Some(t) if t <= now => Err(AppointmentError::PowExpired),
        Some(_) => Ok(()),
    }
}

/// Finds the answer by brute force, as the widget does (for tests and the
/// API client documentation): the number `n` ≤ `maxnumber` with
/// `hex(SHA-256(salt ++ n)) == challenge`.
pub fn solve(c: &Challenge) -> Option<u64> {
    let target = hex::decode(&c.challenge).ok()?;
    let mut prefix = Sha256::new();
    prefix.update(c.salt.as_bytes());
    (0..=c.maxnumber).find(|n| {
        prefix
            .clone()
            .chain_update(n.to_string().as_bytes())
            .finalize()
            .as_slice()
            == target.as_slice()
    })
}

// ---------------------------------------------------------------------------
// iCalendar
// ---------------------------------------------------------------------------

/// `PUBLISH` for a new or moved appointment, `CANCEL` for a cancelled one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    Publish,
    Cancel,
}

impl IcsMethod {
    pub fn code(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Cancel => "CANCEL",
        }
    }
}

/// One appointment as a calendar event. `start` and `end` are local
/// (Europe/Berlin); `stamp` is when the file is made. Raise `sequence` with
/// every change (move, cancel) of the same `uid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsEvent {
    pub uid: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub url: Option<String>,
    pub sequence: u32,
    pub cancelled: bool,
    pub stamp: DateTime<Utc>,
    /// Name and e-mail address of the office (left out when the address is
    /// not valid). Calendar programs want it for `CANCEL`.
    pub organizer: Option<(String, String)>,
}

/// Longest content line in octets (RFC 5545 3.1), line break excluded.
const ICS_LINE_OCTETS: usize = 75;

/// A TEXT value: control characters removed, `\` `;` `,` escaped, line
/// breaks as `\n`.
fn ics_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A value that is not TEXT (URI, parameter): control characters removed,
/// and `"` (which a parameter value cannot hold).
fn ics_plain(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && *c != '"').collect()
}

/// Folds a content line: at most 75 octets per line, continuation lines
/// begin with one space (which counts), never inside a UTF-8 character.
fn ics_fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 24);
    let mut rest = line;
    let mut limit = ICS_LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = ICS_LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out
}

fn ics_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// The iCalendar file (RFC 5545) of one appointment: a VCALENDAR
/// (`PRODID:-//rathaus//Terminvergabe//DE`, the method) with a VTIMEZONE for
/// Europe/Berlin and the VEVENT with local start and end, DTSTAMP in UTC,
/// `STATUS:CANCELLED` when the event is cancelled or the method is `CANCEL`
/// (else `CONFIRMED`, with a reminder an hour before). CRLF line ends, TEXT
/// escaped, control characters removed, lines folded at 75 octets.
pub fn ics(method: IcsMethod, event: &IcsEvent) -> String {
    let cancelled = event.cancelled || method == IcsMethod::Cancel;
    let mut lines: Vec<String> = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//rathaus//Terminvergabe//DE",
        "CALSCALE:GREGORIAN",
    ]
    .map(String::from)
    .into();
    lines.push(format!("METHOD:{}", method.code()));
    lines.extend(
        [
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "BEGIN:DAYLIGHT",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "TZNAME:CEST",
            "DTSTART:19700329T020000",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "END:DAYLIGHT",
            "BEGIN:STANDARD",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "TZNAME:CET",
            "DTSTART:19701025T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "END:STANDARD",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
        ]
        .map(String::from),
    );
    lines.push(format!("UID:{}", ics_text(&event.uid)));
    lines.push(format!("DTSTAMP:{}", event.stamp.format("%Y%m%dT%H%M%SZ")));
    lines.push(format!(
        "DTSTART;TZID=Europe/Berlin:{}",
        ics_local(event.start)
    ));
    lines.push(format!("DTEND;TZID=Europe/Berlin:{}", ics_local(event.end)));
    lines.push(format!("SUMMARY:{}", ics_text(&event.summary)));
    lines.push(format!("LOCATION:{}", ics_text(&event.location)));
    lines.push(format!("DESCRIPTION:{}", ics_text(&event.description)));
    if let Some(url) = &event.url {
        let url = ics_plain(url);
        if !url.is_empty() {
            lines.push(format!("URL:{url}"));
        }
    }
    if let Some((name, email)) = &event.organizer
        && let Ok(email) = Email::parse(email)
    {
        let name = ics_plain(name.trim());
        lines.push(if name.is_empty() {
            format!("ORGANIZER:mailto:{}", email.as_str())
        } else {
            format!("ORGANIZER;CN=\"{name}\":mailto:{}", email.as_str())
        });
    }
    lines.push(format!("SEQUENCE:{}", event.sequence));
    lines.push(format!(
        "STATUS:{}",
        if cancelled { "CANCELLED" } else { "CONFIRMED" }
    ));
    if !cancelled {
        lines.push("BEGIN:VALARM".into());
        lines.push("ACTION:DISPLAY".into());
        lines.push(format!("DESCRIPTION:{}", ics_text(&event.summary)));
        lines.push("TRIGGER:-PT1H".into());
        lines.push("END:VALARM".into());
    }
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());

    let mut out = String::new();
    for l in &lines {
        out.push_str(&ics_fold(l));
        out.push_str("\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// Europe/Berlin
// ---------------------------------------------------------------------------

/// The last Sunday of `month` (March or October) of `year`.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_of_next = NaiveDate::from_ymd_opt(year, month + 1, 1).expect("a valid year");
    let last = first_of_next.pred_opt().expect("not the first day of time");
    last - Days::new(u64::from(last.weekday().num_days_from_sunday()))
}

fn at(date: NaiveDate, hour: u32) -> NaiveDateTime {
    date.and_hms_opt(hour, 0, 0).expect("a valid hour")
}

/// Europe/Berlin local time to UTC: CET (+1), CEST (+2) from the last Sunday
/// of March 02:00 to the last Sunday of October 03:00 (the EU rule since
/// 1996, applied to every year). A time that does not exist (spring forward,
/// 02:00 – 02:59) is taken as +1; an ambiguous one (fall back, 02:00 – 02:59)
/// as the first, CEST.
pub fn berlin_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    let y = local.year();
    let summer = at(last_sunday(y, 3), 3) <= local && local < at(last_sunday(y, 10), 3);
    let offset = Duration::hours(if summer { 2 } else { 1 });
    local
        .checked_sub_signed(offset)
        .unwrap_or(NaiveDateTime::MIN)
        .and_utc()
}

/// UTC to Europe/Berlin local time (the switches are at 01:00 UTC on the
/// last Sundays of March and October). Gives the caller `today` from `now`.
pub fn utc_to_berlin(t: DateTime<Utc>) -> NaiveDateTime {
    let u = t.naive_utc();
    let y = u.year();
    let summer = at(last_sunday(y, 3), 1) <= u && u < at(last_sunday(y, 10), 1);
    let offset = Duration::hours(if summer { 2 } else { 1 });
    u.checked_add_signed(offset).unwrap_or(NaiveDateTime::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        date(y, mo, d).and_time(time(h, mi))
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        dt(y, mo, d, h, mi).and_utc()
    }

    fn weekly(weekday: u8, from: (u32, u32), to: (u32, u32)) -> WeeklyHours {
        WeeklyHours {
            weekday,
            from: time(from.0, from.1),
            to: time(to.0, to.1),
            weeks: Weeks::Every,
            counters: None,
        }
    }

    fn codes(r: Result<(), ValidationErrors>) -> Vec<(String, &'static str)> {
        r.unwrap_err()
            .0
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    fn pair(field: &str, code: &'static str) -> (String, &'static str) {
        (field.to_string(), code)
    }

    // --- channels and quotas ---------------------------------------------

    #[test]
    fn channel_codes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.code()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        assert_eq!(Channel::parse("Online"), None);
    }

    #[test]
    fn quotas_parse() {
        let q = Quotas::parse(60, 25, 15).unwrap();
        assert_eq!((q.online, q.phone, q.internal), (60, 25, 15));
        assert_eq!(q.get(Channel::Phone), 25);
        let e = Quotas::parse(60, 25, 10).unwrap_err();
        assert_eq!(
            e.0,
            vec![FieldError::new("quota_online", "appointments.quota_sum")]
        );
        let e = Quotas::parse(-1, 101, 0).unwrap_err();
        assert_eq!(
            e.0,
            vec![
                FieldError::new("quota_online", "appointments.quota_range"),
                FieldError::new("quota_phone", "appointments.quota_range"),
            ]
        );
        assert_eq!(Quotas::default(), Quotas::parse(100, 0, 0).unwrap());
    }

    #[test]
    fn hand_built_quotas_are_scaled() {
        let q = Quotas {
            online: 1,
            phone: 1,
            internal: 1,
        };
        assert_eq!(q.percent(), [34, 33, 33]);
        let zero = Quotas {
            online: 0,
            phone: 0,
            internal: 0,
        };
        assert_eq!(channel_capacities(4, zero, 0).internal, 4);
        let big = Quotas {
            online: 200,
            phone: 200,
            internal: 0,
        };
        assert_eq!(big.percent(), [50, 50, 0]);
    }

    #[test]
    fn first_slot_of_three_counters_at_60_25_15() {
        let q = Quotas::parse(60, 25, 15).unwrap();
        let c = channel_capacities(3, q, 0);
        assert_eq!((c.online, c.phone, c.internal), (2, 1, 0));
        // over 20 slots (60 places) the shares are exact
        let mut sum = [0u32; 3];
        for i in 0..20 {
            let c = channel_capacities(3, q, i);
            for (s, ch) in sum.iter_mut().zip(Channel::ALL) {
                *s += c.get(ch);
            }
        }
        assert_eq!(sum, [36, 15, 9]);
        assert_eq!(channel_capacities(0, q, 5), ChannelCaps::default());
    }

    /// The sequential hand-out, run without the shortcut of whole hundreds,
    /// stays within one place of the exact share for every quota, and is
    /// back at exactly the percentages after 100 places (so `cumulative`
    /// may skip whole hundreds).
    #[test]
    fn cumulative_is_within_quota() {
        for online in 0..=100u64 {
            for phone in 0..=100 - online {
                let p = [online, phone, 100 - online - phone];
                let mut held = [0u64; 3];
                for t in 1..=200u64 {
                    let deficit =
                        |held: &[u64; 3], i: usize| (p[i] * t) as i128 - 100 * held[i] as i128;
                    let best = (0..3)
                        .max_by_key(|&i| (deficit(&held, i), std::cmp::Reverse(i)))
                        .unwrap();
                    held[best] += 1;
                    for i in 0..3 {
                        assert!(deficit(&held, i).abs() < 100, "{p:?} after {t}: {held:?}");
                    }
                    assert_eq!(cumulative(p, t), held, "{p:?} after {t}");
                }
            }
        }
    }

    #[test]
    fn plain_largest_remainder_would_go_negative() {
        // the Alabama paradox the sequential hand-out avoids: 1/3/96 %
        let p = [1u64, 3, 96];
        for t in 0..300 {
            let (a, b) = (cumulative(p, t), cumulative(p, t + 1));
            assert!((0..3).all(|i| a[i] <= b[i]));
        }
    }

    fn quotas() -> impl Strategy<Value = Quotas> {
        (0u8..=100)
            .prop_flat_map(|o| (Just(o), 0u8..=100 - o))
            .prop_map(|(online, phone)| Quotas {
                online,
                phone,
                internal: 100 - online - phone,
            })
    }

    proptest! {
        #[test]
        fn capacities_add_up_and_follow_the_quotas(
            counters in 0u32..=50,
            q in quotas(),
            n in 0u32..400,
            offset in 0u32..100_000,
        ) {
            let mut sum = [0u64; 3];
            for i in 0..n {
                let c = channel_capacities(counters, q, i);
                prop_assert_eq!(c.total(), counters);
                for (s, ch) in sum.iter_mut().zip(Channel::ALL) {
                    *s += u64::from(c.get(ch));
                }
                // exact share of (i+1)*counters places, in hundredths
                for (s, ch) in sum.iter().zip(Channel::ALL) {
                    let exact = u64::from(q.get(ch)) * u64::from(i + 1) * u64::from(counters);
                    prop_assert!((*s * 100).abs_diff(exact) < 100, "{:?} {:?} slot {}", q, sum, i);
                }
            }
            // far into a (long) day as well
            let c = channel_capacities(counters, q, offset);
            prop_assert_eq!(c.total(), counters);
        }

        #[test]
        fn all_online_gives_all_online(counters in 0u32..=50, i in 0u32..10_000) {
            let c = channel_capacities(counters, Quotas::ALL_ONLINE, i);
            prop_assert_eq!(c, ChannelCaps { online: counters, phone: 0, internal: 0 });
        }
    }

    // --- holidays --------------------------------------------------------

    #[test]
    fn easter_of_known_years() {
        for (y, m, d) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2000, 4, 23),
            (2038, 4, 25),
            (2019, 4, 21),
            (1961, 4, 2),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), date(y, m, d), "{y}");
        }
    }

    #[test]
    fn land_codes() {
        for l in Land::ALL {
            assert_eq!(Land::parse(l.code()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.code())
            );
        }
        assert_eq!(Land::parse(" by "), Some(Land::BY));
        assert_eq!(Land::parse("DE-NW"), Some(Land::NW));
        assert_eq!(Land::parse("XX"), None);
        assert_eq!(Land::TH.name(), "Thüringen");
    }

    #[test]
    fn hessen_2026() {
        let h = public_holidays(Land::HE, 2026);
        assert_eq!(h.len(), 10, "{h:?}");
        assert!(h.contains(&(date(2026, 6, 4), "Fronleichnam")));
        assert!(h.contains(&(date(2026, 4, 3), "Karfreitag")));
        assert!(h.contains(&(date(2026, 5, 14), "Christi Himmelfahrt")));
        assert!(h.contains(&(date(2026, 5, 25), "Pfingstmontag")));
        assert!(h.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(holiday(Land::HE, date(2026, 6, 4)), Some("Fronleichnam"));
        assert_eq!(holiday(Land::HE, date(2026, 6, 5)), None);
        assert_eq!(holiday(Land::HE, date(2026, 10, 31)), None);
    }

    #[test]
    fn bayern_2026() {
        let h = public_holidays(Land::BY, 2026);
        let names: Vec<&str> = h.iter().map(|(_, n)| *n).collect();
        assert_eq!(
            names,
            [
                "Neujahr",
                "Heilige Drei Könige",
                "Karfreitag",
                "Ostermontag",
                "Tag der Arbeit",
                "Christi Himmelfahrt",
                "Pfingstmontag",
                "Fronleichnam",
                "Tag der Deutschen Einheit",
                "Allerheiligen",
                "1. Weihnachtstag",
                "2. Weihnachtstag",
            ]
        );
        assert_eq!(holiday(Land::BY, date(2026, 8, 15)), None);
        assert_eq!(
            holiday(Land::SL, date(2026, 8, 15)),
            Some("Mariä Himmelfahrt")
        );
    }

    #[test]
    fn land_specific_holidays() {
        assert_eq!(
            holiday(Land::SN, date(2026, 11, 18)),
            Some("Buß- und Bettag")
        );
        assert_eq!(holiday(Land::BY, date(2026, 11, 18)), None);
        // 22 November itself a Wednesday: the Wednesday before 23 Nov is the 22nd
        assert_eq!(
            holiday(Land::SN, date(2023, 11, 22)),
            Some("Buß- und Bettag")
        );
        assert_eq!(
            holiday(Land::BE, date(2026, 3, 8)),
            Some("Internationaler Frauentag")
        );
        assert_eq!(holiday(Land::BE, date(2018, 3, 8)), None);
        assert_eq!(holiday(Land::MV, date(2022, 3, 8)), None);
        assert!(holiday(Land::MV, date(2023, 3, 8)).is_some());
        assert_eq!(holiday(Land::BB, date(2026, 4, 5)), Some("Ostersonntag"));
        assert_eq!(holiday(Land::BB, date(2026, 5, 24)), Some("Pfingstsonntag"));
        assert_eq!(holiday(Land::TH, date(2026, 9, 20)), Some("Weltkindertag"));
        assert_eq!(
            holiday(Land::BE, date(2025, 5, 8)),
            Some("Tag der Befreiung")
        );
        assert_eq!(holiday(Land::BE, date(2026, 5, 8)), None);
        for l in Land::ALL {
            assert_eq!(
                holiday(l, date(2017, 10, 31)),
                Some("Reformationstag"),
                "{l:?}"
            );
            assert_eq!(
                holiday(l, date(2026, 10, 3)),
                Some("Tag der Deutschen Einheit")
            );
        }
        assert_eq!(holiday(Land::HH, date(2016, 10, 31)), None);
        assert!(holiday(Land::HH, date(2018, 10, 31)).is_some());
        assert!(holiday(Land::BW, date(2026, 10, 31)).is_none());
        assert_eq!(holiday(Land::NW, date(2026, 11, 1)), Some("Allerheiligen"));
        assert_eq!(
            holiday(Land::ST, date(2026, 1, 6)),
            Some("Heilige Drei Könige")
        );
        assert!(public_holidays(Land::BE, 300_000).is_empty());
    }

    // --- opening hours ---------------------------------------------------

    #[test]
    fn alternating_weeks() {
        // 2026-06-01 is a Monday in ISO week 23 (odd), 2026-06-08 in week 24
        let hours = OpeningHours {
            weekly: vec![
                weekly(1, (8, 0), (12, 0)),
                WeeklyHours {
                    weeks: Weeks::Odd,
                    ..weekly(1, (14, 0), (18, 0))
                },
                WeeklyHours {
                    weeks: Weeks::Even,
                    counters: Some(2),
                    ..weekly(1, (13, 0), (15, 0))
                },
            ],
            exceptions: vec![],
        };
        hours.check(30).unwrap();
        let odd = hours.intervals_on(date(2026, 6, 1), Land::HE, 3);
        assert_eq!(
            odd,
            vec![
                (
                    Interval {
                        from: time(8, 0),
                        to: time(12, 0)
                    },
                    3
                ),
                (
                    Interval {
                        from: time(14, 0),
                        to: time(18, 0)
                    },
                    3
                ),
            ]
        );
        let even = hours.intervals_on(date(2026, 6, 8), Land::HE, 3);
        assert_eq!(even.len(), 2);
        assert_eq!(even[1].0.from, time(13, 0));
        assert_eq!(even[1].1, 2);
        assert!(hours.intervals_on(date(2026, 6, 2), Land::HE, 3).is_empty());
    }

    #[test]
    fn exceptions_and_holidays() {
        let hours = OpeningHours {
            weekly: (1..=5).map(|d| weekly(d, (8, 0), (12, 0))).collect(),
            exceptions: vec![
                ExceptionDay {
                    date: date(2026, 6, 10),
                    hours: vec![],
                    note: "Betriebsausflug".into(),
                },
                ExceptionDay {
                    // Fronleichnam in Hessen, opened anyway
                    date: date(2026, 6, 4),
                    hours: vec![Interval {
                        from: time(9, 0),
                        to: time(11, 0),
                    }],
                    note: String::new(),
                },
            ],
        };
        hours.check(15).unwrap();
        assert!(
            hours
                .intervals_on(date(2026, 6, 10), Land::HE, 2)
                .is_empty()
        );
        assert_eq!(
            hours.intervals_on(date(2026, 6, 4), Land::HE, 2),
            vec![(
                Interval {
                    from: time(9, 0),
                    to: time(11, 0)
                },
                2
            )]
        );
        // Fronleichnam is no holiday in Berlin … but the exception still wins
        assert_eq!(hours.intervals_on(date(2026, 6, 4), Land::BE, 2).len(), 1);
        // Pfingstmontag: closed without an exception
        assert!(
            hours
                .intervals_on(date(2026, 5, 25), Land::HE, 2)
                .is_empty()
        );
        assert_eq!(hours.intervals_on(date(2026, 5, 26), Land::HE, 2).len(), 1);
    }

    #[test]
    fn opening_hours_from_json() {
        let h: OpeningHours = serde_json::from_str(
            r#"{"weekly": [{"weekday": 1, "from": "08:00", "to": "12:30:00", "weeks": "even", "counters": 4},
                           {"weekday": 2, "from": "08:00", "to": "12:00"}],
                "exceptions": [{"date": "2026-12-24"}]}"#,
        )
        .unwrap();
        assert_eq!(h.weekly[0].to, time(12, 30));
        assert_eq!(h.weekly[0].weeks, Weeks::Even);
        assert_eq!(h.weekly[1].weeks, Weeks::Every);
        assert_eq!(h.weekly[1].counters, None);
        assert!(h.exceptions[0].hours.is_empty());
        let back: OpeningHours = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!(serde_json::from_str::<Interval>(r#"{"from": "8 Uhr", "to": "12:00"}"#).is_err());
    }

    #[test]
    fn check_refuses() {
        let mut w = vec![
            weekly(1, (8, 0), (12, 0)),
            weekly(1, (11, 0), (13, 0)), // overlaps the first
            weekly(2, (12, 0), (8, 0)),  // backwards
            weekly(3, (8, 10), (12, 0)), // off the 15-minute grid
            weekly(8, (8, 0), (9, 0)),   // no such weekday
            WeeklyHours {
                counters: Some(0),
                ..weekly(4, (8, 0), (9, 0))
            },
            WeeklyHours {
                weeks: Weeks::Even,
                ..weekly(5, (8, 0), (12, 0))
            },
            WeeklyHours {
                weeks: Weeks::Odd,
                ..weekly(5, (10, 0), (14, 0)) // other weeks: no overlap
            },
            weekly(1, (13, 0), (14, 0)), // touches the second: fine
        ];
        let exceptions = vec![
            ExceptionDay {
                date: date(2026, 12, 24),
                hours: vec![
                    Interval {
                        from: time(8, 0),
                        to: time(10, 0),
                    },
                    Interval {
                        from: time(9, 45),
                        to: time(11, 0),
                    },
                ],
                note: String::new(),
            },
            ExceptionDay {
                date: date(2026, 12, 24),
                hours: vec![],
                note: "x".repeat(201),
            },
        ];
        let hours = OpeningHours {
            weekly: w.clone(),
            exceptions,
        };
        assert_eq!(
            codes(hours.check(15)),
            vec![
                pair("weekly[1].from", "appointments.overlap"),
                pair("weekly[2].to", "appointments.interval"),
                pair("weekly[3].from", "appointments.grid"),
                pair("weekly[4].weekday", "appointments.weekday"),
                pair("weekly[5].counters", "appointments.counters"),
                pair("exceptions[0].hours[1].from", "appointments.overlap"),
                pair("exceptions[1].date", "appointments.duplicate_date"),
                pair("exceptions[1].note", "too_long"),
            ]
        );
        // 9:45 is off a 30-minute grid
        assert!(
            codes(hours.check(30))
                .contains(&pair("exceptions[0].hours[1].from", "appointments.grid"))
        );
        assert_eq!(
            codes(OpeningHours::default().check(7)),
            vec![pair("slot_minutes", "appointments.slot_minutes")]
        );
        w.truncate(1);
        let many = OpeningHours {
            weekly: vec![w[0].clone(); MAX_WEEKLY + 1],
            exceptions: vec![],
        };
        assert_eq!(
            codes(many.check(15)),
            vec![pair("weekly", "appointments.too_many")]
        );
        let seconds = OpeningHours {
            weekly: vec![WeeklyHours {
                from: NaiveTime::from_hms_opt(8, 0, 30).unwrap(),
                ..weekly(1, (8, 0), (9, 0))
            }],
            exceptions: vec![],
        };
        assert_eq!(
            codes(seconds.check(5)),
            vec![pair("weekly[0].from", "appointments.grid")]
        );
    }

    #[test]
    fn counters_and_slot_minutes() {
        assert_eq!(check_counters(3), Ok(3));
        assert_eq!(check_counters(0).unwrap_err().code, "appointments.counters");
        assert_eq!(check_counters(51).unwrap_err().field, "counters");
        for m in SLOT_MINUTES {
            assert_eq!(check_slot_minutes(i64::from(m)), Ok(m));
        }
        for m in [-5, 0, 7, 45, 90, i64::MAX] {
            let e = check_slot_minutes(m).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("slot_minutes", "appointments.slot_minutes")
            );
        }
    }

    // --- slots -----------------------------------------------------------

    #[test]
    fn slots_of_a_day() {
        let hours = OpeningHours {
            weekly: vec![
                weekly(1, (8, 0), (12, 0)),
                WeeklyHours {
                    counters: Some(1),
                    ..weekly(1, (14, 0), (15, 0))
                },
            ],
            exceptions: vec![],
        };
        let q = Quotas::parse(60, 25, 15).unwrap();
        let monday = date(2026, 6, 1);
        let s = slots_on(&hours, Land::HE, monday, 15, 3, q);
        assert_eq!(s.len(), 16 + 4);
        assert_eq!(s[0].start, dt(2026, 6, 1, 8, 0));
        assert_eq!(s[15].start, dt(2026, 6, 1, 11, 45));
        assert_eq!(s[16].start, dt(2026, 6, 1, 14, 0));
        assert!(s[..16].iter().all(|x| x.caps.total() == 3));
        assert!(s[16..].iter().all(|x| x.caps.total() == 1));
        assert_eq!(s[16].caps, channel_capacities(1, q, 16));
        assert_eq!(slots_on(&hours, Land::HE, monday, 60, 3, q).len(), 5);
        assert_eq!(slots_on(&hours, Land::HE, monday, 7, 3, q).len(), 0);
        // a slot must end within the interval
        let odd = OpeningHours {
            weekly: vec![weekly(1, (8, 0), (8, 50))],
            exceptions: vec![],
        };
        assert_eq!(slots_on(&odd, Land::HE, monday, 20, 1, q).len(), 2);
        // closed on a holiday, no entries on Tuesday
        assert!(slots_on(&hours, Land::HE, date(2026, 5, 25), 15, 3, q).is_empty());
        assert!(slots_on(&hours, Land::HE, date(2026, 6, 2), 15, 3, q).is_empty());
    }

    #[test]
    fn unchecked_overlaps_give_no_double_slots() {
        let hours = OpeningHours {
            weekly: vec![weekly(1, (8, 0), (10, 0)), weekly(1, (9, 0), (11, 0))],
            exceptions: vec![],
        };
        let s = slots_on(&hours, Land::HE, date(2026, 6, 1), 30, 1, Quotas::default());
        let starts: Vec<_> = s.iter().map(|x| x.start.time()).collect();
        assert_eq!(
            starts,
            [
                time(8, 0),
                time(8, 30),
                time(9, 0),
                time(9, 30),
                time(10, 0),
                time(10, 30)
            ]
        );
    }

    #[test]
    fn slots_needed_by_duration() {
        assert_eq!(slots_needed(30, 15), Ok(2));
        assert_eq!(slots_needed(15, 15), Ok(1));
        assert_eq!(slots_needed(480, 5), Ok(96));
        for (d, s) in [(0, 15), (-15, 15), (20, 15), (495, 15), (30, 0)] {
            let e = slots_needed(d, s).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("duration_minutes", "appointments.duration")
            );
        }
    }

    #[test]
    fn possible_starts_need_consecutive_slots() {
        let s = |h, m| dt(2026, 6, 1, h, m);
        let slots = [s(8, 0), s(8, 15), s(8, 30), s(9, 0), s(9, 15), s(10, 0)];
        assert_eq!(possible_starts(&slots, 15, 1), slots.to_vec());
        assert_eq!(
            possible_starts(&slots, 15, 2),
            vec![s(8, 0), s(8, 15), s(9, 0)]
        );
        assert_eq!(possible_starts(&slots, 15, 3), vec![s(8, 0)]);
        assert!(possible_starts(&slots, 15, 4).is_empty());
        assert!(possible_starts(&slots, 15, 0).is_empty());
        assert!(possible_starts(&[], 15, 1).is_empty());
        // the next slot must follow directly
        assert_eq!(possible_starts(&slots, 30, 2), vec![s(8, 30)]);
    }

    // --- booking window ----------------------------------------------------

    #[test]
    fn booking_window() {
        let w = BookingWindow::parse(30, 90).unwrap();
        let today = date(2026, 6, 1);
        assert_eq!(
            w.range(Channel::Online, today),
            (date(2026, 6, 2), date(2026, 7, 1))
        );
        assert_eq!(
            w.range(Channel::Phone, today),
            w.range(Channel::Online, today)
        );
        assert_eq!(
            w.range(Channel::Internal, today),
            (today, date(2026, 8, 30))
        );
        assert!(!w.allows(Channel::Online, today, today));
        assert!(w.allows(Channel::Internal, today, today));
        assert!(w.allows(Channel::Online, today, date(2026, 7, 1)));
        assert!(!w.allows(Channel::Online, today, date(2026, 7, 2)));
        assert!(w.allows(Channel::Internal, today, date(2026, 7, 2)));
        assert!(!w.allows(Channel::Internal, today, date(2026, 5, 31)));

        assert!(BookingWindow::parse(365, 365).is_ok());
        let e = BookingWindow::parse(0, 366).unwrap_err();
        assert_eq!(
            e.0,
            vec![
                FieldError::new("window_days", "appointments.window"),
                FieldError::new("internal_window_days", "appointments.window"),
            ]
        );
        let e = BookingWindow::parse(30, 10).unwrap_err();
        assert_eq!(
            e.0,
            vec![FieldError::new(
                "internal_window_days",
                "appointments.window_order"
            )]
        );
    }

    // --- booking codes -----------------------------------------------------

    #[test]
    fn booking_code_form_and_aliases() {
        let c = BookingCode::from_random([0xff; 8]);
        assert_eq!(c.as_str(), "ZZZZ-ZZZZ-ZZZZ");
        let c = BookingCode::from_random([0; 8]);
        assert_eq!(c.to_string(), "0000-0000-0000");
        let c = BookingCode::parse("abcd efgh jkmn").unwrap();
        assert_eq!(c.as_str(), "ABCD-EFGH-JKMN");
        assert_eq!(
            BookingCode::parse("OIL1-0000-0000").unwrap().as_str(),
            "0111-0000-0000"
        );
        assert_eq!(
            BookingCode::parse("oil10000-0000").unwrap(),
            BookingCode::parse("0111 0000 0000").unwrap()
        );
        for bad in [
            "ABCD-EFGH-JKM",
            "ABCD-EFGH-JKMNP",
            "ABCD-EFGH-JKMU",
            "ÄBCD-EFGH-JKMN",
        ] {
            let e = BookingCode::parse(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("code", "appointments.code"),
                "{bad}"
            );
        }
        assert_eq!(BookingCode::parse("  ").unwrap_err().code, "required");
        assert_eq!(
            BookingCode::parse(&"A".repeat(1000)).unwrap_err().code,
            "appointments.code"
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"ABCD-EFGH-JKMN\"");
        assert_eq!(
            serde_json::from_str::<BookingCode>("\"abcdefghjkmn\"").unwrap(),
            c
        );
        assert!(serde_json::from_str::<BookingCode>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn booking_code_round_trip(bytes in any::<[u8; 8]>()) {
            let c = BookingCode::from_random(bytes);
            prop_assert_eq!(c.as_str().len(), 14);
            prop_assert_eq!(c.value(), u64::from_be_bytes(bytes) >> 4);
            prop_assert_eq!(BookingCode::parse(c.as_str()).unwrap(), c.clone());
            let sloppy = c.as_str().replace('-', "").to_lowercase().replace('0', "o").replace('1', "l");
            prop_assert_eq!(BookingCode::parse(&sloppy).unwrap(), c);
        }
    }

    // --- state machine -----------------------------------------------------

    #[test]
    fn status_codes() {
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
            assert_eq!(s.open(), BookingStatus::OPEN.contains(&s));
        }
        assert!(BookingStatus::NoShow.occupies());
        assert!(BookingStatus::Held.occupies());
        assert!(!BookingStatus::Released.occupies());
        assert!(!BookingStatus::Cancelled.occupies());
        assert!(!BookingStatus::CheckedIn.open());
        let e = next(BookingStatus::Cancelled, BookingAction::Confirm).unwrap_err();
        assert_eq!(e.code(), "appointments.not_allowed");
        assert!(e.to_string().contains("cancelled"));
    }

    #[test]
    fn the_happy_path_and_a_second_click() {
        use BookingAction as A;
        use BookingStatus as S;
        let mut s = S::Held;
        for a in [A::GiveDetails, A::Confirm, A::Confirm, A::Move, A::CheckIn] {
            s = next(s, a).unwrap();
        }
        assert_eq!(s, S::CheckedIn);
        assert_eq!(next(S::Pending, A::Move), Ok(S::Pending));
        assert_eq!(
            next(S::Held, A::Move).unwrap_err().code(),
            "appointments.not_allowed"
        );
        assert_eq!(
            next(S::Confirmed, A::Release).unwrap_err().code(),
            "appointments.not_allowed"
        );
    }

    /// The documented table: `Some(target)` where the action is allowed.
    fn documented(s: BookingStatus, a: BookingAction) -> Option<BookingStatus> {
        use BookingAction as A;
        use BookingStatus as S;
        match a {
            A::GiveDetails => (s == S::Held).then_some(S::Pending),
            A::Confirm => matches!(s, S::Pending | S::Confirmed).then_some(S::Confirmed),
            A::Cancel => s.open().then_some(S::Cancelled),
            A::Release => matches!(s, S::Held | S::Pending).then_some(S::Released),
            A::Move => matches!(s, S::Pending | S::Confirmed).then_some(s),
            A::CheckIn => (s == S::Confirmed).then_some(S::CheckedIn),
            A::NoShow => (s == S::Confirmed).then_some(S::NoShow),
        }
    }

    proptest! {
        #[test]
        fn the_state_machine_follows_its_table(
            start in prop::sample::select(BookingStatus::ALL.to_vec()),
            actions in prop::collection::vec(prop::sample::select(BookingAction::ALL.to_vec()), 0..12),
        ) {
            let mut s = start;
            for a in actions {
                let r = next(s, a);
                match documented(s, a) {
                    Some(t) => prop_assert_eq!(r.clone(), Ok(t)),
                    None => prop_assert_eq!(r.clone(), Err(AppointmentError::NotAllowed { status: s, action: a })),
                }
                if !s.open() {
                    prop_assert!(r.is_err(), "{:?} is final but {:?} was allowed", s, a);
                }
                // an occupied place is never freed but by Cancel or Release
                if let Ok(t) = r {
                    if s.occupies() && !t.occupies() {
                        prop_assert!(matches!(a, BookingAction::Cancel | BookingAction::Release));
                    }
                    s = t;
                }
            }
        }
    }

    // --- names and details --------------------------------------------------

    #[test]
    fn names() {
        assert_eq!(
            parse_name("  Erika Mustermann ").unwrap(),
            "Erika Mustermann"
        );
        assert_eq!(parse_name("Lü").unwrap(), "Lü");
        assert_eq!(parse_name("   ").unwrap_err().code, "required");
        for bad in [
            "A",
            "12345",
            "Erika\u{7}",
            &"a".repeat(101),
            "Erika\nMustermann",
        ] {
            let e = parse_name(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("name", "appointments.name"),
                "{bad:?}"
            );
        }
        assert!(parse_name(&"ä".repeat(100)).is_ok());
        let d = ContactDetails::parse("Erika", "Erika@Example.org").unwrap();
        assert_eq!(d.email.as_str(), "erika@example.org");
        let e = ContactDetails::parse("", "nope").unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email"]);
    }

    // --- waiting list --------------------------------------------------------

    #[test]
    fn wait_ranges() {
        let today = date(2026, 6, 1);
        let w = BookingWindow::parse(30, 60).unwrap();
        let r = WaitRange::parse("2026-06-02", " 2026-07-01 ", today, w).unwrap();
        assert!(r.contains(date(2026, 6, 2)));
        assert!(r.contains(date(2026, 7, 1)));
        assert!(!r.contains(date(2026, 7, 2)));
        let e = |from: &str, to: &str| -> Vec<(String, &'static str)> {
            WaitRange::parse(from, to, today, w)
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect()
        };
        assert_eq!(
            e("2026-06-01", "2026-06-05"),
            [pair("from", "appointments.wait_range")]
        );
        assert_eq!(
            e("2026-06-05", "2026-06-04"),
            [pair("to", "appointments.wait_range")]
        );
        assert_eq!(
            e("2026-06-05", "2026-07-02"),
            [pair("to", "appointments.wait_range")]
        );
        assert_eq!(
            e("1.6.2026", ""),
            [pair("from", "date.invalid"), pair("to", "required")]
        );
        assert_eq!(
            e("2026-02-30", "2026-06-04"),
            [pair("from", "date.invalid")]
        );
    }

    // --- proof of work -----------------------------------------------------

    const KEY: &[u8] = b"a secret hmac key of the tenant";

    fn challenge(secret: u64, expires: DateTime<Utc>) -> Challenge {
        make_challenge(KEY, "c0ffee42", secret, 1000, expires)
    }

    fn solved(c: &Challenge) -> Solution {
        Solution {
            algorithm: c.algorithm.clone(),
            challenge: c.challenge.clone(),
            number: solve(c).unwrap(),
            salt: c.salt.clone(),
            signature: c.signature.clone(),
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // test case 1
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // test case 2
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // test case 6: a key longer than the block
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn pow_make_solve_verify() {
        let now = utc(2026, 6, 1, 10, 0);
        let c = challenge(737, now + Duration::minutes(10));
        assert_eq!(c.algorithm, "SHA-256");
        assert_eq!(
            c.salt,
            format!(
                "c0ffee42?expires={}",
                (now + Duration::minutes(10)).timestamp()
            )
        );
        assert_eq!(c.expires(), Some(now + Duration::minutes(10)));
        assert_eq!(c.challenge.len(), 64);
        assert_eq!(solve(&c), Some(737));
        let s = solved(&c);
        assert_eq!(verify_solution(KEY, &s, now), Ok(()));
        assert_eq!(s.expires(), c.expires());
        // no answer within maxnumber
        let hard = make_challenge(KEY, "ab", 5000, 1000, now);
        assert_eq!(solve(&hard), None);
    }

    #[test]
    fn pow_refusals() {
        let now = utc(2026, 6, 1, 10, 0);
        let c = challenge(42, now + Duration::minutes(10));
        let good = solved(&c);
        let invalid = Err(AppointmentError::PowInvalid);

        let mut s = good.clone();
        s.number += 1;
        assert_eq!(verify_solution(KEY, &s, now), invalid);

        let mut s = good.clone();
        s.salt = s.salt.replace("c0ffee42", "c0ffee43");
        assert_eq!(verify_solution(KEY, &s, now), invalid);

        // a later expiry in the salt breaks the hash
        let mut s = good.clone();
        s.salt = format!("c0ffee42?expires={}", (now + Duration::days(1)).timestamp());
        assert_eq!(verify_solution(KEY, &s, now), invalid);

        let mut s = good.clone();
        s.signature.replace_range(
            0..2,
            if s.signature.starts_with("00") {
                "01"
            } else {
                "00"
            },
        );
        assert_eq!(verify_solution(KEY, &s, now), invalid);
        s.signature = "zz".into();
        assert_eq!(verify_solution(KEY, &s, now), invalid);
        s.signature.clear();
        assert_eq!(verify_solution(KEY, &s, now), invalid);

        let mut s = good.clone();
        s.algorithm = "SHA-1".into();
        assert_eq!(verify_solution(KEY, &s, now), invalid);

        assert_eq!(verify_solution(b"another key", &good, now), invalid);

        assert_eq!(
            verify_solution(KEY, &good, now + Duration::minutes(10)),
            Err(AppointmentError::PowExpired)
        );
        assert_eq!(
            AppointmentError::PowExpired.code(),
            "appointments.pow_expired"
        );
        assert_eq!(
            AppointmentError::PowInvalid.code(),
            "appointments.pow_invalid"
        );

        // a challenge we signed, but without expires
        let salt = "c0ffee42".to_string();
        let challenge = sha256_hex(&salt, 7);
        let signature = hex::encode(hmac_sha256(KEY, challenge.as_bytes()));
        let s = Solution {
            algorithm: "SHA-256".into(),
            challenge,
            number: 7,
            salt,
            signature,
        };
        assert_eq!(verify_solution(KEY, &s, now), invalid);
    }

    fn base64_encode(data: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn pow_payload_as_json_or_base64() {
        let now = utc(2026, 6, 1, 10, 0);
        let c = challenge(999, now + Duration::minutes(5));
        let s = solved(&c);
        let mut json = serde_json::to_value(&s).unwrap();
        json["took"] = 412.into(); // the widget adds this
        let json = json.to_string();
        assert_eq!(parse_solution(&json).unwrap(), s);
        let b64 = base64_encode(json.as_bytes());
        assert_eq!(parse_solution(&b64).unwrap(), s);
        assert_eq!(parse_solution(b64.trim_end_matches('=')).unwrap(), s);
        assert_eq!(
            verify_solution(KEY, &parse_solution(&b64).unwrap(), now),
            Ok(())
        );

        assert_eq!(base64_decode("TWFu"), Some(b"Man".to_vec()));
        assert_eq!(base64_decode("TWE="), Some(b"Ma".to_vec()));
        assert_eq!(base64_decode("TQ"), Some(b"M".to_vec()));
        assert_eq!(base64_decode("T"), None);
        assert_eq!(base64_decode("T!=="), None);

        for bad in [
            "",
            "{",
            "not base64!",
            "e30=",
            &format!("{json}{}", " ".repeat(2048)),
        ] {
            assert_eq!(
                parse_solution(bad),
                Err(AppointmentError::PowInvalid),
                "{bad:.20}"
            );
        }
    }

    proptest! {
        #[test]
        fn base64_round_trip(data in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base64_decode(&base64_encode(&data)), Some(data));
        }
    }

    // --- iCalendar -----------------------------------------------------------

    fn event() -> IcsEvent {
        IcsEvent {
            uid: "b7c1e0d4@termine.rathaus.example".into(),
            start: dt(2026, 6, 4, 9, 15),
            end: dt(2026, 6, 4, 9, 45),
            summary: "Personalausweis beantragen".into(),
            location: "Bürgeramt Mitte, Raum 1.12; Eingang B".into(),
            description: "Bitte mitbringen:\n- Foto\n- alter Ausweis\\Pass".into(),
            url: Some("https://termine.rathaus.example/t/ABCD-EFGH-JKMN".into()),
            sequence: 0,
            cancelled: false,
            stamp: utc(2026, 5, 20, 14, 3),
            organizer: Some((
                "Bürgeramt \"Mitte\"".into(),
                "buergeramt@rathaus.example".into(),
            )),
        }
    }

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') | Some('N') => out.push('\n'),
                    Some(c) => out.push(c),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn well_formed(ics: &str) {
        assert!(ics.ends_with("\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        }
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    }

    #[test]
    fn ics_confirmed_event() {
        let s = ics(IcsMethod::Publish, &event());
        well_formed(&s);
        let u = unfold(&s);
        let lines: Vec<&str> = u.split("\r\n").collect();
        for expected in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//rathaus//Terminvergabe//DE",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "BEGIN:VEVENT",
            "UID:b7c1e0d4@termine.rathaus.example",
            "DTSTAMP:20260520T140300Z",
            "DTSTART;TZID=Europe/Berlin:20260604T091500",
            "DTEND;TZID=Europe/Berlin:20260604T094500",
            "SUMMARY:Personalausweis beantragen",
            "LOCATION:Bürgeramt Mitte\\, Raum 1.12\\; Eingang B",
            "DESCRIPTION:Bitte mitbringen:\\n- Foto\\n- alter Ausweis\\\\Pass",
            "URL:https://termine.rathaus.example/t/ABCD-EFGH-JKMN",
            "ORGANIZER;CN=\"Bürgeramt Mitte\":mailto:buergeramt@rathaus.example",
            "SEQUENCE:0",
            "STATUS:CONFIRMED",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT1H",
            "END:VALARM",
            "END:VEVENT",
            "END:VCALENDAR",
        ] {
            assert!(lines.contains(&expected), "missing {expected:?} in\n{u}");
        }
        assert_eq!(lines[0], "BEGIN:VCALENDAR");
        assert_eq!(lines[lines.len() - 2], "END:VCALENDAR");
        assert_eq!(lines.iter().filter(|l| l.starts_with("BEGIN:")).count(), 6);
        assert_eq!(lines.iter().filter(|l| l.starts_with("END:")).count(), 6);
    }

    #[test]
    fn ics_cancelled_event() {
        let mut e = event();
        e.sequence = 2;
        e.url = None;
        e.organizer = Some(("X".into(), "not an address".into()));
        let s = ics(IcsMethod::Cancel, &e);
        well_formed(&s);
        let u = unfold(&s);
        assert!(u.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(u.contains("\r\nSTATUS:CANCELLED\r\n"));
        assert!(u.contains("\r\nSEQUENCE:2\r\n"));
        assert!(!u.contains("VALARM"));
        assert!(!u.contains("URL:"));
        assert!(!u.contains("ORGANIZER"));
        // cancelled flag with PUBLISH also cancels
        e.cancelled = true;
        assert!(ics(IcsMethod::Publish, &e).contains("\r\nSTATUS:CANCELLED\r\n"));
    }

    #[test]
    fn ics_removes_control_characters_and_folds() {
        let mut e = event();
        e.summary = format!("Termin\u{0}\u{1b}[31m {}", "Wohnsitz ummelden ".repeat(8));
        e.uid = "a\r\nBEGIN:VEVENT".into();
        e.url = Some("https://x.example/\r\nATTACH:evil".into());
        let s = ics(IcsMethod::Publish, &e);
        well_formed(&s);
        let u = unfold(&s);
        assert!(u.contains("\r\nSUMMARY:Termin[31m Wohnsitz"));
        assert!(u.contains("\r\nUID:a\\nBEGIN:VEVENT\r\n"));
        assert!(u.contains("\r\nURL:https://x.example/ATTACH:evil\r\n"));
        assert_eq!(u.matches("\r\nBEGIN:VEVENT").count(), 1);
    }

    proptest! {
        #[test]
        fn folding_keeps_lines_short_and_loses_nothing(line in "\\PC{0,300}") {
            let folded = ics_fold(&line);
            for l in folded.split("\r\n") {
                prop_assert!(l.len() <= 75);
            }
            for l in folded.split("\r\n").skip(1) {
                prop_assert!(l.starts_with(' '));
            }
            prop_assert_eq!(unfold(&folded), line);
        }

        #[test]
        fn ics_text_survives_anything(summary in "(\\PC|[\\n\\r\\t\\u{0}-\\u{1f};,\\\\]){0,200}") {
            let e = IcsEvent { summary: summary.clone(), ..event() };
            let s = ics(IcsMethod::Publish, &e);
            well_formed(&s);
            let u = unfold(&s);
            let line = u.split("\r\n").find(|l| l.starts_with("SUMMARY:")).unwrap();
            let expected: String = summary
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .chars()
                .filter(|c| *c == '\n' || !c.is_control())
                .collect();
            prop_assert_eq!(unescape(&line["SUMMARY:".len()..]), expected);
        }
    }

    // --- Europe/Berlin -------------------------------------------------------

    #[test]
    fn berlin_around_the_switches_of_2026() {
        // spring: 2026-03-29, 02:00 CET → 03:00 CEST (01:00 UTC)
        assert_eq!(
            berlin_to_utc(dt(2026, 3, 29, 1, 59)),
            utc(2026, 3, 29, 0, 59)
        );
        assert_eq!(
            berlin_to_utc(dt(2026, 3, 29, 2, 30)),
            utc(2026, 3, 29, 1, 30)
        ); // does not exist: +1
        assert_eq!(berlin_to_utc(dt(2026, 3, 29, 3, 0)), utc(2026, 3, 29, 1, 0));
        assert_eq!(
            berlin_to_utc(dt(2026, 3, 28, 12, 0)),
            utc(2026, 3, 28, 11, 0)
        );
        // autumn: 2026-10-25, 03:00 CEST → 02:00 CET (01:00 UTC)
        assert_eq!(
            berlin_to_utc(dt(2026, 10, 25, 1, 59)),
            utc(2026, 10, 24, 23, 59)
        );
        assert_eq!(
            berlin_to_utc(dt(2026, 10, 25, 2, 30)),
            utc(2026, 10, 25, 0, 30)
        ); // ambiguous: first
        assert_eq!(
            berlin_to_utc(dt(2026, 10, 25, 3, 0)),
            utc(2026, 10, 25, 2, 0)
        );
        assert_eq!(berlin_to_utc(dt(2026, 6, 4, 9, 15)), utc(2026, 6, 4, 7, 15));
        assert_eq!(
            berlin_to_utc(dt(2026, 12, 24, 0, 0)),
            utc(2026, 12, 23, 23, 0)
        );

        assert_eq!(
            utc_to_berlin(utc(2026, 3, 29, 0, 59)),
            dt(2026, 3, 29, 1, 59)
        );
        assert_eq!(utc_to_berlin(utc(2026, 3, 29, 1, 0)), dt(2026, 3, 29, 3, 0));
        assert_eq!(
            utc_to_berlin(utc(2026, 10, 25, 0, 59)),
            dt(2026, 10, 25, 2, 59)
        );
        assert_eq!(
            utc_to_berlin(utc(2026, 10, 25, 1, 0)),
            dt(2026, 10, 25, 2, 0)
        );
        assert_eq!(
            utc_to_berlin(utc(2026, 12, 31, 23, 30)),
            dt(2027, 1, 1, 0, 30)
        );
        assert_eq!(last_sunday(2026, 3), date(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), date(2026, 10, 25));
    }

    proptest! {
        #[test]
        fn berlin_round_trip(secs in 946_684_800i64..4_102_444_800) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let local = utc_to_berlin(t);
            let back = berlin_to_utc(local);
            // only the second 02:xx of an autumn night comes back an hour early
            prop_assert!(back == t || back == t - Duration::hours(1), "{} {} {}", t, local, back);
            if back != t {
                prop_assert_eq!(local.month(), 10);
                prop_assert_eq!(local.hour(), 2);
            }
            let offset = (local - t.naive_utc()).num_hours();
            prop_assert!(offset == 1 || offset == 2);
        }
    }
}
