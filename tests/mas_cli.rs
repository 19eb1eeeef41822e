//! MAS's own verdict as the judge of mas-link's MAS rules: on configs `mas-cli config
//! generate` writes, each changed in one way MAS may refuse (a section missing, a key of the
//! wrong shape, an id that is not a ULID, a provider whose fields do not fit its method …),
//! and on every MAS fixture, `mas-link check` without mas-cli says MAS refuses exactly when
//! `mas-cli config check` does; with mas-cli, its message is the one reported.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_yaml::Value;

/// `mas-cli config generate`'s config, read.
fn generated(dir: &Path) -> Value {
    let out = dir.join("generated.yaml");
    let status = Command::new(mas_cli())
        .args(["config", "generate", "--output"])
        .arg(&out)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    serde_yaml::from_str(&fs::read_to_string(out).unwrap()).unwrap()
}

fn at<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => &mut v[i],
        Err(_) => &mut v[*k],
    })
}

fn remove(v: &mut Value, path: &[&str]) {
    let (last, parent) = path.split_last().unwrap();
    at(v, parent).as_mapping_mut().unwrap().remove(*last);
}

fn set(v: &mut Value, path: &[&str], new: &str) {
    *at(v, path) = serde_yaml::from_str(new).unwrap();
}

const ULID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/// A provider for `method`, with or without a secret and a signing algorithm.
fn provider(method: &str, secret: bool, alg: bool) -> String {
    let mut p = format!(
        "[{{id: {ULID}, issuer: 'https://id.example.com/', client_id: c, \
         token_endpoint_auth_method: {method}, scope: openid"
    );
    if secret {
        p.push_str(", client_secret: s3cret-s3cret");
    }
    if alg {
        p.push_str(", token_endpoint_auth_signing_alg: RS256");
    }
    p.push_str("}]");
    p
}

/// (name, the generated config changed one way).
fn cases(base: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = vec![("generated".into(), base.clone())];
    let mut case = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        change(&mut v);
        out.push((name.to_owned(), v));
    };
    case("no secrets", &|v| remove(v, &["secrets"]));
    case("no encryption", &|v| remove(v, &["secrets", "encryption"]));
    case("encryption short", &|v| {
        set(v, &["secrets", "encryption"], "abcd")
    });
    case("encryption not hex", &|v| {
        set(v, &["secrets", "encryption"], &"z".repeat(64))
    });
    case("encryption_file", &|v| {
        remove(v, &["secrets", "encryption"]);
        set(v, &["secrets", "encryption_file"], "/etc/mas/enc");
    });
    case("no keys", &|v| remove(v, &["secrets", "keys"]));
    case("no http", &|v| remove(v, &["http"]));
    case("no public_base", &|v| remove(v, &["http", "public_base"]));
    case("no issuer", &|v| remove(v, &["http", "issuer"]));
    case("no listeners", &|v| remove(v, &["http", "listeners"]));
    case("listener without binds", &|v| {
        remove(v, &["http", "listeners", "0", "binds"])
    });
    case("listener binds nothing", &|v| {
        set(v, &["http", "listeners", "0", "binds"], "[]")
    });
    case("no database", &|v| remove(v, &["database"]));
    case("no email", &|v| remove(v, &["email"]));
    case("no matrix", &|v| remove(v, &["matrix"]));
    case("matrix without secret", &|v| {
        remove(v, &["matrix", "secret"])
    });
    case("secret a number", &|v| {
        set(v, &["matrix", "secret"], "12345")
    });
    case("secret and secret_file", &|v| {
        set(v, &["matrix", "secret_file"], "/etc/mas/secret")
    });
    case("kind unknown", &|v| set(v, &["matrix", "kind"], "dendrite"));
    case("kind modern", &|v| {
        set(v, &["matrix", "kind"], "synapse_modern")
    });
    case("homeserver a number", &|v| {
        set(v, &["matrix", "homeserver"], "12")
    });
    for (name, url) in [
        ("endpoint no scheme", "synapse"),
        ("endpoint host:port", "'localhost:8008'"),
        ("endpoint no host", "'http://'"),
        ("endpoint bad port", "'http://synapse:99999/'"),
        ("endpoint query", "'http://synapse/?a=1'"),
        ("endpoint ftp", "'ftp://synapse/'"),
    ] {
        case(name, &|v| set(v, &["matrix", "endpoint"], url));
    }
    case("templates.path null", &|v| {
        set(v, &["templates"], "{path: null}")
    });
    for (name, id) in [
        ("client ulid", ULID),
        ("client id short", "01ABC"),
        ("client id with U", "01ARZ3NDEKTSV4RRFFQ69G5FAU"),
        ("client id lowercase", "01arz3ndektsv4rrffq69g5fav"),
    ] {
        case(name, &|v| {
            let clients = format!(
                "[{{client_id: '{id}', client_auth_method: none, redirect_uris: ['https://x.example/']}}]"
            );
            set(v, &["clients"], &clients)
        });
    }
    for method in [
        "none",
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
    ] {
        for secret in [false, true] {
            for alg in [false, true] {
                let name = format!("provider {method} secret={secret} alg={alg}");
                case(&name, &|v| {
                    set(v, &["upstream_oauth2"], "{providers: []}");
                    set(
                        v,
                        &["upstream_oauth2", "providers"],
                        &provider(method, secret, alg),
                    );
                });
            }
        }
    }
    case("provider id not a ulid", &|v| {
        set(v, &["upstream_oauth2"], "{providers: []}");
        set(
            v,
            &["upstream_oauth2", "providers"],
            &provider("none", false, false),
        );
        set(v, &["upstream_oauth2", "providers", "0", "id"], "abc");
    });
    case("provider without issuer", &|v| {
        set(v, &["upstream_oauth2"], "{providers: []}");
        set(
            v,
            &["upstream_oauth2", "providers"],
            &provider("none", false, false),
        );
        remove(v, &["upstream_oauth2", "providers", "0", "issuer"]);
    });
    case("provider without issuer, discovery off", &|v| {
        set(v, &["upstream_oauth2"], "{providers: []}");
        set(
            v,
            &["upstream_oauth2", "providers"],
            &provider("none", false, false),
        );
        remove(v, &["upstream_oauth2", "providers", "0", "issuer"]);
        let p = at(v, &["upstream_oauth2", "providers", "0"])
            .as_mapping_mut()
            .unwrap();
        p.insert("discovery_mode".into(), "disabled".into());
    });
    out
}

