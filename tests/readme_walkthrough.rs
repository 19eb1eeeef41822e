//! README's Cloudron walkthrough, run as written: every command of the section "Cloudron, step
//! by step", in order, with two folders as the two apps. A stand-in `cloudron` on PATH pushes
//! into a folder and runs `exec` in a mount namespace where that folder is `/app`, so that
//! mas-link finds its files at Cloudron's paths; `cargo` only has to have built the binary.

mod common;
#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/server.rs"]
mod server;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// The commands of a README section: its `sh` blocks, and the `cloudron …` commands its text
/// quotes, in the order they stand; the wizard (it needs a terminal) left out.
fn section_commands(readme: &str, title: &str) -> Vec<String> {
    let start = readme.find(title).expect("the section");
    let body = &readme[start + title.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut commands = Vec::new();
    let mut in_block = false;
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_block = t == "```sh";
            continue;
        }
        if in_block {
            commands.push(t.to_owned());
        } else {
            for quoted in t.split('`').skip(1).step_by(2) {
                if quoted.starts_with("cloudron ") && !quoted.contains(" wizard") {
                    commands.push(quoted.to_owned());
                }
            }
        }
    }
    commands
}

/// Two Cloudron apps as folders (Synapse's with the database a real Synapse made, MAS's), the
/// operator's machine with the built binary, and the stand-in `cloudron` on PATH.
struct Apps {
    work: tempfile::TempDir,
    apps: std::path::PathBuf,
    mas: std::path::PathBuf,
    matrix: std::path::PathBuf,
    desk: std::path::PathBuf,
    tools: std::path::PathBuf,
}

impl Apps {
    fn new() -> Apps {
        let work = tempfile::tempdir().unwrap();
        let apps = work.path().join("apps");
        let mas = apps.join("auth.example.com/app/data");
        let matrix = apps.join("matrix.example.com/app/data");
        fs::create_dir_all(&mas).unwrap();
        fs::create_dir_all(matrix.join("configs")).unwrap();
        // Cloudron's shape: Synapse signs users in through Cloudron's OpenID Connect, and the
        // MAS app has its own provider for it.
        fs::copy(fixture("sso/cloudron/config.yaml"), mas.join("config.yaml")).unwrap();
        let hs = matrix.join("configs/homeserver.yaml");
        fs::copy(fixture("sso/cloudron/homeserver.yaml"), &hs).unwrap();
        // The Synapse app's database, where its homeserver.yaml says
        // (/app/data/data/homeserver.db), made by a real Synapse that ran once and has no user
        // yet: mas-link reads it, as it reads the real app's, and fails closed without it.
        let made = tempfile::tempdir().unwrap();
        drop(server::Server::start(&synapse_python(), made.path()));
        fs::create_dir_all(matrix.join("data")).unwrap();
        fs::copy(made.path().join("hs.db"), matrix.join("data/homeserver.db")).unwrap();
        // The operator's machine: the release binary and its checksum, downloaded, and the
        // two CLIs.
        let desk = work.path().join("desk");
        fs::create_dir_all(&desk).unwrap();
        fs::copy(common::bin(), desk.join("mas-link-x86_64-linux")).unwrap();
        let sum = Command::new("sha256sum")
            .arg("mas-link-x86_64-linux")
            .current_dir(&desk)
            .output()
            .unwrap();
        fs::write(desk.join("mas-link-x86_64-linux.sha256"), sum.stdout).unwrap();
        let tools = work.path().join("tools");
        fs::create_dir(&tools).unwrap();
        fs::write(tools.join("cloudron"), CLOUDRON).unwrap();
        fs::write(tools.join("cargo"), "#!/bin/sh\necho \"(built)\"\n").unwrap();
        for t in ["cloudron", "cargo"] {
            let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            fs::set_permissions(tools.join(t), mode).unwrap();
        }
        // A mount point for the apps' /app (outside the namespaces, an empty folder).
        if !Path::new("/app").exists() {
            fs::create_dir("/app").expect("root makes /app, the apps' mount point");
        }
        Apps {
            work,
            apps,
            mas,
            matrix,
            desk,
            tools,
        }
    }

