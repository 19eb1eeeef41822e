//! Differential test: on a generated corpus of homeserver.yaml files, `check`'s verdict (does
//! Synapse refuse to start?) must equal Synapse's own config loader's. Needs
//! MAS_LINK_SYNAPSE_PYTHON, like tests/synapse_loader.rs.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use mas_link::files;
use mas_link::findings::Effect;
use mas_link::rules::layers::Layers;
use mas_link::rules::release::{self, Release};
use mas_link::rules::synapse;
use mas_link::yaml::{Document, Options};

const BASE: &str = "server_name: \"example.org\"\nreport_stats: false\n\
signing_key_path: \"/data/example.org.signing.key\"\nlog_config: \"/data/log.config\"\n\
media_store_path: \"/data/media\"\ndatabase:\n  name: sqlite3\n  args:\n    database: /data/hs.db\n";

/// A MAS block with `enabled` spelled as given, and the other keys valid.
fn mas(enabled: &str) -> String {
    format!(
        "matrix_authentication_service:\n  enabled: {enabled}\n  endpoint: \"http://localhost:8080/\"\n  secret: \"s3cret\"\n"
    )
}

/// (name, text appended to the base). `{dir}` stands for a folder holding `secret` (a file
/// with a secret) and `empty` (an empty file).
pub fn corpus() -> Vec<(String, String)> {
    let on = mas("true");
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, text: String| cases.push((name.to_owned(), text));

    // `enabled` spellings: YAML 1.1 booleans pass; strings, numbers and null do not.
    for (n, v) in [
        ("true", "true"),
        ("True", "True"),
        ("yes", "yes"),
        ("on", "on"),
        ("ON", "ON"),
        ("false", "false"),
        ("no", "no"),
        ("off", "off"),
        ("string_true", "\"true\""),
        ("quoted_yes", "'yes'"),
        ("one", "1"),
        ("zero", "0"),
        ("null", "null"),
    ] {
        add(&format!("enabled_{n}"), mas(v));
    }
    add("mas_absent", String::new());
    add("mas_null", "matrix_authentication_service:\n".into());
    add(
        "mas_list",
        "matrix_authentication_service: [enabled]\n".into(),
    );
    add(
        "mas_string",
        "matrix_authentication_service: \"yes\"\n".into(),
    );
    // The secret.
    let block = |rest: &str| format!("matrix_authentication_service:\n  enabled: true\n{rest}");
    add("secret_int", block("  secret: 12345\n"));
    add("secret_bool", block("  secret: yes\n"));
    add("secret_empty", block("  secret: \"\"\n"));
    add(
        "secret_missing",
        block("  endpoint: \"http://localhost:8080/\"\n"),
    );
    add("secret_octal_quoted", block("  secret: \"0123\"\n"));
    add("secret_octal_bare", block("  secret: 0123\n"));
    add("secret_path_ok", block("  secret_path: \"{dir}/secret\"\n"));
    add(
        "secret_path_empty_file",
        block("  secret_path: \"{dir}/empty\"\n"),
    );
    add(
        "secret_path_missing",
        block("  secret_path: \"{dir}/nope\"\n"),
    );
    add("secret_path_dir", block("  secret_path: \"{dir}\"\n"));
    add(
        "secret_and_path",
        block("  secret: \"s\"\n  secret_path: \"{dir}/secret\"\n"),
    );
    add(
        "secret_null_path_ok",
        block("  secret: null\n  secret_path: \"{dir}/secret\"\n"),
    );
    add(
        "secret_file_typo",
        block("  secret_file: \"{dir}/secret\"\n"),
    );
    add(
        "disabled_without_secret",
        "matrix_authentication_service:\n  enabled: false\n".into(),
    );
    // The endpoint.
    add(
        "endpoint_no_scheme",
        block("  secret: \"s\"\n  endpoint: \"mas.example.com:8080\"\n"),
    );
    add(
        "endpoint_ftp",
        block("  secret: \"s\"\n  endpoint: \"ftp://mas.example.com/\"\n"),
    );
    add(
        "endpoint_query",
        block("  secret: \"s\"\n  endpoint: \"http://mas.example.com/?x=1\"\n"),
    );
    add("endpoint_int", block("  secret: \"s\"\n  endpoint: 8080\n"));
    add(
        "endpoint_null",
        block("  secret: \"s\"\n  endpoint: null\n"),
    );
    add(
        "endpoint_https_port",
        block("  secret: \"s\"\n  endpoint: \"https://mas.example.com:8443\"\n"),
    );
    add(
        "force_http2_yes",
        block("  secret: \"s\"\n  force_http2: yes\n"),
    );
    add(
        "force_http2_string",
        block("  secret: \"s\"\n  force_http2: \"yes\"\n"),
    );
    // Password login: Python truthiness.
    for (n, v) in [
        ("true", "true"),
        ("yes", "yes"),
        ("string_false", "\"false\""),
        ("reauth", "only_for_reauth"),
        ("one", "1"),
        ("false", "false"),
        ("no", "no"),
        ("off", "off"),
        ("zero", "0"),
        ("null", "null"),
    ] {
        add(
            &format!("password_{n}"),
            format!("{on}password_config:\n  enabled: {v}\n"),
        );
        if n == "true" || n == "reauth" {
            add(
                &format!("password_{n}_mas_off"),
                format!("password_config:\n  enabled: {v}\n"),
            );
        }
    }
    add("password_section_null", format!("{on}password_config:\n"));
    // What Synapse refuses whatever MAS's state: no report_stats (null counts as set), open
    // registration without verification, and each verification that makes it acceptable.
    add("report_stats_null", "report_stats: null\n".into());
    for (n, v) in [
        ("open", "enable_registration: true\n"),
        ("open_string", "enable_registration: \"yes\"\n"),
        (
            "open_unverified_ok",
            "enable_registration: true\nenable_registration_without_verification: true\n",
        ),
        (
            "open_unverified_string",
            "enable_registration: true\nenable_registration_without_verification: \"true\"\n",
        ),
        (
            "open_captcha",
            "enable_registration: true\nenable_registration_captcha: true\nrecaptcha_public_key: p\nrecaptcha_private_key: k\n",
        ),
        (
            "open_3pid",
            "enable_registration: true\nregistrations_require_3pid: [email]\n",
        ),
        (
            "open_3pid_empty",
            "enable_registration: true\nregistrations_require_3pid: []\n",
        ),
        (
            "open_token",
            "enable_registration: true\nregistration_requires_token: true\n",
        ),
    ] {
        add(&format!("registration_{n}"), v.into());
    }
    // Server names (the later key wins) and endpoints: one judge for every command.
    for (n, v) in [
        ("user_id", "\"@admin:example.com\""),
        ("space", "\"exa mple.com\""),
        ("scheme", "\"https://example.com\""),
        ("port", "\"example.com:8448\""),
        ("big_port", "\"example.com:99999\""),
        ("word_port", "\"example.com:http\""),
        ("ipv6", "\"[::1]:8448\""),
    ] {
        add(
            &format!("server_name_{n}"),
            format!("{on}server_name: {v}\n"),
        );
    }
    for (n, v) in [
        ("port", "https://auth.example.com:8443/"),
        ("big_port", "https://auth.example.com:99999/"),
        ("word_port", "https://auth.example.com:http/"),
        ("no_scheme", "auth.example.com"),
    ] {
        add(
            &format!("endpoint_{n}"),
            mas("true").replace("http://localhost:8080/", v),
        );
    }
    // Registration: strtobool(str(value)).
    for (n, v) in [
        ("true", "true"),
        ("yes", "yes"),
        ("string_true", "\"true\""),
        ("string_on", "\"on\""),
        ("one", "1"),
        ("false", "false"),
        ("string_false", "\"false\""),
        ("string_no", "\"no\""),
        ("zero", "0"),
        ("maybe", "maybe"),
    ] {
        add(
            &format!("registration_{n}"),
            format!("{on}enable_registration: {v}\n"),
        );
    }
    add(
        "disable_registration_false",
        format!("{on}disable_registration: false\n"),
    );
    add(
        "disable_registration_true",
        format!("{on}disable_registration: true\n"),
    );
    add(
        "disable_registration_string_no",
        format!("{on}disable_registration: \"no\"\n"),
    );
    // Settings refused next to MAS, and their harmless spellings. (Not `jwt_config`: any
    // non-empty one needs the optional authlib package, whatever MAS's state.)
    for (n, v) in [
        ("3pid_true", "enable_3pid_changes: true\n"),
        ("3pid_string_false", "enable_3pid_changes: \"false\"\n"),
        ("3pid_false", "enable_3pid_changes: false\n"),
        (
            "existing_session_on",
            "login_via_existing_session:\n  enabled: true\n",
        ),
        (
            "existing_session_off",
            "login_via_existing_session:\n  enabled: false\n",
        ),
        ("captcha_off", "enable_registration_captcha: false\n"),
        ("refresh_lifetime", "refresh_token_lifetime: 5m\n"),
        ("refresh_lifetime_null", "refresh_token_lifetime: null\n"),
        ("session_lifetime", "session_lifetime: 24h\n"),
        (
            "nonrefreshable_lifetime",
            "nonrefreshable_access_token_lifetime: 1h\n",
        ),
        ("oidc_empty", "oidc_providers: []\n"),
        (
            "oidc_provider",
            "oidc_providers:\n  - idp_id: x\n    idp_name: X\n    issuer: \"https://id.example.com/\"\n    client_id: c\n    client_secret: s\n",
        ),
        ("saml_sp_empty", "saml2_config:\n  sp_config: {}\n"),
        (
            "saml_disabled",
            "saml2_config:\n  enabled: false\n  config_path: /x\n",
        ),
        ("cas_off", "cas_config:\n  enabled: false\n"),
        (
            "cas_on",
            "cas_config:\n  enabled: true\n  server_url: \"https://cas.example.com\"\n",
        ),
        ("consent_null", "user_consent:\n"),
        ("password_providers_empty", "password_providers: []\n"),
        ("ldap_off", "ldap_config:\n  enabled: false\n"),
        ("ldap_on", "ldap_config:\n  enabled: true\n"),
    ] {
        add(&format!("conflict_{n}"), format!("{on}{v}"));
    }
    add(
        "conflict_3pid_true_mas_off",
        "enable_3pid_changes: true\n".into(),
    );
    // Experimental features.
    for (n, v) in [
        ("msc3861_disabled", "  msc3861:\n    enabled: false\n"),
        ("msc3861_empty", "  msc3861: {}\n"),
        ("msc4108_true", "  msc4108_enabled: true\n"),
        ("msc4108_string", "  msc4108_enabled: \"true\"\n"),
        (
            "msc4108_and_delegation",
            "  msc4108_enabled: true\n  msc4108_delegation_endpoint: \"https://r.example.com\"\n",
        ),
        ("msc4388_bare_off", "  msc4388_mode: off\n"),
        ("msc4388_off", "  msc4388_mode: \"off\"\n"),
        ("msc4388_open", "  msc4388_mode: open\n"),
        ("msc4388_public", "  msc4388_mode: public\n"),
    ] {
        add(
            &format!("exp_{n}"),
            format!("{on}experimental_features:\n{v}"),
        );
    }
    add(
        "exp_msc4108_mas_off",
        "experimental_features:\n  msc4108_enabled: true\n".into(),
    );
    add(
        "exp_msc4388_open_mas_off",
        "experimental_features:\n  msc4388_mode: open\n".into(),
    );
    add("exp_null", format!("{on}experimental_features:\n"));
    add(
        "exp_flow_empty",
        format!("{on}experimental_features: {{}}\n"),
    );
    // Duplicates: the last one wins.
    add(
        "dup_last_disabled",
        format!("{on}matrix_authentication_service:\n  enabled: false\n"),
    );
    add(
        "dup_last_enabled_bad",
        format!(
            "matrix_authentication_service:\n  enabled: false\n{}",
            mas("\"true\"")
        ),
    );
    add(
        "dup_registration_last_false",
        format!("{on}enable_registration: true\nenable_registration: false\n"),
    );
    // A fully linked file, as mas-link writes it.
    add(
        "linked",
        format!(
            "{on}password_config:\n  enabled: false\nenable_registration: false\nexperimental_features:\n  msc4108_enabled: true\n"
        ),
    );
    // Refused whatever MAS's state, often met in the wild.
    let listener = |names: &str| {
        format!(
            "listeners:\n  - port: 8008\n    type: http\n    resources:\n      - names: [{names}]\n"
        )
    };
    add("listener_ok", listener("client, federation, static"));
    add("listener_webclient", listener("client, webclient"));
    add("listener_bogus", listener("bogus"));
    add("signing_key_empty", "signing_key_path: \"\"\n".into());
    for (n, v) in [
        ("ok", "[\"#a:example.org\", \"#b:example.org:8448\"]"),
        ("no_server", "[\"#a\"]"),
        ("bad_server", "[\"#a:my server\"]"),
        ("room_id", "[\"!abc:example.org\"]"),
        ("string", "\"#a:example.org\""),
        ("empty_string", "\"\""),
        ("empty_list", "[]"),
        ("null", "null"),
        ("number", "[5]"),
    ] {
        add(&format!("auto_join_{n}"), format!("auto_join_rooms: {v}\n"));
    }
    cases
}

