//! Mängelmelder: defect reports from citizens (potholes, broken street
//! lights, illegal dumping), exchanged as Open311 GeoReport v2 service
//! requests. The status machine, coordinates and areas of responsibility,
//! Open311 service attributes, the town's street list as a small offline
//! geocoder and the duplicate search. No I/O.
//!
//! ```text
//!   Open ──▶ Acknowledged ──▶ InProgress ──▶ Done
//!    │            │  ▲             │  ▲        │
//!    │            │  └─────────────┼──┼────────┘ (reopen: Done → InProgress)
//!    └────────────┴────────────────┴──┴──▶ Forwarded (final)
//! ```
//!
//! Open, Acknowledged and InProgress are "open" in Open311, Done and
//! Forwarded "closed".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::FieldError;

/// Reports closer than this to a new one are offered as possible duplicates.
pub const DUPLICATE_RADIUS_M: f64 = 50.0;
/// Photos per report.
pub const MAX_PHOTOS: usize = 3;
/// Size of one uploaded photo before processing.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Mean earth radius (IUGG) used for distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/// Where a defect report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectStatus {
    /// Reported, nobody has looked at it yet.
    Open,
    /// Seen and accepted by staff.
    Acknowledged,
    /// Work has started.
    InProgress,
    /// Fixed.
    Done,
    /// Not ours: handed to another body (e.g. Deutsche Bahn, the county).
    Forwarded,
}

/// A status change the machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a defect report cannot go from {} to {}", from.code(), to.code())]
pub struct DefectStepRefused {
    pub from: DefectStatus,
    pub to: DefectStatus,
}

impl DefectStatus {
    pub const ALL: [DefectStatus; 5] = [
        Self::Open,
        Self::Acknowledged,
        Self::InProgress,
        Self::Done,
        Self::Forwarded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Forwarded => "forwarded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }

    /// Still to be dealt with (Open311 "open").
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::Acknowledged | Self::InProgress)
    }

    /// The Open311 status: "open" or "closed".
    pub fn open311(self) -> &'static str {
        if self.is_open() { "open" } else { "closed" }
    }

    /// Whether the machine allows the step `self → to`.
    pub fn can_become(self, to: DefectStatus) -> bool {
        use DefectStatus::*;
        matches!(
            (self, to),
            (Open, Acknowledged | InProgress | Done | Forwarded)
                | (Acknowledged, InProgress | Done | Forwarded)
                | (InProgress, Done | Forwarded)
                | (Done, InProgress)
        )
    }

    /// `to` when the step is allowed.
    pub fn next(self, to: DefectStatus) -> Result<DefectStatus, DefectStepRefused> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(DefectStepRefused { from: self, to })
        }
    }
}

impl fmt::Display for DefectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

// ---------------------------------------------------------------------------
// Coordinates
// ---------------------------------------------------------------------------

/// A WGS 84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub long: f64,
}

/// A plain decimal number: optional sign, digits, optional fraction.
fn decimal(s: &str) -> Option<f64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !digits.is_empty()
        && (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && digits.len() <= 40;
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl GeoPoint {
    /// A point when both values are finite and in range.
    pub fn new(lat: f64, long: f64) -> Option<GeoPoint> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long))
            .then_some(GeoPoint { lat, long })
    }

    /// Reads form input (fields `lat`, `long`); reports both fields' errors.
    pub fn parse(lat: &str, long: &str) -> Result<GeoPoint, Vec<FieldError>> {
        fn one(field: &str, s: &str, max: f64) -> Result<f64, FieldError> {
            let s = s.trim();
            if s.is_empty() {
                return Err(FieldError::new(field, "required"));
            }
            let v = decimal(s).ok_or_else(|| FieldError::new(field, "invalid"))?;
            if v.abs() > max {
                return Err(FieldError::new(field, "out_of_range"));
            }
            Ok(v)
        }
        match (one("lat", lat, 90.0), one("long", long, 180.0)) {
            (Ok(lat), Ok(long)) => Ok(GeoPoint { lat, long }),
            (a, b) => Err([a.err(), b.err()].into_iter().flatten().collect()),
        }
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.long - self.long).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    /// `(min_lat, max_lat, min_long, max_long)` enclosing every point within
    /// `radius_m`; the full longitude range near the poles or across the
    /// antimeridian. For a cheap SQL prefilter before [`Self::distance_m`].
    pub fn bbox(&self, radius_m: f64) -> (f64, f64, f64, f64) {
        // a little slack against rounding
        let d = radius_m.max(0.0) / EARTH_RADIUS_M * (1.0 + 1e-9) + 1e-12;
        let dlat = d.to_degrees();
        let (min_lat, max_lat) = (self.lat - dlat, self.lat + dlat);
        let full = (min_lat.max(-90.0), max_lat.min(90.0), -180.0, 180.0);
        if min_lat <= -90.0 || max_lat >= 90.0 {
            return full;
        }
        let ratio = d.sin() / self.lat.to_radians().cos();
        if ratio.is_nan() || ratio >= 1.0 {
            return full;
        }
        let dlong = ratio.asin().to_degrees() + 1e-12;
        let (min_long, max_long) = (self.long - dlong, self.long + dlong);
        if min_long < -180.0 || max_long > 180.0 {
            return full;
        }
        (min_lat, max_lat, min_long, max_long)
    }

    /// Rounded to `decimals` places (5 places ≈ 1 m), e.g. to publish a
    /// position less precisely than it was reported.
    pub fn round(&self, decimals: u32) -> GeoPoint {
        let f = 10f64.powi(decimals.min(15) as i32);
        GeoPoint {
            lat: (self.lat * f).round() / f,
            long: (self.long * f).round() / f,
        }
    }
}

// ---------------------------------------------------------------------------
// Areas of responsibility
// ---------------------------------------------------------------------------

/// Where a service (defect category) is taken: everywhere, in some postal
/// code areas, or inside a drawn (multi)polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Area {
    Everywhere,
    /// Five-digit German postal codes.
    PostalCodes(Vec<String>),
    /// Polygons of rings (the first the outline, the others holes) of
    /// `(long, lat)` as in GeoJSON; rings are stored without the closing
    /// repetition of the first vertex.
    Polygon(Vec<Vec<Vec<(f64, f64)>>>),
}

const MAX_POSTAL_CODES: usize = 200;
const MAX_VERTICES: usize = 20_000;
const MAX_GEOJSON_BYTES: usize = 64 * 1024;

