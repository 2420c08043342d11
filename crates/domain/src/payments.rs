//! E-Payment (capability C7): amounts of money, the fee of a service (fixed or
//! by a rule on the form's values, in the one rule language of
//! [`crate::rules`]), the booking data the municipal finance system needs
//! (Haushaltsstelle, Objektnummer, Kassenzeichen with a check digit), the
//! payment state machine that a payment provider's notifications drive, and
//! four eyes on refunds. No I/O.
//!
//! ```text
//!            Started             ProviderPaid (exactly the expected amount)
//! Created ───────────▶ Pending ───────────────────────────────────────────▶ Paid
//!                       │ ProviderFailed ────────▶ Failed    ─┐ late         │ Refund
//!                       │ ProviderCancelled ─────▶ Cancelled ─┤ ProviderPaid  ▼
//!                       └ NoAnswer (≥ 90 min) ───▶ Expired   ─┘ ──▶ Paid     PartiallyRefunded
//!                                                  (→ Failed/Cancelled         │ Refund
//!                                                   when the provider answers) ▼
//!                                                                            Refunded
//! ```
//!
//! Notifications may arrive twice, late or out of order: a repeated
//! notification of the state a payment is already in changes nothing
//! ([`Transition::Unchanged`]); one that contradicts a payment already made
//! is refused ([`Transition::Refused`]) and changes nothing either.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{
    FieldError, ValidationErrors,
    rules::{self, Fields, RuleError, Value},
};

// ---------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------

/// An amount of euros, held as whole cents: never negative, at most
/// [`Money::MAX`] (1,000,000.00 €). No floating point anywhere.
///
/// In JSON it is a string with a dot and two decimals (`"26.00"`); its
/// [`Display`](fmt::Display) is the same. [`Money::german`] gives `26,00 €`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "26.00")
)]
pub struct Money(i64);

impl Money {
    /// The field name [`Money::parse`] reports errors for.
    pub const FIELD: &'static str = "amount";
    pub const ZERO: Money = Money(0);
    /// 1,000,000.00 €: the largest amount one fee, payment or refund may have.
    pub const MAX: Money = Money(100_000_000);
    /// Longest input [`Money::parse`] reads.
    const MAX_INPUT_CHARS: usize = 32;

    /// The amount of `cents` cents, if it is within 0 ..= [`Money::MAX`].
    pub const fn from_cents(cents: i64) -> Option<Money> {
        if cents >= 0 && cents <= Self::MAX.0 {
            Some(Money(cents))
        } else {
            None
        }
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The sum, if it is at most [`Money::MAX`].
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        Self::from_cents(self.0 + other.0)
    }

    /// The difference, if it is not negative.
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        Self::from_cents(self.0 - other.0)
    }

    /// Reads an amount typed by a person or sent by a system; errors are
    /// reported for the field [`Money::FIELD`]. See [`Money::parse_field`].
    pub fn parse(input: &str) -> Result<Money, FieldError> {
        Self::parse_field(Self::FIELD, input)
    }

    /// Reads an amount: `26`, `26.00`, `26,00`, `26,5`, `1.234,50`,
    /// `1,234.50`, `1.000.000`, optionally followed by `€` or `EUR`.
    ///
    /// - With both `.` and `,` the last one is the decimal separator and the
    ///   other separates thousands (groups of three digits).
    /// - With one separator occurring once, it is the decimal separator
    ///   (one or two decimals) — except when exactly three digits follow:
    ///   `1.234` may mean 1234 € (German) or 1.234 € (English), so it is
    ///   refused as ambiguous rather than guessed (`1.234,00` or `1234`).
    /// - With one separator occurring several times, it separates thousands.
    ///
    /// Codes: `required` (empty), `payment.amount` (not an amount),
    /// `payment.amount_ambiguous`, `payment.amount_cents` (more than two
    /// decimals), `payment.amount_negative`, `payment.amount_too_large`
    /// (above 1,000,000.00).
    pub fn parse_field(field: &str, input: &str) -> Result<Money, FieldError> {
        let err = |code: &'static str| FieldError::new(field, code);
        let mut s = input.trim();
        if s.is_empty() {
            return Err(err("required"));
        }
        if s.chars().count() > Self::MAX_INPUT_CHARS {
            return Err(err("payment.amount"));
        }
        for suffix in ["€", "EUR"] {
            if let Some(rest) = s.strip_suffix(suffix) {
                s = rest.trim_end();
                break;
            }
        }
        let negative = s.starts_with('-');
        if negative {
            s = s[1..].trim_start();
        }
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        {
            return Err(err("payment.amount"));
        }
        let dots = s.matches('.').count();
        let commas = s.matches(',').count();
        let (int, frac, thousands): (&str, Option<&str>, Option<char>) = if dots > 0 && commas > 0 {
            let (decimal, group) = if s.rfind(',') > s.rfind('.') {
                (',', '.')
            } else {
                ('.', ',')
            };
            if s.matches(decimal).count() != 1 {
                return Err(err("payment.amount"));
            }
            let (i, f) = s.split_once(decimal).expect("counted once");
            (i, Some(f), Some(group))
        } else if dots + commas == 0 {
            (s, None, None)
        } else {
            let sep = if dots > 0 { '.' } else { ',' };
            if dots + commas == 1 {
                let (i, f) = s.split_once(sep).expect("counted once");
                if f.len() == 3 {
                    return Err(err("payment.amount_ambiguous"));
                }
                (i, Some(f), None)
            } else {
                (s, None, Some(sep))
            }
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let int_ok = match thousands {
            None => digits(int),
            Some(g) => {
                let mut groups = int.split(g);
                let first = groups.next().unwrap_or_default();
                digits(first) && first.len() <= 3 && groups.all(|x| digits(x) && x.len() == 3)
            }
        };
        if !int_ok {
            return Err(err("payment.amount"));
        }
        let frac_cents = match frac {
            None => 0,
            Some(f) if !digits(f) => return Err(err("payment.amount")),
            Some(f) if f.len() > 2 => return Err(err("payment.amount_cents")),
            Some(f) if f.len() == 1 => i64::from(f.as_bytes()[0] - b'0') * 10,
            Some(f) => i64::from(f.as_bytes()[0] - b'0') * 10 + i64::from(f.as_bytes()[1] - b'0'),
        };
        let mut euros: i64 = 0;
        for b in int.bytes().filter(u8::is_ascii_digit) {
            euros = euros
                .checked_mul(10)
                .and_then(|e| e.checked_add(i64::from(b - b'0')))
                .ok_or_else(|| err("payment.amount_too_large"))?;
        }
        let cents = euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac_cents))
            .ok_or_else(|| err("payment.amount_too_large"))?;
        if negative && cents > 0 {
            return Err(err("payment.amount_negative"));
        }
        Money::from_cents(cents).ok_or_else(|| err("payment.amount_too_large"))
    }

    /// The amount as a German reads it: `1.234,50 €` (thousands grouped by
    /// dots, decimal comma, a space before the euro sign).
    pub fn german(self) -> String {
        let euros = (self.0 / 100).to_string();
        let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
        for (i, c) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        format!("{grouped},{:02} €", self.0 % 100)
    }
}

