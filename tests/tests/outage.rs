//! A database outage: killing PostgreSQL mid-run turns requests into quick 503s with a JSON
//! `detail` (no panic, no hang), and service resumes once the server is back, with the same
//! engine and pool.
//!
//! The test runs a throwaway PostgreSQL cluster of its own (initdb and pg_ctl from
//! `PRISMIQ_PG_BIN`, `/usr/lib/postgresql/*/bin` or `PATH`, on a free port, in a temporary
//! directory), since it stops and restarts the server: it never touches the server of
//! `DATABASE_URL`. As root, the cluster runs as user `postgres` (or `nobody`), like
//! `scripts/pg-env.sh` does. Without PostgreSQL server binaries the test fails and says what to
//! install.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prismiq_axum::prismiq_core::Engine;
use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::sqlx::postgres::PgPoolOptions;
use prismiq_tests::{Response, TestApp};
use serde_json::json;

/// How long the store's pool waits for a connection: a request to a dead database fails after
/// about this long.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// The most a request may take while the database is down.
const ANSWER_WITHIN: Duration = Duration::from_secs(6);

const NO_BINARIES: &str = "\
The outage test needs PostgreSQL server binaries (initdb, pg_ctl) to run a throwaway cluster
that it can stop and restart; none were found in PRISMIQ_PG_BIN, /usr/lib/postgresql/*/bin or
PATH. Install them:

    apt-get install postgresql        (Debian/Ubuntu)
    brew install postgresql@15        (macOS; binaries on PATH)

or point PRISMIQ_PG_BIN at the directory that holds initdb and pg_ctl.";

/// The directory with `initdb` and `pg_ctl`, newest version first.
fn server_binaries() -> PathBuf {
    let usable = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PRISMIQ_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            usable(&dir),
            "PRISMIQ_PG_BIN={} has no initdb and pg_ctl",
            dir.display()
        );
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| usable(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return dir;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| usable(dir))
        .unwrap_or_else(|| panic!("{NO_BINARIES}"))
}

fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A throwaway PostgreSQL cluster that can be stopped and started again. Dropping it stops the
/// server and removes its directory.
#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// The user that owns and runs the cluster when we are root.
    owner: Option<&'static str>,
}

impl Cluster {
    /// Creates and starts a cluster on a free port.
    fn start() -> Self {
        let bin = server_binaries();
        let owner = is_root().then(|| {
            if Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|o| o.status.success())
            {
                "postgres"
            } else {
                "nobody"
            }
        });
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("prismiq-outage-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
            owner,
        };
        if let Some(owner) = owner {
            let chown = Command::new("chown")
                .arg(owner)
                .arg(&cluster.dir)
                .output()
                .expect("run chown");
            assert!(
                chown.status.success(),
                "chown {owner} {}: {}",
                cluster.dir.display(),
                output_text(&chown)
            );
        }
        let data = cluster.data_dir();
        let initdb = cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            ],
        );
        assert!(initdb.status.success(), "initdb: {}", output_text(&initdb));
        cluster.start_server();
        cluster
    }

    fn data_dir(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server binaries as the cluster's owner.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let mut command = match self.owner {
            Some(owner) => {
                let mut command = Command::new("runuser");
                command.args(["-u", owner, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    }

    fn start_server(&self) {
        let log = self.dir.join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.data_dir();
        let start = self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        );
        assert!(
            start.status.success(),
            "pg_ctl start: {}\n{}",
            output_text(&start),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Kills the server the way a crash would: no shutdown checkpoint, connections cut.
    fn stop_immediately(&self) {
        let data = self.data_dir();
        let stop = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        assert!(stop.status.success(), "pg_ctl stop: {}", output_text(&stop));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Sends a request that must answer within [`ANSWER_WITHIN`].
async fn timely(what: &str, call: prismiq_tests::Call) -> Response {
    let started = Instant::now();
    let response = tokio::time::timeout(ANSWER_WITHIN, call.send())
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer within {ANSWER_WITHIN:?}"));
    assert!(
        started.elapsed() < ANSWER_WITHIN,
        "{what} took {:?}",
        started.elapsed()
    );
    response
}

/// Asserts a 503 whose JSON `detail` is a non-empty string.
#[track_caller]
fn assert_unavailable(what: &str, response: Response) {
    let body = response.expect(503);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(!detail.is_empty(), "{what}: 503 without a detail: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503s_and_service_resumes_on_restart() {
    let cluster = Cluster::start();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect(&cluster.url())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the throwaway cluster: {e}"));
    let store = PostgresStore::new(pool);
    store.migrate().await.expect("migrate");
    let app = TestApp::new(Engine::new(store));

    // Up: the usual answers.
    let created = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({ "name": "Before the outage" }))
        .send()
        .await
        .expect(201);
    let id = created["id"].as_str().expect("an id").to_owned();
    let listed = app
        .get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["dashboards"].as_array().map(Vec::len), Some(1));
    app.get("/health/ready").send().await.expect(200);

    // Down: every request that needs the database is a timely 503, again and again.
    cluster.stop_immediately();
    for round in 0..2 {
        let what = format!("GET /dashboards (round {round})");
        assert_unavailable(
            &what,
            timely(&what, app.get("/dashboards").as_user("alice")).await,
        );
        let what = format!("GET /dashboards/{id} (round {round})");
        assert_unavailable(
            &what,
            timely(
                &what,
                app.get(&format!("/dashboards/{id}")).as_user("alice"),
            )
            .await,
        );
        let what = format!("POST /dashboards (round {round})");
        assert_unavailable(
            &what,
            timely(
                &what,
                app.post("/dashboards")
                    .as_user("alice")
                    .json(&json!({ "name": format!("During the outage {round}") })),
            )
            .await,
        );
        let what = format!("GET /health/ready (round {round})");
        assert_unavailable(&what, timely(&what, app.get("/health/ready")).await);
    }
    // The process itself still answers.
    app.get("/health/live").send().await.expect(200);

    // Back: the same app serves again, with the data from before the outage.
    cluster.start_server();
    let listed = timely(
        "GET /dashboards after the restart",
        app.get("/dashboards").as_user("alice"),
    )
    .await
    .expect(200);
    let names: Vec<&str> = listed["dashboards"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, ["Before the outage"]);
    app.get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    app.post("/dashboards")
        .as_user("alice")
        .json(&json!({ "name": "After the outage" }))
        .send()
        .await
        .expect(201);
    app.get("/health/ready").send().await.expect(200);
}
