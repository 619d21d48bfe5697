//! The GB\/T 2260 administrative regions, searchable by name or code.
use crate::error::ApiResult;
use crate::json::ApiQuery;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegionQuery {
    /// Part of a name (`南山`) or the start of a code (`4403`).
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
}

/// Look up GB/T 2260 divisions by name or code prefix (at most 20).
#[utoipa::path(get, path = "/api/v1/regions", tag = "organisation", params(RegionQuery),
    responses((status = 200, body = Vec<RegionView>)))]
pub async fn regions(ApiQuery(q): ApiQuery<RegionQuery>) -> ApiResult<Json<Vec<RegionView>>> {
    let text = shouhou_domain::text::search_text("q", Some(&q.q))
        .map_err(|e| shouhou_app::AppError::Validation(e.into()))?
        .unwrap_or_default();
    Ok(Json(
        shouhou_domain::regions::search(&text, 20).into_iter().map(|(code, name)| RegionView { code, name }).collect(),
    ))
}
