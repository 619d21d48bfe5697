//! The audit trail is an append-only, hash-chained log: each entry's hash covers its fields and
//! the previous entry's hash, so editing or deleting any row breaks every link after it.
//!
//! The chain is keyed: from the switch-over entry `keyed_from` on, each link is an HMAC-SHA-256
//! under the audit key, which lives outside the database, so someone holding only the database
//! cannot recompute the links after a forged row. Entries written before the switch-over keep
//! their plain SHA-256 links. Signed checkpoints of the head, kept outside the database too, show
//! a removed tail or an emptied log (docs/DECISIONS.md D30).
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The hash that starts the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, when and from where: an entry of the audit trail before the store
/// gives it its place in the chain. The one list of an entry's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// What happened, e.g. `station.create`, `customer.read_personal`, `auth.login_failed`.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// JSON detail of the change.
    pub detail: String,
    /// Where from: client IP address.
    pub source: String,
    pub request_id: String,
}

/// An event at its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub event: Event,
}

impl AuditEntry {
    /// The previous hash and every field, each length-prefixed so that no two different entries
    /// can serialise alike.
    fn link_bytes(&self, prev_hash: &str) -> Vec<u8> {
        let e = &self.event;
        let mut out = Vec::with_capacity(256 + e.detail.len());
        let mut field = |s: &str| {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        field(prev_hash);
        field(&self.seq.to_string());
        field(&e.at_ms.to_string());
        field(&e.actor_id.map(|a| a.to_string()).unwrap_or_default());
        field(&e.actor_name);
        field(&e.action);
        field(&e.entity);
        field(e.entity_id.as_deref().unwrap_or(""));
        field(&e.detail);
        field(&e.source);
        field(&e.request_id);
        out
    }

    /// The plain link of entries written before the keyed chain: SHA-256 over [`Self::link_bytes`].
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        hex::encode(Sha256::digest(self.link_bytes(prev_hash)))
    }

    /// The keyed link: HMAC-SHA-256 under the audit key over the same bytes.
    pub fn chain_mac(&self, prev_hash: &str, key: &[u8]) -> String {
        let mut mac = hmac_sha256(key);
        mac.update(&self.link_bytes(prev_hash));
        hex::encode(mac.finalize().into_bytes())
    }

    /// The link this entry must carry: keyed from `keyed_from` on, plain before.
    pub fn link(&self, prev_hash: &str, key: &[u8], keyed_from: i64) -> String {
        if self.seq >= keyed_from { self.chain_mac(prev_hash, key) } else { self.chain_hash(prev_hash) }
    }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// A signed statement "the chain had `seq` entries ending in `hash`, keyed from `keyed_from`",
/// written outside the database, so that a chain cut back or emptied in the database (head
/// included) no longer matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub keyed_from: i64,
    pub at_ms: i64,
}

/// Why a checkpoint line was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointLineError {
    /// Not `seq hash keyed_from at_ms mac` (a line cut short by a crash, say).
    Malformed,
    /// Well formed, but not signed with this audit key.
    BadSignature,
}

impl Checkpoint {
    fn signer(&self, key: &[u8]) -> Hmac<Sha256> {
        let mut mac = hmac_sha256(key);
        mac.update(
            format!("shouhou-audit-checkpoint-v1\n{}\n{}\n{}\n{}", self.seq, self.hash, self.keyed_from, self.at_ms)
                .as_bytes(),
        );
        mac
    }

    fn mac(&self, key: &[u8]) -> String {
        hex::encode(self.signer(key).finalize().into_bytes())
    }

    /// One line of the checkpoint file (newline included).
    pub fn to_line(&self, key: &[u8]) -> String {
        format!("{} {} {} {} {}\n", self.seq, self.hash, self.keyed_from, self.at_ms, self.mac(key))
    }

    /// A line of the checkpoint file, its signature checked.
    pub fn parse_line(line: &str, key: &[u8]) -> Result<Checkpoint, CheckpointLineError> {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [seq, hash, keyed_from, at_ms, mac] = parts.as_slice() else {
            return Err(CheckpointLineError::Malformed);
        };
        let num = |s: &str| s.parse::<i64>().map_err(|_| CheckpointLineError::Malformed);
        let cp =
            Checkpoint { seq: num(seq)?, hash: (*hash).to_string(), keyed_from: num(keyed_from)?, at_ms: num(at_ms)? };
        let good = hex::decode(mac).ok().is_some_and(|m| cp.signer(key).verify_slice(&m).is_ok());
        if good { Ok(cp) } else { Err(CheckpointLineError::BadSignature) }
    }
}

/// The first link that does not hold, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash is not the hash of its fields and its predecessor.
    HashMismatch { seq: i64 },
    /// The entry does not point at the previous entry's hash (a row was removed or reordered).
    PrevMismatch { seq: i64 },
    /// Sequence numbers are not consecutive (a row was removed).
    Gap { expected: i64, found: i64 },
    /// The head does not name the last entry: entry `seq` is missing from the end, or the head's
    /// hash is not the last entry's.
    HeadMismatch { seq: i64 },
    /// A signed checkpoint names another hash for entry `seq` (or another switch-over to the keyed
    /// chain): the chain was rewritten up to there.
    CheckpointMismatch { seq: i64 },
    /// A signed checkpoint saw `checkpoint_seq` entries, the database has `head_seq`: its tail was
    /// removed (or the whole log emptied) and its head moved back.
    Truncated { head_seq: i64, checkpoint_seq: i64 },
}

