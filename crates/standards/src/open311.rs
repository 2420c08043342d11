//! Open311 GeoReport v2: the answers of the API (JSON through serde, XML
//! written here with the element names of the specification), the format
//! suffix of a path, and the form of POST Service Request and the query of
//! GET Service Requests. No I/O.
//!
//! JSON follows the schemas published with the specification: optional
//! fields of a service request are `null` when unknown; the answers to POST
//! (and the token look-up) leave unknown fields out, as the specification
//! says ("should not be returned"). Date-times are W3C/ISO 8601 in UTC with
//! `Z`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use rathaus_domain::defects::{AttributeDef, Datatype};
use serde::{Serialize, Serializer};

/// W3C date-time in UTC, e.g. `2010-04-14T14:37:38Z`.
pub fn w3c_datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn ser_dt<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&w3c_datetime(*t))
}

fn ser_opt_dt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&w3c_datetime(*t)),
        None => s.serialize_none(),
    }
}

// ---------------------------------------------------------------------------
// Answer types
// ---------------------------------------------------------------------------

/// How a server answers a POST: with the id at once, a token, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Realtime,
    Batch,
    Blackbox,
}

impl ServiceType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Realtime => "realtime",
            Self::Batch => "batch",
            Self::Blackbox => "blackbox",
        }
    }
}

/// One entry of GET Service List.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// True when the service has attributes (GET Service Definition).
    pub metadata: bool,
    #[serde(rename = "type")]
    pub type_: ServiceType,
    /// Comma separated.
    pub keywords: String,
    pub group: String,
}

/// One option of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttrValue {
    pub key: String,
    pub name: String,
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    /// Only for list datatypes; left out when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<AttrValue>,
}

impl From<&AttributeDef> for Attribute {
    fn from(d: &AttributeDef) -> Self {
        Attribute {
            variable: d.variable,
            code: d.code.clone(),
            datatype: d.datatype,
            required: d.required,
            datatype_description: d.datatype_description.clone(),
            order: d.order,
            description: d.description.clone(),
            values: d
                .values
                .iter()
                .map(|v| AttrValue {
                    key: v.key.clone(),
                    name: v.name.clone(),
                })
                .collect(),
        }
    }
}

/// GET Service Definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// One service request (defect report) as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    /// "open" or "closed".
    pub status: String,
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    #[serde(serialize_with = "ser_dt")]
    pub requested_datetime: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_dt")]
    pub updated_datetime: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_dt")]
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// The answer to POST Service Request (JSON: an array of these).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Created {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_notice: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// The answer to GET service_request_id from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenAnswer {
    pub token: String,
    /// Not yet known while the request waits in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
}

/// One error (JSON: an array of these). `code` is usually the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    pub code: u16,
    pub description: String,
}

impl Error {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        Error {
            code,
            description: description.into(),
        }
    }
}

/// One API endpoint in the service discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// E.g. `http://wiki.open311.org/GeoReport_v2`.
    pub specification: String,
    pub url: String,
    #[serde(serialize_with = "ser_dt")]
    pub changeset: DateTime<Utc>,
    /// "production" or "test".
    #[serde(rename = "type")]
    pub type_: String,
    /// Content types, e.g. `text/xml`, `application/json`.
    pub formats: Vec<String>,
}

/// The Open311 service discovery document (`/discovery.{xml,json}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// Last change of the services or their definitions.
    #[serde(serialize_with = "ser_dt")]
    pub changeset: DateTime<Utc>,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

/// Any answer as JSON.
pub fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("answer types serialize")
}

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

/// Escaped text: characters XML forbids become U+FFFD, CR is kept as `&#13;`.
fn esc(s: &str) -> String {
    let safe = crate::xdomea::xml_safe(s);
    quick_xml::escape::escape(safe.as_ref()).replace('\r', "&#13;")
}

struct Xml(Writer<Vec<u8>>);

