//! Configurations of several files, read as each program reads them: Synapse's `-c` list,
//! a folder, Debian's `homeserver.yaml` + `conf.d/`; MAS's `-c` list and `MAS_CONFIG=a:b`.
//! Each edited key is written in the file its program takes it from, all files or none.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use predicates::prelude::*;

/// Debian's layout: the fixture as homeserver.yaml, with a conf.d/ whose files set each key
/// `mas-link synapse` edits (so that each edit belongs in conf.d).
fn debian(dir: &Path) {
    copy(&fixture("cloudron/homeserver.yaml"), dir, "homeserver.yaml");
    fs::create_dir(dir.join("conf.d")).unwrap();
    fs::write(
        dir.join("conf.d/10-auth.yaml"),
        "# Local overrides\npassword_config:\n  enabled: true\n  pepper: \"p3pp3r-long-enough\"\nenable_registration: true\nregistration_requires_token: true\n",
    )
    .unwrap();
    fs::write(
        dir.join("conf.d/20-mas.yaml"),
        "experimental_features:\n  msc3266_enabled: true\nmatrix_authentication_service:\n  enabled: false\n",
    )
    .unwrap();
    // Synapse skips these (not *.yaml), and so does mas-link.
    fs::write(dir.join("conf.d/README"), "not config\n").unwrap();
    fs::create_dir(dir.join("conf.d/old")).unwrap();
}

fn link(dir: &Path, config: &[&str], extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut c = mas_link();
    c.current_dir(dir).args(["synapse", "--new-server"]);
    for p in config {
        c.args(["--synapse-config", p]);
    }
    c.args(["--endpoint", "https://auth.example.com/", "--yes"])
        .env("MAS_SECRET", MAS_SECRET)
        .args(extra)
        .assert()
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn debian_conf_d_gets_the_keys_it_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    debian(d);
    let hs_before = read(d, "homeserver.yaml");
    link(d, &["homeserver.yaml"], &[])
        .success()
        .stderr(predicate::str::contains(
            "read, in this order: homeserver.yaml, conf.d/10-auth.yaml, conf.d/20-mas.yaml",
        ))
        .stdout(predicate::str::contains(
            "Wrote conf.d/10-auth.yaml, conf.d/20-mas.yaml.",
        ));
    // homeserver.yaml's own password_config and registration are overridden: left alone.
    assert_eq!(read(d, "homeserver.yaml"), hs_before);
    let auth = read(d, "conf.d/10-auth.yaml");
    assert!(auth.starts_with("# Local overrides\npassword_config:\n  enabled: false\n"));
    assert!(auth.contains("enable_registration: false\n"));
    let mas = read(d, "conf.d/20-mas.yaml");
    assert!(mas.contains("  msc3266_enabled: true\n  msc4108_enabled: true\n"));
    assert!(mas.contains("matrix_authentication_service:\n  enabled: true\n"));
    assert!(mas.contains(MAS_SECRET));
    // Nothing left in conf.d that Synapse would load besides the two files.
    let yaml: Vec<String> = fs::read_dir(d.join("conf.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    assert_eq!(yaml.len(), 2, "{yaml:?}");
    mas_link()
        .current_dir(d)
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "in homeserver.yaml, conf.d/10-auth.yaml, conf.d/20-mas.yaml",
        ));
    // And back: each file as it was, byte for byte.
    let auth_before = "# Local overrides\npassword_config:\n  enabled: true\n";
    mas_link()
        .current_dir(d)
        .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
        .assert()
        .success();
    assert!(read(d, "conf.d/10-auth.yaml").starts_with(auth_before));
    assert_eq!(read(d, "homeserver.yaml"), hs_before);
}

#[test]
fn check_judges_the_merged_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    debian(d);
    link(d, &["homeserver.yaml"], &[]).success();
    // A later conf.d file turns registration back on: Synapse would refuse to start.
    fs::write(d.join("conf.d/30-late.yaml"), "enable_registration: true\n").unwrap();
    let out = mas_link()
        .current_dir(d)
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("error: conf.d/30-late.yaml:1:1: `enable_registration`"),
        "{text}"
    );
    // The JSON report locates it in its file, and lists every file read.
    let json = mas_link()
        .current_dir(d)
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["path"], "conf.d/30-late.yaml");
    assert_eq!(report["files"].as_array().unwrap().len(), 4);
}

