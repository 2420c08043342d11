//! askama views of the Mängelmelder pages, and the wording they share:
//! statuses, dates, places, and the messages of refused input (naming the
//! field).

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use rathaus_domain::{FieldError, defects::DefectStatus};

pub use crate::platform::form_input::{FieldMessage, Input};
use crate::platform::{
    i18n::{self, Lang},
    layout::Page,
};

// ----------------------------------------------------------------------
// Wording
// ----------------------------------------------------------------------

/// "Eingegangen", "In Bearbeitung", …
pub fn status_label(lang: Lang, s: DefectStatus) -> &'static str {
    i18n::t(lang, &format!("defects.status.{}", s.code()))
}

/// A date in the page's language (Europe/Berlin): "07.12.2026".
pub fn date_label(lang: Lang, t: DateTime<Utc>) -> String {
    let local = rathaus_domain::appointments::utc_to_berlin(t);
    match lang {
        Lang::De => local.format("%d.%m.%Y").to_string(),
        _ => local.format("%-d %b %Y").to_string(),
    }
}

/// A date and time in the page's language: "07.12.2026, 09:10 Uhr".
pub fn datetime_label(lang: Lang, t: DateTime<Utc>) -> String {
    let local = rathaus_domain::appointments::utc_to_berlin(t);
    i18n::tf(
        lang,
        "defects.datetime",
        &[
            ("date", &date_label(lang, t)),
            ("time", &local.format("%H:%M").to_string()),
        ],
    )
}

/// A distance in metres: "12 m".
pub fn metres(d: f64) -> String {
    format!("{:.0} m", d.max(0.0))
}

/// Coordinates as shown: "50.20100, 9.18500".
pub fn coordinates(lat: f64, long: f64) -> String {
    format!("{lat:.5}, {long:.5}")
}

/// Where a report lies, in words: the address and / or the landmark (else
/// the coordinates, else "–").
pub fn place_label(
    lang: Lang,
    address: Option<&str>,
    landmark: Option<&str>,
    point: Option<(f64, f64)>,
) -> String {
    let address = address.map(str::trim).filter(|a| !a.is_empty());
    let landmark = landmark.map(str::trim).filter(|l| !l.is_empty());
    match (address, landmark) {
        (Some(a), Some(l)) => i18n::tf(
            lang,
            "defects.place_with_landmark",
            &[("address", a), ("landmark", l)],
        ),
        (Some(a), None) => a.to_string(),
        (None, Some(l)) => i18n::tf(lang, "defects.place_landmark", &[("landmark", l)]),
        (None, None) => match point {
            Some((lat, long)) => i18n::tf(
                lang,
                "defects.place_point",
                &[("point", &coordinates(lat, long))],
            ),
            None => "–".to_string(),
        },
    }
}

/// The label of a form field of these pages: `defects.field.<field>`, else
/// `field.<field>`, else one of `extra` (attributes by their form name,
/// area routes), else the name itself.
pub fn field_label(lang: Lang, field: &str, extra: &[(String, String)]) -> String {
    if let Some((_, l)) = extra.iter().find(|(f, _)| f == field) {
        return l.clone();
    }
    let simple = field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        let own = format!("defects.field.{field}");
        if i18n::has(lang, &own) {
            return i18n::t(lang, &own).to_string();
        }
        let shared = format!("field.{field}");
        if i18n::has(lang, &shared) {
            return i18n::t(lang, &shared).to_string();
        }
    }
    // `routes[1].postal_codes` → "Gebietsregel 2: Postleitzahlen"
    if let Some(rest) = field.strip_prefix("routes[")
        && let Some((n, inner)) = rest.split_once("].")
        && let Ok(n) = n.parse::<usize>()
    {
        return i18n::tf(
            lang,
            "defects.field.route_n",
            &[
                ("n", &(n + 1).to_string()),
                ("field", &field_label(lang, inner, &[])),
            ],
        );
    }
    field.to_string()
}

/// The message of a refused field, naming it: `validation.defects.<field>_<code>`
/// (a field's own wording), `validation.<code>`, `validation.defects.<code>`,
/// else "not plausible".
pub fn field_message(lang: Lang, field: &str, code: &str, extra: &[(String, String)]) -> String {
    let base = field
        .rsplit('.')
        .next()
        .unwrap_or(field)
        .split('[')
        .next()
        .unwrap_or(field);
    let candidates = [
        format!("validation.defects.{base}_{code}"),
        format!("validation.{code}"),
        format!("validation.defects.{code}"),
    ];
    let key = candidates
        .into_iter()
        .find(|k| i18n::has(lang, k))
        .unwrap_or_else(|| "validation.check".to_string());
    i18n::tf(lang, &key, &[("field", &field_label(lang, field, extra))])
}

