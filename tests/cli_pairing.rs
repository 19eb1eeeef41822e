//! Both sides and the way back: `mas-link mas`, the two-container pipe, `mas-link unlink`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use mas_link::yaml::{Document, Options, Value};
use predicates::prelude::*;

fn meaning(path: &Path, options: Options) -> Value {
    Document::from_bytes(&fs::read(path).unwrap(), options)
        .unwrap()
        .value()
        .clone()
}

#[test]
fn mas_sets_the_matrix_section_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = copy(&fixture("mas/config.yaml"), dir.path(), "config.yaml");
    let before = fs::read_to_string(&cfg).unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--homeserver",
            "matrix.example.com",
            "--synapse-endpoint",
            "http://synapse:8008",
            "--dry-run",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!("mas_dry_run", stdout);
    assert!(!stdout.contains(MAS_SECRET));
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--homeserver",
            "matrix.example.com",
            "--synapse-endpoint",
            "http://synapse:8008",
            "--yes",
        ])
        .assert()
        .success();
    let after = fs::read_to_string(&cfg).unwrap();
    // Only the two lines of the matrix section changed; the PEM block scalars are intact.
    let changed = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, 2, "{after}");
    assert_eq!(before.lines().count(), after.lines().count());
    assert!(after.contains("      -----BEGIN RSA PRIVATE KEY-----\n"));
    let v = meaning(&cfg, Options::SERDE_YAML);
    assert_eq!(
        v.at(&["matrix", "homeserver"]).and_then(Value::as_str),
        Some("matrix.example.com")
    );
    assert_eq!(
        v.at(&["matrix", "endpoint"]).and_then(Value::as_str),
        Some("http://synapse:8008/")
    );
    assert_eq!(
        v.at(&["matrix", "secret"]).and_then(Value::as_str),
        Some(MAS_SECRET)
    );
    // Idempotent.
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--homeserver",
            "matrix.example.com",
            "--synapse-endpoint",
            "http://synapse:8008/",
            "--check",
        ])
        .assert()
        .code(0);
}

#[test]
fn mas_generates_a_secret_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    fs::write(
        &cfg,
        "http:\n  public_base: https://auth.example.com/\nsecrets:\n  encryption_file: /etc/mas/encryption\n",
    )
    .unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["mas", "--mas-config", "config.yaml", "--yes"])
        .env("MATRIX_HOMESERVER_DOMAIN", "example.com")
        .assert()
        .success()
        .stdout(predicate::str::contains("generated: 32 random characters"));
    let v = meaning(&cfg, Options::SERDE_YAML);
    let secret = v.at(&["matrix", "secret"]).and_then(Value::as_str).unwrap();
    assert_eq!(secret.len(), 32);
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        v.at(&["matrix", "kind"]).and_then(Value::as_str),
        Some("synapse")
    );
    assert_eq!(
        v.at(&["matrix", "endpoint"]).and_then(Value::as_str),
        Some("https://example.com/")
    );
    // The secret is never printed, and a second run keeps it.
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--yes",
            "--homeserver",
            "example.com",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing to do"));
    mas_link()
        .current_dir(dir.path())
        .args(["secret", "--mas-config", "config.yaml"])
        .assert()
        .stdout(format!("{secret}\n"));
}

#[test]
fn mas_reads_the_homeserver_from_synapse_when_both_are_here() {
    let dir = tempfile::tempdir().unwrap();
    // No endpoint yet: Synapse's public_baseurl becomes it.
    let text = fs::read_to_string(fixture("mas/config.yaml"))
        .unwrap()
        .replace("  endpoint: http://localhost:8008/\n", "");
    fs::write(dir.path().join("config.yaml"), text).unwrap();
    copy(
        &fixture("cloudron/homeserver.yaml"),
        dir.path(),
        "homeserver.yaml",
    );
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ])
        .assert()
        .success();
    let v = meaning(&dir.path().join("config.yaml"), Options::SERDE_YAML);
    assert_eq!(
        v.at(&["matrix", "endpoint"]).and_then(Value::as_str),
        Some("https://matrix.example.com/")
    );
    // And Synapse takes MAS's secret from the file beside it: no copying at all.
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "config.yaml",
            "--yes",
        ])
        .assert()
        .success();
    mas_link()
        .current_dir(dir.path())
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "config.yaml",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("OK: 0 error(s)"));
}

