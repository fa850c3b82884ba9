//! Operations endpoints: a health check for load balancers, Prometheus metrics (request counts by
//! route and status, latency histograms, the profile count) and the OpenAPI document, which is
//! generated from [`ROUTES`] — the same table that registers the routes — so it cannot drift.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::error::{blocking, ApiError};
use super::{Access, AppState, ROUTES};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// In-process request metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner.requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        let h = inner.latency.entry(route.to_string()).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    fn render(&self, profiles: Option<usize>) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP pitchmatch_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE pitchmatch_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "pitchmatch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                esc(route)
            );
        }
        out.push_str("# HELP pitchmatch_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE pitchmatch_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = esc(route);
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "pitchmatch_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "pitchmatch_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "pitchmatch_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "pitchmatch_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        if let Some(n) = profiles {
            out.push_str("# HELP pitchmatch_profiles Profiles in the store.\n# TYPE pitchmatch_profiles gauge\n");
            let _ = writeln!(out, "pitchmatch_profiles {n}");
        }
        out
    }
}

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
            super::Verb::Post if !def.path.contains('{') && def.tag != "ranking" => "201",
            super::Verb::Delete => "204",
            _ => "200",
        };
        responses.insert(ok.into(), json!({"description": "success"}));
        if matches!(def.verb, super::Verb::Post | super::Verb::Put) {
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
            def.verb.as_str(),
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
        entry[def.verb.as_str()] = op;
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
