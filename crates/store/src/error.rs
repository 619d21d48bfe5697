use crate::crypto::KeyError;

/// Database errors, mapped once at the store edge: callers never see `sqlx::Error`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// A unique key already holds this value; `field` names the column.
    #[error("{field} already exists")]
    Duplicate { field: String },
    /// Optimistic concurrency: the record changed since the caller read it.
    #[error("the record was changed by someone else")]
    Stale,
    /// A row referenced by this one does not exist.
    #[error("a referenced record does not exist")]
    ForeignKey,
    /// An idempotent request's key is held by a committed command: its answer is to be replayed
    /// (`idempotency::Unit`).
    #[error("this request was carried out before under its idempotency key")]
    AlreadyDone,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored personal value no configured key opens: `version` is its key version (`data.N`).
    #[error("personal data cannot be decrypted: {detail}")]
    Undecryptable { version: Option<u32>, detail: String },
    /// A stored value the rules refuse (an unknown status, an instant out of range): the row
    /// was written by something other than this program, or by a version that knew other values.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate { field: unique_field(db.constraint(), db.message()) }
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::ForeignKey,
            _ => StoreError::Other(e),
        }
    }
}

/// The column of a unique violation: PostgreSQL names the constraint (`stations_code_key`),
/// SQLite says `UNIQUE constraint failed: stations.code`.
fn unique_field(constraint: Option<&str>, message: &str) -> String {
    if let Some(c) = constraint {
        let c = c.strip_suffix("_key").unwrap_or(c);
        return c.split_once('_').map(|(_, col)| col.to_string()).unwrap_or_else(|| c.to_string());
    }
    message
        .rsplit(": ")
        .next()
        .and_then(|cols| cols.split(',').next_back())
        .and_then(|col| col.trim().split('.').nth(1))
        .unwrap_or("value")
        .to_string()
}

impl From<KeyError> for StoreError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::WrongKey(v) | KeyError::UnknownVersion(v) => {
                StoreError::Undecryptable { version: Some(v), detail: e.to_string() }
            }
            KeyError::Undecryptable => StoreError::Undecryptable { version: None, detail: e.to_string() },
            KeyError::NoKeys | KeyError::BadKey(_) | KeyError::Random => {
                StoreError::Unavailable(format!("personal data key: {e}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unique_field;
    #[test]
    fn unique_violations_name_the_column_on_both_backends() {
        assert_eq!(unique_field(Some("stations_code_key"), ""), "code");
        assert_eq!(unique_field(None, "UNIQUE constraint failed: stations.code"), "code");
        assert_eq!(unique_field(Some("users_username_key"), ""), "username");
        let composite = "UNIQUE constraint failed: devices.model_id, devices.serial_number";
        assert_eq!(unique_field(None, composite), "serial_number");
        assert_eq!(unique_field(Some("devices_serial_number_key"), ""), "serial_number");
    }
}