#[test]
fn mas_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    // A number where MAS reads a string: MAS would refuse the file.
    let text = "matrix:\n  secret: 12345\n";
    fs::write(&cfg, text).unwrap();
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--homeserver",
            "example.com",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("config.yaml:"));
    assert_eq!(fs::read_to_string(&cfg).unwrap(), text);
    mas_link()
        .current_dir(dir.path())
        .args(["mas", "--mas-config", "config.yaml", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no homeserver name"));
}

/// The Cloudron flow: two containers (two folders), the secret through a shell pipe.
#[test]
fn two_containers_pipe() {
    let mas_box = tempfile::tempdir().unwrap();
    let matrix_box = tempfile::tempdir().unwrap();
    copy(&fixture("mas/config.yaml"), mas_box.path(), "config.yaml");
    let hs = copy(
        &fixture("cloudron/homeserver.yaml"),
        matrix_box.path(),
        "homeserver.yaml",
    );
    let bin = common::bin();
    for bundle in ["", " --bundle"] {
        let line = format!(
            "cd {mas} && {bin} secret --mas-config config.yaml{bundle} | (cd {matrix} && {bin} synapse --new-server --synapse-config homeserver.yaml --secret-stdin --endpoint https://auth.example.com/ --yes)",
            mas = mas_box.path().display(),
            matrix = matrix_box.path().display(),
            bin = bin.display(),
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("NO_COLOR", "1")
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!printed.contains(MAS_SECRET), "secret printed");
        assert!(!line.contains(MAS_SECRET), "secret in argv");
        let v = meaning(&hs, Options::PYYAML);
        assert_eq!(
            v.at(&["matrix_authentication_service", "secret"])
                .and_then(Value::as_str),
            Some(MAS_SECRET)
        );
    }
    // A bundle brings the endpoint, and MAS's homeserver: a Synapse of another name is
    // refused, untouched.
    let other = copy(
        &fixture("generated-1.163/homeserver.yaml"),
        matrix_box.path(),
        "other.yaml",
    );
    let before = fs::read(&other).unwrap();
    let pipe = |hs: &Path| {
        let line = format!(
            "{bin} secret --bundle --mas-config {mas}/config.yaml | {bin} synapse --new-server --synapse-config {hs} --secret-stdin --yes",
            bin = bin.display(),
            mas = mas_box.path().display(),
            hs = hs.display()
        );
        Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .output()
            .unwrap()
    };
    let out = pipe(&other);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mint user IDs on the wrong server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&other).unwrap(), before);
    let hs2 = copy(
        &fixture("cloudron/homeserver.yaml"),
        matrix_box.path(),
        "hs2.yaml",
    );
    let out = pipe(&hs2);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = meaning(&hs2, Options::PYYAML);
    assert_eq!(
        v.at(&["matrix_authentication_service", "endpoint"])
            .and_then(Value::as_str),
        Some("https://auth.example.com/")
    );
}

