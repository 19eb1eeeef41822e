//! With the owner's rights: root runs mas-link on files `nobody` owns (as `cloudron exec` runs
//! it on an app's `/app/data`), and nothing of `nobody`'s runs as root, and no byte of a file
//! only root may read leaves: not into a config, not printed, not sent. The six attacks of
//! the issue, their variants, and the common cases that must work as before (CONTRIBUTING:
//! "The trust table").

mod common;

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{MAS_SECRET, bin, fixture};

const NOBODY: u32 = 65534;
/// What only root may read: no output, config or request may hold it.
const ROOT_ONLY: &str = "root-only-5f1b7c0e9d2a4b6c8e0f1a3b5c7d9e1f";

const NEEDS: &str = "needs root, Synapse's loader and MAS's mas-cli runnable by `nobody` \
    (as .ci/run installs them): as root, MAS_LINK_SYNAPSE_PYTHON=… MAS_LINK_MAS_CLI=… cargo \
    test --test owners_rights -- --include-ignored";

/// A folder `nobody` owns, holding `files` (name, text), all `nobody`'s.
fn nobodys_folder(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }
    chown_all(dir.path());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn chown_all(path: &Path) {
    chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    if path.is_dir() {
        for e in fs::read_dir(path).unwrap() {
            chown_all(&e.unwrap().path());
        }
    }
}

/// A file only root may read (0600 in a 0700 folder), holding [`ROOT_ONLY`].
fn root_only(mode: u32, dir_mode: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    fs::write(&file, format!("{ROOT_ONLY}\n")).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(dir_mode)).unwrap();
    (dir, file)
}

/// A homeserver.yaml Synapse's loader accepts in `dir` (its paths there, its signing key
/// [`KEY`]), plus `extra`.
fn homeserver(dir: &Path, extra: &str) -> String {
    let text = fs::read_to_string(fixture("generated-1.163/homeserver.yaml")).unwrap();
    let text = text.replace("/data", &dir.display().to_string());
    format!("{}\n{extra}", text.trim_end())
}

/// The signing key `homeserver` names, and a key for it.
const KEY: (&str, &str) = (
    "example.org.signing.key",
    "ed25519 a_test 3pKSdgpEhvHRKdDmgDLIdnbE3VZ4VzB5D0kTDHiYt9s\n",
);

/// MAS's fixture config, its secret given by `matrix`'s lines instead.
fn mas_config(matrix: &str) -> String {
    let text = fs::read_to_string(fixture("mas/config.yaml")).unwrap();
    let at = text.find("matrix:\n").unwrap();
    let end = text[at..].find("\n\n").map_or(text.len(), |e| at + e + 1);
    format!("{}matrix:\n{matrix}{}", &text[..at], &text[end..])
}

/// mas-link as root in `dir`, with the real loader and mas-cli.
fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .args(args)
        .env_remove("MAS_SECRET")
        .env_remove("MAS_CONFIG")
        .env_remove("CLOUDRON_APP_ORIGIN")
        .env("MAS_LINK_SYNAPSE_PYTHON", common::synapse_python())
        .env("MAS_LINK_MAS_CLI", common::mas_cli())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_root_only_kept(o: &Output) {
    assert!(
        !text(o).contains(ROOT_ONLY),
        "root-only bytes out:\n{}",
        text(o)
    );
}

fn as_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "these tests act as root: {NEEDS}"
    );
}

/// Both sides in one folder `nobody` owns (`apps/`: homeserver.yaml and its key,
/// mas/config.yaml, paired).
fn both_apps() -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path().join("apps");
    let matrix = format!(
        "  kind: synapse\n  homeserver: example.org\n  secret: {MAS_SECRET}\n  endpoint: http://127.0.0.1:8008/\n"
    );
    let dir = nobodys_folder(&[
        ("homeserver.yaml", homeserver(&d, "")),
        (KEY.0, KEY.1.into()),
        ("mas/config.yaml", mas_config(&matrix)),
    ]);
    fs::rename(dir.path(), &d).unwrap();
    (scratch, d)
}

/// Python that writes a marker with the uid it ran as, planted where an import could find it.
fn marker(dir: &Path, name: &str) -> String {
    format!(
        "import os\nopen({:?}, 'w').write(str(os.getuid()))\n",
        dir.join(format!("ran-{name}")).display().to_string()
    )
}

