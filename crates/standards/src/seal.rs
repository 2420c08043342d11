//! The electronic seal (elektronisches Siegel) of a tenant: a signature over
//! a document's SHA-256 with the tenant's key, in a detached seal file
//! (`<document>.siegel.json`) that travels with the document and can be
//! verified offline.
//!
//! - [`SealKey`]: the tenant's key (Ed25519 or ECDSA P-256, generated with
//!   ring, kept as PKCS#8) with its self-signed X.509 v3 certificate
//!   (subject C/O/CN, key usage digitalSignature + contentCommitment
//!   (nonRepudiation), extended key usage documentSigning (RFC 9336), a
//!   random 128-bit serial, validity `now .. now + years`). The caller stores
//!   [`SealKey::pkcs8`] (encrypted) and [`SealKey::certificate_der`], and
//!   rebuilds the key with [`SealKey::from_parts`].
//! - [`Seal`]: the seal file (JSON, format `rathaus-seal/1`), made by
//!   [`SealKey::seal`], read by [`Seal::parse`].
//! - [`verify`] / [`verify_hash`]: check a seal against the document (or its
//!   hash) and the certificates the verifier trusts ([`TrustAnchor`]: the
//!   tenant's certificate, from the caller's database or a file). The answer
//!   is a [`Verification`] with an [`Outcome`] that has a stable
//!   [`Outcome::code`].
//!
//! Pure code: no file or network I/O; the only outside input is the
//! operating system's random generator (through ring) for keys, serials and
//! ECDSA nonces.
//!
//! # The seal file
//!
//! ```json
//! {
//!   "format": "rathaus-seal/1",
//!   "algorithm": "Ed25519",
//!   "sha256": "<64 lowercase hex digits: SHA-256 of the document's bytes>",
//!   "size": 12345,
//!   "sealed_at": "2026-03-01T09:30:00Z",
//!   "document": "<optional id of the document>",
//!   "title": "<optional title>",
//!   "issuer": "Stadt Musterstadt",
//!   "signature": "<base64 (standard alphabet, padded)>",
//!   "certificate": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n"
//! }
//! ```
//!
//! `algorithm` is `Ed25519` or `ECDSA-P256-SHA256` (the signature is then
//! ASN.1 DER `Ecdsa-Sig-Value`). `issuer` is the certificate's organisation
//! (O; its CN if it has none). No other fields are allowed.
//!
//! # What is signed
//!
//! The signature covers the *signing input* ([`Seal::signing_input`]): for
//! each of the nine fields below, in this order, the field's name (ASCII),
//! one byte `0x00`, a presence byte (`0x01` present, `0x00` absent: only
//! `document` and `title` can be absent) and, if present, the value's length
//! in bytes as a big-endian u64 followed by the value:
//!
//! | field         | value                                                        |
//! |---------------|--------------------------------------------------------------|
//! | `format`      | `rathaus-seal/1` (UTF-8)                                     |
//! | `algorithm`   | the algorithm's name as in the JSON (UTF-8)                  |
//! | `sha256`      | the 32 bytes of the document's SHA-256                       |
//! | `size`        | the document's size in bytes, u64 big-endian (8 bytes)       |
//! | `sealed_at`   | RFC 3339 in UTC with `Z`, fraction only when not zero (chrono `SecondsFormat::AutoSi`) |
//! | `document`    | the document id (UTF-8), or absent                           |
//! | `title`       | the title (UTF-8), or absent                                 |
//! | `issuer`      | the issuer (UTF-8)                                           |
//! | `certificate` | the 32 bytes of the SHA-256 of the certificate's DER         |
//!
//! Every value is length-prefixed, so no field can be changed, moved into
//! another or dropped without breaking the signature. Ed25519 signs the
//! signing input itself, ECDSA P-256 its SHA-256. [`SealKey::seal`] cuts
//! `sealed_at` to whole seconds, so a value stored in a database (PostgreSQL
//! keeps microseconds) rebuilds the same signing input.
//!
//! # Verification
//!
//! [`verify`] answers with the first of these that applies:
//! 1. [`Outcome::Malformed`]: the seal cannot be checked (wrong format, a
//!    certificate that is not X.509 or has another key type than
//!    `algorithm`, bad hex/base64, a field over its limit, an issuer other
//!    than the certificate's, a content hash that is not 64 hex digits).
//! 2. [`Outcome::SignatureInvalid`]: the signature does not match the seal's
//!    fields and the certificate's key (the seal file was changed).
//! 3. [`Outcome::UnknownCertificate`]: the signature is fine but the
//!    certificate is none of the trusted ones (byte-for-byte DER).
//! 4. [`Outcome::CertificateExpired`]: `sealed_at` is outside the
//!    certificate's validity. What counts is the time of sealing, not of
//!    verifying: a seal made while the certificate was valid stays valid.
//! 5. [`Outcome::ContentChanged`]: the document's SHA-256 or size differs
//!    from the seal's.
//! 6. [`Outcome::Valid`].
//!
//! The fields of a [`Verification`] other than `outcome` are for display;
//! they are vouched for only when the outcome is [`Outcome::Valid`].

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use chrono::{DateTime, Months, SecondsFormat, Timelike, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair as _, UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};
use x509_cert::der::Decode as _;
use x509_cert::der::asn1::ObjectIdentifier;

/// The format of the seal file (its `format` field).
pub const FORMAT: &str = "rathaus-seal/1";
/// The suffix of a seal file next to its document (`bescheid.pdf.siegel.json`).
pub const FILE_SUFFIX: &str = ".siegel.json";
/// Largest seal file [`Seal::parse`] reads (64 KiB).
pub const MAX_SEAL_BYTES: usize = 64 * 1024;
/// Largest certificate (DER) a seal or trust anchor may carry (16 KiB).
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;
/// Longest document id (characters).
pub const MAX_DOCUMENT_CHARS: usize = 200;
/// Longest title (characters).
pub const MAX_TITLE_CHARS: usize = 1000;
/// Longest organisation, common name and issuer (characters).
pub const MAX_NAME_CHARS: usize = 200;
/// Longest validity of a generated certificate (years).
pub const MAX_VALID_YEARS: u16 = 100;

