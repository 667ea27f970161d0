//! The OpenAPI descriptions of the error responses [`ApiError`](crate::ApiError) writes
//! (feature `openapi`): the bodies' schemas and one named response per status. The handlers'
//! `#[utoipa::path]` attributes and the document both refer to them, so this module imports
//! nothing from either.

use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{self, ContentBuilder, Ref, RefOr};
use utoipa::{ToResponse, ToSchema};

use crate::error::ValidationIssue;

/// The body of every error but a 422 for an unreadable request: `{"detail": "<message>"}`.
#[derive(ToSchema)]
#[allow(dead_code, reason = "only describes the JSON that `ApiError` writes")]
pub(crate) struct ErrorDetail {
    /// What went wrong, for a person.
    detail: String,
}

/// The body of a 422 for a body, query string or path that cannot be read.
#[derive(ToSchema)]
#[allow(dead_code, reason = "only describes the JSON that `ApiError` writes")]
pub(crate) struct ValidationErrorList {
    /// One entry per problem.
    detail: Vec<ValidationIssue>,
}

/// A response with an `ErrorDetail` body.
fn detail_response(description: &str) -> RefOr<openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorDetail")))
                .build(),
        )
        .into()
}

macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident => $description:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<openapi::Response>) {
                (stringify!($name), detail_response($description))
            }
        }
    )*};
}

error_responses! {
    /// 400.
    BadRequest => "The request cannot be served as sent; with `HeaderAuth`, also a missing \
        `X-Tenant-ID` header.";
    /// 401.
    Unauthorized => "The host's auth extractor rejected the caller (its own body), or a \
        per-user operation was called without a user.";
    /// 403.
    Forbidden => "The object exists but the caller may not do this to it.";
    /// 404.
    NotFound => "No such object in the caller's tenant (another tenant's object, and a \
        malformed id, are also 404).";
    /// 409.
    Conflict => "The name, id or pin is already taken.";
    /// 503.
    Unavailable => "The store or the database cannot be reached, or no data source is \
        configured; retry later.";
    /// 413.
    PayloadTooLarge => "The body is larger than the router's body limit.";
    /// 429.
    TooManyRequests => "The tenant already runs as many queries as it may at once, a share \
        link was read too often (then with `Retry-After`), or the caller holds as many \
        live-event connections as it may.";
    /// 410.
    Gone => "The share link has expired.";
    /// 504.
    Timeout => "The request took longer than the router's request timeout, or its query \
        longer than the engine's query timeout.";
}

/// 422: `{"detail": [issue]}` for a request that cannot be read, `{"detail": "<message>"}`
/// for one that breaks a rule.
pub(crate) struct Unprocessable;

impl<'r> ToResponse<'r> for Unprocessable {
    fn response() -> (&'r str, RefOr<openapi::Response>) {
        let schema: Schema = OneOfBuilder::new()
            .item(Ref::from_schema_name("ValidationErrorList"))
            .item(Ref::from_schema_name("ErrorDetail"))
            .into();
        let response = ResponseBuilder::new()
            .description(
                "The body, query string or path cannot be read (a list of issues with their \
                 locations), or the input breaks a rule or a limit (a message).",
            )
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(schema)).build(),
            );
        ("Unprocessable", response.into())
    }
}
