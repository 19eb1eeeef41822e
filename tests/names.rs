//! Server names and URLs are judged the same way by every command: what `mas` or `synapse`
//! refuses to write, `check` reports as an error in a file, and what one accepts the others
//! accept (a user ID, a space, a scheme, a port).

mod common;

use std::fs;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

const HS: &str = "server_name: \"example.com\"\nreport_stats: false\n";
const MAS: &str = "secrets:\n  encryption_file: /etc/mas/encryption\nmatrix:\n  kind: synapse\n  homeserver: example.com\n  secret: S3cretS3cret\n  endpoint: http://localhost:8008/\n";

/// (value, accepted, what the refusal says)
const NAMES: &[(&str, bool, &str)] = &[
    ("@admin:example.com", false, "user ID"),
    ("exa mple.com", false, "not a server name"),
    ("https://example.com", false, "URL"),
    ("example.com:http", false, "port"),
    ("example.com:8448", true, ""),
    ("[::1]:8448", true, ""),
];

const URLS: &[(&str, bool, &str)] = &[
    ("auth.example.com", false, "http:// or https://"),
    ("https://auth example.com/", false, "white space"),
    ("https://auth.example.com:99999/", false, "port"),
    ("https://auth.example.com:http/", false, "port"),
    ("https://auth.example.com:8443/", true, ""),
    ("HTTPS://auth.example.com/", true, ""),
];

/// The error keys `check --format json` reports for these two files.
fn check_errors(hs: &str, mas: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("homeserver.yaml"), hs).unwrap();
    fs::write(dir.path().join("config.yaml"), mas).unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .args(["--mas-config", "config.yaml", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn server_names_alike_in_mas_and_check() {
    for &(name, ok, why) in NAMES {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("config.yaml"), MAS).unwrap();
        let run = mas_link()
            .current_dir(dir.path())
            .args([
                "mas",
                "--mas-config",
                "config.yaml",
                "--homeserver",
                name,
                "--dry-run",
            ])
            .assert();
        if ok {
            run.code(0);
        } else {
            run.code(2).stderr(predicate::str::contains(why));
        }
        let quoted = format!("\"{name}\"");
        let hs = HS.replace("\"example.com\"", &quoted);
        let mas = MAS.replace("homeserver: example.com", &format!("homeserver: {quoted}"));
        let errors = check_errors(&hs, &mas);
        for key in ["server_name", "matrix.homeserver"] {
            assert_eq!(
                !errors.iter().any(|e| e == key),
                ok,
                "{name}: {key}: {errors:?}"
            );
        }
    }
}

#[test]
fn urls_alike_in_synapse_mas_and_check() {
    for &(url, ok, why) in URLS {
        let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
        let run = mas_link()
            .current_dir(dir.path())
            .env("MAS_SECRET", MAS_SECRET)
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--endpoint",
                url,
            ])
            .arg("--dry-run")
            .assert();
        if ok {
            run.code(0);
        } else {
            run.code(2).stderr(predicate::str::contains(why));
        }
        fs::write(dir.path().join("config.yaml"), MAS).unwrap();
        let run = mas_link()
            .current_dir(dir.path())
            .args([
                "mas",
                "--mas-config",
                "config.yaml",
                "--homeserver",
                "example.com",
            ])
            .args(["--synapse-endpoint", url, "--dry-run"])
            .assert();
        if ok {
            run.code(0);
        } else {
            run.code(2).stderr(predicate::str::contains(why));
        }
        let hs = format!(
            "{HS}matrix_authentication_service:\n  enabled: true\n  endpoint: \"{url}\"\n  secret: \"S3cretS3cret\"\n\
             password_config:\n  enabled: false\nenable_registration: false\n"
        );
        let mas = MAS.replace("http://localhost:8008/", &format!("\"{url}\""));
        let errors = check_errors(&hs, &mas);
        for key in ["matrix_authentication_service.endpoint", "matrix.endpoint"] {
            assert_eq!(
                !errors.iter().any(|e| e == key),
                ok,
                "{url}: {key}: {errors:?}"
            );
        }
    }
}
