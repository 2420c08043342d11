//! The electronic seal: both algorithms round-trip through the seal file,
//! every tampering is caught with its own outcome, keys rebuild from their
//! stored parts, and the certificate and signatures are checked by openssl
//! as an independent implementation (Debian openssl; missing: a failure
//! under CI=true, else a NOTICE and only the openssl steps are skipped).
//! Proptest: parsing and verifying arbitrary input never panics.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, TimeZone as _, Utc};
use proptest::prelude::*;
use rathaus_standards::seal::{
    self, FORMAT, MalformedReason, Outcome, Seal, SealAlgorithm, SealError, SealKey, SealSubject,
    TrustAnchor, verify, verify_hash,
};

const BESCHEID: &[u8] = b"%PDF-1.7\nBescheid ueber die Erteilung einer Sondernutzungserlaubnis\n";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 15, 0).unwrap()
}

fn musterstadt() -> SealSubject {
    SealSubject::new("Stadt Musterstadt")
}

/// One key per algorithm for the whole suite (key generation is cheap, but
/// proptest calls these a few hundred times).
fn key(alg: SealAlgorithm) -> &'static SealKey {
    static KEYS: OnceLock<[SealKey; 2]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        SealAlgorithm::ALL
            .map(|a| SealKey::generate(a, &musterstadt(), at(2026, 1, 1), 10).unwrap())
    });
    &keys[SealAlgorithm::ALL.iter().position(|a| *a == alg).unwrap()]
}

fn sealed(alg: SealAlgorithm) -> Seal {
    key(alg)
        .seal_bytes(
            BESCHEID,
            at(2026, 4, 2),
            Some("0190f3a2-7c4d-7b1e-9a55-3f1c2d4e5f60"),
            Some("Bescheid Sondernutzung Marktplatz"),
        )
        .unwrap()
}

/// The seal file's JSON with `field` replaced.
fn with_field(seal: &Seal, field: &str, value: serde_json::Value) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_str(&seal.to_json()).unwrap();
    json[field] = value;
    serde_json::to_vec(&json).unwrap()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether openssl can be run (a failure under CI=true when it cannot).