/// Whether `mas-cli config check` accepts the files, and its message when not.
fn mas_accepts(dir: &Path, file: &Path) -> (bool, String) {
    let out = Command::new(mas_cli())
        .current_dir(dir)
        .args(["config", "check", "-c"])
        .arg(file)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let message = err
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or("")
        .to_owned();
    (out.status.success(), message)
}

/// `mas-link check` on MAS's file: whether it says MAS refuses (a finding of that effect on
/// MAS's side), and the report.
fn mas_link_refuses(dir: &Path, file: &Path, mas_cli: &str) -> (bool, serde_json::Value) {
    let out = mas_link()
        .current_dir(dir)
        .args([
            "check",
            "--format",
            "json",
            "--mas-cli",
            mas_cli,
            "--mas-config",
        ])
        .arg(file)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let refuses = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["file"] == "mas" && f["effect"] == "refuses");
    (refuses, report)
}

/// Every config written, then judged by both; the disagreements, named.
fn disagreements(dir: &Path, configs: &[(String, Value)]) -> (usize, Vec<String>) {
    let files: Vec<(String, std::path::PathBuf)> = configs
        .iter()
        .enumerate()
        .map(|(i, (name, v))| {
            let file = dir.join(format!("case-{i}.yaml"));
            fs::write(&file, serde_yaml::to_string(v).unwrap()).unwrap();
            (name.clone(), file)
        })
        .collect();
    judged_by_both(dir, &files)
}

/// Each file judged by `mas-cli config check` and by `check` (without mas-cli, and with it),
/// run in `dir`; how many MAS refused, and the disagreements, named.
fn judged_by_both(dir: &Path, files: &[(String, std::path::PathBuf)]) -> (usize, Vec<String>) {
    let mut refused = 0;
    let mut wrong = Vec::new();
    for (name, file) in files {
        let (accepts, message) = mas_accepts(dir, file);
        let (native, report) = mas_link_refuses(dir, file, "none");
        refused += usize::from(!accepts);
        if native == accepts {
            wrong.push(format!(
                "{name}: mas-cli {} ({message}), mas-link's own rules say {}: {}",
                if accepts { "accepts" } else { "refuses" },
                if native { "refuses" } else { "starts" },
                report["findings"]
            ));
        }
        // With mas-cli, its verdict is the report's.
        let (with_mas, report) = mas_link_refuses(dir, file, &mas_cli().display().to_string());
        if with_mas == accepts {
            wrong.push(format!("{name}: with mas-cli, check disagrees: {report}"));
        }
    }
    (refused, wrong)
}

