//! `prismiq-migrate`: moves what the original Prismiq server kept into a store of ours.
//!
//! ```text
//! prismiq-migrate --source postgres://… [--source-schema public] --target postgres://…|sqlite://… [--dry-run] [--keep-valid-widgets] [--report json]
//! prismiq-migrate --import-file export.json --tenant T [--owner U] --target … [--dry-run] [--keep-valid-widgets] [--report json]
//! ```
//!
//! The target is migrated to our schema first, as the stores do; the report goes to stdout.
//! Exit status: 0 when everything was migrated, 2 when some records were skipped (see the
//! report), 1 when the run could not proceed (the message says what to fix).

use std::process::ExitCode;

use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::migrate::{
    DEFAULT_SOURCE_SCHEMA, MigrationReport, Migrator, PgLedger, SqliteLedger,
};
use prismiq_store_postgres::sqlx::PgPool;
use prismiq_store_sqlite::SqliteStore;

const USAGE: &str = "\
Usage:
  prismiq-migrate --source <postgres url> [--source-schema <schema>] --target <url> [options]
  prismiq-migrate --import-file <export.json> --tenant <tenant> [--owner <user>] --target <url> [options]

Reads the original server's tables (prismiq_dashboards, prismiq_widgets, prismiq_saved_queries,
prismiq_pinned_dashboards) in --source-schema (default public), or one of its dashboard export
files, and writes them into the store at --target: postgres://… (PostgresStore) or sqlite://…
(SqliteStore, the file is created if missing).

Options:
  --dry-run              compute the whole report, write nothing
  --keep-valid-widgets   write a dashboard without its invalid widgets instead of skipping it
  --report text|json     report format on stdout (default text)
  --help                 this text

Exit status: 0 all migrated, 2 some records skipped (see the report), 1 error.";

#[derive(Debug, Default)]
struct Options {
    source: Option<String>,
    source_schema: Option<String>,
    target: Option<String>,
    import_file: Option<String>,
    tenant: Option<String>,
    owner: Option<String>,
    dry_run: bool,
    keep_valid_widgets: bool,
    json: bool,
}

enum Job {
    Tables {
        source: String,
        schema: String,
    },
    File {
        path: String,
        tenant: String,
        owner: Option<String>,
    },
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut options = Self::default();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--source" => options.source = Some(value()?),
                "--source-schema" => options.source_schema = Some(value()?),
                "--target" => options.target = Some(value()?),
                "--import-file" => options.import_file = Some(value()?),
                "--tenant" => options.tenant = Some(value()?),
                "--owner" => options.owner = Some(value()?),
                "--dry-run" => options.dry_run = true,
                "--keep-valid-widgets" => options.keep_valid_widgets = true,
                "--report" => match value()?.as_str() {
                    "json" => options.json = true,
                    "text" => options.json = false,
                    other => return Err(format!("--report takes text or json, not {other:?}")),
                },
                "--help" | "-h" => return Ok(None),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Some(options))
    }

    fn job(&self) -> Result<Job, String> {
        match (&self.source, &self.import_file) {
            (Some(source), None) => {
                if self.tenant.is_some() || self.owner.is_some() {
                    return Err("--tenant and --owner go with --import-file (the tables carry their own tenants and owners)".to_owned());
                }
                Ok(Job::Tables {
                    source: source.clone(),
                    schema: self
                        .source_schema
                        .clone()
                        .unwrap_or_else(|| DEFAULT_SOURCE_SCHEMA.to_owned()),
                })
            }
            (None, Some(path)) => Ok(Job::File {
                path: path.clone(),
                tenant: self
                    .tenant
                    .clone()
                    .ok_or("--import-file needs --tenant: the tenant the dashboard goes to")?,
                owner: self.owner.clone(),
            }),
            (Some(_), Some(_)) => Err("give either --source or --import-file, not both".to_owned()),
            (None, None) => {
                Err("give --source <postgres url> (or --import-file <file>)".to_owned())
            }
        }
    }
}

/// Opens the target store, with the ledger in the same database, and creates or updates our
/// tables there (not in a dry run, which writes nothing: a target without them is read as empty).
async fn migrator(target: &str, dry_run: bool) -> Result<Migrator, String> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        let store = PostgresStore::connect(target)
            .await
            .map_err(|e| format!("cannot connect to the target {target}: {}", chain(&e)))?;
        if !dry_run {
            store
                .migrate()
                .await
                .map_err(|e| format!("cannot create our tables in the target: {}", chain(&e)))?;
        }
        let ledger = PgLedger::new(store.pool().clone());
        Ok(Migrator::new(store, ledger))
    } else if target.starts_with("sqlite:") {
        let store = SqliteStore::connect(target)
            .await
            .map_err(|e| format!("cannot open the target {target}: {}", chain(&e)))?;
        if !dry_run {
            store
                .migrate()
                .await
                .map_err(|e| format!("cannot create our tables in the target: {}", chain(&e)))?;
        }
        let ledger = SqliteLedger::new(store.pool().clone());
        Ok(Migrator::new(store, ledger))
    } else {
        Err(format!(
            "--target {target:?} is neither postgres://… nor sqlite://… (e.g. sqlite://prismiq.db)"
        ))
    }
}

/// An error with its sources, `a: b: c`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn run(options: Options) -> Result<MigrationReport, String> {
    let job = options.job()?;
    let target = options
        .target
        .as_deref()
        .ok_or("give --target <url>: postgres://… or sqlite://…")?;
    let migrator = migrator(target, options.dry_run)
        .await?
        .with_dry_run(options.dry_run)
        .keeping_valid_widgets(options.keep_valid_widgets);
    match job {
        Job::Tables { source, schema } => {
            let pool = PgPool::connect(&source)
                .await
                .map_err(|e| format!("cannot connect to the source {source}: {}", chain(&e)))?;
            let report = migrator
                .migrate(&pool, &schema)
                .await
                .map_err(|e| chain(&e));
            pool.close().await;
            report
        }
        Job::File {
            path,
            tenant,
            owner,
        } => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
            let export: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?;
            migrator
                .import_export(&export, &tenant, owner.as_deref())
                .await
                .map_err(|e| format!("{path}: {}", chain(&e)))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("prismiq-migrate: {message}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let json = options.json;
    match run(options).await {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{report}");
            }
            if report.has_skipped() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("prismiq-migrate: {message}");
            ExitCode::FAILURE
        }
    }
}
