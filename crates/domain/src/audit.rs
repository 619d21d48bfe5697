//! The audit trail is an append-only, hash-chained log: each entry's hash covers its fields and
//! the previous entry's hash, so editing or deleting any row breaks every link after it.
use sha2::{Digest, Sha256};

/// The hash that starts the chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the audit trail, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
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

impl AuditEntry {
    /// SHA-256 over the previous hash and every field, each length-prefixed so that no two
    /// different entries can serialise alike.
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        field(prev_hash);
        field(&self.seq.to_string());
        field(&self.at_ms.to_string());
        field(&self.actor_id.map(|a| a.to_string()).unwrap_or_default());
        field(&self.actor_name);
        field(&self.action);
        field(&self.entity);
        field(self.entity_id.as_deref().unwrap_or(""));
        field(&self.detail);
        field(&self.source);
        field(&self.request_id);
        hex::encode(h.finalize())
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
}

impl ChainBreak {
    /// The sequence number of the first entry that does not hold.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::HashMismatch { seq } | ChainBreak::PrevMismatch { seq } | ChainBreak::HeadMismatch { seq } => {
                seq
            }
            ChainBreak::Gap { expected, .. } => expected,
        }
    }

    /// A stable name of the kind of break, as the API and the command line report it.
    pub fn reason(&self) -> &'static str {
        match self {
            ChainBreak::HashMismatch { .. } => "hash_mismatch",
            ChainBreak::PrevMismatch { .. } => "prev_mismatch",
            ChainBreak::Gap { .. } => "gap",
            ChainBreak::HeadMismatch { .. } => "head_mismatch",
        }
    }
}

/// Incremental verifier, so a long chain is checked in pages without loading it whole.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev_hash: GENESIS.to_string(), next_seq: 1, checked: 0 }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, entry: &AuditEntry, stored_prev: &str, stored_hash: &str) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Gap { expected: self.next_seq, found: entry.seq });
        }
        if stored_prev != self.prev_hash {
            return Err(ChainBreak::PrevMismatch { seq: entry.seq });
        }
        if entry.chain_hash(stored_prev) != stored_hash {
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
            at_ms: 1_700_000_000_000 + seq,
            actor_id: Some(1),
            actor_name: "admin".into(),
            action: action.into(),
            entity: "station".into(),
            entity_id: Some("1".into()),
            detail: "{}".into(),
            source: "127.0.0.1".into(),
            request_id: "r".into(),
        }
    }
    #[test]
    fn a_chain_verifies_and_a_changed_field_breaks_it() {
        let a = entry(1, "station.create");
        let ha = a.chain_hash(GENESIS);
        let b = entry(2, "station.update");
        let hb = b.chain_hash(&ha);
        let mut v = ChainVerifier::default();
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&b, &ha, &hb), Ok(()));

        let mut v = ChainVerifier::default();
        let mut forged = a.clone();
        forged.action = "station.delete".into();
        assert_eq!(v.check(&forged, GENESIS, &ha), Err(ChainBreak::HashMismatch { seq: 1 }));

        let mut v = ChainVerifier::default();
        assert_eq!(v.check(&a, GENESIS, &ha), Ok(()));
        assert_eq!(v.check(&entry(3, "x"), &hb, "x"), Err(ChainBreak::Gap { expected: 2, found: 3 }));
    }
}