/// What a link means, minus what unlink keeps on purpose: the disabled MAS block, and the
/// legacy MSC3861 block it never restores. Key order is not meaning (Synapse reads a dict),
/// and a restored key may come back at the end of its mapping.
fn without_kept(v: &Value) -> Value {
    fn unordered(v: Value) -> Value {
        match v {
            Value::Map(m) => {
                let mut entries: Vec<(Value, Value)> =
                    m.0.into_iter().map(|(k, v)| (k, unordered(v))).collect();
                entries.sort_by_key(|(k, _)| format!("{k:?}"));
                Value::Map(mas_link::yaml::Map(entries))
            }
            Value::Seq(s) => Value::Seq(s.into_iter().map(unordered).collect()),
            v => v,
        }
    }
    let mut v = unordered(v.clone());
    if let Value::Map(m) = &mut v {
        m.remove("matrix_authentication_service");
        if let Some(Value::Map(e)) = m.get_mut("experimental_features") {
            e.remove("msc3861");
        }
    }
    v
}

#[test]
fn link_unlink_link_round_trips() {
    for name in LINKABLE {
        for edit_between in [false, true] {
            let (dir, hs) = scratch(&fixture(&format!("{name}/homeserver.yaml")));
            let original = meaning(&hs, Options::PYYAML);
            let link = || {
                link_with_mas_fixture(dir.path(), &["--yes"])
                    .assert()
                    .success();
            };
            link();
            let linked = fs::read(&hs).unwrap();
            if edit_between {
                // Someone edits the file after the link: unlink must reverse-patch.
                let mut text = String::from_utf8(linked.clone()).unwrap();
                text.push_str("\n# a later comment\n");
                fs::write(&hs, text).unwrap();
            }
            let out = mas_link()
                .current_dir(dir.path())
                .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
                .assert()
                .success();
            let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
            // The backup is restored when the file is untouched, unless it holds what Synapse
            // refuses (the legacy MSC3861 block): then unlink reverse-patches.
            let by_backup = !edit_between && *name != "legacy-msc3861";
            assert_eq!(stdout.contains("its backup"), by_backup, "{name}: {stdout}");
            let unlinked = meaning(&hs, Options::PYYAML);
            // The legacy server logged in only through MAS (password login off): without MAS,
            // password login comes back on, so that someone can log in.
            let mut expected = without_kept(&original);
            if *name == "legacy-msc3861"
                && let Value::Map(m) = &mut expected
                && let Some(Value::Map(p)) = m.get_mut("password_config")
            {
                p.insert(Value::Str("enabled".into()), Value::Bool(true));
            }
            assert_eq!(
                without_kept(&unlinked),
                expected,
                "{name} (edited: {edit_between})"
            );
            // Not linked, and nothing Synapse refuses.
            let check = mas_link()
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
            let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
            assert_eq!(report["linked"], false);
            for f in report["findings"].as_array().unwrap() {
                assert!(
                    f["effect"] == "not_linked" || f["severity"] == "warning",
                    "{name}: {f}"
                );
            }
            // Relinking is one command and gives the same meaning as the first link.
            link();
            assert_eq!(
                meaning(&hs, Options::PYYAML),
                Document::from_bytes(&linked, Options::PYYAML)
                    .unwrap()
                    .value()
                    .clone(),
                "{name}"
            );
        }
    }
}

#[test]
fn unlink_without_a_record_turns_password_login_back_on() {
    // No record, or one torn by a crash (it is written without a sync of its own).
    for record in [None, Some(""), Some("{\n  \"format_version\": 1,\n  \"wri")] {
        let dir = tempfile::tempdir().unwrap();
        let hs = dir.path().join("homeserver.yaml");
        fs::write(
            &hs,
            "server_name: x\nreport_stats: false\nmatrix_authentication_service:\n  enabled: true\n  secret: \"s\"\npassword_config:\n  enabled: false\nexperimental_features:\n  msc4108_enabled: true\n",
        )
        .unwrap();
        if let Some(r) = record {
            fs::write(dir.path().join("homeserver.yaml.mas-link.json"), r).unwrap();
        }
        mas_link()
            .current_dir(dir.path())
            .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
            .assert()
            .success()
            .stderr(predicate::str::contains("no record of the link"));
        assert_eq!(
            fs::read_to_string(&hs).unwrap(),
            "server_name: x\nreport_stats: false\nmatrix_authentication_service:\n  enabled: false\n  secret: \"s\"\npassword_config:\n  enabled: true\nexperimental_features:\n  msc4108_enabled: false\n",
            "{record:?}"
        );
    }
}

