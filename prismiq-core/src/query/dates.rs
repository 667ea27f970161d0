//! Date ranges: dashboard presets, relative day ranges and fiscal windows; ISO parsing of
//! filter values.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// A named date range of a dashboard date filter. Every range is inclusive and ends no later
/// than the reference day; weeks start on Monday; quarters are calendar quarters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePreset {
    /// The reference day.
    Today,
    /// The day before.
    Yesterday,
    /// The reference day and the 6 before it.
    Last7Days,
    /// The reference day and the 29 before it.
    Last30Days,
    /// Monday of this week to the reference day.
    ThisWeek,
    /// Monday to Sunday of the previous week.
    LastWeek,
    /// The 1st of this month to the reference day.
    ThisMonth,
    /// The whole previous month.
    LastMonth,
    /// The first day of this calendar quarter to the reference day.
    ThisQuarter,
    /// The whole previous calendar quarter.
    LastQuarter,
    /// January 1st to the reference day.
    ThisYear,
    /// The whole previous year.
    LastYear,
    /// 1970-01-01 to the reference day.
    AllTime,
}

impl DatePreset {
    /// Every preset.
    pub const ALL: [Self; 13] = [
        Self::Today,
        Self::Yesterday,
        Self::Last7Days,
        Self::Last30Days,
        Self::ThisWeek,
        Self::LastWeek,
        Self::ThisMonth,
        Self::LastMonth,
        Self::ThisQuarter,
        Self::LastQuarter,
        Self::ThisYear,
        Self::LastYear,
        Self::AllTime,
    ];

    /// The wire name (`last_7_days`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::Last7Days => "last_7_days",
            Self::Last30Days => "last_30_days",
            Self::ThisWeek => "this_week",
            Self::LastWeek => "last_week",
            Self::ThisMonth => "this_month",
            Self::LastMonth => "last_month",
            Self::ThisQuarter => "this_quarter",
            Self::LastQuarter => "last_quarter",
            Self::ThisYear => "this_year",
            Self::LastYear => "last_year",
            Self::AllTime => "all_time",
        }
    }

    /// The inclusive `(start, end)` of the preset on reference day `today`.
    pub fn resolve(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let days_back = |n: u64| today - Days::new(n);
        let month_start = first_of_month(today);
        let quarter_start = month_index_to_date(month_index(today) - (today.month0() as i64 % 3));
        let week_start = days_back(u64::from(today.weekday().num_days_from_monday()));
        match self {
            Self::Today => (today, today),
            Self::Yesterday => (days_back(1), days_back(1)),
            Self::Last7Days => (days_back(6), today),
            Self::Last30Days => (days_back(29), today),
            Self::ThisWeek => (week_start, today),
            Self::LastWeek => (week_start - Days::new(7), week_start - Days::new(1)),
            Self::ThisMonth => (month_start, today),
            Self::LastMonth => (
                month_index_to_date(month_index(today) - 1),
                month_start - Days::new(1),
            ),
            Self::ThisQuarter => (quarter_start, today),
            Self::LastQuarter => (
                month_index_to_date(month_index(quarter_start) - 3),
                quarter_start - Days::new(1),
            ),
            Self::ThisYear => (ymd(today.year(), 1, 1), today),
            Self::LastYear => (ymd(today.year() - 1, 1, 1), ymd(today.year() - 1, 12, 31)),
            Self::AllTime => (ymd(1970, 1, 1), today),
        }
    }
}

impl fmt::Display for DatePreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatePreset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("Unknown date preset: '{s}'"))
    }
}

/// The period of a `date_window` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowPeriod {
    /// A fiscal quarter.
    Quarterly,
    /// A fiscal year.
    Yearly,
}

/// The range of a `date_relative` filter of `days` days on reference day `today`:
/// `[today + days, today]` for a negative count, `[today, today + days]` otherwise.
pub fn relative_range(days: i64, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let other = add_days(today, days);
    if days < 0 {
        (other, today)
    } else {
        (today, other)
    }
}

