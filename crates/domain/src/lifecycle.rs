//! What a refused step says, for every lifecycle (service requests, work orders, and the ones to
//! come): the status it was in, the action asked for, and what that status does allow.
use std::fmt::Display;

/// An action that a record's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} from {from}; allowed: {}", list(.allowed))]
pub struct IllegalTransition<S: Display + 'static, A: Display + 'static> {
    pub from: S,
    pub action: A,
    /// What `from` does allow, so the caller can say so.
    pub allowed: &'static [A],
}

fn list<A: Display>(actions: &[A]) -> String {
    if actions.is_empty() {
        "none".to_string()
    } else {
        actions.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}
