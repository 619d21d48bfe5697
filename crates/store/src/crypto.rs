//! Field encryption of personal data (PRODUCT.md §2.14): AES-256-GCM with the key version stored in
//! every value, so keys can rotate; an HMAC-SHA-256 blind index for exact lookup by phone. The keys
//! come from outside the database (a file or the environment), never from it.
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("no data key is configured")]
    NoKeys,
    #[error("key version {0} is not configured")]
    UnknownVersion(u32),
    #[error("a key must be 32 bytes, base64-encoded: {0}")]
    BadKey(String),
    #[error("the value cannot be decrypted (not a stored value, or tampered)")]
    Undecryptable,
    /// The value names a configured key version, but that key does not open it: the key file's
    /// `data.N` is not the key the value was written with (or the value was tampered with).
    #[error(
        "the value under key data.{0} cannot be decrypted: the configured data.{0} is not the key it was written with"
    )]
    WrongKey(u32),
    #[error("random source failed")]
    Random,
}

/// The data keys by version (the highest encrypts; every one decrypts), the blind-index key and
/// the audit key that links the audit chain.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, Aes256Gcm>,
    index: Vec<u8>,
    audit: Vec<u8>,
    audit_derived: bool,
    /// Fingerprints of every key by name (`data.1`, `index`, `audit`), computed once.
    fingerprints: BTreeMap<String, String>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("versions", &self.keys.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

fn decode_key(s: &str) -> Result<[u8; 32], KeyError> {
    let b = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .or_else(|_| B64.decode(s.trim()))
        .map_err(|e| KeyError::BadKey(e.to_string()))?;
    b.try_into().map_err(|b: Vec<u8>| KeyError::BadKey(format!("{} bytes", b.len())))
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// What identifies a key without revealing it: HMAC-SHA-256 under the key of a fixed text.
/// Stored in the database, it tells whether a key file is the one the data was written with.
fn fingerprint(key: &[u8]) -> String {
    hex::encode(hmac(key, b"shouhou key fingerprint v1"))
}

/// A fresh random 256-bit key, base64.
pub fn generate_key() -> Result<String, KeyError> {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|_| KeyError::Random)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(k))
}

impl Keyring {
    /// From base64 data keys by version and a base64 index key.
    pub fn new(data_keys: &[(u32, String)], index_key: &str) -> Result<Keyring, KeyError> {
        if data_keys.is_empty() {
            return Err(KeyError::NoKeys);
        }
        let mut keys = BTreeMap::new();
        let mut fingerprints = BTreeMap::new();
        for (v, k) in data_keys {
            let raw = decode_key(k)?;
            keys.insert(*v, Aes256Gcm::new_from_slice(&raw).map_err(|e| KeyError::BadKey(e.to_string()))?);
            fingerprints.insert(format!("data.{v}"), fingerprint(&raw));
        }
        let index = decode_key(index_key)?.to_vec();
        fingerprints.insert("index".into(), fingerprint(&index));
        // A key file from before the keyed audit chain has no `audit` line: its audit key is
        // derived from the index key, so every instance sharing the file derives the same one.
        let audit = hmac(&index, b"shouhou audit key v1").to_vec();
        fingerprints.insert("audit".into(), fingerprint(&audit));
        Ok(Keyring { keys, index, audit, audit_derived: true, fingerprints })
    }

    /// The same keys with their own audit key (the `audit` line of a key file).
    pub fn with_audit_key(mut self, audit_key: &str) -> Result<Keyring, KeyError> {
        self.audit = decode_key(audit_key)?.to_vec();
        self.audit_derived = false;
        self.fingerprints.insert("audit".into(), fingerprint(&self.audit));
        Ok(self)
    }