/// Even-odd ray casting; `ring` without the closing vertex.
fn in_ring(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut j = ring.len().wrapping_sub(1);
    for (i, &(xi, yi)) in ring.iter().enumerate() {
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

impl Area {
    /// Postal codes separated by commas, semicolons or white space (field
    /// `postal_codes`): each five digits, at most 200, duplicates dropped.
    pub fn parse_postal_codes(s: &str) -> Result<Area, FieldError> {
        let err = |code| FieldError::new("postal_codes", code);
        let mut codes: Vec<String> = Vec::new();
        for c in s.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            if c.is_empty() {
                continue;
            }
            if c.len() != 5 || !c.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("invalid"));
            }
            if !codes.iter().any(|x| x == c) {
                codes.push(c.to_string());
            }
            if codes.len() > MAX_POSTAL_CODES {
                return Err(err("too_long"));
            }
        }
        if codes.is_empty() {
            return Err(err("required"));
        }
        Ok(Area::PostalCodes(codes))
    }

    /// A GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection of
    /// those (field `geojson`); all polygons are merged. At most 64 KiB and
    /// 20 000 vertices; rings may be closed or not but need three distinct
    /// vertices.
    pub fn parse_geojson(s: &str) -> Result<Area, FieldError> {
        let err = |code| FieldError::new("geojson", code);
        if s.trim().is_empty() {
            return Err(err("required"));
        }
        if s.len() > MAX_GEOJSON_BYTES {
            return Err(err("too_long"));
        }
        let v: Value = serde_json::from_str(s).map_err(|_| err("invalid"))?;
        let mut polygons = Vec::new();
        let mut vertices = 0usize;
        collect_polygons(&v, 0, &mut polygons, &mut vertices).map_err(err)?;
        if polygons.is_empty() {
            return Err(err("invalid"));
        }
        Ok(Area::Polygon(polygons))
    }

    /// Whether a report at `point` (with the postal code of its address, if
    /// known) lies in the area. Points on an edge may fall either way.
    pub fn contains(&self, point: GeoPoint, postal_code: Option<&str>) -> bool {
        match self {
            Area::Everywhere => true,
            Area::PostalCodes(codes) => {
                postal_code.is_some_and(|p| codes.iter().any(|c| c == p.trim()))
            }
            Area::Polygon(polygons) => polygons.iter().any(|rings| {
                let mut rings = rings.iter();
                rings
                    .next()
                    .is_some_and(|outer| in_ring(outer, point.long, point.lat))
                    && !rings.any(|hole| in_ring(hole, point.long, point.lat))
            }),
        }
    }

    /// The polygons as GeoJSON geometry (a Polygon for one, else a
    /// MultiPolygon) with closed rings; `None` for other areas.
    pub fn to_geojson(&self) -> Option<String> {
        let Area::Polygon(polygons) = self else {
            return None;
        };
        let rings = |p: &Vec<Vec<(f64, f64)>>| -> Value {
            p.iter()
                .map(|ring| {
                    let mut r: Vec<Value> = ring
                        .iter()
                        .map(|&(x, y)| serde_json::json!([x, y]))
                        .collect();
                    if let Some(first) = r.first().cloned() {
                        r.push(first);
                    }
                    Value::Array(r)
                })
                .collect()
        };
        let v = if polygons.len() == 1 {
            serde_json::json!({"type": "Polygon", "coordinates": rings(&polygons[0])})
        } else {
            let all: Vec<Value> = polygons.iter().map(rings).collect();
            serde_json::json!({"type": "MultiPolygon", "coordinates": all})
        };
        Some(v.to_string())
    }
}

type Polygon = Vec<Vec<(f64, f64)>>;

fn collect_polygons(
    v: &Value,
    depth: u8,
    out: &mut Vec<Polygon>,
    vertices: &mut usize,
) -> Result<(), &'static str> {
    if depth > 2 {
        return Err("invalid");
    }
    match v.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let features = v
                .get("features")
                .and_then(Value::as_array)
                .ok_or("invalid")?;
            for f in features {
                if f.get("type").and_then(Value::as_str) != Some("Feature") {
                    return Err("invalid");
                }
                collect_polygons(f, depth + 1, out, vertices)?;
            }
            Ok(())
        }
        Some("Feature") => collect_polygons(
            v.get("geometry").ok_or("invalid")?,
            depth + 1,
            out,
            vertices,
        ),
        Some("Polygon") => {
            let c = v.get("coordinates").ok_or("invalid")?;
            out.push(polygon(c, vertices)?);
            Ok(())
        }
        Some("MultiPolygon") => {
            let c = v
                .get("coordinates")
                .and_then(Value::as_array)
                .ok_or("invalid")?;
            for p in c {
                out.push(polygon(p, vertices)?);
            }
            Ok(())
        }
        _ => Err("invalid"),
    }
}

