//! Numbers and dates as people read them: the widget config's `valueFormat`,
//! `currencySymbol`, `compactNotation`, `decimalDigits`, `columnFormats` and `dateFormats`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde_json::{Map, Value};

/// How a number is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberFormat {
    kind: Kind,
    symbol: String,
    unit: Option<Unit>,
    decimals: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Currency,
    Percent,
    Compact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    K,
    M,
    B,
    T,
}

impl Unit {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "K" | "k" => Some(Self::K),
            "M" | "m" => Some(Self::M),
            "B" | "b" => Some(Self::B),
            "T" | "t" => Some(Self::T),
            _ => None,
        }
    }

    fn divisor(self) -> f64 {
        match self {
            Self::K => 1e3,
            Self::M => 1e6,
            Self::B => 1e9,
            Self::T => 1e12,
        }
    }

    fn suffix(self) -> char {
        match self {
            Self::K => 'K',
            Self::M => 'M',
            Self::B => 'B',
            Self::T => 'T',
        }
    }

    fn for_value(v: f64) -> Option<Self> {
        let v = v.abs();
        [Self::T, Self::B, Self::M, Self::K]
            .into_iter()
            .find(|unit| v >= unit.divisor())
    }
}

/// The longest currency symbol kept (it is user text; longer ones are cut).
const MAX_SYMBOL: usize = 8;

impl Default for NumberFormat {
    fn default() -> Self {
        Self {
            kind: Kind::Number,
            symbol: "$".to_owned(),
            unit: None,
            decimals: None,
        }
    }
}

impl NumberFormat {
    /// The format named by the `valueFormat`-style fields: a format name (`number`,
    /// `currency`, `percent`, `compact`; anything else is `number`), a currency symbol, a
    /// compact unit and a number of decimals.
    pub(crate) fn new(
        format: Option<&str>,
        symbol: Option<&str>,
        unit: Option<&str>,
        decimals: Option<i64>,
    ) -> Self {
        let kind = match format {
            Some("currency") => Kind::Currency,
            Some("percent") => Kind::Percent,
            Some("compact") => Kind::Compact,
            _ => Kind::Number,
        };
        Self {
            kind,
            symbol: symbol
                .map(|s| {
                    s.chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_SYMBOL)
                        .collect()
                })
                .unwrap_or_else(|| "$".to_owned()),
            unit: unit.and_then(Unit::parse),
            decimals: decimals.map(|d| d.clamp(0, 10) as usize),
        }
    }

    /// The format of a `columnFormats` entry (`{format, currencySymbol?, compactNotation?,
    /// decimalDigits?}`).
    pub(crate) fn from_entry(entry: &Map<String, Value>) -> Self {
        let text = |key: &str| entry.get(key).and_then(Value::as_str);
        Self::new(
            text("format"),
            text("currencySymbol"),
            text("compactNotation"),
            entry.get("decimalDigits").and_then(Value::as_i64),
        )
    }

    /// `v` in full, as a value label or a metric.
    pub(crate) fn format(&self, v: f64) -> String {
        if v.is_nan() {
            return "N/A".to_owned();
        }
        if v.is_infinite() {
            return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
        }
        match self.kind {
            Kind::Percent => format!("{}%", grouped(v * 100.0, self.decimals.unwrap_or(2))),
            Kind::Currency => {
                let body = match self.unit {
                    Some(unit) => compact(v.abs(), unit, self.decimals.unwrap_or(1)),
                    None => grouped(v.abs(), self.decimals.unwrap_or(2)),
                };
                let sign = if v < 0.0 && body.chars().any(|c| matches!(c, '1'..='9')) {
                    "-"
                } else {
                    ""
                };
                format!("{sign}{}{body}", self.symbol)
            }
            Kind::Compact => match self.unit.or_else(|| Unit::for_value(v)) {
                Some(unit) => compact(v, unit, self.decimals.unwrap_or(1)),
                None => grouped(
                    v,
                    self.decimals
                        .unwrap_or(if v.fract() == 0.0 { 0 } else { 2 }),
                ),
            },
            Kind::Number => match self.unit {
                Some(unit) => compact(v, unit, self.decimals.unwrap_or(1)),
                None => grouped(
                    v,
                    self.decimals
                        .unwrap_or(if v.fract() == 0.0 { 0 } else { 2 }),
                ),
            },
        }
    }

    /// `v` as an axis tick: the same format, shortened with K/M/B/T from ten thousand on.
    pub(crate) fn tick(&self, v: f64) -> String {
        let short = |v: f64| match Unit::for_value(v).filter(|_| v.abs() >= 1e4) {
            Some(unit) => compact(v, unit, 1).replace(".0", ""),
            None => grouped(v, if v.fract() == 0.0 { 0 } else { 2 }),
        };
        match self.kind {
            Kind::Percent => format!(
                "{}%",
                grouped(v * 100.0, if (v * 100.0).fract() == 0.0 { 0 } else { 1 })
            ),
            Kind::Currency => {
                let sign = if v < 0.0 { "-" } else { "" };
                format!("{sign}{}{}", self.symbol, short(v.abs()))
            }
            Kind::Compact | Kind::Number => short(v),
        }
    }
}