    /// Runs a shell script on the operator's machine; its exit status, stdout and stderr.
    fn sh(&self, script: &str) -> (bool, String, String) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&self.desk)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.tools.display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("FAKE_APPS", &self.apps)
            .env("NO_COLOR", "1")
            .env("MAS_LINK_SYNAPSE_PYTHON", "none")
            .env_remove("MAS_SECRET")
            .env_remove("MAS_ENDPOINT")
            .env_remove("CLOUDRON_APP_ORIGIN")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
#[ignore = "needs root (mount namespaces stand in for the apps) and Synapse (MAS_LINK_SYNAPSE_PYTHON, to make the app's database): as root, cargo test --test readme_walkthrough -- --include-ignored"]
fn the_cloudron_walkthrough_runs_as_written() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let commands = section_commands(&readme, "## Cloudron, step by step");
    assert!(commands.len() >= 10, "{commands:#?}");
    let a = Apps::new();
    let (mas, hs) = (&a.mas, a.matrix.join("configs/homeserver.yaml"));
    let _ = &a.work;
    let script = format!("set -eu\n{}\n", commands.join("\n"));
    let (ok, stdout, stderr) = a.sh(&script);
    assert!(ok, "{script}\n{stdout}\n{stderr}");
    // The three checks (step 5: each side, and across the pipe) said OK, and the last step
    // undid the link.
    assert_eq!(stdout.matches("OK: 0 error(s)").count(), 3, "{stdout}");
    assert!(
        stdout.contains("Wrote") && stdout.contains("restarted matrix.example.com"),
        "{stdout}"
    );
    let text = fs::read_to_string(&hs).unwrap();
    let doc = mas_link::yaml::Document::parse(text, mas_link::yaml::Options::PYYAML).unwrap();
    let v = doc.value();
    assert_ne!(
        v.at(&["matrix_authentication_service", "enabled"]),
        Some(&mas_link::yaml::Value::Bool(true)),
        "unlinked at the end"
    );
    // SSO was handed over (MAS's provider claims Synapse's), and is Synapse's again.
    let mas_text = fs::read_to_string(mas.join("config.yaml")).unwrap();
    assert!(
        mas_text.contains("synapse_idp_id: \"oidc-cloudron\""),
        "{mas_text}"
    );
    assert!(
        v.get("oidc_providers").is_some(),
        "unlink brought the providers back"
    );
    // No secret on any command line the walkthrough ran.
    assert!(!script.contains(MAS_SECRET));
    assert!(!script.contains("a-cloudron-oidc-secret"));
}

/// The commands quoted (between backticks) in lines that start with `prefix`, which run on
/// the operator's machine (`cloudron …`).
fn quoted_cloudron(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.trim_start().starts_with(prefix))
        .flat_map(|l| l.split('`').skip(1).step_by(2))
        .filter(|c| c.starts_with("cloudron "))
        .map(str::to_owned)
        .collect()
}

