//! The Synapse users run, from MAS's floor (1.136) on: each release's own loader judges what
//! mas-link writes for it. CI installs 1.135.2 (below the floor), 1.136.0, 1.137.0, 1.144.0
//! (Cloudron's) besides the latest and names their Pythons in MAS_LINK_SYNAPSE_PYTHONS.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{MAS_SECRET, fixture, mas_link};

const NEEDS: &str = "needs Synapse's loaders of several releases: MAS_LINK_SYNAPSE_PYTHONS='PY…' \
    (as .ci/run sets it) cargo test --test releases -- --include-ignored";

/// The Pythons of each release CI installed, with their release.
fn releases() -> Vec<(String, PathBuf)> {
    let list = std::env::var("MAS_LINK_SYNAPSE_PYTHONS").unwrap_or_else(|_| panic!("{NEEDS}"));
    list.split_whitespace()
        .map(|p| {
            let out = std::process::Command::new(p)
                .args(["-I", "-c", "import synapse; print(synapse.__version__)"])
                .output()
                .unwrap();
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert!(!version.is_empty(), "{p}: no Synapse");
            (version, PathBuf::from(p))
        })
        .collect()
}

fn python_of(releases: &[(String, PathBuf)], version: &str) -> PathBuf {
    releases
        .iter()
        .find(|(v, _)| v == version)
        .unwrap_or_else(|| panic!("no Synapse {version} in MAS_LINK_SYNAPSE_PYTHONS: {NEEDS}"))
        .1
        .clone()
}

/// A folder with a homeserver.yaml every release's loader accepts (its paths there).
fn server() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(fixture("generated-1.163/homeserver.yaml")).unwrap();
    let text = text.replace("/data", &dir.path().display().to_string());
    fs::write(dir.path().join("homeserver.yaml"), text).unwrap();
    fs::write(
        dir.path().join("example.org.signing.key"),
        "ed25519 a_test 3pKSdgpEhvHRKdDmgDLIdnbE3VZ4VzB5D0kTDHiYt9s\n",
    )
    .unwrap();
    dir
}

