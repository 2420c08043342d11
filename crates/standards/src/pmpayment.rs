//! pmPayment (govconnect), the e-payment interface many German
//! municipalities use: the platform starts a payment at the provider, the
//! citizen pays on the provider's page, the provider notifies the platform
//! and sends the citizen back.
//!
//! # The three messages
//!
//! 1. **Start** (platform → provider): `POST <provider>/payment/start`,
//!    `application/x-www-form-urlencoded`, fields
//!
//!    | field         | value                                                       |
//!    |---------------|-------------------------------------------------------------|
//!    | `ags`         | the municipality's key (Amtlicher Gemeindeschlüssel), 8 digits |
//!    | `amount`      | integer cents, `1 ..=` [`MAX_AMOUNT_CENTS`], no leading zero |
//!    | `procedure`   | the procedure's name, ≤ [`MAX_PROCEDURE_CHARS`] characters  |
//!    | `desc`        | the text the citizen sees, ≤ [`MAX_DESC_CHARS`] characters  |
//!    | `notifyURL`   | where the provider posts the [`Notification`]              |
//!    | `redirectURL` | where the provider sends the citizen back                   |
//!    | `hash`        | the signature, see below                                    |
//!
//!    `hash` is the lowercase hex HMAC-SHA256, with the shared secret as
//!    key, of the six values joined with `|`:
//!    `ags|amount|procedure|desc|notifyURL|redirectURL`.
//!    Built by [`StartRequest::form_fields`], checked by [`verify_start`].
//!    The provider answers with JSON `{"url": "<pay page>", "txid": "<id>"}`
//!    ([`StartResponse`]).
//! 2. **Notification** (provider → platform): a form POST to `notifyURL`
//!    with `ags, txid, amount, desc, status, payment_method, procedure,
//!    created_at` and **no hash**. Anyone can post one, so a
//!    [`Notification`] is only a hint that something happened: it is never
//!    trusted alone.
//! 3. **Status** (platform → provider): `GET
//!    <provider>/payment/status/{ags}/{txid}` ([`status_path`]) answers JSON
//!    `{"status": 1|0|-1, "amount": <cents>, "txid": "…", "payment_method":
//!    "…"}` ([`StatusResponse`]). The platform confirms a payment only by
//!    this answer, and checks the amount with [`StatusResponse::check`].
//!
//! # Status codes ([`PaymentStatus`])
//!
//! | code | meaning                                                              |
//! |------|----------------------------------------------------------------------|
//! | `1`  | [`PaymentStatus::Paid`]: the provider has the money (final)          |
//! | `0`  | [`PaymentStatus::Failed`]: the payment was refused (final)           |
//! | `-1` | [`PaymentStatus::Open`]: not (yet) paid: still open, or broken off by the citizen |
//!
//! # Strictness
//!
//! - A form is at most [`MAX_FORM_BYTES`] with at most [`MAX_FORM_FIELDS`]
//!   fields, decoded strictly ([`parse_form`]: a malformed `%` escape or a
//!   value that is not UTF-8 is refused, not replaced); every field we
//!   read must appear exactly once (a duplicate is refused, so two parsers
//!   cannot see different values); fields we do not know are ignored (they
//!   are not covered by the hash).
//! - No value may contain `|`, control characters or (URLs) anything outside
//!   RFC 3986's characters: the signing input joins the values with `|`, and
//!   a `|` inside a value would let a signature be moved to another split of
//!   the same text.
//! - The hash is compared in constant time (`ring::hmac::verify`); upper or
//!   lower case hex is accepted, [`StartRequest::hash`] writes lower case.
//! - JSON answers are at most [`MAX_JSON_BYTES`]; unknown JSON members are
//!   ignored.
//!
//! Every error has a stable [`PmError::code`] (`pm.*`). Pure code: no I/O.

use ring::hmac;

/// Largest form body (start or notification) read, in bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// Most fields in one form.
pub const MAX_FORM_FIELDS: usize = 32;
/// Largest JSON answer (start or status) read, in bytes.
pub const MAX_JSON_BYTES: usize = 8 * 1024;
/// Longest `desc`, in characters.
pub const MAX_DESC_CHARS: usize = 200;
/// Longest `procedure`, in characters.
pub const MAX_PROCEDURE_CHARS: usize = 100;
/// Longest URL (`notifyURL`, `redirectURL`, the pay page), in bytes.
pub const MAX_URL_BYTES: usize = 1024;
/// Longest transaction id, in bytes (`[A-Za-z0-9._-]`).
pub const MAX_TXID_BYTES: usize = 64;
/// Longest payment method name, in bytes.
pub const MAX_METHOD_BYTES: usize = 64;
/// Largest amount: 1 000 000 000,00 € in cents.
pub const MAX_AMOUNT_CENTS: u64 = 100_000_000_000;
/// Path of the start request at the provider.
pub const START_PATH: &str = "/payment/start";