    /// Parse the key file format: lines `data.1 = <base64>`, `data.2 = …`, `index = <base64>`,
    /// `audit = <base64>` (optional: derived from the index key when absent); `#` comments. The
    /// same text may come from the environment variable `SHOUHOU_KEYS`.
    pub fn parse(text: &str) -> Result<Keyring, KeyError> {
        let mut data = vec![];
        let mut index = None;
        let mut audit = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let Some((k, v)) = line.split_once('=') else { continue };
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            if k == "index" {
                index = Some(v.to_string());
            } else if k == "audit" {
                audit = Some(v.to_string());
            } else if let Some(ver) = k.strip_prefix("data.").and_then(|n| n.parse::<u32>().ok()) {
                data.push((ver, v.to_string()));
            }
        }
        let index = index.ok_or(KeyError::BadKey("no index key".into()))?;
        let keys = Keyring::new(&data, &index)?;
        match audit {
            Some(a) => keys.with_audit_key(&a),
            None => Ok(keys),
        }
    }

    /// A new key file's text with one data key, an index key and an audit key.
    pub fn generate_file() -> Result<String, KeyError> {
        Ok(format!(
            "# shouhou keys. Keep a copy apart from the database backups: without it the personal data is lost\n\
             # and the audit trail cannot be verified.\n\
             # Rotate by adding data.2 = <key>; the highest version encrypts new values, every version decrypts.\n\
             # The index key (phone lookup) and the audit key (audit chain) are never rotated.\n\
             data.1 = {}\nindex = {}\naudit = {}\n",
            generate_key()?,
            generate_key()?,
            generate_key()?
        ))
    }

    /// The key that links the audit chain (HMAC-SHA-256) and signs its checkpoints.
    pub fn audit_key(&self) -> &[u8] {
        &self.audit
    }

    /// Whether the audit key is derived from the index key (a key file without an `audit` line).
    pub fn audit_key_derived(&self) -> bool {
        self.audit_derived
    }

    /// Fingerprints of every key by name (`data.1`, …, `index`, `audit`): HMAC-SHA-256 under the
    /// key of a fixed text, which identifies the key and reveals nothing of it.
    pub fn fingerprints(&self) -> &BTreeMap<String, String> {
        &self.fingerprints
    }

    /// The configured data key versions, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    pub fn current_version(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(0)
    }

    /// `v<version>:<base64(nonce ‖ ciphertext ‖ tag)>`.
    pub fn encrypt(&self, plain: &str) -> Result<String, KeyError> {
        let v = self.current_version();
        let cipher = self.keys.get(&v).ok_or(KeyError::NoKeys)?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| KeyError::Random)?;
        let ct = cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).map_err(|_| KeyError::Undecryptable)?;
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(format!("v{v}:{}", B64.encode(out)))
    }

    pub fn encrypt_opt(&self, plain: Option<&str>) -> Result<Option<String>, KeyError> {
        plain.map(|p| self.encrypt(p)).transpose()
    }

    /// The key version a stored value is encrypted under, and its body.
    fn split(stored: &str) -> Option<(u32, &str)> {
        let (v, body) = stored.strip_prefix('v')?.split_once(':')?;
        Some((v.parse().ok()?, body))
    }

    /// The key version of a stored value (`v2:…` → 2); `None` if it is not one of ours.
    pub fn version_of(stored: &str) -> Option<u32> {
        Self::split(stored).map(|(v, _)| v)
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, KeyError> {
        let (v, body) = Self::split(stored).ok_or(KeyError::Undecryptable)?;
        let cipher = self.keys.get(&v).ok_or(KeyError::UnknownVersion(v))?;
        let raw = B64.decode(body).map_err(|_| KeyError::Undecryptable)?;
        if raw.len() < 12 + 16 {
            return Err(KeyError::Undecryptable);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| KeyError::WrongKey(v))?;
        String::from_utf8(plain).map_err(|_| KeyError::Undecryptable)
    }

    pub fn decrypt_opt(&self, stored: Option<&str>) -> Result<Option<String>, KeyError> {
        stored.map(|s| self.decrypt(s)).transpose()
    }

    /// The blind index of a normalised value (a phone number): equal inputs, equal outputs; no way back.
    pub fn blind_index(&self, normalised: &str) -> String {
        hex::encode(hmac(&self.index, normalised.as_bytes()))
    }

    /// A short tag that proves a link was made by this server (the QR code on a device): HMAC-SHA-256
    /// under a key derived from the index key for links only, over `purpose` and `message`, its first
    /// 12 bytes (96 bits) in unpadded base64url. Without the key file nobody can make one, so a link
    /// cannot be guessed from a device id; the index key itself never signs anything shown.
    pub fn link_tag(&self, purpose: &str, message: &str) -> String {
        let key = hmac(&self.index, b"shouhou link key v1");
        let mac = hmac(&key, format!("{}:{purpose}:{message}", purpose.len()).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..12])
    }
}

