//! [`ApiError`]: every failure of a Prismiq route, as the JSON body the client parses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prismiq_core::catalogue::{ProviderError, WidgetProblemKind};
use prismiq_core::{EngineError, SourceError, StoreError};
use serde::Serialize;
use serde_json::{Value, json};

/// One problem with the request, in the list form of a 422 body:
/// `{"detail": [{"type", "loc", "msg", "input"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationIssue {
    /// A machine-readable kind: `missing`, `json_invalid`, `list_type`, `enum`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["body", "widgets", 0, "position", "x"]`, `["query", "context"]`, …
    pub loc: Vec<Value>,
    /// What is wrong, for a person.
    pub msg: String,
    /// The offending input, when known.
    pub input: Value,
}

/// The error of every Prismiq route.
///
/// The body is always JSON: `{"detail": "<message>"}`, or the list form for
/// [`ApiError::Validation`]. Server-side failures get a generic message; their cause is logged
/// with `tracing`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The engine refused or failed; the status follows the [`EngineError`] variant
    /// (404, 403, 401, 409, 422, or 503/500 for store failures).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// 422: the body, query string or path could not be read as the route expects.
    #[error("invalid request")]
    Validation(Vec<ValidationIssue>),
    /// 400: the request is missing something the route needs.
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such route.
    #[error("Not Found")]
    RouteNotFound,
    /// 405: the route exists but not for this method.
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than the router's limit.
    #[error("Request body is larger than the router's body limit")]
    PayloadTooLarge,
    /// 504: the request took longer than the router's timeout.
    #[error("Request timed out after {} seconds", .0.as_secs_f64())]
    RequestTimeout(std::time::Duration),
    /// 503: a dependency is down (used by the readiness probe).
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Engine(err) => match err {
                EngineError::DashboardNotFound(_)
                | EngineError::WidgetNotFound(_)
                | EngineError::SavedQueryNotFound(_)
                | EngineError::TemplateNotFound(_)
                | EngineError::ShareNotFound
                | EngineError::PinNotFound { .. }
                | EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
                EngineError::PermissionDenied | EngineError::ExportNotAllowed => {
                    StatusCode::FORBIDDEN
                }
                EngineError::UserRequired => StatusCode::UNAUTHORIZED,
                EngineError::Conflict { .. } => StatusCode::CONFLICT,
                EngineError::Invalid(_)
                | EngineError::InvalidWidgets(_)
                | EngineError::LimitExceeded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                EngineError::Provider(err) => match err {
                    ProviderError::BadRequest(_) => StatusCode::BAD_REQUEST,
                    ProviderError::NotFound(_) => StatusCode::NOT_FOUND,
                    ProviderError::Forbidden(_) => StatusCode::FORBIDDEN,
                    ProviderError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                },
                EngineError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
                EngineError::Store(StoreError::Rejected(_)) => StatusCode::UNPROCESSABLE_ENTITY,
                EngineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                EngineError::NoDataSource => StatusCode::SERVICE_UNAVAILABLE,
                EngineError::BadRequest(_) => StatusCode::BAD_REQUEST,
                EngineError::Events(prismiq_core::events::EventError::Unavailable(_)) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                EngineError::Busy { .. }
                | EngineError::RateLimited { .. }
                | EngineError::TooManyConnections { .. } => StatusCode::TOO_MANY_REQUESTS,
                EngineError::ShareExpired => StatusCode::GONE,
                EngineError::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
                EngineError::Query(query) if query.is_client_error() => StatusCode::BAD_REQUEST,
                EngineError::Query(_) => StatusCode::INTERNAL_SERVER_ERROR,
                EngineError::Source(SourceError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
                EngineError::Source(SourceError::Rejected(_)) => StatusCode::BAD_REQUEST,
                EngineError::Source(SourceError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
                EngineError::Source(SourceError::Backend(_)) => StatusCode::INTERNAL_SERVER_ERROR,
                // Failures this version does not know are the server's.
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// A 422 with a single issue.
    pub(crate) fn validation(
        kind: &str,
        loc: Vec<Value>,
        msg: impl Into<String>,
        input: Value,
    ) -> Self {
        Self::Validation(vec![ValidationIssue {
            kind: kind.to_owned(),
            loc,
            msg: msg.into(),
            input,
        }])
    }
}

/// An error with its sources, displayed as one line joined with `": "`: the whole story, for
/// the log line of a 5xx.
struct Chain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::Engine(EngineError::RateLimited { retry_after }) => {
                Some(retry_after.as_secs().max(1))
            }
            _ => None,
        };
        let body = match self {
            Self::Validation(issues) => json!({ "detail": issues }),
            Self::Engine(EngineError::InvalidWidgets(problems)) => {
                let issues: Vec<Value> = problems
                    .0
                    .into_iter()
                    .map(|problem| {
                        let mut loc = vec![json!("body")];
                        loc.extend(problem.loc.iter().map(|s| json!(s)));
                        let ctx = match &problem.kind {
                            WidgetProblemKind::Type { allowed } => {
                                let expected: Vec<String> =
                                    allowed.iter().map(|t| format!("'{t}'")).collect();
                                json!({ "allowed": allowed, "expected": expected.join(", ") })
                            }
                            WidgetProblemKind::Config { pointer, .. } => {
                                json!({ "pointer": pointer })
                            }
                            WidgetProblemKind::Size { bound, limit } => {
                                json!({ "bound": bound, "limit": limit })
                            }
                            WidgetProblemKind::Overlap { other } => json!({ "other": other }),
                            _ => Value::Null,
                        };
                        // A built-in config's problem is typed as any other field's.
                        let code = match &problem.kind {
                            WidgetProblemKind::Config { builtin: true, .. } => {
                                crate::extract::classify(&problem.message)
                            }
                            kind => kind.code(),
                        };
                        json!({
                            "type": code,
                            "loc": loc,
                            "msg": problem.message,
                            "input": problem.input,
                            "ctx": ctx,
                        })
                    })
                    .collect();
                json!({ "detail": issues })
            }
            Self::Engine(EngineError::Provider(ProviderError::Failed(err))) => {
                tracing::error!(error = %Chain(err.as_ref()), "prismiq widget data provider failed");
                json!({ "detail": "Internal server error: the widget's data provider failed" })
            }
            Self::Engine(EngineError::VersionMismatch { current }) => json!({
                "detail": format!(
                    "The dashboard has changed since the version sent in If-Match: it is at \
                     version {current}. Reload it and apply your change again."
                ),
                "current_version": current,
            }),
            Self::Engine(EngineError::Store(StoreError::Rejected(message))) => {
                json!({ "detail": format!("Value cannot be stored: {message}") })
            }
            Self::Engine(EngineError::Store(err)) => {
                let cause = Chain(&err);
                if matches!(err, StoreError::Unavailable(_)) {
                    tracing::warn!(error = %cause, "prismiq store unavailable");
                    json!({ "detail": "Service temporarily unavailable: the dashboard store cannot be reached. Retry shortly." })
                } else {
                    tracing::error!(error = %cause, "prismiq store failure");
                    json!({ "detail": "Internal server error" })
                }
            }
            Self::Engine(EngineError::Source(err)) => match &err {
                SourceError::Timeout(_) => json!({ "detail": err.to_string() }),
                SourceError::Rejected(message) => {
                    json!({ "detail": format!("Query failed: {message}") })
                }
                SourceError::Unavailable(_) => {
                    tracing::warn!(error = %Chain(&err), "prismiq data source unavailable");
                    json!({ "detail": "Service temporarily unavailable: the database cannot be reached. Retry shortly." })
                }
                SourceError::Backend(_) => {
                    tracing::error!(error = %Chain(&err), "prismiq data source failure");
                    json!({ "detail": "Internal server error" })
                }
            },
            Self::Engine(EngineError::Query(err)) if !err.is_client_error() => {
                tracing::error!(error = %err, "prismiq row filter does not fit the query");
                json!({ "detail": "Internal server error" })
            }
            Self::Engine(EngineError::NoDataSource) => {
                tracing::error!("prismiq query routes called without a data source");
                json!({ "detail": EngineError::NoDataSource.to_string() })
            }
            other => json!({ "detail": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