/// Longest signature (bytes): Ed25519 64, ECDSA P-256 DER at most 72.
const MAX_SIGNATURE_BYTES: usize = 128;
/// id-kp-documentSigning (RFC 9336).
const OID_KP_DOCUMENT_SIGNING: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 3, 36];
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// What [`SealKey::from_parts`] signs to check the key against the certificate.
const KEY_CHECK_MESSAGE: &[u8] = b"rathaus-seal/1 key check";

// ---------------------------------------------------------------------------
// Algorithm, subject, errors

/// The signature algorithm of a seal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SealAlgorithm {
    /// Ed25519 (RFC 8032), name `Ed25519`.
    #[serde(rename = "Ed25519")]
    Ed25519,
    /// ECDSA on P-256 with SHA-256, ASN.1 DER signatures, name `ECDSA-P256-SHA256`.
    #[serde(rename = "ECDSA-P256-SHA256")]
    EcdsaP256,
}

impl SealAlgorithm {
    /// Both algorithms.
    pub const ALL: [SealAlgorithm; 2] = [SealAlgorithm::Ed25519, SealAlgorithm::EcdsaP256];

    /// The name in the seal file: `Ed25519` or `ECDSA-P256-SHA256`.
    pub const fn name(self) -> &'static str {
        match self {
            SealAlgorithm::Ed25519 => "Ed25519",
            SealAlgorithm::EcdsaP256 => "ECDSA-P256-SHA256",
        }
    }

    /// The algorithm of a name (exactly as [`SealAlgorithm::name`] writes it).
    pub fn from_name(name: &str) -> Option<SealAlgorithm> {
        SealAlgorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for SealAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SealAlgorithm {
    type Err = SealError;
    fn from_str(s: &str) -> Result<Self, SealError> {
        SealAlgorithm::from_name(s)
            .ok_or_else(|| SealError::UnknownAlgorithm(s.chars().take(40).collect()))
    }
}

/// Whom a seal certificate names: `C=<country>, O=<organisation>, CN=<common_name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealSubject {
    /// The authority, e.g. `Stadt Musterstadt` (becomes the seals' issuer).
    pub organisation: String,
    /// E.g. `Stadt Musterstadt – elektronisches Siegel`.
    pub common_name: String,
    /// ISO 3166 two-letter code, `DE`.
    pub country: String,
}

impl SealSubject {
    /// The usual subject of a German authority: country `DE`, common name
    /// `<organisation> – elektronisches Siegel`.
    pub fn new(organisation: impl Into<String>) -> SealSubject {
        let organisation = organisation.into();
        SealSubject {
            common_name: format!("{organisation} – elektronisches Siegel"),
            organisation,
            country: "DE".to_owned(),
        }
    }

    /// Checks the fields: organisation and common name not blank, at most
    /// [`MAX_NAME_CHARS`], no control characters; country two letters A–Z.
    pub fn check(&self) -> Result<(), SealError> {
        for (field, value) in [
            ("organisation", &self.organisation),
            ("common_name", &self.common_name),
        ] {
            if let Err(problem) = check_text(value, MAX_NAME_CHARS) {
                return Err(SealError::InvalidSubject { field, problem });
            }
        }
        if !(self.country.len() == 2 && self.country.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(SealError::InvalidSubject {
                field: "country",
                problem: "zwei Großbuchstaben A–Z (two capital letters), z. B. DE".to_owned(),
            });
        }
        Ok(())
    }
}

/// Why a seal key, certificate or seal file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("Siegeldatei zu groß (seal file too large): {bytes} Bytes, höchstens (at most) {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("Siegeldatei ist kein gültiges JSON (not valid JSON): {0}")]
    Json(String),
    #[error(
        "Siegeldatei hat ein unbekanntes Format (unsupported format) {0:?}, erwartet (expected) {FORMAT:?}"
    )]
    UnsupportedFormat(String),
    #[error("Siegeldatei: Feld (field) {field}: {problem}")]
    InvalidField {
        field: &'static str,
        problem: String,
    },
    #[error("unbekannter Siegelalgorithmus (unknown seal algorithm) {0:?}")]
    UnknownAlgorithm(String),
    #[error("Siegelinhaber (seal subject): Feld (field) {field}: {problem}")]
    InvalidSubject {
        field: &'static str,
        problem: String,
    },
    #[error("Gültigkeit des Zertifikats (certificate validity): {0}")]
    InvalidValidity(String),
    #[error("privater Schlüssel ungültig (invalid private key): {0}")]
    InvalidKey(String),
    #[error("Zertifikat ungültig (invalid certificate): {0}")]
    InvalidCertificate(String),
    #[error(
        "Schlüssel und Zertifikat haben verschiedene Algorithmen (key and certificate differ in algorithm): {expected} / {found}"
    )]
    AlgorithmMismatch { expected: String, found: String },
    #[error(
        "privater Schlüssel passt nicht zum Zertifikat (private key does not match the certificate)"
    )]
    KeyMismatch,
    #[error(
        "Siegelzeitpunkt {sealed_at} außerhalb der Gültigkeit des Zertifikats (sealing time outside the certificate's validity) {valid_from} – {valid_to}"
    )]
    OutsideValidity {
        sealed_at: String,
        valid_from: String,
        valid_to: String,
    },
    #[error("Kryptografie-Fehler (crypto failure): {0}")]
    Crypto(&'static str),
}