/// HMAC takes keys of any length; this cannot happen.
fn unreachable_hmac() -> Hmac<Sha256> {
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as Mac>::new_from_slice(b"k").expect("HMAC accepts any key length")
}

/// A keyring with fixed keys, for tests and benchmarks only.
pub fn test_keyring() -> Keyring {
    let k = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let i = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    #[allow(clippy::expect_used)]
    Keyring::new(&[(1, k)], &i).expect("fixed test keys are valid")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_never_show_the_clear_text() {
        let k = test_keyring();
        let c = k.encrypt("13812345678").unwrap();
        assert!(c.starts_with("v1:"));
        assert!(!c.contains("13812345678"));
        assert_ne!(c, k.encrypt("13812345678").unwrap(), "a fresh nonce each time");
        assert_eq!(k.decrypt(&c).unwrap(), "13812345678");
    }

    #[test]
    fn rotation_encrypts_with_the_newest_key_and_still_reads_the_old() {
        let old = Keyring::parse(&format!("data.1 = {}\nindex = {}", generate_key().unwrap(), generate_key().unwrap()))
            .unwrap();
        let c1 = old.encrypt("张三").unwrap();
        let text = format!("data.1 = {}\n", "x");
        assert!(Keyring::parse(&text).is_err());
        let k1 = generate_key().unwrap();
        let idx = generate_key().unwrap();
        let one = Keyring::new(&[(1, k1.clone())], &idx).unwrap();
        let two = Keyring::new(&[(1, k1), (2, generate_key().unwrap())], &idx).unwrap();
        let v1 = one.encrypt("李四").unwrap();
        let v2 = two.encrypt("李四").unwrap();
        assert!(v2.starts_with("v2:"));
        assert_eq!(two.decrypt(&v1).unwrap(), "李四");
        assert_eq!(one.decrypt(&v2), Err(KeyError::UnknownVersion(2)));
        assert_eq!(one.decrypt(&c1), Err(KeyError::WrongKey(1)), "another key cannot read it");
    }

    #[test]
    fn a_tampered_value_is_refused() {
        let k = test_keyring();
        let mut c = k.encrypt("广东省深圳市").unwrap().into_bytes();
        let last = c.len() - 3;
        c[last] = if c[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(k.decrypt(&String::from_utf8(c).unwrap()), Err(KeyError::WrongKey(1)));
    }

    #[test]
    fn the_audit_key_is_its_own_line_or_derived_from_the_index_key() {
        let text = Keyring::generate_file().unwrap();
        let k = Keyring::parse(&text).unwrap();
        assert!(!k.audit_key_derived());
        let without: String = text.lines().filter(|l| !l.starts_with("audit")).map(|l| format!("{l}\n")).collect();
        let old = Keyring::parse(&without).unwrap();
        assert!(old.audit_key_derived());
        assert_ne!(k.audit_key(), old.audit_key());
        assert_eq!(old.audit_key(), Keyring::parse(&without).unwrap().audit_key(), "derived alike every time");
        assert_ne!(old.audit_key(), old.index.as_slice());
        let names: Vec<&str> = k.fingerprints().keys().map(String::as_str).collect();
        assert_eq!(names, ["audit", "data.1", "index"]);
        assert!(!k.fingerprints().values().any(|f| text.contains(f.as_str())));
        assert_ne!(k.fingerprints()["data.1"], old.fingerprints()["audit"]);
    }

    #[test]
    fn the_blind_index_is_stable_and_keyed() {
        let k = test_keyring();
        assert_eq!(k.blind_index("13812345678"), k.blind_index("13812345678"));
        assert_ne!(k.blind_index("13812345678"), k.blind_index("13812345679"));
        let other = Keyring::parse(&Keyring::generate_file().unwrap()).unwrap();
        assert_ne!(k.blind_index("13812345678"), other.blind_index("13812345678"));
    }
}
