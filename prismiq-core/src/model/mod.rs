//! The domain types, with the JSON shapes of the wire contract.

mod config;
mod dashboard;
pub(crate) use dashboard::first_version;
mod filter;
mod patch;
mod pin;
mod query;
mod saved_query;
mod share;
mod template;
mod time;
mod version;
mod widget;

pub use config::{AnyConfig, DataSourceMode, Hyperlink, LinkTarget, WidgetConfig};
pub use dashboard::{
    Dashboard, DashboardCreate, DashboardExport, DashboardImport, DashboardJson, DashboardLayout,
    DashboardSummary, DashboardUpdate, EXPORT_VERSION, WidgetExport,
};
pub use filter::{DashboardFilter, FilterType, FilterValue};
pub use patch::Patch;
pub(crate) use pin::check_context;
pub use pin::{PinRequest, PinnedDashboard, ReorderPinsRequest, UnpinRequest};
pub use query::QueryDefinition;
pub use saved_query::{SavedQuery, SavedQueryCreate, SavedQueryUpdate};
pub use share::{CreatedShare, Share, ShareCreate};
pub use template::{
    DashboardFromTemplate, DashboardTemplate, TemplateContent, TemplateCreate, TemplateSource,
};
pub use time::Timestamp;
pub use version::{ChangeKind, DashboardVersion, VersionEntry};
pub(crate) use widget::is_key;
pub use widget::{
    LayoutItem, PositionRequest, Widget, WidgetContent, WidgetCreate, WidgetPosition, WidgetSave,
    WidgetType, WidgetUpdate,
};
