//! Files of exported rows: CSV (RFC 4180), NDJSON and XLSX, written from an [`Export`] as its
//! rows arrive.
//!
//! - **CSV**: a header of the column names, then one record per row, each ended by CRLF. `NULL` is an empty field,
//!   dates and timestamps are ISO 8601 as the database gives them, numbers as written, JSON
//!   values as JSON text. A text field that a spreadsheet would take for a formula (it starts
//!   with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`, unless
//!   [`CsvOptions::escape_formulas`] is off; numbers are never changed. An optional UTF-8 byte
//!   order mark makes Excel read the file as UTF-8. When the query has more rows than the
//!   export cap, the file ends with one more record whose first field says so.
//! - **NDJSON**: one JSON object per row, keyed by column name (a repeated name gets `_2`,
//!   `_3`, …). Past the cap, a last line `{"truncated": true, "max_rows": N}`.
//! - **XLSX**: one sheet with a bold header row, written in constant memory (rows go to a
//!   temporary file as they come): numbers as numbers, booleans as booleans, `date` columns as
//!   dates and timestamp columns as date-times (UTC), text as text (never as a formula). The
//!   sheet holds at most 1,048,575 rows under its header; the file is finished before the first
//!   byte is sent, so a query with more rows than fit (or than the cap) is refused with a `422`
//!   naming `max_export_rows`, never cut silently.
//!
//! CSV and NDJSON stream: an error after the first byte (the database failing mid-export)
//! aborts the response, so a client sees an incomplete transfer, never a file that looks whole.

use std::io::{Seek, SeekFrom, Write};
use std::str::FromStr;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use prismiq_core::{EngineError, Export, ExportChunk, Limit};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde_json::{Map, Value};

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportFormat {
    /// Comma-separated values, RFC 4180.
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// An Excel workbook.
    Xlsx,
}

impl ExportFormat {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
            Self::Xlsx => "xlsx",
        }
    }

    /// The media type of the response.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(Self::Csv),
            "ndjson" => Ok(Self::Ndjson),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(format!(
                "unknown export format '{}': one of csv, ndjson, xlsx",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvOptions {
    /// Starts the file with a UTF-8 byte order mark, for Excel (off by default).
    pub bom: bool,
    /// Prefixes text that a spreadsheet would run as a formula with `'` (on by default).
    pub escape_formulas: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            bom: false,
            escape_formulas: true,
        }
    }
}

/// The most rows a sheet holds under its header row.
pub const XLSX_MAX_ROWS: u64 = 1_048_575;

/// The most characters Excel keeps in one cell.
const XLSX_MAX_CELL_CHARS: usize = 32_767;

/// A body's chunks: bytes, or the error that aborts the response.
pub type Chunks = BoxStream<'static, Result<Bytes, std::io::Error>>;

fn abort(err: EngineError) -> std::io::Error {
    tracing::warn!(error = %err, "an export failed after its first byte");
    std::io::Error::other(err.to_string())
}

/// Whether a spreadsheet would take `text` for a formula.
fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A cell as CSV text.
fn csv_field(value: &Value, escape_formulas: bool) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::Bool(b) => return b.to_string(),
        Value::Number(n) => return n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if escape_formulas && looks_like_formula(&text) {
        format!("'{text}")
    } else {
        text
    }
}

/// Writes records into a buffer.
fn csv_records<'a>(
    records: impl Iterator<Item = Vec<String>> + 'a,
) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * 1024));
    for record in records {
        writer
            .write_record(&record)
            .map_err(std::io::Error::other)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The CSV file of an export, as body chunks.
pub fn csv_chunks(export: Export, options: CsvOptions) -> Chunks {
    let escape = options.escape_formulas;
    let width = export.columns.len();
    let mut head = if options.bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    let header: Vec<String> = export
        .columns
        .iter()
        .map(|name| csv_field(&Value::String(name.clone()), escape))
        .collect();
    let header = csv_records(std::iter::once(header)).map(|bytes| {
        head.extend_from_slice(&bytes);
        Bytes::from(head)
    });
    let rows = export.map(move |chunk| match chunk {
        Ok(ExportChunk::Rows(rows)) => csv_records(
            rows.iter()
                .map(|row| row.iter().map(|v| csv_field(v, escape)).collect()),
        ),
        Ok(ExportChunk::Truncated { max_rows }) => {
            let mut notice = vec![String::new(); width.max(1)];
            notice[0] = format!(
                "TRUNCATED: the query has more than {max_rows} rows; this file has the first \
                 {max_rows} (max_export_rows)"
            );
            csv_records(std::iter::once(notice))
        }
        Ok(_) => Ok(Bytes::new()),
        Err(err) => Err(abort(err)),
    });
    stream::once(async move { header }).chain(rows).boxed()
}

/// Object keys for `columns`: a repeated name gets `_2`, `_3`, ….
fn object_keys(columns: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(columns.len());
    for name in columns {
        let mut key = name.clone();
        let mut n = 1;
        while keys.contains(&key) {
            n += 1;
            key = format!("{name}_{n}");
        }
        keys.push(key);
    }
    keys
}

/// The NDJSON file of an export, as body chunks.
pub fn ndjson_chunks(export: Export) -> Chunks {
    let keys = object_keys(&export.columns);
    export
        .map(move |chunk| match chunk {
            Ok(ExportChunk::Rows(rows)) => {
                let mut out = Vec::with_capacity(rows.len() * 64);
                for row in rows {
                    let object: Map<String, Value> = keys.iter().cloned().zip(row).collect();
                    serde_json::to_writer(&mut out, &object).map_err(std::io::Error::other)?;
                    out.push(b'\n');
                }
                Ok(Bytes::from(out))
            }
            Ok(ExportChunk::Truncated { max_rows }) => Ok(Bytes::from(format!(
                "{{\"truncated\":true,\"max_rows\":{max_rows}}}\n"
            ))),
            Ok(_) => Ok(Bytes::new()),
            Err(err) => Err(abort(err)),
        })
        .boxed()
}

/// How a column's values go into a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    Date,
    DateTime,
    Other,
}