/// Why a pmPayment message was refused. Messages in German with the
/// English in brackets; [`PmError::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PmError {
    #[error("{what} zu groß (too large): {bytes} Bytes, höchstens (at most) {max}")]
    TooLarge {
        what: &'static str,
        bytes: usize,
        max: usize,
    },
    #[error("Formular nicht lesbar (malformed form): {0}")]
    MalformedForm(String),
    #[error("zu viele Felder (too many fields): {count}, höchstens (at most) {max}")]
    TooManyFields { count: usize, max: usize },
    #[error("Feld fehlt (missing field): {0}")]
    MissingField(&'static str),
    #[error("Feld doppelt (duplicate field): {0}")]
    DuplicateField(&'static str),
    #[error("Feld (field) {field}: {problem}")]
    InvalidField {
        field: &'static str,
        problem: String,
    },
    #[error("Prüfsumme falsch (hash does not match)")]
    HashMismatch,
    #[error("kein gemeinsames Geheimnis eingerichtet (empty shared secret)")]
    EmptySecret,
    #[error("Antwort ist kein gültiges JSON (malformed JSON): {0}")]
    MalformedJson(String),
    #[error("Antwort gehört zu einer anderen Zahlung (answer is for another transaction)")]
    TxidMismatch,
    #[error(
        "Betrag stimmt nicht (amount mismatch): erwartet (expected) {expected}, erhalten (got) {found} Cent"
    )]
    AmountMismatch { expected: u64, found: u64 },
}

impl PmError {
    /// A stable code: `pm.too_large`, `pm.malformed_form`,
    /// `pm.too_many_fields`, `pm.missing_field`, `pm.duplicate_field`,
    /// `pm.invalid_field`, `pm.hash_mismatch`, `pm.empty_secret`,
    /// `pm.malformed_json`, `pm.txid_mismatch`, `pm.amount_mismatch`.
    pub const fn code(&self) -> &'static str {
        match self {
            PmError::TooLarge { .. } => "pm.too_large",
            PmError::MalformedForm(_) => "pm.malformed_form",
            PmError::TooManyFields { .. } => "pm.too_many_fields",
            PmError::MissingField(_) => "pm.missing_field",
            PmError::DuplicateField(_) => "pm.duplicate_field",
            PmError::InvalidField { .. } => "pm.invalid_field",
            PmError::HashMismatch => "pm.hash_mismatch",
            PmError::EmptySecret => "pm.empty_secret",
            PmError::MalformedJson(_) => "pm.malformed_json",
            PmError::TxidMismatch => "pm.txid_mismatch",
            PmError::AmountMismatch { .. } => "pm.amount_mismatch",
        }
    }

    /// The field the error is about, if it is about one.
    pub const fn field(&self) -> Option<&'static str> {
        match self {
            PmError::MissingField(f) | PmError::DuplicateField(f) => Some(f),
            PmError::InvalidField { field, .. } => Some(field),
            PmError::HashMismatch => Some("hash"),
            _ => None,
        }
    }

    /// True when the sender could not show it knows the shared secret (the
    /// hash is missing, malformed or wrong): a provider answers 401.
    pub fn is_authentication(&self) -> bool {
        matches!(self, PmError::HashMismatch) || self.field() == Some("hash")
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> PmError {
    PmError::InvalidField {
        field,
        problem: problem.into(),
    }
}

/// The state of a payment; see the module documentation for the codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// `1`: paid (final).
    Paid,
    /// `0`: failed, refused by the provider (final).
    Failed,
    /// `-1`: open or cancelled: not paid (the citizen has not finished or
    /// broke off).
    Open,
}

impl PaymentStatus {
    /// The wire code: `1`, `0` or `-1`.
    pub const fn code(self) -> i8 {
        match self {
            PaymentStatus::Paid => 1,
            PaymentStatus::Failed => 0,
            PaymentStatus::Open => -1,
        }
    }

    /// The status for a wire code, `None` for any other number.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(PaymentStatus::Paid),
            0 => Some(PaymentStatus::Failed),
            -1 => Some(PaymentStatus::Open),
            _ => None,
        }
    }

    fn parse_field(field: &'static str, s: &str) -> Result<Self, PmError> {
        match s {
            "1" => Ok(PaymentStatus::Paid),
            "0" => Ok(PaymentStatus::Failed),
            "-1" => Ok(PaymentStatus::Open),
            _ => Err(invalid(field, "erwartet (expected) 1, 0 oder (or) -1")),
        }
    }
}

// ---------------------------------------------------------------------------
// Forms

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, with
/// the size and field-count limits. Shared with [`crate::epaybl`].
pub(crate) fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, PmError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(PmError::TooLarge {
            what: "Formular (form)",
            bytes: body.len(),
            max: MAX_FORM_BYTES,
        });
    }
    // Count before decoding, so a body of 16 KiB of `&` allocates nothing.
    let count = body.split(|b| *b == b'&').filter(|p| !p.is_empty()).count();
    if count > MAX_FORM_FIELDS {
        return Err(PmError::TooManyFields {
            count,
            max: MAX_FORM_FIELDS,
        });
    }
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            Ok((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// One name or value: `+` is a space, `%XX` a byte; the result must be
/// UTF-8. Malformed escapes and invalid UTF-8 are refused, not replaced.
fn form_decode(part: &[u8]) -> Result<String, PmError> {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
                match (hex(part.get(i + 1)), hex(part.get(i + 2))) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => {
                        return Err(PmError::MalformedForm(
                            "ungültige %-Kodierung (invalid percent-encoding)".into(),
                        ));
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PmError::MalformedForm("kein UTF-8 (not UTF-8)".into()))
}

/// Reads a form body (at most [`MAX_FORM_BYTES`], [`MAX_FORM_FIELDS`]
/// fields) into its name/value pairs, for [`verify_start`] and
/// [`Notification::from_fields`].
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, PmError> {
    decode_form(body)
}

fn check_field_count(fields: &[(String, String)]) -> Result<(), PmError> {
    if fields.len() > MAX_FORM_FIELDS {
        return Err(PmError::TooManyFields {
            count: fields.len(),
            max: MAX_FORM_FIELDS,
        });
    }
    Ok(())
}

/// The value of the field `name`: exactly once, or an error.
fn take<'a>(fields: &'a [(String, String)], name: &'static str) -> Result<&'a str, PmError> {
    let mut found = None;
    for (k, v) in fields {
        if k == name {
            if found.is_some() {
                return Err(PmError::DuplicateField(name));
            }
            found = Some(v.as_str());
        }
    }
    found.ok_or(PmError::MissingField(name))
}

// ---------------------------------------------------------------------------
// Field checks

/// Checks an AGS: exactly 8 ASCII digits.
pub fn check_ags(ags: &str) -> Result<(), PmError> {
    if ags.len() == 8 && ags.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid("ags", "erwartet 8 Ziffern (expected 8 digits)"))
    }
}