#[test]
fn a_list_of_three_files_and_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("cloudron/homeserver.yaml"), d, "base.yaml");
    fs::write(d.join("auth.yaml"), "password_config:\n  enabled: true\n").unwrap();
    fs::write(d.join("empty.yaml"), "").unwrap();
    link(d, &["base.yaml", "auth.yaml", "empty.yaml"], &[])
        .success()
        .stdout(predicate::str::contains("Wrote base.yaml, auth.yaml."));
    assert_eq!(read(d, "auth.yaml"), "password_config:\n  enabled: false\n");
    assert_eq!(read(d, "empty.yaml"), "");
    // The printed undo names the same three files.
    mas_link()
        .current_dir(d)
        .args(["unlink", "--yes"])
        .args(["--synapse-config", "base.yaml", "--synapse-config"])
        .args(["auth.yaml", "--synapse-config", "empty.yaml"])
        .assert()
        .success();
    assert_eq!(read(d, "auth.yaml"), "password_config:\n  enabled: true\n");

    // A folder stands for its *.yaml files, sorted.
    let folder = tempfile::tempdir().unwrap();
    let f = folder.path();
    copy(&fixture("cloudron/homeserver.yaml"), f, "00-main.yaml");
    fs::write(
        f.join("50-registration.yaml"),
        "enable_registration: true\nregistration_requires_token: true\n",
    )
    .unwrap();
    fs::write(f.join("notes.txt"), "enable_registration: yes\n").unwrap();
    link(f, &["."], &[])
        .success()
        .stderr(predicate::str::contains(
            "./00-main.yaml, ./50-registration.yaml",
        ));
    assert!(read(f, "50-registration.yaml").starts_with("enable_registration: false\n"));
    assert_eq!(read(f, "notes.txt"), "enable_registration: yes\n");
    mas_link()
        .current_dir(f)
        .args(["check", "--synapse-config", "."])
        .assert()
        .success();
}

#[test]
fn paused_a_failed_second_write_puts_the_first_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    debian(d);
    let before_auth = read(d, "conf.d/10-auth.yaml");
    let child = std::process::Command::new(bin())
        .current_dir(d)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ])
        .args(["--endpoint", "https://auth.example.com/"])
        .env("MAS_SECRET", MAS_SECRET)
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("MAS_LINK_TEST_PAUSE", "start:1500")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // While the first file is about to be written, someone else saves the second.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let theirs = "matrix_authentication_service:\n  enabled: false\n# theirs\n";
    fs::write(d.join("conf.d/20-mas.yaml"), theirs).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("changed since it was read"), "{err}");
    assert_eq!(read(d, "conf.d/10-auth.yaml"), before_auth);
    assert_eq!(read(d, "conf.d/20-mas.yaml"), theirs);
    let left: Vec<String> = fs::read_dir(d.join("conf.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bak") || n.ends_with(".json") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn mas_files_merge_as_mas_merges_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("base.yaml"),
        "http:\n  public_base: https://auth.example.com/\nsecrets:\n  encryption_file: /etc/mas/encryption\nmatrix:\n  homeserver: example.com\n  secret: old-secret-in-base\n",
    )
    .unwrap();
    fs::write(
        d.join("local.yaml"),
        format!("matrix:\n  secret: \"{MAS_SECRET}\"\n"),
    )
    .unwrap();
    // The later file's secret wins, key by key.
    mas_link()
        .current_dir(d)
        .args([
            "secret",
            "--mas-config",
            "base.yaml",
            "--mas-config",
            "local.yaml",
        ])
        .assert()
        .success()
        .stdout(format!("{MAS_SECRET}\n"));
    mas_link()
        .current_dir(d)
        .env("MAS_CONFIG", "base.yaml:local.yaml")
        .args(["secret"])
        .assert()
        .success()
        .stdout(format!("{MAS_SECRET}\n"));
    // `mas` writes each matrix key where MAS reads it: the secret stays in local.yaml, the
    // endpoint joins the homeserver in base.yaml.
    mas_link()
        .current_dir(d)
        .env("MAS_CONFIG", "base.yaml:local.yaml")
        .args(["mas", "--homeserver", "example.com", "--synapse-endpoint"])
        .args(["http://synapse:8008/", "--yes"])
        .assert()
        .success();
    let base = read(d, "base.yaml");
    assert!(
        base.contains("  endpoint: \"http://synapse:8008/\""),
        "{base}"
    );
    assert!(base.contains("old-secret-in-base"));
    assert_eq!(
        read(d, "local.yaml"),
        format!("matrix:\n  secret: \"{MAS_SECRET}\"\n")
    );
    mas_link()
        .current_dir(d)
        .env("MAS_CONFIG", "base.yaml:local.yaml")
        .args(["check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("in base.yaml, local.yaml"));
}