fn openssl_available(what: &str) -> bool {
    if Command::new("openssl").arg("version").output().is_ok() {
        return true;
    }
    assert!(
        !ci(),
        "openssl is missing: install the Debian package openssl (apt-get install -y openssl)"
    );
    eprintln!("NOTICE: openssl is missing (Debian openssl); {what} is skipped");
    false
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rathaus-seal-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn both_algorithms_round_trip_through_the_seal_file() {
    for alg in SealAlgorithm::ALL {
        let k = key(alg);
        let seal = sealed(alg);
        assert_eq!(seal.format, FORMAT);
        assert_eq!(seal.algorithm, alg);
        assert_eq!(seal.size, BESCHEID.len() as u64);
        assert_eq!(seal.sha256, hex::encode(seal::sha256(BESCHEID)));
        assert_eq!(seal.issuer, "Stadt Musterstadt");
        assert_eq!(seal.certificate, k.certificate_pem());

        let text = seal.to_json();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["algorithm"], alg.name());
        assert_eq!(json["sealed_at"], "2026-04-02T10:15:00Z");
        assert_eq!(json["document"], "0190f3a2-7c4d-7b1e-9a55-3f1c2d4e5f60");
        assert_eq!(json["title"], "Bescheid Sondernutzung Marktplatz");
        let parsed = Seal::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed, seal);

        let v = verify(BESCHEID, &parsed, &[k.trust_anchor()]);
        assert_eq!(v.outcome, Outcome::Valid, "{alg}");
        assert_eq!(v.outcome.code(), "seal.valid");
        assert_eq!(v.algorithm, alg);
        assert_eq!(v.issuer.as_deref(), Some("Stadt Musterstadt"));
        assert_eq!(v.sealed_at, at(2026, 4, 2));
        assert_eq!(v.certificate_fingerprint.as_deref(), Some(k.fingerprint()));
        assert_eq!(v.certificate_valid_from, Some(at(2026, 1, 1)));
        assert_eq!(v.certificate_valid_to, Some(at(2036, 1, 1)));
        assert_eq!(
            v.document.as_deref(),
            Some("0190f3a2-7c4d-7b1e-9a55-3f1c2d4e5f60")
        );
        assert_eq!(
            v.title.as_deref(),
            Some("Bescheid Sondernutzung Marktplatz")
        );

        // The same by hash (a document in storage), in either case of hex.
        let hash = hex::encode(seal::sha256(BESCHEID));
        let size = BESCHEID.len() as u64;
        assert!(
            verify_hash(&hash, size, &seal, &[k.trust_anchor()])
                .outcome
                .is_valid()
        );
        let upper = hash.to_uppercase();
        assert!(
            verify_hash(&upper, size, &seal, &[k.trust_anchor()])
                .outcome
                .is_valid()
        );

        // A trust anchor read from the PEM or DER the caller stored.
        let from_pem = TrustAnchor::from_pem(k.certificate_pem()).unwrap();
        let from_der = TrustAnchor::from_der(k.certificate_der()).unwrap();
        assert_eq!(from_pem, from_der);
        assert_eq!(from_pem.fingerprint(), k.fingerprint());
        assert!(verify(BESCHEID, &seal, &[from_pem]).outcome.is_valid());

        // Without document id and title.
        let bare = k.seal_bytes(b"", at(2026, 4, 2), None, None).unwrap();
        let text = bare.to_json();
        assert!(!text.contains("\"document\"") && !text.contains("\"title\""));
        let bare = Seal::parse(text.as_bytes()).unwrap();
        assert!(verify(b"", &bare, &[k.trust_anchor()]).outcome.is_valid());
    }
}

#[test]
fn one_changed_byte_in_the_content_is_content_changed() {
    for alg in SealAlgorithm::ALL {
        let seal = sealed(alg);
        let trusted = [key(alg).trust_anchor()];
        for i in [0, BESCHEID.len() / 2, BESCHEID.len() - 1] {
            let mut changed = BESCHEID.to_vec();
            changed[i] ^= 0x01;
            let v = verify(&changed, &seal, &trusted);
            assert_eq!(v.outcome, Outcome::ContentChanged);
            assert_eq!(v.outcome.code(), "seal.content_changed");
        }
        let mut longer = BESCHEID.to_vec();
        longer.push(b'\n');
        assert_eq!(
            verify(&longer, &seal, &trusted).outcome,
            Outcome::ContentChanged
        );
        assert_eq!(
            verify(&BESCHEID[1..], &seal, &trusted).outcome,
            Outcome::ContentChanged
        );
        // Same hash, other size (by hash): also a change.
        let hash = hex::encode(seal::sha256(BESCHEID));
        assert_eq!(
            verify_hash(&hash, seal.size + 1, &seal, &trusted).outcome,
            Outcome::ContentChanged
        );
        assert_eq!(
            verify_hash("abc", seal.size, &seal, &trusted).outcome,
            Outcome::Malformed(MalformedReason::ContentHash)
        );
    }
}