/// `26.00`: euros, a dot, two decimals (the API form).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Money::parse(&s).map_err(|e| serde::de::Error::custom(e.code))
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a fee, a Kassenzeichen scheme, a payment step or a refund is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error(
        "Betrag stimmt nicht: erwartet {expected}, gemeldet {got} (amount mismatch: expected {expected}, got {got})"
    )]
    AmountMismatch { expected: Money, got: Money },
    #[error(
        "im Zahlungsstatus {} nicht möglich: {} (not possible in this payment status)",
        .from.code(),
        .event
    )]
    Transition {
        from: PaymentStatus,
        event: &'static str,
    },
    #[error(
        "die Zahlung ist noch nicht abgelaufen (not expired yet: {} minutes without an answer)",
        EXPIRES_AFTER.num_minutes()
    )]
    NotExpired,
    #[error("eine Erstattung muss mehr als 0,00 € betragen (a refund must be above zero)")]
    RefundAmount,
    #[error(
        "die Erstattung ist höher als der noch nicht erstattete Betrag (the refund exceeds what is left of the payment)"
    )]
    RefundTooLarge,
    #[error(
        "der bisher erstattete Betrag passt nicht zum Zahlungsstatus (refunded so far does not match the payment status)"
    )]
    RefundInconsistent,
    #[error(
        "wer die Erstattung beantragt hat, kann sie nicht freigeben (four eyes: the requester cannot approve)"
    )]
    OwnApproval,
    #[error("Gebührenregel {case}: {error} (fee rule {case} does not parse)")]
    FeeRule { case: usize, error: RuleError },
    #[error("höchstens {MAX_FEE_CASES} Gebührenfälle (at most {MAX_FEE_CASES} fee cases)")]
    FeeCases,
    #[error(
        "Kassenzeichen-Schema: nur {{prefix}}, {{year}}, {{seq}} (je einmal, {{year}} und {{seq}} müssen vorkommen) und Buchstaben, Ziffern, - . / (Kassenzeichen scheme)"
    )]
    KassenzeichenScheme,
    #[error(
        "Kassenzeichen-Präfix: höchstens {MAX_PREFIX_CHARS} Buchstaben oder Ziffern (Kassenzeichen prefix)"
    )]
    KassenzeichenPrefix,
    #[error(
        "Kassenzeichen: Jahr vierstellig, laufende Nummer höchstens 99999999 (year or sequence out of range)"
    )]
    KassenzeichenRange,
}

impl PaymentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AmountMismatch { .. } => "payment.amount_mismatch",
            Self::Transition { .. } => "payment.transition",
            Self::NotExpired => "payment.not_expired",
            Self::RefundAmount => "payment.refund_amount",
            Self::RefundTooLarge => "payment.refund_too_large",
            Self::RefundInconsistent => "payment.refund_inconsistent",
            Self::OwnApproval => "payment.own_approval",
            Self::FeeRule { .. } => "payment.fee_rule",
            Self::FeeCases => "payment.fee_cases",
            Self::KassenzeichenScheme => "payment.kassenzeichen_scheme",
            Self::KassenzeichenPrefix => "payment.kassenzeichen_prefix",
            Self::KassenzeichenRange => "payment.kassenzeichen_range",
        }
    }
}

// ---------------------------------------------------------------------------
// Fees
// ---------------------------------------------------------------------------

/// Most cases one fee rule may have.
pub const MAX_FEE_CASES: usize = 50;

/// What a service costs. In JSON: `{"kind": "free"}`,
/// `{"kind": "fixed", "amount": "26.00"}`,
/// `{"kind": "by_rule", "cases": [{"when": "…", "amount": "36.00"}], "otherwise": "26.00"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FeeSpec {
    /// Nothing to pay.
    #[default]
    Free,
    /// The same amount for everybody.
    Fixed { amount: Money },
    /// The amount of the first case whose condition holds for the form's
    /// values, else `otherwise`. A case of 0.00 is an exemption (free).
    ByRule {
        cases: Vec<FeeCase>,
        otherwise: Money,
    },
}

/// One case of a fee rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeCase {
    /// A condition in the rule language of forms, e.g.
    /// `rechtsform == 'juristische_person'`.
    pub when: String,
    pub amount: Money,
}

impl FeeSpec {
    /// Checks that there are at most [`MAX_FEE_CASES`] cases and that every
    /// condition parses; the first that does not is named by its index
    /// (0-based) in [`PaymentError::FeeRule`].
    pub fn check(&self) -> Result<(), PaymentError> {
        self.conditions().map(|_| ())
    }

    fn conditions(&self) -> Result<Vec<rules::Expr>, PaymentError> {
        let FeeSpec::ByRule { cases, .. } = self else {
            return Ok(Vec::new());
        };
        if cases.len() > MAX_FEE_CASES {
            return Err(PaymentError::FeeCases);
        }
        cases
            .iter()
            .enumerate()
            .map(|(case, c)| {
                rules::parse(&c.when).map_err(|error| PaymentError::FeeRule { case, error })
            })
            .collect()
    }

    /// The fee for an application with the form values `data` (the JSON the
    /// form produced), `None` when nothing is to be paid (free, or a case of
    /// 0.00). Conditions that call `today()` see today's date in UTC; use
    /// [`FeeSpec::amount_on`] to pass the date yourself.
    pub fn amount(&self, data: &Json) -> Result<Option<Money>, PaymentError> {
        self.amount_on(data, chrono::Utc::now().date_naive())
    }

    /// [`FeeSpec::amount`] with the date `today()` returns in conditions.
    /// Every condition is parsed first, so a broken rule is an error whatever
    /// the data (not only when its case is reached).
    pub fn amount_on(&self, data: &Json, today: NaiveDate) -> Result<Option<Money>, PaymentError> {
        let amount = match self {
            FeeSpec::Free => Money::ZERO,
            FeeSpec::Fixed { amount } => *amount,
            FeeSpec::ByRule { cases, otherwise } => {
                let conditions = self.conditions()?;
                let scope = FormValues { data, today };
                cases
                    .iter()
                    .zip(&conditions)
                    .find(|(_, e)| rules::eval(e, &scope).truthy())
                    .map_or(*otherwise, |(c, _)| c.amount)
            }
        };
        Ok((!amount.is_zero()).then_some(amount))
    }
}

/// The form's values as a rule sees them: `a.b` walks into objects, a missing
/// field is `null`; the same reading as the form's own rules (a group
/// instance counts as present, so `count(hunde)` is the number of dogs).
struct FormValues<'a> {
    data: &'a Json,
    today: NaiveDate,
}

fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(a) => Value::List(a.iter().map(to_value).collect()),
        Json::Object(_) => Value::Bool(true),
    }
}

impl Fields for FormValues<'_> {
    fn get(&self, path: &str) -> Value {
        let mut cur = Some(self.data);
        for part in path.split('.') {
            cur = cur.and_then(|c| c.as_object()).and_then(|o| o.get(part));
        }
        cur.map_or(Value::Null, to_value)
    }
    fn today(&self) -> NaiveDate {
        self.today
    }
}

/// When a service's fee is paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Collection {
    /// Pay before sending: the application is received once paid and waits
    /// as "awaiting payment" until then.
    #[default]
    Before,
    /// Pay later: the clerk (or the Bescheid) asks for the fee through the
    /// mailbox.
    Later,
}

impl Collection {
    pub fn code(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::Later => "later",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Before, Self::Later]
            .into_iter()
            .find(|c| c.code() == s)
    }
}