impl Xml {
    fn new() -> Self {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 4);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
            .expect("writing to memory");
        Xml(w)
    }

    fn ev(&mut self, e: Event<'_>) {
        self.0.write_event(e).expect("writing to memory");
    }

    fn open(&mut self, name: &str) {
        self.ev(Event::Start(BytesStart::new(name)));
    }

    fn close(&mut self, name: &str) {
        self.ev(Event::End(BytesEnd::new(name)));
    }

    /// `<name>text</name>`, also when the text is empty.
    fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.ev(Event::Text(BytesText::from_escaped(esc(text))));
        self.close(name);
    }

    fn opt(&mut self, name: &str, text: Option<&str>) {
        self.leaf(name, text.unwrap_or(""));
    }

    fn finish(self) -> String {
        let mut s = String::from_utf8(self.0.into_inner()).expect("UTF-8 in, UTF-8 out");
        s.push('\n');
        s
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// GET Service List as `<services>`.
pub fn services_xml(services: &[Service]) -> String {
    let mut x = Xml::new();
    x.open("services");
    for s in services {
        x.open("service");
        x.leaf("service_code", &s.service_code);
        x.leaf("service_name", &s.service_name);
        x.leaf("description", &s.description);
        x.leaf("metadata", bool_text(s.metadata));
        x.leaf("type", s.type_.code());
        x.leaf("keywords", &s.keywords);
        x.leaf("group", &s.group);
        x.close("service");
    }
    x.close("services");
    x.finish()
}

/// GET Service Definition as `<service_definition>`.
pub fn service_definition_xml(d: &ServiceDefinition) -> String {
    let mut x = Xml::new();
    x.open("service_definition");
    x.leaf("service_code", &d.service_code);
    x.open("attributes");
    for a in &d.attributes {
        x.open("attribute");
        x.leaf("variable", bool_text(a.variable));
        x.leaf("code", &a.code);
        x.leaf("datatype", a.datatype.code());
        x.leaf("required", bool_text(a.required));
        x.leaf("datatype_description", &a.datatype_description);
        x.leaf("order", &a.order.to_string());
        x.leaf("description", &a.description);
        if !a.values.is_empty() {
            x.open("values");
            for v in &a.values {
                x.open("value");
                x.leaf("key", &v.key);
                x.leaf("name", &v.name);
                x.close("value");
            }
            x.close("values");
        }
        x.close("attribute");
    }
    x.close("attributes");
    x.close("service_definition");
    x.finish()
}

/// GET Service Requests (and a single one) as `<service_requests>`;
/// unknown fields are empty elements, as in the specification's example.
pub fn requests_xml(requests: &[ServiceRequest]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for r in requests {
        x.open("request");
        x.leaf("service_request_id", &r.service_request_id);
        x.leaf("status", &r.status);
        x.opt("status_notes", r.status_notes.as_deref());
        x.leaf("service_name", &r.service_name);
        x.leaf("service_code", &r.service_code);
        x.opt("description", r.description.as_deref());
        x.opt("agency_responsible", r.agency_responsible.as_deref());
        x.opt("service_notice", r.service_notice.as_deref());
        x.leaf("requested_datetime", &w3c_datetime(r.requested_datetime));
        x.opt(
            "updated_datetime",
            r.updated_datetime.map(w3c_datetime).as_deref(),
        );
        x.opt(
            "expected_datetime",
            r.expected_datetime.map(w3c_datetime).as_deref(),
        );
        x.opt("address", r.address.as_deref());
        x.opt("address_id", r.address_id.as_deref());
        x.opt("zipcode", r.zipcode.as_deref());
        x.opt(
            "lat",
            r.lat
                .filter(|v| v.is_finite())
                .map(|v| v.to_string())
                .as_deref(),
        );
        x.opt(
            "long",
            r.long
                .filter(|v| v.is_finite())
                .map(|v| v.to_string())
                .as_deref(),
        );
        x.opt("media_url", r.media_url.as_deref());
        x.close("request");
    }
    x.close("service_requests");
    x.finish()
}

/// The answer to POST Service Request; unknown fields are left out.
pub fn created_xml(created: &[Created]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for c in created {
        x.open("request");
        let fields = [
            ("service_request_id", &c.service_request_id),
            ("token", &c.token),
            ("service_notice", &c.service_notice),
            ("account_id", &c.account_id),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                x.leaf(name, v);
            }
        }
        x.close("request");
    }
    x.close("service_requests");
    x.finish()
}

/// The answer to GET service_request_id from a token.
pub fn tokens_xml(tokens: &[TokenAnswer]) -> String {
    let mut x = Xml::new();
    x.open("service_requests");
    for t in tokens {
        x.open("request");
        if let Some(id) = &t.service_request_id {
            x.leaf("service_request_id", id);
        }
        x.leaf("token", &t.token);
        x.close("request");
    }
    x.close("service_requests");
    x.finish()
}

/// Errors as `<errors>`.
pub fn errors_xml(errors: &[Error]) -> String {
    let mut x = Xml::new();
    x.open("errors");
    for e in errors {
        x.open("error");
        x.leaf("code", &e.code.to_string());
        x.leaf("description", &e.description);
        x.close("error");
    }
    x.close("errors");
    x.finish()
}