#[test]
fn every_changed_field_of_the_seal_file_is_signature_invalid() {
    for alg in SealAlgorithm::ALL {
        let seal = sealed(alg);
        let trusted = [key(alg).trust_anchor()];
        let other_hash = hex::encode(seal::sha256(b"ein anderes Dokument"));
        let changes: [(&str, serde_json::Value); 7] = [
            ("sealed_at", "2026-04-03T10:15:00Z".into()),
            ("document", "0190f3a2-7c4d-7b1e-9a55-3f1c2d4e5f61".into()),
            ("sha256", other_hash.clone().into()),
            ("size", (seal.size + 1).into()),
            ("title", "Bescheid Sondernutzung Rathausplatz".into()),
            ("document", serde_json::Value::Null),
            ("title", serde_json::Value::Null),
        ];
        for (field, value) in changes {
            let tampered = Seal::parse(&with_field(&seal, field, value.clone())).unwrap();
            assert_ne!(tampered, seal);
            let v = verify(BESCHEID, &tampered, &trusted);
            assert_eq!(
                v.outcome,
                Outcome::SignatureInvalid,
                "{alg}: {field} = {value}"
            );
            assert_eq!(v.outcome.code(), "seal.signature_invalid");
            // Also when the content is made to fit the changed hash.
            assert_eq!(
                verify_hash(&other_hash, seal.size, &tampered, &trusted).outcome,
                Outcome::SignatureInvalid
            );
        }
        // The same instant written differently is the same seal.
        let same = Seal::parse(&with_field(
            &seal,
            "sealed_at",
            "2026-04-02T12:15:00+02:00".into(),
        ))
        .unwrap();
        assert!(verify(BESCHEID, &same, &trusted).outcome.is_valid());
        // The signature itself, one bit flipped.
        let mut sig = base64::engine::general_purpose::STANDARD
            .decode(&seal.signature)
            .unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 0x01;
        let flipped = Seal {
            signature: base64::engine::general_purpose::STANDARD.encode(&sig),
            ..seal.clone()
        };
        let outcome = verify(BESCHEID, &flipped, &trusted).outcome;
        // A flipped bit of an ECDSA DER signature can break its encoding:
        // ring then refuses it as an invalid signature, too.
        assert_eq!(outcome, Outcome::SignatureInvalid);
    }
}

#[test]
fn another_tenants_certificate_is_unknown_certificate() {
    let anderswo = SealKey::generate(
        SealAlgorithm::Ed25519,
        &SealSubject::new("Gemeinde Anderswo"),
        at(2026, 1, 1),
        10,
    )
    .unwrap();
    for alg in SealAlgorithm::ALL {
        let seal = sealed(alg);
        let v = verify(BESCHEID, &seal, &[anderswo.trust_anchor()]);
        assert_eq!(v.outcome, Outcome::UnknownCertificate);
        assert_eq!(v.outcome.code(), "seal.unknown_certificate");
        assert_eq!(v.issuer.as_deref(), Some("Stadt Musterstadt"));
        assert_eq!(
            verify(BESCHEID, &seal, &[]).outcome,
            Outcome::UnknownCertificate
        );
        // Among several anchors, the right one is found.
        let both = [anderswo.trust_anchor(), key(alg).trust_anchor()];
        assert!(verify(BESCHEID, &seal, &both).outcome.is_valid());
    }

    // A seal by another tenant's key with Musterstadt's certificate swapped
    // in: the signature does not fit the certificate's key.
    let forged = anderswo
        .seal_bytes(BESCHEID, at(2026, 4, 2), None, None)
        .unwrap();
    let forged = Seal {
        certificate: key(SealAlgorithm::Ed25519).certificate_pem().to_owned(),
        issuer: "Stadt Musterstadt".to_owned(),
        ..forged
    };
    let trusted = [key(SealAlgorithm::Ed25519).trust_anchor()];
    assert_eq!(
        verify(BESCHEID, &forged, &trusted).outcome,
        Outcome::SignatureInvalid
    );
}

