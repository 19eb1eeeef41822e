//! Nobody locked out: a real Synapse (SQLite) makes the schema and the users — registered with
//! `register_new_matrix_user`, one given an SSO link and one made without a password through
//! the admin API — and mas-link reads them as MAS's migration tool will: `synapse` refuses to
//! link while they are not migrated (and links with --users-migrated), `check` reports them,
//! `unlink` counts those without a password. Ignored by default (they need Synapse); CI runs
//! them.

mod common;
#[path = "common/server.rs"]
mod server;

use std::fs;

use common::*;
use predicates::prelude::*;

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn users_are_counted_and_not_locked_out() {
    let py = synapse_python();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    {
        let s = server::Server::start(&py, d);
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
    // alice, admin, bob, carol are active; dave is deactivated.
    link()
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Synapse has 4 active local user(s)",
        ))
        .stderr(predicate::str::contains("synapse_port_db"))
        .stderr(predicate::str::contains(
            "mas-cli syn2mas check --synapse-config homeserver.yaml",
        ))
        .stderr(predicate::str::contains("--users-migrated"));
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
    // Migrated (as the operator says): the link goes ahead; unlink counts carol.
    link().arg("--users-migrated").assert().success();
    mas_link()
        .current_dir(d)
        .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 user(s) have neither a password in Synapse nor an SSO link",
        ));
}

/// A fresh server (its database not made yet) links without the flag.
#[test]
fn a_fresh_server_links_without_the_flag() {
    let (dir, _) = scratch(&fixture("cloudron/homeserver.yaml"));
    link_with_mas_fixture(dir.path(), &["--yes"])
        .assert()
        .success();
}
