//! Quantiles of signed latencies.

use std::time::Instant;

/// `later - earlier` in microseconds, negative when `later` came first.
pub(crate) fn signed_micros(later: Instant, earlier: Instant) -> i64 {
    let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    match later.checked_duration_since(earlier) {
        Some(after) => micros(after),
        None => -micros(earlier.duration_since(later)),
    }
}

/// Count, quantiles and extremes of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// How many.
    pub(crate) count: usize,
    /// The smallest, in microseconds.
    pub(crate) min: i64,
    /// The median (nearest rank), in microseconds.
    pub(crate) p50: i64,
    /// The 99th percentile (nearest rank), in microseconds.
    pub(crate) p99: i64,
    /// The largest, in microseconds.
    pub(crate) max: i64,
}

impl Summary {
    /// Summarises `values` (sorting them); `None` when empty.
    pub(crate) fn of(values: &mut [i64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |q: f64| {
            let rank = (q * values.len() as f64).ceil() as usize;
            values[rank.clamp(1, values.len()) - 1]
        };
        Some(Self {
            count: values.len(),
            min: values[0],
            p50: rank(0.50),
            p99: rank(0.99),
            max: values[values.len() - 1],
        })
    }
}

/// Microseconds as milliseconds with three decimals.
pub(crate) fn ms(micros: i64) -> String {
    format!("{:.3}", micros as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut values: Vec<i64> = (1..=200).rev().collect();
        let summary = Summary::of(&mut values).unwrap();
        assert_eq!(
            summary,
            Summary {
                count: 200,
                min: 1,
                p50: 100,
                p99: 198,
                max: 200
            }
        );
        assert_eq!(Summary::of(&mut []), None);
        assert_eq!(Summary::of(&mut [-5]).unwrap().p99, -5);
    }

    #[test]
    fn differences_keep_their_sign() {
        let earlier = Instant::now();
        let later = earlier + Duration::from_micros(1500);
        assert_eq!(signed_micros(later, earlier), 1500);
        assert_eq!(signed_micros(earlier, later), -1500);
        assert_eq!(ms(-1500), "-1.500");
    }
}
