//! The widget catalogue: every widget type a dashboard may hold, what each looks like on the
//! grid, how its config is checked, and where its data comes from.
//!
//! The eight built-in types are always there, with the 34-key [`WidgetConfig`]. A host adds
//! its own with [`WidgetTypeSpec`] (a label, a category, sizes, a default config, a JSON Schema
//! (draft 2020-12) for the config, and a data kind), and may decide per caller which types are
//! usable with a [`WidgetTypeAccess`] hook. The [`Engine`](crate::Engine) checks every widget
//! it writes against the catalogue.
//!
//! ```
//! use prismiq_core::catalogue::{Category, WidgetCatalogue, WidgetSizes, WidgetTypeSpec};
//! use serde_json::json;
//!
//! let gauge = WidgetTypeSpec::new("gauge", "Gauge")
//!     .with_category(Category::Stats)
//!     .with_sizes(WidgetSizes::new(3, 3).min(2, 2).max(6, 6))
//!     .with_default_config(json!({"min": 0, "max": 100}))
//!     .with_config_schema(json!({
//!         "type": "object",
//!         "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
//!         "required": ["min", "max"],
//!     }));
//! let catalogue = WidgetCatalogue::new().with_type(gauge)?;
//! assert!(catalogue.get(&"gauge".parse().unwrap()).is_some());
//! # Ok::<(), prismiq_core::catalogue::CatalogueError>(())
//! ```

mod builtin;
mod check;
mod provider;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::auth::AuthContext;
use crate::model::{AnyConfig, WidgetConfig, WidgetType};

pub(crate) use check::{Checker, overlaps};
pub use check::{PathSegment, WidgetProblem, WidgetProblemKind, WidgetProblems};
pub use provider::ResolvedFilter;
pub(crate) use provider::{CatchPanic, panic_message};
pub use provider::{ProviderError, ProviderRequest, WidgetDataProvider};

/// What a widget type is for, so a frontend can group its palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Numbers and indicators (metric, KPI tile, gauge).
    Stats,
    /// Charts.
    Chart,
    /// Rows and feeds (table, alert list).
    List,
    /// Buttons and quick actions.
    Action,
    /// Text and static information.
    Info,
    /// Anything else.
    Custom,
}

/// Where a widget type's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// A structured query (the widget's `query`) or, for built-in types, custom SQL.
    Query,
    /// The host computes it: a [`WidgetDataProvider`].
    Provider,
    /// No data: the config is everything (text, notes, links).
    None,
}

/// A widget type's sizes, in grid units: the default, and the bounds every write is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSizes {
    /// Width a new widget takes when none is given.
    pub default_w: u32,
    /// Height a new widget takes when none is given.
    pub default_h: u32,
    /// Smallest width.
    pub min_w: u32,
    /// Smallest height.
    pub min_h: u32,
    /// Largest width; `None` for the layout's columns.
    pub max_w: Option<u32>,
    /// Largest height; `None` for no bound.
    pub max_h: Option<u32>,
}

impl WidgetSizes {
    /// A default size of `w`×`h`, at least 1×1, unbounded above.
    pub const fn new(w: u32, h: u32) -> Self {
        Self {
            default_w: w,
            default_h: h,
            min_w: 1,
            min_h: 1,
            max_w: None,
            max_h: None,
        }
    }

    /// The same sizes with a smallest size of `w`×`h`.
    pub const fn min(mut self, w: u32, h: u32) -> Self {
        self.min_w = w;
        self.min_h = h;
        self
    }

    /// The same sizes with a largest size of `w`×`h`.
    pub const fn max(mut self, w: u32, h: u32) -> Self {
        self.max_w = Some(w);
        self.max_h = Some(h);
        self
    }

    fn check(&self, key: &str) -> Result<(), CatalogueError> {
        let bad = |why: String| CatalogueError::Sizes {
            widget_type: key.to_owned(),
            why,
        };
        if self.min_w == 0 || self.min_h == 0 {
            return Err(bad("min_w and min_h must be at least 1".to_owned()));
        }
        if self.default_w < self.min_w || self.default_h < self.min_h {
            return Err(bad(format!(
                "the default size {}x{} is below the minimum {}x{}",
                self.default_w, self.default_h, self.min_w, self.min_h
            )));
        }
        if self.max_w.is_some_and(|max| self.default_w > max)
            || self.max_h.is_some_and(|max| self.default_h > max)
        {
            return Err(bad(format!(
                "the default size {}x{} is above the maximum",
                self.default_w, self.default_h
            )));
        }
        Ok(())
    }
}