/// Checks a transaction id: 1 to [`MAX_TXID_BYTES`] of `[A-Za-z0-9._-]`.
pub fn check_txid(txid: &str) -> Result<(), PmError> {
    if txid.is_empty() || txid.len() > MAX_TXID_BYTES {
        return Err(invalid(
            "txid",
            format!("1 bis (to) {MAX_TXID_BYTES} Zeichen (characters)"),
        ));
    }
    if !txid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid("txid", "nur (only) A-Z, a-z, 0-9, '.', '_', '-'"));
    }
    Ok(())
}

fn parse_amount(field: &'static str, s: &str, min: u64) -> Result<u64, PmError> {
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            field,
            "erwartet ganze Cent (expected integer cents)",
        ));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(invalid(field, "führende Null (leading zero)"));
    }
    let value: u64 = s
        .parse()
        .map_err(|_| invalid(field, "erwartet ganze Cent (expected integer cents)"))?;
    check_amount(field, value, min)?;
    Ok(value)
}

fn check_amount(field: &'static str, value: u64, min: u64) -> Result<(), PmError> {
    if value < min || value > MAX_AMOUNT_CENTS {
        return Err(invalid(
            field,
            format!("Betrag (amount) {min} bis (to) {MAX_AMOUNT_CENTS} Cent"),
        ));
    }
    Ok(())
}

