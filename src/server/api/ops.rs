//! Operations endpoints: a health check for load balancers, Prometheus metrics and the OpenAPI
//! document, which is generated from [`ROUTES`] — the same table that registers the routes — so it
//! cannot drift.

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::{Access, ROUTES};
use crate::server::error::{blocking, ApiError};
use crate::server::AppState;

/// `GET /healthz`: 200 when the store answers.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let state = state.into_inner();
    let profiles = blocking(move || Ok(state.engine.profile_count()?)).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "profiles": profiles})))
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let state = state.into_inner();
    let worker = state.clone();
    let profiles = blocking(move || Ok(worker.engine.profile_count()?)).await.ok();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(profiles))
}

/// The OpenAPI 3 document of every route in [`ROUTES`].
pub fn openapi_document() -> Value {
    let error = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut paths = Map::new();
    for def in ROUTES {
        let params: Vec<Value> = def
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = Map::new();
        let ok = match def.verb {
            crate::server::Verb::Post if !def.path.contains('{') && def.tag != "ranking" => "201",
            crate::server::Verb::Delete => "204",
            _ => "200",
        };
        responses.insert(ok.into(), json!({"description": "success"}));
        if matches!(def.verb, crate::server::Verb::Post | crate::server::Verb::Put) {
            responses.insert("400".into(), error.clone());
            responses.insert("413".into(), error.clone());
        }
        match def.access {
            Access::Anyone => {}
            Access::OwnerOrOrganiser | Access::Organiser => {
                responses.insert("401".into(), error.clone());
                responses.insert("403".into(), error.clone());
            }
        }
        if def.path.contains('{') {
            responses.insert("404".into(), error.clone());
        }
        responses.insert("500".into(), error.clone());
        let security = match def.access {
            Access::Anyone => json!([]),
            Access::OwnerOrOrganiser => json!([{"editToken": []}, {"organiserToken": []}]),
            Access::Organiser => json!([{"organiserToken": []}]),
        };
        let operation_id = format!(
            "{}{}",
            def.verb.as_str().to_lowercase(),
            def.path
                .replace(['{', '}'], "")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| format!("_{s}"))
                .collect::<String>()
        );
        let op = json!({
            "summary": def.summary,
            "operationId": operation_id,
            "tags": [def.tag],
            "parameters": params,
            "security": security,
            "responses": responses,
        });
        let entry = paths.entry(def.path.to_string()).or_insert_with(|| json!({}));
        entry[def.verb.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "pitchmatch", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Matchmaking for Co-Innovation Days. Bodies follow shared/spec/data-format.md."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "organiserToken": {"type": "http", "scheme": "bearer", "description": "from `pitchmatch token create`"},
                "editToken": {"type": "http", "scheme": "bearer", "description": "returned once by POST /api/v1/profiles"}
            },
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "field": {"type": "string"}, "details": {"type": "array", "items": {"type": "object"}}}}}}}
        }
    })
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(openapi_document())
}
