//! Sealing short secrets that have to pass through the database: the
//! applicant's access token travels in the receipt job's payload until the
//! email is out. Whoever reads the database (a backup, a replica, an
//! operator's query) must not find it there, so it is sealed with
//! ChaCha20-Poly1305 (ring) under the instance key, which lives in the
//! configuration (`RATHAUS_SECRET_KEY`), never in the database. The sealed
//! text is bound to a context (the application id): moved to another job it
//! does not open.

use std::fmt;

use rand::{RngCore, rngs::OsRng};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::{Result, StorageError};

/// Prefix of sealed texts (the format's version).
const PREFIX: &str = "v1.";

/// A 256-bit key for sealing secrets. Debug output never shows it.
pub struct SecretKey(LessSafeKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // 32 bytes is the key length of ChaCha20-Poly1305: cannot fail.
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("32-byte key");
        Self(LessSafeKey::new(key))
    }

    /// A fresh random key (tests; an installation without a configured key
    /// creates one once and keeps it, see `rathaus::config`).
    pub fn random() -> Self {
        Self::from_bytes(&Self::random_bytes())
    }

    /// 32 random bytes, to keep as a new key.
    pub fn random_bytes() -> [u8; 32] {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        bytes
    }

    /// A key written as 64 hexadecimal characters.
    pub fn parse(text: &str) -> Result<Self> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                StorageError::Config(
                    "the secret key must be 64 hexadecimal characters (32 random bytes, e.g. `openssl rand -hex 32`)".into(),
                )
            })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// `plain` sealed for `context`: `v1.` + hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let mut data = plain.as_bytes().to_vec();
        // Fails only for inputs beyond ring's length limit (gigabytes).
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("sealing a short secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{PREFIX}{}", hex::encode(out))
    }

    /// The plain text of a sealed text, if it was sealed with this key for
    /// this context and not changed since.
    pub fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let bytes = hex::decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = rest.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let key = SecretKey::random();
        let sealed = key.seal("rh_geheim", "app-1");
        assert!(!sealed.contains("geheim"));
        assert_ne!(
            sealed,
            key.seal("rh_geheim", "app-1"),
            "fresh nonce each time"
        );
        assert_eq!(key.open(&sealed, "app-1").as_deref(), Some("rh_geheim"));
        assert_eq!(key.open(&sealed, "app-2"), None, "bound to its context");
        assert_eq!(SecretKey::random().open(&sealed, "app-1"), None);
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert_eq!(key.open(&tampered, "app-1"), None);
        assert_eq!(key.open("v1.zz", "app-1"), None);
        assert_eq!(key.open("", "app-1"), None);
        let hex_key = "00".repeat(32);
        assert!(SecretKey::parse(&hex_key).is_ok());
        assert!(SecretKey::parse("kurz").is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
    }
}