/// `v / unit` with `decimals` places and the unit's letter.
fn compact(v: f64, unit: Unit, decimals: usize) -> String {
    format!("{:.*}{}", decimals, v / unit.divisor(), unit.suffix())
}

/// `v` with `decimals` places and thousands separators.
fn grouped(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    let negative = v < 0.0 && text.chars().any(|c| matches!(c, '1'..='9'));
    if negative {
        out.push('-');
    }
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A JSON value as a number, if it is one: numbers, and strings holding one (drivers return
/// exact decimals as strings).
pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

/// A moment read from a result cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moment {
    at: NaiveDateTime,
    has_time: bool,
}

impl Moment {
    /// `2025-03-01`, `2025-03-01T10:00:00`, `2025-03-01 10:00:00.123`, with or without an offset
    /// (which is dropped: a dashboard shows the database's wall-clock time).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() < 10 || !text.is_char_boundary(10) {
            return None;
        }
        let date = NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d").ok()?;
        let rest = &text[10..];
        if rest.is_empty() {
            return Some(Self {
                at: date.and_hms_opt(0, 0, 0)?,
                has_time: false,
            });
        }
        let time = rest.strip_prefix(['T', ' '])?;
        let clock: String = time
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':' || *c == '.')
            .collect();
        let parsed = chrono::NaiveTime::parse_from_str(&clock, "%H:%M:%S%.f")
            .or_else(|_| chrono::NaiveTime::parse_from_str(&clock, "%H:%M"))
            .ok()?;
        Some(Self {
            at: date.and_time(parsed),
            has_time: true,
        })
    }

    fn at_midnight(&self) -> bool {
        !self.has_time || (self.at.hour(), self.at.minute(), self.at.second()) == (0, 0, 0)
    }
}

/// How a column of dates is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DateFormat {
    /// A date-fns pattern from the widget's `dateFormats`.
    Pattern(Vec<Token>),
    /// Chosen from the values: years, months, days or times.
    Auto(Granularity),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Granularity {
    Year,
    Month,
    Day,
    Time,
}

impl DateFormat {
    /// The granularity the moments of a column show: whole years, months, days, or times.
    pub(crate) fn auto<'a>(moments: impl Iterator<Item = &'a Moment>) -> Self {
        let mut granularity = Granularity::Year;
        for m in moments {
            let g = if !m.at_midnight() {
                Granularity::Time
            } else if m.at.day() != 1 {
                Granularity::Day
            } else if m.at.month() != 1 {
                Granularity::Month
            } else {
                Granularity::Year
            };
            granularity = granularity.max(g);
        }
        Self::Auto(granularity)
    }

    pub(crate) fn format(&self, m: &Moment) -> String {
        match self {
            Self::Auto(Granularity::Year) => m.at.format("%Y").to_string(),
            Self::Auto(Granularity::Month) => m.at.format("%b %Y").to_string(),
            Self::Auto(Granularity::Day) => m.at.format("%b %-d, %Y").to_string(),
            Self::Auto(Granularity::Time) => m.at.format("%b %-d, %Y %H:%M").to_string(),
            Self::Pattern(tokens) => tokens.iter().map(|t| t.write(&m.at)).collect(),
        }
    }

    /// A date-fns pattern (`yyyy-MM-dd`, `MMM d`, `'Q'Q yyyy`, …): the common tokens are
    /// understood, quoted text is kept, other letters are kept as they are.
    pub(crate) fn pattern(pattern: &str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().take(64).peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                let mut literal = String::new();
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    literal.push(c);
                }
                tokens.push(Token::Literal(literal));
            } else if c.is_ascii_alphabetic() {
                let mut run = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    run += 1;
                }
                tokens.push(Token::field(c, run));
            } else {
                tokens.push(Token::Literal(c.to_string()));
            }
        }
        Self::Pattern(tokens)
    }
}

