//! Checking widgets against the catalogue: type, config and size, with every problem located
//! in the request body.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::{WidgetCatalogue, WidgetTypeSpec};
use crate::auth::AuthContext;
use crate::model::{AnyConfig, WidgetConfig, WidgetPosition, WidgetType};

/// One step of a location in a request body: a key or an index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A key of an object.
    Key(String),
    /// An index of an array.
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        Self::Key(key.to_owned())
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        Self::Index(index)
    }
}

/// Which rule of the catalogue a widget breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidgetProblemKind {
    /// A type that does not exist or that the caller may not use; `allowed` lists those they
    /// may.
    Type {
        /// The types the caller may use.
        allowed: Vec<String>,
    },
    /// A config that breaks the type's schema (or, for a built-in type, the 34-key config).
    Config {
        /// JSON pointer of the offending value within the config (`""` for the config itself).
        pointer: String,
        /// Whether the type is built in: the problem is then the one reading the 34-key
        /// config reports (its message is that reader's, as for any other field of a body).
        builtin: bool,
    },
    /// A width or height outside the type's bounds.
    Size {
        /// The bound: `min_w`, `max_w`, `min_h` or `max_h`.
        bound: &'static str,
        /// Its value.
        limit: u32,
    },
    /// Two widgets that cover the same cells (only when overlaps are refused).
    Overlap {
        /// The title of the other widget.
        other: String,
    },
}

impl WidgetProblemKind {
    /// The code of the problem, as the `type` of a 422 item: `enum` (as for any value
    /// outside a fixed set), `widget_config`, `widget_size` or `widget_overlap`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Type { .. } => "enum",
            Self::Config { .. } => "widget_config",
            Self::Size { .. } => "widget_size",
            Self::Overlap { .. } => "widget_overlap",
        }
    }
}

/// A widget that breaks a rule of the catalogue, located in the request body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WidgetProblem {
    /// Where, from the body's root (`["widgets", 2, "config", "max"]`).
    pub loc: Vec<PathSegment>,
    /// Which rule.
    pub kind: WidgetProblemKind,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The offending value.
    pub input: Value,
}

/// Every problem of a write's widgets: an [`EngineError::InvalidWidgets`](crate::EngineError).
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetProblems(pub Vec<WidgetProblem>);

impl fmt::Display for WidgetProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&problem.message)?;
        }
        Ok(())
    }
}