/// On Cloudron each command mas-link prints is a `cloudron exec` line for the app it belongs
/// to, run from the operator's machine as printed: the link's way back, and check's fix for a
/// secret that differs (MAS's app, then Synapse's).
#[test]
#[ignore = "needs root (mount namespaces stand in for the apps) and Synapse (MAS_LINK_SYNAPSE_PYTHON, to make the app's database): as root, cargo test --test readme_walkthrough -- --include-ignored"]
fn printed_cloudron_commands_run_as_printed() {
    let a = Apps::new();
    let bin = "/app/data/mas-link";
    for app in [&a.mas, &a.matrix] {
        fs::copy(common::bin(), app.join("mas-link")).unwrap();
    }
    let (ok, out, err) = a.sh(&format!(
        "cloudron exec --app matrix.example.com -- {bin} sso | cloudron exec --app auth.example.com -- {bin} mas --sso-stdin --yes && \
         cloudron exec --app auth.example.com -- {bin} secret --bundle | cloudron exec --app matrix.example.com -- {bin} synapse --secret-stdin --yes"
    ));
    assert!(ok, "{out}\n{err}");
    let undo = quoted_cloudron(&out, "Next:");
    assert_eq!(
        undo.last().map(String::as_str),
        Some(format!("cloudron exec --app matrix.example.com -- {bin} unlink --yes").as_str()),
        "{out}"
    );
    // Synapse's secret no longer MAS's: the pipe check names it, and its fix mends it.
    let hs = a.matrix.join("configs/homeserver.yaml");
    let text = fs::read_to_string(&hs).unwrap();
    let at = text.find("matrix_authentication_service:").unwrap();
    let line = at + text[at..].find("  secret: ").unwrap();
    let end = line + text[line..].find('\n').unwrap();
    let broken = format!(
        "{}  secret: \"not-mas-secret-0123456789\"{}",
        &text[..line],
        &text[end..]
    );
    fs::write(&hs, broken).unwrap();
    let check = format!(
        "cloudron exec --app auth.example.com -- {bin} secret --bundle | cloudron exec --app matrix.example.com -- {bin} check --mas-bundle-stdin"
    );
    let (ok, out, _) = a.sh(&check);
    assert!(!ok, "{out}");
    let fix = quoted_cloudron(&out, "fix:");
    assert_eq!(
        fix,
        [format!(
            "cloudron exec --app auth.example.com -- {bin} secret | cloudron exec --app matrix.example.com -- {bin} synapse --secret-stdin --yes"
        )],
        "{out}"
    );
    let (ok, out, err) = a.sh(&fix[0]);
    assert!(ok, "{out}\n{err}");
    let (ok, out, _) = a.sh(&check);
    assert!(ok && out.contains("OK: 0 error(s)"), "{out}");
    // The way back, as printed.
    let (ok, out, err) = a.sh(&undo[undo.len() - 1]);
    assert!(ok && out.contains("Wrote"), "{out}\n{err}");
    let unlinked = fs::read_to_string(&hs).unwrap();
    assert!(unlinked.contains("oidc_providers:"), "{unlinked}");
}