/// A text: not empty, at most `max` characters, no control characters, no
/// `|` (the separator of the signing input).
fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), PmError> {
    if s.trim().is_empty() {
        return Err(invalid(field, "leer (empty)"));
    }
    let chars = s.chars().count();
    if chars > max {
        return Err(invalid(
            field,
            format!("{chars} Zeichen, höchstens (characters, at most) {max}"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "Steuerzeichen (control character)"));
    }
    if s.contains('|') {
        return Err(invalid(field, "enthält (contains) '|'"));
    }
    Ok(())
}

/// An absolute `http://` or `https://` URL of at most [`MAX_URL_BYTES`],
/// with a host and only RFC 3986 characters (so no `|`, space, quotes or
/// angle brackets; other characters must be percent-encoded).
pub(crate) fn check_url_value(s: &str) -> Result<(), String> {
    if s.len() > MAX_URL_BYTES {
        return Err(format!(
            "{} Bytes, höchstens (at most) {MAX_URL_BYTES}",
            s.len()
        ));
    }
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        r
    } else {
        return Err("erwartet (expected) http:// oder (or) https://".into());
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_end == 0 {
        return Err("kein Host (no host)".into());
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b);
    if !s.bytes().all(allowed) {
        return Err("Zeichen außerhalb von RFC 3986 (character not allowed in a URL)".into());
    }
    Ok(())
}

fn check_url(field: &'static str, s: &str) -> Result<(), PmError> {
    check_url_value(s).map_err(|p| invalid(field, p))
}

fn check_method(field: &'static str, s: &str) -> Result<Option<String>, PmError> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.len() > MAX_METHOD_BYTES {
        return Err(invalid(
            field,
            format!("höchstens (at most) {MAX_METHOD_BYTES} Zeichen (characters)"),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" ._/+-".contains(&b))
    {
        return Err(invalid(
            field,
            "nur (only) A-Z, a-z, 0-9, Leerzeichen (space), '._/+-'",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// A time stamp as providers send it: RFC 3339 (`2026-03-01T09:30:00Z`,
/// `…+01:00`) or `YYYY-MM-DD HH:MM:SS` (local time), at most 40 bytes.
fn check_created_at(s: &str) -> Result<(), PmError> {
    let ok = s.len() <= 40
        && (chrono::DateTime::parse_from_rfc3339(s).is_ok()
            || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "created_at",
            "erwartet (expected) RFC 3339 oder (or) YYYY-MM-DD HH:MM:SS",
        ))
    }
}

// ---------------------------------------------------------------------------
// Start

/// A payment start (platform → provider). Build one with
/// [`StartRequest::new`] (checks every field) and send
/// [`StartRequest::form_fields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// The municipality's key, 8 digits.
    pub ags: String,
    /// The amount in cents, `1 ..=` [`MAX_AMOUNT_CENTS`].
    pub amount: u64,
    /// The procedure's name.
    pub procedure: String,
    /// The text the citizen sees on the pay page.
    pub desc: String,
    /// Where the provider posts the notification.
    pub notify_url: String,
    /// Where the provider sends the citizen back.
    pub redirect_url: String,
}

impl StartRequest {
    /// A start request whose fields are all checked ([`StartRequest::validate`]).
    pub fn new(
        ags: impl Into<String>,
        amount: u64,
        procedure: impl Into<String>,
        desc: impl Into<String>,
        notify_url: impl Into<String>,
        redirect_url: impl Into<String>,
    ) -> Result<Self, PmError> {
        let request = StartRequest {
            ags: ags.into(),
            amount,
            procedure: procedure.into(),
            desc: desc.into(),
            notify_url: notify_url.into(),
            redirect_url: redirect_url.into(),
        };
        request.validate()?;
        Ok(request)
    }

    /// Checks every field as [`verify_start`] does.
    pub fn validate(&self) -> Result<(), PmError> {
        check_ags(&self.ags)?;
        check_amount("amount", self.amount, 1)?;
        check_text("procedure", &self.procedure, MAX_PROCEDURE_CHARS)?;
        check_text("desc", &self.desc, MAX_DESC_CHARS)?;
        check_url("notifyURL", &self.notify_url)?;
        check_url("redirectURL", &self.redirect_url)?;
        Ok(())
    }

    /// The signing input: `ags|amount|procedure|desc|notifyURL|redirectURL`.
    pub fn signing_input(&self) -> String {
        signing_input(
            &self.ags,
            &self.amount.to_string(),
            &self.procedure,
            &self.desc,
            &self.notify_url,
            &self.redirect_url,
        )
    }

    /// The `hash` field: lowercase hex HMAC-SHA256 of the signing input with
    /// `secret`.
    pub fn hash(&self, secret: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        hex::encode(hmac::sign(&key, self.signing_input().as_bytes()).as_ref())
    }

    /// The form to post to [`START_PATH`], `hash` last. Call
    /// [`StartRequest::validate`] first if the request was not built with
    /// [`StartRequest::new`]: the provider refuses what it refuses.
    pub fn form_fields(&self, secret: &[u8]) -> Vec<(String, String)> {
        vec![
            ("ags".into(), self.ags.clone()),
            ("amount".into(), self.amount.to_string()),
            ("procedure".into(), self.procedure.clone()),
            ("desc".into(), self.desc.clone()),
            ("notifyURL".into(), self.notify_url.clone()),
            ("redirectURL".into(), self.redirect_url.clone()),
            ("hash".into(), self.hash(secret)),
        ]
    }
}

fn signing_input(
    ags: &str,
    amount: &str,
    procedure: &str,
    desc: &str,
    notify_url: &str,
    redirect_url: &str,
) -> String {
    [ags, amount, procedure, desc, notify_url, redirect_url].join("|")
}

/// Checks a start form (provider side): every field present once, the hash
/// (HMAC-SHA256 with `secret`, compared in constant time) over the values
/// as received, then every field's format. Unknown fields are ignored.
///
/// Order of the checks: field count, presence and uniqueness of the seven
/// fields, the hash ([`PmError::HashMismatch`] also for a hash that is not
/// 64 hex digits), then the fields ([`StartRequest::validate`]). An empty
/// `secret` is refused ([`PmError::EmptySecret`]).
pub fn verify_start(fields: &[(String, String)], secret: &[u8]) -> Result<StartRequest, PmError> {
    if secret.is_empty() {
        return Err(PmError::EmptySecret);
    }
    check_field_count(fields)?;
    let ags = take(fields, "ags")?;
    let amount = take(fields, "amount")?;
    let procedure = take(fields, "procedure")?;
    let desc = take(fields, "desc")?;
    let notify_url = take(fields, "notifyURL")?;
    let redirect_url = take(fields, "redirectURL")?;
    let hash = take(fields, "hash")?;

    let tag = (hash.len() == 64)
        .then(|| hex::decode(hash).ok())
        .flatten()
        .ok_or(PmError::HashMismatch)?;
    let input = signing_input(ags, amount, procedure, desc, notify_url, redirect_url);
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, input.as_bytes(), &tag).map_err(|_| PmError::HashMismatch)?;

    check_ags(ags)?;
    let request = StartRequest {
        ags: ags.to_owned(),
        amount: parse_amount("amount", amount, 1)?,
        procedure: procedure.to_owned(),
        desc: desc.to_owned(),
        notify_url: notify_url.to_owned(),
        redirect_url: redirect_url.to_owned(),
    };
    request.validate()?;
    Ok(request)
}

/// The provider's answer to a start: JSON `{"url": "<pay page>", "txid":
/// "<id>"}`. The platform sends the citizen to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartResponse {
    /// The pay page (absolute `http(s)://` URL).
    pub url: String,
    /// The provider's transaction id.
    pub txid: String,
}

#[derive(serde::Deserialize)]
struct RawStartResponse {
    url: String,
    txid: String,
}

fn check_json_size(body: &[u8]) -> Result<(), PmError> {
    if body.len() > MAX_JSON_BYTES {
        return Err(PmError::TooLarge {
            what: "Antwort (answer)",
            bytes: body.len(),
            max: MAX_JSON_BYTES,
        });
    }
    Ok(())
}

impl StartResponse {
    /// Reads the provider's answer (at most [`MAX_JSON_BYTES`]) and checks
    /// `url` and `txid`.
    pub fn parse(body: &[u8]) -> Result<Self, PmError> {
        check_json_size(body)?;
        let raw: RawStartResponse =
            serde_json::from_slice(body).map_err(|e| PmError::MalformedJson(e.to_string()))?;
        check_url("url", &raw.url)?;
        check_txid(&raw.txid)?;
        Ok(StartResponse {
            url: raw.url,
            txid: raw.txid,
        })
    }

    /// The JSON answer.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "url": self.url, "txid": self.txid }).to_string()
    }
}

