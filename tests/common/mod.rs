//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}

/// The real configuration files kept in the repository (tests/data/corpus, see its SOURCES.md).
pub fn corpus() -> Vec<PathBuf> {
    let dir = repo().join("tests/data/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    files
}

/// The homeserver.yaml fixtures that mas-link can link.
pub const LINKABLE: &[&str] = &[
    "cloudron",
    "generated-1.163",
    "four-space",
    "crlf",
    "legacy-msc3861",
];

pub const MAS_SECRET: &str = "6nV0lVDnBVqrrIcC9fQwQPkomtxp6mUP";

/// The binary under test: the one `MAS_LINK_BIN` names (CI sets it to the static release
/// binary, `cargo dist`'s, after the usual run), else this build's.
pub fn bin() -> PathBuf {
    std::env::var_os("MAS_LINK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("mas-link"))
}

/// mas-link as the tests run it: none of the operator's variables, and Synapse's own loader
/// off (`none`) unless a test turns it on with [`with_loader`]: the CLI tests judge
/// mas-link's own rules, and CI's MAS_LINK_SYNAPSE_PYTHON is for the loader tests.
pub fn mas_link() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("MAS_SECRET")
        .env_remove("MAS_ENDPOINT")
        .env_remove("MAS_CONFIG")
        .env_remove("CLOUDRON_APP_ORIGIN")
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("NO_COLOR", "1");
    c
}

/// `c` with Synapse's own loader on: the Python CI gives (a test that calls this needs it).
pub fn with_loader(c: &mut Command) -> &mut Command {
    c.env("MAS_LINK_SYNAPSE_PYTHON", synapse_python())
}

/// Copies `src` into `dir` as `name`.
pub fn copy(src: &Path, dir: &Path, name: &str) -> PathBuf {
    let dst = dir.join(name);
    std::fs::copy(src, &dst).unwrap();
    dst
}

/// Copies a file into a fresh temporary folder as `homeserver.yaml`.
pub fn scratch(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("homeserver.yaml");
    std::fs::copy(src, &dst).unwrap();
    (dir, dst)
}

/// The files in a folder, less the lock files writing runs leave (they are never deleted:
/// deleting a lock file would let two runs lock two different files).
pub fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".mas-link.lock")
        })
        .count()
}

/// Why the Synapse-backed tests are ignored by default, and the command that runs them.
pub const NEEDS_SYNAPSE: &str = "needs Synapse's config loader: \
    MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)";

/// The Python with matrix-synapse (MAS_LINK_SYNAPSE_PYTHON); a test that needs it is
/// `#[ignore]`d by default and fails, saying why, when run without it.
pub fn synapse_python() -> PathBuf {
    match std::env::var_os("MAS_LINK_SYNAPSE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!("this test {NEEDS_SYNAPSE}"),
    }
}

/// Every homeserver.yaml to link: the linkable fixtures and the shared corpus, with a name.
pub fn linkable_sources() -> Vec<(String, PathBuf)> {
    let mut sources: Vec<(String, PathBuf)> = LINKABLE
        .iter()
        .map(|n| (n.to_string(), fixture(&format!("{n}/homeserver.yaml"))))
        .collect();
    for f in corpus() {
        sources.push((f.file_stem().unwrap().to_string_lossy().into_owned(), f));
    }
    sources
}

/// MAS's fixture config paired with the homeserver.yaml at `hs`: its `matrix.homeserver` set
/// to that file's server_name (mas-link refuses a pair whose names differ).
pub fn mas_fixture_for(hs: &Path) -> PathBuf {
    let text = std::fs::read_to_string(hs).unwrap();
    let doc = mas_link::yaml::Document::parse(text, mas_link::yaml::Options::PYYAML).unwrap();
    let name = doc
        .value()
        .get("server_name")
        .and_then(mas_link::yaml::Value::as_str)
        .unwrap_or("example.com")
        .to_owned();
    let dir = std::env::temp_dir().join("mas-link-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.yaml"));
    if !path.exists() {
        let mas = std::fs::read_to_string(fixture("mas/config.yaml"))
            .unwrap()
            .replace("homeserver: example.com", &format!("homeserver: {name}"));
        // Whole or absent: tests running at once may make it together.
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, mas).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// `mas-link synapse` on `homeserver.yaml` in `dir`, with the MAS fixture (paired with it) as
/// the secret's source, plus `extra` flags.
pub fn link_with_mas_fixture(dir: &Path, extra: &[&str]) -> Command {
    let mut c = mas_link();
    c.current_dir(dir)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
        ])
        .arg(mas_fixture_for(&dir.join("homeserver.yaml")))
        .args(extra);
    c
}

/// Where a MAS config breaks MAS's own JSON schema (tests/data/mas-config.schema.json), read
/// as MAS reads YAML (serde_yaml 0.9); empty when it fits.
pub fn schema_errors(yaml: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("tests/data/mas-config.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Why the tests that need the real MAS are ignored by default, and how to run them.
pub const NEEDS_MAS: &str = "needs MAS's mas-cli: \
    MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)";

/// MAS's `mas-cli` (MAS_LINK_MAS_CLI): `.ci/run` unpacks the real MAS and names it.
pub fn mas_cli() -> PathBuf {
    match std::env::var_os("MAS_LINK_MAS_CLI") {
        Some(p) if p != "none" => PathBuf::from(p),
        _ => panic!("this test {NEEDS_MAS}"),
    }
}

/// A stand-in for Cloudron's CLI: each app is a folder under $FAKE_APPS holding its /app;
/// `exec` runs in a mount namespace where that folder is `/app`; `stop`, `start` and
/// `restart` run the app folder's hook of that name where a test put one, and say so.
pub const CLOUDRON: &str = r#"#!/bin/sh
set -eu
verb=$1; shift
app=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --app) app=$2; shift 2 ;;
    --tty) shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
root="$FAKE_APPS/$app"
case "$verb" in
  push) mkdir -p "$root$(dirname "$2")"; cp "$1" "$root$2" ;;
  exec) CLOUDRON_APP_ORIGIN="https://$app" exec unshare --mount --propagation private -- sh -c 'mount --bind "$0" /app && exec "$@"' "$root/app" "$@" ;;
  restart|stop|start)
    if [ -x "$root/$verb" ]; then "$root/$verb"; fi
    case "$verb" in restart) echo "restarted $app" ;; stop) echo "stopped $app" ;; *) echo "started $app" ;; esac ;;
  *) echo "cloudron: $verb?" >&2; exit 2 ;;
esac
"#;

/// The sh blocks of README's text between `from` and `to`, each line as written.
pub fn readme_blocks(from: &str, to: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find(from).expect("the part");
    let body = &readme[start..];
    let body = &body[..body.find(to).expect("its end")];
    let mut lines = Vec::new();
    let mut in_block = false;
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_block = t == "```sh";
        } else if in_block {
            lines.push(t.to_owned());
        }
    }
    lines
}