fn check_refuses(path: &Path, release: Option<Release>) -> (bool, Vec<String>) {
    let doc = Document::from_bytes(&fs::read(path).unwrap(), Options::PYYAML).unwrap();
    let cfg = Layers::single(path.display().to_string(), doc);
    let secret_file = synapse::secret_path(cfg.value()).map(|p| files::state(Path::new(p)));
    let (mut findings, _) = synapse::findings(&cfg, secret_file.as_ref());
    if let Some(r) = release {
        synapse::for_release(&cfg, r, &mut findings);
    }
    let refusing: Vec<String> = findings
        .iter()
        .filter(|f| f.effect == Effect::Refuses)
        .map(|f| format!("{}: {}", f.key, f.message))
        .collect();
    (!refusing.is_empty(), refusing)
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn check_agrees_with_synapses_loader() {
    let mismatches = agrees_with(&common::synapse_python(), None);
    assert!(
        mismatches.is_empty(),
        "check disagrees with Synapse on:\n{}",
        mismatches.join("\n")
    );
}

/// The same cases, against the loader of each release from MAS's floor that CI installs
/// (1.136.0, 1.137.0, 1.144.0 besides the latest), mas-link's rules keyed by that release.
#[ignore = "needs Synapse's loaders of several releases: MAS_LINK_SYNAPSE_PYTHONS='PY…' (.ci/run)"]
#[test]
fn check_agrees_with_each_releases_loader() {
    let list = std::env::var("MAS_LINK_SYNAPSE_PYTHONS")
        .expect("MAS_LINK_SYNAPSE_PYTHONS names the Pythons of several Synapse releases");
    let mut judged = 0;
    let mut mismatches = Vec::new();
    for py in list.split_whitespace() {
        let out = Command::new(py)
            .args(["-I", "-c", "import synapse; print(synapse.__version__)"])
            .output()
            .unwrap();
        let release = Release::parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
        if release.has_mas_section() {
            eprintln!("Synapse {release}:");
            mismatches.extend(agrees_with(Path::new(py), Some(release)));
            judged += 1;
        }
    }
    assert!(judged >= 4, "only {judged} releases from the floor on");
    assert!(
        mismatches.is_empty(),
        "check disagrees with Synapse on:\n{}",
        mismatches.join("\n")
    );
}

/// Starts Synapse for real on `file` (its data in a scratch folder): whether it refuses,
/// exiting within 30 s; one still running then started, and is stopped.
fn refuses_to_start(py: &Path, file: &Path) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(file)
        .unwrap()
        .replace("/data", &dir.path().display().to_string());
    let key = "from signedjson.key import generate_signing_key, write_signing_keys\n\
               import sys\n\
               write_signing_keys(open(sys.argv[1], 'w'), [generate_signing_key('a')])\n";
    let made = Command::new(py)
        .args(["-c", key])
        .arg(dir.path().join("example.org.signing.key"))
        .status()
        .unwrap();
    assert!(made.success());
    fs::write(dir.path().join("log.config"), "version: 1\n").unwrap();
    let config = dir.path().join("homeserver.yaml");
    fs::write(&config, text).unwrap();
    let mut child = Command::new(py)
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(&config)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(30) {
        if let Some(status) = child.try_wait().unwrap() {
            return !status.success();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// The cases where mas-link's verdict differs from the loader of `py` (Synapse `release`).
fn agrees_with(py: &Path, release: Option<Release>) -> Vec<String> {
    let work = tempfile::tempdir().unwrap();
    let secrets = work.path().join("secrets");
    fs::create_dir(&secrets).unwrap();
    fs::write(secrets.join("secret"), "s3cret\n").unwrap();
    fs::write(secrets.join("empty"), "").unwrap();
    let cases = corpus();
    assert!(cases.len() >= 60, "only {} configs", cases.len());
    let mut files = Vec::new();
    for (name, text) in &cases {
        let p = work.path().join(format!("{name}.yaml"));
        let text = format!(
            "{BASE}{}",
            text.replace("{dir}", &secrets.display().to_string())
        );
        fs::write(&p, text).unwrap();
        files.push(p);
    }
    let out = Command::new(py)
        .arg(common::repo().join("tests/synapse/validate.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), files.len());
    let mut mismatches = Vec::new();
    let (mut refused, mut accepted) = (0, 0);
    for ((name, _), (file, v)) in cases.iter().zip(files.iter().zip(&verdicts)) {
        let mut synapse_refuses = !v["ok"].as_bool().unwrap();
        // What this release refuses only at start-up, after its loader: Synapse started for
        // real says.
        let at_startup = release.map_or(&[][..], release::refused_at_startup);
        let (_, why) = check_refuses(file, release);
        if !synapse_refuses
            && !why.is_empty()
            && why
                .iter()
                .all(|w| at_startup.iter().any(|k| w.starts_with(&format!("{k}: "))))
        {
            synapse_refuses = refuses_to_start(py, file);
        }
        if synapse_refuses {
            refused += 1
        } else {
            accepted += 1
        }
        let we_refuse = !why.is_empty();
        if we_refuse != synapse_refuses {
            mismatches.push(format!(
                "{name}: Synapse{} {}, check {}\n    Synapse: {}\n    check: {why:?}",
                release.map_or(String::new(), |r| format!(" {r}")),
                if synapse_refuses {
                    "refuses"
                } else {
                    "accepts"
                },
                if we_refuse { "refuses" } else { "accepts" },
                v["error"].as_str().unwrap_or("-").replace('\n', " ")
            ));
        }
    }
    eprintln!(
        "{} configs: Synapse refused {refused}, accepted {accepted}; {} mismatches",
        cases.len(),
        mismatches.len()
    );
    mismatches
}

/// `mas-link check` with Synapse's loader on: its verdict (an error that Synapse refuses to
/// start) is Synapse's own, on a spread of the cases above (every seventh: each run loads
/// Synapse, about 2 s).
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn check_with_the_loader_gives_synapses_verdict() {
    let py = common::synapse_python();
    let work = tempfile::tempdir().unwrap();
    let secrets = work.path().join("secrets");
    fs::create_dir(&secrets).unwrap();
    fs::write(secrets.join("secret"), "s3cret\n").unwrap();
    fs::write(secrets.join("empty"), "").unwrap();
    // One real signing key, copied beside each case.
    let key = work.path().join("signing.key");
    let script = format!(
        "from signedjson.key import generate_signing_key, write_signing_keys\n\
         write_signing_keys(open('{}', 'w'), [generate_signing_key('a')])\n",
        key.display()
    );
    assert!(
        Command::new(&py)
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let cases: Vec<(String, String)> = corpus().into_iter().step_by(7).collect();
    let (mut refused, mut accepted) = (0, 0);
    let mut dirs = Vec::new();
    for (name, text) in &cases {
        let dir = work.path().join(name);
        fs::create_dir(&dir).unwrap();
        fs::copy(&key, dir.join("example.org.signing.key")).unwrap();
        fs::write(dir.join("log.config"), "version: 1\n").unwrap();
        let text = format!("{BASE}{text}")
            .replace("{dir}", &secrets.display().to_string())
            .replace("/data", &dir.display().to_string());
        fs::write(dir.join("homeserver.yaml"), &text).unwrap();
        dirs.push(dir);
    }
    // Synapse's verdicts, from one process.
    let files: Vec<_> = dirs.iter().map(|d| d.join("homeserver.yaml")).collect();
    let out = Command::new(&py)
        .arg(common::repo().join("tests/synapse/validate.py"))
        .args(&files)
        .output()
        .unwrap();
    let verdicts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), cases.len());
    for (((name, _), dir), synapse) in cases.iter().zip(&dirs).zip(&verdicts) {
        let out = common::mas_link()
            .env("MAS_LINK_SYNAPSE_PYTHON", &py)
            .current_dir(dir)
            .args([
                "check",
                "--synapse-config",
                "homeserver.yaml",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let we_refuse = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["effect"] == "refuses");
        assert!(
            report["synapse_loader"]
                .as_str()
                .unwrap()
                .contains("(Synapse 1.")
        );
        let synapse_refuses = synapse["ok"] == false;
        assert_eq!(
            we_refuse, synapse_refuses,
            "{name}: Synapse says {synapse}\ncheck: {report:#}"
        );
        match synapse_refuses {
            true => refused += 1,
            false => accepted += 1,
        }
    }
    eprintln!(
        "{} configs: Synapse refused {refused}, accepted {accepted}",
        cases.len()
    );
    assert!(
        refused > 3 && accepted > 3,
        "{refused} refused, {accepted} accepted"
    );
}