/// `Ok` if `value` is not blank, at most `max` characters and free of control characters.
fn check_text(value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("leer (empty)".to_owned());
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(format!(
            "{chars} Zeichen, höchstens (characters, at most) {max}"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("enthält Steuerzeichen (contains control characters)".to_owned());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Hashes, PEM

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The 32 bytes of a SHA-256 written as 64 hex digits (either case).
pub fn parse_sha256_hex(hex_digits: &str) -> Option<[u8; 32]> {
    if hex_digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut out).ok()?;
    Some(out)
}

/// A certificate's DER as PEM (`CERTIFICATE`, LF line ends).
pub fn certificate_to_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The DER of the first PEM block of `pem_text`, which must be a `CERTIFICATE`.
pub fn certificate_from_pem(pem_text: &str) -> Result<Vec<u8>, SealError> {
    if pem_text.len() > 2 * MAX_CERTIFICATE_BYTES {
        return Err(SealError::InvalidCertificate(format!(
            "PEM länger als (longer than) {} Bytes",
            2 * MAX_CERTIFICATE_BYTES
        )));
    }
    let block = pem::parse(pem_text)
        .map_err(|e| SealError::InvalidCertificate(format!("kein PEM (not PEM): {e}")))?;
    if block.tag() != "CERTIFICATE" {
        return Err(SealError::InvalidCertificate(format!(
            "PEM-Block {:?} statt (instead of) CERTIFICATE",
            block.tag().chars().take(40).collect::<String>()
        )));
    }
    Ok(block.into_contents())
}

// ---------------------------------------------------------------------------
// Certificates

/// What rathaus reads from an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// The subject as an RFC 4514 string (`CN=…,O=…,C=DE`).
    pub subject: String,
    /// The subject's organisation (O), if any.
    pub organisation: Option<String>,
    /// The subject's common name (CN), if any.
    pub common_name: Option<String>,
    /// The subject's country (C), if any.
    pub country: Option<String>,
    /// The serial number, lowercase hex.
    pub serial: String,
    /// Start of validity (notBefore).
    pub valid_from: DateTime<Utc>,
    /// End of validity (notAfter).
    pub valid_to: DateTime<Utc>,
    /// The seal algorithm the public key is for; `None` for other key types
    /// (RSA, other curves), which cannot seal.
    pub algorithm: Option<SealAlgorithm>,
    /// SHA-256 of the certificate's DER, lowercase hex.
    pub fingerprint: String,
    /// The raw public key (Ed25519: 32 bytes, P-256: 65 bytes uncompressed).
    #[serde(skip)]
    pub public_key: Vec<u8>,
}

impl CertificateInfo {
    /// The name a seal states as its issuer: the organisation, else the
    /// common name, else the whole subject.
    pub fn issuer_name(&self) -> String {
        self.organisation
            .clone()
            .or_else(|| self.common_name.clone())
            .unwrap_or_else(|| self.subject.clone())
    }
}

/// Reads an X.509 certificate (DER). Checks its structure, not its own
/// signature: trust comes from comparing it with a [`TrustAnchor`].
pub fn inspect_certificate(der: &[u8]) -> Result<CertificateInfo, SealError> {
    if der.len() > MAX_CERTIFICATE_BYTES {
        return Err(SealError::InvalidCertificate(format!(
            "{} Bytes, höchstens (at most) {MAX_CERTIFICATE_BYTES}",
            der.len()
        )));
    }
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| SealError::InvalidCertificate(format!("kein X.509 (not X.509): {e}")))?;
    let tbs = cert.tbs_certificate();
    let subject = tbs.subject();
    let text = |r: x509_cert::der::Result<Option<x509_cert::ext::pkix::name::DirectoryString>>| {
        r.ok().flatten().map(|s| s.value().into_owned())
    };
    let organisation = text(subject.organization());
    let common_name = text(subject.common_name());
    let country = subject
        .country()
        .ok()
        .flatten()
        .map(|c| c.as_str().to_owned());
    let validity = tbs.validity();
    let time = |t: x509_cert::time::Time| {
        let d = t.to_unix_duration();
        i64::try_from(d.as_secs())
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, d.subsec_nanos()))
            .ok_or_else(|| {
                SealError::InvalidCertificate("Zeitpunkt außerhalb (time out of range)".to_owned())
            })
    };
    let valid_from = time(validity.not_before)?;
    let valid_to = time(validity.not_after)?;
    let spki = tbs.subject_public_key_info();
    let public_key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| {
            SealError::InvalidCertificate(
                "öffentlicher Schlüssel (public key): BIT STRING".to_owned(),
            )
        })?
        .to_vec();
    let algorithm = if spki.algorithm.oid == OID_ED25519 && public_key.len() == 32 {
        Some(SealAlgorithm::Ed25519)
    } else if spki.algorithm.oid == OID_EC_PUBLIC_KEY
        && public_key.len() == 65
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            == Some(OID_SECP256R1)
    {
        Some(SealAlgorithm::EcdsaP256)
    } else {
        None
    };
    // Not `to_string()`: x509-cert's Display can return an error (a value
    // it cannot re-encode), which `to_string` turns into a panic.
    let mut subject_text = String::new();
    if fmt::Write::write_fmt(&mut subject_text, format_args!("{subject}")).is_err() {
        subject_text.clear();
    }
    Ok(CertificateInfo {
        subject: subject_text,
        organisation,
        common_name,
        country,
        serial: hex::encode(tbs.serial_number().as_bytes()),
        valid_from,
        valid_to,
        algorithm,
        fingerprint: hex::encode(sha256(der)),
        public_key,
    })
}

/// A certificate the verifier trusts: the tenant's seal certificate, as the
/// caller has it in its database or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    der: Vec<u8>,
    info: CertificateInfo,
}

impl TrustAnchor {
    /// From the certificate's DER (checked to be an X.509 certificate).
    pub fn from_der(der: &[u8]) -> Result<TrustAnchor, SealError> {
        Ok(TrustAnchor {
            info: inspect_certificate(der)?,
            der: der.to_vec(),
        })
    }

    /// From the certificate as PEM.
    pub fn from_pem(pem_text: &str) -> Result<TrustAnchor, SealError> {
        TrustAnchor::from_der(&certificate_from_pem(pem_text)?)
    }

    /// The certificate's DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.der
    }

    /// What the certificate says.
    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// SHA-256 of the certificate's DER, lowercase hex.
    pub fn fingerprint(&self) -> &str {
        &self.info.fingerprint
    }
}

// ---------------------------------------------------------------------------
// The key

enum Signer {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair),
}

impl Signer {
    fn public_key(&self) -> &[u8] {
        match self {
            Signer::Ed25519(k) => k.public_key().as_ref(),
            Signer::EcdsaP256(k) => k.public_key().as_ref(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        match self {
            Signer::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Signer::EcdsaP256(k) => k
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SealError::Crypto("ECDSA-Signatur (signing)")),
        }
    }
}

/// A tenant's seal key: the private key (PKCS#8) with its certificate.
///
/// `Debug` does not show the private key; the key's bytes are overwritten
/// with zeros when it is dropped (best effort: ring keeps its own copy).
pub struct SealKey {
    algorithm: SealAlgorithm,
    pkcs8: Vec<u8>,
    signer: Signer,
    certificate_der: Vec<u8>,
    certificate_pem: String,
    certificate: CertificateInfo,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("algorithm", &self.algorithm)
            .field("subject", &self.certificate.subject)
            .field("fingerprint", &self.certificate.fingerprint)
            .field("valid_to", &self.certificate.valid_to)
            .finish_non_exhaustive()
    }
}