#[test]
fn a_renewed_certificate_for_the_same_key_is_another_certificate() {
    // The trust anchor is the certificate, not the key: a seal made under
    // one certificate is unknown to a verifier that trusts only another
    // certificate of the same key (here: one rcgen made for it).
    for alg in SealAlgorithm::ALL {
        let k = key(alg);
        let rc_alg = match alg {
            SealAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            SealAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        };
        let rc_key =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&k.pkcs8().into(), rc_alg).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Stadt Musterstadt");
        let renewed = params.self_signed(&rc_key).unwrap();
        let renewed = SealKey::from_parts(alg, k.pkcs8(), renewed.der()).unwrap();
        assert_ne!(renewed.fingerprint(), k.fingerprint());

        let old = sealed(alg);
        assert_eq!(
            verify(BESCHEID, &old, &[renewed.trust_anchor()]).outcome,
            Outcome::UnknownCertificate
        );
        let new = renewed
            .seal_bytes(BESCHEID, at(2026, 4, 2), None, None)
            .unwrap();
        assert!(
            verify(BESCHEID, &new, &[renewed.trust_anchor()])
                .outcome
                .is_valid()
        );
        assert_eq!(
            verify(BESCHEID, &new, &[k.trust_anchor()]).outcome,
            Outcome::UnknownCertificate
        );
        // Swapping the old certificate into the new seal breaks the signature.
        let swapped = Seal {
            certificate: k.certificate_pem().to_owned(),
            ..new
        };
        assert_eq!(
            verify(BESCHEID, &swapped, &[k.trust_anchor()]).outcome,
            Outcome::SignatureInvalid
        );
    }
}

#[test]
fn malformed_seals_have_their_own_codes() {
    let seal = sealed(SealAlgorithm::Ed25519);
    let trusted = [key(SealAlgorithm::Ed25519).trust_anchor()];
    let check = |s: Seal, reason: MalformedReason| {
        let v = verify(BESCHEID, &s, &trusted);
        assert_eq!(v.outcome, Outcome::Malformed(reason));
        assert!(v.outcome.code().starts_with("seal.malformed."));
    };
    check(
        Seal {
            format: "rathaus-seal/2".into(),
            ..seal.clone()
        },
        MalformedReason::Format,
    );
    check(
        Seal {
            certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            ..seal.clone()
        },
        MalformedReason::Certificate,
    );
    check(
        Seal {
            algorithm: SealAlgorithm::EcdsaP256,
            ..seal.clone()
        },
        MalformedReason::Algorithm,
    );
    check(
        Seal {
            signature: "nicht base64!".into(),
            ..seal.clone()
        },
        MalformedReason::SignatureEncoding,
    );
    check(
        Seal {
            sha256: "xyz".into(),
            ..seal.clone()
        },
        MalformedReason::Field,
    );
    check(
        Seal {
            title: Some("a\u{7}b".into()),
            ..seal.clone()
        },
        MalformedReason::Field,
    );
}