#[test]
fn mas_keeps_a_working_endpoint_unless_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(fixture("mas/config.yaml"))
        .unwrap()
        .replace("http://localhost:8008/", "http://synapse:8008/");
    fs::write(dir.path().join("config.yaml"), &text).unwrap();
    copy(
        &fixture("cloudron/homeserver.yaml"),
        dir.path(),
        "homeserver.yaml",
    );
    let endpoint = || {
        let v = meaning(&dir.path().join("config.yaml"), Options::SERDE_YAML);
        v.at(&["matrix", "endpoint"])
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    for extra in [&[][..], &["--synapse-config", "homeserver.yaml"][..]] {
        mas_link()
            .current_dir(dir.path())
            .args([
                "mas",
                "--mas-config",
                "config.yaml",
                "--homeserver",
                "example.com",
                "--yes",
            ])
            .args(extra)
            .assert()
            .success();
        assert_eq!(
            endpoint().as_deref(),
            Some("http://synapse:8008/"),
            "{extra:?}"
        );
    }
    mas_link()
        .current_dir(dir.path())
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--homeserver",
            "example.com",
        ])
        .args(["--synapse-endpoint", "http://matrix:8008/", "--yes"])
        .assert()
        .success();
    assert_eq!(endpoint().as_deref(), Some("http://matrix:8008/"));
}

/// One side at a time, honestly: `check` in Synapse's container alone says the pairing was not
/// checked, and with MAS's bundle piped in it catches a secret that differs.
#[test]
fn piped_one_side_check() {
    let mas_box = tempfile::tempdir().unwrap();
    let matrix_box = tempfile::tempdir().unwrap();
    copy(&fixture("mas/config.yaml"), mas_box.path(), "config.yaml");
    copy(
        &fixture("cloudron/homeserver.yaml"),
        matrix_box.path(),
        "homeserver.yaml",
    );
    mas_link()
        .current_dir(matrix_box.path())
        .env("MAS_SECRET", "not-the-secret-MAS-has")
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--endpoint",
        ])
        .args(["https://auth.example.com/", "--yes"])
        .assert()
        .success();
    // Alone, each side passes, and says what it could not check.
    mas_link()
        .current_dir(matrix_box.path())
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("not checked: the pairing"));
    let bin = common::bin();
    let piped_check = || {
        let line = format!(
            "cd {mas} && {bin} secret --bundle --mas-config config.yaml | (cd {matrix} && {bin} check --synapse-config homeserver.yaml --mas-bundle-stdin --format json)",
            mas = mas_box.path().display(),
            matrix = matrix_box.path().display(),
            bin = bin.display(),
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let (code, report) = piped_check();
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "matrix_authentication_service.secret" && f["severity"] == "error"),
        "{report:#}"
    );
    assert!(
        !report.to_string().contains(MAS_SECRET),
        "secret in the report"
    );
    // Only Synapse's own loader is left unchecked (it is off in these tests).
    let not_checked = report["not_checked"].as_array().unwrap();
    assert!(
        not_checked.iter().all(|n| n
            .as_str()
            .unwrap()
            .starts_with("Synapse's own config loader")),
        "{not_checked:?}"
    );
    // Fixed through the same pipe, the piped check passes.
    let line = format!(
        "{bin} secret --bundle --mas-config {mas}/config.yaml | {bin} synapse --synapse-config {matrix}/homeserver.yaml --secret-stdin --yes",
        bin = bin.display(),
        mas = mas_box.path().display(),
        matrix = matrix_box.path().display(),
    );
    assert!(
        Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .status()
            .unwrap()
            .success()
    );
    let (code, report) = piped_check();
    assert_eq!(code, Some(0), "{report:#}");
}