/// README's production path on Cloudron ("Existing users", "On Cloudron"), run as written
/// through the stand-in `cloudron`: Synapse's app on PostgreSQL with users a real Synapse made
/// (a password user, an admin, an SSO user of Cloudron's provider), MAS's app with its own
/// provider for the same issuer and the real `mas-cli` at `/app/code/mas-cli`. No password is
/// typed or on a command line; MAS ends up holding every user and the SSO link (mas-link's
/// migrate says so, from both databases); nothing of Synapse's side stays behind; the link is
/// written, and `check` passes in both apps. (The stand-in's `stop`/`start` only say so: no
/// Synapse runs here; the logins through MAS are tests/e2e.rs's.)
#[test]
#[ignore = "needs root, Debian's postgresql, Synapse (MAS_LINK_SYNAPSE_PYTHON) and MAS's mas-cli (MAS_LINK_MAS_CLI): .ci/run"]
fn the_cloudron_production_path_runs_as_written() {
    let commands = readme_blocks(
        "On Cloudron (the Synapse app keeps its users in PostgreSQL)",
        "Legacy clients",
    );
    assert!(commands.len() >= 10, "{commands:#?}");
    let a = Apps::new();
    let pg = postgres::Postgres::start(&a.work.path().join("pg").tap(), server::free_port());
    pg.psql(
        "CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )
    .unwrap();
    pg.psql("CREATE DATABASE mas").unwrap();
    let db = format!(
        "database:\n  name: psycopg2\n  args:\n    user: postgres\n    password: a-db-password-0123\n    database: synapse\n    host: \"{}\"\n    port: {}\n",
        pg.socket_dir.display(),
        pg.port
    );
    // The Synapse that made the app's database and users, then stopped.
    {
        let made = a.work.path().join("made").tap();
        let s = server::Server::start_with(&synapse_python(), &made, &db);
        s.register("alice", "alice-password-1", false);
        s.register("admin", "admin-password-2", true);
        let token = s.login("admin", "admin-password-2");
        s.admin_put_user(
            &token,
            "@dave:localhost",
            serde_json::json!({"external_ids": [{"auth_provider": "oidc-cloudron", "external_id": "dave-sub"}]}),
        );
    }
    let hs = a.matrix.join("configs/homeserver.yaml");
    let text = fs::read_to_string(&hs).unwrap();
    let at = text.find("database:").unwrap();
    let end = at + text[at..].find("\n\n").unwrap() + 1;
    let text = format!("{}{db}{}", &text[..at], &text[end..])
        .replace("server_name: \"example.com\"", "server_name: \"localhost\"");
    fs::write(&hs, text).unwrap();
    let mas_config = a.mas.join("config.yaml");
    let text = fs::read_to_string(&mas_config).unwrap();
    let mut c: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    c["database"] = serde_yaml::from_str(&format!(
        "{{socket: '{}', port: {}, username: postgres, database: mas}}",
        pg.socket_dir.display(),
        pg.port
    ))
    .unwrap();
    c["matrix"]["homeserver"] = "localhost".into();
    fs::write(&mas_config, serde_yaml::to_string(&c).unwrap()).unwrap();
    for app in [&a.mas, &a.matrix] {
        fs::copy(common::bin(), app.join("mas-link")).unwrap();
    }
    let code = a.apps.join("auth.example.com/app/code").tap();
    std::os::unix::fs::symlink(common::mas_cli(), code.join("mas-cli")).unwrap();
    let leftovers = || {
        fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("mas-link-syn2mas-")
            })
            .count()
    };
    let before = leftovers();
    let script = format!("set -eu\n{}\n", commands.join("\n"));
    let (ok, stdout, stderr) = a.sh(&script);
    assert!(ok, "{script}\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("MAS holds all 3 active local user(s) of Synapse and all 1 SSO link(s)"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("stopped matrix.example.com") && stdout.contains("Wrote"));
    // What `mas --renumber-password-scheme` printed next is README's path: the same commands.
    let one_line = |s: &str| {
        s.replace("\\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let readme_path = one_line(&commands.join("\n"));
    let next = quoted_cloudron(&stdout, "Next: restart MAS");
    assert!(next.len() >= 4, "{stdout}");
    for c in &next {
        assert!(
            readme_path.contains(&one_line(c)),
            "{c}\nnot in README:\n{readme_path}"
        );
    }
    assert_eq!(leftovers(), before, "Synapse's side left in MAS's app");
    // No secret on any command line the path ran.
    for secret in ["a-db-password-0123", "a-cloudron-oidc-secret", MAS_SECRET] {
        assert!(!script.contains(secret), "{secret}");
    }
    let linked = fs::read_to_string(&hs).unwrap();
    assert!(
        linked.contains("matrix_authentication_service:"),
        "{linked}"
    );
    // Both apps check OK (each side, and across the pipe), as the walkthrough's step 5.
    let check = readme_blocks("5. Check each side", "6. To undo");
    let (ok, out, err) = a.sh(&check.join("\n"));
    assert!(ok, "{out}\n{err}");
    assert_eq!(out.matches("OK: 0 error(s)").count(), 3, "{out}\n{err}");
}

trait Tap {
    fn tap(self) -> Self;
}

impl Tap for std::path::PathBuf {
    /// The folder, made.
    fn tap(self) -> Self {
        fs::create_dir_all(&self).unwrap();
        self
    }
}