/// The fiscal quarter or year `offset` periods from the one containing `today`, for a fiscal
/// year starting on the 1st of month `fiscal_start_month` (1–12; out-of-range values are
/// clamped). The current fiscal year (offset 0) ends at `today`; quarters are whole.
pub fn fiscal_window(
    period: WindowPeriod,
    offset: i64,
    fiscal_start_month: u8,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let start_month = i64::from(fiscal_start_month.clamp(1, 12));
    let fy_year = if i64::from(today.month()) >= start_month {
        i64::from(today.year())
    } else {
        i64::from(today.year()) - 1
    };
    let fy_start = fy_year * 12 + start_month - 1;
    match period {
        WindowPeriod::Yearly => {
            let start = fy_start + 12 * offset;
            let end = month_index_to_date(start + 12) - Days::new(1);
            let end = if offset == 0 { end.min(today) } else { end };
            (month_index_to_date(start), end)
        }
        WindowPeriod::Quarterly => {
            let quarter = (i64::from(today.month()) - start_month).rem_euclid(12) / 3;
            let start = fy_start + 3 * (quarter + offset);
            (
                month_index_to_date(start),
                month_index_to_date(start + 3) - Days::new(1),
            )
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid calendar date")
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    let magnitude = Days::new(days.unsigned_abs());
    let moved = if days < 0 {
        date.checked_sub_days(magnitude)
    } else {
        date.checked_add_days(magnitude)
    };
    moved.unwrap_or(if days < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists")
}

/// Months since year 0 of the date's month.
pub(crate) fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The 1st of the month with index `index` (see [`month_index`]).
pub(crate) fn month_index_to_date(index: i64) -> NaiveDate {
    let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1;
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX)
}

/// A filter value parsed as a date or timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    /// `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A date and time without offset.
    Naive(NaiveDateTime),
    /// A date and time with an offset, converted to UTC.
    Utc(NaiveDateTime),
}

impl Moment {
    /// Parses ISO-8601: a string with `T` or a space is a date and time (with an optional
    /// offset or `Z`), anything else must be `YYYY-MM-DD`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if !text.contains(['T', ' ']) {
            return NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(Self::Date);
        }
        let text = text.replacen(' ', "T", 1);
        if let Ok(dt) = DateTime::parse_from_rfc3339(&text) {
            return Some(Self::Utc(dt.naive_utc()));
        }
        if let Ok(dt) = DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M%#z") {
            return Some(Self::Utc(dt.naive_utc()));
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
            .map(Self::Naive)
    }

    /// The calendar date.
    pub(crate) fn date(self) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::Naive(dt) | Self::Utc(dt) => dt.date(),
        }
    }

    /// The date and time (midnight for a plain date).
    pub(crate) fn datetime(self) -> NaiveDateTime {
        match self {
            Self::Date(d) => d.and_time(NaiveTime::MIN),
            Self::Naive(dt) | Self::Utc(dt) => dt,
        }
    }
}