/// One widget type: what the catalogue lists and checks.
///
/// Built with [`new`](Self::new) and the setters; checked when it is added to a
/// [`WidgetCatalogue`] (the key, the sizes, the schema, and the default config against it).
#[derive(Clone)]
pub struct WidgetTypeSpec {
    key: String,
    widget_type: Option<WidgetType>,
    label: String,
    description: String,
    category: Category,
    icon: String,
    sizes: WidgetSizes,
    default_config: Value,
    config_schema: Option<Value>,
    data: DataKind,
    provider: Option<Arc<dyn WidgetDataProvider>>,
    cache_ttl: Option<Duration>,
    // Set when the spec joins a catalogue.
    default: AnyConfig,
    validator: Option<Arc<jsonschema::Validator>>,
}

impl WidgetTypeSpec {
    /// A type keyed `key` (snake_case) labelled `label`: category `custom`, 4×3, data from a
    /// query, an empty default config, and any JSON object as config until
    /// [`with_config_schema`](Self::with_config_schema) says otherwise.
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        let key = key.into();
        Self {
            icon: key.clone(),
            key,
            widget_type: None,
            label: label.into(),
            description: String::new(),
            category: Category::Custom,
            sizes: WidgetSizes::new(4, 3),
            default_config: Value::Object(Default::default()),
            config_schema: None,
            data: DataKind::Query,
            provider: None,
            cache_ttl: None,
            default: AnyConfig::default(),
            validator: None,
        }
    }

    /// The same type described as `description`.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The same type in `category`.
    pub fn with_category(mut self, category: Category) -> Self {
        self.category = category;
        self
    }

    /// The same type with an icon name the frontend maps to a picture (the key by default).
    pub fn with_icon(mut self, icon: impl Into<String>) -> Self {
        self.icon = icon.into();
        self
    }

    /// The same type with `sizes`.
    pub fn with_sizes(mut self, sizes: WidgetSizes) -> Self {
        self.sizes = sizes;
        self
    }

    /// The same type with `config` (a JSON object) as the config of a widget created without
    /// one. It must satisfy the schema.
    pub fn with_default_config(mut self, config: Value) -> Self {
        self.default_config = config;
        self
    }

    /// The same type with its config checked against `schema`, a JSON Schema (draft 2020-12),
    /// compiled once when the type joins the catalogue.
    pub fn with_config_schema(mut self, schema: Value) -> Self {
        self.config_schema = Some(schema);
        self
    }

    /// The same type with static content only: widgets of it carry no query and have no data.
    pub fn with_static_content(mut self) -> Self {
        self.data = DataKind::None;
        self.provider = None;
        self
    }

    /// The same type with its data computed by `provider` (see
    /// `POST /dashboards/{id}/widgets/{wid}/execute`).
    pub fn with_provider(mut self, provider: impl WidgetDataProvider) -> Self {
        self.data = DataKind::Provider;
        self.provider = Some(Arc::new(provider));
        self
    }

    /// The same type with its provider's results kept in the result cache for `ttl`, per
    /// tenant and user (by default they are not cached).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = Some(ttl);
        self
    }

    /// The type.
    ///
    /// # Panics
    /// If the spec is not in a catalogue yet (a spec from [`WidgetCatalogue::get`] always is).
    pub fn widget_type(&self) -> &WidgetType {
        self.widget_type
            .as_ref()
            .expect("a spec in a catalogue has a checked key")
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The icon name.
    pub fn icon(&self) -> &str {
        &self.icon
    }

    /// The JSON Schema of the config.
    pub fn config_schema(&self) -> Option<&Value> {
        self.config_schema.as_ref()
    }

    /// The category.
    pub fn category(&self) -> Category {
        self.category
    }

    /// The sizes.
    pub fn sizes(&self) -> WidgetSizes {
        self.sizes
    }

    /// Where the data comes from.
    pub fn data(&self) -> DataKind {
        self.data
    }

    /// The config of a widget created without one, in the type's shape.
    pub fn default_config(&self) -> &AnyConfig {
        &self.default
    }

    /// The provider of a [`DataKind::Provider`] type.
    pub fn provider(&self) -> Option<&Arc<dyn WidgetDataProvider>> {
        self.provider.as_ref()
    }

    /// How long provider results are cached, if at all.
    pub fn cache_ttl(&self) -> Option<Duration> {
        self.cache_ttl
    }

    pub(crate) fn validator(&self) -> Option<&jsonschema::Validator> {
        self.validator.as_deref()
    }

    /// Checks everything and compiles the schema; `builtin` is the spec being overridden.
    fn settle(mut self, builtin: Option<&WidgetTypeSpec>) -> Result<Self, CatalogueError> {
        let widget_type = WidgetType::parse(&self.key).map_err(CatalogueError::Key)?;
        self.sizes.check(&self.key)?;
        let invalid_default = |why: String| CatalogueError::DefaultConfig {
            widget_type: self.key.clone(),
            why,
        };
        if widget_type.is_builtin() {
            if let Some(builtin) = builtin {
                if self.config_schema.is_some() || self.provider.is_some() {
                    return Err(CatalogueError::Builtin(self.key.clone()));
                }
                self.data = builtin.data;
                self.config_schema = builtin.config_schema.clone();
            }
            let config: WidgetConfig = serde_json::from_value(self.default_config.clone())
                .map_err(|e| invalid_default(e.to_string()))?;
            self.default = config.into();
        } else {
            let Value::Object(map) = &self.default_config else {
                return Err(invalid_default("it is not a JSON object".to_owned()));
            };
            if let Some(schema) = &self.config_schema {
                let validator =
                    jsonschema::draft202012::new(schema).map_err(|e| CatalogueError::Schema {
                        widget_type: self.key.clone(),
                        why: e.to_string(),
                    })?;
                if let Some(err) = validator.iter_errors(&self.default_config).next() {
                    return Err(invalid_default(format!(
                        "at '{}': {err}",
                        err.instance_path()
                    )));
                }
                self.validator = Some(Arc::new(validator));
            }
            self.default = AnyConfig::Json(map.clone());
        }
        self.widget_type = Some(widget_type);
        Ok(self)
    }

    /// What `GET /widget-types` lists for this type.
    pub fn info(&self) -> WidgetTypeInfo<'_> {
        WidgetTypeInfo {
            widget_type: self.widget_type().as_str(),
            label: &self.label,
            description: &self.description,
            category: self.category,
            icon: &self.icon,
            builtin: self.widget_type().is_builtin(),
            data: self.data,
            sizes: self.sizes,
            default_config: &self.default,
            config_schema: self.config_schema.as_ref(),
        }
    }
}