impl Drop for SealKey {
    fn drop(&mut self) {
        // No unsafe volatile writes: `black_box` keeps the compiler from
        // dropping the zeroing as a dead store.
        self.pkcs8.fill(0);
        std::hint::black_box(&self.pkcs8);
    }
}

fn to_offset(t: DateTime<Utc>) -> Result<time::OffsetDateTime, SealError> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| SealError::InvalidValidity(e.to_string()))
}

impl SealKey {
    /// Generates a key (ring) and its self-signed certificate (rcgen) for
    /// `subject`, valid from `now` (whole seconds) for `valid_years` years
    /// (1 to [`MAX_VALID_YEARS`]).
    pub fn generate(
        algorithm: SealAlgorithm,
        subject: &SealSubject,
        now: DateTime<Utc>,
        valid_years: u16,
    ) -> Result<SealKey, SealError> {
        subject.check()?;
        if valid_years == 0 || valid_years > MAX_VALID_YEARS {
            return Err(SealError::InvalidValidity(format!(
                "{valid_years} Jahre, erlaubt (years, allowed) 1–{MAX_VALID_YEARS}"
            )));
        }
        let not_before = now.with_nanosecond(0).unwrap_or(now);
        let not_after = not_before
            .checked_add_months(Months::new(12 * u32::from(valid_years)))
            .ok_or_else(|| {
                SealError::InvalidValidity("Ende außerhalb (end out of range)".to_owned())
            })?;
        // x509-cert reads times from 1970 on; GeneralizedTime has four-digit years.
        if not_before.timestamp() < 0 || not_after.timestamp() >= 253_402_300_800 {
            return Err(SealError::InvalidValidity(
                "zwischen 1970 und 9999 (between 1970 and 9999)".to_owned(),
            ));
        }
        let rng = SystemRandom::new();
        let (pkcs8, rcgen_alg) = match algorithm {
            SealAlgorithm::Ed25519 => (
                Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| SealError::Crypto("Ed25519-Schlüssel (key generation)"))?,
                &rcgen::PKCS_ED25519,
            ),
            SealAlgorithm::EcdsaP256 => (
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map_err(|_| SealError::Crypto("P-256-Schlüssel (key generation)"))?,
                &rcgen::PKCS_ECDSA_P256_SHA256,
            ),
        };
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_ref().into(), rcgen_alg)
            .map_err(|e| SealError::InvalidKey(e.to_string()))?;

        let mut params = rcgen::CertificateParams::default();
        params.not_before = to_offset(not_before)?;
        params.not_after = to_offset(not_after)?;
        let mut serial = [0u8; 16];
        rng.fill(&mut serial)
            .map_err(|_| SealError::Crypto("Zufallszahl (random serial)"))?;
        // Positive, and exactly 16 bytes in DER (no leading zero byte).
        serial[0] = (serial[0] & 0x7f) | 0x40;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let mut dn = rcgen::DistinguishedName::new();
        let country =
            rcgen::string::PrintableString::try_from(subject.country.as_str()).map_err(|e| {
                SealError::InvalidSubject {
                    field: "country",
                    problem: e.to_string(),
                }
            })?;
        dn.push(
            rcgen::DnType::CountryName,
            rcgen::DnValue::PrintableString(country),
        );
        dn.push(
            rcgen::DnType::OrganizationName,
            subject.organisation.as_str(),
        );
        dn.push(rcgen::DnType::CommonName, subject.common_name.as_str());
        params.distinguished_name = dn;
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::ContentCommitment,
        ];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::Other(
            OID_KP_DOCUMENT_SIGNING.to_vec(),
        )];
        let cert = params
            .self_signed(&key)
            .map_err(|e| SealError::InvalidCertificate(e.to_string()))?;
        SealKey::from_parts(algorithm, pkcs8.as_ref(), cert.der())
    }

    /// Rebuilds a key from its stored parts. Refuses a key that is not
    /// `algorithm`, a certificate for another algorithm, and a key that does
    /// not belong to the certificate's public key (checked by signing and
    /// verifying a test message).
    pub fn from_parts(
        algorithm: SealAlgorithm,
        pkcs8: &[u8],
        certificate_der: &[u8],
    ) -> Result<SealKey, SealError> {
        let certificate = inspect_certificate(certificate_der)?;
        match certificate.algorithm {
            Some(a) if a == algorithm => {}
            other => {
                return Err(SealError::AlgorithmMismatch {
                    expected: algorithm.name().to_owned(),
                    found: other
                        .map_or("anderer Schlüsseltyp (other key type)", |a| a.name())
                        .to_owned(),
                });
            }
        }
        let signer = match algorithm {
            SealAlgorithm::Ed25519 => Signer::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                    .map_err(|e| SealError::InvalidKey(e.to_string()))?,
            ),
            SealAlgorithm::EcdsaP256 => Signer::EcdsaP256(
                EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(|e| SealError::InvalidKey(e.to_string()))?,
            ),
        };
        if signer.public_key() != certificate.public_key.as_slice() {
            return Err(SealError::KeyMismatch);
        }
        let test = signer.sign(KEY_CHECK_MESSAGE)?;
        if !signature_ok(algorithm, &certificate.public_key, KEY_CHECK_MESSAGE, &test) {
            return Err(SealError::KeyMismatch);
        }
        Ok(SealKey {
            algorithm,
            pkcs8: pkcs8.to_vec(),
            signer,
            certificate_pem: certificate_to_pem(certificate_der),
            certificate_der: certificate_der.to_vec(),
            certificate,
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SealAlgorithm {
        self.algorithm
    }

    /// The private key, PKCS#8 DER (to be stored encrypted).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// SHA-256 of the certificate's DER, lowercase hex.
    pub fn fingerprint(&self) -> &str {
        &self.certificate.fingerprint
    }

    /// What the certificate says (subject, validity, …).
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }

    /// The certificate as a trust anchor (for [`verify`]).
    pub fn trust_anchor(&self) -> TrustAnchor {
        TrustAnchor {
            der: self.certificate_der.clone(),
            info: self.certificate.clone(),
        }
    }

    /// Seals a document given its SHA-256 and size. `sealed_at` is cut to
    /// whole seconds and must lie within the certificate's validity
    /// (else [`SealError::OutsideValidity`]: renew the certificate);
    /// `document` and `title` are checked against their limits.
    pub fn seal(
        &self,
        content_sha256: &[u8; 32],
        size: u64,
        sealed_at: DateTime<Utc>,
        document: Option<&str>,
        title: Option<&str>,
    ) -> Result<Seal, SealError> {
        let sealed_at = sealed_at.with_nanosecond(0).unwrap_or(sealed_at);
        if sealed_at < self.certificate.valid_from || sealed_at > self.certificate.valid_to {
            return Err(SealError::OutsideValidity {
                sealed_at: rfc3339(sealed_at),
                valid_from: rfc3339(self.certificate.valid_from),
                valid_to: rfc3339(self.certificate.valid_to),
            });
        }
        self.sign_unchecked(content_sha256, size, sealed_at, document, title)
    }

    /// Seals a document's bytes ([`SealKey::seal`] with their SHA-256 and length).
    pub fn seal_bytes(
        &self,
        content: &[u8],
        sealed_at: DateTime<Utc>,
        document: Option<&str>,
        title: Option<&str>,
    ) -> Result<Seal, SealError> {
        self.seal(
            &sha256(content),
            content.len() as u64,
            sealed_at,
            document,
            title,
        )
    }

    /// Builds and signs a seal without the validity check (tests make
    /// seals outside the validity with it).
    fn sign_unchecked(
        &self,
        content_sha256: &[u8; 32],
        size: u64,
        sealed_at: DateTime<Utc>,
        document: Option<&str>,
        title: Option<&str>,
    ) -> Result<Seal, SealError> {
        let mut seal = Seal {
            format: FORMAT.to_owned(),
            algorithm: self.algorithm,
            sha256: hex::encode(content_sha256),
            size,
            sealed_at,
            document: document.map(str::to_owned),
            title: title.map(str::to_owned),
            issuer: self.certificate.issuer_name(),
            signature: String::new(),
            certificate: self.certificate_pem.clone(),
        };
        seal.check_signed_fields()?;
        let input = seal.signing_input_with(content_sha256, &self.certificate_der);
        seal.signature =
            base64::engine::general_purpose::STANDARD.encode(self.signer.sign(&input)?);
        Ok(seal)
    }
}

