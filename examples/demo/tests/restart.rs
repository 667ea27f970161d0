//! The demo with nothing installed: no `DATABASE_URL`, everything in a SQLite file in
//! `PRISMIQ_DATA_DIR`. Started twice on the same directory, it keeps what was created.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The demo binary, serving on a free port with its data in `dir`.
struct Demo {
    child: Child,
    port: u16,
}

impl Demo {
    fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_prismiq-demo"))
            .env_remove("DATABASE_URL")
            .env("PRISMIQ_DATA_DIR", dir)
            .env("PORT", port.to_string())
            // alice administers tenant `demo`, so she may share its Sales overview.
            .env("PRISMIQ_ADMIN_USERS", "alice")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the demo");
        // It prints its address once it listens.
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the demo's first line");
        assert!(line.contains("listening"), "unexpected output: {line}");
        Self { child, port }
    }

    /// One HTTP/1.1 request on a connection of its own (`Connection: close`): the status and the
    /// JSON body.
    fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let body = body.unwrap_or("");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "{method} /api/prismiq{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tenant-ID: demo\r\n\
             X-User-ID: alice\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        let (head, body) = response.split_once("\r\n\r\n").expect("a response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        let json = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
        };
        (status, json)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn the_demo_runs_on_sqlite_and_keeps_dashboards_across_restarts() {
    let dir = std::env::temp_dir().join(format!("prismiq-demo-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let started = Instant::now();
    let demo = Demo::start(&dir);
    assert!(dir.join("prismiq-demo.db").exists());

    // The Sales overview queries the sample dataset: known answers.
    let (status, list) = demo.request("GET", "/dashboards", None);
    assert_eq!(status, 200, "{list}");
    let sales = list["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Sales overview")
        .expect("the Sales overview")
        .clone();
    let (status, result) = demo.request(
        "POST",
        "/query/execute",
        Some(
            r#"{"query": {"tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
                "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id", "join_type": "LEFT"}],
                "columns": [{"table_id": "t2", "column": "region"}, {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}],
                "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"}],
                "order_by": [{"table_id": "t2", "column": "region", "direction": "ASC"}]}}"#,
        ),
    );
    assert_eq!(status, 200, "{result}");
    let rows: Vec<(serde_json::Value, f64)> = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                (r[1].as_f64().unwrap() * 100.0).round() / 100.0,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("East".into(), 1092395.68),
            ("North".into(), 546612.82),
            ("South".into(), 825810.04),
            ("West".into(), 248526.12),
            (serde_json::Value::Null, 54508.9),
        ]
    );
    for widget in sales["widgets"].as_array().unwrap() {
        if widget["query"].is_null() {
            continue;
        }
        let path = format!(
            "/dashboards/{}/widgets/{}/execute",
            sales["id"].as_str().unwrap(),
            widget["id"].as_str().unwrap()
        );
        let (status, body) = demo.request("POST", &path, Some("[]"));
        assert_eq!(status, 200, "{}: {body}", widget["title"]);
        assert!(
            body["row_count"].as_u64().unwrap() > 0,
            "{}: {body}",
            widget["title"]
        );
    }

    // The Sales overview shared through a link: readable without the tenant's headers.
    let sales_id = sales["id"].as_str().unwrap();
    let (status, share) = demo.request(
        "POST",
        &format!("/dashboards/{sales_id}/shares"),
        Some("{}"),
    );
    assert_eq!(status, 201, "{share}");
    let token = share["token"].as_str().unwrap();
    assert_eq!(share["url"], format!("/api/prismiq/shared/{token}"));
    let (status, shared) = demo.request("GET", &format!("/shared/{token}"), None);
    assert_eq!(status, 200, "{shared}");
    assert_eq!(shared["name"], "Sales overview");

    // The demo's own widget types, and the starter dashboard of a first visit.
    let (status, types) = demo.request("GET", "/widget-types", None);
    assert_eq!(status, 200, "{types}");
    let keys: Vec<&str> = types["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"gauge") && keys.contains(&"server_status"),
        "{keys:?}"
    );
    let (status, starter) = demo.request("GET", "/dashboards/default", None);
    assert_eq!(status, 200, "{starter}");
    assert_eq!(starter["name"], "alice's dashboard");
    for widget in starter["widgets"].as_array().unwrap() {
        let path = format!(
            "/dashboards/{}/widgets/{}/execute",
            starter["id"].as_str().unwrap(),
            widget["id"].as_str().unwrap()
        );
        let (status, body) = demo.request("POST", &path, Some("[]"));
        assert_eq!(status, 200, "{}: {body}", widget["title"]);
        assert!(body["row_count"].as_u64().unwrap() > 0, "{body}");
    }

    // The demo's template makes a dashboard whose widgets run.
    let (status, made) = demo.request(
        "POST",
        "/dashboards",
        Some(r#"{"from_template": "order_health"}"#),
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["name"], "Order health");
    for widget in made["widgets"].as_array().unwrap() {
        let path = format!(
            "/dashboards/{}/widgets/{}/execute",
            made["id"].as_str().unwrap(),
            widget["id"].as_str().unwrap()
        );
        let (status, body) = demo.request("POST", &path, Some("[]"));
        assert_eq!(status, 200, "{}: {body}", widget["title"]);
        assert!(body["row_count"].as_u64().unwrap() > 0, "{body}");
    }

    let (status, created) = demo.request("POST", "/dashboards", Some(r#"{"name": "Kept"}"#));
    assert_eq!(status, 201, "{created}");
    demo.stop();

    let demo = Demo::start(&dir);
    let (status, kept) = demo.request(
        "GET",
        &format!("/dashboards/{}", created["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["name"], "Kept");
    let (_, list) = demo.request("GET", "/dashboards", None);
    let sales_count = list["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"] == "Sales overview")
        .count();
    assert_eq!(sales_count, 1, "the sample dashboard is created once");
    let (status, default) = demo.request("GET", "/dashboards/default", None);
    assert_eq!(status, 200, "{default}");
    assert_eq!(default["id"], starter["id"], "the starter is created once");
    demo.stop();
    eprintln!("two starts and the checks took {:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}
