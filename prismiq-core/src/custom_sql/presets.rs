//! Date presets of dashboard date-range filters, as inclusive ranges of days.

use chrono::{Datelike, Days, Months, NaiveDate};

/// The inclusive `(start, end)` days of a preset, relative to `today`; `None` for an unknown
/// name. Weeks start on Monday; quarters are calendar quarters; `this_*` presets end today.
pub(super) fn resolve(preset: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let days_ago = |days: u64| today.checked_sub_days(Days::new(days));
    let month_start = |day: NaiveDate| day.with_day(1);
    let quarter_start =
        |day: NaiveDate| NaiveDate::from_ymd_opt(day.year(), (day.month0() / 3) * 3 + 1, 1);
    let year_start = |year: i32| NaiveDate::from_ymd_opt(year, 1, 1);
    let this_monday = days_ago(u64::from(today.weekday().num_days_from_monday()))?;

    let range = match preset {
        "today" => (today, today),
        "yesterday" => (days_ago(1)?, days_ago(1)?),
        "last_7_days" => (days_ago(6)?, today),
        "last_30_days" => (days_ago(29)?, today),
        "this_week" => (this_monday, today),
        "last_week" => (
            this_monday.checked_sub_days(Days::new(7))?,
            this_monday.pred_opt()?,
        ),
        "this_month" => (month_start(today)?, today),
        "last_month" => {
            let this_month = month_start(today)?;
            (
                this_month.checked_sub_months(Months::new(1))?,
                this_month.pred_opt()?,
            )
        }
        "this_quarter" => (quarter_start(today)?, today),
        "last_quarter" => {
            let this_quarter = quarter_start(today)?;
            (
                this_quarter.checked_sub_months(Months::new(3))?,
                this_quarter.pred_opt()?,
            )
        }
        "this_year" => (year_start(today.year())?, today),
        "last_year" => (
            year_start(today.year() - 1)?,
            NaiveDate::from_ymd_opt(today.year() - 1, 12, 31)?,
        ),
        "all_time" => (NaiveDate::from_ymd_opt(1970, 1, 1)?, today),
        _ => return None,
    };
    Some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn range(preset: &str, today: &str) -> (String, String) {
        let (start, end) = resolve(preset, day(today)).unwrap();
        (start.to_string(), end.to_string())
    }

    #[test]
    fn all_thirteen_presets_from_mid_june() {
        let today = "2024-06-15"; // a Saturday
        let expected = [
            ("today", "2024-06-15", "2024-06-15"),
            ("yesterday", "2024-06-14", "2024-06-14"),
            ("last_7_days", "2024-06-09", "2024-06-15"),
            ("last_30_days", "2024-05-17", "2024-06-15"),
            ("this_week", "2024-06-10", "2024-06-15"),
            ("last_week", "2024-06-03", "2024-06-09"),
            ("this_month", "2024-06-01", "2024-06-15"),
            ("last_month", "2024-05-01", "2024-05-31"),
            ("this_quarter", "2024-04-01", "2024-06-15"),
            ("last_quarter", "2024-01-01", "2024-03-31"),
            ("this_year", "2024-01-01", "2024-06-15"),
            ("last_year", "2023-01-01", "2023-12-31"),
            ("all_time", "1970-01-01", "2024-06-15"),
        ];
        for (preset, start, end) in expected {
            assert_eq!(
                range(preset, today),
                (start.to_owned(), end.to_owned()),
                "{preset}"
            );
        }
    }

    #[test]
    fn period_boundaries() {
        // Q1 → the previous year's Q4; January → December.
        assert_eq!(
            range("last_quarter", "2024-02-10"),
            ("2023-10-01".to_owned(), "2023-12-31".to_owned())
        );
        assert_eq!(
            range("last_month", "2024-01-31"),
            ("2023-12-01".to_owned(), "2023-12-31".to_owned())
        );
        assert_eq!(
            range("last_month", "2024-03-31"),
            ("2024-02-01".to_owned(), "2024-02-29".to_owned())
        );
        // On a Monday, this week is one day long.
        assert_eq!(
            range("this_week", "2024-06-10"),
            ("2024-06-10".to_owned(), "2024-06-10".to_owned())
        );
        assert!(resolve("next_week", day("2024-06-10")).is_none());
    }
}
