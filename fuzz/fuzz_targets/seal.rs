//! The seal file (`….siegel.json`) that anybody uploads on `/pruefen`: parsed
//! and verified against a document and a trust anchor.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rathaus_standards::seal::{self, Seal, SealAlgorithm, SealKey, SealSubject, TrustAnchor};

fn anchor() -> &'static TrustAnchor {
    static A: OnceLock<TrustAnchor> = OnceLock::new();
    A.get_or_init(|| {
        SealKey::generate(
            SealAlgorithm::Ed25519,
            &SealSubject::new("Stadt Fuzz"),
            chrono::Utc::now(),
            10,
        )
        .expect("key")
        .trust_anchor()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Seal::parse(data) {
        let _ = seal::verify(data, &s, std::slice::from_ref(anchor()));
        let _ = seal::verify_hash(&s.sha256, s.size, &s, std::slice::from_ref(anchor()));
    }
});
