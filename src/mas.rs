//! MAS's `config.yaml`, read the way MAS reads it: YAML 1.2 through serde (yaml_serde is
//! serde_yaml's maintained successor), unknown keys ignored, duplicate keys refused.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_CONFIG: &str = "/app/data/config.yaml";

#[derive(Debug, Default, Deserialize)]
pub struct MasConfig {
    #[serde(default)]
    pub matrix: Option<Matrix>,
    #[serde(default)]
    pub http: Option<Http>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Matrix {
    pub kind: Option<String>,
    pub homeserver: Option<String>,
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Http {
    pub public_base: Option<String>,
    pub issuer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MasError {
    #[error("{line}:{col}: {message}")]
    Parse {
        line: usize,
        col: usize,
        message: String,
    },
    #[error("no `matrix` section: MAS needs `matrix.secret` (run `mas-link mas` to write one)")]
    NoMatrix,
    #[error(
        "{line}:{col}: `matrix` has both `secret` and `secret_file`; MAS refuses that (\"Cannot specify both\"): keep one"
    )]
    BothSecrets { line: usize, col: usize },
    #[error(
        "{line}:{col}: `matrix` has neither `secret` nor `secret_file` (MAS: \"Missing `secret` or `secret_file`\"); run `mas-link mas` to generate one"
    )]
    NoSecret { line: usize, col: usize },
    #[error("{line}:{col}: `matrix.secret` is empty")]
    EmptySecret { line: usize, col: usize },
    #[error("reading matrix.secret_file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl MasConfig {
    pub fn parse(text: &str) -> Result<MasConfig, MasError> {
        // An empty file is an empty config, as for MAS.
        if text.trim().is_empty() {
            return Ok(MasConfig::default());
        }
        yaml_serde::from_str(text).map_err(|e| {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            MasError::Parse {
                line,
                col,
                message: e.to_string(),
            }
        })
    }
}

/// Reads `matrix.secret`, or `matrix.secret_file`'s contents trimmed as MAS trims them.
/// `text` is the config's text (for error positions); relative paths resolve from `base`.
pub fn shared_secret(config: &MasConfig, text: &str, base: &Path) -> Result<String, MasError> {
    let at = |key: &[&str]| {
        let doc = crate::yaml::Document::parse(text.into(), crate::yaml::Options::SERDE_YAML).ok();
        let pos = doc.map(|d| d.locate(key)).unwrap_or_default();
        (pos.line.max(1), pos.col.max(1))
    };
    let matrix = config.matrix.as_ref().ok_or(MasError::NoMatrix)?;
    match (&matrix.secret, &matrix.secret_file) {
        (Some(_), Some(_)) => {
            let (line, col) = at(&["matrix", "secret_file"]);
            Err(MasError::BothSecrets { line, col })
        }
        (Some(s), None) if s.is_empty() => {
            let (line, col) = at(&["matrix", "secret"]);
            Err(MasError::EmptySecret { line, col })
        }
        (Some(s), None) => Ok(s.clone()),
        (None, Some(file)) => {
            let path = base.join(file);
            let contents =
                std::fs::read_to_string(&path).map_err(|source| MasError::SecretFile {
                    path: path.clone(),
                    source,
                })?;
            let s = contents.trim().to_owned();
            if s.is_empty() {
                let (line, col) = at(&["matrix", "secret_file"]);
                return Err(MasError::EmptySecret { line, col });
            }
            Ok(s)
        }
        (None, None) => {
            let (line, col) = at(&["matrix"]);
            Err(MasError::NoSecret { line, col })
        }
    }
}

/// What `mas-link mas` sets in MAS's `matrix` section.
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    /// Synapse's server_name.
    pub homeserver: String,
    /// Where MAS reaches Synapse's client API.
    pub endpoint: String,
    /// Set only when given; otherwise an existing valid kind is kept.
    pub kind: Option<String>,
}