impl CellKind {
    fn of(column_type: &str) -> Self {
        let t = column_type.to_ascii_lowercase();
        if t == "date" {
            Self::Date
        } else if t.starts_with("timestamp") || t == "datetime" {
            Self::DateTime
        } else {
            Self::Other
        }
    }
}

/// A date or timestamp as the database gives it, as a spreadsheet date.
fn excel_date(text: &str, kind: CellKind) -> Option<ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let at = match kind {
        CellKind::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?,
        CellKind::DateTime => chrono::DateTime::parse_from_rfc3339(text)
            .map(|at| at.naive_utc())
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
            .ok()?,
        CellKind::Other => return None,
    };
    let date = ExcelDateTime::from_ymd(
        u16::try_from(at.year()).ok()?,
        u8::try_from(at.month()).ok()?,
        u8::try_from(at.day()).ok()?,
    )
    .ok()?;
    date.and_hms_milli(
        u16::try_from(at.hour()).ok()?,
        u8::try_from(at.minute()).ok()?,
        u8::try_from(at.second()).ok()?,
        u16::try_from(at.nanosecond() / 1_000_000).ok()?.min(999),
    )
    .ok()
}

/// Text cut to what one cell holds.
fn cell_text(text: &str) -> &str {
    match text.char_indices().nth(XLSX_MAX_CELL_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Writes the sheet in a blocking thread from the batches it receives, and saves the workbook
/// to a temporary file.
struct SheetWriter {
    workbook: Workbook,
    kinds: Vec<CellKind>,
    date: Format,
    datetime: Format,
    next_row: u32,
}

impl SheetWriter {
    fn new(columns: &[String], types: &[String]) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        for (col, name) in columns.iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)?;
            sheet.write_string_with_format(0, col, cell_text(name), &bold)?;
        }
        Ok(Self {
            workbook,
            kinds: types.iter().map(|t| CellKind::of(t)).collect(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            next_row: 1,
        })
    }

    fn rows(&mut self, rows: &[Vec<Value>]) -> Result<(), XlsxError> {
        let sheet = self.workbook.worksheet_from_index(0)?;
        for row in rows {
            let r = self.next_row;
            self.next_row += 1;
            for (col, value) in row.iter().enumerate() {
                let c = u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)?;
                let kind = self.kinds.get(col).copied().unwrap_or(CellKind::Other);
                match value {
                    Value::Null => {}
                    Value::Bool(b) => {
                        sheet.write_boolean(r, c, *b)?;
                    }
                    Value::Number(n) => match n.as_f64() {
                        Some(f) => {
                            sheet.write_number(r, c, f)?;
                        }
                        None => {
                            sheet.write_string(r, c, n.to_string())?;
                        }
                    },
                    Value::String(s) => match excel_date(s, kind) {
                        Some(at) if kind == CellKind::Date => {
                            sheet.write_datetime_with_format(r, c, &at, &self.date)?;
                        }
                        Some(at) => {
                            sheet.write_datetime_with_format(r, c, &at, &self.datetime)?;
                        }
                        None => {
                            sheet.write_string(r, c, cell_text(s))?;
                        }
                    },
                    other => {
                        sheet.write_string(r, c, cell_text(&other.to_string()))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<std::fs::File, XlsxError> {
        let mut file = tempfile::tempfile()?;
        {
            let mut out = std::io::BufWriter::new(&mut file);
            self.workbook.save_to_writer(&mut out)?;
            out.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

fn xlsx_failed(err: &dyn std::fmt::Display) -> EngineError {
    tracing::error!(error = %err, "could not write a spreadsheet");
    EngineError::Source(prismiq_core::SourceError::Backend(
        format!("could not write the spreadsheet: {err}").into(),
    ))
}

/// The XLSX file of an export, whole, in a temporary file (deleted when closed): every row is
/// written before anything is sent. More rows than a sheet (or the cap) holds is
/// [`EngineError::LimitExceeded`] naming `max_export_rows`.
pub async fn xlsx_file(export: Export) -> Result<std::fs::File, EngineError> {
    let mut export = export.with_max_rows(XLSX_MAX_ROWS);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Vec<Value>>>(2);
    let columns = export.columns.clone();
    let types = export.column_types.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let mut sheet = SheetWriter::new(&columns, &types)?;
        while let Some(rows) = receiver.blocking_recv() {
            sheet.rows(&rows)?;
        }
        sheet.finish()
    });
    while let Some(chunk) = export.next().await {
        let rows = match chunk? {
            ExportChunk::Rows(rows) => rows,
            ExportChunk::Truncated { max_rows } => {
                return Err(EngineError::LimitExceeded {
                    limit: Limit::ExportRows,
                    message: format!(
                        "The query has more than {max_rows} rows, more than a spreadsheet export \
                         holds (max_export_rows); export CSV or NDJSON, or narrow the query"
                    ),
                });
            }
            _ => continue,
        };
        if sender.send(rows).await.is_err() {
            // The writer stopped reading: it failed, and its error is below.
            break;
        }
    }
    drop(sender);
    match writer.await {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(err)) => Err(xlsx_failed(&err)),
        Err(err) => Err(xlsx_failed(&err)),
    }
}

/// A file's chunks, read as the client takes them.
pub fn file_chunks(file: std::fs::File) -> Chunks {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::from_std(file);
    stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(err) => Some((Err(err), None)),
        }
    })
    .boxed()
}

/// A file name for `title`: letters, digits, spaces, `-`, `_` and `.` kept, anything else `_`,
/// at most 100 characters, `export` when nothing is left; with the format's extension.
pub fn file_name(title: Option<&str>, format: ExportFormat) -> String {
    let cleaned: String = title
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let stem = if cleaned.chars().any(char::is_alphanumeric) {
        cleaned
    } else {
        "export"
    };
    format!("{stem}.{}", format.extension())
}

/// The `Content-Disposition` of a download named `name`: an ASCII `filename` (other characters
/// as `_`) and the UTF-8 name as `filename*`.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn formulas_are_escaped_in_text_only() {
        for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_field(&json!(text), true), format!("'{text}"));
            assert_eq!(csv_field(&json!(text), false), text);
        }
        assert_eq!(csv_field(&json!(-5), true), "-5");
        assert_eq!(csv_field(&json!("plain"), true), "plain");
        assert_eq!(csv_field(&Value::Null, true), "");
        assert_eq!(csv_field(&json!({"a": 1}), true), "{\"a\":1}");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name(Some("Revenue / Region"), ExportFormat::Csv),
            "Revenue _ Region.csv"
        );
        assert_eq!(
            file_name(Some("../../etc/passwd"), ExportFormat::Xlsx),
            "_.._etc_passwd.xlsx"
        );
        assert_eq!(
            file_name(Some("\"\r\n"), ExportFormat::Ndjson),
            "export.ndjson"
        );
        assert_eq!(file_name(None, ExportFormat::Csv), "export.csv");
        let disposition = content_disposition("Umsätze \"Q1\".csv");
        assert!(disposition.starts_with("attachment; filename=\"Ums_tze _Q1_.csv\""));
        assert!(disposition.ends_with("UTF-8''Ums%C3%A4tze%20%22Q1%22.csv"));
    }

    #[test]
    fn repeated_columns_get_their_own_keys() {
        let keys = object_keys(&["n".into(), "n".into(), "n_2".into(), "n".into()]);
        assert_eq!(keys, ["n", "n_2", "n_2_2", "n_3"]);
    }

    #[test]
    fn dates_become_spreadsheet_dates() {
        assert!(excel_date("2025-03-31", CellKind::Date).is_some());
        assert!(excel_date("2025-03-31T12:30:45.5Z", CellKind::DateTime).is_some());
        assert!(excel_date("2025-03-31T12:30:45+02:00", CellKind::DateTime).is_some());
        assert!(excel_date("2025-03-31 12:30:45", CellKind::DateTime).is_some());
        assert!(excel_date("not a date", CellKind::Date).is_none());
        assert!(excel_date("2025-03-31", CellKind::Other).is_none());
    }
}