/// Midnight at the start of the day after `date`.
pub(crate) fn next_midnight(date: NaiveDate) -> NaiveDateTime {
    date.succ_opt()
        .unwrap_or(NaiveDate::MAX)
        .and_time(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn presets_resolve_like_the_reference() {
        let today = d("2024-06-15"); // a Saturday
        let cases = [
            (DatePreset::Today, "2024-06-15", "2024-06-15"),
            (DatePreset::Yesterday, "2024-06-14", "2024-06-14"),
            (DatePreset::Last7Days, "2024-06-09", "2024-06-15"),
            (DatePreset::Last30Days, "2024-05-17", "2024-06-15"),
            (DatePreset::ThisWeek, "2024-06-10", "2024-06-15"),
            (DatePreset::LastWeek, "2024-06-03", "2024-06-09"),
            (DatePreset::ThisMonth, "2024-06-01", "2024-06-15"),
            (DatePreset::LastMonth, "2024-05-01", "2024-05-31"),
            (DatePreset::ThisQuarter, "2024-04-01", "2024-06-15"),
            (DatePreset::LastQuarter, "2024-01-01", "2024-03-31"),
            (DatePreset::ThisYear, "2024-01-01", "2024-06-15"),
            (DatePreset::LastYear, "2023-01-01", "2023-12-31"),
            (DatePreset::AllTime, "1970-01-01", "2024-06-15"),
        ];
        for (preset, start, end) in cases {
            assert_eq!(preset.resolve(today), (d(start), d(end)), "{preset}");
            assert_eq!(preset.as_str().parse::<DatePreset>(), Ok(preset));
        }
    }

    #[test]
    fn presets_at_year_and_month_edges() {
        assert_eq!(
            DatePreset::LastQuarter.resolve(d("2024-02-10")),
            (d("2023-10-01"), d("2023-12-31"))
        );
        assert_eq!(
            DatePreset::LastMonth.resolve(d("2024-01-31")),
            (d("2023-12-01"), d("2023-12-31"))
        );
        assert_eq!(
            DatePreset::LastMonth.resolve(d("2024-03-31")),
            (d("2024-02-01"), d("2024-02-29"))
        );
        // a Monday: this week is that day alone
        assert_eq!(
            DatePreset::ThisWeek.resolve(d("2024-06-10")),
            (d("2024-06-10"), d("2024-06-10"))
        );
        assert_eq!(
            DatePreset::ThisQuarter.resolve(d("2024-12-31")),
            (d("2024-10-01"), d("2024-12-31"))
        );
        assert!("next_week".parse::<DatePreset>().is_err());
    }

    #[test]
    fn relative_ranges() {
        let today = d("2024-06-15");
        assert_eq!(relative_range(-30, today), (d("2024-05-16"), today));
        assert_eq!(relative_range(30, today), (today, d("2024-07-15")));
        assert_eq!(relative_range(0, today), (today, today));
    }

    #[test]
    fn fiscal_windows_match_the_reference_vectors() {
        use WindowPeriod::{Quarterly, Yearly};
        let cases = [
            (1, "2024-06-15", Yearly, 0, "2024-01-01", "2024-06-15"),
            (1, "2024-06-15", Yearly, -1, "2023-01-01", "2023-12-31"),
            (4, "2024-02-10", Yearly, 0, "2023-04-01", "2024-02-10"),
            (1, "2024-06-15", Quarterly, 0, "2024-04-01", "2024-06-30"),
            (1, "2024-02-15", Quarterly, -1, "2023-10-01", "2023-12-31"),
            (4, "2024-02-15", Quarterly, 0, "2024-01-01", "2024-03-31"),
            (10, "2024-11-03", Quarterly, -4, "2023-10-01", "2023-12-31"),
            (7, "2024-12-31", Quarterly, 2, "2025-04-01", "2025-06-30"),
            (4, "2024-05-01", Yearly, 1, "2025-04-01", "2026-03-31"),
        ];
        for (month, today, period, offset, start, end) in cases {
            assert_eq!(
                fiscal_window(period, offset, month, d(today)),
                (d(start), d(end)),
                "F={month} ref={today} {period:?} {offset}"
            );
        }
    }

    #[test]
    fn moments_parse_iso_text() {
        assert_eq!(
            Moment::parse("2024-01-31"),
            Some(Moment::Date(d("2024-01-31")))
        );
        let noon = d("2024-01-31").and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(
            Moment::parse("2024-01-31T12:00:00"),
            Some(Moment::Naive(noon))
        );
        assert_eq!(Moment::parse("2024-01-31 12:00"), Some(Moment::Naive(noon)));
        assert_eq!(
            Moment::parse("2024-01-31T14:00:00+02:00"),
            Some(Moment::Utc(noon))
        );
        assert_eq!(
            Moment::parse("2024-01-31T12:00:00Z"),
            Some(Moment::Utc(noon))
        );
        assert_eq!(Moment::parse("01/02/2024"), None);
        assert_eq!(Moment::parse("2024-02-30"), None);
    }
}
