//! Nobody locked out: a real Synapse (SQLite) makes the schema and the users — registered with
//! `register_new_matrix_user`, one given an SSO link and one made without a password through
//! the admin API — and mas-link reads them as MAS's migration tool will: `synapse` refuses to
//! link while they are not migrated (and links with --users-migrated), `check` reports them,
//! `unlink` counts those without a password. Ignored by default (they need Synapse); CI runs
//! them.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/server.rs"]
mod server;

use std::fs;

use common::*;
use predicates::prelude::*;

/// The users of the issue: alice (a password), admin (a password), bob (an SSO link, no
/// password), carol (neither: made while MAS was in charge), dave (deactivated).
fn populate(s: &server::Server) {
    s.register("alice", "alice-password-1", false);
    s.register("admin", "admin-password-1", true);
    let token = s.login("admin", "admin-password-1");
    s.admin_put_user(
        &token,
        "@bob:localhost",
        serde_json::json!({"external_ids": [{"auth_provider": "oidc-keycloak", "external_id": "kc-1"}]}),
    );
    s.admin_put_user(
        &token,
        "@carol:localhost",
        serde_json::json!({"displayname": "Carol"}),
    );
    s.admin_put_user(
        &token,
        "@dave:localhost",
        serde_json::json!({"displayname": "Dave"}),
    );
    s.deactivate(&token, "@dave:localhost");
}

/// Link refused (and nothing written), check's report, the link with --users-migrated, and
/// unlink's count, on the folder of a Synapse that `populate` filled.
fn refused_reported_linked(d: &std::path::Path, postgres: bool) {
    let hs = d.join("homeserver.yaml");
    let before = fs::read(&hs).unwrap();
    let link = || {
        let mut c = mas_link();
        c.current_dir(d)
            .args(["synapse", "--synapse-config", "homeserver.yaml", "--yes"])
            .args(["--endpoint", "http://127.0.0.1:8080/"])
            .env("MAS_SECRET", MAS_SECRET);
        c
    };
    let out = link().output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // alice, admin, bob, carol are active; dave is deactivated.
    assert!(err.contains("Synapse has 4 active local user(s)"), "{err}");
    // The migration's commands: mas-link's own, the files named, no secret in them.
    assert!(
        err.contains("`mas-link migrate --synapse-config homeserver.yaml`")
            && err.contains("`mas-link migrate --synapse-config homeserver.yaml --yes`"),
        "{err}"
    );
    assert!(err.contains("--users-migrated"), "{err}");
    assert_eq!(err.contains("synapse_port_db"), !postgres, "{err}");
    assert!(
        !err.contains("a-db-password") && !err.contains("postgresql://"),
        "{err}"
    );
    // In Synapse's Cloudron app: Synapse's side piped from its app into MAS's, read before
    // Synapse's app stops; nothing copied, nothing typed.
    let out = link()
        .env("CLOUDRON_APP_ORIGIN", "https://matrix.example.com")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let sso = format!(
        "cloudron exec --app matrix.example.com -- /app/data/mas-link sso --migration \
         --synapse-config {}",
        hs.display()
    );
    let migrate = "cloudron exec --app 127.0.0.1 -- /app/data/mas-link migrate --sso-stdin";
    assert!(err.contains(&format!("`{sso} | {migrate}`")), "{err}");
    assert!(
        err.contains(&format!(
            "`{sso} | {{ IFS= read -r side && cloudron stop --app matrix.example.com </dev/null \
             && printf '%s\\n' \"$side\" | {migrate} --yes; }}`"
        )),
        "{err}"
    );
    assert!(
        err.contains("`cloudron start --app matrix.example.com`"),
        "{err}"
    );
    assert_eq!(fs::read(&hs).unwrap(), before, "nothing written");
    let report = mas_link()
        .current_dir(d)
        .args([
            "check",
            "--synapse-config",
            "homeserver.yaml",
            "--format",
            "json",
            "--mas-config",
        ])
        .arg(fixture("sso/keycloak/config.yaml"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let users = report["users"].to_string();
    assert!(
        users.contains("4 active local user(s): 2 with a password, 1 with neither"),
        "{users}"
    );
    assert!(
        users.contains("1 user(s) sign in with SSO through `oidc-keycloak`"),
        "{users}"
    );
    assert!(users.contains("1 deactivated user(s)"), "{users}");
    // MAS's fixture has no provider for oidc-keycloak: those users could not sign in.
    assert!(
        report["findings"].to_string().contains("no MAS provider"),
        "{report:#}"
    );
    // Migrated (as the operator says): the link goes ahead; linked, running it again needs no
    // flag (MAS handles the logins already); unlink counts carol.
    link().arg("--users-migrated").assert().success();
    link()
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing to do"));
    mas_link()
        .current_dir(d)
        .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 user(s) have neither a password in Synapse nor an SSO link",
        ));
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn users_on_sqlite_are_counted_and_not_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = server::Server::start(&synapse_python(), dir.path());
        populate(&s);
    }
    refused_reported_linked(dir.path(), false);
}