/// The markers written, as (name, uid): none may say 0.
fn markers(dir: &Path) -> Vec<(String, String)> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let name = name.strip_prefix("ran-")?.to_owned();
            Some((name, fs::read_to_string(e.path()).unwrap_or_default()))
        })
        .collect()
}

/// Attacks 1 and 2, with variants: Python beside homeserver.yaml that an import could find
/// from the working directory (`yaml.py`, a `synapse/` package, `sitecustomize`,
/// `usercustomize`, a `.pth`), and the modules a config names (`modules`, an OIDC provider's
/// `user_mapping_provider`, `password_providers`). None runs as root; the loader still judges.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn nothing_of_the_owners_runs_as_root() {
    as_root();
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path().join("hs");
    let planted = |d: &Path| {
        vec![
            ("yaml.py", marker(d, "yaml")),
            ("synapse/__init__.py", marker(d, "synapse-package")),
            ("sitecustomize.py", marker(d, "sitecustomize")),
            ("usercustomize.py", marker(d, "usercustomize")),
            (
                "pwn.pth",
                format!("import os; {}", marker(d, "pth").replace('\n', "; ")),
            ),
            (
                "pwn12.py",
                format!(
                    "{}class Pwn:\n  def __init__(self, *a, **k): pass\n  @staticmethod\n  def parse_config(c): return c\n",
                    marker(d, "module")
                ),
            ),
        ]
    };
    // The plain file: the loader accepts it, with yaml.py & co beside it.
    let dir = nobodys_folder(
        &[
            planted(&d),
            vec![
                ("homeserver.yaml", homeserver(&d, "")),
                (KEY.0, KEY.1.into()),
                ("shared-secret", format!("{MAS_SECRET}\n")),
            ],
        ]
        .concat(),
    );
    fs::rename(dir.path(), &d).unwrap();
    let dry = [
        "synapse",
        "--synapse-config",
        "homeserver.yaml",
        "--secret-file",
        "shared-secret",
        "--new-server",
        "--endpoint",
        "http://127.0.0.1:8080/",
        "--dry-run",
    ];
    for args in [
        &["check", "--synapse-config", "homeserver.yaml"][..],
        &dry[..],
    ] {
        let o = run(&d, args, None);
        assert!(
            text(&o).contains("Synapse's own config loader (Synapse "),
            "the loader must still judge:\n{}",
            text(&o)
        );
        assert!(markers(&d).is_empty(), "{:?}", markers(&d));
    }
    let o = run(&d, &["check", "--synapse-config", "homeserver.yaml"], None);
    assert!(
        text(&o).contains("accepts the configuration"),
        "{}",
        text(&o)
    );
    // Modules the config names: the loader refuses (nothing of the folder is importable),
    // and nothing ran as root.
    for extra in [
        "modules:\n  - module: pwn12.Pwn\n    config: {}\n",
        "password_providers:\n  - module: pwn12.Pwn\n    config: {}\n",
        "oidc_providers:\n  - idp_id: x\n    idp_name: X\n    issuer: https://id.example.org/\n    client_id: c\n    client_secret: s\n    user_mapping_provider:\n      module: pwn12.Pwn\n",
    ] {
        fs::write(d.join("homeserver.yaml"), homeserver(&d, extra)).unwrap();
        chown_all(&d);
        let o = run(&d, &["check", "--synapse-config", "homeserver.yaml"], None);
        assert!(
            text(&o).contains("refuses the configuration"),
            "{extra}: {}",
            text(&o)
        );
        assert!(
            markers(&d).iter().all(|(_, uid)| uid != "0"),
            "{extra}: {:?}",
            markers(&d)
        );
    }
    assert!(markers(&d).is_empty(), "{:?}", markers(&d));
    let _ = fs::remove_dir_all(&d);
}

/// The loader runs as the configuration's owner: a `signing_key_path` naming a root-only file
/// is refused by Synapse's own loader (as `nobody` it cannot read it), and its bytes stay in.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn the_loader_judges_with_the_owners_rights() {
    as_root();
    let (_keep, secret) = root_only(0o600, 0o755);
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path().join("hs");
    let hs = homeserver(&d, "").replace(
        &d.join(KEY.0).display().to_string(),
        &secret.display().to_string(),
    );
    let dir = nobodys_folder(&[("homeserver.yaml", hs)]);
    fs::rename(dir.path(), &d).unwrap();
    let o = run(&d, &["check", "--synapse-config", "homeserver.yaml"], None);
    assert!(
        text(&o).contains("refuses the configuration") && text(&o).contains("ermission denied"),
        "{}",
        text(&o)
    );
    assert_root_only_kept(&o);
    let _ = fs::remove_dir_all(&d);
}