/// What a payment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Purpose {
    /// The service's fee, paid before the application is received.
    Application,
    /// A fee the office asks for later (by the clerk or with the Bescheid).
    FeeRequest,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::FeeRequest => "fee_request",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Application, Self::FeeRequest]
            .into_iter()
            .find(|c| c.code() == s)
    }
}

// ---------------------------------------------------------------------------
// Booking data and Kassenzeichen
// ---------------------------------------------------------------------------

/// Longest Haushaltsstelle or Objektnummer.
pub const MAX_BOOKING_CHARS: usize = 40;

/// Where the finance system books a service's payments: the Haushaltsstelle
/// (budget line / Sachkonto) and the Objektnummer (Produkt, Kostenträger or
/// Innenauftrag). Both are 1 to 40 characters: ASCII letters, digits, dots
/// and dashes (`1.1.2.01.431100`, `P-12200`). Built only by
/// [`Booking::parse`] (also when read from JSON), so every value is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BookingInput")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    haushaltsstelle: String,
    objektnummer: String,
}

#[derive(Deserialize)]
struct BookingInput {
    haushaltsstelle: String,
    objektnummer: String,
}

impl TryFrom<BookingInput> for Booking {
    type Error = ValidationErrors;
    fn try_from(b: BookingInput) -> Result<Self, Self::Error> {
        Booking::parse(&b.haushaltsstelle, &b.objektnummer)
    }
}

fn booking_code(field: &str, input: &str) -> Result<String, FieldError> {
    let t = input.trim();
    if t.is_empty() {
        Err(FieldError::new(field, "required"))
    } else if t.chars().count() > MAX_BOOKING_CHARS {
        Err(FieldError::new(field, "too_long"))
    } else if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        Err(FieldError::new(field, "payment.booking_chars"))
    } else {
        Ok(t.to_string())
    }
}

impl Booking {
    /// Trims both values and checks them; every problem is reported for its
    /// field (`haushaltsstelle`, `objektnummer`) with the code `required`,
    /// `too_long` or `payment.booking_chars`.
    pub fn parse(haushaltsstelle: &str, objektnummer: &str) -> Result<Booking, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let h = errs.check(booking_code("haushaltsstelle", haushaltsstelle));
        let o = errs.check(booking_code("objektnummer", objektnummer));
        match (h, o) {
            (Some(haushaltsstelle), Some(objektnummer)) => Ok(Booking {
                haushaltsstelle,
                objektnummer,
            }),
            _ => Err(errs),
        }
    }

    pub fn haushaltsstelle(&self) -> &str {
        &self.haushaltsstelle
    }

    pub fn objektnummer(&self) -> &str {
        &self.objektnummer
    }
}

/// Longest Kassenzeichen prefix (a tenant's setting).
pub const MAX_PREFIX_CHARS: usize = 12;
/// Longest Kassenzeichen scheme.
pub const MAX_SCHEME_CHARS: usize = 30;
/// Longest Kassenzeichen a valid scheme renders (check digit included).
pub const MAX_KASSENZEICHEN_CHARS: usize = 40;
/// Largest sequence number (`{seq}` has eight digits).
pub const MAX_KASSENZEICHEN_SEQ: u64 = 99_999_999;

const KZ_PLACEHOLDERS: [&str; 3] = ["prefix", "year", "seq"];

fn kz_text_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/')
}

/// How a tenant forms its Kassenzeichen (the reference the finance system
/// and the bank transfer carry). Placeholders: `{prefix}` (the tenant's
/// prefix, up to 12 letters or digits), `{year}` (four digits), `{seq}` (the
/// payment's number in that year, zero-padded to eight digits). Besides them
/// only ASCII letters, digits, `-`, `.` and `/`. `{year}` and `{seq}` must
/// occur (the sequence counts per year, so both together make the
/// Kassenzeichen unique); each placeholder at most once.
///
/// [`KassenzeichenScheme::render`] appends one **check digit**: the Luhn
/// (mod 10) digit computed over all digits of the rendered text, letters and
/// separators ignored. Every change of a single digit and most swaps of two
/// neighbouring digits make [`verify_kassenzeichen`] fail, so a mistyped
/// Kassenzeichen in a bank transfer is caught before it is matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KassenzeichenScheme(String);

impl Default for KassenzeichenScheme {
    /// `MS202600000123` + check digit.
    fn default() -> Self {
        Self("{prefix}{year}{seq}".into())
    }
}

impl TryFrom<String> for KassenzeichenScheme {
    type Error = PaymentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<KassenzeichenScheme> for String {
    fn from(s: KassenzeichenScheme) -> Self {
        s.0
    }
}

impl KassenzeichenScheme {
    pub fn parse(s: &str) -> Result<Self, PaymentError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > MAX_SCHEME_CHARS {
            return Err(PaymentError::KassenzeichenScheme);
        }
        let mut seen = [false; 3];
        let mut rest = s;
        loop {
            let open = rest.find('{');
            let text = &rest[..open.unwrap_or(rest.len())];
            if !text.chars().all(kz_text_char) {
                return Err(PaymentError::KassenzeichenScheme);
            }
            let Some(open) = open else { break };
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(PaymentError::KassenzeichenScheme)?;
            let i = KZ_PLACEHOLDERS
                .iter()
                .position(|p| *p == &after[..close])
                .ok_or(PaymentError::KassenzeichenScheme)?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(PaymentError::KassenzeichenScheme);
            }
            rest = &after[close + 1..];
        }
        if !(seen[1] && seen[2]) {
            return Err(PaymentError::KassenzeichenScheme);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Kassenzeichen of payment number `seq` of `year`, with its check
    /// digit appended: the default scheme renders prefix `MS`, 2026, 123 as
    /// `MS202600000123` followed by the check digit.
    pub fn render(&self, prefix: &str, year: i32, seq: u64) -> Result<String, PaymentError> {
        if prefix.chars().count() > MAX_PREFIX_CHARS
            || !prefix.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(PaymentError::KassenzeichenPrefix);
        }
        if !(1000..=9999).contains(&year) || seq > MAX_KASSENZEICHEN_SEQ {
            return Err(PaymentError::KassenzeichenRange);
        }
        let mut out = self
            .0
            .replace("{prefix}", prefix)
            .replace("{year}", &year.to_string())
            .replace("{seq}", &format!("{seq:08}"));
        out.push(luhn_check_digit(&out));
        Ok(out)
    }
}