fn signature_ok(
    algorithm: SealAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    let alg: &dyn ring::signature::VerificationAlgorithm = match algorithm {
        SealAlgorithm::Ed25519 => &ED25519,
        SealAlgorithm::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
    };
    UnparsedPublicKey::new(alg, public_key)
        .verify(message, signature)
        .is_ok()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

// ---------------------------------------------------------------------------
// The seal file

/// A seal: the detached seal file (`.siegel.json`), see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Always [`FORMAT`].
    pub format: String,
    /// The signature algorithm.
    pub algorithm: SealAlgorithm,
    /// SHA-256 of the document's bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// The document's size in bytes.
    pub size: u64,
    /// When the document was sealed (RFC 3339, UTC).
    #[serde(with = "rfc3339_serde")]
    pub sealed_at: DateTime<Utc>,
    /// The document's id (e.g. the Bescheid's or the filed document's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The document's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The sealing authority (the certificate's organisation).
    pub issuer: String,
    /// The signature over [`Seal::signing_input`], base64.
    pub signature: String,
    /// The seal certificate, PEM.
    pub certificate: String,
}

mod rfc3339_serde {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                serde::de::Error::custom(format!("sealed_at: kein RFC 3339 (not RFC 3339): {e}"))
            })
    }
}

impl Seal {
    /// Reads a seal file: at most [`MAX_SEAL_BYTES`], JSON, `format`
    /// [`FORMAT`], only the known fields, each well-formed (hex, base64,
    /// PEM, limits). Never panics. Does not check the signature: that is
    /// [`verify`]'s job.
    pub fn parse(json: &[u8]) -> Result<Seal, SealError> {
        if json.len() > MAX_SEAL_BYTES {
            return Err(SealError::TooLarge {
                bytes: json.len(),
                max: MAX_SEAL_BYTES,
            });
        }
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| SealError::Json(e.to_string()))?;
        match value.get("format") {
            Some(serde_json::Value::String(f)) if f == FORMAT => {}
            Some(serde_json::Value::String(f)) => {
                return Err(SealError::UnsupportedFormat(f.chars().take(40).collect()));
            }
            _ => {
                return Err(SealError::InvalidField {
                    field: "format",
                    problem: format!("fehlt (missing), erwartet (expected) {FORMAT:?}"),
                });
            }
        }
        let seal: Seal =
            serde_json::from_value(value).map_err(|e| SealError::Json(e.to_string()))?;
        seal.check_fields()?;
        Ok(seal)
    }

    /// The seal file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a Seal always serialises");
        s.push('\n');
        s
    }

    /// The document's SHA-256 (`None` if `sha256` is not 64 hex digits).
    pub fn content_sha256(&self) -> Option<[u8; 32]> {
        parse_sha256_hex(&self.sha256)
    }

    /// The certificate's DER (from the PEM in `certificate`).
    pub fn certificate_der(&self) -> Result<Vec<u8>, SealError> {
        certificate_from_pem(&self.certificate)
    }

    /// The byte string the signature covers (see the module docs).
    pub fn signing_input(&self) -> Result<Vec<u8>, SealError> {
        let digest = self
            .content_sha256()
            .ok_or_else(|| SealError::InvalidField {
                field: "sha256",
                problem: "keine 64 Hexziffern (not 64 hex digits)".to_owned(),
            })?;
        Ok(self.signing_input_with(&digest, &self.certificate_der()?))
    }

    fn signing_input_with(&self, content_sha256: &[u8; 32], certificate_der: &[u8]) -> Vec<u8> {
        fn field(out: &mut Vec<u8>, name: &str, value: Option<&[u8]>) {
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            match value {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    out.extend_from_slice(&(v.len() as u64).to_be_bytes());
                    out.extend_from_slice(v);
                }
            }
        }
        let mut out = Vec::with_capacity(256);
        field(&mut out, "format", Some(self.format.as_bytes()));
        field(
            &mut out,
            "algorithm",
            Some(self.algorithm.name().as_bytes()),
        );
        field(&mut out, "sha256", Some(content_sha256));
        field(&mut out, "size", Some(&self.size.to_be_bytes()));
        field(
            &mut out,
            "sealed_at",
            Some(rfc3339(self.sealed_at).as_bytes()),
        );
        field(
            &mut out,
            "document",
            self.document.as_deref().map(str::as_bytes),
        );
        field(&mut out, "title", self.title.as_deref().map(str::as_bytes));
        field(&mut out, "issuer", Some(self.issuer.as_bytes()));
        field(&mut out, "certificate", Some(&sha256(certificate_der)));
        out
    }

    /// Checks the fields' form (not the signature).
    fn check_fields(&self) -> Result<(), SealError> {
        self.check_signed_fields()?;
        let invalid =
            |field: &'static str, problem: String| SealError::InvalidField { field, problem };
        if self.signature.len() > 2 * MAX_SIGNATURE_BYTES {
            return Err(invalid("signature", "zu lang (too long)".to_owned()));
        }
        match base64::engine::general_purpose::STANDARD.decode(&self.signature) {
            Ok(s) if !s.is_empty() && s.len() <= MAX_SIGNATURE_BYTES => {}
            _ => {
                return Err(invalid(
                    "signature",
                    "kein Base64 einer Signatur (not the base64 of a signature)".to_owned(),
                ));
            }
        }
        let der = self
            .certificate_der()
            .map_err(|e| invalid("certificate", e.to_string()))?;
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(invalid(
                "certificate",
                format!(
                    "{} Bytes, höchstens (at most) {MAX_CERTIFICATE_BYTES}",
                    der.len()
                ),
            ));
        }
        Ok(())
    }

    /// Checks the form of the fields the signature covers (except the certificate).
    fn check_signed_fields(&self) -> Result<(), SealError> {
        let invalid =
            |field: &'static str, problem: String| SealError::InvalidField { field, problem };
        if self.format != FORMAT {
            return Err(SealError::UnsupportedFormat(
                self.format.chars().take(40).collect(),
            ));
        }
        if self.content_sha256().is_none() {
            return Err(invalid(
                "sha256",
                "keine 64 Hexziffern (not 64 hex digits)".to_owned(),
            ));
        }
        if let Some(d) = &self.document {
            check_text(d, MAX_DOCUMENT_CHARS).map_err(|p| invalid("document", p))?;
        }
        if let Some(t) = &self.title {
            check_text(t, MAX_TITLE_CHARS).map_err(|p| invalid("title", p))?;
        }
        check_text(&self.issuer, MAX_NAME_CHARS).map_err(|p| invalid("issuer", p))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Verification

/// Why a seal could not be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MalformedReason {
    /// `format` is not [`FORMAT`].
    Format,
    /// `sha256` is not 64 hex digits, or another field is over its limit or blank.
    Field,
    /// `signature` is not base64 of at most 128 bytes.
    SignatureEncoding,
    /// `certificate` is not a PEM X.509 certificate.
    Certificate,
    /// The certificate's key is not for `algorithm` (or for no seal algorithm).
    Algorithm,
    /// `issuer` is not the certificate's organisation (the signature is valid:
    /// the key holder itself wrote a wrong issuer).
    Issuer,
    /// The content hash given to [`verify_hash`] is not 64 hex digits.
    ContentHash,
}