/// Attacks 3, 4 and 5: MAS's config (nobody's) names a root-only `matrix.secret_file`. The
/// link copies nothing into homeserver.yaml, `secret --bundle` prints nothing of it, and
/// `check --online` sends nothing to the endpoint the same config names.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn a_root_only_secret_file_named_by_mas_stays_in() {
    as_root();
    let (_keep, secret) = root_only(0o600, 0o700);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let matrix = format!(
        "  kind: synapse\n  homeserver: example.org\n  secret_file: {}\n  endpoint: http://127.0.0.1:{port}/\n",
        secret.display()
    );
    let scratch = tempfile::tempdir().unwrap();
    let d = scratch.path().join("apps");
    let dir = nobodys_folder(&[
        ("mas/config.yaml", mas_config(&matrix)),
        ("homeserver.yaml", homeserver(&d, "")),
        (KEY.0, KEY.1.into()),
    ]);
    fs::rename(dir.path(), &d).unwrap();
    let before = fs::read(d.join("homeserver.yaml")).unwrap();
    let refused = |o: &Output| {
        assert_eq!(o.status.code(), Some(2), "{}", text(o));
        assert!(
            text(o).contains(&format!(
                "names {} in matrix.secret_file, which its owner (uid 65534",
                secret.display()
            )),
            "{}",
            text(o)
        );
        assert_root_only_kept(o);
    };
    // 3: the link.
    let link = [
        "synapse",
        "--synapse-config",
        "homeserver.yaml",
        "--mas-config",
        "mas/config.yaml",
        "--new-server",
        "--yes",
    ];
    refused(&run(&d, &link, None));
    assert_eq!(fs::read(d.join("homeserver.yaml")).unwrap(), before);
    // 4: the bundle.
    refused(&run(
        &d,
        &["secret", "--bundle", "--mas-config", "mas/config.yaml"],
        None,
    ));
    // 5: the online check: nothing reaches the endpoint.
    listener.set_nonblocking(true).unwrap();
    let o = run(
        &d,
        &[
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "mas/config.yaml",
            "--online",
        ],
        None,
    );
    refused(&o);
    assert!(
        listener.accept().is_err(),
        "check --online connected to the endpoint MAS's config names"
    );
    let _ = fs::remove_dir_all(&d);
}

/// Attack 6 and its read-only variant: homeserver.yaml (nobody's) keeps a `secret_path`
/// naming root's file; relinking with a secret of nobody's choosing neither reads nor
/// overwrites it.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn a_root_file_named_by_secret_path_is_neither_read_nor_written() {
    as_root();
    for (mode, dir_mode, verb) in [(0o600, 0o700, "read"), (0o644, 0o755, "write")] {
        let (_keep, secret) = root_only(mode, dir_mode);
        let scratch = tempfile::tempdir().unwrap();
        let d = scratch.path().join("apps");
        let linked = format!(
            "matrix_authentication_service:\n  enabled: true\n  endpoint: http://127.0.0.1:8080/\n  secret_path: {}\nenable_registration: false\npassword_config:\n  enabled: false\n",
            secret.display()
        );
        let matrix = format!(
            "  kind: synapse\n  homeserver: example.org\n  secret: {MAS_SECRET}\n  endpoint: http://127.0.0.1:8008/\n"
        );
        let dir = nobodys_folder(&[
            ("homeserver.yaml", homeserver(&d, &linked)),
            (KEY.0, KEY.1.into()),
            ("mas/config.yaml", mas_config(&matrix)),
        ]);
        fs::rename(dir.path(), &d).unwrap();
        let before = fs::read(d.join("homeserver.yaml")).unwrap();
        let o = run(
            &d,
            &[
                "synapse",
                "--synapse-config",
                "homeserver.yaml",
                "--mas-config",
                "mas/config.yaml",
                "--yes",
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{verb}: {}", text(&o));
        assert!(
            text(&o).contains(&format!(
                "secret_path, which its owner (uid 65534 (nobody)) cannot {verb}"
            )),
            "{}",
            text(&o)
        );
        assert_root_only_kept(&o);
        assert_eq!(
            fs::read_to_string(&secret).unwrap(),
            format!("{ROOT_ONLY}\n")
        );
        assert_eq!(fs::read(d.join("homeserver.yaml")).unwrap(), before);
        if verb == "read" {
            // check reads it too, and says so the same way.
            let o = run(&d, &["check", "--synapse-config", "homeserver.yaml"], None);
            assert_eq!(o.status.code(), Some(2), "{}", text(&o));
            assert_root_only_kept(&o);
        }
        let _ = fs::remove_dir_all(&d);
    }
}

/// A Python or a mas-cli the owner cannot run is said, and mas-link's own rules judge: never
/// run as root instead.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn a_program_the_owner_cannot_run_is_not_run_as_root() {
    as_root();
    let private = tempfile::tempdir().unwrap();
    fs::set_permissions(private.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let python = private.path().join("python");
    let mas_cli = private.path().join("mas-cli");
    std::os::unix::fs::symlink(common::synapse_python(), &python).unwrap();
    std::os::unix::fs::symlink(common::mas_cli(), &mas_cli).unwrap();
    let (_scratch, d) = both_apps();
    let o = run(
        &d,
        &[
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "mas/config.yaml",
            "--synapse-python",
            python.to_str().unwrap(),
            "--mas-cli",
            mas_cli.to_str().unwrap(),
        ],
        None,
    );
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "Synapse's own config loader: {} cannot be run with the rights of the configuration's owner, its owner (uid 65534",
            python.display()
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "MAS's own config check: {} cannot be run with the rights",
            mas_cli.display()
        )),
        "{t}"
    );
    let _ = fs::remove_dir_all(&d);
}