/// One piece of a date pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Literal(String),
    Field(&'static str),
}

impl Token {
    fn field(c: char, run: usize) -> Self {
        let spec = match (c, run) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('E', 4..) => "%A",
            ('E', _) => "%a",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('a', _) => "%p",
            ('Q', _) => "Q",
            _ => return Self::Literal(std::iter::repeat_n(c, run).collect()),
        };
        Self::Field(spec)
    }

    fn write(&self, at: &NaiveDateTime) -> String {
        match self {
            Self::Literal(text) => text.clone(),
            Self::Field("Q") => ((at.month() - 1) / 3 + 1).to_string(),
            Self::Field(spec) => at.format(spec).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(format: &str, v: f64) -> String {
        NumberFormat::new(Some(format), None, None, None).format(v)
    }

    #[test]
    fn numbers_follow_the_query_spec() {
        assert_eq!(fmt("number", 1234567.0), "1,234,567");
        assert_eq!(fmt("number", 1234.5678), "1,234.57");
        assert_eq!(fmt("currency", -1234.555), "-$1,234.56");
        assert_eq!(
            NumberFormat::new(Some("currency"), Some("EUR"), None, None).format(1234.56),
            "EUR1,234.56"
        );
        assert_eq!(fmt("percent", 0.1234), "12.34%");
        assert_eq!(fmt("compact", 1000.0), "1.0K");
        assert_eq!(fmt("compact", -1500.0), "-1.5K");
        assert_eq!(
            NumberFormat::new(Some("compact"), None, None, Some(2)).format(1234567.0),
            "1.23M"
        );
        assert_eq!(fmt("compact", 999.0), "999");
        assert_eq!(
            NumberFormat::new(Some("currency"), Some("$"), Some("M"), None).format(2_345_678.0),
            "$2.3M"
        );
        assert_eq!(fmt("number", f64::NAN), "N/A");
    }

    #[test]
    fn ticks_are_short() {
        let currency = NumberFormat::new(Some("currency"), None, None, None);
        assert_eq!(currency.tick(1_200_000.0), "$1.2M");
        assert_eq!(currency.tick(500.0), "$500");
        assert_eq!(NumberFormat::default().tick(20_000.0), "20K");
        assert_eq!(fmt("percent", 0.5), "50.00%");
        assert_eq!(
            NumberFormat::new(Some("percent"), None, None, None).tick(0.25),
            "25%"
        );
    }

    #[test]
    fn dates_are_read_and_written() {
        let months: Vec<Moment> = ["2025-01-01T00:00:00", "2025-02-01 00:00:00+00:00"]
            .iter()
            .map(|t| Moment::parse(t).unwrap())
            .collect();
        let auto = DateFormat::auto(months.iter());
        assert_eq!(auto.format(&months[1]), "Feb 2025");
        let day = Moment::parse("2025-03-15").unwrap();
        assert_eq!(DateFormat::auto([day].iter()).format(&day), "Mar 15, 2025");
        assert_eq!(DateFormat::pattern("yyyy-MM-dd").format(&day), "2025-03-15");
        assert_eq!(DateFormat::pattern("'Q'Q yyyy").format(&day), "Q1 2025");
        assert_eq!(DateFormat::pattern("MMM d").format(&day), "Mar 15");
        assert!(Moment::parse("East").is_none());
        assert!(Moment::parse("2025-13-01").is_none());
    }
}