impl ChainBreak {
    /// The sequence number of the first entry that does not hold.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::HashMismatch { seq }
            | ChainBreak::PrevMismatch { seq }
            | ChainBreak::HeadMismatch { seq }
            | ChainBreak::CheckpointMismatch { seq } => seq,
            ChainBreak::Gap { expected, .. } => expected,
            ChainBreak::Truncated { head_seq, .. } => head_seq + 1,
        }
    }

    /// A stable name of the kind of break, as the API and the command line report it.
    pub fn reason(&self) -> &'static str {
        match self {
            ChainBreak::HashMismatch { .. } => "hash_mismatch",
            ChainBreak::PrevMismatch { .. } => "prev_mismatch",
            ChainBreak::Gap { .. } => "gap",
            ChainBreak::HeadMismatch { .. } => "head_mismatch",
            ChainBreak::CheckpointMismatch { .. } => "checkpoint_mismatch",
            ChainBreak::Truncated { .. } => "truncated",
        }
    }
}

/// Incremental verifier, so a long chain is checked in pages without loading it whole.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    key: Vec<u8>,
    keyed_from: i64,
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl ChainVerifier {
    /// A verifier of a chain keyed under `key` from entry `keyed_from` on.
    pub fn new(key: &[u8], keyed_from: i64) -> Self {
        Self { key: key.to_vec(), keyed_from, prev_hash: GENESIS.to_string(), next_seq: 1, checked: 0 }
    }

    pub fn check(&mut self, entry: &AuditEntry, stored_prev: &str, stored_hash: &str) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Gap { expected: self.next_seq, found: entry.seq });
        }
        if stored_prev != self.prev_hash {
            return Err(ChainBreak::PrevMismatch { seq: entry.seq });
        }
        if entry.link(stored_prev, &self.key, self.keyed_from) != stored_hash {
            return Err(ChainBreak::HashMismatch { seq: entry.seq });
        }
        self.prev_hash = stored_hash.to_string();
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn entry(seq: i64, action: &str) -> AuditEntry {
        AuditEntry {
            seq,
            event: Event {
                at_ms: 1_700_000_000_000 + seq,
                actor_id: Some(1),
                actor_name: "admin".into(),
                action: action.into(),
                entity: "station".into(),
                entity_id: Some("1".into()),
                detail: "{}".into(),
                source: "127.0.0.1".into(),
                request_id: "r".into(),
            },
        }
    }
    const KEY: &[u8] = b"an audit key of thirty-two bytes";

    #[test]
    fn a_chain_verifies_and_a_changed_field_breaks_it() {
        let a = entry(1, "station.create");
        let ha = a.chain_mac(GENESIS, KEY);
        let b = entry(2, "station.update");
        let hb = b.chain_mac(&ha, KEY);
        let mut v = ChainVerifier::new(KEY, 1);
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&b, &ha, &hb), Ok(()));

        let mut v = ChainVerifier::new(KEY, 1);
        let mut forged = a.clone();
        forged.event.action = "station.delete".into();
        assert_eq!(v.check(&forged, GENESIS, &ha), Err(ChainBreak::HashMismatch { seq: 1 }));

        let mut v = ChainVerifier::new(KEY, 1);
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&entry(3, "x"), &hb, "x"), Err(ChainBreak::Gap { expected: 2, found: 3 }));
    }

    #[test]
    fn links_are_plain_before_the_switch_over_and_keyed_from_it() {
        let a = entry(1, "station.create");
        let ha = a.chain_hash(GENESIS);
        let b = entry(2, "station.update");
        let hb = b.chain_mac(&ha, KEY);
        let mut v = ChainVerifier::new(KEY, 2);
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&b, &ha, &hb), Ok(()));
        // Someone without the key recomputes entry 2 the plain way: refused.
        let mut v = ChainVerifier::new(KEY, 2);
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&b, &ha, &b.chain_hash(&ha)), Err(ChainBreak::HashMismatch { seq: 2 }));
        // And under another key: refused too.
        let mut v = ChainVerifier::new(b"another key", 1);
        assert_eq!(v.check(&a, GENESIS, &a.chain_mac(GENESIS, KEY)), Err(ChainBreak::HashMismatch { seq: 1 }));
    }

    #[test]
    fn checkpoints_are_signed_lines() {
        let cp = Checkpoint { seq: 42, hash: "ab".repeat(32), keyed_from: 7, at_ms: 1_700_000_000_000 };
        let line = cp.to_line(KEY);
        assert_eq!(Checkpoint::parse_line(&line, KEY), Ok(cp.clone()));
        assert_eq!(Checkpoint::parse_line(&line, b"another key"), Err(CheckpointLineError::BadSignature));
        let moved = line.replacen("42 ", "41 ", 1);
        assert_eq!(Checkpoint::parse_line(&moved, KEY), Err(CheckpointLineError::BadSignature));
        assert_eq!(Checkpoint::parse_line(&line[..20], KEY), Err(CheckpointLineError::Malformed));
    }
}
