//! Saved queries: named query definitions a tenant's users keep and share.

use serde::{Deserialize, Serialize};

use super::patch::Patch;
use super::query::QueryDefinition;
use super::time::{Timestamp, offset_format};
use crate::ids::SavedQueryId;

/// A saved query.
///
/// Its timestamps are written with a `+00:00` offset (not `Z`), as the contract has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedQuery {
    /// Id.
    pub id: SavedQueryId,
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The query.
    pub query: QueryDefinition,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// The user who owns it; `None` if it was created without a user.
    pub owner_id: Option<String>,
    /// Whether every user of the tenant may read it.
    pub is_shared: bool,
    /// When it was created.
    #[serde(with = "offset_format")]
    pub created_at: Timestamp,
    /// When it last changed.
    #[serde(with = "offset_format")]
    pub updated_at: Timestamp,
}

/// Body of `POST /saved-queries`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct SavedQueryCreate {
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The query.
    pub query: QueryDefinition,
    /// Whether every user of the tenant may read it.
    #[serde(default)]
    pub is_shared: bool,
}

impl SavedQueryCreate {
    /// A private saved query `name` of `query`, without description.
    pub fn new(name: impl Into<String>, query: QueryDefinition) -> Self {
        Self {
            name: name.into(),
            description: None,
            query,
            is_shared: false,
        }
    }
}

/// Body of `PATCH /saved-queries/{id}`: absent fields are unchanged, `null` clears `description`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct SavedQueryUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Patch<String>,
    /// New query.
    #[serde(default)]
    pub query: Option<QueryDefinition>,
    /// New sharing flag.
    #[serde(default)]
    pub is_shared: Option<bool>,
}

impl SavedQueryUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_absent()
            && self.query.is_none()
            && self.is_shared.is_none()
    }
}
