//! The SSO hand-over, end to end on the fixtures in fixtures/sso/ (Cloudron's shape with MAS
//! holding the same issuer; Keycloak and Authentik, which MAS lacks; two providers; the legacy
//! oidc_config; client_secret_path; a client secret signed as a JWT, Apple's and another): two
//! folders stand for the two containers, and the pipes run as printed. Every MAS file written fits MAS's schema
//! and reads through MAS's own reading stack (figment 0.10.19 over serde_yaml 0.9.34, with the
//! shape of MAS's provider section); link → unlink → link round-trips; Synapse's own loader
//! (ignored test, CI runs it) accepts every Synapse file written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use figment::Figment;
use figment::providers::{Format, Yaml};
use serde::Deserialize;

const FIXTURES: &[&str] = &[
    "cloudron",
    "keycloak",
    "authentik",
    "two",
    "legacy",
    "secret-path",
    "private-key-jwt",
    "jwt-key",
];

/// MAS's `upstream_oauth2` section, typed as MAS types it (`crates/config/src/sections/
/// upstream_oauth2.rs`): a refusal to deserialize is MAS refusing to start.
#[derive(Debug, Deserialize)]
struct Upstream {
    providers: Vec<Provider>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    SignInWithApple,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DiscoveryMode {
    Oidc,
    Insecure,
    Disabled,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Provider {
    id: String,
    synapse_idp_id: Option<String>,
    issuer: Option<String>,
    client_id: String,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    token_endpoint_auth_method: AuthMethod,
    scope: Option<String>,
    discovery_mode: Option<DiscoveryMode>,
    authorization_endpoint: Option<url::Url>,
    token_endpoint: Option<url::Url>,
    userinfo_endpoint: Option<url::Url>,
    claims_imports: Option<serde_json::Value>,
}

/// MAS's reading of its upstream providers.
fn mas_reads(path: &Path) -> Vec<Provider> {
    let up: Upstream = Figment::new()
        .merge(Yaml::file(path))
        .extract_inner("upstream_oauth2")
        .unwrap_or_else(|e| panic!("MAS refuses {}: {e}", path.display()));
    for p in &up.providers {
        let crockford =
            |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
        assert!(
            p.id.len() == 26 && p.id.chars().all(crockford),
            "not a ULID: {}",
            p.id
        );
    }
    up.providers
}

/// The two containers, each with its file.
struct Boxes {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    mas: PathBuf,
    matrix: PathBuf,
}

fn boxes(name: &str) -> Boxes {
    let (m, s) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    copy(
        &fixture(&format!("sso/{name}/config.yaml")),
        m.path(),
        "config.yaml",
    );
    copy(
        &fixture(&format!("sso/{name}/homeserver.yaml")),
        s.path(),
        "homeserver.yaml",
    );
    Boxes {
        mas: m.path().to_owned(),
        matrix: s.path().to_owned(),
        _dirs: (m, s),
    }
}

/// Runs `from | to`, each in its box, as an operator's shell would; returns (code, stderr).
fn pipe(from: (&Path, &str), to: (&Path, &str)) -> (Option<i32>, String) {
    let bin = bin();
    let line = format!(
        "cd {} && {bin} {} | (cd {} && {bin} {})",
        from.0.display(),
        from.1,
        to.0.display(),
        to.1,
        bin = bin.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&line)
        .env("MAS_LINK_SYNAPSE_PYTHON", "none")
        .env("NO_COLOR", "1")
        .env_remove("MAS_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

const SSO_TO_MAS: &str = "sso --synapse-config homeserver.yaml";
const MAS_TAKES: &str = "mas --mas-config config.yaml --sso-stdin --yes";
const SECRET: &str = "secret --bundle --mas-config config.yaml";
const SYNAPSE_TAKES: &str =
    "synapse --new-server --synapse-config homeserver.yaml --secret-stdin --yes";

/// Hands one fixture over through both pipes; returns what each step said.
fn hand_over(b: &Boxes) -> String {
    let (code, said) = pipe((&b.matrix, SSO_TO_MAS), (&b.mas, MAS_TAKES));
    assert_eq!(code, Some(0), "{said}");
    let (code, said2) = pipe((&b.mas, SECRET), (&b.matrix, SYNAPSE_TAKES));
    assert_eq!(code, Some(0), "{said2}");
    format!("{said}{said2}")
}

#[test]
fn each_fixture_is_handed_over_through_the_two_pipes() {
    for name in FIXTURES {
        let b = boxes(name);
        let hs_before = fs::read_to_string(b.matrix.join("homeserver.yaml")).unwrap();
        // Synapse's side first: refused by name while MAS lacks the providers.
        let (code, said) = pipe((&b.mas, SECRET), (&b.matrix, SYNAPSE_TAKES));
        if *name == "cloudron" {
            assert_eq!(
                code,
                Some(2),
                "{name}: MAS's Cloudron provider has no synapse_idp_id yet: {said}"
            );
        } else {
            assert_eq!(code, Some(2), "{name}: {said}");
            assert!(
                said.contains("MAS does not cover Synapse's SSO provider"),
                "{name}: {said}"
            );
            assert!(
                said.contains(
                    "mas-link sso --synapse-config homeserver.yaml | mas-link mas --sso-stdin --yes"
                ),
                "{name}: {said}"
            );
        }
        let said = hand_over(&b);
        let hs = fs::read_to_string(b.matrix.join("homeserver.yaml")).unwrap();
        let mas = fs::read_to_string(b.mas.join("config.yaml")).unwrap();
        // The secrets stay out of the output.
        for secret in [
            "kc-client-secret-0123",
            "authentik-secret-456",
            "google-secret-789",
            "legacy-secret-345",
        ] {
            assert!(!said.contains(secret), "{name}: {secret} shown");
        }
        let providers = mas_reads(&b.mas.join("config.yaml"));
        let ids: Vec<&str> = providers
            .iter()
            .filter_map(|p| p.synapse_idp_id.as_deref())
            .collect();
        match *name {
            "cloudron" => {
                assert_eq!(providers.len(), 1, "{mas}");
                assert_eq!(ids, ["oidc-cloudron"]);
                assert!(
                    mas.contains("      synapse_idp_id: \"oidc-cloudron\"\n"),
                    "{mas}"
                );
            }
            "two" => assert_eq!(ids, ["oidc-google", "oidc-github"]),
            "legacy" => {
                assert_eq!(ids, ["oidc"]);
                assert!(hs.contains("oidc_config:\n  enabled: false\n"), "{hs}");
            }
            "secret-path" => {
                assert!(providers[0].client_secret_file.is_some());
                assert!(said.contains("not carried over") || !said.contains("client_secret_path"));
            }
            "private-key-jwt" => {
                assert!(matches!(
                    providers[0].token_endpoint_auth_method,
                    AuthMethod::SignInWithApple
                ));
                assert!(mas.contains("sign_in_with_apple: {private_key_file: \"/app/data/configs/apple-key.p8\", team_id: \"TEAMID\", key_id: \"ABC123DEFG\"}"), "{mas}");
            }
            "jwt-key" => {
                assert!(matches!(
                    providers[0].token_endpoint_auth_method,
                    AuthMethod::PrivateKeyJwt
                ));
                assert!(
                    said.contains("oidc-keycloak: not carried over: client_secret_jwt_key"),
                    "{said}"
                );
            }
            "authentik" => {
                assert!(
                    said.contains("oidc-authentik: not carried over: idp_icon"),
                    "{said}"
                );
                assert!(
                    mas.contains("upstream_oauth2:\n  providers:\n    - id: "),
                    "{mas}"
                );
                assert!(matches!(
                    providers[0].token_endpoint_auth_method,
                    AuthMethod::ClientSecretPost
                ));
            }
            _ => {}
        }
        if *name != "cloudron" {
            assert!(said.contains("register MAS's callback URL at the provider: https://auth.example.com/upstream/callback/"), "{name}: {said}");
        }
        if *name == "keycloak" || *name == "two" {
            // MAS's generated `providers: []` stays flow.
            assert!(mas.contains("  providers: [{id: "), "{mas}");
        }
        if *name != "legacy" {
            assert!(hs.contains("oidc_providers_moved_to_mas:"), "{name}: {hs}");
            assert!(!hs.contains("\noidc_providers:"), "{name}");
        }
        let errors = schema_errors(&mas);
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
        // check, on each side and across the pipe.
        let (code, said) = pipe(
            (&b.mas, SECRET),
            (
                &b.matrix,
                "check --synapse-config homeserver.yaml --mas-bundle-stdin",
            ),
        );
        assert_eq!(code, Some(0), "{name}: {said}");
        assert!(
            said.contains("sso: MAS's provider") && said.contains("sso: Synapse's"),
            "{name}: {said}"
        );
        // Both pipes again: nothing to do.
        let (_, again) = pipe((&b.matrix, SSO_TO_MAS), (&b.mas, MAS_TAKES));
        assert!(again.contains("Nothing to do"), "{name}: {again}");
        let (_, again) = pipe((&b.mas, SECRET), (&b.matrix, SYNAPSE_TAKES));
        assert!(again.contains("Nothing to do"), "{name}: {again}");
        // The way back, byte for byte, and forward again.
        mas_link()
            .current_dir(&b.matrix)
            .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
            .assert()
            .success();
        assert_eq!(
            fs::read_to_string(b.matrix.join("homeserver.yaml")).unwrap(),
            hs_before,
            "{name}"
        );
        let (code, said) = pipe((&b.mas, SECRET), (&b.matrix, SYNAPSE_TAKES));
        assert_eq!(code, Some(0), "{name}: {said}");
        assert_eq!(
            fs::read_to_string(b.matrix.join("homeserver.yaml")).unwrap(),
            hs,
            "{name}"
        );
        // A MAS that loses a provider is caught across the pipe.
        let lost = mas.replacen("synapse_idp_id", "x_synapse_idp_id", 1);
        fs::write(b.mas.join("config.yaml"), lost).unwrap();
        let (code, said) = pipe(
            (&b.mas, SECRET),
            (
                &b.matrix,
                "check --synapse-config homeserver.yaml --mas-bundle-stdin",
            ),
        );
        assert_eq!(code, Some(1), "{name}: {said}");
        assert!(
            said.contains("no MAS provider has synapse_idp_id"),
            "{name}: {said}"
        );
    }
}

/// On one host, `mas-link mas --synapse-config` and `mas-link synapse --mas-config` do the same.
#[test]
fn on_one_host_the_files_are_read_directly() {
    let b = boxes("keycloak");
    let hs = b.matrix.join("homeserver.yaml");
    let cfg = b.mas.join("config.yaml");
    mas_link()
        .args(["mas", "--yes", "--mas-config"])
        .arg(&cfg)
        .arg("--synapse-config")
        .arg(&hs)
        .assert()
        .success();
    mas_link()
        .args(["synapse", "--new-server", "--yes", "--synapse-config"])
        .arg(&hs)
        .arg("--mas-config")
        .arg(&cfg)
        .assert()
        .success();
    assert!(
        fs::read_to_string(&hs)
            .unwrap()
            .contains("oidc_providers_moved_to_mas:")
    );
    mas_link()
        .args(["check", "--synapse-config"])
        .arg(&hs)
        .arg("--mas-config")
        .arg(&cfg)
        .assert()
        .success();
}

/// SAML, CAS and JWT have no counterpart in MAS: still refused, saying so.
#[test]
fn saml_cas_and_jwt_are_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(fixture("sso/keycloak/homeserver.yaml")).unwrap();
    let base = &base[..base.find("# Keycloak").unwrap()];
    for (name, block) in [
        ("saml", "saml2_config:\n  sp_config:\n    metadata: {}\n"),
        (
            "cas",
            "cas_config:\n  enabled: true\n  server_url: https://cas/\n",
        ),
        (
            "jwt",
            "jwt_config:\n  enabled: true\n  secret: s\n  algorithm: HS256\n",
        ),
    ] {
        fs::write(dir.path().join("homeserver.yaml"), format!("{base}{block}")).unwrap();
        let out = mas_link()
            .current_dir(dir.path())
            .args([
                "synapse",
                "--new-server",
                "--synapse-config",
                "homeserver.yaml",
                "--yes",
                "--mas-config",
            ])
            .arg(fixture("sso/keycloak/config.yaml"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("upstream_oauth2") || err.contains("OIDC"),
            "{name}: {err}"
        );
    }
}

#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_accepts_every_sso_file_written() {
    let py = synapse_python();
    let work = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in FIXTURES {
        let b = boxes(name);
        let keep = |label: &str, files: &mut Vec<PathBuf>| {
            let to = work.path().join(format!("{name}-{label}.yaml"));
            fs::copy(b.matrix.join("homeserver.yaml"), &to).unwrap();
            files.push(to);
        };
        keep("before", &mut files);
        hand_over(&b);
        keep("linked", &mut files);
        mas_link()
            .current_dir(&b.matrix)
            .args(["unlink", "--synapse-config", "homeserver.yaml", "--yes"])
            .assert()
            .success();
        keep("unlinked", &mut files);
    }
    let out = Command::new(&py)
        .arg(repo().join("tests/synapse/validate.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"ok\": true"))
        .map(str::to_owned)
        .collect();
    assert!(
        refused.is_empty(),
        "Synapse refused:\n{}",
        refused.join("\n")
    );
    assert_eq!(files.len(), FIXTURES.len() * 3);
}

/// Why the hand-over renames `oidc_providers` instead of setting `enabled: false` on each
/// entry (as ../shared/REFERENCE.md §8 suggested): Synapse 1.163 ignores that key and still
/// counts the entry as SSO, refusing to start next to MAS.
#[ignore = "needs Synapse's config loader: MAS_LINK_SYNAPSE_PYTHON=path/to/python cargo test -- --include-ignored (README: Tests)"]
#[test]
fn synapse_counts_an_entry_with_enabled_false_as_sso() {
    let py = synapse_python();
    let work = tempfile::tempdir().unwrap();
    let b = boxes("keycloak");
    hand_over(&b);
    let linked = fs::read_to_string(b.matrix.join("homeserver.yaml")).unwrap();
    let disabled = linked
        .replace("oidc_providers_moved_to_mas:", "oidc_providers:")
        .replace(
            "  - idp_id: keycloak\n",
            "  - idp_id: keycloak\n    enabled: false\n",
        );
    let files = [("renamed", linked), ("disabled", disabled)].map(|(n, text)| {
        let p = work.path().join(format!("{n}.yaml"));
        fs::write(&p, text).unwrap();
        p
    });
    let out = Command::new(&py)
        .arg(repo().join("tests/synapse/validate.py"))
        .args(&files)
        .output()
        .unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines[0].contains("\"ok\": true"), "{}", lines[0]);
    assert!(lines[1].contains("SSO cannot be enabled"), "{}", lines[1]);
}
