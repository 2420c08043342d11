//! Mängelmelder (C9): the use cases of reporting a defect, following it in
//! public, working it as staff, and the Open311 keys.
//!
//! A report names a category (an Open311 service), a place (coordinates, an
//! address of the town's street list, or a landmark), a description, up to
//! three photos and, if the reporter wishes, an e-mail address for feedback.
//! It is stored as an application of the platform's defect form with a case
//! in the inbox of the org unit its category and area route to — the case
//! work that exists — together with the report row, in one transaction.
//! Photos are decoded, turned upright, made smaller and encoded again, so
//! nothing of their metadata (EXIF with GPS, XMP, comments) is kept; the GPS
//! position is used as the place only when the reporter asks for it.
//!
//! The public sees a report's category, place, status and public notes; its
//! text and photos only once staff released them (moderation); never the
//! reporter. Contact data is forgotten 30 days after a report is closed.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use rathaus_domain::{
    FieldError, ValidationErrors,
    applications::Reference,
    defects::{
        self as dom, AttributeDef, DefectStatus, GeoPoint, ServiceCode, Street, find_address,
    },
    forms::FormDefinition,
    identity::Email,
    permissions::Permission,
    tenancy::TenantId,
};
use rathaus_storage::{
    applications::{NewApplication, NewFile},
    defects::{
        ApiKey, Category, DefectChange, DefectRepository, MAIL_JOB, NewDefect, Report,
        ReportFilter, Update,
    },
    prelude::*,
};
use uuid::Uuid;

use crate::{Actor, App, UseCaseError, UseCaseResult};

/// The key of the platform's defect report form (one per tenant).
pub const FORM_KEY: &str = "maengelmeldung";
/// Longest edge of a stored photo, in pixels.
pub const PHOTO_EDGE: u32 = 1600;
/// Days after a report was closed that its reporter's contact data is kept.
pub const KEEP_CONTACT_DAYS: i64 = 30;
/// Most reports one list answer holds.
pub const MAX_LIST: u64 = 200;

fn invalid(field: &str, code: &'static str) -> UseCaseError {
    UseCaseError::Validation(FieldError::new(field, code).into())
}

fn storage_conflict(e: rathaus_storage::StorageError) -> UseCaseError {
    match e {
        rathaus_storage::StorageError::Conflict("status") => {
            UseCaseError::Workflow("defects.status_step")
        }
        rathaus_storage::StorageError::Conflict("merge") => UseCaseError::Workflow("defects.merge"),
        other => other.into(),
    }
}

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportChannel {
    /// The portal's form.
    Web,
    /// An app through Open311 (its key).
    Open311 { key: Uuid },
    /// The JSON API.
    Api,
}

/// A photo as uploaded.
#[derive(Debug, Clone)]
pub struct PhotoInput {
    pub name: String,
    pub content: Bytes,
}

/// What a reporter sends.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub service_code: String,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address: Option<String>,
    pub landmark: Option<String>,
    pub description: String,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub photos: Vec<PhotoInput>,
    /// Take the place from the first photo's GPS position (when no other
    /// place is given).
    pub use_photo_location: bool,
    /// A picture the app keeps elsewhere (Open311 `media_url`).
    pub media_url: Option<String>,
    /// The portal requires an address from the street list (with
    /// suggestions); Open311 accepts any `address_string`.
    pub strict_address: bool,
}

/// A report as received.
#[derive(Debug, Clone)]
pub struct ReportReceived {
    pub id: Uuid,
    pub reference: String,
    pub token: String,
    pub category: String,
}

/// A category with its parsed attributes.
#[derive(Debug, Clone)]
pub struct CategoryView {
    pub category: Category,
    pub attributes: Vec<AttributeDef>,
}

/// A category's routing to a unit by area.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct AreaRoute {
    pub org_unit_id: Uuid,
    /// Postal codes, comma separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_codes: Option<String>,
    /// A GeoJSON (Multi)Polygon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geojson: Option<String>,
}

/// What the Fachadministration saves of a category.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub keywords: String,
    pub group: String,
    pub org_unit_id: Option<Uuid>,
    pub routes: Vec<AreaRoute>,
    /// JSON list of Open311 attribute definitions ("" for none).
    pub attributes: String,
    pub position: i32,
    pub active: bool,
}

/// A report as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicReport {
    pub id: Uuid,
    pub reference: String,
    pub token: String,
    pub status: DefectStatus,
    pub category_code: String,
    pub category_name: String,
    pub point: Option<GeoPoint>,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub landmark: Option<String>,
    /// Only once released by moderation.
    pub description: Option<String>,
    /// Numbers of the released photos (1-based).
    pub photos: Vec<usize>,
    pub public_note: Option<String>,
    pub media_url: Option<String>,
    /// The reference of the report this one duplicates.
    pub merged_into: Option<String>,
    pub unit_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updates: Vec<PublicUpdate>,
}