#[ignore = "needs root, Debian's postgresql package and Synapse (MAS_LINK_SYNAPSE_PYTHON, with psycopg2): as root, cargo test -- --include-ignored"]
#[test]
fn users_on_postgresql_are_counted_and_not_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let pg = postgres::Postgres::start(dir.path(), server::free_port());
    pg.psql(
        "CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )
    .unwrap();
    let synapse = dir.path().join("synapse");
    fs::create_dir(&synapse).unwrap();
    let db = format!(
        "database:\n  name: psycopg2\n  args:\n    user: postgres\n    password: a-db-password\n    database: synapse\n    host: \"{}\"\n    port: {}\n",
        pg.socket_dir.display(),
        pg.port
    );
    {
        let s = server::Server::start_with(&synapse_python(), &synapse, &db);
        populate(&s);
    }
    // Over TCP the server takes TLS only: `require` encrypts (the certificate is self-signed,
    // and libpq's `require` does not check it); `disable` is turned away and `verify-full`
    // does not trust the certificate: each is said, and neither is a refusal.
    for (mode, counted) in [
        ("require", true),
        ("disable", false),
        ("verify-full", false),
    ] {
        let tcp = dir.path().join(format!("tcp-{mode}"));
        fs::create_dir(&tcp).unwrap();
        let text = fs::read_to_string(synapse.join("homeserver.yaml"))
            .unwrap()
            .replace(
                &format!("host: \"{}\"", pg.socket_dir.display()),
                &format!("host: 127.0.0.1\n    sslmode: {mode}"),
            );
        fs::write(tcp.join("homeserver.yaml"), text).unwrap();
        let out = mas_link()
            .current_dir(&tcp)
            .args([
                "check",
                "--synapse-config",
                "homeserver.yaml",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let users = report["users"].to_string();
        assert_eq!(
            users.contains("4 active local user(s)"),
            counted,
            "{mode}: {report:#}"
        );
        if !counted {
            let not_checked = report["not_checked"].to_string();
            assert!(
                not_checked.contains("Synapse's users"),
                "{mode}: {not_checked}"
            );
        }
    }
    refused_reported_linked(&synapse, true);
}

/// Everything a successful run said, standard output then error.
fn said_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// MAS made ready for Synapse's passwords: refused without the flag (MAS's own scheme is
/// version 1), then version 1 is bcrypt with Synapse's pepper (masked in the output) and
/// MAS's own scheme is version 2; the file fits MAS's schema, and a second run changes nothing.
#[test]
fn mas_is_made_ready_for_synapses_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&fixture("sso/keycloak/config.yaml"), d, "config.yaml");
    let hs = fs::read_to_string(fixture("sso/keycloak/homeserver.yaml"))
        .unwrap()
        .replace(
            "password_config:\n  enabled: false\n",
            "password_config:\n  enabled: false\n  pepper: \"a-synapse-pepper-1\"\n",
        );
    fs::write(d.join("homeserver.yaml"), hs).unwrap();
    let run = |extra: &[&str]| {
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
            .args(extra)
            .output()
            .unwrap();
        said_ok(&out)
    };
    let said = run(&[]);
    assert!(said.contains("--renumber-password-scheme"), "{said}");
    let text = fs::read_to_string(d.join("config.yaml")).unwrap();
    assert!(
        text.contains("  - version: 1\n    algorithm: argon2id\n"),
        "{text}"
    );
    let said = run(&["--renumber-password-scheme"]);
    assert!(!said.contains("a-synapse-pepper-1"), "pepper shown: {said}");
    let text = fs::read_to_string(d.join("config.yaml")).unwrap();
    assert!(
        text.contains("  - version: 2\n    algorithm: argon2id\n"),
        "{text}"
    );
    assert!(
        text.contains("  - version: 1\n    algorithm: \"bcrypt\"\n    unicode_normalization: true\n    secret: \"a-synapse-pepper-1\"\n"),
        "{text}"
    );
    let errors = schema_errors(&text);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(run(&["--renumber-password-scheme"]).contains("Nothing to do"));
}

/// A fresh server (its database not made yet) links without the flag.
#[test]
fn a_fresh_server_links_without_the_flag() {
    let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
    link_with_mas_fixture(dir.path(), &["--yes"])
        .assert()
        .success();
}

/// The password-scheme note only where it applies: a Synapse whose database holds no user
/// with a password (a real one, made by Synapse) needs no scheme for its passwords, and `mas`
/// says nothing of renumbering; with the database out of reach it says what to do.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn the_password_scheme_note_only_where_it_applies() {
    let dir = tempfile::tempdir().unwrap();
    drop(server::Server::start(&synapse_python(), dir.path()));
    let d = dir.path();
    copy(&fixture("sso/keycloak/config.yaml"), d, "config.yaml");
    let mas = |hs: &str| {
        let out = mas_link()
            .current_dir(d)
            .args(["mas", "--mas-config", "config.yaml", "--synapse-config", hs])
            .args(["--homeserver", "localhost", "--dry-run"])
            .output()
            .unwrap();
        said_ok(&out)
    };
    let said = mas("homeserver.yaml");
    assert!(!said.contains("--renumber-password-scheme"), "{said}");
    assert!(!said.contains("bcrypt"), "{said}");
    // The same file, its database moved away: nothing known of its users.
    let text = fs::read_to_string(d.join("homeserver.yaml"))
        .unwrap()
        .replace("hs.db", "elsewhere.db");
    fs::write(d.join("moved.yaml"), text).unwrap();
    let said = mas("moved.yaml");
    assert!(said.contains("--renumber-password-scheme"), "{said}");
}
