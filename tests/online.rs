//! `check --online` against a real Synapse (the PyPI package, SQLite, on 127.0.0.1) configured
//! by `mas-link synapse`, and a stand-in MAS served by this test on 127.0.0.1. Needs
//! MAS_LINK_SYNAPSE_PYTHON like the other Synapse-backed tests. Servers are stopped on drop,
//! also when an assertion fails.

mod common;
#[path = "common/server.rs"]
mod server;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use serde_json::Value;

const SECRET: &str = "Pq7WnB2sZcXk3RtvQ9Lm0aS3dF5gH7jK";

/// A stand-in MAS: answers its discovery document, 404 otherwise. Stops on drop.
struct StandInMas {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandInMas {
    fn start() -> StandInMas {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                // Drain the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split(' ').nth(1).unwrap_or("");
                let base = format!("http://127.0.0.1:{port}/");
                let (status, body) = if path.starts_with("/.well-known/openid-configuration") {
                    (
                        "200 OK",
                        serde_json::json!({
                            "issuer": base,
                            "authorization_endpoint": format!("{base}authorize"),
                            "token_endpoint": format!("{base}oauth2/token"),
                            "jwks_uri": format!("{base}oauth2/keys.json"),
                            "registration_endpoint": format!("{base}oauth2/registration"),
                            "introspection_endpoint": format!("{base}oauth2/introspect"),
                            "revocation_endpoint": format!("{base}oauth2/revoke"),
                            "response_types_supported": ["code"],
                            "response_modes_supported": ["query", "fragment"],
                            "grant_types_supported": ["authorization_code", "refresh_token"],
                            "code_challenge_methods_supported": ["S256"],
                            "account_management_uri": format!("{base}account/"),
                        })
                        .to_string(),
                    )
                } else {
                    ("404 Not Found", "{}".to_owned())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        StandInMas {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StandInMas {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Synapse folder: base config, signing key, log config, then linked by mas-link.
fn prepare(py: &Path, dir: &Path, port: u16, mas_port: u16) {
    server::write_config(py, dir, port, &server::sqlite(dir));
    mas_link()
        .current_dir(dir)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
        ])
        .arg(format!("http://127.0.0.1:{mas_port}/"))
        .env("MAS_SECRET", SECRET)
        .assert()
        .success();
    write_mas_config(dir, port, mas_port, SECRET);
}

fn write_mas_config(dir: &Path, port: u16, mas_port: u16, secret: &str) {
    fs::write(
        dir.join("config.yaml"),
        format!(
            "http:\n  public_base: http://127.0.0.1:{mas_port}/\n  issuer: http://127.0.0.1:{mas_port}/\n\
             secrets:\n  encryption_file: /etc/mas/encryption\n\
             matrix:\n  kind: synapse\n  homeserver: localhost\n  secret: {secret}\n  endpoint: http://127.0.0.1:{port}/\n"
        ),
    )
    .unwrap();
}

/// Runs `check --online --format json`; returns the exit code, the report and all the text.
fn check_online(dir: &Path) -> (i32, Value, String) {
    let out = mas_link()
        .current_dir(dir)
        .args([
            "check",
            "--online",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "config.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code().unwrap(), report, text)
}

fn probe<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name}: {report:#}"))
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn check_online_against_a_real_synapse() {
    let py = common::synapse_python();
    let dir = tempfile::tempdir().unwrap();
    let mut mas = StandInMas::start();
    let port = server::free_port();
    prepare(&py, dir.path(), port, mas.port);
    let synapse = server::Server::run(&py, dir.path(), port);

    // Everything in place.
    let (code, report, text) = check_online(dir.path());
    for name in [
        "client_versions",
        "mas_discovery",
        "shared_secret",
        "auth_metadata",
        "qr_login",
    ] {
        assert_eq!(probe(&report, name)["ok"], true, "{name}: {report:#}");
    }
    assert_eq!(probe(&report, "shared_secret")["status"], 400);
    assert_eq!(code, 0, "{report:#}");
    assert!(!text.contains(SECRET));

    // MAS's secret differs from Synapse's: a secret mismatch, live.
    let wrong = "WrongWrongWrongWrongWrongWrong12";
    write_mas_config(dir.path(), port, mas.port, wrong);
    let (code, report, text) = check_online(dir.path());
    assert_eq!(code, 1);
    let p = probe(&report, "shared_secret");
    assert_eq!(p["ok"], false);
    assert!(p["status"] == 401 || p["status"] == 403, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("secret mismatch"),
        "{p}"
    );
    assert!(
        !text.contains(SECRET) && !text.contains(wrong),
        "a secret was printed"
    );
    write_mas_config(dir.path(), port, mas.port, SECRET);

    // MAS stopped: unreachable at the endpoint Synapse uses.
    mas.stop();
    let (code, report, _) = check_online(dir.path());
    assert_eq!(code, 1);
    let p = probe(&report, "mas_discovery");
    assert_eq!(p["ok"], false);
    assert!(p["detail"].as_str().unwrap().contains("unreachable"), "{p}");
    drop(synapse);

    // QR-code login off: Synapse restarted without msc4108.
    let mas = StandInMas::start();
    write_mas_config(dir.path(), port, mas.port, SECRET);
    let hs = fs::read_to_string(dir.path().join("homeserver.yaml")).unwrap();
    let hs = hs.replace("msc4108_enabled: true", "msc4108_enabled: false");
    let old_endpoint = hs
        .lines()
        .find(|l| l.trim_start().starts_with("endpoint:"))
        .unwrap()
        .to_owned();
    let hs = hs.replace(
        &old_endpoint,
        &format!("  endpoint: \"http://127.0.0.1:{}/\"", mas.port),
    );
    fs::write(dir.path().join("homeserver.yaml"), hs).unwrap();
    let _synapse = server::Server::run(&py, dir.path(), port);
    let (_, report, _) = check_online(dir.path());
    let p = probe(&report, "qr_login");
    assert_eq!(p["ok"], false, "{report:#}");
    assert_eq!(p["status"], 404);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("no QR-code login"));
    assert!(f.is_some(), "{report:#}");
    assert_eq!(probe(&report, "mas_discovery")["ok"], true);
}
