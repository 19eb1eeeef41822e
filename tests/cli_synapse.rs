//! `mas-link synapse` and `mas-link secret` end to end, on the fixtures and the shared corpus.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::*;
use predicates::prelude::*;

fn link_dry_run(dir: &std::path::Path) -> String {
    let out = link_with_mas_fixture(dir, &["--dry-run"])
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn diffs_on_fixtures_change_only_the_planned_lines() {
    for name in LINKABLE {
        let (dir, _) = scratch(&fixture(&format!("{name}/homeserver.yaml")));
        let stdout = link_dry_run(dir.path());
        assert!(!stdout.contains(MAS_SECRET), "{name}: secret leaked");
        insta::assert_snapshot!(format!("dry_run_{name}"), stdout);
    }
}

#[test]
fn diffs_on_the_corpus() {
    for file in corpus() {
        let (dir, _) = scratch(&file);
        let stdout = link_dry_run(dir.path());
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("dry_run_corpus_{name}"), stdout);
    }
}

#[test]
fn writes_once_then_has_nothing_to_do() {
    for name in LINKABLE {
        let (dir, hs) = scratch(&fixture(&format!("{name}/homeserver.yaml")));
        fs::set_permissions(&hs, fs::Permissions::from_mode(0o640)).unwrap();
        let before = fs::read(&hs).unwrap();
        let run = |extra: &[&str]| {
            let mut c = mas_link();
            c.current_dir(dir.path())
                .args([
                    "synapse",
                    "--new-server",
                    "--synapse-config",
                    "homeserver.yaml",
                    "--mas-config",
                ])
                .arg(mas_fixture_for(&hs))
                .args(extra);
            c
        };
        run(&["--check"]).assert().code(1);
        run(&["--yes"]).assert().success().stdout(
            predicate::str::contains("Backup: ").and(predicate::str::contains("restart Synapse")),
        );
        let after = fs::read(&hs).unwrap();
        assert_ne!(before, after);
        assert_eq!(
            fs::metadata(&hs).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let backups: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".bak"))
            .collect();
        assert_eq!(backups.len(), 1, "{name}");
        assert_eq!(fs::read(&backups[0]).unwrap(), before);
        // Idempotent: nothing to do, file untouched, no new backup.
        run(&["--yes"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Nothing to do"));
        run(&["--check"]).assert().code(0);
        assert_eq!(fs::read(&hs).unwrap(), after);
        // The file, its backup and the record of the link.
        assert_eq!(files_in(dir.path()), 3, "{name}");
    }
}

#[test]
fn keeps_bom_crlf_and_missing_final_newline() {
    let (dir, hs) = scratch(&fixture("crlf/homeserver.yaml"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://auth.example.org/",
        ])
        .env("MAS_SECRET", "s")
        .assert()
        .success();
    let text = fs::read_to_string(&hs).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());

    let (dir, hs) = scratch(&fixture("generated-1.163/homeserver.yaml"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://auth.example.org/",
        ])
        .env("MAS_SECRET", "s")
        .assert()
        .success();
    assert!(fs::read_to_string(&hs).unwrap().ends_with("# vim:ft=yaml"));
}

#[test]
fn legacy_admin_token_is_the_secret_when_none_is_given() {
    let (dir, hs) = scratch(&fixture("legacy-msc3861/homeserver.yaml"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://auth.legacy.example.org/",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("msc3861.admin_token"))
        .stdout(predicate::str::contains("AnAdminToken").not());
    let text = fs::read_to_string(&hs).unwrap();
    assert!(text.contains("secret: \"AnAdminTokenSharedWithMAS0123456\""));
    assert!(!text.contains("msc3861"));
}

#[test]
fn secret_path_mode_writes_a_private_file() {
    // The secret file is as readable as the config that names it, by no one else: 0600 next
    // to a private config, 0640 (the group: Synapse's) next to a group-readable one.
    for (config_mode, secret_mode) in [(0o600, 0o600), (0o640, 0o640), (0o644, 0o640)] {
        let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
        fs::set_permissions(&hs, fs::Permissions::from_mode(config_mode)).unwrap();
        let secret_file = dir.path().join("mas_secret");
        mas_link()
            .current_dir(dir.path())
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
                "--secret-path",
            ])
            .arg(&secret_file)
            .arg("--mas-config")
            .arg(fixture("mas/config.yaml"))
            .assert()
            .success();
        assert_eq!(fs::read_to_string(&secret_file).unwrap().trim(), MAS_SECRET);
        assert_eq!(
            fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777,
            secret_mode,
            "next to a {config_mode:o} config"
        );
        let text = fs::read_to_string(&hs).unwrap();
        assert!(text.contains("secret_path: "));
        assert!(!text.contains(MAS_SECRET));
    }
}

