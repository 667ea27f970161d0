//! [`HeaderAuth`]: the caller, read from the `X-Tenant-ID`, `X-User-ID` and `X-Schema-Name`
//! headers the Prismiq React client sends.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use prismiq_core::AuthContext;

use crate::error::ApiError;

/// Reads the caller from request headers: `X-Tenant-ID` (required; missing or empty is a 400
/// `{"detail":"X-Tenant-ID header is required"}`), `X-User-ID` and `X-Schema-Name` (optional;
/// empty counts as absent). Never an admin.
///
/// **This is not authentication.** Any client can send any header. Use it for demos, for local
/// development, or behind a gateway that sets these headers itself and strips them from
/// clients. A real host implements [`AuthContext`] on its own extractor, which verifies the
/// session or token, and passes that type to [`router`](crate::router).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    tenant_id: String,
    user_id: Option<String>,
    schema_name: Option<String>,
}

impl HeaderAuth {
    /// The header naming the tenant.
    pub const TENANT_HEADER: &'static str = "x-tenant-id";
    /// The header naming the user.
    pub const USER_HEADER: &'static str = "x-user-id";
    /// The header naming the tenant's analytics schema.
    pub const SCHEMA_HEADER: &'static str = "x-schema-name";

    /// Reads the caller from request parts.
    pub fn from_parts(parts: &Parts) -> Result<Self, ApiError> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let tenant_id = header(Self::TENANT_HEADER)
            .ok_or_else(|| ApiError::BadRequest("X-Tenant-ID header is required".to_owned()))?;
        Ok(Self {
            tenant_id,
            user_id: header(Self::USER_HEADER),
            schema_name: header(Self::SCHEMA_HEADER),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HeaderAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

impl AuthContext for HeaderAuth {
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
    fn schema_name(&self) -> Option<&str> {
        self.schema_name.as_deref()
    }
}