impl MalformedReason {
    /// The stable code, `seal.malformed.<reason>`.
    pub const fn code(self) -> &'static str {
        match self {
            MalformedReason::Format => "seal.malformed.format",
            MalformedReason::Field => "seal.malformed.field",
            MalformedReason::SignatureEncoding => "seal.malformed.signature_encoding",
            MalformedReason::Certificate => "seal.malformed.certificate",
            MalformedReason::Algorithm => "seal.malformed.algorithm",
            MalformedReason::Issuer => "seal.malformed.issuer",
            MalformedReason::ContentHash => "seal.malformed.content_hash",
        }
    }
}

/// The result of checking a seal (see the module docs for the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The document is the one sealed, by a trusted certificate, while it was valid.
    Valid,
    /// The document's SHA-256 or size differs from the seal's.
    ContentChanged,
    /// The signature does not match the seal's fields (the seal file was changed).
    SignatureInvalid,
    /// The signature is fine but its certificate is not among the trusted ones.
    UnknownCertificate,
    /// `sealed_at` lies outside the certificate's validity.
    CertificateExpired,
    /// The seal cannot be checked.
    Malformed(MalformedReason),
}

impl Outcome {
    /// The stable code: `seal.valid`, `seal.content_changed`,
    /// `seal.signature_invalid`, `seal.unknown_certificate`,
    /// `seal.certificate_expired`, or `seal.malformed.<reason>`
    /// ([`MalformedReason::code`]).
    pub const fn code(self) -> &'static str {
        match self {
            Outcome::Valid => "seal.valid",
            Outcome::ContentChanged => "seal.content_changed",
            Outcome::SignatureInvalid => "seal.signature_invalid",
            Outcome::UnknownCertificate => "seal.unknown_certificate",
            Outcome::CertificateExpired => "seal.certificate_expired",
            Outcome::Malformed(r) => r.code(),
        }
    }

    /// Whether the outcome is [`Outcome::Valid`].
    pub const fn is_valid(self) -> bool {
        matches!(self, Outcome::Valid)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// What [`verify`] found. Only `outcome` is a verdict; the other fields are
/// for display and vouched for only when it is [`Outcome::Valid`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub outcome: Outcome,
    /// The seal's algorithm.
    pub algorithm: SealAlgorithm,
    /// The sealing authority as the certificate names it (None if the
    /// certificate cannot be read).
    pub issuer: Option<String>,
    /// When the document was sealed (as the seal says).
    #[serde(with = "rfc3339_serde")]
    pub sealed_at: DateTime<Utc>,
    /// SHA-256 of the seal certificate's DER, lowercase hex.
    pub certificate_fingerprint: Option<String>,
    /// Start of the certificate's validity.
    pub certificate_valid_from: Option<DateTime<Utc>>,
    /// End of the certificate's validity.
    pub certificate_valid_to: Option<DateTime<Utc>>,
    /// The document id (as the seal says).
    pub document: Option<String>,
    /// The title (as the seal says).
    pub title: Option<String>,
}