fn polygon(v: &Value, vertices: &mut usize) -> Result<Polygon, &'static str> {
    let rings = v.as_array().filter(|r| !r.is_empty()).ok_or("invalid")?;
    rings
        .iter()
        .map(|ring| {
            let positions = ring.as_array().ok_or("invalid")?;
            *vertices += positions.len();
            if *vertices > MAX_VERTICES {
                return Err("too_long");
            }
            let mut r: Vec<(f64, f64)> = positions
                .iter()
                .map(|p| {
                    let p = p.as_array().filter(|p| p.len() >= 2).ok_or("invalid")?;
                    let x = p[0].as_f64().ok_or("invalid")?;
                    let y = p[1].as_f64().ok_or("invalid")?;
                    GeoPoint::new(y, x).map(|_| (x, y)).ok_or("invalid")
                })
                .collect::<Result<_, _>>()?;
            if r.len() > 1 && r.first() == r.last() {
                r.pop();
            }
            let distinct: BTreeSet<(u64, u64)> =
                r.iter().map(|&(x, y)| (x.to_bits(), y.to_bits())).collect();
            if distinct.len() < 3 {
                return Err("invalid");
            }
            Ok(r)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Services and their attributes (Open311 service definition)
// ---------------------------------------------------------------------------

static SERVICE_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9_-]{0,39}$").unwrap());

/// Identifier of a defect category, e.g. `strassenschaden`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceCode(String);

impl ServiceCode {
    /// `[a-z0-9][a-z0-9_-]{0,39}` (field `service_code`).
    pub fn parse(s: &str) -> Result<ServiceCode, FieldError> {
        let s = s.trim();
        let err = |code| FieldError::new("service_code", code);
        if s.is_empty() {
            return Err(err("required"));
        }
        if s.chars().count() > 40 {
            return Err(err("too_long"));
        }
        if !SERVICE_CODE.is_match(s) {
            return Err(err("invalid"));
        }
        Ok(ServiceCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Open311 attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// One line, at most 300 characters.
    String,
    Number,
    /// ISO 8601 date or date-time.
    Datetime,
    /// Several lines, at most 2000 characters.
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub const ALL: [Datatype; 6] = [
        Self::String,
        Self::Number,
        Self::Datetime,
        Self::Text,
        Self::SingleValueList,
        Self::MultiValueList,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Datetime => "datetime",
            Self::Text => "text",
            Self::SingleValueList => "singlevaluelist",
            Self::MultiValueList => "multivaluelist",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == s)
    }

    pub fn is_list(self) -> bool {
        matches!(self, Self::SingleValueList | Self::MultiValueList)
    }
}

/// One option of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

fn yes() -> bool {
    true
}

/// One extra question of a service (Open311 `attribute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDef {
    pub code: String,
    /// False: only information shown to the citizen, no input.
    #[serde(default = "yes")]
    pub variable: bool,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub datatype_description: String,
    #[serde(default)]
    pub order: u32,
    #[serde(default)]
    pub values: Vec<AttributeValue>,
}

const MAX_ATTRIBUTES: usize = 20;
const MAX_VALUES: usize = 50;

/// Reads a service's attribute definitions (a JSON array, field
/// `attributes`; empty input is none): at most 20, codes unique and shaped
/// like a [`ServiceCode`], lists with 1 to 50 values with unique non-empty
/// keys. Values of non-list attributes are dropped.
pub fn parse_attribute_defs(json: &str) -> Result<Vec<AttributeDef>, FieldError> {
    let err = |code| FieldError::new("attributes", code);
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut defs: Vec<AttributeDef> = serde_json::from_str(json).map_err(|_| err("invalid"))?;
    if defs.len() > MAX_ATTRIBUTES {
        return Err(err("too_long"));
    }
    let mut codes = BTreeSet::new();
    for d in &mut defs {
        d.code = d.code.trim().to_string();
        if !SERVICE_CODE.is_match(&d.code) || !codes.insert(d.code.clone()) {
            return Err(err("invalid"));
        }
        if !d.datatype.is_list() {
            d.values.clear();
            continue;
        }
        if d.values.is_empty() {
            return Err(err("invalid"));
        }
        if d.values.len() > MAX_VALUES {
            return Err(err("too_long"));
        }
        let mut keys = BTreeSet::new();
        for v in &d.values {
            if v.key.trim().is_empty() || v.name.trim().is_empty() || !keys.insert(v.key.as_str()) {
                return Err(err("invalid"));
            }
        }
    }
    Ok(defs)
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(c == '\t' || (allow_newlines && c == '\n')))
}

/// ISO 8601 as sent by clients and HTML inputs: RFC 3339, a local
/// date-time with or without seconds, or a date.
fn is_datetime(s: &str) -> bool {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    DateTime::parse_from_rfc3339(s).is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").is_ok()
        || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn number(s: &str) -> Option<Value> {
    let v = decimal(&s.replace(',', "."))?;
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Some(Value::from(v as i64))
    } else {
        serde_json::Number::from_f64(v).map(Value::Number)
    }
}

/// Checks the answers to a service's attributes (`attribute[code]` in
/// Open311). Errors name the field `attribute[<code>]`. Unknown codes and
/// non-variable definitions are ignored; empty answers count as missing.
/// The result holds a string, a number or (multivaluelist) an array of keys
/// per answered attribute.
pub fn validate_attributes(
    defs: &[AttributeDef],
    given: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Value>, Vec<FieldError>> {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    for d in defs.iter().filter(|d| d.variable) {
        let field = format!("attribute[{}]", d.code);
        let answers: Vec<String> = given
            .get(&d.code)
            .into_iter()
            .flatten()
            .map(|a| {
                a.replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .trim()
                    .to_string()
            })
            .filter(|a| !a.is_empty())
            .collect();
        if answers.is_empty() {
            if d.required {
                errs.push(FieldError::new(field, "required"));
            }
            continue;
        }
        let single = answers.len() == 1;
        let first = answers[0].as_str();
        let in_list = |a: &str| d.values.iter().any(|v| v.key == a);
        let value: Result<Value, &'static str> = match d.datatype {
            _ if !single && d.datatype != Datatype::MultiValueList => Err("invalid"),
            Datatype::String if first.chars().count() > 300 => Err("too_long"),
            Datatype::String if has_control(first, false) => Err("invalid"),
            Datatype::Text if first.chars().count() > 2000 => Err("too_long"),
            Datatype::Text if has_control(first, true) => Err("invalid"),
            Datatype::String | Datatype::Text => Ok(Value::from(first)),
            Datatype::Number => number(first).ok_or("invalid"),
            Datatype::Datetime if is_datetime(first) => Ok(Value::from(first)),
            Datatype::Datetime => Err("invalid"),
            Datatype::SingleValueList if in_list(first) => Ok(Value::from(first)),
            Datatype::SingleValueList => Err("invalid"),
            Datatype::MultiValueList => {
                if answers.iter().all(|a| in_list(a)) {
                    let mut keys: Vec<&str> = Vec::new();
                    for a in &answers {
                        if !keys.contains(&a.as_str()) {
                            keys.push(a);
                        }
                    }
                    Ok(Value::from(keys))
                } else {
                    Err("invalid")
                }
            }
        };
        match value {
            Ok(v) => {
                out.insert(d.code.clone(), v);
            }
            Err(code) => errs.push(FieldError::new(field, code)),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

// ---------------------------------------------------------------------------
// Free text
// ---------------------------------------------------------------------------

fn clean_text(field: &str, s: &str, max: usize) -> Result<Option<String>, FieldError> {
    let t = s.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err(FieldError::new(field, "too_long"));
    }
    if has_control(t, true) {
        return Err(FieldError::new(field, "invalid"));
    }
    Ok(Some(t.to_string()))
}

/// The report's text (field `description`): trimmed, required, at most 4000
/// characters (Open311), line breaks kept (CR LF becomes LF).
pub fn parse_description(s: &str) -> Result<String, FieldError> {
    clean_text("description", s, 4000)?.ok_or_else(|| FieldError::new("description", "required"))
}

/// Optional text: trimmed, empty is `None`, control characters other than
/// newline and tab are `invalid`, longer than `max` characters `too_long`.
pub fn parse_optional_text(
    field: &'static str,
    s: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    clean_text(field, s, max)
}

// ---------------------------------------------------------------------------
// Streets (offline geocoding from the town's street list)
// ---------------------------------------------------------------------------

/// One street of the town with a representative point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    pub name: String,
    pub postal_code: String,
    pub point: GeoPoint,
}

/// A street found for typed address text.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressMatch<'a> {
    pub street: &'a Street,
    /// E.g. "12", "12a", "12-14".
    pub house_number: Option<String>,
}

