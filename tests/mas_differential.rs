//! MAS's own reading stack as the judge: figment 0.10.19 over serde_yaml 0.9.34 (MAS's
//! versions), extracting a struct of the shape of MAS's `matrix` section
//! (`crates/config/src/sections/matrix.rs`). On generated configs (duplicates, numbers,
//! nulls, tags, aliases, CRLF, a byte-order mark, secret_file, several files merged as MAS
//! merges them) mas-link must agree with it on accept or refuse, the secret (or its file),
//! homeserver, endpoint and kind.

mod common;

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Format, Yaml};
use mas_link::files;
use mas_link::rules::mas::MasConfig;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Kind {
    #[default]
    Synapse,
    SynapseReadOnly,
    SynapseLegacy,
    SynapseModern,
}

#[derive(Debug, Deserialize)]
struct SecretRaw {
    secret_file: Option<PathBuf>,
    secret: Option<String>,
}

/// MAS's `MatrixConfig`: kind and homeserver defaulted, the secret flattened in, the endpoint
/// a URL.
#[derive(Debug, Deserialize)]
struct MatrixConfig {
    #[serde(default)]
    kind: Kind,
    #[serde(default = "default_homeserver")]
    homeserver: String,
    #[serde(flatten)]
    secret: SecretRaw,
    #[serde(default = "default_endpoint")]
    endpoint: url::Url,
}

fn default_homeserver() -> String {
    "localhost:8008".into()
}

fn default_endpoint() -> url::Url {
    url::Url::parse("http://localhost:8008/").unwrap()
}

/// What a reader made of a config: refused, or these values.
#[derive(Debug, PartialEq)]
enum Reading {
    Refused,
    Read {
        kind: String,
        homeserver: String,
        secret: Option<String>,
        secret_file: Option<PathBuf>,
        endpoint: String,
    },
}

/// MAS's reading: each file admerged in order (`crates/cli/src/commands/mod.rs`).
fn mas_reads(paths: &[PathBuf]) -> (Reading, String) {
    let got = paths
        .iter()
        .fold(Figment::new(), |f, p| f.admerge(Yaml::file(p)))
        .extract_inner::<MatrixConfig>("matrix");
    match got {
        Err(e) => (Reading::Refused, e.to_string()),
        Ok(c) => match (&c.secret.secret, &c.secret.secret_file) {
            (None, None) | (Some(_), Some(_)) => {
                (Reading::Refused, "secret xor secret_file".into())
            }
            _ => (
                Reading::Read {
                    kind: format!("{:?}", c.kind),
                    homeserver: c.homeserver,
                    secret: c.secret.secret,
                    secret_file: c.secret.secret_file,
                    endpoint: c.endpoint.to_string(),
                },
                String::new(),
            ),
        },
    }
}

fn mas_link_reads(paths: &[PathBuf]) -> (Reading, String) {
    let cfg = match files::load_mas(paths) {
        Ok(c) => c.layers,
        Err(e) => return (Reading::Refused, e.to_string()),
    };
    let config = match MasConfig::read(&cfg) {
        Ok(c) => c,
        Err(e) => return (Reading::Refused, e.to_string()),
    };
    let Some(m) = config.matrix else {
        return (Reading::Refused, "no matrix".into());
    };
    if m.secret.is_some() == m.secret_file.is_some() {
        return (Reading::Refused, "secret xor secret_file".into());
    }
    let kind = match m.kind.as_deref().unwrap_or("synapse") {
        "synapse" => Kind::Synapse,
        "synapse_read_only" => Kind::SynapseReadOnly,
        "synapse_legacy" => Kind::SynapseLegacy,
        "synapse_modern" => Kind::SynapseModern,
        other => return (Reading::Refused, format!("kind {other}")),
    };
    let endpoint = m.endpoint.as_deref().unwrap_or("http://localhost:8008/");
    let Ok(endpoint) = url::Url::parse(endpoint) else {
        return (Reading::Refused, format!("endpoint {endpoint}"));
    };
    (
        Reading::Read {
            kind: format!("{kind:?}"),
            homeserver: m.homeserver.unwrap_or_else(default_homeserver),
            secret: m.secret,
            secret_file: m.secret_file,
            endpoint: endpoint.to_string(),
        },
        String::new(),
    )
}