/// Luhn sum of the digits of `s` (rightmost digit first), doubling every
/// second digit starting with the first when `double_first`.
fn luhn_sum(s: &str, double_first: bool) -> u32 {
    s.chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if (i % 2 == 0) == double_first {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum()
}

/// The Luhn check digit for the digits of `s` (ISO/IEC 7812-1).
fn luhn_check_digit(s: &str) -> char {
    let check = (10 - luhn_sum(s, true) % 10) % 10;
    char::from_digit(check, 10).expect("a digit")
}

/// Whether `s` is a Kassenzeichen with a correct check digit: only ASCII
/// letters, digits, `-`, `.`, `/`; the last character a digit; the Luhn sum
/// over all digits (check digit included) divisible by ten. Surrounding
/// spaces are ignored.
pub fn verify_kassenzeichen(s: &str) -> bool {
    let s = s.trim();
    s.len() <= MAX_KASSENZEICHEN_CHARS
        && s.chars().all(kz_text_char)
        && s.ends_with(|c: char| c.is_ascii_digit())
        && s.chars().filter(char::is_ascii_digit).count() >= 2
        && luhn_sum(s, false).is_multiple_of(10)
}

// ---------------------------------------------------------------------------
// The payment state machine
// ---------------------------------------------------------------------------

/// After how long without an answer from the provider a pending payment
/// expires.
pub const EXPIRES_AFTER: chrono::Duration = chrono::Duration::minutes(90);

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PaymentStatus {
    /// Created (the amount and Kassenzeichen are fixed), not yet sent to the
    /// provider.
    Created,
    /// The payer was sent to the provider; its answer is awaited.
    Pending,
    /// The provider confirmed the expected amount.
    Paid,
    /// The provider reported a failure.
    Failed,
    /// The payer cancelled at the provider.
    Cancelled,
    /// No answer within [`EXPIRES_AFTER`].
    Expired,
    /// The whole amount was refunded.
    Refunded,
    /// Part of the amount was refunded.
    PartiallyRefunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 8] = [
        Self::Created,
        Self::Pending,
        Self::Paid,
        Self::Failed,
        Self::Cancelled,
        Self::Expired,
        Self::Refunded,
        Self::PartiallyRefunded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }

    /// Whether the money was received (paid, possibly refunded since): the
    /// states a payment never leaves.
    pub fn money_received(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }
}

/// What happens to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The payer is sent to the provider.
    Started,
    /// The provider's verified (signed) notification: paid `amount`.
    ProviderPaid { amount: Money },
    /// The provider's verified notification: the payment failed.
    ProviderFailed,
    /// The provider's verified notification: the payer cancelled.
    ProviderCancelled,
    /// A timer: no answer from the provider `since_start`.
    NoAnswer { since_start: chrono::Duration },
    /// Staff refund `amount`; `refunded_so_far` and `paid` are the payment's
    /// refunded total before this refund and the amount it was paid with.
    Refund {
        amount: Money,
        refunded_so_far: Money,
        paid: Money,
    },
}

impl PaymentEvent {
    pub fn code(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::ProviderPaid { .. } => "provider_paid",
            Self::ProviderFailed => "provider_failed",
            Self::ProviderCancelled => "provider_cancelled",
            Self::NoAnswer { .. } => "no_answer",
            Self::Refund { .. } => "refund",
        }
    }
}

/// The outcome of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The payment moves to this status (for a partial refund it may be the
    /// status it has: the refund is accepted and must be recorded).
    Changed(PaymentStatus),
    /// A repeated notification of the state the payment is in, or a timer for
    /// a payment that no longer waits: ignored, nothing to record.
    Unchanged,
    /// The event contradicts the payment (a wrong amount, a failure reported
    /// for a paid payment, a refund too large …); the status stays.
    Refused(PaymentError),
}

impl Transition {
    /// The status after this transition from `current`.
    pub fn status_after(&self, current: PaymentStatus) -> PaymentStatus {
        match self {
            Transition::Changed(s) => *s,
            Transition::Unchanged | Transition::Refused(_) => current,
        }
    }
}

