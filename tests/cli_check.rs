//! `mas-link check`: every MAS-side and pairing rule with a passing and a failing file, the
//! exit codes, and the JSON report.

mod common;

use std::fs;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

const HS: &str = "server_name: \"example.com\"\nreport_stats: false\npublic_baseurl: \"https://matrix.example.com/\"\n\
matrix_authentication_service:\n  enabled: true\n  endpoint: \"http://localhost:8080/\"\n  secret: \"S3cretS3cret\"\n\
password_config:\n  enabled: false\nenable_registration: false\nexperimental_features:\n  msc4108_enabled: true\n";

const MAS: &str = "http:\n  public_base: https://auth.example.com/\n  issuer: https://auth.example.com/\n\
secrets:\n  encryption: 0000000000000000000000000000000000000000000000000000000000000000\n\
matrix:\n  kind: synapse\n  homeserver: example.com\n  secret: S3cretS3cret\n  endpoint: http://localhost:8008/\n";

/// Runs `check --format json` on the two texts; returns the exit code and the report.
fn check(hs: &str, mas: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("homeserver.yaml"), hs).unwrap();
    fs::write(dir.path().join("config.yaml"), mas).unwrap();
    fs::write(dir.path().join("secret"), "S3cretS3cret\n").unwrap();
    fs::write(dir.path().join("empty"), "").unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "config.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn keys(report: &Value, severity: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect()
}

/// The good pair passes; each change makes exactly the named key fail (or warn).
fn assert_rule(hs: &str, mas: &str, severity: &str, key: &str) {
    let (code, report) = check(hs, mas);
    let found = keys(&report, severity);
    assert!(
        found.contains(&key.to_owned()),
        "expected {severity} on {key}, got {report:#}"
    );
    assert_eq!(code, if severity == "error" { 1 } else { 0 }, "{report:#}");
}

#[test]
fn the_good_pair_passes() {
    let (code, report) = check(HS, MAS);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["ok"], true);
    assert_eq!(report["linked"], true);
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );
}

#[test]
fn mas_kind() {
    assert_rule(
        HS,
        &MAS.replace("kind: synapse", "kind: dendrite"),
        "error",
        "matrix.kind",
    );
    for ok in ["synapse_modern", "synapse_read_only", "synapse_legacy"] {
        assert_eq!(
            check(HS, &MAS.replace("kind: synapse", &format!("kind: {ok}"))).0,
            0
        );
    }
}

#[test]
fn mas_secret_xor_secret_file() {
    let both = MAS.replace(
        "  secret: S3cretS3cret\n",
        "  secret: S3cretS3cret\n  secret_file: secret\n",
    );
    assert_rule(HS, &both, "error", "matrix.secret_file");
    let neither = MAS.replace("  secret: S3cretS3cret\n", "");
    assert_rule(HS, &neither, "error", "matrix.secret");
    let file = MAS.replace("  secret: S3cretS3cret\n", "  secret_file: secret\n");
    assert_eq!(
        check(HS, &file).0,
        0,
        "secret_file with the same secret (trimmed) pairs"
    );
    assert_rule(
        HS,
        &MAS.replace("  secret: S3cretS3cret\n", "  secret_file: nope\n"),
        "error",
        "matrix.secret_file",
    );
    assert_rule(
        HS,
        &MAS.replace("  secret: S3cretS3cret\n", "  secret_file: empty\n"),
        "error",
        "matrix.secret_file",
    );
}