/// Checks `seal` against the document's bytes and the trusted certificates.
/// Never panics.
pub fn verify(content: &[u8], seal: &Seal, trusted: &[TrustAnchor]) -> Verification {
    verify_digest(&sha256(content), content.len() as u64, seal, trusted)
}

/// Checks `seal` against a document's SHA-256 (64 hex digits, either case)
/// and size, e.g. of a document in storage. Never panics.
pub fn verify_hash(
    sha256_hex: &str,
    size: u64,
    seal: &Seal,
    trusted: &[TrustAnchor],
) -> Verification {
    match parse_sha256_hex(sha256_hex) {
        Some(digest) => verify_digest(&digest, size, seal, trusted),
        None => {
            let mut v = verify_digest(&[0; 32], size, seal, trusted);
            if !matches!(v.outcome, Outcome::Malformed(_)) {
                v.outcome = Outcome::Malformed(MalformedReason::ContentHash);
            }
            v
        }
    }
}

fn verify_digest(
    content_sha256: &[u8; 32],
    size: u64,
    seal: &Seal,
    trusted: &[TrustAnchor],
) -> Verification {
    let mut v = Verification {
        outcome: Outcome::Valid,
        algorithm: seal.algorithm,
        issuer: None,
        sealed_at: seal.sealed_at,
        certificate_fingerprint: None,
        certificate_valid_from: None,
        certificate_valid_to: None,
        document: seal.document.clone(),
        title: seal.title.clone(),
    };
    v.outcome = check(content_sha256, size, seal, trusted, &mut v);
    v
}