#[test]
#[ignore = "needs MAS's mas-cli: MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)"]
fn check_agrees_with_mas_config_check_on_generated_configs() {
    let dir = tempfile::tempdir().unwrap();
    let base = generated(dir.path());
    let configs = cases(&base);
    let (refused, wrong) = disagreements(dir.path(), &configs);
    eprintln!("mas-cli refused {refused} of {} configs", configs.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The cases test something: MAS refuses many, and accepts many.
    assert!(
        refused >= 20 && configs.len() - refused >= 15,
        "{refused} of {}",
        configs.len()
    );
}

#[test]
#[ignore = "needs MAS's mas-cli: MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)"]
fn check_agrees_with_mas_config_check_on_the_fixtures() {
    // As they are, from the repository's root (their relative secret files are from there).
    let files: Vec<(String, std::path::PathBuf)> = walk(&repo().join("fixtures"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "config.yaml"))
        .map(|p| (p.display().to_string(), p))
        .collect();
    assert!(files.len() >= 10, "{}", files.len());
    let (_, wrong) = judged_by_both(&repo(), &files);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        match p.is_dir() {
            true => out.extend(walk(&p)),
            false => out.push(p),
        }
    }
    out.sort();
    out
}

/// A refusal by MAS is reported with MAS's own message, at the key it names, its secrets
/// masked.
#[test]
#[ignore = "needs MAS's mas-cli: MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)"]
fn mas_refusal_is_reported_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = generated(dir.path());
    set(
        &mut v,
        &["clients"],
        "[{client_id: '01ABC', client_auth_method: none}]",
    );
    let file = dir.path().join("config.yaml");
    fs::write(&file, serde_yaml::to_string(&v).unwrap()).unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args(["check", "--mas-config", "config.yaml", "--mas-cli"])
        .arg(mas_cli())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "`clients.0.client_id`: MAS's own `mas-cli config check` refuses it: invalid length"
        ),
        "{said}"
    );
    assert!(said.contains("MAS's own config check (mas-cli v"), "{said}");
    // The secret MAS's generated config holds is never printed.
    let secret = v["matrix"]["secret"].as_str().unwrap();
    assert!(!said.contains(secret));
    // MAS's message quotes a value it refuses: a secret is masked in it.
    let mut v = generated(dir.path());
    v["matrix"]
        .as_mapping_mut()
        .unwrap()
        .insert("secret".into(), Value::Number(9_876_543_210_123u64.into()));
    fs::write(&file, serde_yaml::to_string(&v).unwrap()).unwrap();
    let out = mas_link()
        .current_dir(dir.path())
        .args(["check", "--mas-config", "config.yaml", "--mas-cli"])
        .arg(mas_cli())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("refuses it: invalid type: found unsigned int"),
        "{said}"
    );
    assert!(!said.contains("9876543210123"), "{said}");
}

/// `mas` writes nothing MAS's own check refuses, where mas-cli is found: here a provider whose
/// claims imports MAS refuses (a rule of MAS's that mas-link's own rules do not hold), so
/// without mas-cli the same run writes.
#[test]
#[ignore = "needs MAS's mas-cli: MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)"]
fn mas_writes_nothing_mas_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = generated(dir.path());
    set(&mut v, &["upstream_oauth2"], "{providers: []}");
    set(
        &mut v,
        &["upstream_oauth2", "providers"],
        &provider("none", false, false),
    );
    set(
        &mut v,
        &["upstream_oauth2", "providers", "0", "claims_imports"],
        "{skip_confirmation: true}",
    );
    let file = dir.path().join("config.yaml");
    fs::write(&file, serde_yaml::to_string(&v).unwrap()).unwrap();
    let before = fs::read(&file).unwrap();
    let run = |mas_cli: &str| {
        mas_link()
            .current_dir(dir.path())
            .args([
                "mas",
                "--mas-config",
                "config.yaml",
                "--homeserver",
                "example.com",
            ])
            .args([
                "--synapse-endpoint",
                "https://matrix.example.com/",
                "--yes",
                "--mas-cli",
            ])
            .arg(mas_cli)
            .output()
            .unwrap()
    };
    let out = run(&mas_cli().display().to_string());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("MAS's own `mas-cli config check`")
            && err.contains("refuses the planned configuration; nothing was written")
            && err.contains("`skip_confirmation`")
            && err.contains("config.yaml"),
        "{err}"
    );
    assert_eq!(fs::read(&file).unwrap(), before, "nothing written");
    let out = run("none");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(fs::read(&file).unwrap(), before);
}