/// Reads `name;postal_code;lat;long` lines; skips blank lines, `#`
/// comments and the header `strasse;plz;lat;long`. Errors name the line.
pub fn parse_streets_csv(text: &str) -> Result<Vec<Street>, String> {
    let mut out = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(';').map(str::trim).collect();
        if cols.len() != 4 {
            return Err(format!(
                "line {n}: expected 4 columns name;postal_code;lat;long"
            ));
        }
        let header = cols[0].to_lowercase();
        if (header == "strasse" || header == "straße") && cols[1].eq_ignore_ascii_case("plz") {
            continue;
        }
        if cols[0].is_empty() || cols[0].chars().count() > 200 || has_control(cols[0], false) {
            return Err(format!("line {n}: invalid street name"));
        }
        if cols[1].len() != 5 || !cols[1].bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("line {n}: postal code must have five digits"));
        }
        let point = GeoPoint::parse(cols[2], cols[3]).map_err(|e| {
            let what: Vec<String> = e.iter().map(ToString::to_string).collect();
            format!("line {n}: {}", what.join(", "))
        })?;
        out.push(Street {
            name: cols[0].to_string(),
            postal_code: cols[1].to_string(),
            point,
        });
    }
    Ok(out)
}

/// Matching key of a street name: lower case, umlauts as ae/oe/ue, ß as
/// ss, "str."/"str" as "strasse", without spaces, dots and hyphens.
fn street_key(s: &str) -> String {
    let mut t = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => t.push_str("ae"),
            'ö' => t.push_str("oe"),
            'ü' => t.push_str("ue"),
            'ß' => t.push_str("ss"),
            '-' | '‐' | '–' | '/' | ',' => t.push(' '),
            c => t.push(c),
        }
    }
    let mut key = String::with_capacity(t.len());
    for word in t.split_whitespace() {
        let word = word.trim_end_matches('.');
        if let Some(stem) = word.strip_suffix("str") {
            key.push_str(stem);
            key.push_str("strasse");
        } else {
            key.push_str(word);
        }
    }
    key.retain(|c| c != '.');
    key
}

static HOUSE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?\D)\s*(\d{1,4}\s?[a-zA-Z]?(?:\s*[-–/]\s*\d{1,4}\s?[a-zA-Z]?)?)$").unwrap()
});

/// Splits "Hauptstr. 12a, 63571 Musterstadt" into name part, house number
/// and postal code of the suffix.
fn split_query(query: &str) -> (String, Option<String>, Option<String>) {
    let (main, rest) = query.split_once(',').unwrap_or((query, ""));
    let postal = rest
        .split_whitespace()
        .find(|w| w.len() == 5 && w.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string);
    let main = main.trim();
    match HOUSE_NUMBER.captures(main) {
        Some(c) => {
            let number: String = c[2].chars().filter(|c| !c.is_whitespace()).collect();
            (
                c[1].trim().to_string(),
                Some(number.replace('–', "-").to_lowercase()),
                postal,
            )
        }
        None => (main.to_string(), None, postal),
    }
}

/// Prefers a street in the given postal code area among equally named ones.
fn pick<'a>(found: &[&'a Street], postal: Option<&str>) -> Option<&'a Street> {
    postal
        .and_then(|p| found.iter().find(|s| s.postal_code == p))
        .or(found.first())
        .copied()
}

/// Finds the street typed by a citizen, e.g. "hauptstr 12" or
/// "Mühlweg 3a, 63571 Musterstadt": an exact match of the normalised name
/// first, else a prefix that only one street name starts with.
pub fn find_address<'a>(query: &str, streets: &'a [Street]) -> Option<AddressMatch<'a>> {
    let (name, house_number, postal) = split_query(query);
    let key = street_key(&name);
    if key.is_empty() {
        return None;
    }
    let keyed: Vec<(String, &Street)> = streets.iter().map(|s| (street_key(&s.name), s)).collect();
    let exact: Vec<&Street> = keyed
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, s)| *s)
        .collect();
    let street = if exact.is_empty() {
        if key.chars().count() < 3 {
            return None;
        }
        let prefixed: Vec<&(String, &Street)> =
            keyed.iter().filter(|(k, _)| k.starts_with(&key)).collect();
        let names: BTreeSet<&str> = prefixed.iter().map(|(k, _)| k.as_str()).collect();
        if names.len() != 1 {
            return None;
        }
        let found: Vec<&Street> = prefixed.iter().map(|(_, s)| *s).collect();
        pick(&found, postal.as_deref())?
    } else {
        pick(&exact, postal.as_deref())?
    };
    Some(AddressMatch {
        street,
        house_number,
    })
}

/// Up to `n` streets whose normalised name contains the normalised query
/// (house number and suffix ignored); prefix matches first, then by name.
pub fn suggest<'a>(query: &str, streets: &'a [Street], n: usize) -> Vec<&'a Street> {
    let (name, _, _) = split_query(query);
    let key = street_key(&name);
    if key.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(bool, String, &Street)> = streets
        .iter()
        .filter_map(|s| {
            let k = street_key(&s.name);
            k.contains(&key).then(|| (!k.starts_with(&key), k, s))
        })
        .collect();
    hits.sort_by(|a, b| (a.0, &a.1, &a.2.postal_code).cmp(&(b.0, &b.1, &b.2.postal_code)));
    hits.into_iter().take(n).map(|(_, _, s)| s).collect()
}

// ---------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------