#[derive(Debug, Clone)]
pub struct PublicUpdate {
    pub status: DefectStatus,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A report as staff see it (with contact data while it is kept).
#[derive(Debug, Clone)]
pub struct StaffReport {
    pub public: PublicReport,
    pub report: Report,
    pub case_id: Uuid,
    pub org_unit_id: Uuid,
    pub description: String,
    pub attributes: serde_json::Value,
    pub photo_count: usize,
    /// Other open reports of the same category within 50 m.
    pub nearby: Vec<(PublicReport, f64)>,
    /// Statuses it can move to.
    pub next: Vec<DefectStatus>,
}

/// Filter of public and staff lists.
#[derive(Debug, Clone, Default)]
pub struct DefectQuery {
    pub references: Vec<String>,
    pub service_codes: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Open311 statuses: `open`, `closed`.
    pub open311_status: Vec<String>,
    pub statuses: Vec<DefectStatus>,
    pub limit: u64,
    pub offset: u64,
}

/// An e-mail to a reporter.
#[derive(Debug, Clone)]
pub struct DefectMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The platform's defect report form: what the case page shows of a report.
pub fn report_form() -> FormDefinition {
    serde_json::from_value(serde_json::json!({
        "key": FORM_KEY,
        "title": {"de": "Mängelmeldung", "en": "Defect report"},
        "steps": [{
            "key": "meldung",
            "title": {"de": "Meldung", "en": "Report"},
            "items": [
                {"type": "field", "key": "kategorie", "kind": "text",
                 "label": {"de": "Kategorie", "en": "Category"}},
                {"type": "field", "key": "ort", "kind": "text",
                 "label": {"de": "Ort", "en": "Place"}},
                {"type": "field", "key": "koordinaten", "kind": "text",
                 "label": {"de": "Koordinaten (Breite, Länge)", "en": "Coordinates (lat, long)"}},
                {"type": "field", "key": "beschreibung", "kind": "multi_line",
                 "label": {"de": "Beschreibung", "en": "Description"}},
                {"type": "field", "key": "merkmale", "kind": "multi_line",
                 "label": {"de": "Weitere Angaben", "en": "Further details"}},
                {"type": "field", "key": "eingang", "kind": "text",
                 "label": {"de": "Eingangsweg", "en": "Channel"}}
            ]
        }]
    }))
    .expect("the defect report form is valid")
}

fn category_view(c: Category) -> CategoryView {
    let attributes = if c.attributes.trim().is_empty() {
        Vec::new()
    } else {
        dom::parse_attribute_defs(&c.attributes).unwrap_or_default()
    };
    CategoryView {
        category: c,
        attributes,
    }
}

fn routes_of(c: &Category) -> Vec<AreaRoute> {
    serde_json::from_str(&c.routes).unwrap_or_default()
}

/// The unit a report in `c` at `point` / `postal_code` goes to: the first
/// area route that contains it, else the category's unit.
pub fn route_unit(c: &Category, point: Option<GeoPoint>, postal_code: Option<&str>) -> Uuid {
    for r in routes_of(c) {
        let area = match (&r.postal_codes, &r.geojson) {
            (Some(p), _) if !p.trim().is_empty() => dom::Area::parse_postal_codes(p).ok(),
            (_, Some(g)) if !g.trim().is_empty() => dom::Area::parse_geojson(g).ok(),
            _ => None,
        };
        let Some(area) = area else { continue };
        let hit = match &area {
            dom::Area::PostalCodes(_) => area.contains(
                point.unwrap_or(GeoPoint {
                    lat: 0.0,
                    long: 0.0,
                }),
                postal_code,
            ),
            _ => point.is_some_and(|p| area.contains(p, postal_code)),
        };
        if hit {
            return r.org_unit_id;
        }
    }
    c.org_unit_id
}

fn streets_of(rows: Vec<rathaus_storage::defects::StreetRow>) -> Vec<Street> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Street {
                name: r.name,
                postal_code: r.postal_code,
                point: GeoPoint::new(r.lat, r.long)?,
            })
        })
        .collect()
}

fn postal_code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 5)
        .map(str::to_string)
}

impl App {
    // ------------------------------------------------------------------
    // Categories and streets
    // ------------------------------------------------------------------

    /// The active categories of the tenant (public).
    pub async fn defect_categories(&self, tenant: TenantId) -> UseCaseResult<Vec<CategoryView>> {
        Ok(self
            .store
            .repo()
            .defect_categories(tenant, true)
            .await?
            .into_iter()
            .map(category_view)
            .collect())
    }

    /// Every category, also inactive ones (Fachadministration).
    pub async fn all_defect_categories(&self, actor: &Actor) -> UseCaseResult<Vec<CategoryView>> {
        actor.require(Permission::AdministerTenant)?;
        Ok(self
            .store
            .repo()
            .defect_categories(actor.tenant(), false)
            .await?
            .into_iter()
            .map(category_view)
            .collect())
    }