#[test]
fn show_secrets_shows_them() {
    let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--dry-run",
            "--show-secrets",
            "--mas-config",
        ])
        .arg(fixture("mas/config.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(MAS_SECRET));
}

#[test]
fn secret_prints_only_the_secret() {
    mas_link()
        .args(["secret", "--mas-config"])
        .arg(fixture("mas/config.yaml"))
        .assert()
        .success()
        .stdout(format!("{MAS_SECRET}\n"));
    mas_link()
        .current_dir(repo())
        .args([
            "secret",
            "--mas-config",
            "fixtures/mas-secret-file/config.yaml",
        ])
        .assert()
        .success()
        .stdout("Wq4zR8tY2uI6oP0aS3dF5gH7jK9lZxCv\n");
}

#[test]
fn secret_refuses_bad_mas_configs() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "both.yaml",
            "matrix:\n  secret: a\n  secret_file: b\n",
            "both.yaml:3:3",
        ),
        (
            "none.yaml",
            "matrix:\n  kind: synapse\n",
            "neither `secret` nor `secret_file`",
        ),
        (
            "number.yaml",
            "matrix:\n  secret: 12345\n",
            "number.yaml:2:3: `matrix.secret` is written as an integer",
        ),
        (
            "bom.yaml",
            "\u{feff}matrix:\n  secret: a\n",
            "byte-order mark",
        ),
        ("bad.yaml", "matrix: [\n", "bad.yaml:"),
    ];
    for (name, text, expect) in cases {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        mas_link()
            .current_dir(dir.path())
            .args(["secret", "--mas-config", name])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(expect).and(predicate::str::contains("12345").not()));
    }
    // MAS reads the last of duplicate keys: so does `secret`.
    fs::write(
        dir.path().join("dup.yaml"),
        "matrix:\n  secret: a\n  secret: b\n",
    )
    .unwrap();
    mas_link()
        .current_dir(dir.path())
        .args(["secret", "--mas-config", "dup.yaml"])
        .assert()
        .success()
        .stdout("b\n");
}

/// Bad input: exit 2, a message naming the file, line and key, and an untouched file.
#[test]
fn bad_inputs_exit_2_and_touch_nothing() {
    let cases: &[(&str, &[u8], &[&str], &str)] = &[
        (
            "oidc",
            &fs::read(fixture("oidc/homeserver.yaml")).unwrap(),
            &[],
            "homeserver.yaml:13:1: `oidc_providers`",
        ),
        (
            "two documents",
            b"a: 1\n---\nb: 2\n",
            &[],
            "homeserver.yaml:2:1",
        ),
        (
            "block scalar",
            b"password_config:\n  enabled: |\n    yes\n",
            &[],
            "homeserver.yaml:2:3: `password_config.enabled` is a block scalar",
        ),
        (
            "alias",
            b"base: &b {enabled: true}\npassword_config: *b\n",
            &[],
            "homeserver.yaml:2:18: `password_config`",
        ),
        (
            "not a mapping",
            b"experimental_features: [msc3266]\n",
            &[],
            "homeserver.yaml:1:1: `experimental_features` is a sequence",
        ),
        ("syntax", b"a: [1, 2\nb: 3\n", &[], "homeserver.yaml:"),
        (
            "not utf-8",
            b"a: 1\nb: \xff\n",
            &[],
            "homeserver.yaml:2:4: not UTF-8 text (invalid byte at offset 8)",
        ),
        (
            "bad endpoint",
            b"a: 1\n",
            &["--endpoint", "mas.example.com"],
            "--endpoint: `mas.example.com` must start with http",
        ),
        (
            "query endpoint",
            b"a: 1\n",
            &["--endpoint", "https://mas/?x=1"],
            "query or fragment",
        ),
        (
            "user consent",
            b"user_consent:\n  version: 1.0\n",
            &[],
            "homeserver.yaml:1:1: `user_consent`",
        ),
        (
            "saml",
            b"saml2_config:\n  sp_config: {a: 1}\n",
            &[],
            "`saml2_config`",
        ),
        (
            "ldap",
            b"ldap_config:\n  enabled: true\n",
            &[],
            "`ldap_config`",
        ),
    ];
    for (what, bytes, extra, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let hs = dir.path().join("homeserver.yaml");
        fs::write(&hs, bytes).unwrap();
        let mut c = mas_link();
        c.current_dir(dir.path())
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
            ])
            .env("MAS_SECRET", "s");
        if extra.is_empty() {
            c.args(["--endpoint", "https://auth.example.com/"]);
        }
        let out = c.args(*extra).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(expect), "{what}: {stderr}");
        assert_eq!(fs::read(&hs).unwrap(), *bytes, "{what}: file changed");
        assert_eq!(files_in(dir.path()), 1, "{what}: stray files");
    }
}