/// Every refused field with its message.
pub fn field_messages(
    lang: Lang,
    errs: &[FieldError],
    extra: &[(String, String)],
) -> Vec<FieldMessage> {
    errs.iter()
        .map(|e| FieldMessage {
            field: e.field.clone(),
            message: field_message(lang, &e.field, e.code, extra),
        })
        .collect()
}

/// The error summary's links: each message with the id of its input
/// (`shown`: field → id), else `fallback`.
pub fn anchored(
    errors: &[FieldMessage],
    shown: &[(String, String)],
    fallback: &str,
) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            let anchor = shown
                .iter()
                .find(|(f, _)| *f == e.field)
                .map(|(_, id)| id.clone())
                .unwrap_or_else(|| fallback.to_string());
            (anchor, e.message.clone())
        })
        .collect()
}

/// One option of a select, radio or checkbox group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

// ----------------------------------------------------------------------
// Public pages
// ----------------------------------------------------------------------

/// A report in the public list.
pub struct ListRow {
    pub href: String,
    pub reference: String,
    pub category: String,
    pub place: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub date: String,
}

/// `/maengel`: the recent reports with filters.
#[derive(Template, WebTemplate)]
#[template(path = "defects/list.html")]
pub struct ListPage {
    pub page: Page,
    pub rows: Vec<ListRow>,
    /// "12 Meldungen" / "Seite 2 von 3".
    pub count: String,
    pub categories: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub filtered: bool,
}

/// A category to choose in step 1.
pub struct CategoryChoice {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub group: String,
    pub checked: bool,
}

/// A street offered for an address not found.
pub struct Suggestion {
    pub href: String,
    pub label: String,
}

/// `/maengel/melden` (step 1): category and place.
#[derive(Template, WebTemplate)]
#[template(path = "defects/report_place.html")]
pub struct PlacePage {
    pub page: Page,
    pub categories: Vec<CategoryChoice>,
    pub category_error: Option<String>,
    pub address: Input,
    pub landmark: Input,
    pub lat: Input,
    pub long: Input,
    /// Open the coordinates' `<details>` (values given or refused).
    pub coords_open: bool,
    /// The street names (the address input's `<datalist>`).
    pub streets: Vec<String>,
    pub suggestions: Vec<Suggestion>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
}

/// An open report of the same kind near the chosen place.
pub struct NearbyRow {
    pub href: String,
    pub reference: String,
    pub status: &'static str,
    pub place: String,
    pub distance: String,
}

/// One extra question of a category, ready to render.
pub struct AttrField {
    pub id: String,
    /// `attribute[<code>]`
    pub name: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    /// `info`, `string`, `text`, `number`, `datetime`, `select`, `radios`,
    /// `checkboxes`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub error: Option<String>,
}

impl AttrField {
    pub fn invalid(&self) -> bool {
        self.error.is_some()
    }

