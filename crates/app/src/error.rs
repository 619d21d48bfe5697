use shouhou_domain::ValidationErrors;
use shouhou_store::StoreError;

/// Errors of use cases; the web layer turns them into problem+json or a page message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// What the link or record named is used up or expired (a survey link answered or past its day).
    #[error("no longer available")]
    Gone,
    /// The record changed since the caller read it (optimistic concurrency).
    #[error("the record was changed by someone else")]
    Stale,
    /// A unique value is taken.
    #[error("{field} already exists")]
    Duplicate { field: String },
    /// The lifecycle does not allow this action now.
    #[error("cannot {action} when it is {from}")]
    IllegalTransition { from: String, action: String, allowed: Vec<String> },
    /// Fewer of a part are available in the warehouse than the movement takes (thousandths).
    #[error("only {available} available")]
    InsufficientStock { available: String },
    /// The request was carried out before under its idempotency key (its answer is replayed).
    #[error("carried out before under this idempotency key")]
    AlreadyDone,
    #[error("database unavailable")]
    Unavailable(String),
    /// Stored personal data that no configured key opens (the key file is not the one the data
    /// was written with, or lacks its key version): a fault of the installation, not of the
    /// database, and not passing.
    #[error("personal data under key {} cannot be decrypted: {detail}", key_name(*.version))]
    Undecryptable { version: Option<u32>, detail: String },
    #[error("internal error: {0}")]
    Internal(String),
    /// A fault below the use case (the database driver, a corrupt stored value), kept whole so
    /// the log shows its chain of causes.
    #[error("internal error")]
    Fault(#[source] StoreError),
}

impl From<shouhou_domain::FieldError> for AppError {
    fn from(e: shouhou_domain::FieldError) -> Self {
        AppError::Validation(e.into())
    }
}

/// `data.N` of a key version, as the key file names it.
pub fn key_name(version: Option<u32>) -> String {
    version.map(|v| format!("data.{v}")).unwrap_or_else(|| "(unknown)".into())
}

impl From<shouhou_store::crypto::KeyError> for AppError {
    fn from(e: shouhou_store::crypto::KeyError) -> Self {
        StoreError::from(e).into()
    }
}

/// Any lifecycle's refused step, named as the problem document has it.
impl<S: std::fmt::Display, A: std::fmt::Display> From<shouhou_domain::lifecycle::IllegalTransition<S, A>> for AppError {
    fn from(e: shouhou_domain::lifecycle::IllegalTransition<S, A>) -> Self {
        AppError::IllegalTransition {
            from: e.from.to_string(),
            action: e.action.to_string(),
            allowed: e.allowed.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Duplicate { field } => AppError::Duplicate { field },
            StoreError::Stale => AppError::Stale,
            StoreError::ForeignKey => AppError::Validation(ValidationErrors::single("reference", "unknown_reference")),
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::AlreadyDone => AppError::AlreadyDone,
            StoreError::Undecryptable { version, detail } => AppError::Undecryptable { version, detail },
            e @ (StoreError::Other(_) | StoreError::Corrupt(_)) => AppError::Fault(e),
        }
    }
}
