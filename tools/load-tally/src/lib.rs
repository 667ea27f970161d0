//! What the load tools measure, and the one line they print: shared by `http-load` and
//! `sql-load`, so that both report alike.

use std::process::ExitCode;
use std::time::Duration;

/// What one task, or a whole run, measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latencies of the counted operations, in microseconds.
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    /// Counts an operation that took `micros` microseconds.
    pub fn record(&mut self, micros: u128) {
        self.latencies
            .push(u64::try_from(micros).unwrap_or(u64::MAX));
    }

    /// Counts an error, keeping the first message.
    pub fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }

    /// Adds another task's tally to this one.
    pub fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Prints `requests=N errors=N seconds=S rps=R mean_ms=M p50_ms=P p99_ms=Q` for a
    /// measurement of `duration`; fails (naming `tool`) on any error or when no `operation`
    /// completed.
    pub fn report(mut self, tool: &str, operation: &str, duration: Duration) -> ExitCode {
        self.latencies.sort_unstable();
        let seconds = duration.as_secs_f64();
        let requests = self.latencies.len();
        let mean_ms = if requests == 0 {
            f64::NAN
        } else {
            self.latencies.iter().sum::<u64>() as f64 / requests as f64 / 1000.0
        };
        println!(
            "requests={requests} errors={} seconds={seconds:.3} rps={:.1} mean_ms={mean_ms:.3} \
             p50_ms={:.3} p99_ms={:.3}",
            self.errors,
            requests as f64 / seconds,
            quantile_ms(&self.latencies, 0.50),
            quantile_ms(&self.latencies, 0.99),
        );
        if let Some(error) = self.first_error {
            eprintln!("{tool}: {} errors; the first: {error}", self.errors);
            return ExitCode::FAILURE;
        }
        if requests == 0 {
            eprintln!("{tool}: no {operation} completed");
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    }
}

/// The latency at quantile `q` (nearest rank), in milliseconds, of sorted microseconds.
fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}