/// 32 characters from [A-Za-z0-9] from the OS's randomness, as `mas-cli config generate`
/// makes `matrix.secret`.
pub fn generate_secret() -> std::io::Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = std::fs::File::open("/dev/urandom")?;
    let mut out = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while out.len() < 32 {
        std::io::Read::read_exact(&mut random, &mut buf)?;
        // Rejection sampling keeps every character equally likely (248 = 4 * 62).
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() < 32 {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

/// Keys of MAS's config whose values are secrets (masked in diffs).
pub fn is_secret_key(path: &[&str]) -> bool {
    path.first() == Some(&"secrets")
        || path.last() == Some(&"uri")
        || crate::synapse::is_secret_key(path)
}

/// MAS's side of the pairing: `matrix.kind`, `homeserver` and `endpoint`; the secret kept, or
/// generated when there is none.
pub fn plan_matrix(
    doc: &crate::yaml::Document,
    opts: &MatrixOptions,
    new_secret: impl FnOnce() -> String,
) -> crate::plan::Plan {
    use crate::yaml::{Edit, NewScalar, Value};
    let root = doc.value();
    let get = |k: &str| root.at(&["matrix", k]);
    let mut plan = crate::plan::Plan::default();
    let kind_now = get("kind").and_then(Value::as_str);
    let kind = match (&opts.kind, kind_now) {
        (Some(k), _) => Some(k.as_str()),
        (None, Some(k)) if KINDS.contains(&k) => None,
        (None, _) => Some("synapse"),
    };
    if let Some(k) = kind.filter(|k| Some(*k) != kind_now) {
        plan.push(
            Edit::set(&["matrix", "kind"], NewScalar::string(k)),
            "how MAS talks to Synapse",
        );
    }
    if get("homeserver").and_then(Value::as_str) != Some(opts.homeserver.as_str()) {
        plan.push(
            Edit::set(
                &["matrix", "homeserver"],
                NewScalar::string(&opts.homeserver),
            ),
            "must equal Synapse's server_name",
        );
    }
    if get("endpoint").and_then(Value::as_str) != Some(opts.endpoint.as_str()) {
        plan.push(
            Edit::set(&["matrix", "endpoint"], NewScalar::string(&opts.endpoint)),
            "where MAS reaches Synapse",
        );
    }
    let has = |k: &str| get(k).is_some_and(|v| *v != Value::Null);
    if !has("secret") && !has("secret_file") {
        plan.push(
            Edit::set(&["matrix", "secret"], NewScalar::string(&new_secret())),
            "generated: 32 random characters from [A-Za-z0-9], as `mas-cli config generate` makes it",
        );
    }
    plan
}

/// A pairing bundle: MAS's endpoint, homeserver and secret on one line, for a pipe from one
/// container to the other.
pub const BUNDLE_TAG: &str = "mas-link-pair/1";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bundle {
    pub endpoint: Option<String>,
    pub homeserver: Option<String>,
    pub secret: String,
}

fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('\t', "%09")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

fn unescape(s: &str) -> String {
    s.replace("%20", " ")
        .replace("%09", "\t")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

impl Bundle {
    pub fn to_line(&self) -> String {
        let mut line = BUNDLE_TAG.to_owned();
        for (k, v) in [
            ("endpoint", &self.endpoint),
            ("homeserver", &self.homeserver),
        ] {
            if let Some(v) = v {
                line.push_str(&format!(" {k}={}", escape(v)));
            }
        }
        line.push_str(&format!(" secret={}", escape(&self.secret)));
        line
    }

    /// Reads a bundle line; `None` when the text is not one (then it is a bare secret).
    pub fn parse(text: &str) -> Option<Bundle> {
        let rest = text.trim().strip_prefix(BUNDLE_TAG)?.strip_prefix(' ')?;
        let mut b = Bundle::default();
        for field in rest.split(' ').filter(|f| !f.is_empty()) {
            let (k, v) = field.split_once('=')?;
            let v = unescape(v);
            match k {
                "endpoint" => b.endpoint = Some(v),
                "homeserver" => b.homeserver = Some(v),
                "secret" => b.secret = v,
                _ => {}
            }
        }
        (!b.secret.is_empty()).then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> Result<String, MasError> {
        let c = MasConfig::parse(text)?;
        shared_secret(&c, text, Path::new("."))
    }

    #[test]
    fn reads_the_secret() {
        assert_eq!(secret("matrix:\n  secret: abc\n").unwrap(), "abc");
        assert_eq!(secret("matrix:\n  secret: 'yes'\n").unwrap(), "yes");
    }

    #[test]
    fn refuses_like_mas() {
        assert!(matches!(
            secret("matrix:\n  secret: a\n  secret_file: b\n"),
            Err(MasError::BothSecrets { line: 3, col: 3 })
        ));
        assert!(matches!(
            secret("matrix:\n  kind: synapse\n"),
            Err(MasError::NoSecret { line: 1, .. })
        ));
        assert!(matches!(secret("http: {}\n"), Err(MasError::NoMatrix)));
        assert!(matches!(
            secret("matrix:\n  secret: a\nmatrix:\n  secret: b\n"),
            Err(MasError::Parse { .. })
        ));
        assert!(matches!(
            secret("matrix:\n  secret: 12345\n"),
            Err(MasError::Parse { .. }) | Ok(_)
        ));
    }

    #[test]
    fn generated_secrets_look_like_mas_cli() {
        let a = generate_secret().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, generate_secret().unwrap());
    }

    #[test]
    fn bundles_round_trip() {
        let b = Bundle {
            endpoint: Some("https://auth.example.com/".into()),
            homeserver: Some("example.com".into()),
            secret: "a b%c".into(),
        };
        let line = b.to_line();
        assert!(line.starts_with("mas-link-pair/1 endpoint=https://auth.example.com/ "));
        assert_eq!(Bundle::parse(&format!("{line}\n")), Some(b));
        assert_eq!(Bundle::parse("just-a-secret"), None);
    }

    #[test]
    fn secret_file_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s"), "  abc\n").unwrap();
        let text = "matrix:\n  secret_file: s\n";
        let c = MasConfig::parse(text).unwrap();
        assert_eq!(shared_secret(&c, text, dir.path()).unwrap(), "abc");
    }
}

/// What the pairing rules need of MAS's config, with its parsed text for positions.
#[derive(Debug, Default)]
pub struct MasView {
    pub doc: Option<crate::yaml::Document>,
    pub secret: Option<String>,
    pub homeserver: Option<String>,
    pub endpoint: Option<String>,
    pub public_base: Option<String>,
}

impl MasView {
    pub fn pos(&self, path: &[&str]) -> crate::yaml::Pos {
        self.doc
            .as_ref()
            .map(|d| d.locate(path))
            .unwrap_or_default()
    }
}

pub const KINDS: &[&str] = &[
    "synapse",
    "synapse_modern",
    "synapse_read_only",
    "synapse_legacy",
];

/// MAS's `config generate` writes this for both `public_base` and `issuer`.
pub const GENERATED_BASE: &str = "http://[::]:8080/";

/// MAS's rules for its `matrix` and `http` sections. An error means the text is not YAML at
/// all (nothing else can be said); MAS's own refusals are findings.
pub fn findings(
    text: &str,
    base: &Path,
) -> Result<(MasView, Vec<crate::check::Finding>), crate::yaml::YamlError> {
    use crate::check::{Effect, Finding, Source};
    let doc = crate::yaml::Document::parse(text.into(), crate::yaml::Options::SERDE_YAML)?;
    let mut out = Vec::new();
    let mut add =
        |effect: Effect, path: &[&str], pos: crate::yaml::Pos, message: String, fix: &str| {
            out.push(Finding::new(Source::Mas, effect, path, pos, message, fix));
        };
    let config = match MasConfig::parse(text) {
        Ok(c) => c,
        Err(e) => {
            let (line, col, message) = match &e {
                MasError::Parse { line, col, message } => (*line, *col, message.clone()),
                other => (1, 1, other.to_string()),
            };
            add(
                Effect::Refuses,
                &[],
                crate::yaml::Pos {
                    offset: 0,
                    line,
                    col,
                },
                format!("MAS cannot read its config (YAML 1.2, duplicate keys refused): {message}"),
                "fix the YAML at that place",
            );
            return Ok((
                MasView {
                    doc: Some(doc),
                    ..MasView::default()
                },
                out,
            ));
        }
    };
    let pos = |p: &[&str]| doc.locate(p);
    let http = config.http.unwrap_or_default();
    let matrix = config.matrix.unwrap_or_default();
    let mut view = MasView {
        secret: None,
        homeserver: matrix.homeserver.clone(),
        endpoint: matrix.endpoint.clone(),
        public_base: http.public_base.clone(),
        doc: None,
    };
    if let Some(kind) = &matrix.kind
        && !KINDS.contains(&kind.as_str())
    {
        add(
            Effect::Refuses,
            &["matrix", "kind"],
            pos(&["matrix", "kind"]),
            format!(
                "`{kind}` is not a kind MAS knows ({}): MAS refuses to start",
                KINDS.join(", ")
            ),
            "`mas-link mas --kind synapse`",
        );
    }
    match (&matrix.secret, &matrix.secret_file) {
        (Some(_), Some(_)) => add(
            Effect::Refuses,
            &["matrix", "secret_file"],
            pos(&["matrix", "secret_file"]),
            "both `secret` and `secret_file` are set: MAS refuses to start (\"Cannot specify both\")".into(),
            "delete one of them",
        ),
        (None, None) => add(
            Effect::Refuses,
            &["matrix", "secret"],
            pos(&["matrix"]),
            "neither `secret` nor `secret_file` is set: MAS refuses to start".into(),
            "`mas-link mas` generates one",
        ),
        (Some(s), None) => {
            if s.is_empty() {
                add(
                    Effect::Breaks,
                    &["matrix", "secret"],
                    pos(&["matrix", "secret"]),
                    "`secret` is empty: Synapse counts an empty secret as missing".into(),
                    "`mas-link mas` generates one",
                );
            } else {
                view.secret = Some(s.clone());
            }
        }
        (None, Some(f)) => match std::fs::read_to_string(base.join(f)) {
            Ok(c) if c.trim().is_empty() => add(
                Effect::Breaks,
                &["matrix", "secret_file"],
                pos(&["matrix", "secret_file"]),
                format!("`{}` is empty", f.display()),
                "write the shared secret into it",
            ),
            Ok(c) => view.secret = Some(c.trim().to_owned()),
            Err(e) => add(
                Effect::Refuses,
                &["matrix", "secret_file"],
                pos(&["matrix", "secret_file"]),
                format!("`{}` cannot be read ({e}): MAS refuses to start", f.display()),
                "create it with the shared secret",
            ),
        },
    }
    if let Some(e) = &matrix.endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            add(
                Effect::Refuses,
                &["matrix", "endpoint"],
                pos(&["matrix", "endpoint"]),
                format!("`{e}` is not an http(s) URL"),
                "`mas-link mas --synapse-endpoint URL`",
            );
        } else if e
            .splitn(4, '/')
            .nth(3)
            .is_some_and(|p| !p.is_empty() && !p.ends_with('/'))
        {
            add(
                Effect::Advice,
                &["matrix", "endpoint"],
                pos(&["matrix", "endpoint"]),
                format!(
                    "`{e}` has a path without a trailing `/`: MAS joins paths to it and drops its last part"
                ),
                "add a trailing `/`",
            );
        }
    }
    if let Some(h) = &matrix.homeserver
        && (h.contains("://") || h.contains('/') || h.is_empty())
    {
        add(
            Effect::Breaks,
            &["matrix", "homeserver"],
            pos(&["matrix", "homeserver"]),
            format!(
                "`{h}` is not a server name (it must equal Synapse's server_name, e.g. example.com)"
            ),
            "`mas-link mas --homeserver NAME`",
        );
    }
    if http.public_base.as_deref() == Some(GENERATED_BASE) {
        add(
            Effect::Advice,
            &["http", "public_base"],
            pos(&["http", "public_base"]),
            format!(
                "`public_base` is still the generated `{GENERATED_BASE}`: clients cannot reach MAS there"
            ),
            "set it to MAS's public URL (e.g. https://auth.example.com/)",
        );
    } else if http.public_base.is_some() && http.issuer.as_deref() == Some(GENERATED_BASE) {
        add(
            Effect::Advice,
            &["http", "issuer"],
            pos(&["http", "issuer"]),
            format!(
                "`issuer` is still the generated `{GENERATED_BASE}` while public_base was changed"
            ),
            "set issuer to public_base, or delete it (it defaults to public_base)",
        );
    }
    view.doc = Some(doc);
    Ok((view, out))
}