/// The common cases, as before: root on the apps' files (Cloudron: `nobody` stands for the
/// app's user) through README's pipe, the loader and mas-cli judging; root on root's files
/// (Debian's `root:matrix-synapse 0640`); a user on their own files.
#[test]
#[ignore = "needs root, Synapse's loader and MAS's mas-cli runnable by nobody (.ci/run)"]
fn the_common_cases_work_as_before() {
    as_root();
    let (_scratch, d) = both_apps();
    // Cloudron: the bundle from MAS's app into Synapse's, as root on the app's files.
    let bundle = run(
        &d,
        &["secret", "--bundle", "--mas-config", "mas/config.yaml"],
        None,
    );
    assert!(bundle.status.success(), "{}", text(&bundle));
    let o = run(
        &d,
        &[
            "synapse",
            "--synapse-config",
            "homeserver.yaml",
            "--secret-stdin",
            "--new-server",
            "--yes",
        ],
        Some(&String::from_utf8_lossy(&bundle.stdout)),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Synapse's own config loader (Synapse "),
        "{}",
        text(&o)
    );
    let meta = fs::metadata(d.join("homeserver.yaml")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), NOBODY);
    let o = run(
        &d,
        &[
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "mas/config.yaml",
        ],
        None,
    );
    let t = text(&o);
    assert!(t.contains("Synapse's own config loader (Synapse "), "{t}");
    assert!(t.contains("MAS's own config check (mas-cli"), "{t}");
    // Debian: root's folder, root:nogroup 0640, as root.
    let debian = tempfile::tempdir().unwrap();
    let hs = debian.path().join("homeserver.yaml");
    fs::write(&hs, homeserver(debian.path(), "")).unwrap();
    fs::write(debian.path().join(KEY.0), KEY.1).unwrap();
    chown(&hs, Some(0), Some(NOBODY)).unwrap();
    fs::set_permissions(&hs, fs::Permissions::from_mode(0o640)).unwrap();
    let o = run(
        debian.path(),
        &["check", "--synapse-config", "homeserver.yaml"],
        None,
    );
    assert!(
        text(&o).contains("Synapse's own config loader (Synapse ")
            && text(&o).contains("accepts the configuration"),
        "{}",
        text(&o)
    );
    // A user on their own files.
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin())
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--mas-config",
            "mas/config.yaml",
        ])
        .current_dir(&d)
        .env("MAS_LINK_SYNAPSE_PYTHON", common::synapse_python())
        .env("MAS_LINK_MAS_CLI", common::mas_cli())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(t.contains("Synapse's own config loader (Synapse "), "{t}");
    assert!(t.contains("MAS's own config check (mas-cli"), "{t}");
    let _ = fs::remove_dir_all(&d);
}
