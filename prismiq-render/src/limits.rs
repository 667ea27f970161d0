//! How much of a result a picture draws. Results are already bounded by the Engine's row
//! limit; these bounds keep every picture readable and its size and drawing time small
//! whatever the data.

/// Bars (categories) of a bar chart; the rest are left out and the chart says so.
pub const MAX_BARS: usize = 200;
/// Points per series of a line, area or scatter chart.
pub const MAX_POINTS: usize = 5_000;
/// Series of a chart (a config's `max_series` can only lower it).
pub const MAX_SERIES: usize = 20;
/// Slices of a pie; smaller ones are summed into "Other".
pub const MAX_SLICES: usize = 12;
/// Rows a table draws (fewer when they do not fit its height).
pub const MAX_TABLE_ROWS: usize = 100;
/// Columns a table draws.
pub const MAX_TABLE_COLUMNS: usize = 12;
/// Characters of a text widget's content that are rendered.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Width and height bounds of a widget picture, in pixels.
pub const WIDGET_SIZE: std::ops::RangeInclusive<u32> = 100..=4_000;
/// Width bounds of a dashboard picture, in pixels.
pub const DASHBOARD_WIDTH: std::ops::RangeInclusive<u32> = 400..=4_000;
/// The tallest dashboard picture, in pixels: a taller dashboard is cut there (the PDF pages
/// it instead).
pub const DASHBOARD_MAX_HEIGHT: u32 = 16_000;