// ---------------------------------------------------------------------------
// Notification

/// A notification (provider → platform, form POST to `notifyURL`). It has
/// no hash: anyone can send one, so it only tells the platform to ask the
/// provider ([`StatusResponse`]); never act on it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub ags: String,
    pub txid: String,
    /// Cents (`0 ..=` [`MAX_AMOUNT_CENTS`]).
    pub amount: u64,
    pub desc: String,
    pub status: PaymentStatus,
    /// `None` when the field is empty (a cancelled payment has none).
    pub payment_method: Option<String>,
    pub procedure: String,
    /// As sent: RFC 3339 or `YYYY-MM-DD HH:MM:SS`; informational only.
    pub created_at: String,
}

impl Notification {
    /// Reads and checks a notification form body.
    pub fn parse_form(body: &[u8]) -> Result<Self, PmError> {
        Self::from_fields(&decode_form(body)?)
    }

    /// Checks the notification's fields: all eight present once, each in its
    /// format (as for the start; `status` is `1`, `0` or `-1`;
    /// `payment_method` may be empty). Unknown fields are ignored.
    pub fn from_fields(fields: &[(String, String)]) -> Result<Self, PmError> {
        check_field_count(fields)?;
        let ags = take(fields, "ags")?;
        let txid = take(fields, "txid")?;
        let amount = take(fields, "amount")?;
        let desc = take(fields, "desc")?;
        let status = take(fields, "status")?;
        let payment_method = take(fields, "payment_method")?;
        let procedure = take(fields, "procedure")?;
        let created_at = take(fields, "created_at")?;
        check_ags(ags)?;
        check_txid(txid)?;
        let amount = parse_amount("amount", amount, 0)?;
        check_text("desc", desc, MAX_DESC_CHARS)?;
        let status = PaymentStatus::parse_field("status", status)?;
        let payment_method = check_method("payment_method", payment_method)?;
        check_text("procedure", procedure, MAX_PROCEDURE_CHARS)?;
        check_created_at(created_at)?;
        Ok(Notification {
            ags: ags.to_owned(),
            txid: txid.to_owned(),
            amount,
            desc: desc.to_owned(),
            status,
            payment_method,
            procedure: procedure.to_owned(),
            created_at: created_at.to_owned(),
        })
    }

    /// The form a provider posts.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        vec![
            ("ags".into(), self.ags.clone()),
            ("txid".into(), self.txid.clone()),
            ("amount".into(), self.amount.to_string()),
            ("desc".into(), self.desc.clone()),
            ("status".into(), self.status.code().to_string()),
            (
                "payment_method".into(),
                self.payment_method.clone().unwrap_or_default(),
            ),
            ("procedure".into(), self.procedure.clone()),
            ("created_at".into(), self.created_at.clone()),
        ]
    }
}

// ---------------------------------------------------------------------------
// Status

/// The path of the status request, `/payment/status/{ags}/{txid}`, after
/// checking both (so nothing can be smuggled into the path).
pub fn status_path(ags: &str, txid: &str) -> Result<String, PmError> {
    check_ags(ags)?;
    check_txid(txid)?;
    Ok(format!("/payment/status/{ags}/{txid}"))
}

/// The provider's answer to a status request: JSON `{"status": 1|0|-1,
/// "amount": <cents>, "txid": "…", "payment_method": "…"}`
/// (`payment_method` may be missing, `null` or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    pub status: PaymentStatus,
    /// Cents.
    pub amount: u64,
    pub txid: String,
    pub payment_method: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawStatusResponse {
    status: i64,
    amount: u64,
    txid: String,
    #[serde(default)]
    payment_method: Option<String>,
}

impl StatusResponse {
    /// Reads a status answer (at most [`MAX_JSON_BYTES`]); `status` and
    /// `amount` must be JSON integers.
    pub fn parse(body: &[u8]) -> Result<Self, PmError> {
        check_json_size(body)?;
        let raw: RawStatusResponse =
            serde_json::from_slice(body).map_err(|e| PmError::MalformedJson(e.to_string()))?;
        let status = PaymentStatus::from_code(raw.status)
            .ok_or_else(|| invalid("status", "erwartet (expected) 1, 0 oder (or) -1"))?;
        check_amount("amount", raw.amount, 0)?;
        check_txid(&raw.txid)?;
        let payment_method = match raw.payment_method {
            Some(m) => check_method("payment_method", &m)?,
            None => None,
        };
        Ok(StatusResponse {
            status,
            amount: raw.amount,
            txid: raw.txid,
            payment_method,
        })
    }