    /// The ids the input is described by (hint, error), space separated.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

/// `/maengel/melden/angaben` (step 2): duplicates, details, photos, contact.
#[derive(Template, WebTemplate)]
#[template(path = "defects/report_details.html")]
pub struct DetailsPage {
    pub page: Page,
    pub category: String,
    pub category_description: String,
    pub place: String,
    pub coordinates: Option<String>,
    /// Step 1's values, carried as hidden fields.
    pub hidden: Vec<(String, String)>,
    /// Back to step 1 with its values.
    pub change_href: String,
    pub nearby: Vec<NearbyRow>,
    pub attributes: Vec<AttrField>,
    pub description: Input,
    pub email: Input,
    pub photos: Input,
    /// The form was refused after photos had been chosen: they must be
    /// chosen again.
    pub photos_again: bool,
    pub use_photo_location: bool,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
}

/// One step of a report's history.
pub struct UpdateRow {
    pub date: String,
    pub status: &'static str,
    pub note: String,
}

/// A photo of a report.
pub struct PhotoLink {
    pub src: String,
    pub alt: String,
}

/// `/maengel/{reference}`.
#[derive(Template, WebTemplate)]
#[template(path = "defects/report.html")]
pub struct ReportPage {
    pub page: Page,
    pub reference: String,
    pub category: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub place: String,
    pub coordinates: Option<String>,
    pub unit: String,
    pub received: String,
    pub description: Option<String>,
    pub photos: Vec<PhotoLink>,
    pub public_note: Option<String>,
    pub updates: Vec<UpdateRow>,
    /// The report this one duplicates: (href, reference).
    pub merged_into: Option<(String, String)>,
    /// Just sent (`?neu=1`).
    pub new: bool,
}

// ----------------------------------------------------------------------
// Staff pages
// ----------------------------------------------------------------------

/// A report in the staff's list.
pub struct StaffRow {
    pub href: String,
    pub reference: String,
    pub category: String,
    pub place: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub received: String,
    pub released: String,
}

/// `/staff/maengel`.
#[derive(Template, WebTemplate)]
#[template(path = "defects/staff_list.html")]
pub struct StaffListPage {
    pub page: Page,
    pub rows: Vec<StaffRow>,
    pub statuses: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// Show the link to the settings (Fachadministration).
    pub settings: bool,
}

/// A nearby open report of the same category, on the staff's detail page.
pub struct StaffNearby {
    pub href: String,
    pub reference: String,
    pub status: &'static str,
    pub place: String,
    pub distance: String,
}

/// `/staff/maengel/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "defects/staff_detail.html")]
pub struct StaffDetailPage {
    pub page: Page,
    pub base: String,
    pub reference: String,
    pub public_href: String,
    pub category: String,
    pub status_code: &'static str,
    pub status: &'static str,
    pub place: String,
    pub coordinates: Option<String>,
    pub unit: String,
    pub received: String,
    pub channel: String,
    pub description: String,
    pub attributes: Vec<(String, String)>,
    pub photos: Vec<PhotoLink>,
    pub media_url: Option<String>,
    /// (label, value) of the reporter's contact data kept.
    pub contact: Vec<(String, String)>,
    /// Said instead when nothing is kept: "gelöscht" / "nicht angegeben".
    pub contact_note: Option<String>,
    pub case_href: String,
    pub nearby: Vec<StaffNearby>,
    pub merged_into: Option<(String, String)>,
    pub public_note: Option<String>,
    pub updates: Vec<UpdateRow>,
    /// The statuses it may move to.
    pub next: Vec<Choice>,
    pub note: Input,
    pub to_error: Option<String>,
    pub text_public: bool,
    pub photos_public: bool,
    pub into: Input,
    pub message: Option<String>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
}

/// A category in the settings' table.
pub struct CategoryRow {
    pub code: String,
    pub name: String,
    pub group: String,
    pub unit: String,
    pub active: bool,
    pub attributes: usize,
    pub position: i32,
    pub edit_href: String,
}

/// An Open311 key in the settings' table.
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

/// One area route row of the category form.
pub struct RouteRow {
    pub n: usize,
    pub unit: Input,
    pub postal_codes: Input,
    pub geojson: Input,
}

/// The category form (create or change, by code).
pub struct CategoryForm {
    pub code: Input,
    pub name: Input,
    pub description: Input,
    pub keywords: Input,
    pub group: Input,
    pub org_unit: Input,
    pub position: Input,
    pub active: bool,
    pub attributes: Input,
    pub routes: Vec<RouteRow>,
}

/// `/staff/maengel/einstellungen`.
#[derive(Template, WebTemplate)]
#[template(path = "defects/staff_settings.html")]
pub struct SettingsPage {
    pub page: Page,
    pub categories: Vec<CategoryRow>,
    /// (id, name) of the tenant's org units.
    pub units: Vec<(String, String)>,
    pub form: CategoryForm,
    /// An example of the attributes' JSON (the field's hint).
    pub attributes_example: &'static str,
    /// Changing an existing category (its code).
    pub editing: bool,
    pub keys: Vec<KeyRow>,
    /// A key just issued: (name, the key) — shown once.
    pub new_key: Option<(String, String)>,
    pub key_name: Input,
    pub streets: Input,
    pub street_count: String,
    pub message: Option<String>,
    pub error: Option<String>,
    pub errors: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_fields_are_named() {
        let m = field_message(Lang::De, "adresse", "defects.address_unknown", &[]);
        assert!(m.contains("Adresse"), "{m}");
        let m = field_message(Lang::En, "lat", "out_of_range", &[]);
        assert!(m.contains("Latitude"), "{m}");
        let extra = vec![("attribute[tiefe]".to_string(), "Tiefe".to_string())];
        let m = field_message(Lang::De, "attribute[tiefe]", "required", &extra);
        assert!(m.contains("Tiefe"), "{m}");
        let m = field_label(Lang::De, "routes[0].postal_codes", &[]);
        assert!(m.contains('1'), "{m}");
    }

    #[test]
    fn every_status_has_a_label() {
        for lang in Lang::ALL {
            for s in DefectStatus::ALL {
                assert!(i18n::has(lang, &format!("defects.status.{}", s.code())));
            }
        }
        assert_eq!(status_label(Lang::De, DefectStatus::Open), "Eingegangen");
    }

    #[test]
    fn places_read_in_words() {
        assert_eq!(
            place_label(Lang::De, Some("Hauptstraße 3"), None, None),
            "Hauptstraße 3"
        );
        assert_eq!(place_label(Lang::De, None, None, None), "–");
        assert!(place_label(Lang::En, None, Some("Kiosk"), None).contains("Kiosk"));
        assert_eq!(metres(12.4), "12 m");
    }
}