    /// One active category by its code (Open311 `service_code`).
    pub async fn defect_category(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> UseCaseResult<CategoryView> {
        match self
            .store
            .repo()
            .defect_category_by_code(tenant, code)
            .await?
        {
            Some(c) if c.active => Ok(category_view(c)),
            _ => Err(UseCaseError::NotFound),
        }
    }

    /// Creates or changes a category (by its code).
    pub async fn save_defect_category(
        &self,
        actor: &Actor,
        input: CategoryInput,
    ) -> UseCaseResult<CategoryView> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let tenant = actor.tenant();
        let mut errors = ValidationErrors::new();
        let code = ServiceCode::parse(&input.code)
            .map(|c| c.as_str().to_string())
            .map_err(|mut e| {
                e.field = "code".into();
                e
            });
        let name = rathaus_domain::validation::required_text("name", &input.name, 200);
        let description = dom::parse_optional_text("description", &input.description, 2000);
        let keywords = dom::parse_optional_text("keywords", &input.keywords, 300);
        let group = dom::parse_optional_text("group", &input.group, 100);
        let attributes = if input.attributes.trim().is_empty() {
            Ok("[]".to_string())
        } else {
            dom::parse_attribute_defs(&input.attributes)
                .map(|defs| serde_json::to_string(&defs).unwrap_or_else(|_| "[]".into()))
        };
        let units: Vec<Uuid> = self
            .store
            .repo()
            .org_units(tenant)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let unit = match input.org_unit_id {
            Some(u) if units.contains(&u) => Ok(u),
            Some(_) => Err(FieldError::new("org_unit_id", "invalid")),
            None => Err(FieldError::new("org_unit_id", "required")),
        };
        if input.routes.len() > 20 {
            errors.0.push(FieldError::new("routes", "too_many"));
        }
        for (i, r) in input.routes.iter().enumerate() {
            if !units.contains(&r.org_unit_id) {
                errors.0.push(FieldError::new(
                    format!("routes[{i}].org_unit_id"),
                    "invalid",
                ));
            }
            let area = match (&r.postal_codes, &r.geojson) {
                (Some(p), _) if !p.trim().is_empty() => {
                    dom::Area::parse_postal_codes(p).map(|_| ())
                }
                (_, Some(g)) if !g.trim().is_empty() => dom::Area::parse_geojson(g).map(|_| ()),
                _ => Err(FieldError::new("area", "required")),
            };
            if let Err(mut e) = area {
                e.field = format!("routes[{i}].{}", e.field);
                errors.0.push(e);
            }
        }
        macro_rules! take {
            ($r:expr) => {
                match $r {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errors.0.push(e);
                        None
                    }
                }
            };
        }
        let code = take!(code);
        let name = take!(name);
        let description = take!(description);
        let keywords = take!(keywords);
        let group = take!(group);
        let attributes = take!(attributes);
        let unit = take!(unit);
        if !errors.0.is_empty() {
            return Err(UseCaseError::Validation(errors));
        }
        let (Some(code), Some(name), Some(description), Some(keywords), Some(group)) =
            (code, name, description, keywords, group)
        else {
            return Err(UseCaseError::Internal("validated".into()));
        };
        let (Some(attributes), Some(unit)) = (attributes, unit) else {
            return Err(UseCaseError::Internal("validated".into()));
        };
        // The form the reports' cases show, made with the first category.
        self.store
            .ensure_system_form(tenant, staff.user.id, FORM_KEY, &report_form())
            .await?;
        let now = Utc::now();
        let saved = self
            .store
            .save_defect_category(Category {
                id: Uuid::now_v7(),
                tenant_id: tenant.0,
                code,
                name,
                description: description.unwrap_or_default(),
                keywords: keywords.unwrap_or_default(),
                group_name: group.unwrap_or_default(),
                org_unit_id: unit,
                routes: serde_json::to_string(&input.routes).unwrap_or_else(|_| "[]".into()),
                attributes,
                position: input.position.clamp(0, 10_000),
                active: input.active,
                created_at: now,
                updated_at: now,
            })
            .await?;
        Ok(category_view(saved))
    }

    /// The tenant's street list.
    pub async fn defect_streets(&self, tenant: TenantId) -> UseCaseResult<Vec<Street>> {
        Ok(streets_of(self.store.repo().defect_streets(tenant).await?))
    }

    /// Replaces the street list from `strasse;plz;lat;long` lines.
    pub async fn import_defect_streets(&self, actor: &Actor, csv: &str) -> UseCaseResult<usize> {
        actor.require(Permission::AdministerTenant)?;
        self.import_streets_unchecked(actor.tenant(), csv).await
    }

    /// The same for the command line and the demo (no actor).
    pub async fn import_streets_unchecked(
        &self,
        tenant: TenantId,
        csv: &str,
    ) -> UseCaseResult<usize> {
        let streets = dom::parse_streets_csv(csv).map_err(UseCaseError::BadFile)?;
        let rows: Vec<(String, String, f64, f64)> = streets
            .into_iter()
            .map(|s| (s.name, s.postal_code, s.point.lat, s.point.long))
            .collect();
        Ok(self.store.replace_defect_streets(tenant, &rows).await?)
    }

    // ------------------------------------------------------------------
    // Reporting
    // ------------------------------------------------------------------

    /// Open reports of the same category within 50 m of `point` (shown
    /// before sending: "already reported — follow it instead").
    pub async fn nearby_defects(
        &self,
        tenant: TenantId,
        service_code: &str,
        point: GeoPoint,
    ) -> UseCaseResult<Vec<(PublicReport, f64)>> {
        let c = self.defect_category(tenant, service_code).await?;
        self.nearby_of(tenant, c.category.id, point, None).await
    }

    async fn nearby_of(
        &self,
        tenant: TenantId,
        category: Uuid,
        point: GeoPoint,
        except: Option<Uuid>,
    ) -> UseCaseResult<Vec<(PublicReport, f64)>> {
        let found = self
            .store
            .repo()
            .open_defects_in_box(tenant, category, point.bbox(dom::DUPLICATE_RADIUS_M))
            .await?;
        let candidates: Vec<(Report, GeoPoint)> = found
            .into_iter()
            .filter(|r| Some(r.id) != except)
            .filter_map(|r| {
                let p = GeoPoint::new(r.lat?, r.long?)?;
                Some((r, p))
            })
            .collect();
        let mut out = Vec::new();
        for (r, d) in dom::nearby(point, &candidates, dom::DUPLICATE_RADIUS_M) {
            out.push((self.public_of(tenant, r, false).await?, d));
        }
        Ok(out)
    }

    /// Where a report lies: the point and the address, from coordinates,
    /// the street list or a photo; or the landmark alone.
    fn place_of(
        &self,
        input: &ReportInput,
        streets: &[Street],
        photo_gps: Option<(f64, f64)>,
        errors: &mut ValidationErrors,
    ) -> (Option<GeoPoint>, Option<String>, Option<String>) {
        let lat = input.lat.as_deref().unwrap_or("").trim();
        let long = input.long.as_deref().unwrap_or("").trim();
        let mut point = None;
        if !lat.is_empty() || !long.is_empty() {
            match GeoPoint::parse(lat, long) {
                Ok(p) => point = Some(p),
                Err(es) => errors.0.extend(es),
            }
        }
        let mut address = None;
        let mut postal_code = None;
        if let Some(a) = input
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            if a.chars().count() > 300 {
                errors.0.push(FieldError::new("address", "too_long"));
            } else {
                match find_address(a, streets) {
                    Some(m) => {
                        address = Some(match &m.house_number {
                            Some(n) => format!("{} {}", m.street.name, n),
                            None => m.street.name.clone(),
                        });
                        postal_code = Some(m.street.postal_code.clone());
                        if point.is_none() {
                            point = Some(m.street.point);
                        }
                    }
                    None if input.strict_address => errors
                        .0
                        .push(FieldError::new("address", "defects.address_unknown")),
                    None => {
                        postal_code = postal_code_in(a);
                        address = Some(a.to_string());
                    }
                }
            }
        }
        if point.is_none()
            && input.use_photo_location
            && let Some((lat, long)) = photo_gps
        {
            point = GeoPoint::new(lat, long);
        }
        (point, address, postal_code)
    }

    /// Receives a defect report (see the module docs). Validation problems
    /// name their field: `service_code`, `lat`, `long`, `address`,
    /// `landmark`, `description`, `attribute[<code>]`, `email`, `photos`.
    pub async fn report_defect(
        &self,
        actor: &Actor,
        channel: ReportChannel,
        input: ReportInput,
    ) -> UseCaseResult<ReportReceived> {
        let tenant = actor.tenant();
        let category = match self
            .store
            .repo()
            .defect_category_by_code(tenant, input.service_code.trim())
            .await?
        {
            Some(c) if c.active => category_view(c),
            _ => {
                let code = if input.service_code.trim().is_empty() {
                    "required"
                } else {
                    "defects.unknown_category"
                };
                return Err(invalid("service_code", code));
            }
        };
        let mut errors = ValidationErrors::new();
        let description = dom::parse_description(&input.description)
            .map_err(|e| errors.0.push(e))
            .ok();
        let landmark =
            dom::parse_optional_text("landmark", input.landmark.as_deref().unwrap_or(""), 300)
                .map_err(|e| errors.0.push(e))
                .ok()
                .flatten();
        let attributes = dom::validate_attributes(&category.attributes, &input.attributes)
            .map_err(|es| errors.0.extend(es))
            .ok();
        let citizen = match actor {
            Actor::Citizen { account, .. } => self.store.repo().citizen(tenant, *account).await?,
            _ => None,
        };
        let email = match input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(e) => Email::parse_field("email", e)
                .map(|e| Some(e.as_str().to_string()))
                .map_err(|e| errors.0.push(e))
                .ok()
                .flatten(),
            None => citizen.as_ref().map(|c| c.email.clone()),
        };
        let first_name =
            dom::parse_optional_text("first_name", input.first_name.as_deref().unwrap_or(""), 100)
                .map_err(|e| errors.0.push(e))
                .ok()
                .flatten();
        let last_name =
            dom::parse_optional_text("last_name", input.last_name.as_deref().unwrap_or(""), 100)
                .map_err(|e| errors.0.push(e))
                .ok()
                .flatten();
        let phone = dom::parse_optional_text("phone", input.phone.as_deref().unwrap_or(""), 40)
            .map_err(|e| errors.0.push(e))
            .ok()
            .flatten();
        let media_url = match input
            .media_url
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            Some(m)
                if m.len() <= 500
                    && (m.starts_with("https://") || m.starts_with("http://"))
                    && !m.chars().any(char::is_whitespace) =>
            {
                Some(m.to_string())
            }
            Some(_) => {
                errors.0.push(FieldError::new("media_url", "invalid"));
                None
            }
            None => None,
        };
        // Photos: content checked, decoded and written anew (no metadata).
        let mut photos = Vec::new();
        let mut gps = None;
        if input.photos.len() > dom::MAX_PHOTOS {
            errors
                .0
                .push(FieldError::new("photos", "defects.too_many_photos"));
        } else {
            for (i, p) in input.photos.iter().enumerate() {
                if p.content.is_empty() {
                    continue;
                }
                if p.content.len() > dom::MAX_PHOTO_BYTES {
                    errors.0.push(FieldError::new("photos", "file.too_large"));
                    continue;
                }
                let content = p.content.clone();
                let processed = tokio::task::spawn_blocking(move || {
                    rathaus_standards::photo::process(&content, PHOTO_EDGE)
                })
                .await
                .map_err(|e| UseCaseError::Internal(e.to_string()))?;
                match processed {
                    Ok(photo) => {
                        if gps.is_none() {
                            gps = photo.gps;
                        }
                        photos.push((i, photo));
                    }
                    Err(_) => errors
                        .0
                        .push(FieldError::new("photos", "defects.photo_type")),
                }
            }
        }
        let streets = self.defect_streets(tenant).await?;
        let (point, address, postal_code) = self.place_of(&input, &streets, gps, &mut errors);
        if point.is_none() && address.is_none() && landmark.is_none() && errors.0.is_empty() {
            // Open311: "lat & long, or address_string, or address_id".
            errors.0.push(FieldError::new(
                if input.strict_address {
                    "address"
                } else {
                    "lat"
                },
                "defects.place_required",
            ));
        }
        if !errors.0.is_empty() {
            return Err(UseCaseError::Validation(errors));
        }
        let (Some(description), Some(attributes)) = (description, attributes) else {
            return Err(UseCaseError::Internal("validated".into()));
        };

        let author = self.form_author(tenant).await?;
        let version = self
            .store
            .ensure_system_form(tenant, author, FORM_KEY, &report_form())
            .await?;
        let org_unit_id = route_unit(&category.category, point, postal_code.as_deref());
        let mut files = Vec::new();
        for (i, photo) in photos {
            let ext = if photo.mime == "image/png" {
                "png"
            } else {
                "jpg"
            };
            let key = format!("uploads/{}", Uuid::now_v7());
            let stored = self
                .files
                .put(tenant, &key, Bytes::from(photo.bytes))
                .await?;
            files.push(NewFile {
                field_path: "fotos".into(),
                file_key: key,
                name: format!("foto-{}.{ext}", i + 1),
                mime: photo.mime.to_string(),
                size: stored.size as i64,
                sha256: stored.sha256,
            });
        }
        let place = match (&address, &landmark) {
            (Some(a), Some(l)) => format!("{a} ({l})"),
            (Some(a), None) => a.clone(),
            (None, Some(l)) => l.clone(),
            (None, None) => String::new(),
        };
        let details: Vec<String> = attributes
            .iter()
            .map(|(k, v)| {
                let name = category
                    .attributes
                    .iter()
                    .find(|d| &d.code == k)
                    .map(|d| d.description.clone())
                    .unwrap_or_else(|| k.clone());
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{name}: {v}")
            })
            .collect();
        let eingang = match channel {
            ReportChannel::Web => "Portal".to_string(),
            ReportChannel::Api => "API".to_string(),
            ReportChannel::Open311 { .. } => "Open311".to_string(),
        };
        let data = serde_json::json!({
            "kategorie": category.category.name,
            "ort": place,
            "koordinaten": point.map(|p| format!("{:.6}, {:.6}", p.lat, p.long)).unwrap_or_default(),
            "beschreibung": description,
            "merkmale": details.join("\n"),
            "eingang": eingang,
        });
        let id = Uuid::now_v7();
        let token = Uuid::new_v4().simple().to_string();
        let now = Utc::now();
        let report = Report {
            id,
            tenant_id: tenant.0,
            category_id: category.category.id,
            application_id: Uuid::nil(),
            case_id: Uuid::nil(),
            reference: String::new(),
            token: token.clone(),
            status: DefectStatus::Open.code().into(),
            lat: point.map(|p| p.lat),
            long: point.map(|p| p.long),
            address,
            postal_code,
            landmark,
            description,
            attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
            email: email.clone(),
            first_name,
            last_name,
            phone,
            citizen_id: citizen.as_ref().map(|c| c.id),
            api_key_id: match channel {
                ReportChannel::Open311 { key } => Some(key),
                _ => None,
            },
            media_url,
            public_note: None,
            text_public: false,
            photos_public: false,
            moderated_at: None,
            merged_into: None,
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        let jobs = if email.is_some() {
            vec![(
                MAIL_JOB,
                serde_json::json!({ "report": id, "kind": "received" }),
            )]
        } else {
            Vec::new()
        };
        let prefix = Reference::prefix_for(&self.tenant_name(tenant).await?);
        let submitted = self
            .store
            .submit_application(NewApplication {
                tenant,
                prefix,
                service_id: None,
                form_version_id: version.id,
                data,
                idempotency_key: None,
                request_hash: None,
                files,
                org_unit_id,
                draft_id: None,
                actor: match channel {
                    ReportChannel::Web => "reporter".into(),
                    ReportChannel::Api => "reporter:api".into(),
                    ReportChannel::Open311 { key } => format!("open311:{key}"),
                },
                due_days: None,
                citizen_id: None,
                notify_email: None,
                awaiting_payment: false,
                defect: Some(Box::new(NewDefect { report, jobs })),
            })
            .await?;
        Ok(ReportReceived {
            id,
            reference: submitted.application.reference,
            token,
            category: category.category.name,
        })
    }

    /// Whom the platform's form is written by: the tenant's first
    /// Fachadministration user (forms need an author).
    async fn form_author(&self, tenant: TenantId) -> UseCaseResult<Uuid> {
        if let Some(f) = self.store.repo().form_by_key(tenant, FORM_KEY).await?
            && let Some((_, v)) = self.store.repo().published_form(tenant, f.id).await?
        {
            return Ok(v.author_id);
        }
        let users = self.store.repo().users(tenant).await?;
        users
            .first()
            .map(|u| u.id)
            .ok_or_else(|| UseCaseError::Internal("the tenant has no staff user".into()))
    }

    // ------------------------------------------------------------------
    // Public view
    // ------------------------------------------------------------------

    async fn public_of(
        &self,
        tenant: TenantId,
        r: Report,
        with_updates: bool,
    ) -> UseCaseResult<PublicReport> {
        let repo = self.store.repo();
        let category = repo.defect_category(tenant, r.category_id).await?;
        let merged_into = match r.merged_into {
            Some(m) => repo.defect_report(tenant, m).await?.map(|t| t.reference),
            None => None,
        };
        let case = repo.case(tenant, r.case_id).await?;
        let unit_name = match &case {
            Some(c) => repo
                .org_unit(tenant, c.org_unit_id)
                .await?
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let photos = if r.photos_public {
            let n = repo
                .application_files(tenant, r.application_id)
                .await?
                .into_iter()
                .filter(|f| f.field_path == "fotos")
                .count();
            (1..=n).collect()
        } else {
            Vec::new()
        };
        let updates = if with_updates {
            repo.defect_updates(tenant, r.id)
                .await?
                .into_iter()
                .filter_map(|u: Update| {
                    Some(PublicUpdate {
                        status: DefectStatus::parse(&u.status)?,
                        note: u.note,
                        at: u.created_at,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(PublicReport {
            id: r.id,
            status: r.status()?,
            reference: r.reference,
            token: r.token,
            category_code: category
                .as_ref()
                .map(|c| c.code.clone())
                .unwrap_or_default(),
            category_name: category.map(|c| c.name).unwrap_or_default(),
            point: r.lat.zip(r.long).and_then(|(a, b)| GeoPoint::new(a, b)),
            address: r.address,
            postal_code: r.postal_code,
            landmark: r.landmark,
            description: r.text_public.then_some(r.description),
            photos,
            public_note: r.public_note,
            media_url: r.media_url,
            merged_into,
            unit_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            updates,
        })
    }

    /// A report by its reference, as the public sees it.
    pub async fn public_defect(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> UseCaseResult<PublicReport> {
        if reference.len() > 40 {
            return Err(UseCaseError::NotFound);
        }
        let r = self
            .store
            .repo()
            .defect_by_reference(tenant, reference)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.public_of(tenant, r, true).await
    }

    /// The reference an Open311 token stands for.
    pub async fn defect_by_token(
        &self,
        tenant: TenantId,
        token: &str,
    ) -> UseCaseResult<PublicReport> {
        if token.len() > 40 {
            return Err(UseCaseError::NotFound);
        }
        let r = self
            .store
            .repo()
            .defect_by_token(tenant, token)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        self.public_of(tenant, r, false).await
    }

    async fn filter_of(
        &self,
        tenant: TenantId,
        q: &DefectQuery,
    ) -> UseCaseResult<Option<ReportFilter>> {
        let mut categories = Vec::new();
        if !q.service_codes.is_empty() {
            let all = self.store.repo().defect_categories(tenant, false).await?;
            categories = all
                .into_iter()
                .filter(|c| q.service_codes.contains(&c.code))
                .map(|c| c.id)
                .collect();
            if categories.is_empty() {
                return Ok(None);
            }
        }
        let mut statuses = q.statuses.clone();
        for s in &q.open311_status {
            statuses.extend(DefectStatus::ALL.iter().filter(|d| d.open311() == s));
        }
        if !q.open311_status.is_empty() && statuses.is_empty() {
            return Ok(None);
        }
        Ok(Some(ReportFilter {
            references: q.references.iter().take(100).cloned().collect(),
            categories,
            from: q.from,
            to: q.to,
            statuses,
            org_units: None,
            without_merged: false,
            limit: q.limit.clamp(1, MAX_LIST),
            offset: q.offset.min(100_000),
        }))
    }

    /// Reports for the public list and Open311 `GET requests` (newest
    /// first; Open311's default window is the last 90 days unless
    /// references are asked for).
    pub async fn public_defects(
        &self,
        tenant: TenantId,
        q: &DefectQuery,
    ) -> UseCaseResult<Vec<PublicReport>> {
        let Some(filter) = self.filter_of(tenant, q).await? else {
            return Ok(Vec::new());
        };
        let rows = self.store.repo().defect_reports(tenant, &filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.public_of(tenant, r, false).await?);
        }
        Ok(out)
    }

    /// How many reports a public query finds (for paging).
    pub async fn count_public_defects(
        &self,
        tenant: TenantId,
        q: &DefectQuery,
    ) -> UseCaseResult<u64> {
        let Some(filter) = self.filter_of(tenant, q).await? else {
            return Ok(0);
        };
        Ok(self
            .store
            .repo()
            .count_defect_reports(tenant, &filter)
            .await?)
    }

    /// A released photo of a report (public), or any photo of a report in
    /// the staff member's scope. `n` is 1-based.
    pub async fn defect_photo(
        &self,
        actor: &Actor,
        reference: &str,
        n: usize,
    ) -> UseCaseResult<(String, Bytes)> {
        let tenant = actor.tenant();
        let r = self
            .store
            .repo()
            .defect_by_reference(tenant, reference)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        if !r.photos_public {
            let case = self
                .store
                .repo()
                .case(tenant, r.case_id)
                .await?
                .ok_or(UseCaseError::NotFound)?;
            actor
                .require_case(case.org_unit_id)
                .map_err(|_| UseCaseError::NotFound)?;
        }
        let files: Vec<_> = self
            .store
            .repo()
            .application_files(tenant, r.application_id)
            .await?
            .into_iter()
            .filter(|f| f.field_path == "fotos")
            .collect();
        let f = n
            .checked_sub(1)
            .and_then(|i| files.get(i))
            .ok_or(UseCaseError::NotFound)?;
        let bytes = self
            .files
            .get(tenant, &f.file_key)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        Ok((f.mime.clone(), bytes))
    }

    // ------------------------------------------------------------------
    // Staff
    // ------------------------------------------------------------------

    /// The reports whose cases lie in the clerk's units (newest first).
    pub async fn staff_defects(
        &self,
        actor: &Actor,
        q: &DefectQuery,
    ) -> UseCaseResult<Vec<StaffReport>> {
        let scope = actor.case_scope()?;
        let tenant = actor.tenant();
        let Some(mut filter) = self.filter_of(tenant, q).await? else {
            return Ok(Vec::new());
        };
        filter.org_units = Some(scope.into_iter().collect());
        let rows = self.store.repo().defect_reports(tenant, &filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.staff_report_of(tenant, r, false).await?);
        }
        Ok(out)
    }

    async fn staff_report_of(
        &self,
        tenant: TenantId,
        r: Report,
        full: bool,
    ) -> UseCaseResult<StaffReport> {
        let case = self
            .store
            .repo()
            .case(tenant, r.case_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let photo_count = self
            .store
            .repo()
            .application_files(tenant, r.application_id)
            .await?
            .iter()
            .filter(|f| f.field_path == "fotos")
            .count();
        let status = r.status()?;
        let nearby = match (
            full,
            r.lat.zip(r.long).and_then(|(a, b)| GeoPoint::new(a, b)),
        ) {
            (true, Some(p)) => self.nearby_of(tenant, r.category_id, p, Some(r.id)).await?,
            _ => Vec::new(),
        };
        Ok(StaffReport {
            public: self.public_of(tenant, r.clone(), full).await?,
            case_id: case.id,
            org_unit_id: case.org_unit_id,
            description: r.description.clone(),
            attributes: serde_json::from_str(&r.attributes).unwrap_or(serde_json::Value::Null),
            photo_count,
            nearby,
            next: DefectStatus::ALL
                .into_iter()
                .filter(|s| status.can_become(*s))
                .collect(),
            report: r,
        })
    }

    async fn scoped_report(&self, actor: &Actor, id: Uuid) -> UseCaseResult<(Report, Uuid)> {
        let tenant = actor.tenant();
        actor.case_scope()?;
        let r = self
            .store
            .repo()
            .defect_report(tenant, id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let case = self
            .store
            .repo()
            .case(tenant, r.case_id)
            .await?
            .ok_or(UseCaseError::NotFound)?;
        let staff = actor.require_case(case.org_unit_id)?;
        Ok((r, staff.user.id))
    }

    /// One report with everything staff need (contact data, photos, nearby
    /// duplicates, possible steps).
    pub async fn staff_defect(&self, actor: &Actor, id: Uuid) -> UseCaseResult<StaffReport> {
        let (r, _) = self.scoped_report(actor, id).await?;
        self.staff_report_of(actor.tenant(), r, true).await
    }

    /// The report of a case, if the case is one (for the case page's link).
    pub async fn defect_of_case(&self, actor: &Actor, case: Uuid) -> UseCaseResult<Option<Uuid>> {
        actor.case_scope()?;
        Ok(self
            .store
            .repo()
            .defect_by_case(actor.tenant(), case)
            .await?
            .map(|r| r.id))
    }

    /// Moves a report to `to` with a public note (mailed to the reporter).
    pub async fn change_defect_status(
        &self,
        actor: &Actor,
        id: Uuid,
        to: DefectStatus,
        note: &str,
    ) -> UseCaseResult<StaffReport> {
        let (r, user) = self.scoped_report(actor, id).await?;
        let note = dom::parse_optional_text("note", note, 2000)
            .map_err(|e| UseCaseError::Validation(e.into()))?;
        if to == DefectStatus::Forwarded && note.is_none() {
            // "Not our responsibility" says whose it is.
            return Err(invalid("note", "defects.forward_note"));
        }
        let status = r.status()?;
        if !status.can_become(to) {
            return Err(UseCaseError::Workflow("defects.status_step"));
        }
        let name = actor.staff().map(|s| s.audit_name()).unwrap_or_default();
        let saved = self
            .store
            .change_defect(
                actor.tenant(),
                r.id,
                (user, &name),
                DefectChange::Status { to, note },
            )
            .await
            .map_err(storage_conflict)?;
        self.staff_report_of(actor.tenant(), saved, true).await
    }

    /// Releases (or withdraws) the report's text and photos for the public.
    pub async fn moderate_defect(
        &self,
        actor: &Actor,
        id: Uuid,
        text_public: bool,
        photos_public: bool,
    ) -> UseCaseResult<StaffReport> {
        let (r, user) = self.scoped_report(actor, id).await?;
        let name = actor.staff().map(|s| s.audit_name()).unwrap_or_default();
        let saved = self
            .store
            .change_defect(
                actor.tenant(),
                r.id,
                (user, &name),
                DefectChange::Moderate {
                    text_public,
                    photos_public,
                },
            )
            .await
            .map_err(storage_conflict)?;
        self.staff_report_of(actor.tenant(), saved, true).await
    }

    /// Marks the report as a duplicate of the report `into` (a reference);
    /// it is closed pointing there, and its reporter is told.
    pub async fn merge_defect(
        &self,
        actor: &Actor,
        id: Uuid,
        into: &str,
    ) -> UseCaseResult<StaffReport> {
        let (r, user) = self.scoped_report(actor, id).await?;
        let tenant = actor.tenant();
        let target = self
            .store
            .repo()
            .defect_by_reference(tenant, into.trim())
            .await?
            .filter(|t| t.id != r.id)
            .ok_or_else(|| invalid("into", "defects.merge_target"))?;
        if target.category_id != r.category_id {
            return Err(invalid("into", "defects.merge_category"));
        }
        let name = actor.staff().map(|s| s.audit_name()).unwrap_or_default();
        let note = format!(
            "Bereits gemeldet: bitte verfolgen Sie die Meldung {} / Already reported: please follow report {}.",
            target.reference, target.reference
        );
        let saved = self
            .store
            .change_defect(
                tenant,
                r.id,
                (user, &name),
                DefectChange::Merge {
                    into: target.id,
                    note,
                },
            )
            .await
            .map_err(storage_conflict)?;
        self.staff_report_of(tenant, saved, true).await
    }

    // ------------------------------------------------------------------
    // Open311 keys
    // ------------------------------------------------------------------

    /// The key an app sent, if it is the tenant's and not revoked.
    pub async fn open311_key(&self, tenant: TenantId, key: &str) -> UseCaseResult<ApiKey> {
        if key.is_empty() || key.len() > 200 {
            return Err(UseCaseError::Forbidden);
        }
        let hash = rathaus_storage::identity::token_hash(key);
        let found = self.store.repo().defect_api_key_by_hash(&hash).await?;
        match found {
            Some(k) if k.tenant_id == tenant.0 && k.revoked_at.is_none() => {
                let _ = self
                    .store
                    .repo()
                    .touch_defect_api_key(k.id, Utc::now())
                    .await;
                Ok(k)
            }
            _ => Err(UseCaseError::Forbidden),
        }
    }

    pub async fn open311_keys(&self, actor: &Actor) -> UseCaseResult<Vec<ApiKey>> {
        actor.require(Permission::AdministerTenant)?;
        Ok(self.store.repo().defect_api_keys(actor.tenant()).await?)
    }

    /// Issues a key for an app; the key is in the answer once.
    pub async fn create_open311_key(
        &self,
        actor: &Actor,
        name: &str,
    ) -> UseCaseResult<(ApiKey, String)> {
        let staff = actor.require(Permission::AdministerTenant)?;
        let name = rathaus_domain::validation::required_text("name", name, 100)
            .map_err(|e| UseCaseError::Validation(e.into()))?;
        Ok(self
            .store
            .create_defect_api_key(actor.tenant(), &name, Some(staff.user.id))
            .await?)
    }

    /// The same for the command line (`rathaus admin create-open311-key`).
    pub async fn create_open311_key_unchecked(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> UseCaseResult<(ApiKey, String)> {
        let name = rathaus_domain::validation::required_text("name", name, 100)
            .map_err(|e| UseCaseError::Validation(e.into()))?;
        Ok(self
            .store
            .create_defect_api_key(tenant, &name, None)
            .await?)
    }

    pub async fn revoke_open311_key(&self, actor: &Actor, id: Uuid) -> UseCaseResult<ApiKey> {
        actor.require(Permission::AdministerTenant)?;
        Ok(self.store.revoke_defect_api_key(actor.tenant(), id).await?)
    }

    // ------------------------------------------------------------------
    // Jobs
    // ------------------------------------------------------------------

    /// Forgets contact data of reports closed more than 30 days ago.
    pub async fn sweep_defects(&self) -> UseCaseResult<u64> {
        Ok(self
            .store
            .forget_defect_reporters(Utc::now() - Duration::days(KEEP_CONTACT_DAYS))
            .await?)
    }

    /// The e-mail of a `defect.mail` job (`None` once the address is gone).
    pub async fn defect_mail(
        &self,
        tenant: TenantId,
        report: Uuid,
        kind: &str,
        base_url: &str,
    ) -> UseCaseResult<Option<DefectMail>> {
        let Some(r) = self.store.repo().defect_report(tenant, report).await? else {
            return Ok(None);
        };
        let Some(to) = r.email.clone() else {
            return Ok(None);
        };
        let public = self.public_of(tenant, r, false).await?;
        let tenant_name = self.tenant_name(tenant).await?;
        let link = format!(
            "{}/maengel/{}",
            base_url.trim_end_matches('/'),
            public.reference
        );
        let (subject, lead) = match kind {
            "received" => (
                format!("Ihre Mängelmeldung {} ist eingegangen", public.reference),
                format!(
                    "vielen Dank für Ihre Meldung „{}“. Sie ist bei {} eingegangen und wird geprüft.",
                    public.category_name, public.unit_name
                ),
            ),
            "merged" => (
                format!("Ihre Mängelmeldung {}: bereits gemeldet", public.reference),
                format!(
                    "der Mangel wurde bereits gemeldet. Den Stand sehen Sie unter der Meldung {}.",
                    public.merged_into.clone().unwrap_or_default()
                ),
            ),
            _ => (
                format!(
                    "Ihre Mängelmeldung {}: {}",
                    public.reference,
                    status_de(public.status)
                ),
                format!(
                    "der Stand Ihrer Meldung „{}“ ist jetzt: {}.",
                    public.category_name,
                    status_de(public.status)
                ),
            ),
        };
        let note = public
            .public_note
            .as_deref()
            .map(|n| format!("\n\nHinweis der Verwaltung: {n}"))
            .unwrap_or_default();
        let body = format!(
            "Guten Tag,\n\n{lead}{note}\n\nDen Stand Ihrer Meldung sehen Sie jederzeit unter:\n{link}\n\nMit freundlichen Grüßen\n{tenant_name}\n\n— Your defect report {}: {} ({link})\n",
            public.reference,
            public.status.code()
        );
        Ok(Some(DefectMail { to, subject, body }))
    }
}

/// The German name of a status (e-mails).
pub fn status_de(s: DefectStatus) -> &'static str {
    match s {
        DefectStatus::Open => "eingegangen",
        DefectStatus::Acknowledged => "angenommen",
        DefectStatus::InProgress => "in Bearbeitung",
        DefectStatus::Done => "erledigt",
        DefectStatus::Forwarded => "nicht zuständig, weitergeleitet",
    }
}