impl fmt::Debug for WidgetTypeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WidgetTypeSpec")
            .field("key", &self.key)
            .field("label", &self.label)
            .field("category", &self.category)
            .field("sizes", &self.sizes)
            .field("data", &self.data)
            .field("has_schema", &self.config_schema.is_some())
            .finish_non_exhaustive()
    }
}

/// One entry of `GET /widget-types`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetTypeInfo<'a> {
    /// The key widgets carry in `type`.
    #[serde(rename = "type")]
    pub widget_type: &'a str,
    /// Label.
    pub label: &'a str,
    /// Description.
    pub description: &'a str,
    /// Category.
    pub category: Category,
    /// Icon name.
    pub icon: &'a str,
    /// Whether it is one of the eight built-in types.
    pub builtin: bool,
    /// Where its data comes from.
    pub data: DataKind,
    /// Sizes in grid units.
    #[serde(flatten)]
    pub sizes: WidgetSizes,
    /// The config of a widget created without one.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub default_config: &'a AnyConfig,
    /// The JSON Schema its config satisfies.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub config_schema: Option<&'a Value>,
}

/// Decides which widget types a caller may use (plans, entitlements, roles). A type a caller
/// may not use is not listed to them, and any write of a widget of that type is refused.
///
/// Any `Fn(&dyn AuthContext, &WidgetType) -> bool` is one.
pub trait WidgetTypeAccess: Send + Sync + 'static {
    /// Whether `auth` may use `widget_type`.
    fn may_use(&self, auth: &dyn AuthContext, widget_type: &WidgetType) -> bool;
}

impl<F> WidgetTypeAccess for F
where
    F: Fn(&dyn AuthContext, &WidgetType) -> bool + Send + Sync + 'static,
{
    fn may_use(&self, auth: &dyn AuthContext, widget_type: &WidgetType) -> bool {
        self(auth, widget_type)
    }
}

/// Why a type cannot join a [`WidgetCatalogue`]: a mistake in the host's code, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The key is not a snake_case key.
    #[error("{0}")]
    Key(String),
    /// The key is already registered.
    #[error("widget type '{0}' is registered twice")]
    Duplicate(String),
    /// A built-in type was given a schema or provider; only its label, description, icon,
    /// category, sizes and default config can change.
    #[error(
        "widget type '{0}' is built in: only its label, description, icon, category, sizes \
         and default config can be changed"
    )]
    Builtin(String),
    /// Sizes that contradict each other.
    #[error("widget type '{widget_type}': {why}")]
    Sizes {
        /// The type.
        widget_type: String,
        /// What is wrong.
        why: String,
    },
    /// A schema that does not compile.
    #[error("widget type '{widget_type}': the config schema is not a valid JSON Schema: {why}")]
    Schema {
        /// The type.
        widget_type: String,
        /// What the compiler said.
        why: String,
    },
    /// A default config the type's own rules refuse.
    #[error("widget type '{widget_type}': the default config is invalid: {why}")]
    DefaultConfig {
        /// The type.
        widget_type: String,
        /// What is wrong.
        why: String,
    },
}