/// The service discovery document as `<discovery>`.
pub fn discovery_xml(d: &Discovery) -> String {
    let mut x = Xml::new();
    x.open("discovery");
    x.leaf("changeset", &w3c_datetime(d.changeset));
    x.leaf("contact", &d.contact);
    x.leaf("key_service", &d.key_service);
    x.open("endpoints");
    for e in &d.endpoints {
        x.open("endpoint");
        x.leaf("specification", &e.specification);
        x.leaf("url", &e.url);
        x.leaf("changeset", &w3c_datetime(e.changeset));
        x.leaf("type", &e.type_);
        x.open("formats");
        for f in &e.formats {
            x.leaf("format", f);
        }
        x.close("formats");
        x.close("endpoint");
    }
    x.close("endpoints");
    x.close("discovery");
    x.finish()
}

// ---------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------

/// The answer format, chosen by the path suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `requests.json` into `("requests", Json)`; `None` without a
    /// known suffix or with nothing before it.
    pub fn from_path_suffix(path_segment: &str) -> Option<(&str, Format)> {
        let (stem, ext) = path_segment.rsplit_once('.')?;
        let f = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!stem.is_empty()).then_some((stem, f))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

// ---------------------------------------------------------------------------
// POST Service Request
// ---------------------------------------------------------------------------

/// The form of POST Service Request, unchecked. Empty values are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostRequest {
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    /// `attribute[code]=v` (the last one wins) and `attribute[code][]=v`
    /// (all kept, in order).
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The code in `attribute[code]` and whether it is `attribute[code][]`.
fn attribute_key(key: &str) -> Option<(&str, bool)> {
    let rest = key.strip_prefix("attribute[")?;
    let (code, multi) = match rest.strip_suffix("][]") {
        Some(code) => (code, true),
        None => (rest.strip_suffix(']')?, false),
    };
    (!code.is_empty() && !code.contains(['[', ']'])).then_some((code, multi))
}

/// Reads the decoded form pairs; unknown keys are ignored, a repeated
/// field keeps its last value.
pub fn parse_form(pairs: &[(String, String)]) -> PostRequest {
    let mut r = PostRequest::default();
    for (k, v) in pairs {
        if let Some((code, multi)) = attribute_key(k) {
            let values = r.attributes.entry(code.to_string()).or_default();
            if !multi {
                values.clear();
            }
            if !v.trim().is_empty() {
                values.push(v.clone());
            }
            continue;
        }
        let slot = match k.as_str() {
            "api_key" => &mut r.api_key,
            "jurisdiction_id" => &mut r.jurisdiction_id,
            "service_code" => &mut r.service_code,
            "lat" => &mut r.lat,
            "long" => &mut r.long,
            "address_string" => &mut r.address_string,
            "address_id" => &mut r.address_id,
            "email" => &mut r.email,
            "device_id" => &mut r.device_id,
            "account_id" => &mut r.account_id,
            "first_name" => &mut r.first_name,
            "last_name" => &mut r.last_name,
            "phone" => &mut r.phone,
            "description" => &mut r.description,
            "media_url" => &mut r.media_url,
            _ => continue,
        };
        *slot = (!v.trim().is_empty()).then(|| v.clone());
    }
    r.attributes.retain(|_, v| !v.is_empty());
    r
}

// ---------------------------------------------------------------------------
// GET Service Requests
// ---------------------------------------------------------------------------

/// Most ids in one `service_request_id` list.
pub const MAX_REQUEST_IDS: usize = 100;

/// The filters of GET Service Requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub service_request_id: Vec<String>,
    pub service_code: Vec<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    /// "open" and/or "closed"; empty is both.
    pub status: Vec<String>,
    pub jurisdiction_id: Option<String>,
}

fn comma_list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !out.iter().any(|o| o == part) {
            out.push(part.to_string());
        }
    }
    out
}