fn link(dir: &Path, python: &str, extra: &[&str]) -> std::process::Output {
    mas_link()
        .current_dir(dir)
        .env("MAS_SECRET", MAS_SECRET)
        .env("MAS_LINK_SYNAPSE_PYTHON", python)
        .args([
            "synapse",
            "--synapse-config",
            "homeserver.yaml",
            "--new-server",
            "--endpoint",
            "http://127.0.0.1:8080/",
            "--yes",
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// `check`'s verdict line from the release's own loader on the file as it is.
fn loader_verdict(dir: &Path, python: &Path) -> String {
    let o = mas_link()
        .current_dir(dir)
        .env("MAS_LINK_SYNAPSE_PYTHON", python)
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!text.contains("bridge"), "{text}");
    text
}

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn msc4108(dir: &Path) -> bool {
    fs::read_to_string(dir.join("homeserver.yaml"))
        .unwrap()
        .contains("msc4108_enabled: true")
}

/// Each release from the floor: linked with its own loader, which accepts the file after
/// (QR-code login on from 1.137 only), the version said; `unlink` gives back what it accepts.
/// Below the floor: refused by name, nothing written.
#[test]
#[ignore = "needs Synapse's loaders of several releases (MAS_LINK_SYNAPSE_PYTHONS, .ci/run)"]
fn each_release_gets_what_it_accepts() {
    for (version, python) in releases() {
        let dir = server();
        let before = fs::read(dir.path().join("homeserver.yaml")).unwrap();
        let o = link(dir.path(), python.to_str().unwrap(), &[]);
        let release = mas_link::rules::release::Release::parse(&version).unwrap();
        if !release.has_mas_section() {
            assert_eq!(o.status.code(), Some(2), "{version}: {}", text(&o));
            assert!(
                text(&o).contains(&format!(
                    "Synapse {version} has no `matrix_authentication_service`; MAS needs 1.136.0 or newer"
                )),
                "{version}: {}",
                text(&o)
            );
            assert_eq!(
                fs::read(dir.path().join("homeserver.yaml")).unwrap(),
                before
            );
            continue;
        }
        assert!(o.status.success(), "{version}: {}", text(&o));
        assert!(
            text(&o).contains(&format!("for Synapse {version} (from Synapse's Python")),
            "{version}: {}",
            text(&o)
        );
        assert_eq!(
            msc4108(dir.path()),
            release.qr_login_with_mas(),
            "{version}"
        );
        let verdict = loader_verdict(dir.path(), &python);
        assert!(
            verdict.contains(&format!("(Synapse {version}, "))
                && verdict.contains("accepts the configuration"),
            "{version}: {verdict}"
        );
        let o = mas_link()
            .current_dir(dir.path())
            .env("MAS_LINK_SYNAPSE_PYTHON", &python)
            .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{version}: {}", text(&o));
        assert!(
            loader_verdict(dir.path(), &python).contains("accepts the configuration"),
            "{version}"
        );
    }
}

/// Without a loader, told the release: 1.136.0 gets what 1.136's own loader accepts; 1.135.2
/// is refused by name.
#[test]
#[ignore = "needs Synapse's loaders of several releases (MAS_LINK_SYNAPSE_PYTHONS, .ci/run)"]
fn a_loader_less_link_told_the_release() {
    let all = releases();
    let dir = server();
    let o = link(dir.path(), "none", &["--synapse-version", "1.136.0"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("QR-code login (MSC4108) is left off: Synapse 1.136.0 refuses it"));
    assert!(!msc4108(dir.path()));
    let verdict = loader_verdict(dir.path(), &python_of(&all, "1.136.0"));
    assert!(verdict.contains("accepts the configuration"), "{verdict}");
    let dir = server();
    let before = fs::read(dir.path().join("homeserver.yaml")).unwrap();
    let o = mas_link()
        .current_dir(dir.path())
        .env("MAS_SECRET", MAS_SECRET)
        .env("MAS_LINK_SYNAPSE_VERSION", "1.135.2")
        .args([
            "synapse",
            "--synapse-config",
            "homeserver.yaml",
            "--new-server",
            "--endpoint",
            "http://127.0.0.1:8080/",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Synapse 1.135.2 has no `matrix_authentication_service`"));
    assert_eq!(
        fs::read(dir.path().join("homeserver.yaml")).unwrap(),
        before
    );
    // Unknown: said, and what the plan assumes.
    let dir = server();
    let o = link(dir.path(), "none", &["--dry-run"]);
    assert!(
        text(&o).contains("the plan assumes 1.137.0 or newer"),
        "{}",
        text(&o)
    );
}

/// A stand-in for an install's Python that cannot run (a host editing a container's files):
/// `bin/python3` answering `answer` on standard output, beside a `synapse` package and its
/// `matrix_synapse-1.144.0.dist-info`.
fn install(answer: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("lib/python3.11/site-packages");
    fs::create_dir_all(site.join("synapse")).unwrap();
    fs::create_dir_all(site.join("matrix_synapse-1.144.0.dist-info")).unwrap();
    fs::create_dir_all(dir.path().join("bin")).unwrap();
    let python = dir.path().join("bin/python3");
    fs::write(&python, format!("#!/bin/sh\ncat >/dev/null\n{answer}\n")).unwrap();
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Without a Python that runs, the release comes from the install's package metadata, and
/// the output says so.
#[test]
fn the_release_from_an_installs_package_metadata() {
    let env = install("exit 1");
    let dir = server();
    let o = mas_link()
        .current_dir(dir.path())
        .env_remove("MAS_LINK_SYNAPSE_PYTHON")
        .env("PATH", env.path().join("bin"))
        .env("MAS_LINK_MAS_CLI", "none")
        .args(["check", "--synapse-config", "homeserver.yaml"])
        .output()
        .unwrap();
    let t = text(&o);
    assert!(
        t.contains("Synapse 1.144.0 (from the package metadata, ")
            && t.contains("matrix_synapse-1.144.0.dist-info"),
        "{t}"
    );
}

/// A fault in mas-link's own bridge is mas-link's, never "Synapse refuses".
#[test]
fn a_bridge_failure_is_mas_links_own() {
    let env = install(r#"echo '{"synapse": "1.2.3", "bridge": "AttributeError: no such thing"}'"#);
    let dir = server();
    let python = env.path().join("bin/python3");
    for args in [
        &["check", "--synapse-config", "homeserver.yaml"][..],
        &[
            "synapse",
            "--synapse-config",
            "homeserver.yaml",
            "--new-server",
            "--endpoint",
            "http://127.0.0.1:8080/",
            "--yes",
        ][..],
    ] {
        let o = mas_link()
            .current_dir(dir.path())
            .env("MAS_SECRET", MAS_SECRET)
            .env("MAS_LINK_SYNAPSE_PYTHON", &python)
            .args(args)
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(
            t.contains("mas-link's bridge to Synapse 1.2.3's config loader")
                && t.contains("AttributeError: no such thing")
                && !t.contains("Synapse's own config loader refuses"),
            "{t}"
        );
    }
}