/// (name, file text).
fn configs() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, text: String| out.push((name.to_owned(), text));
    let matrix =
        |body: &str| format!("http:\n  public_base: https://auth.example.com/\nmatrix:\n{body}");
    for (n, v) in [
        ("plain", "S3cret"),
        ("int", "12345"),
        ("octal_looking", "0123"),
        ("hex", "0x1F"),
        ("octal", "0o17"),
        ("float", "1.5"),
        ("exp", "1e3"),
        ("inf", ".inf"),
        ("nan", ".nan"),
        ("true", "true"),
        ("True", "True"),
        ("yes", "yes"),
        ("no", "no"),
        ("null", "null"),
        ("tilde", "~"),
        ("empty", "\"\""),
        ("sexagesimal", "12:30:00"),
        ("underscore", "1_000"),
        ("quoted_int", "\"12345\""),
        ("single_quoted", "'0x1F'"),
        ("tag_str", "!!str 12345"),
        ("tag_int", "!!int 12"),
        ("negative", "-12"),
        ("plus", "+12"),
        ("date", "2024-01-01"),
        ("list", "[a, b]"),
        ("map", "{a: b}"),
    ] {
        add(
            &format!("secret_{n}"),
            matrix(&format!("  homeserver: example.com\n  secret: {v}\n")),
        );
    }
    add("dup_secret", matrix("  secret: first\n  secret: second\n"));
    add(
        "dup_section_replaces",
        format!(
            "{}matrix:\n  homeserver: other.example.com\n",
            matrix("  secret: s\n  homeserver: example.com\n")
        ),
    );
    add(
        "dup_section_both",
        format!(
            "{}matrix:\n  secret: b\n  kind: synapse_modern\n",
            matrix("  secret: a\n")
        ),
    );
    add(
        "both_secrets",
        matrix("  secret: s\n  secret_file: /run/secret\n"),
    );
    add("secret_file", matrix("  secret_file: /run/secret\n"));
    add("secret_file_int", matrix("  secret_file: 42\n"));
    add("no_secret", matrix("  homeserver: example.com\n"));
    add("no_matrix", "http:\n  public_base: https://a/\n".into());
    add("matrix_null", "matrix:\n".into());
    add("matrix_list", "matrix: [a]\n".into());
    add("empty_file", String::new());
    for (n, v) in [
        ("synapse", "synapse"),
        ("modern", "synapse_modern"),
        ("read_only", "synapse_read_only"),
        ("legacy", "synapse_legacy"),
        ("unknown", "dendrite"),
        ("int", "1"),
        ("null", "null"),
    ] {
        add(
            &format!("kind_{n}"),
            matrix(&format!("  secret: s\n  kind: {v}\n")),
        );
    }
    for (n, v) in [
        ("url", "http://synapse:8008/"),
        ("no_slash", "http://synapse:8008"),
        ("path", "https://example.com/synapse"),
        ("no_scheme", "synapse:8008"),
        ("relative", "/synapse"),
        ("query", "http://synapse/?a=1"),
        ("int", "8008"),
        ("null", "null"),
        ("spaces", "\"http://exa mple/\""),
    ] {
        add(
            &format!("endpoint_{n}"),
            matrix(&format!("  secret: s\n  endpoint: {v}\n")),
        );
    }
    for (n, v) in [
        ("user_id", "\"@a:example.com\""),
        ("int", "8008"),
        ("bool", "on"),
        ("null", "null"),
    ] {
        add(
            &format!("homeserver_{n}"),
            matrix(&format!("  secret: s\n  homeserver: {v}\n")),
        );
    }
    add("alias", "base: &s S3cret\nmatrix:\n  secret: *s\n".into());
    add(
        "alias_section",
        "x: &m\n  secret: s\n  homeserver: h.example\nmatrix: *m\n".into(),
    );
    add(
        "merge_key",
        "x: &m\n  secret: s\nmatrix:\n  <<: *m\n  homeserver: h\n".into(),
    );
    add(
        "crlf",
        matrix("  secret: s\n  homeserver: example.com\n").replace('\n', "\r\n"),
    );
    add("bom", format!("\u{feff}{}", matrix("  secret: s\n")));
    add(
        "comments",
        format!(
            "# MAS\n{}",
            matrix("  # the secret\n  secret: s # trailing\n")
        ),
    );
    add("unknown_keys", matrix("  secret: s\n  extra: 1\n"));
    add("block_secret", matrix("  secret: |\n    multi\n    line\n"));
    add("folded_secret", matrix("  secret: >-\n    folded\n"));
    out
}