#[test]
fn parse_refuses_what_is_not_a_seal_file() {
    let seal = sealed(SealAlgorithm::EcdsaP256);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "json"),
        (b"{".to_vec(), "json"),
        (b"[]".to_vec(), "format"),
        (vec![b' '; seal::MAX_SEAL_BYTES + 1], "size"),
        (
            with_field(&seal, "format", "rathaus-seal/2".into()),
            "version",
        ),
        (
            with_field(&seal, "format", serde_json::Value::Null),
            "format",
        ),
        (with_field(&seal, "algorithm", "RSA".into()), "json"),
        (with_field(&seal, "sha256", "00".into()), "field"),
        (with_field(&seal, "size", (-1).into()), "json"),
        (with_field(&seal, "sealed_at", "gestern".into()), "json"),
        (with_field(&seal, "document", "".into()), "field"),
        (with_field(&seal, "title", "x".repeat(1001).into()), "field"),
        (with_field(&seal, "issuer", "".into()), "field"),
        (with_field(&seal, "signature", "%%%".into()), "field"),
        (with_field(&seal, "signature", "".into()), "field"),
        (with_field(&seal, "certificate", "kein PEM".into()), "field"),
        (
            with_field(&seal, "bemerkung", "nicht signiert".into()),
            "json",
        ),
    ];
    for (bytes, what) in cases {
        let err = Seal::parse(&bytes).unwrap_err();
        let ok = match what {
            "json" => matches!(err, SealError::Json(_)),
            "format" => matches!(
                err,
                SealError::InvalidField {
                    field: "format",
                    ..
                }
            ),
            "size" => matches!(err, SealError::TooLarge { .. }),
            "version" => matches!(err, SealError::UnsupportedFormat(_)),
            "field" => matches!(err, SealError::InvalidField { .. }),
            _ => unreachable!(),
        };
        assert!(ok, "{what}: {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn from_parts_rebuilds_and_refuses_a_mismatched_key() {
    for alg in SealAlgorithm::ALL {
        let k = key(alg);
        let rebuilt = SealKey::from_parts(alg, k.pkcs8(), k.certificate_der()).unwrap();
        assert_eq!(rebuilt.fingerprint(), k.fingerprint());
        assert_eq!(rebuilt.certificate_pem(), k.certificate_pem());
        let seal = rebuilt
            .seal_bytes(BESCHEID, at(2027, 1, 1), None, None)
            .unwrap();
        assert!(
            verify(BESCHEID, &seal, &[k.trust_anchor()])
                .outcome
                .is_valid()
        );

        // Another key of the same algorithm with this certificate.
        let other = SealKey::generate(alg, &musterstadt(), at(2026, 1, 1), 10).unwrap();
        assert_eq!(
            SealKey::from_parts(alg, other.pkcs8(), k.certificate_der()).unwrap_err(),
            SealError::KeyMismatch
        );
        // A key of the other algorithm, declared as either.
        let foreign = key(match alg {
            SealAlgorithm::Ed25519 => SealAlgorithm::EcdsaP256,
            SealAlgorithm::EcdsaP256 => SealAlgorithm::Ed25519,
        });
        assert!(SealKey::from_parts(alg, foreign.pkcs8(), k.certificate_der()).is_err());
        assert!(matches!(
            SealKey::from_parts(foreign.algorithm(), foreign.pkcs8(), k.certificate_der()),
            Err(SealError::AlgorithmMismatch { .. })
        ));
        // Garbage.
        assert!(matches!(
            SealKey::from_parts(alg, b"not a key", k.certificate_der()),
            Err(SealError::InvalidKey(_))
        ));
        assert!(matches!(
            SealKey::from_parts(alg, k.pkcs8(), b"not a certificate"),
            Err(SealError::InvalidCertificate(_))
        ));
    }
}

#[test]
fn the_certificate_reads_back_and_parses_with_openssl() {
    let have_openssl = openssl_available("the openssl check of the certificate");
    for alg in SealAlgorithm::ALL {
        let k = key(alg);
        let info = seal::inspect_certificate(k.certificate_der()).unwrap();
        assert_eq!(info.algorithm, Some(alg));
        assert_eq!(info.organisation.as_deref(), Some("Stadt Musterstadt"));
        assert_eq!(
            info.common_name.as_deref(),
            Some("Stadt Musterstadt – elektronisches Siegel")
        );
        assert_eq!(info.country.as_deref(), Some("DE"));
        assert!(
            info.subject.contains("O=Stadt Musterstadt"),
            "{}",
            info.subject
        );
        assert_eq!(
            seal::certificate_from_pem(k.certificate_pem()).unwrap(),
            k.certificate_der()
        );
        assert!(
            k.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );

        if !have_openssl {
            continue;
        }
        let dir = temp_dir(&format!("cert-{alg}"));
        let pem = dir.join("siegel.pem");
        std::fs::write(&pem, k.certificate_pem()).unwrap();
        let pem = pem.to_str().unwrap();
        let (ok, text) = openssl(&[
            "x509",
            "-noout",
            "-text",
            "-nameopt",
            "utf8,sep_comma_plus_space",
            "-in",
            pem,
        ]);
        assert!(ok, "openssl x509 failed:\n{text}");
        assert!(text.contains("Version: 3 (0x2)"), "{text}");
        assert!(
            text.contains(
                "Subject: C=DE, O=Stadt Musterstadt, CN=Stadt Musterstadt – elektronisches Siegel"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Issuer: C=DE, O=Stadt Musterstadt, CN=Stadt Musterstadt – elektronisches Siegel"
            ),
            "{text}"
        );
        assert!(
            text.contains("Digital Signature, Non Repudiation"),
            "{text}"
        );
        assert!(text.contains("CA:FALSE"), "{text}");
        assert!(
            text.contains("Not Before: Jan  1 10:15:00 2026 GMT"),
            "{text}"
        );
        assert!(
            text.contains("Not After : Jan  1 10:15:00 2036 GMT"),
            "{text}"
        );
        match alg {
            SealAlgorithm::Ed25519 => assert!(text.contains("ED25519"), "{text}"),
            SealAlgorithm::EcdsaP256 => {
                assert!(text.contains("id-ecPublicKey"), "{text}");
                assert!(text.contains("prime256v1"), "{text}");
                assert!(text.contains("ecdsa-with-SHA256"), "{text}");
            }
        }
        // openssl's SHA-256 fingerprint is ours.
        let (ok, text) = openssl(&["x509", "-noout", "-fingerprint", "-sha256", "-in", pem]);
        assert!(ok, "{text}");
        let theirs: String = text
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_lowercase();
        assert_eq!(theirs, k.fingerprint());
        // The self-signature is sound: openssl checks it with the certificate's own key.
        let (ok, text) = openssl(&[
            "verify",
            "-CAfile",
            pem,
            "-partial_chain",
            "-check_ss_sig",
            pem,
        ]);
        assert!(ok && text.contains("OK"), "openssl verify:\n{text}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn openssl_verifies_the_seal_signature_independently() {
    if !openssl_available("the openssl check of the seal signature") {
        return;
    }
    for alg in SealAlgorithm::ALL {
        let k = key(alg);
        let seal = sealed(alg);
        let dir = temp_dir(&format!("sig-{alg}"));
        let cert = dir.join("siegel.pem");
        let public = dir.join("public.pem");
        let input = dir.join("input.bin");
        let signature = dir.join("signature.bin");
        std::fs::write(&cert, k.certificate_pem()).unwrap();
        std::fs::write(&input, seal.signing_input().unwrap()).unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&seal.signature)
            .unwrap();
        std::fs::write(&signature, sig).unwrap();
        let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
        let (ok, text) = openssl(&[
            "x509",
            "-noout",
            "-pubkey",
            "-in",
            &p(&cert),
            "-out",
            &p(&public),
        ]);
        assert!(ok, "{text}");
        let (ok, text) = match alg {
            SealAlgorithm::Ed25519 => openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &p(&public),
                "-rawin",
                "-in",
                &p(&input),
                "-sigfile",
                &p(&signature),
            ]),
            SealAlgorithm::EcdsaP256 => openssl(&[
                "dgst",
                "-sha256",
                "-verify",
                &p(&public),
                "-signature",
                &p(&signature),
                &p(&input),
            ]),
        };
        assert!(ok, "openssl does not verify the {alg} seal:\n{text}");
        // And refuses a changed signing input.
        let mut changed = seal.signing_input().unwrap();
        changed[20] ^= 1;
        std::fs::write(&input, changed).unwrap();
        let (ok, _) = match alg {
            SealAlgorithm::Ed25519 => openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &p(&public),
                "-rawin",
                "-in",
                &p(&input),
                "-sigfile",
                &p(&signature),
            ]),
            SealAlgorithm::EcdsaP256 => openssl(&[
                "dgst",
                "-sha256",
                "-verify",
                &p(&public),
                "-signature",
                &p(&signature),
                &p(&input),
            ]),
        };
        assert!(!ok);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn keys_are_generated_per_tenant() {
    let a = SealKey::generate(SealAlgorithm::Ed25519, &musterstadt(), at(2026, 1, 1), 3).unwrap();
    let b = SealKey::generate(SealAlgorithm::Ed25519, &musterstadt(), at(2026, 1, 1), 3).unwrap();
    assert_ne!(a.pkcs8(), b.pkcs8());
    assert_ne!(a.certificate().serial, b.certificate().serial);
    assert_ne!(a.fingerprint(), b.fingerprint());
}