/// Every widget type an [`Engine`](crate::Engine) knows, and who may use which.
#[derive(Clone)]
pub struct WidgetCatalogue {
    types: BTreeMap<WidgetType, WidgetTypeSpec>,
    order: Vec<WidgetType>,
    access: Option<Arc<dyn WidgetTypeAccess>>,
}

impl Default for WidgetCatalogue {
    fn default() -> Self {
        Self::new()
    }
}

impl WidgetCatalogue {
    /// The eight built-in types with their documented sizes (see the `widget-types` guide).
    pub fn new() -> Self {
        let mut catalogue = Self {
            types: BTreeMap::new(),
            order: Vec::new(),
            access: None,
        };
        for spec in builtin::specs() {
            let spec = spec.settle(None).expect("the built-in types are valid");
            catalogue.order.push(spec.widget_type().clone());
            catalogue.types.insert(spec.widget_type().clone(), spec);
        }
        catalogue
    }

    /// The catalogue with `spec` added, or, when its key is a built-in type's, with that type's
    /// label, description, icon, category, sizes and default config replaced.
    pub fn with_type(mut self, spec: WidgetTypeSpec) -> Result<Self, CatalogueError> {
        self.add(spec)?;
        Ok(self)
    }

    /// Adds `spec` as [`with_type`](Self::with_type) does.
    pub fn add(&mut self, spec: WidgetTypeSpec) -> Result<(), CatalogueError> {
        let widget_type = WidgetType::parse(&spec.key).map_err(CatalogueError::Key)?;
        if widget_type.is_builtin() {
            let builtin = &self.types[&widget_type];
            let spec = spec.settle(Some(builtin))?;
            self.types.insert(widget_type, spec);
            return Ok(());
        }
        if self.types.contains_key(&widget_type) {
            return Err(CatalogueError::Duplicate(spec.key));
        }
        let spec = spec.settle(None)?;
        self.order.push(widget_type.clone());
        self.types.insert(widget_type, spec);
        Ok(())
    }

    /// The catalogue with `access` deciding which types each caller may use.
    pub fn with_access(mut self, access: impl WidgetTypeAccess) -> Self {
        self.access = Some(Arc::new(access));
        self
    }

    /// Sets the hook of [`with_access`](Self::with_access).
    pub fn set_access(&mut self, access: impl WidgetTypeAccess) {
        self.access = Some(Arc::new(access));
    }

    /// The spec of `widget_type`, whoever asks.
    pub fn get(&self, widget_type: &WidgetType) -> Option<&WidgetTypeSpec> {
        self.types.get(widget_type)
    }

    /// Every type, built-in types first, then the host's in the order they were added.
    pub fn types(&self) -> impl Iterator<Item = &WidgetTypeSpec> {
        self.order.iter().map(|t| &self.types[t])
    }

    /// Whether `auth` may use `widget_type`.
    pub fn may_use(&self, auth: &dyn AuthContext, widget_type: &WidgetType) -> bool {
        self.types.contains_key(widget_type)
            && self
                .access
                .as_ref()
                .is_none_or(|access| access.may_use(auth, widget_type))
    }

    /// The spec of `widget_type` if `auth` may use it.
    pub fn usable(
        &self,
        auth: &dyn AuthContext,
        widget_type: &WidgetType,
    ) -> Option<&WidgetTypeSpec> {
        self.may_use(auth, widget_type)
            .then(|| &self.types[widget_type])
    }

    /// `config` checked as the Engine checks it on a write of a widget of `widget_type`
    /// (whoever the caller): in the type's shape, its default when `None`; every problem
    /// located from the config (`loc` starts with `"config"`).
    pub fn check_config(
        &self,
        widget_type: &WidgetType,
        config: Option<AnyConfig>,
    ) -> Result<AnyConfig, WidgetProblems> {
        let mut checker = Checker::new(self, None);
        let config = checker
            .spec(&[], widget_type)
            .and_then(|spec| checker.config(&[], spec, config));
        checker.finish()?;
        Ok(config.expect("a config without problems"))
    }

    /// The types `auth` may use, in catalogue order.
    pub fn usable_types<'a>(
        &'a self,
        auth: &'a dyn AuthContext,
    ) -> impl Iterator<Item = &'a WidgetTypeSpec> + 'a {
        self.types()
            .filter(move |spec| self.may_use(auth, spec.widget_type()))
    }
}

impl fmt::Debug for WidgetCatalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WidgetCatalogue")
            .field("types", &self.order)
            .field("access", &self.access.as_ref().map(|_| "<hook>"))
            .finish()
    }
}
