//! The one error type of the HTTP layer. Every 4xx/5xx the service sends — from handlers, from
//! actix's own extractors, for unknown routes and methods, for oversize bodies — has the same shape,
//! `{"error": {"code", "message", "field"?, "details"?}}`, so clients need one error path. Library
//! errors map by their user/internal split: the caller's mistakes become 4xx with the library's own
//! message; our faults become a 500 with a generic message and the detail in the log only.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::Violation;
use crate::error::{Error, UserError};

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`, `field`) and for people (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `invalid_record`, `unauthorized`, `rate_limited`.
    #[schema(example = "invalid_record")]
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
    /// The offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every broken rule of an invalid record (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<Violation>>,
}

impl ErrorBody {
    fn new(code: &str, message: String) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: code.to_string(), message, field: None, details: None } }
    }
}

/// An HTTP error response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or an argument out of range (400).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The offending field, when there is one.
        field: Option<String>,
    },
    /// A record broke the data-format rules (422); every violation is listed.
    #[error("{} rule(s) violated: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Violation>),
    /// No, or an unknown or revoked, token (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A valid token without the right (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The record or route does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The record already exists (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many submissions or writes from this client or token, or overall (429).
    #[error("too many writes; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until a submission will be accepted.
        retry_after: u64,
    },
    /// Our fault (500); the detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
    /// The client has as many submissions waiting for approval as it may (429).
    #[error("{0}")]
    TooManyPending(String),
    /// The service keeps no more submissions waiting for approval (503).
    #[error("{0}")]
    QueueFull(String),
}

impl ApiError {
    /// A 400 for `field`.
    pub fn bad(code: &'static str, field: Option<&str>, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { code, message: message.into(), field: field.map(str::to_string) }
    }

    /// Rejects a replacement whose body names another record than the path (`PUT /…/{id}`).
    pub fn check_path_id(path_id: &str, body_id: &str) -> Result<(), ApiError> {
        if body_id == path_id {
            Ok(())
        } else {
            Err(ApiError::bad(
                "id_mismatch",
                Some("id"),
                format!("the body's id {body_id:?} is not the path's {path_id:?}"),
            ))
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Invalid(_) => "invalid_record",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
            ApiError::TooManyPending(_) => "too_many_pending",
            ApiError::QueueFull(_) => "moderation_queue_full",
        }
    }

    fn body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code(), self.to_string());
        match self {
            ApiError::BadRequest { field: Some(f), .. } => body.error.field = Some(f.clone()),
            ApiError::Invalid(violations) => {
                body.error.field = violations.first().map(|v| v.field.clone());
                body.error.details = Some(violations.clone());
            }
            _ => {}
        }
        body
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::TooManyPending(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::QueueFull(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited { retry_after } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        res.json(self.body())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::User(UserError::InvalidRecords(problems)) => {
                ApiError::Invalid(problems.into_iter().map(|p| p.violation).collect())
            }
            Error::User(UserError::NotFound { kind, id }) => ApiError::NotFound(format!("unknown {kind} id {id:?}")),
            Error::User(e @ UserError::Conflict { .. }) => ApiError::Conflict(e.to_string()),
            Error::User(UserError::BadArgument { field, message }) => ApiError::BadRequest {
                code: "bad_argument",
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            Error::User(other) => ApiError::bad("bad_argument", None, other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task: {e}"))
    }
}

/// Runs `f` on the blocking thread pool and flattens both error layers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    actix_web::web::block(f).await?
}

/// Parses a request body as JSON: UTF-8 and syntax are checked separately so the message says which.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("empty_body", None, "the request body is empty; expected a JSON object"));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad(
            "invalid_utf8",
            None,
            format!("the body is not valid UTF-8 (bad byte at offset {})", e.valid_up_to()),
        )
    })?;
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad("malformed_json", None, format!("the body is not valid JSON: {e}")))
}

/// Deserialises a typed body (search parameters, selection rules), naming the field when serde does.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, ApiError> {
    // serde also fills a struct from an array, positionally (`["brake", 5]` would be a search for
    // "brake" with k = 5); the bodies are documented as objects, so anything else is refused.
    if !value.is_object() {
        return Err(ApiError::bad("bad_argument", None, format!("invalid {what}: expected a JSON object")));
    }
    serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.starts_with("unknown field") || message.starts_with("missing field"))
            .map(str::to_string);
        ApiError::BadRequest { code: "bad_argument", message: format!("invalid {what}: {message}"), field }
    })
}

pub(crate) fn json_config_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let status = err.status_code();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return plain(status, "payload_too_large", err.to_string()).into();
    }
    ApiError::bad("malformed_json", None, err.to_string()).into()
}

pub(crate) fn query_config_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let field = message.split('`').nth(1).map(str::to_string);
    ApiError::BadRequest { code: "bad_query", message: format!("invalid query string: {message}"), field }.into()
}

pub(crate) fn path_config_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad("bad_path", None, err.to_string()).into()
}

/// The default service: no route matches the path.
pub(crate) async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())))
}

/// An error response in the shared shape for a status actix produced itself.
fn plain(status: StatusCode, code: &'static str, message: String) -> actix_web::error::InternalError<String> {
    let res = HttpResponse::build(status).json(ErrorBody::new(code, message.clone()));
    actix_web::error::InternalError::from_response(message, res)
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// Middleware hook: rewrites any error response not already in the shared JSON shape (actix's own
/// 405, 413, extractor errors) into it, keeping status and headers.
pub(crate) fn json_error_shape<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // The pages send their own HTML error pages and CSV; only bare errors get the JSON shape.
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html") || v.starts_with("text/csv"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    // A body that missed its deadline surfaces as the extractor's payload error (a 400); it is the
    // client's slowness, which HTTP calls 408.
    let timed_out = res.response().error().is_some_and(super::deadline::is_body_timeout);
    let status = if timed_out { StatusCode::REQUEST_TIMEOUT } else { res.status() };
    let message = match res.response().error() {
        Some(e) if !status.is_server_error() => e.to_string(),
        Some(e) => {
            tracing::error!(error = %e, "internal error");
            "internal error".to_string()
        }
        None => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let body = serde_json::to_string(&ErrorBody::new(code_for(status), message)).unwrap_or_default();
    let (req, mut response) = res.into_parts();
    *response.status_mut() = status;
    if timed_out {
        // The rest of the body is never read, so the connection cannot carry another request.
        response.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    }
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = response.set_body(body).map_into_boxed_body();
    let res = ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