/// The payment state machine: the outcome of `event` for a payment in
/// `status` that is to be paid with `expected_amount`.
///
/// - `Started`: `created` → `pending`; again while pending: unchanged. A
///   payment that failed, was cancelled or expired is not started again: a new
///   attempt is a new payment (one provider transaction per payment, so a late
///   notification of the first attempt cannot be mistaken for the second).
/// - `ProviderPaid`: only with exactly `expected_amount`, else refused
///   (`payment.amount_mismatch`; the app records a Klärfall for the finance
///   office). From `created`, `pending`, `failed`, `cancelled` and `expired` →
///   `paid`: **a late payment counts** — when a verified notification says the
///   money was taken, the platform must not lose it, even after it gave up
///   waiting or the payer saw a failure. On `paid`, `partially_refunded` and
///   `refunded`: unchanged (a repeated notification; it never undoes a refund).
/// - `ProviderFailed` / `ProviderCancelled`: from `pending` and `expired` (the
///   provider's definitive answer replaces the timeout); the same again:
///   unchanged; anywhere else refused — above all on a paid payment: a
///   forged or out-of-order notification changes nothing.
/// - `NoAnswer`: `pending` → `expired` once `since_start` ≥ [`EXPIRES_AFTER`],
///   earlier refused (`payment.not_expired`); on any other status unchanged
///   (only a pending payment waits).
/// - `Refund`: only from `paid` and `partially_refunded`; `paid` must be the
///   expected amount, the amount above zero, `refunded_so_far` consistent with
///   the status (zero when `paid`, between zero and `paid` when partially
///   refunded) and `refunded_so_far + amount ≤ paid`; the result is
///   `refunded` when it reaches `paid`, else `partially_refunded`.
///
/// A paid payment is left only by a refund.
pub fn next(status: PaymentStatus, event: PaymentEvent, expected_amount: Money) -> Transition {
    use PaymentEvent as E;
    use PaymentStatus as S;
    let refuse = || {
        Transition::Refused(PaymentError::Transition {
            from: status,
            event: event.code(),
        })
    };
    match event {
        E::Started => match status {
            S::Created => Transition::Changed(S::Pending),
            S::Pending => Transition::Unchanged,
            _ => refuse(),
        },
        E::ProviderPaid { amount } => {
            if amount != expected_amount {
                Transition::Refused(PaymentError::AmountMismatch {
                    expected: expected_amount,
                    got: amount,
                })
            } else if status.money_received() {
                Transition::Unchanged
            } else {
                Transition::Changed(S::Paid)
            }
        }
        E::ProviderFailed | E::ProviderCancelled => {
            let target = if event == E::ProviderFailed {
                S::Failed
            } else {
                S::Cancelled
            };
            match status {
                S::Pending | S::Expired => Transition::Changed(target),
                s if s == target => Transition::Unchanged,
                _ => refuse(),
            }
        }
        E::NoAnswer { since_start } => match status {
            S::Pending if since_start >= EXPIRES_AFTER => Transition::Changed(S::Expired),
            S::Pending => Transition::Refused(PaymentError::NotExpired),
            _ => Transition::Unchanged,
        },
        E::Refund {
            amount,
            refunded_so_far,
            paid,
        } => {
            if !status.money_received() {
                return refuse();
            }
            if paid != expected_amount {
                return Transition::Refused(PaymentError::AmountMismatch {
                    expected: expected_amount,
                    got: paid,
                });
            }
            if amount.is_zero() {
                return Transition::Refused(PaymentError::RefundAmount);
            }
            let consistent = match status {
                S::Paid => refunded_so_far.is_zero(),
                S::PartiallyRefunded => !refunded_so_far.is_zero() && refunded_so_far < paid,
                _ => refunded_so_far == paid,
            };
            if !consistent {
                return Transition::Refused(PaymentError::RefundInconsistent);
            }
            match refunded_so_far.checked_add(amount) {
                Some(total) if total == paid => Transition::Changed(S::Refunded),
                Some(total) if total < paid => Transition::Changed(S::PartiallyRefunded),
                _ => Transition::Refused(PaymentError::RefundTooLarge),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Four eyes on refunds
// ---------------------------------------------------------------------------

/// Whether a refund of `amount` needs a second person's approval: when it is
/// strictly above the tenant's `threshold` (a threshold of 0.00 puts every
/// refund under four eyes).
pub fn refund_needs_second_person(amount: Money, threshold: Money) -> bool {
    amount > threshold
}

/// The approver of a refund must not be the person who asked for it.
pub fn check_refund_approval(requested_by: Uuid, approver: Uuid) -> Result<(), PaymentError> {
    if requested_by == approver {
        Err(PaymentError::OwnApproval)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn m(cents: i64) -> Money {
        Money::from_cents(cents).unwrap()
    }

    fn code(input: &str) -> &'static str {
        Money::parse(input).unwrap_err().code
    }

    #[test]
    fn money_parses_german_and_api_forms() {
        for (input, cents) in [
            ("26.00", 2600),
            ("26,00", 2600),
            ("26", 2600),
            ("  26 ", 2600),
            ("26,5", 2650),
            ("0.05", 5),
            ("0", 0),
            ("1.234,50", 123_450),
            ("1,234.50", 123_450),
            ("1.000.000", 100_000_000),
            ("999,999.99", 99_999_999),
            ("1.000.000,00", 100_000_000),
            ("1000000", 100_000_000),
            ("26,00 €", 2600),
            ("26,00€", 2600),
            ("26.00 EUR", 2600),
            ("1.234,50 €", 123_450),
            ("-0", 0),
        ] {
            assert_eq!(Money::parse(input), Ok(m(cents)), "{input}");
        }
    }

    #[test]
    fn money_errors_have_codes() {
        assert_eq!(code(""), "required");
        assert_eq!(code(" € "), "payment.amount");
        for bad in [
            "abc",
            "26.",
            ".50",
            "26,00,00",
            "1.2.3",
            "1.23.456",
            "12,34.56,78",
            "1 234",
            "26.0a",
            "0x10",
            "2e3",
            "+5",
        ] {
            assert_eq!(code(bad), "payment.amount", "{bad}");
        }
        assert_eq!(code("1.234"), "payment.amount_ambiguous");
        assert_eq!(code("1,234"), "payment.amount_ambiguous");
        assert_eq!(code("26.001"), "payment.amount_ambiguous");
        assert_eq!(code("26.0011"), "payment.amount_cents");
        assert_eq!(code("1.234,567"), "payment.amount_cents");
        assert_eq!(code("-5"), "payment.amount_negative");
        assert_eq!(code("-5,00 €"), "payment.amount_negative");
        assert_eq!(code("1000000.01"), "payment.amount_too_large");
        assert_eq!(code("1.234.567"), "payment.amount_too_large");
        assert_eq!(code("99999999999999999999999"), "payment.amount_too_large");
        assert_eq!(code(&"1".repeat(40)), "payment.amount");
        let e = Money::parse_field("fee.otherwise", "x").unwrap_err();
        assert_eq!(e.field, "fee.otherwise");
        assert_eq!(Money::parse("x").unwrap_err().field, "amount");
    }

    #[test]
    fn money_displays_for_the_api_and_for_people() {
        assert_eq!(m(2600).to_string(), "26.00");
        assert_eq!(m(5).to_string(), "0.05");
        assert_eq!(m(2600).german(), "26,00 €");
        assert_eq!(m(123_450).german(), "1.234,50 €");
        assert_eq!(Money::MAX.german(), "1.000.000,00 €");
        assert_eq!(Money::ZERO.german(), "0,00 €");
        assert_eq!(serde_json::to_value(m(2600)).unwrap(), json!("26.00"));
        assert_eq!(
            serde_json::from_value::<Money>(json!("36,00")).unwrap(),
            m(3600)
        );
        assert!(serde_json::from_value::<Money>(json!(26.0)).is_err());
        assert!(serde_json::from_value::<Money>(json!("-1")).is_err());
        assert_eq!(Money::from_cents(-1), None);
        assert_eq!(Money::from_cents(Money::MAX.cents() + 1), None);
        assert_eq!(m(100).checked_sub(m(101)), None);
        assert_eq!(Money::MAX.checked_add(m(1)), None);
        assert_eq!(m(100).checked_add(m(1)), Some(m(101)));
    }

    fn gewerbe_fee() -> FeeSpec {
        FeeSpec::ByRule {
            cases: vec![FeeCase {
                when: "rechtsform == 'juristische_person'".into(),
                amount: m(3600),
            }],
            otherwise: m(2600),
        }
    }

    #[test]
    fn gewerbe_anmeldung_costs_26_or_36_by_legal_form() {
        let fee = gewerbe_fee();
        fee.check().unwrap();
        assert_eq!(
            fee.amount(&json!({"rechtsform": "natuerliche_person"})),
            Ok(Some(m(2600)))
        );
        assert_eq!(
            fee.amount(&json!({"rechtsform": "juristische_person"})),
            Ok(Some(m(3600)))
        );
        assert_eq!(fee.amount(&json!({})), Ok(Some(m(2600))));
        assert_eq!(fee.amount(&json!(null)), Ok(Some(m(2600))));
        // As a service stores it.
        let stored = json!({
            "kind": "by_rule",
            "cases": [{"when": "rechtsform == 'juristische_person'", "amount": "36.00"}],
            "otherwise": "26.00"
        });
        assert_eq!(serde_json::to_value(&fee).unwrap(), stored);
        assert_eq!(serde_json::from_value::<FeeSpec>(stored).unwrap(), fee);
    }

    #[test]
    fn fees_free_fixed_and_computed_from_nested_values() {
        assert_eq!(FeeSpec::Free.amount(&json!({})), Ok(None));
        assert_eq!(FeeSpec::default(), FeeSpec::Free);
        assert_eq!(
            serde_json::to_value(FeeSpec::Free).unwrap(),
            json!({"kind": "free"})
        );
        let fixed = FeeSpec::Fixed { amount: m(3050) };
        assert_eq!(
            serde_json::to_value(&fixed).unwrap(),
            json!({"kind": "fixed", "amount": "30.50"})
        );
        assert_eq!(fixed.amount(&json!({})), Ok(Some(m(3050))));
        assert_eq!(
            FeeSpec::Fixed {
                amount: Money::ZERO
            }
            .amount(&json!({})),
            Ok(None)
        );

        // First matching case wins; a case of 0.00 is an exemption; group
        // instances count; nested paths; today() from the caller.
        let fee = FeeSpec::ByRule {
            cases: vec![
                FeeCase {
                    when: "betrieb.gemeinnuetzig == true".into(),
                    amount: Money::ZERO,
                },
                FeeCase {
                    when: "count(hunde) > 1".into(),
                    amount: m(15_000),
                },
                FeeCase {
                    when: "years_between(geburtsdatum, today()) < 18".into(),
                    amount: m(500),
                },
            ],
            otherwise: m(9000),
        };
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let at = |data: Json| fee.amount_on(&data, today);
        assert_eq!(at(json!({"betrieb": {"gemeinnuetzig": true}})), Ok(None));
        assert_eq!(
            at(json!({"betrieb": {"gemeinnuetzig": true}, "hunde": [{}, {}]})),
            Ok(None)
        );
        assert_eq!(
            at(json!({"hunde": [{"name": "Bello"}, {"name": "Rex"}]})),
            Ok(Some(m(15_000)))
        );
        assert_eq!(at(json!({"hunde": [{"name": "Bello"}]})), Ok(Some(m(9000))));
        assert_eq!(at(json!({"geburtsdatum": "2010-01-01"})), Ok(Some(m(500))));
        assert_eq!(at(json!({"geburtsdatum": "1990-01-01"})), Ok(Some(m(9000))));
        assert_eq!(at(json!({"betrieb": "kein Objekt"})), Ok(Some(m(9000))));
    }

    #[test]
    fn broken_fee_rules_name_their_case() {
        let fee = FeeSpec::ByRule {
            cases: vec![
                FeeCase {
                    when: "a == 1".into(),
                    amount: m(100),
                },
                FeeCase {
                    when: "a = 2".into(),
                    amount: m(200),
                },
                FeeCase {
                    when: "".into(),
                    amount: m(300),
                },
            ],
            otherwise: m(1),
        };
        let e = fee.check().unwrap_err();
        assert_eq!(e.code(), "payment.fee_rule");
        assert!(
            matches!(&e, PaymentError::FeeRule { case: 1, error } if error.pos == 2),
            "{e}"
        );
        assert!(e.to_string().contains("Gebührenregel 1"), "{e}");
        // Broken whatever the data: even when an earlier case matches.
        assert_eq!(fee.amount(&json!({"a": 1})), Err(e));
        let many = FeeSpec::ByRule {
            cases: vec![
                FeeCase {
                    when: "true".into(),
                    amount: m(1)
                };
                MAX_FEE_CASES + 1
            ],
            otherwise: m(1),
        };
        assert_eq!(many.check(), Err(PaymentError::FeeCases));
        assert!(FeeSpec::Free.check().is_ok());
    }

    #[test]
    fn booking_data_is_checked_by_field() {
        let b = Booking::parse(" 1.1.2.01.431100 ", "P-12200").unwrap();
        assert_eq!(b.haushaltsstelle(), "1.1.2.01.431100");
        assert_eq!(b.objektnummer(), "P-12200");
        let errs = Booking::parse("", &"9".repeat(41)).unwrap_err();
        let got: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("haushaltsstelle", "required"),
                ("objektnummer", "too_long")
            ]
        );
        for bad in ["1 1", "4311/00", "Ä1", "a_b", "1;DROP"] {
            let errs = Booking::parse(bad, "1").unwrap_err();
            assert_eq!(errs.0[0].code, "payment.booking_chars", "{bad}");
        }
        assert!(Booking::parse(&"9".repeat(40), "x").is_ok());
        // JSON goes through the same checks.
        let ok: Booking = serde_json::from_value(
            json!({"haushaltsstelle": "11100.43110000", "objektnummer": "A1"}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"haushaltsstelle": "11100.43110000", "objektnummer": "A1"})
        );
        assert!(
            serde_json::from_value::<Booking>(json!({"haushaltsstelle": "", "objektnummer": "A1"}))
                .is_err()
        );
    }

    #[test]
    fn kassenzeichen_schemes_and_check_digits() {
        let s = KassenzeichenScheme::default();
        assert_eq!(s.as_str(), "{prefix}{year}{seq}");
        let kz = s.render("MS", 2026, 123).unwrap();
        // Digits 202600000123: Luhn check digit 3.
        assert_eq!(kz, "MS2026000001233");
        assert!(verify_kassenzeichen(&kz));
        assert!(verify_kassenzeichen(" MS2026000001233 "));
        assert!(!verify_kassenzeichen("MS2026000001234"));
        assert!(
            !verify_kassenzeichen("MS2026000001323"),
            "neighbours swapped"
        );
        assert!(!verify_kassenzeichen(""));
        assert!(!verify_kassenzeichen("0"));
        assert!(!verify_kassenzeichen("MS 2026000001233"));
        assert!(!verify_kassenzeichen("MS202600000123X"));
        // The classic Luhn example: 7992739871 + 3.
        assert!(verify_kassenzeichen("79927398713"));

        let s = KassenzeichenScheme::parse("{prefix}-{year}/{seq}").unwrap();
        let kz = s.render("0815", 2026, 7).unwrap();
        assert!(kz.starts_with("0815-2026/00000007"), "{kz}");
        assert_eq!(kz.len(), "0815-2026/00000007".len() + 1);
        assert!(verify_kassenzeichen(&kz));
        assert!(KassenzeichenScheme::parse("KZ.{year}{seq}").is_ok());

        for bad in [
            "",
            "{seq}",
            "{year}",
            "{prefix}{seq}",
            "{year}{seq}{seq}",
            "{year}{seq}{plan}",
            "{year}{seq",
            "{year}}{seq}",
            "{year} {seq}",
            "{year}_{seq}",
            "{year}{seq}-ÄÖÜ",
            "{prefix}{year}{seq}-XXXXXXXXXXXX",
        ] {
            assert_eq!(
                KassenzeichenScheme::parse(bad),
                Err(PaymentError::KassenzeichenScheme),
                "{bad}"
            );
        }
        let s = KassenzeichenScheme::default();
        assert_eq!(
            s.render("M S", 2026, 1),
            Err(PaymentError::KassenzeichenPrefix)
        );
        assert_eq!(
            s.render(&"A".repeat(13), 2026, 1),
            Err(PaymentError::KassenzeichenPrefix)
        );
        assert_eq!(s.render("", 2026, 1).unwrap().len(), 13);
        assert_eq!(
            s.render("MS", 999, 1),
            Err(PaymentError::KassenzeichenRange)
        );
        assert_eq!(
            s.render("MS", 2026, 100_000_000),
            Err(PaymentError::KassenzeichenRange)
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!("{prefix}{year}{seq}")
        );
        assert!(serde_json::from_value::<KassenzeichenScheme>(json!("{seq}")).is_err());
    }

    use PaymentEvent as E;
    use PaymentStatus as S;

    const FEE: Money = Money(2600);

    fn run(s: S, e: E) -> Transition {
        next(s, e, FEE)
    }

    fn refused_code(t: Transition) -> &'static str {
        match t {
            Transition::Refused(e) => e.code(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn status_codes_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.code()));
        }
        assert_eq!(S::parse("bezahlt"), None);
    }

    #[test]
    fn the_happy_path() {
        assert_eq!(run(S::Created, E::Started), Transition::Changed(S::Pending));
        assert_eq!(run(S::Pending, E::Started), Transition::Unchanged);
        assert_eq!(
            run(S::Pending, E::ProviderPaid { amount: FEE }),
            Transition::Changed(S::Paid)
        );
        assert_eq!(
            run(S::Paid, E::ProviderPaid { amount: FEE }),
            Transition::Unchanged
        );
        assert_eq!(
            run(S::Pending, E::ProviderFailed),
            Transition::Changed(S::Failed)
        );
        assert_eq!(
            run(S::Pending, E::ProviderCancelled),
            Transition::Changed(S::Cancelled)
        );
        assert_eq!(run(S::Failed, E::ProviderFailed), Transition::Unchanged);
        assert_eq!(
            run(S::Cancelled, E::ProviderCancelled),
            Transition::Unchanged
        );
    }

    #[test]
    fn only_the_expected_amount_pays() {
        for s in S::ALL {
            for wrong in [m(2599), m(2601), Money::ZERO, m(260_000)] {
                let t = run(s, E::ProviderPaid { amount: wrong });
                assert_eq!(
                    t,
                    Transition::Refused(PaymentError::AmountMismatch {
                        expected: FEE,
                        got: wrong
                    }),
                    "{s:?}"
                );
            }
        }
        let e = PaymentError::AmountMismatch {
            expected: FEE,
            got: m(2500),
        };
        assert_eq!(e.code(), "payment.amount_mismatch");
        assert!(
            e.to_string().contains("erwartet 26.00, gemeldet 25.00"),
            "{e}"
        );
    }

    #[test]
    fn expiry_after_ninety_minutes() {
        let after = |min| E::NoAnswer {
            since_start: chrono::Duration::minutes(min),
        };
        assert_eq!(
            refused_code(run(S::Pending, after(89))),
            "payment.not_expired"
        );
        assert_eq!(
            refused_code(run(S::Pending, after(-5))),
            "payment.not_expired"
        );
        assert_eq!(run(S::Pending, after(90)), Transition::Changed(S::Expired));
        assert_eq!(run(S::Pending, after(600)), Transition::Changed(S::Expired));
        for s in [S::Created, S::Expired, S::Paid, S::Failed, S::Refunded] {
            assert_eq!(run(s, after(600)), Transition::Unchanged, "{s:?}");
        }
    }

    #[test]
    fn late_payments_count() {
        for s in [S::Created, S::Failed, S::Cancelled, S::Expired] {
            assert_eq!(
                run(s, E::ProviderPaid { amount: FEE }),
                Transition::Changed(S::Paid),
                "{s:?}"
            );
        }
        // The provider's definitive answer replaces the timeout.
        assert_eq!(
            run(S::Expired, E::ProviderFailed),
            Transition::Changed(S::Failed)
        );
        assert_eq!(
            run(S::Expired, E::ProviderCancelled),
            Transition::Changed(S::Cancelled)
        );
        // A late payment never undoes a refund.
        for s in [S::PartiallyRefunded, S::Refunded] {
            assert_eq!(
                run(s, E::ProviderPaid { amount: FEE }),
                Transition::Unchanged
            );
        }
    }

    #[test]
    fn forged_or_out_of_order_notifications_change_nothing() {
        for s in [S::Paid, S::PartiallyRefunded, S::Refunded, S::Created] {
            for e in [E::ProviderFailed, E::ProviderCancelled] {
                assert_eq!(refused_code(run(s, e)), "payment.transition", "{s:?} {e:?}");
            }
        }
        assert_eq!(
            refused_code(run(S::Failed, E::ProviderCancelled)),
            "payment.transition"
        );
        assert_eq!(
            refused_code(run(S::Cancelled, E::ProviderFailed)),
            "payment.transition"
        );
        for s in [S::Paid, S::Failed, S::Cancelled, S::Expired, S::Refunded] {
            assert_eq!(
                refused_code(run(s, E::Started)),
                "payment.transition",
                "{s:?}"
            );
        }
        let t = run(S::Paid, E::ProviderFailed);
        assert!(
            matches!(&t, Transition::Refused(e) if e.to_string().contains("im Zahlungsstatus paid nicht möglich: provider_failed")),
            "{t:?}"
        );
        assert_eq!(t.status_after(S::Paid), S::Paid);
    }

    fn refund(amount: i64, so_far: i64) -> E {
        E::Refund {
            amount: m(amount),
            refunded_so_far: m(so_far),
            paid: FEE,
        }
    }

    #[test]
    fn refunds() {
        assert_eq!(
            run(S::Paid, refund(1000, 0)),
            Transition::Changed(S::PartiallyRefunded)
        );
        assert_eq!(
            run(S::Paid, refund(2600, 0)),
            Transition::Changed(S::Refunded)
        );
        assert_eq!(
            run(S::PartiallyRefunded, refund(1000, 1000)),
            Transition::Changed(S::PartiallyRefunded)
        );
        assert_eq!(
            run(S::PartiallyRefunded, refund(1600, 1000)),
            Transition::Changed(S::Refunded)
        );
        assert_eq!(
            refused_code(run(S::Paid, refund(2601, 0))),
            "payment.refund_too_large"
        );
        assert_eq!(
            refused_code(run(S::PartiallyRefunded, refund(1601, 1000))),
            "payment.refund_too_large"
        );
        assert_eq!(
            refused_code(run(S::Refunded, refund(1, 2600))),
            "payment.refund_too_large"
        );
        assert_eq!(
            refused_code(run(S::Paid, refund(0, 0))),
            "payment.refund_amount"
        );
        // A repeated refund command with a stale total is caught.
        assert_eq!(
            refused_code(run(S::PartiallyRefunded, refund(1000, 0))),
            "payment.refund_inconsistent"
        );
        assert_eq!(
            refused_code(run(S::Paid, refund(100, 100))),
            "payment.refund_inconsistent"
        );
        assert_eq!(
            refused_code(run(S::PartiallyRefunded, refund(100, 2600))),
            "payment.refund_inconsistent"
        );
        assert_eq!(
            refused_code(run(
                S::Paid,
                E::Refund {
                    amount: m(100),
                    refunded_so_far: Money::ZERO,
                    paid: m(5000)
                }
            )),
            "payment.amount_mismatch"
        );
        for s in [S::Created, S::Pending, S::Failed, S::Cancelled, S::Expired] {
            assert_eq!(
                refused_code(run(s, refund(100, 0))),
                "payment.transition",
                "{s:?}"
            );
        }
    }

    #[test]
    fn four_eyes_on_refunds() {
        assert!(!refund_needs_second_person(m(5000), m(5000)));
        assert!(refund_needs_second_person(m(5001), m(5000)));
        assert!(refund_needs_second_person(m(1), Money::ZERO));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(check_refund_approval(a, b), Ok(()));
        let e = check_refund_approval(a, a).unwrap_err();
        assert_eq!(e, PaymentError::OwnApproval);
        assert_eq!(e.code(), "payment.own_approval");
    }

    #[test]
    fn every_error_has_a_distinct_code_and_a_german_message() {
        let all = [
            PaymentError::AmountMismatch {
                expected: FEE,
                got: FEE,
            },
            PaymentError::Transition {
                from: S::Paid,
                event: "refund",
            },
            PaymentError::NotExpired,
            PaymentError::RefundAmount,
            PaymentError::RefundTooLarge,
            PaymentError::RefundInconsistent,
            PaymentError::OwnApproval,
            PaymentError::FeeRule {
                case: 0,
                error: rules::parse("(").unwrap_err(),
            },
            PaymentError::FeeCases,
            PaymentError::KassenzeichenScheme,
            PaymentError::KassenzeichenPrefix,
            PaymentError::KassenzeichenRange,
        ];
        let mut codes: Vec<_> = all.iter().map(PaymentError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            assert!(e.code().starts_with("payment."));
            assert!(e.to_string().contains('('), "{e}");
        }
        assert!(PaymentError::NotExpired.to_string().contains("90 minutes"));
        assert!(
            PaymentError::KassenzeichenScheme
                .to_string()
                .contains("{prefix}")
        );
    }

    // -- properties --------------------------------------------------------

    /// An event as generated: refunds either honest (the model's own totals)
    /// or with arbitrary totals.
    #[derive(Debug, Clone, Copy)]
    enum Gen {
        Plain(E),
        HonestRefund(Money),
    }

    /// Cents clamped into the range of [`Money`].
    fn cl(c: i64) -> Money {
        Money::from_cents(c.clamp(0, Money::MAX.cents())).unwrap()
    }

    fn money_near(expected: Money) -> impl Strategy<Value = Money> {
        prop_oneof![
            3 => Just(expected),
            1 => (-2i64..=2).prop_map(move |d| cl(expected.cents() + d)),
            1 => (0i64..=Money::MAX.cents()).prop_map(cl),
        ]
    }

    fn event(expected: Money) -> impl Strategy<Value = Gen> {
        prop_oneof![
            Just(Gen::Plain(E::Started)),
            money_near(expected).prop_map(|amount| Gen::Plain(E::ProviderPaid { amount })),
            Just(Gen::Plain(E::ProviderFailed)),
            Just(Gen::Plain(E::ProviderCancelled)),
            (-10i64..200).prop_map(|min| Gen::Plain(E::NoAnswer {
                since_start: chrono::Duration::minutes(min)
            })),
            (0i64..=expected.cents() + 1).prop_map(|c| Gen::HonestRefund(cl(c))),
            (
                0i64..=expected.cents() + 1,
                0i64..=expected.cents() + 1,
                money_near(expected)
            )
                .prop_map(|(a, s, paid)| Gen::Plain(E::Refund {
                    amount: cl(a),
                    refunded_so_far: cl(s),
                    paid,
                })),
        ]
    }

    fn scenario() -> impl Strategy<Value = (Money, Vec<Gen>)> {
        (1i64..=Money::MAX.cents())
            .prop_map(|c| Money::from_cents(c).unwrap())
            .prop_flat_map(|expected| {
                (
                    Just(expected),
                    prop::collection::vec(event(expected), 0..40),
                )
            })
    }

    proptest! {
        /// Whatever the order of notifications, timers and refunds: Paid only
        /// with the expected amount, a received payment is left only by an
        /// accepted refund (and never back to an unpaid status), accepted
        /// refunds keep within what was paid, and every event applied twice
        /// leaves the status it left once (a notification repeated is ignored).
        #[test]
        fn the_state_machine_holds_its_promises((expected, events) in scenario()) {
            let mut status = S::Created;
            let mut refunded = Money::ZERO;
            for g in events {
                let e = match g {
                    Gen::Plain(e) => e,
                    Gen::HonestRefund(amount) => E::Refund { amount, refunded_so_far: refunded, paid: expected },
                };
                let t = next(status, e, expected);
                let after = t.status_after(status);

                if after == S::Paid && status != S::Paid {
                    prop_assert_eq!(e, E::ProviderPaid { amount: expected });
                }
                if status.money_received() {
                    prop_assert!(after.money_received(), "{:?} -> {:?} by {:?}", status, after, e);
                    if matches!(t, Transition::Changed(_)) {
                        prop_assert!(matches!(e, E::Refund { .. }), "{:?} left by {:?}", status, e);
                    }
                }
                if let (Transition::Changed(_), E::Refund { amount, refunded_so_far, paid }) = (&t, e) {
                    prop_assert_eq!(paid, expected);
                    prop_assert!(!amount.is_zero());
                    let total = refunded_so_far.checked_add(amount).expect("within MAX");
                    prop_assert!(total <= paid);
                    prop_assert_eq!(after == S::Refunded, total == paid);
                    if let Gen::HonestRefund(_) = g {
                        refunded = total;
                    }
                }

                // Idempotence: the same event again.
                let again = next(after, e, expected);
                prop_assert_eq!(again.status_after(after), after, "{:?} twice from {:?}", e, status);
                if !matches!(e, E::Refund { .. }) {
                    prop_assert!(!matches!(again, Transition::Changed(_)), "{:?} twice from {:?}", e, status);
                }
                status = after;
            }
        }

        /// With honest totals, refunds never exceed the paid amount and the
        /// status says whether all of it was refunded.
        #[test]
        fn refunds_never_exceed_the_paid_amount(
            expected in 1i64..=100_000,
            amounts in prop::collection::vec(0i64..=100_001, 0..20),
        ) {
            let expected = Money::from_cents(expected).unwrap();
            let mut status = S::Paid;
            let mut refunded = Money::ZERO;
            for a in amounts {
                let amount = Money::from_cents(a).unwrap();
                let t = next(status, E::Refund { amount, refunded_so_far: refunded, paid: expected }, expected);
                if let Transition::Changed(s) = t {
                    refunded = refunded.checked_add(amount).unwrap();
                    status = s;
                }
                prop_assert!(refunded <= expected);
                prop_assert_eq!(status == S::Refunded, refunded == expected);
                prop_assert_eq!(status == S::PartiallyRefunded, !refunded.is_zero() && refunded < expected);
            }
        }

        #[test]
        fn money_display_and_parse_round_trip(c in 0i64..=Money::MAX.cents()) {
            let money = Money::from_cents(c).unwrap();
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
            prop_assert_eq!(Money::parse(&money.german()), Ok(money));
            prop_assert_eq!(Money::parse(&money.to_string().replace('.', ",")), Ok(money));
            let json = serde_json::to_string(&money).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        }

        #[test]
        fn money_parsing_never_panics_nor_leaves_the_range(s in "\\PC{0,40}") {
            if let Ok(money) = Money::parse(&s) {
                prop_assert!((0..=Money::MAX.cents()).contains(&money.cents()));
            }
        }

        #[test]
        fn money_parsing_of_number_like_text(s in "-?[0-9]{0,8}([.,][0-9]{0,4}){0,3}( ?€)?") {
            if let Ok(money) = Money::parse(&s) {
                prop_assert!((0..=Money::MAX.cents()).contains(&money.cents()));
                // What parses means what it says: display it and read it again.
                prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
            }
        }

        /// Every single-digit change of a rendered Kassenzeichen is detected.
        #[test]
        fn check_digit_detects_every_single_digit_change(
            prefix in "[A-Z0-9]{0,12}",
            year in 1000i32..=9999,
            seq in 0u64..=MAX_KASSENZEICHEN_SEQ,
            scheme in prop::sample::select(vec![
                "{prefix}{year}{seq}", "{prefix}-{year}/{seq}", "KZ.{year}.{seq}.{prefix}", "{seq}{year}",
            ]),
        ) {
            let kz = KassenzeichenScheme::parse(scheme).unwrap().render(&prefix, year, seq).unwrap();
            prop_assert!(verify_kassenzeichen(&kz), "{}", kz);
            prop_assert!(kz.len() <= MAX_KASSENZEICHEN_CHARS);
            let chars: Vec<char> = kz.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let Some(d) = c.to_digit(10) else { continue };
                for other in (0..10).filter(|o| *o != d) {
                    let mut changed = chars.clone();
                    changed[i] = char::from_digit(other, 10).unwrap();
                    let changed: String = changed.into_iter().collect();
                    prop_assert!(!verify_kassenzeichen(&changed), "{} -> {}", kz, changed);
                }
            }
        }

        #[test]
        fn valid_schemes_render_verifiable_kassenzeichen(
            mut parts in prop::collection::vec(prop::sample::select(vec![
                "{prefix}", "{year}", "{seq}", "-", "/", ".", "A", "7", "KZ", "{", "_", " ",
            ]), 0..8),
            at in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            seq in 0u64..1000,
        ) {
            // Mostly valid: {year} and {seq} somewhere, among other parts.
            parts.insert(at.0.index(parts.len() + 1), "{year}");
            parts.insert(at.1.index(parts.len() + 1), "{seq}");
            let s = parts.concat();
            if let Ok(scheme) = KassenzeichenScheme::parse(&s) {
                let kz = scheme.render("ABCDEFGHIJ12", 9999, MAX_KASSENZEICHEN_SEQ - seq).unwrap();
                prop_assert!(kz.len() <= MAX_KASSENZEICHEN_CHARS, "{}", kz);
                prop_assert!(verify_kassenzeichen(&kz), "{}", kz);
            }
        }
    }
}