    /// The JSON answer (`payment_method` is `null` when there is none).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "status": self.status.code(),
            "amount": self.amount,
            "txid": self.txid,
            "payment_method": self.payment_method,
        })
        .to_string()
    }

    /// What the platform may believe: the answer must be for `txid`, and a
    /// [`PaymentStatus::Paid`] answer must carry exactly `expected_amount`
    /// (the amount the platform started with). Failed or open answers are
    /// not checked for the amount (nothing was paid).
    pub fn check(&self, txid: &str, expected_amount: u64) -> Result<PaymentStatus, PmError> {
        if self.txid != txid {
            return Err(PmError::TxidMismatch);
        }
        if self.status == PaymentStatus::Paid && self.amount != expected_amount {
            return Err(PmError::AmountMismatch {
                expected: expected_amount,
                found: self.amount,
            });
        }
        Ok(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"geheim-test-1234";
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"geheim-test-1234",
    /// "09162000|2600|Bewohnerparkausweis|Bewohnerparkausweis für M-AB 1234|https://rathaus.example/pay/notify|https://rathaus.example/antrag/42?x=1".encode(),
    /// hashlib.sha256).hexdigest())'
    const EXPECTED_HASH: &str = "71ca084fdaac6e0be81df53f52a61d2c8c93bc56f73c7b98fcb1417524eb6f10";

    fn request() -> StartRequest {
        StartRequest::new(
            "09162000",
            2600,
            "Bewohnerparkausweis",
            "Bewohnerparkausweis für M-AB 1234",
            "https://rathaus.example/pay/notify",
            "https://rathaus.example/antrag/42?x=1",
        )
        .unwrap()
    }

    fn set(fields: &mut [(String, String)], name: &str, value: &str) {
        for (k, v) in fields.iter_mut() {
            if k == name {
                *v = value.to_owned();
            }
        }
    }

    #[test]
    fn start_hash_fixed_vector() {
        let r = request();
        assert_eq!(
            r.signing_input(),
            "09162000|2600|Bewohnerparkausweis|Bewohnerparkausweis für M-AB 1234|https://rathaus.example/pay/notify|https://rathaus.example/antrag/42?x=1"
        );
        assert_eq!(r.hash(SECRET), EXPECTED_HASH);
        let fields = r.form_fields(SECRET);
        assert_eq!(
            fields.last().unwrap(),
            &("hash".into(), EXPECTED_HASH.into())
        );
        assert_eq!(verify_start(&fields, SECRET).unwrap(), r);
    }

    #[test]
    fn start_round_trip_through_a_form_body() {
        let r = request();
        let body = serde_urlencoded::to_string(r.form_fields(SECRET)).unwrap();
        let fields = parse_form(body.as_bytes()).unwrap();
        assert_eq!(verify_start(&fields, SECRET).unwrap(), r);
        // Upper-case hex is accepted too.
        let mut upper = fields.clone();
        set(&mut upper, "hash", &EXPECTED_HASH.to_ascii_uppercase());
        assert_eq!(verify_start(&upper, SECRET).unwrap(), r);
    }

    #[test]
    fn every_tampered_field_is_refused() {
        let good = request().form_fields(SECRET);
        for (name, value) in [
            ("ags", "09162001"),
            ("amount", "2601"),
            ("procedure", "Hundesteuer"),
            ("desc", "Bewohnerparkausweis für M-AB 1235"),
            ("notifyURL", "https://evil.example/notify"),
            ("redirectURL", "https://rathaus.example/antrag/43"),
            ("hash", &EXPECTED_HASH.replace('a', "b")),
        ] {
            let mut f = good.clone();
            set(&mut f, name, value);
            let err = verify_start(&f, SECRET).unwrap_err();
            assert_eq!(err, PmError::HashMismatch, "{name}");
            assert_eq!(err.code(), "pm.hash_mismatch");
            assert!(err.is_authentication());
        }
        assert_eq!(
            verify_start(&good, b"other secret").unwrap_err(),
            PmError::HashMismatch
        );
        assert_eq!(
            verify_start(&good, b"").unwrap_err().code(),
            "pm.empty_secret"
        );
    }

    #[test]
    fn malformed_hash_missing_and_duplicate_fields() {
        let good = request().form_fields(SECRET);
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            let mut f = good.clone();
            set(&mut f, "hash", bad);
            assert_eq!(verify_start(&f, SECRET).unwrap_err(), PmError::HashMismatch);
        }
        let without: Vec<_> = good.iter().filter(|(k, _)| k != "hash").cloned().collect();
        let err = verify_start(&without, SECRET).unwrap_err();
        assert_eq!(err, PmError::MissingField("hash"));
        assert!(err.is_authentication());
        let without: Vec<_> = good.iter().filter(|(k, _)| k != "desc").cloned().collect();
        assert_eq!(
            verify_start(&without, SECRET).unwrap_err().code(),
            "pm.missing_field"
        );
        let mut dup = good.clone();
        dup.push(("amount".into(), "1".into()));
        let err = verify_start(&dup, SECRET).unwrap_err();
        assert_eq!(err, PmError::DuplicateField("amount"));
        assert!(!err.is_authentication());
        // Unknown fields are ignored.
        let mut extra = good.clone();
        extra.push(("foo".into(), "bar".into()));
        assert!(verify_start(&extra, SECRET).is_ok());
        let many: Vec<_> = (0..=MAX_FORM_FIELDS)
            .map(|i| (format!("f{i}"), String::new()))
            .collect();
        assert_eq!(
            verify_start(&many, SECRET).unwrap_err().code(),
            "pm.too_many_fields"
        );
    }

    /// Signed (with the right secret) but out of format: refused by field.
    #[test]
    fn signed_but_invalid_fields_are_refused() {
        type Change = Box<dyn Fn(&mut StartRequest)>;
        let cases: Vec<(&str, Change)> = vec![
            ("ags", Box::new(|r| r.ags = "0916200".into())),
            ("ags", Box::new(|r| r.ags = "0916200a".into())),
            ("amount", Box::new(|r| r.amount = 0)),
            ("amount", Box::new(|r| r.amount = MAX_AMOUNT_CENTS + 1)),
            ("procedure", Box::new(|r| r.procedure = " ".into())),
            ("desc", Box::new(|r| r.desc = "x".repeat(201))),
            ("desc", Box::new(|r| r.desc = "a\nb".into())),
            ("desc", Box::new(|r| r.desc = "a|b".into())),
            ("notifyURL", Box::new(|r| r.notify_url = "ftp://x/".into())),
            (
                "notifyURL",
                Box::new(|r| r.notify_url = "https:///x".into()),
            ),
            (
                "redirectURL",
                Box::new(|r| r.redirect_url = "https://x/a b".into()),
            ),
            (
                "redirectURL",
                Box::new(|r| r.redirect_url = "https://x/\"><script>".into()),
            ),
            (
                "redirectURL",
                Box::new(|r| r.redirect_url = format!("https://x/{}", "a".repeat(MAX_URL_BYTES))),
            ),
        ];
        for (field, change) in cases {
            let mut r = request();
            change(&mut r);
            assert_eq!(r.validate().unwrap_err().field(), Some(field));
            let err = verify_start(&r.form_fields(SECRET), SECRET).unwrap_err();
            assert_eq!(err.code(), "pm.invalid_field", "{field}: {err}");
            assert_eq!(err.field(), Some(field));
        }
        // 200 characters (not bytes) are fine.
        let mut r = request();
        r.desc = "ä".repeat(200);
        assert!(verify_start(&r.form_fields(SECRET), SECRET).is_ok());
        // A signed amount with a leading zero or sign is refused.
        let mut r = request().form_fields(SECRET);
        set(&mut r, "amount", "02600");
        let fixed = StartRequest {
            amount: 2600,
            ..request()
        };
        let input = fixed.signing_input().replace("|2600|", "|02600|");
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
        set(
            &mut r,
            "hash",
            &hex::encode(hmac::sign(&key, input.as_bytes())),
        );
        assert_eq!(
            verify_start(&r, SECRET).unwrap_err().field(),
            Some("amount")
        );
    }

    #[test]
    fn form_limits() {
        let big = vec![b'a'; MAX_FORM_BYTES + 1];
        assert_eq!(parse_form(&big).unwrap_err().code(), "pm.too_large");
        let many = "a=1&".repeat(MAX_FORM_FIELDS + 1);
        assert_eq!(
            parse_form(many.as_bytes()).unwrap_err().code(),
            "pm.too_many_fields"
        );
        for bad in [&b"a=%ff"[..], b"a=%4", b"a=%zz", b"%=1", b"a=\xff"] {
            assert_eq!(parse_form(bad).unwrap_err().code(), "pm.malformed_form");
        }
        assert_eq!(
            parse_form(b"a=1&&b=x+y%2B%C3%A4&c&d=").unwrap(),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "x y+\u{e4}".to_owned()),
                ("c".to_owned(), String::new()),
                ("d".to_owned(), String::new()),
            ]
        );
    }

    fn notification_form() -> String {
        "ags=09162000&txid=0b1e2f3a-1111-4222-8333-444455556666&amount=2600\
         &desc=Bewohnerparkausweis+f%C3%BCr+M-AB+1234&status=1&payment_method=creditcard\
         &procedure=Bewohnerparkausweis&created_at=2026-03-01T09%3A30%3A00Z"
            .to_owned()
    }

    #[test]
    fn notification_parses_and_round_trips() {
        let n = Notification::parse_form(notification_form().as_bytes()).unwrap();
        assert_eq!(n.ags, "09162000");
        assert_eq!(n.txid, "0b1e2f3a-1111-4222-8333-444455556666");
        assert_eq!(n.amount, 2600);
        assert_eq!(n.desc, "Bewohnerparkausweis für M-AB 1234");
        assert_eq!(n.status, PaymentStatus::Paid);
        assert_eq!(n.payment_method.as_deref(), Some("creditcard"));
        assert_eq!(n.created_at, "2026-03-01T09:30:00Z");
        assert_eq!(Notification::from_fields(&n.form_fields()).unwrap(), n);

        let local = notification_form()
            .replace("status=1", "status=-1")
            .replace("payment_method=creditcard", "payment_method=")
            .replace("2026-03-01T09%3A30%3A00Z", "2026-03-01+10%3A30%3A00");
        let n = Notification::parse_form(local.as_bytes()).unwrap();
        assert_eq!(n.status, PaymentStatus::Open);
        assert_eq!(n.payment_method, None);
        assert_eq!(n.created_at, "2026-03-01 10:30:00");
    }

    #[test]
    fn notification_strict() {
        for (from, to, field) in [
            ("status=1", "status=2", "status"),
            ("status=1", "status=+1", "status"),
            ("status=1", "status=", "status"),
            ("ags=09162000", "ags=9162000", "ags"),
            ("amount=2600", "amount=-5", "amount"),
            ("amount=2600", "amount=26.00", "amount"),
            ("txid=0b1e2f3a", "txid=..%2F0b1e2f3a", "txid"),
            (
                "payment_method=creditcard",
                "payment_method=%3Cb%3E",
                "payment_method",
            ),
            (
                "created_at=2026-03-01T09%3A30%3A00Z",
                "created_at=gestern",
                "created_at",
            ),
            ("procedure=Bewohnerparkausweis", "procedure=", "procedure"),
        ] {
            let body = notification_form().replace(from, to);
            assert_ne!(body, notification_form(), "{from}");
            let err = Notification::parse_form(body.as_bytes()).unwrap_err();
            assert_eq!(err.field(), Some(field), "{from} -> {to}: {err}");
        }
        let dup = format!("{}&status=0", notification_form());
        assert_eq!(
            Notification::parse_form(dup.as_bytes()).unwrap_err(),
            PmError::DuplicateField("status")
        );
        let missing = notification_form().replace("&procedure=Bewohnerparkausweis", "");
        assert_eq!(
            Notification::parse_form(missing.as_bytes()).unwrap_err(),
            PmError::MissingField("procedure")
        );
    }

    #[test]
    fn status_codes() {
        for s in [
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Open,
        ] {
            assert_eq!(PaymentStatus::from_code(s.code().into()), Some(s));
        }
        assert_eq!(PaymentStatus::from_code(2), None);
    }

    #[test]
    fn start_response() {
        let r = StartResponse::parse(
            br#"{"url": "https://pay.example/pay/abc-1", "txid": "abc-1", "extra": true}"#,
        )
        .unwrap();
        assert_eq!(r.url, "https://pay.example/pay/abc-1");
        assert_eq!(r.txid, "abc-1");
        assert_eq!(StartResponse::parse(r.to_json().as_bytes()).unwrap(), r);
        for bad in [
            &br#"{"url": "javascript:alert(1)", "txid": "a"}"#[..],
            br#"{"url": "https://p/", "txid": "a/b"}"#,
            br#"{"url": "https://p/"}"#,
            br#"[]"#,
            b"",
        ] {
            assert!(StartResponse::parse(bad).is_err());
        }
        let big = format!(
            r#"{{"url": "https://p/", "txid": "{}"}}"#,
            "a".repeat(MAX_JSON_BYTES)
        );
        assert_eq!(
            StartResponse::parse(big.as_bytes()).unwrap_err().code(),
            "pm.too_large"
        );
    }

    #[test]
    fn status_response_and_check() {
        let r = StatusResponse::parse(
            br#"{"status": 1, "amount": 2600, "txid": "t-1", "payment_method": "paypal"}"#,
        )
        .unwrap();
        assert_eq!(r.status, PaymentStatus::Paid);
        assert_eq!(r.payment_method.as_deref(), Some("paypal"));
        assert_eq!(StatusResponse::parse(r.to_json().as_bytes()).unwrap(), r);
        assert_eq!(r.check("t-1", 2600), Ok(PaymentStatus::Paid));
        assert_eq!(r.check("t-2", 2600), Err(PmError::TxidMismatch));
        assert_eq!(
            r.check("t-1", 2500).unwrap_err().code(),
            "pm.amount_mismatch"
        );
        let open = StatusResponse::parse(
            br#"{"status": -1, "amount": 0, "txid": "t-1", "payment_method": null}"#,
        )
        .unwrap();
        assert_eq!(open.payment_method, None);
        assert_eq!(open.check("t-1", 2600), Ok(PaymentStatus::Open));
        let no_method =
            StatusResponse::parse(br#"{"status": 0, "amount": 5, "txid": "t"}"#).unwrap();
        assert_eq!(no_method.status, PaymentStatus::Failed);
        for bad in [
            &br#"{"status": 2, "amount": 1, "txid": "t"}"#[..],
            br#"{"status": "1", "amount": 1, "txid": "t"}"#,
            br#"{"status": 1, "amount": "1", "txid": "t"}"#,
            br#"{"status": 1, "amount": -1, "txid": "t"}"#,
            br#"{"status": 1, "amount": 1.5, "txid": "t"}"#,
            br#"{"status": 1, "amount": 100000000001, "txid": "t"}"#,
            br#"{"status": 1, "amount": 1, "txid": ""}"#,
        ] {
            assert!(
                StatusResponse::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn status_path_checks_its_parts() {
        assert_eq!(
            status_path("09162000", "t-1").unwrap(),
            "/payment/status/09162000/t-1"
        );
        assert!(status_path("09162000", "../admin").is_err());
        assert!(status_path("0916200", "t").is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_form(&body);
            let _ = Notification::parse_form(&body);
            let _ = StartResponse::parse(&body);
            let _ = StatusResponse::parse(&body);
        }

        #[test]
        fn verify_start_never_panics(
            fields in proptest::collection::vec(
                (prop_oneof![
                    Just("ags".to_string()), Just("amount".to_string()),
                    Just("procedure".to_string()), Just("desc".to_string()),
                    Just("notifyURL".to_string()), Just("redirectURL".to_string()),
                    Just("hash".to_string()), ".{0,8}",
                ], ".{0,80}"),
                0..12,
            )
        ) {
            let _ = verify_start(&fields, SECRET);
            let _ = Notification::from_fields(&fields);
        }

        #[test]
        fn signed_requests_verify(amount in 1u64..=MAX_AMOUNT_CENTS, desc in "[a-zA-Z0-9äöüß .,-]{1,200}") {
            prop_assume!(!desc.trim().is_empty());
            let mut r = request();
            r.amount = amount;
            r.desc = desc;
            prop_assert_eq!(verify_start(&r.form_fields(SECRET), SECRET).unwrap(), r);
        }
    }
}
