//! Synapse's own config loader as mas-link's authority, on real layouts that Synapse itself
//! generated (`--generate-config`: a real signing key, log config and paths): `check` reports
//! its verdict, `synapse` and `unlink` write nothing it refuses, and a Debian layout whose
//! conf.d overrides each edited key passes Synapse's own `python -m synapse.config` over the
//! whole layout. Ignored by default (they need a Python with matrix-synapse); CI includes them.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use common::*;
use predicates::prelude::*;

/// A Synapse config made by Synapse itself in `dir`, with a Debian-style conf.d/ whose files
/// set every key `mas-link synapse` edits.
fn generated_debian_layout(dir: &Path) {
    let out = Process::new(synapse_python())
        .current_dir(dir)
        .args([
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            "example.com",
        ])
        .arg("--config-path")
        .arg(dir.join("homeserver.yaml"))
        .args(["--generate-config", "--report-stats=no"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::create_dir(dir.join("conf.d")).unwrap();
    fs::write(
        dir.join("conf.d/10-auth.yaml"),
        "password_config:\n  enabled: true\nenable_registration: true\nregistration_requires_token: true\n",
    )
    .unwrap();
    fs::write(
        dir.join("conf.d/20-mas.yaml"),
        "experimental_features:\n  msc3266_enabled: true\nmatrix_authentication_service:\n  enabled: false\n",
    )
    .unwrap();
}

/// Synapse's own command-line check over the layout, as Debian's service loads it.
fn synapse_says(dir: &Path) -> String {
    let out = Process::new(synapse_python())
        .current_dir(dir)
        .args([
            "-m",
            "synapse.config",
            "-c",
            "homeserver.yaml",
            "-c",
            "conf.d/",
        ])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = mas_link();
    with_loader(&mut c).current_dir(dir).args(args);
    c
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn a_debian_layout_linked_and_unlinked_passes_synapses_loader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generated_debian_layout(d);
    let hs_before = fs::read(d.join("homeserver.yaml")).unwrap();
    run(
        d,
        &[
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ],
    )
    .args(["--endpoint", "http://localhost:8080/"])
    .env("MAS_SECRET", MAS_SECRET)
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "Synapse's own config loader (Synapse 1.",
    ))
    .stderr(predicate::str::contains("accepts the configuration"));
    // Every edit went to conf.d: homeserver.yaml's own keys are overridden there.
    assert_eq!(fs::read(d.join("homeserver.yaml")).unwrap(), hs_before);
    let auth = fs::read_to_string(d.join("conf.d/10-auth.yaml")).unwrap();
    assert!(auth.contains("enabled: false") && auth.contains("enable_registration: false"));
    assert!(
        synapse_says(d).contains("Config parses OK!"),
        "{}",
        synapse_says(d)
    );
    run(d, &["check", "--synapse-config", "homeserver.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("accepts the configuration"));
    run(
        d,
        &["unlink", "--synapse-config", "homeserver.yaml", "--yes"],
    )
    .assert()
    .success();
    assert!(
        synapse_says(d).contains("Config parses OK!"),
        "{}",
        synapse_says(d)
    );
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn check_with_and_without_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generated_debian_layout(d);
    let check = |d: &Path, python: Option<&str>| {
        let mut c = run(d, &["check", "--synapse-config", "homeserver.yaml"]);
        if let Some(p) = python {
            c.args(["--synapse-python", p]);
        }
        let out = c.output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    // A refusal mas-link's own rules do not know: only the loader sees it.
    fs::write(
        d.join("conf.d/30-rooms.yaml"),
        "default_room_version: \"99\"\n",
    )
    .unwrap();
    let (code, text) = check(d, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("Synapse's own config loader refuses to start"),
        "{text}"
    );
    assert!(text.contains("Unknown default_room_version: 99"), "{text}");
    let (code, text) = check(d, Some("none"));
    assert_eq!(code, Some(1), "not linked yet: {text}");
    assert!(!text.contains("default_room_version"), "{text}");
    assert!(
        text.contains("not checked: Synapse's own config loader: not used"),
        "{text}"
    );
    // A refusal both know: a removed listener resource.
    fs::write(
        d.join("conf.d/30-rooms.yaml"),
        "listeners:\n  - port: 8008\n    type: http\n    resources:\n      - names: [client, webclient]\n",
    )
    .unwrap();
    for python in [None, Some("none")] {
        let (code, text) = check(d, python);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("webclient"), "{python:?}: {text}");
    }
    // Synapse's message quotes a value it refuses: a secret never shows.
    fs::write(
        d.join("conf.d/30-rooms.yaml"),
        "matrix_authentication_service:\n  enabled: true\n  endpoint: http://localhost:8080/\n  secret: 87654321\n",
    )
    .unwrap();
    let (code, text) = check(d, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("must be a valid string") || text.contains("valid string"),
        "{text}"
    );
    assert!(!text.contains("87654321"), "{text}");
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_writes_nothing_the_loader_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generated_debian_layout(d);
    fs::write(
        d.join("conf.d/30-rooms.yaml"),
        "default_room_version: \"99\"\n",
    )
    .unwrap();
    let before: Vec<(String, Vec<u8>)> = [
        "homeserver.yaml",
        "conf.d/10-auth.yaml",
        "conf.d/20-mas.yaml",
    ]
    .iter()
    .map(|n| (n.to_string(), fs::read(d.join(n)).unwrap()))
    .collect();
    run(
        d,
        &[
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ],
    )
    .args(["--endpoint", "http://localhost:8080/"])
    .env("MAS_SECRET", MAS_SECRET)
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "refuses the planned configuration; nothing was written",
    ))
    .stderr(predicate::str::contains("Unknown default_room_version: 99"));
    for (name, bytes) in before {
        assert_eq!(fs::read(d.join(&name)).unwrap(), bytes, "{name}");
    }
    let left = fs::read_dir(d.join("conf.d"))
        .unwrap()
        .filter(|e| {
            let n = e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .into_owned();
            n.ends_with(".bak") || n.ends_with(".json")
        })
        .count();
    assert_eq!(left, 0);
}

/// Without MAS_LINK_SYNAPSE_PYTHON, a `python3` on PATH with Synapse is found.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn the_loader_is_found_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generated_debian_layout(d);
    // As in an activated venv: Synapse's venv's bin/ first on PATH.
    let venv_bin = synapse_python().parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", venv_bin.display());
    mas_link()
        .current_dir(d)
        .env_remove("MAS_LINK_SYNAPSE_PYTHON")
        .env("PATH", &path)
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--format",
            "json",
        ])
        .assert()
        .stdout(predicate::str::contains(
            "Synapse's own config loader (Synapse 1.",
        ));
    // A PATH without it: said so, and the verdict is mas-link's own.
    mas_link()
        .current_dir(d)
        .env_remove("MAS_LINK_SYNAPSE_PYTHON")
        .env("PATH", "/nonexistent")
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .assert()
        .stdout(predicate::str::contains(
            "not checked: Synapse's own config loader: not found",
        ));
}