#[test]
fn secret_sources_are_exclusive_and_required() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
            "--endpoint",
            "https://a/",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no secret given"));
    link_with_mas_fixture(dir.path(), &["--yes"])
        .env("MAS_SECRET", "x")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("one way only"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--secret-stdin",
            "--secret-file",
            "x",
        ])
        .assert()
        .code(2);
    assert_eq!(fs::read(&hs).unwrap(), before);
}

#[test]
fn without_a_terminal_it_asks_for_yes() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
        ])
        .arg(fixture("mas/config.yaml"))
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    assert_eq!(fs::read(&hs).unwrap(), before);
}

#[test]
fn secret_from_stdin_pipe() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--secret-stdin",
            "--yes",
            "--endpoint",
            "https://auth.example.com/",
        ])
        .write_stdin(format!("{MAS_SECRET}\n"))
        .assert()
        .success()
        .stdout(predicate::str::contains(MAS_SECRET).not());
    assert!(
        fs::read_to_string(&hs)
            .unwrap()
            .contains(&format!("secret: \"{MAS_SECRET}\""))
    );
}

#[test]
fn follows_symlinks_to_the_target() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&hs, &link).unwrap();
    mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "link.yaml",
            "--yes",
            "--mas-config",
        ])
        .arg(fixture("mas/config.yaml"))
        .assert()
        .success();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(&hs)
            .unwrap()
            .contains("matrix_authentication_service")
    );
}

/// Debian: a conf.d file that sets a key mas-link writes would override it; say so.
/// Colour: on with --color always, off with never, off when piped (auto), off with NO_COLOR.
#[test]
fn colour_follows_the_flag_the_terminal_and_no_color() {
    let run = |color: &str, no_color: bool| {
        let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
        let mut c = mas_link();
        c.env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        let out = c
            .current_dir(dir.path())
            .args([
                "--color",
                color,
                "synapse",
                "--synapse-config",
                "homeserver.yaml",
                "--dry-run",
                "--mas-config",
            ])
            .arg(fixture("mas/config.yaml"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().contains('\u{1b}')
    };
    assert!(run("always", false));
    assert!(!run("never", false));
    assert!(!run("auto", false), "piped output gets no colour");
    assert!(!run("auto", true));
}

#[test]
fn json_reports_keep_warnings_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("homeserver.yaml"),
        "server_name: \"example.com\"\nreport_stats: false\nenable_registration: true\nenable_registration: true\n\
         experimental_features:\n  msc4108_delegation_endpoint: https://qr.example.com/\n",
    )
    .unwrap();
    let out = link_with_mas_fixture(dir.path(), &["--dry-run", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("defined 2 times")),
        "{report}"
    );
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("msc4108_delegation_endpoint")),
        "{report}"
    );
}

#[test]
fn a_refused_link_writes_no_secret_file() {
    let (dir, hs) = scratch(&fixture("oidc/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    let secret = dir.path().join("mas-secret");
    link_with_mas_fixture(dir.path(), &["--yes", "--secret-path"])
        .arg(&secret)
        .assert()
        .code(2);
    assert!(!secret.exists());
    assert_eq!(fs::read(&hs).unwrap(), before);
}

#[test]
fn errors_name_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "missing.yaml",
            "--dry-run",
        ])
        .env("MAS_SECRET", MAS_SECRET)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.matches("missing.yaml").count(), 1, "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn relative_secret_paths_and_secrets_in_argv_are_refused() {
    let (dir, hs) = scratch(&fixture("cloudron/homeserver.yaml"));
    let before = fs::read(&hs).unwrap();
    link_with_mas_fixture(dir.path(), &["--yes", "--secret-path", "secret"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("absolute path"));
    let out = mas_link()
        .current_dir(dir.path())
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--secret",
        ])
        .arg("hunter2-very-secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("--secret-stdin") && !err.contains("hunter2"),
        "{err}"
    );
    assert!(!err.contains("similar argument"), "{err}");
    assert_eq!(fs::read(&hs).unwrap(), before);
}