/// A W3C date-time with offset, or a date (midnight UTC).
fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Reads the query of GET Service Requests; every problem is a 400 error
/// naming the parameter. Unknown parameters are ignored.
pub fn parse_search(pairs: &[(String, String)]) -> Result<SearchQuery, Vec<Error>> {
    let mut q = SearchQuery::default();
    let mut errs = Vec::new();
    for (k, v) in pairs {
        let v = v.trim();
        match k.as_str() {
            "service_request_id" => q.service_request_id = comma_list(v),
            "service_code" => q.service_code = comma_list(v),
            "jurisdiction_id" => q.jurisdiction_id = (!v.is_empty()).then(|| v.to_string()),
            "status" => q.status = comma_list(v),
            "start_date" | "end_date" => {
                let t = if v.is_empty() {
                    None
                } else {
                    match parse_date(v) {
                        Some(t) => Some(t),
                        None => {
                            errs.push(Error::new(
                                400,
                                format!(
                                    "{k} must be a W3C date-time with time zone, e.g. \
                                     2026-03-01T00:00:00Z (got {v:?})"
                                ),
                            ));
                            None
                        }
                    }
                };
                if k == "start_date" {
                    q.start_date = t;
                } else {
                    q.end_date = t;
                }
            }
            _ => {}
        }
    }
    if q.service_request_id.len() > MAX_REQUEST_IDS {
        errs.push(Error::new(
            400,
            format!("service_request_id lists at most {MAX_REQUEST_IDS} ids"),
        ));
    }
    if let Some(bad) = q.status.iter().find(|s| *s != "open" && *s != "closed") {
        errs.push(Error::new(
            400,
            format!("status must be open, closed or both separated by a comma (got {bad:?})"),
        ));
    }
    if let (Some(s), Some(e)) = (q.start_date, q.end_date)
        && s > e
    {
        errs.push(Error::new(400, "start_date is after end_date"));
    }
    if errs.is_empty() { Ok(q) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use quick_xml::Reader;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;
    use std::io::Write;
    use std::path::PathBuf;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn services() -> Vec<Service> {
        vec![
            Service {
                service_code: "strassenschaden".into(),
                service_name: "Straßenschaden".into(),
                description: "Schlaglöcher, Risse, lose Platten".into(),
                metadata: true,
                type_: ServiceType::Realtime,
                keywords: "Schlagloch, Straße".into(),
                group: "Straße".into(),
            },
            Service {
                service_code: "laterne".into(),
                service_name: "Straßenlaterne defekt".into(),
                description: String::new(),
                metadata: false,
                type_: ServiceType::Realtime,
                keywords: String::new(),
                group: "Beleuchtung".into(),
            },
        ]
    }

    fn definition() -> ServiceDefinition {
        ServiceDefinition {
            service_code: "strassenschaden".into(),
            attributes: vec![
                Attribute {
                    variable: true,
                    code: "art".into(),
                    datatype: Datatype::SingleValueList,
                    required: true,
                    datatype_description: String::new(),
                    order: 1,
                    description: "Art des Schadens".into(),
                    values: vec![
                        AttrValue {
                            key: "loch".into(),
                            name: "Schlagloch".into(),
                        },
                        AttrValue {
                            key: "riss".into(),
                            name: "Riss".into(),
                        },
                    ],
                },
                Attribute {
                    variable: true,
                    code: "groesse".into(),
                    datatype: Datatype::Number,
                    required: false,
                    datatype_description: "in Zentimetern".into(),
                    order: 2,
                    description: "Größe".into(),
                    values: vec![],
                },
            ],
        }
    }

    fn full_request() -> ServiceRequest {
        ServiceRequest {
            service_request_id: "2026-000123".into(),
            status: "closed".into(),
            status_notes: Some("Behoben.".into()),
            service_name: "Straßenschaden".into(),
            service_code: "strassenschaden".into(),
            description: Some("Tiefes Schlagloch vor Nr. 12".into()),
            agency_responsible: Some("Bauhof Musterstadt".into()),
            service_notice: Some("Wird binnen einer Woche geprüft.".into()),
            requested_datetime: t("2026-03-01T08:30:00+01:00"),
            updated_datetime: Some(t("2026-03-04T10:00:00Z")),
            expected_datetime: Some(t("2026-03-08T00:00:00Z")),
            address: Some("Hauptstraße 12, 63571 Musterstadt".into()),
            address_id: Some("hauptstrasse-12".into()),
            zipcode: Some("63571".into()),
            lat: Some(50.201),
            long: Some(9.185),
            media_url: Some("https://musterstadt.example/maengel/2026-000123/foto-1.jpg".into()),
        }
    }

    fn sparse_request() -> ServiceRequest {
        ServiceRequest {
            service_request_id: "2026-000124".into(),
            status: "open".into(),
            status_notes: None,
            service_name: "Straßenlaterne defekt".into(),
            service_code: "laterne".into(),
            description: None,
            agency_responsible: None,
            service_notice: None,
            requested_datetime: t("2026-03-02T18:00:00Z"),
            updated_datetime: None,
            expected_datetime: None,
            address: None,
            address_id: None,
            zipcode: None,
            lat: None,
            long: None,
            media_url: None,
        }
    }

    fn discovery() -> Discovery {
        Discovery {
            changeset: t("2026-03-01T00:00:00Z"),
            contact: "Bürgerbüro, buergerbuero@musterstadt.example".into(),
            key_service: "https://musterstadt.example/open311/key".into(),
            endpoints: vec![Endpoint {
                specification: "http://wiki.open311.org/GeoReport_v2".into(),
                url: "https://musterstadt.example/open311/v2".into(),
                changeset: t("2026-02-01T12:00:00Z"),
                type_: "production".into(),
                formats: vec!["text/xml".into(), "application/json".into()],
            }],
        }
    }

    // --- JSON against the published schemas --------------------------------

    fn ci() -> bool {
        std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
    }

    /// The Open311 folder of the shared standards, or `None` (skipped;
    /// a failure under CI=true).
    fn shared() -> Option<PathBuf> {
        let base = std::env::var_os("RATHAUS_SHARED_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        let dir = base.join("standards/open311");
        if dir.join("json-schema").is_dir() {
            return Some(dir);
        }
        assert!(
            !ci(),
            "the Open311 schemas are missing at {}: put the project's shared/ folder next to \
             the repository, or set RATHAUS_SHARED_DIR to it",
            dir.display()
        );
        // straight to stderr: the test harness does not capture this
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: open311 schema test skipped, {} is missing",
            dir.display()
        );
        None
    }

    fn read_json(dir: &std::path::Path, name: &str) -> Value {
        let p = dir.join("json-schema").join(name);
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
    }

    /// Replaces `{"$ref": "x.json"}` by the file's schema.
    fn inline_refs(dir: &std::path::Path, v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref").cloned()
                    && r.ends_with(".json")
                {
                    m.remove("$ref");
                    let Value::Object(target) = read_json(dir, &r) else {
                        panic!("{r}")
                    };
                    m.extend(target);
                }
                m.values_mut().for_each(|v| inline_refs(dir, v));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| inline_refs(dir, v)),
            _ => {}
        }
    }

    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(schema)
            .unwrap()
    }

    fn errors(schema: &Value, data: &Value) -> Vec<String> {
        validator(schema)
            .iter_errors(data)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// A schema file of json-schema/ with its `$ref`s inlined.
    fn file_schema(dir: &std::path::Path, name: &str) -> Value {
        let mut s = read_json(dir, name);
        inline_refs(dir, &mut s);
        s
    }

    /// An array of one definition of swagger.json.
    fn swagger_array(dir: &std::path::Path, def: &str) -> Value {
        let sw = read_json(dir, "swagger.json");
        json!({"definitions": sw["definitions"], "type": "array", "items": {"$ref": format!("#/definitions/{def}")}})
    }

    fn swagger_one(dir: &std::path::Path, def: &str) -> Value {
        let sw = read_json(dir, "swagger.json");
        json!({"definitions": sw["definitions"], "$ref": format!("#/definitions/{def}")})
    }

    fn value(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn json_answers_match_the_schemas() {
        let Some(dir) = shared() else { return };
        let services = value(&to_json(&services()));
        let definition = value(&to_json(&definition()));
        let requests = value(&to_json(&vec![full_request(), sparse_request()]));
        let cases = [
            (file_schema(&dir, "services.json"), services.clone()),
            (swagger_array(&dir, "Service"), services.clone()),
            (
                file_schema(&dir, "service-definition.json"),
                definition.clone(),
            ),
            (swagger_one(&dir, "ServiceDefinition"), definition.clone()),
            (file_schema(&dir, "requests.json"), requests.clone()),
            (file_schema(&dir, "request.json"), requests[1].clone()),
        ];
        for (schema, data) in &cases {
            assert_eq!(errors(schema, data), Vec::<String>::new(), "{data}");
        }
        // the shape of the schema's optional fields: null when unknown
        assert_eq!(requests[1]["status_notes"], Value::Null);
        assert_eq!(requests[1]["lat"], Value::Null);
        assert_eq!(requests[0]["requested_datetime"], "2026-03-01T07:30:00Z");
        assert_eq!(requests[0]["lat"], 50.201);
        assert!(definition["attributes"][0]["values"].is_array());
        assert!(definition["attributes"][1].get("values").is_none());

        let created = vec![
            Created {
                service_request_id: Some("2026-000125".into()),
                service_notice: Some("Danke!".into()),
                ..Default::default()
            },
            Created {
                token: Some("tok-1".into()),
                account_id: Some("acc-7".into()),
                ..Default::default()
            },
        ];
        let created = value(&to_json(&created));
        assert_eq!(
            created[0],
            json!({"service_request_id": "2026-000125", "service_notice": "Danke!"})
        );
        let tokens = value(&to_json(&vec![
            TokenAnswer {
                token: "tok-1".into(),
                service_request_id: Some("2026-000125".into()),
            },
            TokenAnswer {
                token: "tok-2".into(),
                service_request_id: None,
            },
        ]));
        assert_eq!(tokens[1], json!({"token": "tok-2"}));
        for (schema, data) in [
            (swagger_array(&dir, "RequestResponse"), &created),
            (swagger_array(&dir, "TokenResponse"), &tokens),
        ] {
            assert_eq!(errors(&schema, data), Vec::<String>::new(), "{data}");
        }

        // the check bites
        let mut bad = requests.clone();
        bad[0]["status"] = json!("pending");
        assert!(!errors(&file_schema(&dir, "requests.json"), &bad).is_empty());
        let mut bad = requests[0].clone();
        bad["requested_datetime"] = json!("01.03.2026 08:30");
        assert!(!errors(&file_schema(&dir, "request.json"), &bad).is_empty());
        let mut bad = services.clone();
        bad[0]["type"] = json!("sometimes");
        assert!(!errors(&file_schema(&dir, "services.json"), &bad).is_empty());
    }

    #[test]
    fn other_json_answers() {
        let e = value(&to_json(&vec![Error::new(403, "Invalid api_key")]));
        assert_eq!(e, json!([{"code": 403, "description": "Invalid api_key"}]));
        let d = value(&to_json(&discovery()));
        assert_eq!(d["changeset"], "2026-03-01T00:00:00Z");
        assert_eq!(d["endpoints"][0]["type"], "production");
        assert_eq!(
            d["endpoints"][0]["formats"],
            json!(["text/xml", "application/json"])
        );
        assert_eq!(d["key_service"], "https://musterstadt.example/open311/key");
        assert_eq!(
            w3c_datetime(Utc.with_ymd_and_hms(2010, 1, 1, 0, 0, 0).unwrap()),
            "2010-01-01T00:00:00Z"
        );
    }

    // --- XML against the specification's examples --------------------------

    /// Element paths (`a/b/c`) in document order.
    fn paths(xml: &str) -> Vec<String> {
        let mut r = Reader::from_str(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut out = Vec::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) => {
                    stack.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                    out.push(stack.join("/"));
                }
                Event::Empty(e) => {
                    stack.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                    out.push(stack.join("/"));
                    stack.pop();
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn set(p: &[String]) -> BTreeSet<String> {
        p.iter().cloned().collect()
    }

    /// The texts of all elements named `name`, unescaped.
    fn texts(xml: &str, name: &str) -> Vec<String> {
        let mut r = Reader::from_str(xml);
        let mut out = Vec::new();
        let mut inside = false;
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == name.as_bytes() => {
                    inside = true;
                    out.push(String::new());
                }
                Event::Text(t) if inside => {
                    out.last_mut().unwrap().push_str(&t.unescape().unwrap())
                }
                Event::End(_) => inside = false,
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn example(dir: &std::path::Path, name: &str) -> String {
        std::fs::read_to_string(dir.join("spec-examples").join(name)).unwrap()
    }

    #[test]
    fn xml_answers_use_the_spec_elements() {
        let Some(dir) = shared() else { return };
        let check = |ours: &str, example_file: &str, must_equal: bool| {
            assert!(ours.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"));
            let ours = set(&paths(ours));
            let theirs = set(&paths(&example(&dir, example_file)));
            assert!(
                ours.is_subset(&theirs),
                "{example_file}: {:?}",
                ours.difference(&theirs).collect::<Vec<_>>()
            );
            if must_equal {
                assert_eq!(ours, theirs, "{example_file}");
            }
        };
        check(&services_xml(&services()), "01_GET_Service_List.xml", true);
        check(
            &service_definition_xml(&definition()),
            "03_GET_Service_Definition.xml",
            true,
        );
        check(
            &requests_xml(&[full_request(), sparse_request()]),
            "09_GET_Service_Requests.xml",
            true,
        );
        check(
            &requests_xml(&[full_request()]),
            "11_GET_Service_Request.xml",
            true,
        );
        check(&requests_xml(&[]), "09_GET_Service_Requests.xml", false);
        let created = Created {
            service_request_id: Some("1".into()),
            service_notice: Some("n".into()),
            account_id: Some("a".into()),
            token: None,
        };
        check(
            &created_xml(&[created]),
            "05_POST_Service_Request.xml",
            true,
        );
        let batch = Created {
            token: Some("t".into()),
            ..Default::default()
        };
        let token_paths = set(&paths(&created_xml(&[batch])));
        assert!(token_paths.contains("service_requests/request/token"));
        assert!(!token_paths.contains("service_requests/request/service_request_id"));
        let tokens = [TokenAnswer {
            token: "12345".into(),
            service_request_id: Some("638344".into()),
        }];
        check(
            &tokens_xml(&tokens),
            "07_GET_service_request_id_from_a_token.xml",
            true,
        );

        // the order of a request's fields is the specification's
        let ours = paths(&requests_xml(&[full_request()]));
        assert_eq!(ours, paths(&example(&dir, "11_GET_Service_Request.xml")));
        let ours = paths(&service_definition_xml(&definition()));
        assert!(ours.starts_with(&paths(&example(&dir, "03_GET_Service_Definition.xml"))));

        // errors: the example sits in the specification's text
        let spec = std::fs::read_to_string(dir.join("GeoReport-v2-spec.md")).unwrap();
        let start = spec.find("<errors>").expect("errors example");
        let end = spec[start..].find("</errors>").unwrap() + start + "</errors>".len();
        let theirs = paths(&spec[start..end]);
        let ours = paths(&errors_xml(&[Error::new(403, "Invalid api_key received")]));
        assert_eq!(ours, theirs);
    }

    #[test]
    fn xml_values() {
        let xml = requests_xml(&[full_request(), sparse_request()]);
        assert_eq!(
            texts(&xml, "requested_datetime"),
            ["2026-03-01T07:30:00Z", "2026-03-02T18:00:00Z"]
        );
        assert_eq!(texts(&xml, "lat"), ["50.201", ""]);
        assert_eq!(texts(&xml, "status"), ["closed", "open"]);
        assert!(xml.contains("<status_notes></status_notes>"), "{xml}");
        let xml = services_xml(&services());
        assert_eq!(texts(&xml, "metadata"), ["true", "false"]);
        assert_eq!(texts(&xml, "type"), ["realtime", "realtime"]);
        let xml = service_definition_xml(&definition());
        assert_eq!(texts(&xml, "datatype"), ["singlevaluelist", "number"]);
        assert_eq!(texts(&xml, "key"), ["loch", "riss"]);
        assert_eq!(texts(&xml, "order"), ["1", "2"]);
        let xml = discovery_xml(&discovery());
        assert_eq!(
            set(&paths(&xml)),
            set(&[
                "discovery",
                "discovery/changeset",
                "discovery/contact",
                "discovery/key_service",
                "discovery/endpoints",
                "discovery/endpoints/endpoint",
                "discovery/endpoints/endpoint/specification",
                "discovery/endpoints/endpoint/url",
                "discovery/endpoints/endpoint/changeset",
                "discovery/endpoints/endpoint/type",
                "discovery/endpoints/endpoint/formats",
                "discovery/endpoints/endpoint/formats/format",
            ]
            .map(String::from))
        );
        assert_eq!(texts(&xml, "format"), ["text/xml", "application/json"]);
        assert_eq!(
            texts(&xml, "changeset"),
            ["2026-03-01T00:00:00Z", "2026-02-01T12:00:00Z"]
        );
        let xml = errors_xml(&[Error::new(400, "a"), Error::new(404, "b")]);
        assert_eq!(texts(&xml, "code"), ["400", "404"]);
    }

    #[test]
    fn xml_escapes_text() {
        let mut r = full_request();
        r.description = Some("Loch <tief> & \"gefährlich\" 'sehr'\r\nZeile\u{1}".into());
        let xml = requests_xml(&[r]);
        assert!(!xml.contains("<tief>"));
        assert!(xml.contains("&lt;tief&gt; &amp; &quot;gefährlich&quot;"));
        assert_eq!(
            texts(&xml, "description"),
            ["Loch <tief> & \"gefährlich\" 'sehr'\r\nZeile\u{fffd}"]
        );
        let xml = errors_xml(&[Error::new(400, "<&\"")]);
        assert_eq!(texts(&xml, "description"), ["<&\""]);
        let mut s = services();
        s[0].service_name = "A</service_name><x>".into();
        let xml = services_xml(&s);
        assert_eq!(texts(&xml, "service_name")[0], "A</service_name><x>");
        assert!(!paths(&xml).iter().any(|p| p.ends_with("/x")));
    }

    // --- formats, form and query ---------------------------------------------

    #[test]
    fn path_suffixes() {
        assert_eq!(
            Format::from_path_suffix("requests.json"),
            Some(("requests", Format::Json))
        );
        assert_eq!(
            Format::from_path_suffix("2026-000123.xml"),
            Some(("2026-000123", Format::Xml))
        );
        assert_eq!(
            Format::from_path_suffix("a.b.xml"),
            Some(("a.b", Format::Xml))
        );
        assert_eq!(Format::from_path_suffix("requests"), None);
        assert_eq!(Format::from_path_suffix("requests.html"), None);
        assert_eq!(Format::from_path_suffix(".json"), None);
        assert_eq!(
            Format::Json.content_type(),
            "application/json; charset=utf-8"
        );
        assert_eq!(Format::Xml.content_type(), "text/xml; charset=utf-8");
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_the_post_form() {
        let r = parse_form(&pairs(&[
            ("api_key", "k"),
            ("service_code", "strassenschaden"),
            ("lat", "50.2010"),
            ("long", "9.1850"),
            ("email", ""),
            ("description", "erst"),
            ("description", "Schlagloch"),
            ("phone", "   "),
            ("attribute[art]", "loch"),
            ("attribute[art]", "riss"),
            ("attribute[gefahr][]", "kinder"),
            ("attribute[gefahr][]", "rad"),
            ("attribute[leer]", ""),
            ("attribute[]", "x"),
            ("attribute[a][b]", "x"),
            ("attributes[x]", "x"),
            ("unknown", "x"),
        ]));
        assert_eq!(r.api_key.as_deref(), Some("k"));
        assert_eq!(r.service_code.as_deref(), Some("strassenschaden"));
        assert_eq!(
            (r.lat.as_deref(), r.long.as_deref()),
            (Some("50.2010"), Some("9.1850"))
        );
        assert_eq!(r.email, None);
        assert_eq!(r.phone, None);
        assert_eq!(r.description.as_deref(), Some("Schlagloch"));
        let attrs: Vec<(&str, Vec<&str>)> = r
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            attrs,
            [("art", vec!["riss"]), ("gefahr", vec!["kinder", "rad"])]
        );
        assert_eq!(parse_form(&[]), PostRequest::default());
    }

    #[test]
    fn reads_the_search_query() {
        let q = parse_search(&pairs(&[
            ("service_request_id", "1, 2,,3,2"),
            ("service_code", "laterne"),
            ("start_date", "2026-03-01T00:00:00+01:00"),
            ("end_date", "2026-03-31"),
            ("status", "open,closed"),
            ("jurisdiction_id", "musterstadt.example"),
            ("page", "2"),
        ]))
        .unwrap();
        assert_eq!(q.service_request_id, ["1", "2", "3"]);
        assert_eq!(q.service_code, ["laterne"]);
        assert_eq!(q.start_date, Some(t("2026-02-28T23:00:00Z")));
        assert_eq!(q.end_date, Some(t("2026-03-31T00:00:00Z")));
        assert_eq!(q.status, ["open", "closed"]);
        assert_eq!(q.jurisdiction_id.as_deref(), Some("musterstadt.example"));
        assert_eq!(
            parse_search(&pairs(&[("status", ""), ("start_date", "")])).unwrap(),
            SearchQuery::default()
        );

        let e =
            parse_search(&pairs(&[("start_date", "gestern"), ("status", "pending")])).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e.iter().all(|e| e.code == 400));
        assert!(e[0].description.contains("start_date") && e[0].description.contains("gestern"));
        assert!(e[1].description.contains("status") && e[1].description.contains("pending"));
        let e = parse_search(&pairs(&[("end_date", "2026-03-01T00:00:00")])).unwrap_err();
        assert!(e[0].description.starts_with("end_date"));
        let ids: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        let e = parse_search(&pairs(&[("service_request_id", &ids.join(","))])).unwrap_err();
        assert!(e[0].description.contains("service_request_id"));
        assert!(parse_search(&pairs(&[("service_request_id", &ids[..100].join(","))])).is_ok());
        let e = parse_search(&pairs(&[
            ("start_date", "2026-03-02"),
            ("end_date", "2026-03-01"),
        ]))
        .unwrap_err();
        assert!(e[0].description.contains("start_date"));
    }

    #[test]
    fn attributes_from_the_domain() {
        let defs = rathaus_domain::defects::parse_attribute_defs(
            r#"[{"code":"art","datatype":"singlevaluelist","required":true,"order":1,
                "values":[{"key":"loch","name":"Schlagloch"}]}]"#,
        )
        .unwrap();
        let a = Attribute::from(&defs[0]);
        assert_eq!(
            a.values,
            [AttrValue {
                key: "loch".into(),
                name: "Schlagloch".into()
            }]
        );
        assert!(a.variable && a.required && a.order == 1);
    }
}
