//! Reading a query result the way a chart needs it: which column is the x axis, which are
//! values, how each is labelled, and the series to draw.

use std::collections::HashMap;

use prismiq_core::{QueryResult, WidgetConfig};
use serde_json::Value;

use crate::font;
use crate::format::{DateFormat, Moment, NumberFormat, number};
use crate::limits;
use crate::theme::{Palette, safe_color};

/// What a category label says for a missing value (never "null").
pub(crate) const EMPTY_LABEL: &str = "(empty)";

/// A result, and how the widget's config says to read it.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) result: &'a QueryResult,
    pub(crate) config: &'a WidgetConfig,
}

impl<'a> Frame<'a> {
    pub(crate) fn new(result: &'a QueryResult, config: &'a WidgetConfig) -> Self {
        Self { result, config }
    }

    pub(crate) fn rows(&self) -> &'a [Vec<Value>] {
        &self.result.rows
    }

    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.result.columns.iter().position(|c| c == name)
    }

    pub(crate) fn cell(&self, row: usize, column: usize) -> &'a Value {
        self.result.rows[row].get(column).unwrap_or(&Value::Null)
    }

    /// Whether a column holds numbers: by its type, or else by every non-null value of the
    /// first rows.
    pub(crate) fn is_numeric(&self, column: usize) -> bool {
        let declared = self
            .result
            .column_types
            .get(column)
            .map(|t| t.to_ascii_lowercase())
            .unwrap_or_default();
        if [
            "int", "numeric", "decimal", "float", "double", "real", "number",
        ]
        .iter()
        .any(|n| declared.contains(n))
        {
            return true;
        }
        if ["char", "text", "date", "time", "bool", "uuid", "json"]
            .iter()
            .any(|n| declared.contains(n))
        {
            return false;
        }
        let mut seen = false;
        for row in self.result.rows.iter().take(50) {
            match row.get(column) {
                None | Some(Value::Null) => {}
                Some(Value::Number(_)) => seen = true,
                Some(_) => return false,
            }
        }
        seen
    }

    /// The x axis: the config's `x_axis` when the result has it, else the first column that is
    /// not numeric, else the first column.
    pub(crate) fn x_column(&self) -> usize {
        self.config
            .x_axis
            .as_deref()
            .and_then(|name| self.column(name))
            .or_else(|| (0..self.result.columns.len()).find(|&c| !self.is_numeric(c)))
            .unwrap_or(0)
    }

    /// The value columns: the config's `y_axis` that the result has, else every numeric
    /// column but `x` and the series column.
    pub(crate) fn y_columns(&self, x: usize) -> Vec<usize> {
        let named: Vec<usize> = self
            .config
            .y_axis
            .iter()
            .flatten()
            .filter_map(|name| self.column(name))
            .collect();
        if !named.is_empty() {
            return named;
        }
        let series = self.series_column();
        (0..self.result.columns.len())
            .filter(|&c| c != x && Some(c) != series && self.is_numeric(c))
            .collect()
    }

    pub(crate) fn series_column(&self) -> Option<usize> {
        self.config
            .series_column
            .as_deref()
            .and_then(|name| self.column(name))
    }

    /// How the values of `column` are written.
    pub(crate) fn labeller(&self, column: usize) -> Labeller {
        let name = &self.result.columns[column];
        if let Some(pattern) = self.config.date_formats.as_ref().and_then(|f| f.get(name)) {
            return Labeller::Date(DateFormat::pattern(pattern));
        }
        if let Some(entry) = self
            .config
            .column_formats
            .as_ref()
            .and_then(|f| f.get(name))
        {
            return Labeller::Number(NumberFormat::from_entry(entry));
        }
        let moments: Vec<Moment> = self
            .result
            .rows
            .iter()
            .take(limits::MAX_POINTS)
            .filter_map(|row| match row.get(column) {
                Some(Value::String(s)) => Some(Moment::parse(s)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        if !moments.is_empty() {
            return Labeller::Date(DateFormat::auto(moments.iter()));
        }
        if self.is_numeric(column) {
            return Labeller::Number(NumberFormat::default());
        }
        Labeller::Text
    }

    /// The format of the widget's values (`valueFormat` and its companions).
    pub(crate) fn value_format(&self) -> NumberFormat {
        NumberFormat::new(
            self.config.value_format.as_deref(),
            self.config.currency_symbol.as_deref(),
            self.config.compact_notation.as_deref(),
            self.config.decimal_digits,
        )
    }

    /// The colour of series `i`: the config's `colors[i]` when it is a plain colour, else the
    /// theme's.
    pub(crate) fn color(&self, palette: &Palette, i: usize) -> String {
        self.config
            .colors
            .as_ref()
            .and_then(|colors| colors.get(i))
            .and_then(|c| safe_color(c))
            .unwrap_or(palette.series[i % palette.series.len()])
            .to_owned()
    }

    /// Categories along `x` and one series per value column — or, with a `series_column`, one
    /// per distinct value of it (the first `max_series`, at most [`limits::MAX_SERIES`]).
    /// At most `max_categories` categories are kept.
    pub(crate) fn series(&self, palette: &Palette, max_categories: usize) -> SeriesSet {
        let x = self.x_column();
        let ys = self.y_columns(x);
        let x_labels = self.labeller(x);
        let mut set = SeriesSet::default();
        let Some(&first_y) = ys.first() else {
            return set;
        };
        let max_series = self.config.max_series.map_or(limits::MAX_SERIES, |m| {
            (m.max(1) as usize).min(limits::MAX_SERIES)
        });
        if let Some(split) = self.series_column() {
            let split_labels = self.labeller(split);
            let mut categories: HashMap<String, usize> = HashMap::new();
            let mut series: HashMap<String, usize> = HashMap::new();
            for row in 0..self.rows().len() {
                let category = x_labels.label(self.cell(row, x));
                let name = split_labels.label(self.cell(row, split));
                let c = match categories.get(&category) {
                    Some(&c) => c,
                    None if set.categories.len() < max_categories => {
                        set.categories.push(category.clone());
                        categories.insert(category, set.categories.len() - 1);
                        for s in &mut set.series {
                            s.values.push(None);
                        }
                        set.categories.len() - 1
                    }
                    None => {
                        set.dropped_categories = true;
                        continue;
                    }
                };
                let s = match series.get(&name) {
                    Some(&s) => s,
                    None if set.series.len() < max_series => {
                        let color = self.color(palette, set.series.len());
                        set.series.push(Series {
                            name: name.clone(),
                            color,
                            values: vec![None; set.categories.len()],
                        });
                        series.insert(name, set.series.len() - 1);
                        set.series.len() - 1
                    }
                    None => {
                        set.dropped_series = true;
                        continue;
                    }
                };
                set.series[s].values[c] = number(self.cell(row, first_y));
            }
            return set;
        }
        let rows = self.rows().len().min(max_categories);
        set.dropped_categories = self.rows().len() > rows;
        set.categories = (0..rows)
            .map(|row| x_labels.label(self.cell(row, x)))
            .collect();
        for (i, &y) in ys.iter().take(max_series).enumerate() {
            set.series.push(Series {
                name: font::clip(&self.result.columns[y]).into_owned(),
                color: self.color(palette, i),
                values: (0..rows).map(|row| number(self.cell(row, y))).collect(),
            });
        }
        set.dropped_series = ys.len() > max_series;
        set
    }
}

/// How one column's values become text.
#[derive(Debug, Clone)]
pub(crate) enum Labeller {
    Date(DateFormat),
    Number(NumberFormat),
    Text,
}

impl Labeller {
    /// `value` as a label: `(empty)` for null, dates and numbers formatted, text as it is
    /// (cut to [`font::MAX_CHARS`]).
    pub(crate) fn label(&self, value: &Value) -> String {
        self.write(value, EMPTY_LABEL)
    }

    /// `value` as a table cell: like [`label`](Self::label), with nothing for null.
    pub(crate) fn cell(&self, value: &Value) -> String {
        self.write(value, "")
    }

    fn write(&self, value: &Value, null: &str) -> String {
        match (self, value) {
            (_, Value::Null) => null.to_owned(),
            (Self::Date(format), Value::String(s)) => match Moment::parse(s) {
                Some(m) => format.format(&m),
                None => font::clip(s).into_owned(),
            },
            (Self::Number(format), v) => match number(v) {
                Some(n) => format.format(n),
                None => text(v),
            },
            (_, v) => text(v),
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => font::clip(s).into_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => font::clip(&other.to_string()).into_owned(),
    }
}

/// Categories and the series over them.
#[derive(Debug, Default)]
pub(crate) struct SeriesSet {
    pub(crate) categories: Vec<String>,
    pub(crate) series: Vec<Series>,
    /// Whether categories beyond the limit were left out.
    pub(crate) dropped_categories: bool,
    /// Whether series beyond the limit were left out.
    pub(crate) dropped_series: bool,
}

impl SeriesSet {
    pub(crate) fn is_empty(&self) -> bool {
        self.categories.is_empty()
            || self
                .series
                .iter()
                .all(|s| s.values.iter().all(Option::is_none))
    }
}

/// One named line of values, one per category (`None` where there is none).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) color: String,
    pub(crate) values: Vec<Option<f64>>,
}