/// Collects the problems of one write's widgets.
pub(crate) struct Checker<'a> {
    catalogue: &'a WidgetCatalogue,
    /// The caller, whose access to types is checked; `None` checks the types only.
    auth: Option<&'a dyn AuthContext>,
    problems: Vec<WidgetProblem>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(catalogue: &'a WidgetCatalogue, auth: Option<&'a dyn AuthContext>) -> Self {
        Self {
            catalogue,
            auth,
            problems: Vec::new(),
        }
    }

    /// The spec of `widget_type` when the caller may use it; otherwise a problem at `at.type`.
    pub(crate) fn spec(
        &mut self,
        at: &[PathSegment],
        widget_type: &WidgetType,
    ) -> Option<&'a WidgetTypeSpec> {
        let spec = match self.auth {
            Some(auth) => self.catalogue.usable(auth, widget_type),
            None => self.catalogue.get(widget_type),
        };
        if spec.is_none() {
            let allowed: Vec<String> = self
                .catalogue
                .types()
                .filter(|s| {
                    self.auth
                        .is_none_or(|auth| self.catalogue.may_use(auth, s.widget_type()))
                })
                .map(|s| s.widget_type().as_str().to_owned())
                .collect();
            self.problems.push(WidgetProblem {
                loc: located(at, ["type".into()]),
                message: format!(
                    "Widget type '{widget_type}' is not available; allowed types: {}",
                    allowed.join(", ")
                ),
                kind: WidgetProblemKind::Type { allowed },
                input: Value::String(widget_type.to_string()),
            });
        }
        spec
    }

    /// `config` in the shape of `spec`'s type, checked (its default config when `None`);
    /// `None` with the problems recorded when it breaks the rules.
    pub(crate) fn config(
        &mut self,
        at: &[PathSegment],
        spec: &WidgetTypeSpec,
        config: Option<AnyConfig>,
    ) -> Option<AnyConfig> {
        let config = match config {
            None => return Some(spec.default_config().clone()),
            Some(config) => config,
        };
        let at = located(at, ["config".into()]);
        if spec.widget_type().is_builtin() {
            return match config {
                AnyConfig::Json(map) => {
                    let value = Value::Object(map);
                    match serde_path_to_error::deserialize::<_, WidgetConfig>(&value) {
                        Ok(config) => Some(config.into()),
                        Err(err) => {
                            let path: Vec<PathSegment> = err
                                .path()
                                .iter()
                                .filter_map(|segment| match segment {
                                    serde_path_to_error::Segment::Map { key } => {
                                        Some(PathSegment::Key(key.clone()))
                                    }
                                    serde_path_to_error::Segment::Seq { index } => {
                                        Some(PathSegment::Index(*index))
                                    }
                                    _ => None,
                                })
                                .collect();
                            let input = pointed(&value, &path);
                            self.problems.push(WidgetProblem {
                                message: err.inner().to_string(),
                                kind: WidgetProblemKind::Config {
                                    pointer: pointer(&path),
                                    builtin: true,
                                },
                                loc: located(&at, path),
                                input,
                            });
                            None
                        }
                    }
                }
                builtin @ AnyConfig::Builtin(_) => Some(builtin),
            };
        }
        let value = match config {
            AnyConfig::Json(map) => Value::Object(map),
            builtin @ AnyConfig::Builtin(_) => builtin.to_value(),
        };
        if let Some(validator) = spec.validator() {
            let before = self.problems.len();
            for err in validator.iter_errors(&value) {
                let pointer = err.instance_path().to_string();
                let path = path_of(&value, &pointer);
                self.problems.push(WidgetProblem {
                    message: format!(
                        "config{} breaks the schema of widget type '{}': {}",
                        dotted(&path),
                        spec.widget_type(),
                        err.masked()
                    ),
                    input: err.instance().clone().into_owned(),
                    kind: WidgetProblemKind::Config {
                        pointer,
                        builtin: false,
                    },
                    loc: located(&at, path),
                });
            }
            if self.problems.len() > before {
                return None;
            }
        }
        match value {
            Value::Object(map) => Some(AnyConfig::Json(map)),
            _ => unreachable!("a config is an object"),
        }
    }

    /// Records a problem for each bound of `spec` that `position` (at `at.position`) breaks.
    pub(crate) fn size(
        &mut self,
        at: &[PathSegment],
        spec: &WidgetTypeSpec,
        position: &WidgetPosition,
    ) {
        let sizes = spec.sizes();
        let checks = [
            ("w", "min_w", position.w, Some(sizes.min_w), true),
            ("w", "max_w", position.w, sizes.max_w, false),
            ("h", "min_h", position.h, Some(sizes.min_h), true),
            ("h", "max_h", position.h, sizes.max_h, false),
        ];
        for (field, bound, value, limit, is_min) in checks {
            let Some(limit) = limit else { continue };
            let broken = if is_min { value < limit } else { value > limit };
            if broken {
                self.problems.push(WidgetProblem {
                    loc: located(at, ["position".into(), field.into()]),
                    message: format!(
                        "position.{field} ({value}) is {} {bound} ({limit}) of widget type '{}'",
                        if is_min { "below" } else { "above" },
                        spec.widget_type()
                    ),
                    kind: WidgetProblemKind::Size { bound, limit },
                    input: Value::from(value),
                });
            }
        }
    }

    /// Records that the widget at `at` overlaps `other`.
    pub(crate) fn overlap(
        &mut self,
        at: &[PathSegment],
        title: &str,
        other: &str,
        position: &WidgetPosition,
    ) {
        self.problems.push(WidgetProblem {
            loc: located(at, ["position".into()]),
            message: format!("Widget '{title}' overlaps widget '{other}'"),
            kind: WidgetProblemKind::Overlap {
                other: other.to_owned(),
            },
            input: serde_json::to_value(position).unwrap_or_default(),
        });
    }

    /// `Ok` when nothing was recorded, else every problem.
    pub(crate) fn finish(self) -> Result<(), WidgetProblems> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(WidgetProblems(self.problems))
        }
    }
}

/// Whether two rectangles share a cell.
pub(crate) fn overlaps(a: &WidgetPosition, b: &WidgetPosition) -> bool {
    let (ax, ay, bx, by) = (
        u64::from(a.x),
        u64::from(a.y),
        u64::from(b.x),
        u64::from(b.y),
    );
    ax < bx + u64::from(b.w)
        && bx < ax + u64::from(a.w)
        && ay < by + u64::from(b.h)
        && by < ay + u64::from(a.h)
}

fn located(at: &[PathSegment], more: impl IntoIterator<Item = PathSegment>) -> Vec<PathSegment> {
    at.iter().cloned().chain(more).collect()
}

/// The steps of a JSON pointer into `root`: indexes where the value there is an array.
fn path_of(root: &Value, pointer: &str) -> Vec<PathSegment> {
    let mut node = root;
    let mut path = Vec::new();
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Value::Array(items) => {
                let index = key.parse().unwrap_or(usize::MAX);
                node = items.get(index).unwrap_or(&Value::Null);
                path.push(PathSegment::Index(index));
            }
            _ => {
                node = node.get(&key).unwrap_or(&Value::Null);
                path.push(PathSegment::Key(key));
            }
        }
    }
    path
}

fn pointed(root: &Value, path: &[PathSegment]) -> Value {
    let mut at = root;
    for segment in path {
        let next = match segment {
            PathSegment::Key(key) => at.get(key),
            PathSegment::Index(index) => at.get(index),
        };
        match next {
            Some(value) => at = value,
            None => return Value::Null,
        }
    }
    at.clone()
}

fn pointer(path: &[PathSegment]) -> String {
    path.iter()
        .map(|segment| match segment {
            PathSegment::Key(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
            PathSegment::Index(index) => format!("/{index}"),
        })
        .collect()
}

fn dotted(path: &[PathSegment]) -> String {
    path.iter()
        .map(|segment| match segment {
            PathSegment::Key(key) => format!(".{key}"),
            PathSegment::Index(index) => format!("[{index}]"),
        })
        .collect()
}