#[test]
fn mas_reads_yaml_12_strictly() {
    // Of duplicate keys MAS reads the last, silently: a warning, with its place.
    let dup = MAS.replace("  kind: synapse\n", "  kind: synapse\n  kind: synapse\n");
    let (code, report) = check(HS, &dup);
    assert_eq!(code, 0, "{report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["severity"], "warning", "{report:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("MAS reads the last"),
        "{report:#}"
    );
    assert_eq!(f["line"], 8);
    // A number where MAS wants a string.
    assert_eq!(
        check(HS, &MAS.replace("secret: S3cretS3cret", "secret: 12345")).0,
        1
    );
    // `yes` is a string in YAML 1.2, so `secret: yes` is the secret "yes" (and then mismatches).
    assert_rule(
        HS,
        &MAS.replace("secret: S3cretS3cret", "secret: yes"),
        "error",
        "matrix_authentication_service.secret",
    );
}

#[test]
fn mas_endpoint() {
    assert_rule(
        HS,
        &MAS.replace(
            "endpoint: http://localhost:8008/",
            "endpoint: localhost:8008",
        ),
        "error",
        "matrix.endpoint",
    );
    assert_rule(
        HS,
        &MAS.replace(
            "endpoint: http://localhost:8008/",
            "endpoint: http://synapse/prefix",
        ),
        "warning",
        "matrix.endpoint",
    );
    assert_eq!(
        check(
            HS,
            &MAS.replace(
                "endpoint: http://localhost:8008/",
                "endpoint: http://synapse/prefix/"
            )
        )
        .0,
        0
    );
}

#[test]
fn mas_homeserver_is_a_server_name() {
    let url = MAS.replace("homeserver: example.com", "homeserver: https://example.com");
    assert_rule(HS, &url, "error", "matrix.homeserver");
}

#[test]
fn mas_generated_public_base_and_issuer() {
    let generated = MAS
        .replace(
            "public_base: https://auth.example.com/",
            "public_base: http://[::]:8080/",
        )
        .replace(
            "issuer: https://auth.example.com/",
            "issuer: http://[::]:8080/",
        );
    assert_rule(HS, &generated, "warning", "http.public_base");
    let issuer = MAS.replace(
        "issuer: https://auth.example.com/",
        "issuer: http://[::]:8080/",
    );
    assert_rule(HS, &issuer, "warning", "http.issuer");
}

#[test]
fn pairing_secrets_must_match() {
    assert_rule(
        HS,
        &MAS.replace("secret: S3cretS3cret", "secret: S3cretS3creX"),
        "error",
        "matrix_authentication_service.secret",
    );
    // Synapse's secret_path is read stripped, like MAS's secret_file.
    let hs = HS.replace("  secret: \"S3cretS3cret\"\n", "  secret_path: secret\n");
    assert_eq!(check(&hs, MAS).0, 0);
    assert_rule(
        &hs.replace("secret_path: secret", "secret_path: empty"),
        MAS,
        "error",
        "matrix_authentication_service.secret_path",
    );
}

#[test]
fn pairing_homeserver_equals_server_name() {
    assert_rule(
        HS,
        &MAS.replace("homeserver: example.com", "homeserver: example.org"),
        "error",
        "matrix.homeserver",
    );
}

#[test]
fn pairing_endpoints_point_at_the_other_program() {
    let hs = HS.replace(
        "endpoint: \"http://localhost:8080/\"",
        "endpoint: \"https://matrix.example.com\"",
    );
    assert_rule(&hs, MAS, "error", "matrix_authentication_service.endpoint");
    let mas = MAS.replace(
        "endpoint: http://localhost:8008/",
        "endpoint: https://auth.example.com/",
    );
    assert_rule(HS, &mas, "error", "matrix.endpoint");
}

#[test]
fn not_linked_is_its_own_result() {
    let (code, report) = check(
        &HS.replace(
            "  enabled: true\n  endpoint",
            "  enabled: false\n  endpoint",
        ),
        MAS,
    );
    assert_eq!(code, 1);
    assert_eq!(report["linked"], false);
    assert!(keys(&report, "error").contains(&"matrix_authentication_service.enabled".to_owned()));
}

#[test]
fn human_output_names_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("hs.yaml"),
        HS.replace(
            "  enabled: false\nenable_registration",
            "  enabled: \"false\"\nenable_registration",
        ),
    )
    .unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["check", "--synapse-config", "hs.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error: hs.yaml:9:3: `password_config.enabled`",
        ))
        .stdout(predicate::str::contains(
            "fix: run `mas-link synapse --synapse-config hs.yaml`",
        ))
        .stdout(predicate::str::contains("FAILED: 1 error(s)"));
}

#[test]
fn unreadable_or_unparseable_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.yaml"), "a: [1,\n").unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["check", "--synapse-config", "bad.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.yaml:"));
    mas_link()
        .current_dir(dir.path())
        .args(["check", "--mas-config", "missing.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("reading missing.yaml"));
}

/// What `mas-link synapse` writes, `check` passes (with the fixtures' MAS config).
#[test]
fn check_passes_what_synapse_writes() {
    for name in LINKABLE {
        let (dir, _) = scratch(&fixture(&format!("{name}/homeserver.yaml")));
        link_with_mas_fixture(dir.path(), &["--yes"])
            .assert()
            .success();
        let out = mas_link()
            .current_dir(dir.path())
            .args([
                "check",
                "--synapse-config",
                "homeserver.yaml",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["errors"], 0, "{name}: {report:#}");
    }
}