fn json_field() -> impl Strategy<Value = (String, serde_json::Value)> {
    let field = prop::sample::select(vec![
        "format",
        "algorithm",
        "sha256",
        "size",
        "sealed_at",
        "document",
        "title",
        "issuer",
        "signature",
        "certificate",
        "extra",
    ]);
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        ".{0,80}".prop_map(serde_json::Value::from),
        "[0-9a-fA-F]{64}".prop_map(serde_json::Value::from),
        "[A-Za-z0-9+/]{0,100}={0,2}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("ECDSA-P256-SHA256")),
        Just(serde_json::Value::from("2026-04-02T10:15:00Z")),
    ];
    (field.prop_map(str::to_owned), value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Seal::parse(&bytes);
    }

    #[test]
    fn parse_and_verify_never_panic_on_changed_fields(
        alg in prop::sample::select(SealAlgorithm::ALL.to_vec()),
        changes in proptest::collection::vec(json_field(), 1..4),
    ) {
        let seal = sealed(alg);
        let mut json: serde_json::Value = serde_json::from_str(&seal.to_json()).unwrap();
        for (field, value) in &changes {
            json[field] = value.clone();
        }
        if let Ok(parsed) = Seal::parse(&serde_json::to_vec(&json).unwrap()) {
            let v = verify(BESCHEID, &parsed, &[key(alg).trust_anchor()]);
            if parsed != seal {
                prop_assert!(!v.outcome.is_valid(), "{changes:?}: {v:?}");
            }
        }
    }

    #[test]
    fn verify_never_panics_on_arbitrary_content(
        alg in prop::sample::select(SealAlgorithm::ALL.to_vec()),
        content in proptest::collection::vec(any::<u8>(), 0..512),
        hash in ".{0,70}",
        size in any::<u64>(),
    ) {
        let seal = sealed(alg);
        let trusted = [key(alg).trust_anchor()];
        let v = verify(&content, &seal, &trusted);
        prop_assert_eq!(v.outcome.is_valid(), content == BESCHEID);
        if !v.outcome.is_valid() {
            prop_assert_eq!(v.outcome, Outcome::ContentChanged);
        }
        let _ = verify_hash(&hash, size, &seal, &trusted);
    }

    #[test]
    fn verify_never_panics_on_arbitrary_seal_values(
        sha in ".{0,70}",
        signature in ".{0,120}",
        certificate in ".{0,200}",
        issuer in ".{0,40}",
        document in proptest::option::of(".{0,40}"),
        content in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let base = sealed(SealAlgorithm::Ed25519);
        let seal = Seal { sha256: sha, signature, certificate, issuer, document, ..base };
        let v = verify(&content, &seal, &[key(SealAlgorithm::Ed25519).trust_anchor()]);
        prop_assert!(!v.outcome.is_valid());
    }

    #[test]
    fn reading_a_damaged_certificate_never_panics(
        alg in prop::sample::select(SealAlgorithm::ALL.to_vec()),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let k = key(alg);
        let mut der = k.certificate_der().to_vec();
        for (i, b) in &flips {
            let i = i.index(der.len());
            der[i] ^= b;
        }
        if truncate {
            der.truncate(cut.index(der.len()));
        }
        let _ = seal::inspect_certificate(&der);
        let _ = TrustAnchor::from_der(&der);
        let _ = SealKey::from_parts(alg, k.pkcs8(), &der);
        let seal = Seal { certificate: seal::certificate_to_pem(&der), ..sealed(alg) };
        let v = verify(BESCHEID, &seal, &[k.trust_anchor()]);
        if der != k.certificate_der() {
            prop_assert!(!v.outcome.is_valid());
        }
    }
}
