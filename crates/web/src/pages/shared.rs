//! Helpers shared by the back-office pages: list queries, permission checks, form fields and their errors.
use super::{PageError, field_messages};
use crate::ctx::ReqCtx;
use serde::Deserialize;
use shouhou_app::AppError;
use shouhou_domain::auth::Permission;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub page: Option<u32>,
}

pub(crate) fn can(rc: &ReqCtx, p: Permission) -> bool {
    rc.ctx.actor.as_ref().is_some_and(|a| a.can(p))
}

pub struct InputField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub kind: &'static str,
    pub readonly: bool,
}

/// Field errors of a failed command, or the error answering a failure that is not about fields.
pub(crate) fn form_errors(rc: &ReqCtx, path: &str, e: AppError) -> Result<Vec<(String, String)>, PageError> {
    match e {
        AppError::Validation(v) => Ok(field_messages(rc.tr, &v.0)),
        AppError::Duplicate { field } => Ok(vec![(field.clone(), rc.tr.field_error(&field, "already_exists"))]),
        other => Err(PageError { err: other, rc: rc.clone(), path: path.to_string() }),
    }
}
