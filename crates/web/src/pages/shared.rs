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
    /// For a GB/T 2260 division: chosen by province → city → district instead of typed.
    pub region: Option<RegionPicker>,
}

/// Three selects for a division code (`region_province`, `region_city`, `region_district`),
/// filled as far as the current code goes; the next level loads on change (`/regions/options`).
pub struct RegionPicker {
    pub levels: Vec<RegionLevel>,
}

pub struct RegionLevel {
    pub name: &'static str,
    pub label: String,
    pub options: Vec<(String, String)>,
    pub selected: String,
}

pub const REGION_LEVELS: [&str; 3] = ["region_province", "region_city", "region_district"];

impl RegionPicker {
    pub fn new(tr: crate::i18n::Tr, code: &str) -> RegionPicker {
        use shouhou_domain::regions::{children, path};
        let chosen = path(code);
        let mut parent: Option<String> = None;
        let levels = REGION_LEVELS
            .iter()
            .zip(["region-province", "region-city", "region-district"])
            .enumerate()
            .map(|(i, (name, key))| {
                let options = if i == 0 || parent.is_some() { children(parent.as_deref()) } else { vec![] };
                let selected = chosen[i].clone().unwrap_or_default();
                parent = chosen[i].clone();
                RegionLevel { name, label: tr.t(key), options, selected }
            })
            .collect();
        RegionPicker { levels }
    }
}

/// The division code a form chose: the deepest level picked, or a `field` typed as a code (a
/// client without the picker).
pub(crate) fn region_of(f: &super::FormData, field: &str) -> String {
    let typed = f.get(field);
    if !typed.trim().is_empty() {
        return typed;
    }
    REGION_LEVELS.iter().rev().map(|l| f.get(l)).find(|v| !v.trim().is_empty()).unwrap_or_default()
}

/// Field errors of a failed command, or the error answering a failure that is not about fields.
pub(crate) fn form_errors(rc: &ReqCtx, path: &str, e: AppError) -> Result<Vec<(String, String)>, PageError> {
    match e {
        AppError::Validation(v) => Ok(field_messages(rc.tr, &v.0)),
        AppError::Duplicate { field } => Ok(vec![(field.clone(), rc.tr.field_error(&field, "already_exists"))]),
        other => Err(PageError { err: other, rc: rc.clone(), path: path.to_string() }),
    }
}