/// (name, the files' texts in order): several files, merged as MAS merges them.
fn several() -> Vec<(String, Vec<String>)> {
    let base = "http:\n  public_base: https://auth.example.com/\nmatrix:\n  homeserver: example.com\n  endpoint: http://synapse:8008/\n";
    let case = |name: &str, files: &[&str]| {
        (
            name.to_owned(),
            files.iter().map(|f| f.replace("{base}", base)).collect(),
        )
    };
    vec![
        case("split", &["{base}", "matrix:\n  secret: s\n"]),
        case(
            "later_secret_wins",
            &["{base}  secret: a\n", "matrix:\n  secret: b\n"],
        ),
        case(
            "later_kind",
            &["{base}  secret: a\n", "matrix:\n  kind: synapse_modern\n"],
        ),
        case(
            "three",
            &[
                "{base}",
                "matrix:\n  secret: a\n",
                "matrix:\n  homeserver: other.example\n",
            ],
        ),
        case(
            "both_across",
            &["{base}  secret: a\n", "matrix:\n  secret_file: /run/s\n"],
        ),
        case(
            "int_later",
            &["{base}  secret: a\n", "matrix:\n  secret: 12345\n"],
        ),
        case(
            "int_replaced",
            &["{base}  secret: 12345\n", "matrix:\n  secret: \"12345\"\n"],
        ),
        case(
            "null_later",
            &["{base}  secret: a\n", "matrix:\n  secret: ~\n"],
        ),
        case("matrix_null_later", &["{base}  secret: a\n", "matrix:\n"]),
        case("empty_later", &["{base}  secret: a\n", ""]),
        case("list_later", &["{base}  secret: a\n", "- a\n"]),
        case(
            "dup_in_one",
            &[
                "{base}  secret: a\n",
                "matrix:\n  secret: b\nmatrix:\n  homeserver: h.example\n",
            ],
        ),
        case(
            "endpoint_later_bad",
            &["{base}  secret: a\n", "matrix:\n  endpoint: 8008\n"],
        ),
        case(
            "only_second",
            &["http:\n  public_base: https://a/\n", "{base}  secret: s\n"],
        ),
    ]
}

#[test]
fn mas_link_reads_mas_config_as_mas_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Vec<String>)> = configs()
        .into_iter()
        .map(|(name, text)| (name, vec![text]))
        .collect();
    cases.extend(several());
    assert!(cases.len() >= 40, "{}", cases.len());
    let mut disagreements = Vec::new();
    for (name, texts) in &cases {
        let paths: Vec<PathBuf> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = dir.path().join(format!("{name}.{i}.yaml"));
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let (theirs, why_theirs) = mas_reads(&paths);
        let (ours, why_ours) = mas_link_reads(&paths);
        if theirs != ours {
            disagreements.push(format!(
                "{name}: MAS {theirs:?} ({why_theirs}), mas-link {ours:?} ({why_ours})"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// What the real MAS read: `mas-cli config dump` of a base with the sections MAS needs besides
/// `matrix` (the generated texts have none), then the files, merged by MAS itself.
fn mas_cli_reads(paths: &[PathBuf]) -> (Reading, String) {
    let out = std::process::Command::new(common::mas_cli())
        .args(["config", "dump"])
        .args(
            paths
                .iter()
                .flat_map(|p| [std::ffi::OsStr::new("-c"), p.as_os_str()]),
        )
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let why = err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("");
        return (Reading::Refused, why.to_owned());
    }
    let dump: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    let c: MatrixConfig = serde_yaml::from_value(dump["matrix"].clone()).unwrap();
    (
        Reading::Read {
            kind: format!("{:?}", c.kind),
            homeserver: c.homeserver,
            secret: c.secret.secret,
            secret_file: c.secret.secret_file,
            endpoint: c.endpoint.to_string(),
        },
        String::new(),
    )
}

/// The same cases judged by the real MAS (`mas-cli config dump`): mas-link reads what MAS
/// reads, or refuses what it refuses.
#[test]
#[ignore = "needs MAS's mas-cli: MAS_LINK_MAS_CLI=path/to/mas-cli cargo test -- --include-ignored (CONTRIBUTING: Tests)"]
fn mas_link_reads_mas_config_as_mas_cli_dumps_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    std::fs::write(
        &base,
        "http:\n  public_base: https://auth.example.com/\nsecrets:\n  encryption: \
         0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000\n",
    )
    .unwrap();
    let mut cases: Vec<(String, Vec<String>)> = configs()
        .into_iter()
        .map(|(name, text)| (name, vec![text]))
        .collect();
    cases.extend(several());
    let mut disagreements = Vec::new();
    for (name, texts) in &cases {
        let mut paths = vec![base.clone()];
        for (i, text) in texts.iter().enumerate() {
            let path = dir.path().join(format!("{name}.{i}.yaml"));
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let (theirs, why_theirs) = mas_cli_reads(&paths);
        let (ours, why_ours) = mas_link_reads(&paths);
        if theirs != ours {
            disagreements.push(format!(
                "{name}: mas-cli {theirs:?} ({why_theirs}), mas-link {ours:?} ({why_ours})"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}
