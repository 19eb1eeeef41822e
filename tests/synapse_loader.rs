//! The real judge: every homeserver.yaml that mas-link writes must pass Synapse's own config
//! loader. Needs a Python with matrix-synapse: set MAS_LINK_SYNAPSE_PYTHON to it (.ci/run does).
//! Ignored by default (they need a Python with matrix-synapse); CI includes them.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Runs Synapse's loader on the files; returns (file, error) for each refusal.
fn synapse_verdicts(python: &Path, files: &[PathBuf]) -> Vec<(PathBuf, Option<String>)> {
    let out = Command::new(python)
        .arg(repo().join("tests/synapse/validate.py"))
        .args(files)
        .output()
        .expect("running the Synapse validator");
    assert!(
        out.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<(PathBuf, Option<String>)> = stdout
        .lines()
        .map(|l| {
            let ok = l.contains("\"ok\": true");
            let file = l
                .split("\"file\": \"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (PathBuf::from(file), (!ok).then(|| l.to_owned()))
        })
        .collect();
    assert_eq!(
        verdicts.len(),
        files.len(),
        "one verdict per file: {stdout}"
    );
    verdicts
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_accepts_every_file_mas_link_writes() {
    let py = common::synapse_python();
    let work = tempfile::tempdir().unwrap();
    let sources = linkable_sources();
    let mut written = Vec::new();
    for (name, src) in &sources {
        for mode in ["inline", "secret_path", "tricky_secret"] {
            let dir = work.path().join(format!("{name}-{mode}"));
            fs::create_dir(&dir).unwrap();
            let hs = dir.join("homeserver.yaml");
            fs::copy(src, &hs).unwrap();
            let mut c = mas_link();
            c.current_dir(&dir).args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
            ]);
            match mode {
                "inline" => {
                    c.arg("--mas-config").arg(mas_fixture_for(&hs));
                }
                "secret_path" => {
                    c.arg("--mas-config").arg(mas_fixture_for(&hs));
                    c.arg("--secret-path").arg(dir.join("mas_secret"));
                }
                _ => {
                    // Strings YAML 1.1 would read as numbers, booleans or null unless quoted.
                    c.env("MAS_SECRET", "0123:45 yes\"#'\\");
                    c.args(["--endpoint", "http://localhost:8080"]);
                }
            }
            c.assert().success();
            written.push(hs);
        }
    }
    let refused: Vec<String> = synapse_verdicts(&py, &written)
        .into_iter()
        .filter_map(|(f, e)| e.map(|e| format!("{}: {e}", f.display())))
        .collect();
    assert!(
        refused.is_empty(),
        "Synapse refused:\n{}",
        refused.join("\n")
    );
    assert!(written.len() >= LINKABLE.len() * 3);
}

/// The validator is no rubber stamp: the legacy fixture, linked by hand without removing
/// msc3861, is refused.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_refuses_a_half_done_link() {
    let py = common::synapse_python();
    let dir = tempfile::tempdir().unwrap();
    let hs = dir.path().join("homeserver.yaml");
    let mut text = fs::read_to_string(fixture("legacy-msc3861/homeserver.yaml")).unwrap();
    text.push_str("matrix_authentication_service:\n  enabled: true\n  secret: \"x\"\n");
    fs::write(&hs, text).unwrap();
    let v = synapse_verdicts(&py, &[hs]);
    let err = v[0].1.as_deref().expect("refused");
    assert!(err.contains("msc3861"), "{err}");
}

/// Link → unlink → link, on every fixture and corpus file, with and without an edit between:
/// Synapse's loader accepts every result.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_accepts_link_unlink_link() {
    let py = common::synapse_python();
    let work = tempfile::tempdir().unwrap();
    let sources = linkable_sources();
    let mut written = Vec::new();
    for (name, src) in &sources {
        for edited in [false, true] {
            let dir = work.path().join(format!("{name}-{edited}"));
            fs::create_dir(&dir).unwrap();
            let hs = dir.join("homeserver.yaml");
            fs::copy(src, &hs).unwrap();
            let step = |args: &[&str], keep: &str| {
                let mut c = mas_link();
                c.current_dir(&dir).args(args).args([
                    "--synapse-config",
                    "homeserver.yaml",
                    "--yes",
                ]);
                if args[0] == "synapse" {
                    c.arg("--mas-config").arg(mas_fixture_for(&hs));
                    // The fixtures' databases are not there: servers without users.
                    c.arg("--new-server");
                }
                c.assert().success();
                let copy = dir.join(keep);
                fs::copy(&hs, &copy).unwrap();
                copy
            };
            written.push(step(&["synapse"], "linked.yaml"));
            if edited {
                let mut text = fs::read_to_string(&hs).unwrap();
                text.push_str("\n# edited after the link\n");
                fs::write(&hs, text).unwrap();
            }
            written.push(step(&["unlink"], "unlinked.yaml"));
            written.push(step(&["synapse"], "relinked.yaml"));
        }
    }
    let refused: Vec<String> = synapse_verdicts(&py, &written)
        .into_iter()
        .filter_map(|(f, e)| e.map(|e| format!("{}: {e}", f.display())))
        .collect();
    assert!(
        refused.is_empty(),
        "Synapse refused:\n{}",
        refused.join("\n")
    );
    assert_eq!(written.len(), sources.len() * 6);
}