/// Candidates within `radius_m` of `point` with their distance in metres,
/// nearest first.
pub fn nearby<T: Clone>(
    point: GeoPoint,
    candidates: &[(T, GeoPoint)],
    radius_m: f64,
) -> Vec<(T, f64)> {
    let mut out: Vec<(T, f64)> = candidates
        .iter()
        .map(|(t, p)| (t, point.distance_m(p)))
        .filter(|(_, d)| *d <= radius_m)
        .map(|(t, d)| (t.clone(), d))
        .collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // --- status ------------------------------------------------------------

    #[test]
    fn status_codes_round_trip() {
        for s in DefectStatus::ALL {
            assert_eq!(DefectStatus::parse(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
        assert_eq!(DefectStatus::parse("closed"), None);
        assert_eq!(DefectStatus::InProgress.open311(), "open");
        assert_eq!(DefectStatus::Forwarded.open311(), "closed");
        assert_eq!(DefectStatus::Done.open311(), "closed");
    }

    #[test]
    fn transitions_follow_the_table() {
        use DefectStatus::*;
        let allowed = [
            (Open, Acknowledged),
            (Open, InProgress),
            (Open, Done),
            (Open, Forwarded),
            (Acknowledged, InProgress),
            (Acknowledged, Done),
            (Acknowledged, Forwarded),
            (InProgress, Done),
            (InProgress, Forwarded),
            (Done, InProgress),
        ];
        for from in DefectStatus::ALL {
            for to in DefectStatus::ALL {
                let ok = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), ok, "{from} → {to}");
                match from.next(to) {
                    Ok(s) => assert!(ok && s == to),
                    Err(e) => {
                        assert!(!ok);
                        assert_eq!(e, DefectStepRefused { from, to });
                        assert!(e.to_string().contains(from.code()));
                    }
                }
            }
        }
    }

    #[test]
    fn every_status_is_reachable_from_open() {
        let mut seen = BTreeSet::from([DefectStatus::Open]);
        let mut todo = vec![DefectStatus::Open];
        while let Some(s) = todo.pop() {
            for t in DefectStatus::ALL {
                if s.can_become(t) && seen.insert(t) {
                    todo.push(t);
                }
            }
        }
        assert_eq!(seen.len(), DefectStatus::ALL.len());
    }

    proptest! {
        #[test]
        fn closed_reports_only_reopen(
            steps in prop::collection::vec(prop::sample::select(DefectStatus::ALL.to_vec()), 0..20),
        ) {
            let mut s = DefectStatus::Open;
            for to in steps {
                match s.next(to) {
                    Ok(n) => {
                        if !s.is_open() {
                            prop_assert_eq!((s, n), (DefectStatus::Done, DefectStatus::InProgress));
                        }
                        prop_assert_ne!(s, n);
                        s = n;
                    }
                    Err(_) => prop_assert!(!s.can_become(to)),
                }
            }
            prop_assert!(DefectStatus::Forwarded.next(DefectStatus::Open).is_err());
        }
    }

    // --- coordinates -------------------------------------------------------

    #[test]
    fn parses_coordinates() {
        let p = GeoPoint::parse(" 50.2010 ", "9.185").unwrap();
        assert_eq!(
            p,
            GeoPoint {
                lat: 50.201,
                long: 9.185
            }
        );
        assert_eq!(GeoPoint::parse("-90", "+180").unwrap().lat, -90.0);
        let codes = |a: &str, b: &str| -> Vec<(String, &'static str)> {
            GeoPoint::parse(a, b)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect()
        };
        assert_eq!(
            codes("", "x"),
            [("lat".into(), "required"), ("long".into(), "invalid")]
        );
        assert_eq!(codes("90.5", "9"), [("lat".into(), "out_of_range")]);
        assert_eq!(codes("50", "-181"), [("long".into(), "out_of_range")]);
        for bad in ["NaN", "inf", "1e3", "5,1", ".", "-", "1.2.3", "0x10"] {
            assert_eq!(codes(bad, "9"), [("lat".into(), "invalid")], "{bad}");
        }
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
        assert!(GeoPoint::new(0.0, 180.0).is_some());
    }

    #[test]
    fn known_distances() {
        let a = GeoPoint::new(50.2010, 9.1850).unwrap();
        // 50 m north: 50 / R radians of latitude
        let b = GeoPoint::new(50.2010 + (50.0 / EARTH_RADIUS_M).to_degrees(), 9.1850).unwrap();
        assert!((a.distance_m(&b) - 50.0).abs() < 1e-6);
        assert_eq!(a.distance_m(&a), 0.0);
        // Frankfurt Römer – Hanau Marktplatz, about 16.8 km
        let ffm = GeoPoint::new(50.1106, 8.6821).unwrap();
        let hanau = GeoPoint::new(50.1340, 8.9170).unwrap();
        let d = ffm.distance_m(&hanau);
        assert!((16_000.0..17_500.0).contains(&d), "{d}");
        let r = GeoPoint::new(50.123456789, 9.987654321).unwrap().round(5);
        assert_eq!(
            r,
            GeoPoint {
                lat: 50.12346,
                long: 9.98765
            }
        );
    }

    #[test]
    fn bbox_near_poles_and_antimeridian_is_wide() {
        let (_, max_lat, min_long, max_long) = GeoPoint::new(89.9999, 0.0).unwrap().bbox(100.0);
        assert_eq!((max_lat, min_long, max_long), (90.0, -180.0, 180.0));
        let (_, _, min_long, max_long) = GeoPoint::new(0.0, 179.9999).unwrap().bbox(100.0);
        assert_eq!((min_long, max_long), (-180.0, 180.0));
        let (a, b, c, d) = GeoPoint::new(50.0, 9.0).unwrap().bbox(1000.0);
        assert!(a < 50.0 && b > 50.0 && c < 9.0 && d > 9.0);
        assert!(d - c > b - a, "longitude degrees are shorter at 50°");
    }

    fn point() -> impl Strategy<Value = GeoPoint> {
        (-89.0f64..89.0, -179.0f64..179.0).prop_map(|(lat, long)| GeoPoint { lat, long })
    }

    proptest! {
        #[test]
        fn distance_is_symmetric(a in point(), b in point()) {
            let (ab, ba) = (a.distance_m(&b), b.distance_m(&a));
            prop_assert!((ab - ba).abs() <= 1e-6 * ab.max(1.0));
            prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_M + 1.0).contains(&ab));
        }

        #[test]
        fn bbox_holds_every_point_within_the_radius(
            c in point(),
            radius in 1.0f64..20_000.0,
            fx in -1.0f64..1.0,
            fy in -1.0f64..1.0,
        ) {
            // candidates around the circle's extent, some inside, some not
            let dlat = (radius / EARTH_RADIUS_M).to_degrees() * 1.05;
            let dlong = dlat / c.lat.to_radians().cos();
            let p = GeoPoint { lat: c.lat + fy * dlat, long: c.long + fx * dlong };
            prop_assume!(GeoPoint::new(p.lat, p.long).is_some());
            let (a, b, x, y) = c.bbox(radius);
            if c.distance_m(&p) <= radius {
                prop_assert!(a <= p.lat && p.lat <= b && x <= p.long && p.long <= y,
                    "{:?} not in {:?}", p, (a, b, x, y));
            }
        }
    }

    // --- areas -------------------------------------------------------------

    #[test]
    fn postal_code_areas() {
        let a = Area::parse_postal_codes("63571, 63579;63571\n63584").unwrap();
        assert_eq!(
            a,
            Area::PostalCodes(vec!["63571".into(), "63579".into(), "63584".into()])
        );
        let p = GeoPoint::new(50.2, 9.18).unwrap();
        assert!(a.contains(p, Some("63579")));
        assert!(!a.contains(p, Some("60311")));
        assert!(!a.contains(p, None));
        assert!(Area::Everywhere.contains(p, None));
        let code = |s: &str| Area::parse_postal_codes(s).unwrap_err().code;
        assert_eq!(code(" , "), "required");
        assert_eq!(code("6357"), "invalid");
        assert_eq!(code("63571 abcde"), "invalid");
        let many: Vec<String> = (10000..10201).map(|n| n.to_string()).collect();
        assert_eq!(code(&many.join(",")), "too_long");
        assert!(Area::parse_postal_codes(&many[..200].join(" ")).is_ok());
        assert_eq!(
            Area::parse_postal_codes("1").unwrap_err().field,
            "postal_codes"
        );
    }

    const SQUARE_WITH_HOLE: &str = r#"{"type":"Polygon","coordinates":[
        [[9.0,50.0],[9.4,50.0],[9.4,50.4],[9.0,50.4],[9.0,50.0]],
        [[9.1,50.1],[9.3,50.1],[9.3,50.3],[9.1,50.3]]
    ]}"#;

    #[test]
    fn polygon_with_hole() {
        let a = Area::parse_geojson(SQUARE_WITH_HOLE).unwrap();
        let at = |lat, long| a.contains(GeoPoint::new(lat, long).unwrap(), None);
        assert!(at(50.05, 9.05));
        assert!(at(50.35, 9.35));
        assert!(!at(50.2, 9.2), "in the hole");
        assert!(!at(50.5, 9.2), "outside");
        assert!(!at(50.2, 8.9), "outside");
        // the closing vertex is dropped, and written again
        let Area::Polygon(p) = &a else { panic!() };
        assert_eq!((p[0][0].len(), p[0][1].len()), (4, 4));
        let again = Area::parse_geojson(&a.to_geojson().unwrap()).unwrap();
        assert_eq!(again, a);
        assert!(
            a.to_geojson()
                .unwrap()
                .starts_with(r#"{"coordinates":[[[9.0,50.0]"#)
        );
        assert_eq!(Area::Everywhere.to_geojson(), None);
    }

    #[test]
    fn geojson_wrappers_are_merged() {
        let fc = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"Nord"},"geometry":
            {"type":"Polygon","coordinates":[[[9,50],[9.1,50],[9.1,50.1]]]}},
          {"type":"Feature","properties":null,"geometry":
            {"type":"MultiPolygon","coordinates":[
              [[[10,50],[10.1,50],[10.1,50.1],[10,50.1],[10,50]]],
              [[[11,50,120.5],[11.1,50,120.5],[11.1,50.1,120.5]]]
            ]}}
        ]}"#;
        let a = Area::parse_geojson(fc).unwrap();
        let Area::Polygon(p) = &a else { panic!() };
        assert_eq!(p.len(), 3);
        assert!(a.contains(GeoPoint::new(50.05, 10.05).unwrap(), None));
        assert!(a.contains(GeoPoint::new(50.01, 11.05).unwrap(), None));
        assert!(!a.contains(GeoPoint::new(50.05, 12.0).unwrap(), None));
        assert!(a.to_geojson().unwrap().contains("MultiPolygon"));
        let feature = r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[9,50],[9.1,50],[9.1,50.1]]]}}"#;
        assert!(Area::parse_geojson(feature).is_ok());
    }

    #[test]
    fn bad_geojson_is_refused() {
        let code = |s: &str| Area::parse_geojson(s).unwrap_err().code;
        assert_eq!(code(""), "required");
        assert_eq!(code("{"), "invalid");
        assert_eq!(code(r#"{"type":"Point","coordinates":[9,50]}"#), "invalid");
        assert_eq!(code(r#"{"type":"Polygon","coordinates":[]}"#), "invalid");
        assert_eq!(
            code(r#"{"type":"Polygon","coordinates":[[[9,50],[9,51],[9,50]]]}"#),
            "invalid"
        );
        assert_eq!(
            code(r#"{"type":"Polygon","coordinates":[[[9,50],[9,91],[10,50]]]}"#),
            "invalid"
        );
        assert_eq!(
            code(r#"{"type":"Polygon","coordinates":[[[9,50],["9",51],[10,50]]]}"#),
            "invalid"
        );
        assert_eq!(code(r#"{"type":"Feature","geometry":null}"#), "invalid");
        assert_eq!(
            code(r#"{"type":"FeatureCollection","features":[]}"#),
            "invalid"
        );
        let nested = r#"{"type":"FeatureCollection","features":[{"type":"FeatureCollection","features":[]}]}"#;
        assert_eq!(code(nested), "invalid");
        let big = format!("{SQUARE_WITH_HOLE}{}", " ".repeat(64 * 1024));
        assert_eq!(code(&big), "too_long");
    }

    #[test]
    fn vertex_limit_counts_all_polygons() {
        // 64 KiB of text hold fewer than 20 000 vertices, so check the
        // counting below the size check
        let ring: Vec<Value> = (0..1_000)
            .map(|i| serde_json::json!([i % 3, i % 2]))
            .collect();
        let polys: Vec<Value> = (0..21).map(|_| serde_json::json!([ring.clone()])).collect();
        let count = |n: usize| {
            let v = serde_json::json!({"type": "MultiPolygon", "coordinates": polys[..n]});
            let (mut out, mut vertices) = (Vec::new(), 0);
            collect_polygons(&v, 0, &mut out, &mut vertices).map(|()| out.len())
        };
        assert_eq!(count(20), Ok(20));
        assert_eq!(count(21), Err("too_long"));
    }

    /// A star-shaped ring around (x, y); scaled down it stays inside.
    fn star(x: f64, y: f64, radii: &[f64], scale: f64) -> Vec<(f64, f64)> {
        let n = radii.len() as f64;
        radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let a = i as f64 / n * std::f64::consts::TAU;
                (x + r * scale * a.cos(), y + r * scale * a.sin())
            })
            .collect()
    }

    proptest! {
        #[test]
        fn never_inside_the_hole(
            radii in prop::collection::vec(0.01f64..0.5, 3..12),
            scale in 0.1f64..0.9,
            dx in -0.6f64..0.6,
            dy in -0.6f64..0.6,
        ) {
            let (cx, cy) = (9.2, 50.2);
            let outer = star(cx, cy, &radii, 1.0);
            let hole = star(cx, cy, &radii, scale);
            let area = Area::Polygon(vec![vec![outer.clone(), hole.clone()]]);
            let p = GeoPoint { lat: cy + dy, long: cx + dx };
            let inside = area.contains(p, None);
            let in_hole = in_ring(&hole, p.long, p.lat);
            prop_assert!(!(inside && in_hole));
            prop_assert_eq!(inside, in_ring(&outer, p.long, p.lat) && !in_hole);
            // round trip through GeoJSON keeps the answer
            let again = Area::parse_geojson(&area.to_geojson().unwrap()).unwrap();
            prop_assert_eq!(again.contains(p, None), inside);
        }
    }

    // --- services and attributes --------------------------------------------

    #[test]
    fn service_codes() {
        assert_eq!(
            ServiceCode::parse(" strassen-schaden_2 ").unwrap().as_str(),
            "strassen-schaden_2"
        );
        assert_eq!(ServiceCode::parse("").unwrap_err().code, "required");
        assert_eq!(ServiceCode::parse("Laterne").unwrap_err().code, "invalid");
        assert_eq!(ServiceCode::parse("-x").unwrap_err().code, "invalid");
        assert_eq!(ServiceCode::parse("a b").unwrap_err().code, "invalid");
        assert_eq!(
            ServiceCode::parse(&"a".repeat(41)).unwrap_err().code,
            "too_long"
        );
        assert!(ServiceCode::parse(&"a".repeat(40)).is_ok());
        assert_eq!(ServiceCode::parse("x!").unwrap_err().field, "service_code");
    }

    #[test]
    fn datatypes() {
        for d in Datatype::ALL {
            assert_eq!(Datatype::parse(d.code()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.code());
        }
    }

    const DEFS: &str = r#"[
      {"code":"art","datatype":"singlevaluelist","required":true,"description":"Art","order":1,
       "values":[{"key":"loch","name":"Schlagloch"},{"key":"riss","name":"Riss"}]},
      {"code":"groesse","datatype":"number","order":2},
      {"code":"seit","datatype":"datetime"},
      {"code":"hinweis","datatype":"string","variable":false,"required":true},
      {"code":"ort","datatype":"string"},
      {"code":"details","datatype":"text"},
      {"code":"gefahr","datatype":"multivaluelist",
       "values":[{"key":"kinder","name":"Kinder"},{"key":"rad","name":"Radverkehr"}]}
    ]"#;

    fn given(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn attribute_defs() {
        let defs = parse_attribute_defs(DEFS).unwrap();
        assert_eq!(defs.len(), 7);
        assert!(defs[1].variable && !defs[1].required && defs[1].values.is_empty());
        assert!(!defs[3].variable);
        assert_eq!(parse_attribute_defs("  ").unwrap(), vec![]);
        // round trip as stored
        let json = serde_json::to_string(&defs).unwrap();
        assert_eq!(parse_attribute_defs(&json).unwrap(), defs);
        let code = |s: &str| parse_attribute_defs(s).unwrap_err().code;
        assert_eq!(code("{"), "invalid");
        assert_eq!(code(r#"[{"code":"a","datatype":"color"}]"#), "invalid");
        assert_eq!(code(r#"[{"code":"A","datatype":"string"}]"#), "invalid");
        assert_eq!(
            code(r#"[{"code":"a","datatype":"string"},{"code":"a","datatype":"text"}]"#),
            "invalid"
        );
        assert_eq!(
            code(r#"[{"code":"a","datatype":"singlevaluelist","values":[]}]"#),
            "invalid"
        );
        assert_eq!(
            code(
                r#"[{"code":"a","datatype":"singlevaluelist","values":[{"key":"x","name":"X"},{"key":"x","name":"Y"}]}]"#
            ),
            "invalid"
        );
        let values: Vec<String> = (0..51)
            .map(|i| format!(r#"{{"key":"k{i}","name":"N"}}"#))
            .collect();
        let s = format!(
            r#"[{{"code":"a","datatype":"multivaluelist","values":[{}]}}]"#,
            values.join(",")
        );
        assert_eq!(code(&s), "too_long");
        let many: Vec<String> = (0..21)
            .map(|i| format!(r#"{{"code":"a{i}","datatype":"string"}}"#))
            .collect();
        assert_eq!(code(&format!("[{}]", many.join(","))), "too_long");
        assert!(parse_attribute_defs(&format!("[{}]", many[..20].join(","))).is_ok());
        assert_eq!(parse_attribute_defs("x").unwrap_err().field, "attributes");
    }

    #[test]
    fn attribute_answers() {
        let defs = parse_attribute_defs(DEFS).unwrap();
        let ok = validate_attributes(
            &defs,
            &given(&[
                ("art", &["loch"]),
                ("groesse", &["12,5"]),
                ("seit", &["2026-03-01T08:30"]),
                ("ort", &[" vor Nr. 5 "]),
                ("details", &["Zeile 1\r\nZeile 2"]),
                ("gefahr", &["rad", "kinder", "rad"]),
                ("unbekannt", &["x"]),
                ("hinweis", &["ignored"]),
            ]),
        )
        .unwrap();
        assert_eq!(ok["art"], "loch");
        assert_eq!(ok["groesse"], 12.5);
        assert_eq!(ok["seit"], "2026-03-01T08:30");
        assert_eq!(ok["ort"], "vor Nr. 5");
        assert_eq!(ok["details"], "Zeile 1\nZeile 2");
        assert_eq!(ok["gefahr"], serde_json::json!(["rad", "kinder"]));
        assert!(!ok.contains_key("unbekannt") && !ok.contains_key("hinweis"));

        let only_required =
            validate_attributes(&defs, &given(&[("art", &["riss"]), ("groesse", &["3"])])).unwrap();
        assert_eq!(only_required.len(), 2);
        assert_eq!(only_required["groesse"], serde_json::json!(3));

        let errs = validate_attributes(
            &defs,
            &given(&[
                ("art", &["   "]),
                ("groesse", &["zwölf"]),
                ("seit", &["gestern"]),
                ("ort", &["a\nb"]),
                ("details", &[&"x".repeat(2001)]),
                ("gefahr", &["rad", "auto"]),
            ]),
        )
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("attribute[art]", "required"),
                ("attribute[groesse]", "invalid"),
                ("attribute[seit]", "invalid"),
                ("attribute[ort]", "invalid"),
                ("attribute[details]", "too_long"),
                ("attribute[gefahr]", "invalid"),
            ]
        );
        let errs = validate_attributes(
            &defs,
            &given(&[
                ("art", &["loch", "riss"]),
                ("ort", &[&"y".repeat(301)]),
                ("groesse", &["1", "2"]),
            ]),
        )
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("attribute[art]", "invalid"),
                ("attribute[groesse]", "invalid"),
                ("attribute[ort]", "too_long"),
            ]
        );
        let e = validate_attributes(&defs, &given(&[("art", &["kaputt"])])).unwrap_err();
        assert_eq!(e[0].code, "invalid");
        for ok in [
            "2026-03-01",
            "2026-03-01T08:30:00",
            "2026-03-01T08:30:00+01:00",
            "2026-03-01T07:30:00Z",
        ] {
            assert!(is_datetime(ok), "{ok}");
        }
        for bad in ["2026-13-01", "01.03.2026", "2026-03-01 08:30"] {
            assert!(!is_datetime(bad), "{bad}");
        }
    }

    // --- text --------------------------------------------------------------

    #[test]
    fn texts() {
        assert_eq!(
            parse_description("  Schlagloch\r\nvor Nr. 5 ").unwrap(),
            "Schlagloch\nvor Nr. 5"
        );
        assert_eq!(parse_description(" \n ").unwrap_err().code, "required");
        assert_eq!(
            parse_description(&"ä".repeat(4001)).unwrap_err().code,
            "too_long"
        );
        assert!(parse_description(&"ä".repeat(4000)).is_ok());
        assert_eq!(parse_description("a\u{7}b").unwrap_err().code, "invalid");
        assert_eq!(
            parse_description("a\u{0}").unwrap_err().field,
            "description"
        );
        assert_eq!(parse_optional_text("name", "  ", 10).unwrap(), None);
        assert_eq!(
            parse_optional_text("name", " a\tb ", 10)
                .unwrap()
                .as_deref(),
            Some("a\tb")
        );
        assert_eq!(
            parse_optional_text("name", "a\u{1b}b", 10)
                .unwrap_err()
                .code,
            "invalid"
        );
        assert_eq!(
            parse_optional_text("name", "abcdefghijk", 10)
                .unwrap_err()
                .code,
            "too_long"
        );
    }

    // --- streets -----------------------------------------------------------

    const STREETS: &str = "\u{feff}strasse;plz;lat;long\n\
        # Musterstadt\n\
        Hauptstraße;63571;50.2010;9.1850\n\
        Mühlweg;63571;50.2030;9.1900\n\
        \n\
        Friedrich-Ebert-Straße;63571;50.1990;9.1800\n\
        Am Markt;63571;50.2005;9.1860\n\
        Bahnhofstraße;63571;50.1950;9.1700\n\
        Bahnhofstraße;63579;50.1500;9.2000\n\
        Bachgasse;63579;50.1510;9.2010\n";

    fn streets() -> Vec<Street> {
        parse_streets_csv(STREETS).unwrap()
    }

    #[test]
    fn reads_the_street_list() {
        let s = streets();
        assert_eq!(s.len(), 7);
        assert_eq!(s[1].name, "Mühlweg");
        assert_eq!(
            s[1].point,
            GeoPoint {
                lat: 50.203,
                long: 9.19
            }
        );
        assert!(
            parse_streets_csv("Weg;6357;50;9")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(
            parse_streets_csv("# x\nWeg;63571;95;9")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(parse_streets_csv("Weg;63571;50").is_err());
        assert!(parse_streets_csv(";63571;50;9").is_err());
        assert_eq!(parse_streets_csv("").unwrap(), vec![]);
    }

    #[test]
    fn finds_addresses() {
        let s = streets();
        let find = |q: &str| {
            find_address(q, &s).map(|m| {
                (
                    m.street.name.as_str(),
                    m.street.postal_code.as_str(),
                    m.house_number,
                )
            })
        };
        assert_eq!(
            find("hauptstr 12"),
            Some(("Hauptstraße", "63571", Some("12".into())))
        );
        assert_eq!(
            find("Hauptstr. 12a"),
            Some(("Hauptstraße", "63571", Some("12a".into())))
        );
        assert_eq!(
            find("HAUPTSTRASSE 12 - 14"),
            Some(("Hauptstraße", "63571", Some("12-14".into())))
        );
        assert_eq!(find("Hauptstraße"), Some(("Hauptstraße", "63571", None)));
        assert_eq!(
            find("Muehlweg 3, 63571 Musterstadt"),
            Some(("Mühlweg", "63571", Some("3".into())))
        );
        assert_eq!(find("mühlweg"), Some(("Mühlweg", "63571", None)));
        assert_eq!(
            find("Friedrich Ebert Str 1"),
            Some(("Friedrich-Ebert-Straße", "63571", Some("1".into())))
        );
        assert_eq!(
            find("friedrich-ebert-str.1"),
            Some(("Friedrich-Ebert-Straße", "63571", Some("1".into())))
        );
        assert_eq!(
            find("am markt 2 B"),
            Some(("Am Markt", "63571", Some("2b".into())))
        );
        // same name in two postal code areas: the suffix decides
        assert_eq!(
            find("Bahnhofstr. 1, 63579 Musterstadt"),
            Some(("Bahnhofstraße", "63579", Some("1".into())))
        );
        assert_eq!(
            find("Bahnhofstr. 1"),
            Some(("Bahnhofstraße", "63571", Some("1".into())))
        );
        // unique prefix
        assert_eq!(
            find("Friedr 7"),
            Some(("Friedrich-Ebert-Straße", "63571", Some("7".into())))
        );
        assert_eq!(find("Mühl"), Some(("Mühlweg", "63571", None)));
        // ambiguous prefix, too short, unknown
        assert_eq!(find("Ba"), None);
        assert_eq!(find("Bach"), Some(("Bachgasse", "63579", None)));
        assert_eq!(find("Bahn"), Some(("Bahnhofstraße", "63571", None)));
        assert_eq!(find("B"), None);
        assert_eq!(find("Lindenallee 4"), None);
        assert_eq!(find(""), None);
        assert_eq!(find("12"), None);
    }

    #[test]
    fn suggests_streets() {
        let s = streets();
        let names = |q: &str, n| {
            suggest(q, &s, n)
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("ba", 10),
            ["Bachgasse", "Bahnhofstraße", "Bahnhofstraße"]
        );
        assert_eq!(names("ba", 1), ["Bachgasse"]);
        assert_eq!(
            names("strasse", 10),
            [
                "Bahnhofstraße",
                "Bahnhofstraße",
                "Friedrich-Ebert-Straße",
                "Hauptstraße"
            ]
        );
        assert_eq!(names("weg 3", 10), ["Mühlweg"]);
        assert!(names("", 10).is_empty());
        assert!(names("zzz", 10).is_empty());
    }

    // --- duplicates --------------------------------------------------------

    #[test]
    fn nearby_reports() {
        let here = GeoPoint::new(50.2010, 9.1850).unwrap();
        let m = |d: f64| (d / EARTH_RADIUS_M).to_degrees();
        let c = vec![
            ("far", GeoPoint::new(50.2010 + m(80.0), 9.1850).unwrap()),
            ("near", GeoPoint::new(50.2010 + m(10.0), 9.1850).unwrap()),
            ("edge", GeoPoint::new(50.2010 - m(49.0), 9.1850).unwrap()),
            ("same", here),
        ];
        let found = nearby(here, &c, DUPLICATE_RADIUS_M);
        let ids: Vec<&str> = found.iter().map(|(t, _)| *t).collect();
        assert_eq!(ids, ["same", "near", "edge"]);
        assert!((found[1].1 - 10.0).abs() < 1e-6);
        assert!(nearby::<u8>(here, &[], 50.0).is_empty());
    }
}