fn check(
    content_sha256: &[u8; 32],
    size: u64,
    seal: &Seal,
    trusted: &[TrustAnchor],
    v: &mut Verification,
) -> Outcome {
    use MalformedReason as M;
    if seal.format != FORMAT {
        return Outcome::Malformed(M::Format);
    }
    let Ok(der) = seal.certificate_der() else {
        return Outcome::Malformed(M::Certificate);
    };
    let Ok(cert) = inspect_certificate(&der) else {
        return Outcome::Malformed(M::Certificate);
    };
    v.issuer = Some(cert.issuer_name());
    v.certificate_fingerprint = Some(cert.fingerprint.clone());
    v.certificate_valid_from = Some(cert.valid_from);
    v.certificate_valid_to = Some(cert.valid_to);
    if cert.algorithm != Some(seal.algorithm) {
        return Outcome::Malformed(M::Algorithm);
    }
    match seal.check_fields() {
        Ok(()) => {}
        Err(SealError::InvalidField {
            field: "signature", ..
        }) => {
            return Outcome::Malformed(M::SignatureEncoding);
        }
        Err(SealError::InvalidField {
            field: "certificate",
            ..
        }) => {
            return Outcome::Malformed(M::Certificate);
        }
        Err(_) => return Outcome::Malformed(M::Field),
    }
    let (Some(sealed_sha256), Ok(signature)) = (
        seal.content_sha256(),
        base64::engine::general_purpose::STANDARD.decode(&seal.signature),
    ) else {
        return Outcome::Malformed(M::Field);
    };
    let input = seal.signing_input_with(&sealed_sha256, &der);
    if !signature_ok(seal.algorithm, &cert.public_key, &input, &signature) {
        return Outcome::SignatureInvalid;
    }
    if seal.issuer != cert.issuer_name() {
        return Outcome::Malformed(M::Issuer);
    }
    if !trusted.iter().any(|t| t.der == der) {
        return Outcome::UnknownCertificate;
    }
    if seal.sealed_at < cert.valid_from || seal.sealed_at > cert.valid_to {
        return Outcome::CertificateExpired;
    }
    if sealed_sha256 != *content_sha256 || seal.size != size {
        return Outcome::ContentChanged;
    }
    Outcome::Valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap()
    }

    fn key(alg: SealAlgorithm) -> SealKey {
        SealKey::generate(
            alg,
            &SealSubject::new("Stadt Musterstadt"),
            at(2026, 1, 1),
            5,
        )
        .unwrap()
    }

    #[test]
    fn algorithm_names() {
        for alg in SealAlgorithm::ALL {
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{}\"", alg.name()));
            assert_eq!(serde_json::from_str::<SealAlgorithm>(&json).unwrap(), alg);
            assert_eq!(alg.name().parse::<SealAlgorithm>().unwrap(), alg);
        }
        assert_eq!(SealAlgorithm::EcdsaP256.name(), "ECDSA-P256-SHA256");
        assert!("ed25519".parse::<SealAlgorithm>().is_err());
    }

    #[test]
    fn signing_input_layout_is_fixed() {
        let k = key(SealAlgorithm::Ed25519);
        let seal = k
            .seal(&[0xab; 32], 7, at(2026, 3, 1), Some("B-1"), None)
            .unwrap();
        let input = seal.signing_input().unwrap();
        let mut expected = Vec::new();
        expected.extend_from_slice(b"format\0\x01");
        expected.extend_from_slice(&14u64.to_be_bytes());
        expected.extend_from_slice(b"rathaus-seal/1");
        expected.extend_from_slice(b"algorithm\0\x01");
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(b"Ed25519");
        expected.extend_from_slice(b"sha256\0\x01");
        expected.extend_from_slice(&32u64.to_be_bytes());
        expected.extend_from_slice(&[0xab; 32]);
        expected.extend_from_slice(b"size\0\x01");
        expected.extend_from_slice(&8u64.to_be_bytes());
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(b"sealed_at\0\x01");
        expected.extend_from_slice(&20u64.to_be_bytes());
        expected.extend_from_slice(b"2026-03-01T09:30:00Z");
        expected.extend_from_slice(b"document\0\x01");
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(b"B-1");
        expected.extend_from_slice(b"title\0\x00");
        expected.extend_from_slice(b"issuer\0\x01");
        expected.extend_from_slice(&17u64.to_be_bytes());
        expected.extend_from_slice(b"Stadt Musterstadt");
        expected.extend_from_slice(b"certificate\0\x01");
        expected.extend_from_slice(&32u64.to_be_bytes());
        expected.extend_from_slice(&sha256(k.certificate_der()));
        assert_eq!(input, expected);
    }

    #[test]
    fn absent_and_empty_document_differ() {
        // An empty id is refused, so "absent" and "" can never collide.
        let k = key(SealAlgorithm::Ed25519);
        assert!(matches!(
            k.seal(&[0; 32], 0, at(2026, 3, 1), Some(""), None),
            Err(SealError::InvalidField {
                field: "document",
                ..
            })
        ));
    }

    #[test]
    fn sealed_at_is_cut_to_seconds() {
        let k = key(SealAlgorithm::Ed25519);
        let t = at(2026, 3, 1) + chrono::Duration::nanoseconds(123_456_789);
        let seal = k.seal_bytes(b"x", t, None, None).unwrap();
        assert_eq!(seal.sealed_at, at(2026, 3, 1));
        assert!(
            seal.to_json()
                .contains("\"sealed_at\": \"2026-03-01T09:30:00Z\"")
        );
    }

    #[test]
    fn seal_outside_validity_is_refused_and_detected() {
        let k = key(SealAlgorithm::EcdsaP256);
        let late = at(2031, 1, 2);
        assert!(matches!(
            k.seal_bytes(b"x", late, None, None),
            Err(SealError::OutsideValidity { .. })
        ));
        let early = at(2025, 12, 31);
        assert!(k.seal_bytes(b"x", early, None, None).is_err());
        // A key holder who bypasses the check still gets caught by verify.
        for t in [late, early] {
            let seal = k.sign_unchecked(&sha256(b"x"), 1, t, None, None).unwrap();
            let v = verify(b"x", &seal, &[k.trust_anchor()]);
            assert_eq!(v.outcome, Outcome::CertificateExpired);
            assert_eq!(v.outcome.code(), "seal.certificate_expired");
        }
    }

    #[test]
    fn certificate_fields() {
        let k = key(SealAlgorithm::Ed25519);
        let c = k.certificate();
        assert_eq!(c.organisation.as_deref(), Some("Stadt Musterstadt"));
        assert_eq!(
            c.common_name.as_deref(),
            Some("Stadt Musterstadt – elektronisches Siegel")
        );
        assert_eq!(c.country.as_deref(), Some("DE"));
        assert_eq!(c.valid_from, at(2026, 1, 1));
        assert_eq!(c.valid_to, at(2031, 1, 1));
        assert_eq!(c.serial.len(), 32);
        assert_eq!(c.fingerprint, hex::encode(sha256(k.certificate_der())));
        assert!(format!("{k:?}").contains("fingerprint"));
        assert!(!format!("{k:?}").contains("pkcs8"));
    }

    #[test]
    fn subject_and_validity_checks() {
        let now = at(2026, 1, 1);
        let mut s = SealSubject::new("Stadt Musterstadt");
        s.country = "de".into();
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, now, 1).is_err());
        let s = SealSubject::new(" ");
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, now, 1).is_err());
        let s = SealSubject::new("Stadt\nMusterstadt");
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, now, 1).is_err());
        let s = SealSubject::new("Stadt Musterstadt");
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, now, 0).is_err());
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, now, MAX_VALID_YEARS + 1).is_err());
        assert!(SealKey::generate(SealAlgorithm::Ed25519, &s, at(1960, 1, 1), 1).is_err());
    }

    #[test]
    fn outcome_codes_are_stable() {
        let all = [
            (Outcome::Valid, "seal.valid"),
            (Outcome::ContentChanged, "seal.content_changed"),
            (Outcome::SignatureInvalid, "seal.signature_invalid"),
            (Outcome::UnknownCertificate, "seal.unknown_certificate"),
            (Outcome::CertificateExpired, "seal.certificate_expired"),
            (
                Outcome::Malformed(MalformedReason::Format),
                "seal.malformed.format",
            ),
            (
                Outcome::Malformed(MalformedReason::Field),
                "seal.malformed.field",
            ),
            (
                Outcome::Malformed(MalformedReason::SignatureEncoding),
                "seal.malformed.signature_encoding",
            ),
            (
                Outcome::Malformed(MalformedReason::Certificate),
                "seal.malformed.certificate",
            ),
            (
                Outcome::Malformed(MalformedReason::Algorithm),
                "seal.malformed.algorithm",
            ),
            (
                Outcome::Malformed(MalformedReason::Issuer),
                "seal.malformed.issuer",
            ),
            (
                Outcome::Malformed(MalformedReason::ContentHash),
                "seal.malformed.content_hash",
            ),
        ];
        for (o, code) in all {
            assert_eq!(o.code(), code);
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{code}\""));
        }
    }

    #[test]
    fn wrong_issuer_with_a_valid_signature_is_malformed() {
        let k = key(SealAlgorithm::Ed25519);
        let mut seal = k.seal_bytes(b"x", at(2026, 3, 1), None, None).unwrap();
        seal.issuer = "Stadt Anderswo".into();
        let input = seal.signing_input().unwrap();
        seal.signature =
            base64::engine::general_purpose::STANDARD.encode(k.signer.sign(&input).unwrap());
        let v = verify(b"x", &seal, &[k.trust_anchor()]);
        assert_eq!(v.outcome, Outcome::Malformed(MalformedReason::Issuer));
    }

    #[test]
    fn from_parts_rebuilds_the_key() {
        let k = key(SealAlgorithm::EcdsaP256);
        let again = SealKey::from_parts(k.algorithm(), k.pkcs8(), k.certificate_der()).unwrap();
        assert_eq!(again.fingerprint(), k.fingerprint());
        let seal = again
            .seal_bytes(b"abc", at(2026, 6, 1), None, None)
            .unwrap();
        assert!(
            verify(b"abc", &seal, &[k.trust_anchor()])
                .outcome
                .is_valid()
        );
    }
}
