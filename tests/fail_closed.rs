//! No write and no OK for a pairing that cannot work: a users database mas-link cannot read
//! stops the link, a MAS provider for another issuer is no hand-over, a Synapse provider
//! without a client ID is refused, linking again keeps what works, and the wrong kind of file
//! is named by every command.

mod common;
#[path = "common/server.rs"]
mod server;

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use common::*;

/// homeserver.yaml (the Cloudron fixture) with another `database:` section.
fn with_database(dir: &Path, database: &str) -> std::path::PathBuf {
    let text = fs::read_to_string(fixture("cloudron/homeserver.yaml")).unwrap();
    let start = text.find("database:\n").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let hs = dir.join("homeserver.yaml");
    fs::write(
        &hs,
        format!("{}{}{}", &text[..start], database, &text[end..]),
    )
    .unwrap();
    hs
}

/// A TCP port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn link(dir: &Path, extra: &[&str]) -> std::process::Output {
    mas_link()
        .current_dir(dir)
        .args(["synapse", "--synapse-config", "homeserver.yaml"])
        .arg("--mas-config")
        .arg(fixture("mas/config.yaml"))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn an_unreadable_users_database_stops_the_link() {
    let port = closed_port();
    let cases = [
        (
            "database:\n  name: sqlite3\n  args:\n    database: /data/homeserver.db".to_owned(),
            "/data/homeserver.db is not there",
        ),
        (
            format!(
                "database:\n  name: psycopg2\n  args:\n    user: synapse\n    password: \"pw-for-tests-1\"\n    database: synapse\n    host: 127.0.0.1\n    port: {port}"
            ),
            "127.0.0.1",
        ),
        (
            "database:\n  name: psycopg2\n  args:\n    user: synapse\n    database: synapse\n    host: db.invalid".to_owned(),
            "db.invalid",
        ),
    ];
    for (database, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        let hs = with_database(dir.path(), &database);
        let before = fs::read(&hs).unwrap();
        let out = link(dir.path(), &["--yes"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{database}: {err}");
        assert!(
            err.contains("could not be counted") && err.contains(named),
            "{err}"
        );
        for way in [
            "--users-migrated",
            "--new-server",
            "where Synapse's database is reachable",
        ] {
            assert!(err.contains(way), "{way}: {err}");
        }
        assert!(!err.contains("pw-for-tests-1"), "password shown: {err}");
        assert_eq!(fs::read(&hs).unwrap(), before, "nothing written");
        assert_eq!(files_in(dir.path()), 1, "no backup, record or secret file");
        // A dry run shows the diff, and says what --yes would do.
        let out = link(dir.path(), &["--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("with --yes this would stop"), "{err}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("+++"));
        // The operator says the server never had users: linked, and said so.
        let out = link(dir.path(), &["--yes", "--new-server"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("--new-server says"), "{err}");
    }
}

/// The MAS fixture for Keycloak's Synapse, its own provider claiming Synapse's with
/// `synapse_idp_id` but for `issuer`.
fn mas_claiming(dir: &Path, issuer: &str) -> std::path::PathBuf {
    let text = fs::read_to_string(fixture("sso/keycloak/config.yaml")).unwrap();
    let text = format!(
        "{text}upstream_oauth2:\n  providers:\n    - id: 01JAYS74TCG3BTWKADN5Q4518C\n      issuer: \"{issuer}\"\n      synapse_idp_id: oidc-keycloak\n      client_id: synapse\n      client_secret: \"other-realm-secret-1\"\n      token_endpoint_auth_method: client_secret_basic\n      scope: openid\n"
    );
    let path = dir.join("config.yaml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_mas_provider_for_another_issuer_is_no_hand_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mas = mas_claiming(d, "https://kc.example.com/realms/other");
    let hs = copy(
        &fixture("sso/keycloak/homeserver.yaml"),
        d,
        "homeserver.yaml",
    );
    let both = |args: &[&str]| {
        mas_link()
            .current_dir(d)
            .args(args)
            .args([
                "--synapse-config",
                "homeserver.yaml",
                "--mas-config",
                "config.yaml",
            ])
            .output()
            .unwrap()
    };
    let issuers = |out: &std::process::Output| {
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            said.contains("https://kc.example.com/realms/other")
                && said.contains("https://kc.example.com/realms/matrix"),
            "both issuers named: {said}"
        );
    };
    let before = (fs::read(&hs).unwrap(), fs::read(&mas).unwrap());
    for cmd in [
        &["mas", "--yes"][..],
        &["synapse", "--new-server", "--yes"][..],
    ] {
        let out = both(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        issuers(&out);
    }
    assert_eq!((fs::read(&hs).unwrap(), fs::read(&mas).unwrap()), before);
    let out = both(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    issuers(&out);
    // The same issuer, written differently (a trailing slash): the hand-over stands.
    mas_claiming(d, "https://kc.example.com/realms/matrix/");
    let out = both(&["synapse", "--new-server", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_synapse_provider_without_client_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("sso/keycloak/config.yaml"), d, "config.yaml");
    let text = fs::read_to_string(fixture("sso/keycloak/homeserver.yaml"))
        .unwrap()
        .replace("    client_id: \"synapse\"\n", "");
    fs::write(d.join("homeserver.yaml"), text).unwrap();
    let before = fs::read(d.join("config.yaml")).unwrap();
    let out = mas_link()
        .current_dir(d)
        .args([
            "mas",
            "--mas-config",
            "config.yaml",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`oidc-keycloak`") && err.contains("no client_id"),
        "{err}"
    );
    assert_eq!(fs::read(d.join("config.yaml")).unwrap(), before);
}

/// A server linked with `secret_path` (its file holds the secret) and its own endpoint keeps
/// both when linked again from MAS's config; with another secret, the file's content changes,
/// its owner and mode stay.
#[test]
fn linking_again_keeps_secret_path_and_endpoint() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = d.join("mas-secret");
    fs::write(&secret, format!("{MAS_SECRET}\n")).unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o640)).unwrap();
    let text = fs::read_to_string(fixture("cloudron/homeserver.yaml")).unwrap();
    let hs = d.join("homeserver.yaml");
    fs::write(&hs, text).unwrap();
    mas_link()
        .current_dir(d)
        .args([
            "synapse",
            "--new-server",
            "--synapse-config",
            "homeserver.yaml",
            "--yes",
        ])
        .args(["--endpoint", "http://mas.internal:8080/", "--secret-path"])
        .arg(&secret)
        .env("MAS_SECRET", MAS_SECRET)
        .assert()
        .success();
    let linked = fs::read(&hs).unwrap();
    let mas = mas_fixture_for(&hs);
    // `synapse --yes` from MAS's config, plus `extra`: what it printed.
    let relink = |mas: &Path, extra: &[&str]| {
        let out = mas_link()
            .current_dir(d)
            .args(["synapse", "--synapse-config", "homeserver.yaml", "--yes"])
            .args(extra)
            .arg("--mas-config")
            .arg(mas)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        said
    };
    assert!(relink(&mas, &[]).contains("Nothing to do"));
    assert_eq!(
        fs::read(&hs).unwrap(),
        linked,
        "relinking changed a file that works"
    );
    // Another secret in MAS: the file gets it, keeping its mode; homeserver.yaml is the same.
    let other = d.join("other-mas.yaml");
    fs::write(
        &other,
        fs::read_to_string(&mas)
            .unwrap()
            .replace(MAS_SECRET, "AnotherSecretFromMAS0123456789ab"),
    )
    .unwrap();
    relink(&other, &[]);
    assert_eq!(fs::read(&hs).unwrap(), linked);
    assert_eq!(
        fs::read_to_string(&secret).unwrap().trim(),
        "AnotherSecretFromMAS0123456789ab"
    );
    assert_eq!(
        fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // --endpoint still changes it.
    relink(&other, &["--endpoint", "https://auth.example.com/"]);
    assert!(
        fs::read_to_string(&hs)
            .unwrap()
            .contains("https://auth.example.com/")
    );
}

/// Each command names the wrong kind of file, before anything else, and writes nothing.
#[test]
fn every_command_names_the_wrong_kind_of_file() {
    let hs = fixture("cloudron/homeserver.yaml");
    let mas = fixture("mas/config.yaml");
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec![
            "check".as_ref(),
            "--synapse-config".as_ref(),
            mas.as_os_str(),
            "--mas-config".as_ref(),
            hs.as_os_str(),
        ],
        vec!["sso".as_ref(), "--synapse-config".as_ref(), mas.as_os_str()],
        vec!["secret".as_ref(), "--mas-config".as_ref(), hs.as_os_str()],
        vec![
            "synapse".as_ref(),
            "--synapse-config".as_ref(),
            mas.as_os_str(),
            "--dry-run".as_ref(),
        ],
        vec![
            "mas".as_ref(),
            "--mas-config".as_ref(),
            hs.as_os_str(),
            "--dry-run".as_ref(),
        ],
        vec![
            "unlink".as_ref(),
            "--synapse-config".as_ref(),
            mas.as_os_str(),
            "--dry-run".as_ref(),
        ],
    ];
    for args in cases {
        let out = mas_link()
            .args(&args)
            .env("MAS_SECRET", MAS_SECRET)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("mas-link: error: ") && err.contains("looks like"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// `mas-link sso | mas-link mas --sso-stdin --yes`, run in two folders standing for the two
/// containers: MAS's `matrix.endpoint` afterwards.
fn endpoint_after_pipe(endpoint: &str) -> String {
    let hs_box = tempfile::tempdir().unwrap();
    let mas_box = tempfile::tempdir().unwrap();
    copy(
        &fixture("cloudron/homeserver.yaml"),
        hs_box.path(),
        "homeserver.yaml",
    );
    let text = fs::read_to_string(fixture("mas/config.yaml"))
        .unwrap()
        .replace(
            "endpoint: http://localhost:8008/",
            &format!("endpoint: {endpoint}"),
        );
    fs::write(mas_box.path().join("config.yaml"), text).unwrap();
    let line = format!(
        "(cd {hs} && {bin} sso --synapse-config homeserver.yaml) | (cd {mas} && {bin} mas --mas-config config.yaml --sso-stdin --yes)",
        hs = hs_box.path().display(),
        mas = mas_box.path().display(),
        bin = bin().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &line])
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(mas_box.path().join("config.yaml")).unwrap();
    let doc = mas_link::yaml::Document::parse(text, mas_link::yaml::Options::SERDE_YAML).unwrap();
    doc.value()
        .at(&["matrix", "endpoint"])
        .and_then(mas_link::yaml::Value::as_str)
        .unwrap()
        .to_owned()
}

/// MAS's generated loopback endpoint reaches no Synapse in another container: where Synapse's
/// URL comes with its side, it replaces it; an endpoint set to another host stays.
#[test]
fn mas_reaches_synapse() {
    for loopback in [
        "http://localhost:8008/",
        "http://127.0.0.1:8008/",
        "http://[::1]:8008/",
    ] {
        assert_eq!(
            endpoint_after_pipe(loopback),
            "https://matrix.example.com/",
            "{loopback}"
        );
    }
    assert_eq!(
        endpoint_after_pipe("http://synapse.internal:8008/"),
        "http://synapse.internal:8008/"
    );
    // On Cloudron (Synapse is another app), check names a loopback endpoint in MAS's app.
    let out = mas_link()
        .args(["check", "--mas-config"])
        .arg(fixture("mas/config.yaml"))
        .env("CLOUDRON_APP_ORIGIN", "https://auth.example.com")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("matrix.endpoint is http://localhost:8008/"),
        "{said}"
    );
}

/// Linking twice equals linking once: over every linkable fixture and corpus file, with the
/// secret inline or in a `secret_path` file, the second run (the same command, or the bare
/// `--mas-config` one) changes no byte of homeserver.yaml or of the secret file.
#[test]
fn linking_twice_equals_linking_once() {
    let mut runs = 0;
    for (name, src) in linkable_sources() {
        for secret_path in [false, true] {
            let (dir, hs) = scratch(&src);
            let secret = dir.path().join("mas-secret");
            let link = |extra: &[&str], with_path: bool| {
                let mut c = link_with_mas_fixture(dir.path(), &["--yes"]);
                c.args(extra);
                if with_path {
                    c.arg("--secret-path").arg(&secret);
                }
                let out = c.output().unwrap();
                assert!(
                    out.status.success(),
                    "{name}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).into_owned()
            };
            link(&[], secret_path);
            let once = (fs::read(&hs).unwrap(), fs::read(&secret).ok());
            for with_path in [secret_path, false] {
                let said = link(&[], with_path);
                assert!(
                    said.contains("Nothing to do"),
                    "{name} ({secret_path}, {with_path}): {said}"
                );
                assert_eq!(
                    (fs::read(&hs).unwrap(), fs::read(&secret).ok()),
                    once,
                    "{name}: linking again changed something"
                );
                runs += 1;
            }
        }
    }
    assert!(runs >= 28, "{runs}");
}

/// A Synapse not linked yet (its database made by a real Synapse, no users): check's fix for
/// "not linked" brings MAS's secret with it, and runs as printed to a linked server.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn checks_link_fix_runs_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    drop(server::Server::start(&synapse_python(), dir.path()));
    let d = dir.path();
    let mas = mas_fixture_for(&d.join("homeserver.yaml"));
    copy(&mas, d, "mas.yaml");
    let check = || {
        let out = mas_link()
            .current_dir(d)
            .args([
                "check",
                "--synapse-config",
                "homeserver.yaml",
                "--mas-config",
                "mas.yaml",
                "--json",
            ])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let report = check();
    assert_eq!(report["linked"], false, "{report:#}");
    let fix = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["effect"] == "not_linked")
        .unwrap()["fix"]
        .as_str()
        .unwrap()
        .to_owned();
    let command = fix.split('`').nth(1).unwrap();
    assert_eq!(
        command,
        "mas-link secret --mas-config mas.yaml --bundle | mas-link synapse --synapse-config homeserver.yaml --secret-stdin --yes"
    );
    let bin = bin().display().to_string();
    let out = std::process::Command::new("sh")
        .args(["-c", &command.replace("mas-link", &bin)])
        .current_dir(d)
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(check()["linked"], true);
}

/// A PostgreSQL host that accepts the connection and never answers holds neither `check` nor
/// `synapse --yes` (nor its lock): one deadline over connect, start-up and queries, then the
/// link stops as for any database it cannot read. (The 60 s below only keeps a hang from
/// holding the suite: it is no measure of speed.)
#[test]
fn a_silent_database_never_holds_the_tool() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept every connection and keep it open, saying nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let hs = with_database(
        dir.path(),
        &format!(
            "database:\n  name: psycopg2\n  args:\n    user: synapse\n    database: synapse\n    host: 127.0.0.1\n    port: {port}\n    sslmode: disable"
        ),
    );
    let before = fs::read(&hs).unwrap();
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(bin())
            .current_dir(dir.path())
            .args(args)
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} still waits on a silent database");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        child.wait_with_output().unwrap()
    };
    let mas = fixture("mas/config.yaml");
    let mas = mas.to_str().unwrap();
    let out = run(&[
        "synapse",
        "--synapse-config",
        "homeserver.yaml",
        "--mas-config",
        mas,
        "--yes",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did not answer within 3 s"), "{err}");
    assert_eq!(fs::read(&hs).unwrap(), before);
    let out = run(&["check", "--synapse-config", "homeserver.yaml", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["not_checked"]
            .to_string()
            .contains("did not answer within 3 s"),
        "{report:#}"
    );
}

/// On Cloudron, the commands in a refusal are `cloudron exec` lines for each side's app: an
/// SSO server linked without MAS's side is told to bring the providers to MAS from Synapse's
/// app, then the secret from MAS's.
#[test]
fn a_refusal_on_cloudron_names_each_app() {
    let (dir, hs) = scratch(&fixture("sso/keycloak/homeserver.yaml"));
    let out = mas_link()
        .current_dir(dir.path())
        .args(["synapse", "--new-server", "--yes", "--synapse-config"])
        .arg(&hs)
        .args(["--endpoint", "https://auth.example.com/"])
        .env("MAS_SECRET", MAS_SECRET)
        .env("CLOUDRON_APP_ORIGIN", "https://matrix.example.com")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let bin = "/app/data/mas-link";
    let hs = hs.display();
    assert!(
        err.contains(&format!(
            "`cloudron exec --app matrix.example.com -- {bin} sso --synapse-config {hs} | \
             cloudron exec --app auth.example.com -- {bin} mas --sso-stdin --yes`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "`cloudron exec --app auth.example.com -- {bin} secret --bundle | cloudron exec \
             --app matrix.example.com -- {bin} synapse --synapse-config {hs} --secret-stdin --yes`"
        )),
        "{err}"
    );
}
