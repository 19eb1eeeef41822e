//! MAS's `config.yaml`, read the way MAS reads it (figment over serde_yaml 0.9): YAML 1.2,
//! unknown keys ignored, of duplicate keys the last (a repeated section replaces the earlier
//! one whole), and a value of the wrong type refused (`secret: 12345` is not a string).

use std::path::PathBuf;

use super::layers::{Layer, Layers, Merge};
use super::names::{UrlProblem, check_server_name, check_url, is_loopback};
use super::sso::MasProvider;
use super::{Changes, FileState};
use crate::findings::{Effect, Finding, Place, Source};
use crate::findings::{Guide, Sub, command};
use crate::yaml::{Document, Edit, NewScalar, Options, Value};

pub const DEFAULT_CONFIG: &str = "/app/data/config.yaml";

#[derive(Debug, Default)]
pub struct MasConfig {
    pub matrix: Option<Matrix>,
    pub http: Option<Http>,
}

#[derive(Debug, Default)]
pub struct Matrix {
    pub kind: Option<String>,
    pub homeserver: Option<String>,
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub endpoint: Option<String>,
}

#[derive(Debug, Default)]
pub struct Http {
    pub public_base: Option<String>,
    pub issuer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MasError {
    #[error("{file}:{line}:{col}: {message}")]
    Parse {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error(
        "{files}: no `matrix` section: MAS needs `matrix.secret` (run `mas-link mas` to write one)"
    )]
    NoMatrix { files: String },
    #[error(
        "{file}:{line}:{col}: `matrix` has both `secret` and `secret_file`; MAS refuses that (\"Cannot specify both\"): keep one"
    )]
    BothSecrets {
        file: String,
        line: usize,
        col: usize,
    },
    #[error(
        "{file}:{line}:{col}: `matrix` has neither `secret` nor `secret_file` (MAS: \"Missing `secret` or `secret_file`\"); run `mas-link mas` to generate one"
    )]
    NoSecret {
        file: String,
        line: usize,
        col: usize,
    },
    #[error("{file}:{line}:{col}: `matrix.secret` is empty")]
    EmptySecret {
        file: String,
        line: usize,
        col: usize,
    },
    #[error("matrix.secret_file {path}: {why}")]
    SecretFile { path: PathBuf, why: String },
}

/// MAS's configuration from its files, in the order MAS reads them.
pub fn layers(files: Vec<Layer>) -> Layers {
    Layers::merged(files, Merge::Deep)
}

impl MasConfig {
    /// One file's text, as MAS reads it (for tests and tools).
    pub fn parse(text: &str) -> Result<MasConfig, MasError> {
        let doc =
            Document::parse(text.into(), Options::SERDE_YAML).map_err(|e| MasError::Parse {
                file: "config.yaml".into(),
                line: e.line,
                col: e.col,
                message: e.kind.to_string(),
            })?;
        MasConfig::read(&layers(vec![Layer {
            name: "config.yaml".into(),
            doc,
        }]))
    }

    /// The sections mas-link needs, from the files' merged meaning, typed as MAS types them.
    pub fn read(cfg: &Layers) -> Result<MasConfig, MasError> {
        let root = cfg.value();
        let typed = Typed { cfg };
        if let Some(l) = cfg
            .layers()
            .iter()
            .find(|l| l.doc.text().starts_with('\u{feff}'))
        {
            return Err(MasError::Parse {
                file: l.name.clone(),
                line: 1,
                col: 1,
                message: "the file starts with a byte-order mark, which MAS's YAML reader \
                          (serde_yaml) takes for a second document: MAS refuses to start; \
                          save it without one"
                    .into(),
            });
        }
        // Each file must be a mapping (or empty): figment refuses any other.
        if let Some(l) = cfg
            .layers()
            .iter()
            .find(|l| !matches!(l.doc.value(), Value::Map(_) | Value::Null))
        {
            return Err(MasError::Parse {
                file: l.name.clone(),
                line: 1,
                col: 1,
                message: format!(
                    "the file is written as {}, but MAS reads it as a mapping of sections: \
                     MAS refuses to start",
                    with_article(l.doc.value().type_name())
                ),
            });
        }
        let matrix = match root.get("matrix") {
            None => None,
            Some(Value::Map(_)) => Some(Matrix {
                kind: typed.defaulted(&["matrix", "kind"])?,
                homeserver: typed.defaulted(&["matrix", "homeserver"])?,
                secret: typed.string(&["matrix", "secret"])?,
                secret_file: typed.string(&["matrix", "secret_file"])?.map(PathBuf::from),
                endpoint: typed.defaulted(&["matrix", "endpoint"])?,
            }),
            Some(v) => return Err(typed.error(&["matrix"], v, "a mapping")),
        };
        let http = match root.get("http") {
            Some(Value::Map(_)) => Some(Http {
                public_base: typed.string(&["http", "public_base"])?,
                issuer: typed.string(&["http", "issuer"])?,
            }),
            _ => None,
        };
        Ok(MasConfig { matrix, http })
    }
}

fn with_article(noun: &str) -> String {
    match noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        true => format!("an {noun}"),
        false => format!("a {noun}"),
    }
}

/// Reads merged values as serde reads them for MAS's structs.
struct Typed<'a> {
    cfg: &'a Layers,
}

impl Typed<'_> {
    /// A string setting: absent or null is none; a number, boolean or collection is refused,
    /// as serde refuses it for a `String`.
    fn string(&self, path: &[&str]) -> Result<Option<String>, MasError> {
        match self.cfg.value().at(path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.error(path, v, "a string")),
        }
    }

    /// A string setting with a default when absent: null is no string, and refused.
    fn defaulted(&self, path: &[&str]) -> Result<Option<String>, MasError> {
        match self.cfg.value().at(path) {
            Some(v @ Value::Null) => {
                Err(self.error(path, v, "a string (leave it out for the default)"))
            }
            _ => self.string(path),
        }
    }

    fn error(&self, path: &[&str], got: &Value, expected: &str) -> MasError {
        let at = self.cfg.locate(path);
        let what = match path {
            [] => "the file".to_owned(),
            p => format!("`{}`", p.join(".")),
        };
        MasError::Parse {
            file: at.path.to_owned(),
            line: at.pos.line.max(1),
            col: at.pos.col.max(1),
            // The value itself is not shown: it may be the secret.
            message: format!(
                "{what} is written as {}, but MAS reads it as {expected}: MAS refuses to \
                 start; quote a value meant as text",
                with_article(got.type_name())
            ),
        }
    }
}

/// Why a parsed file cannot be MAS's config.yaml, when it cannot: not a mapping, or Synapse's
/// homeserver.yaml. (An empty file is an empty config to MAS.)
pub fn not_a_mas_config(root: &Value) -> Option<String> {
    match root {
        Value::Null | Value::Map(_) => {}
        other => {
            return Some(format!(
                "is not a YAML mapping of settings (it reads as a {}): give MAS's config.yaml",
                other.type_name()
            ));
        }
    }
    let synapse_like = ["server_name", "matrix_authentication_service", "listeners"]
        .iter()
        .any(|k| root.get(k).is_some());
    synapse_like.then(|| {
        "looks like Synapse's homeserver.yaml (it has Synapse's settings, such as server_name), \
         not MAS's config.yaml: give it to --synapse-config, and MAS's file to --mas-config"
            .into()
    })
}

/// The `matrix.endpoint` MAS uses when its config sets none.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:8008/";

/// MAS's `matrix.endpoint`, when it is one to keep: a valid URL, and not a loopback one where
/// Synapse's own URL is known (MAS's generated `http://localhost:8008/` reaches no Synapse in
/// another container; an endpoint the operator set to another host may be an internal
/// address, and stays).
pub fn endpoint_to_keep(root: &Value, synapse_url_known: bool) -> Option<String> {
    root.at(&["matrix", "endpoint"])
        .and_then(Value::as_str)
        .filter(|e| check_url(e).is_ok())
        .filter(|e| !(synapse_url_known && is_loopback(e)))
        .map(str::to_owned)
}

/// MAS's endpoint for Synapse on the machine MAS runs on, where Synapse is known to run on
/// another (Cloudron's apps are separate containers): MAS's calls to Synapse reach nothing.
pub fn loopback_endpoint(view: &MasView, synapse_elsewhere: bool) -> Option<Finding> {
    let endpoint = view.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
    let endpoint = Some(endpoint).filter(|e| is_loopback(e))?;
    synapse_elsewhere.then(|| {
        Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "endpoint"],
            view.at(&["matrix", "endpoint"]),
            format!(
                "matrix.endpoint is {endpoint}, this container itself, while Synapse runs in \
                 another (a Cloudron app of its own): MAS's calls to Synapse reach nothing, and \
                 sign-ins fail"
            ),
            Guide::text("pipe Synapse's side in from its app: ")
                .run(command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"])))
                .then(" (Synapse's URL replaces the loopback one), or give --synapse-endpoint URL"),
        )
    })
}

/// Where `matrix.secret_file` points, when set: the file the caller reads for
/// [`shared_secret`] and [`findings`].
pub fn secret_file(config: &MasConfig) -> Option<&PathBuf> {
    config.matrix.as_ref()?.secret_file.as_ref()
}

/// `matrix.secret`, or `matrix.secret_file`'s contents (`file`, read by the caller) trimmed as
/// MAS trims them. `cfg` is the config as parsed, for error positions.
pub fn shared_secret(
    config: &MasConfig,
    cfg: &Layers,
    file: Option<&FileState>,
) -> Result<String, MasError> {
    let at = |key: &[&str]| {
        let at = cfg.locate(key);
        (at.path.to_owned(), at.pos.line.max(1), at.pos.col.max(1))
    };
    let matrix = config.matrix.as_ref().ok_or_else(|| MasError::NoMatrix {
        files: cfg.names().join(", "),
    })?;
    match (&matrix.secret, &matrix.secret_file) {
        (Some(_), Some(_)) => {
            let (file, line, col) = at(&["matrix", "secret_file"]);
            Err(MasError::BothSecrets { file, line, col })
        }
        (Some(s), None) if s.is_empty() => {
            let (file, line, col) = at(&["matrix", "secret"]);
            Err(MasError::EmptySecret { file, line, col })
        }
        (Some(s), None) => Ok(s.clone()),
        (None, Some(path)) => {
            let contents = match file {
                Some(FileState::Contents(c)) => c,
                Some(FileState::Unreadable(why)) => {
                    return Err(MasError::SecretFile {
                        path: path.clone(),
                        why: why.clone(),
                    });
                }
                None => {
                    return Err(MasError::SecretFile {
                        path: path.clone(),
                        why: "not read".into(),
                    });
                }
            };
            let s = contents.trim().to_owned();
            if s.is_empty() {
                let (file, line, col) = at(&["matrix", "secret_file"]);
                return Err(MasError::EmptySecret { file, line, col });
            }
            Ok(s)
        }
        (None, None) => {
            let (file, line, col) = at(&["matrix"]);
            Err(MasError::NoSecret { file, line, col })
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

/// 32 characters from [A-Za-z0-9] made from `random` bytes (the caller takes them from the
/// OS), as `mas-cli config generate` makes `matrix.secret`. None when the bytes run out.
pub fn secret_from(random: &[u8]) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // Rejection sampling keeps every character equally likely (248 = 4 * 62).
    let s: String = random
        .iter()
        .filter(|&&b| b < 248)
        .take(32)
        .map(|&b| ALPHABET[usize::from(b % 62)] as char)
        .collect();
    (s.len() == 32).then_some(s)
}

/// Keys of MAS's config whose values are secrets (masked in diffs).
pub fn is_secret_key(path: &[&str]) -> bool {
    path.first() == Some(&"secrets")
        || path.last() == Some(&"uri")
        || path.last().is_some_and(|k| super::is_secret_name(k))
}

/// MAS's side of the pairing: `matrix.kind`, `homeserver` and `endpoint`; the secret kept, or
/// `new_secret` when there is none.
pub fn plan_matrix(root: &Value, opts: &MatrixOptions, new_secret: &str) -> Changes {
    let get = |k: &str| root.at(&["matrix", k]);
    let mut plan = Changes::default();
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
            Edit::set(&["matrix", "secret"], NewScalar::string(new_secret)),
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
    /// MAS's upstream providers (issuer and `synapse_idp_id`, no secrets), when the bundle
    /// came from MAS's config: what Synapse's side needs for the SSO hand-over.
    pub providers: Option<Vec<MasProvider>>,
}

/// What a bundle's values escape: what would end a field or the line.
const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ').add(b'%');

fn escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, ESCAPED).to_string()
}

fn unescape(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
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
        if let Some(providers) = &self.providers {
            line.push_str(&format!(" providers={}", providers.len()));
            for p in providers {
                let part =
                    |v: &Option<String>| escape(v.as_deref().unwrap_or("")).replace(',', "%2C");
                line.push_str(&format!(
                    " idp={},{}",
                    part(&p.synapse_idp_id),
                    part(&p.issuer)
                ));
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
            let (k, raw) = field.split_once('=')?;
            let v = unescape(raw);
            match k {
                "endpoint" => b.endpoint = Some(v),
                "homeserver" => b.homeserver = Some(v),
                "secret" => b.secret = v,
                "providers" => b.providers = Some(Vec::new()),
                "idp" => {
                    let (id, issuer) = raw.split_once(',').unwrap_or((raw, ""));
                    let some = |s: &str| Some(unescape(s)).filter(|s| !s.is_empty());
                    let list = b.providers.get_or_insert_with(Vec::new);
                    list.push(MasProvider {
                        index: list.len(),
                        synapse_idp_id: some(id),
                        issuer: some(issuer),
                    });
                }
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
        let doc = Document::parse(text.into(), Options::SERDE_YAML).unwrap();
        let cfg = layers(vec![Layer {
            name: "c.yaml".into(),
            doc,
        }]);
        let c = MasConfig::read(&cfg)?;
        shared_secret(&c, &cfg, None)
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
            Err(MasError::BothSecrets {
                line: 3,
                col: 3,
                ..
            })
        ));
        assert!(matches!(
            secret("matrix:\n  kind: synapse\n"),
            Err(MasError::NoSecret { line: 1, .. })
        ));
        assert!(matches!(
            secret("http: {}\n"),
            Err(MasError::NoMatrix { .. })
        ));
        // The last of duplicate keys wins; a repeated section replaces the earlier one whole.
        assert_eq!(secret("matrix:\n  secret: a\n  secret: b\n").unwrap(), "b");
        assert!(matches!(
            secret("matrix:\n  secret: a\n  homeserver: x\nmatrix:\n  homeserver: y\n"),
            Err(MasError::NoSecret { .. })
        ));
        // Numbers and booleans are not strings to MAS; `0123` and `yes` are (YAML 1.2).
        for bad in ["12345", "0x1F", "1.5", "true"] {
            let e = secret(&format!("matrix:\n  secret: {bad}\n")).unwrap_err();
            assert!(matches!(e, MasError::Parse { line: 2, .. }), "{bad}: {e}");
            assert!(
                !e.to_string().contains(bad),
                "{bad}: the value is shown: {e}"
            );
        }
        assert_eq!(secret("matrix:\n  secret: 0123\n").unwrap(), "0123");
        assert_eq!(secret("matrix:\n  secret: yes\n").unwrap(), "yes");
    }

    #[test]
    fn generated_secrets_look_like_mas_cli() {
        let random: Vec<u8> = (0..=255).collect();
        let a = secret_from(&random).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(&a[..4], "ABCD");
        assert_eq!(secret_from(&[250; 64]), None);
    }

    #[test]
    fn bundles_round_trip() {
        let b = Bundle {
            endpoint: Some("https://auth.example.com/".into()),
            homeserver: Some("example.com".into()),
            secret: "a b%c".into(),
            providers: Some(vec![MasProvider {
                index: 0,
                issuer: Some("https://idp/a,b".into()),
                synapse_idp_id: Some("oidc-x".into()),
            }]),
        };
        let line = b.to_line();
        assert!(line.starts_with("mas-link-pair/1 endpoint=https://auth.example.com/ "));
        assert_eq!(Bundle::parse(&format!("{line}\n")), Some(b));
        assert_eq!(Bundle::parse("just-a-secret"), None);
    }

    #[test]
    fn secret_file_is_trimmed() {
        let text = "matrix:\n  secret_file: s\n";
        let doc = Document::parse(text.into(), Options::SERDE_YAML).unwrap();
        let cfg = layers(vec![Layer {
            name: "c.yaml".into(),
            doc,
        }]);
        let c = MasConfig::read(&cfg).unwrap();
        let file = FileState::Contents("  abc\n".into());
        assert_eq!(shared_secret(&c, &cfg, Some(&file)).unwrap(), "abc");
    }
}

/// Where findings on MAS's side point when it came as a bundle.
pub const BUNDLE_SOURCE: &str = "(MAS's bundle on stdin)";

/// What the pairing rules need of MAS's config, with its parsed files for positions.
#[derive(Debug)]
pub struct MasView {
    /// MAS's files; none when MAS's side came as a bundle.
    pub cfg: Option<Layers>,
    pub secret: Option<String>,
    pub homeserver: Option<String>,
    pub endpoint: Option<String>,
    pub public_base: Option<String>,
    /// MAS's upstream providers (none known when MAS's side came without them).
    pub providers: Option<Vec<MasProvider>>,
}

impl MasView {
    pub fn at(&self, path: &[&str]) -> Place<'_> {
        match &self.cfg {
            Some(cfg) => cfg.locate(path),
            None => Place {
                path: BUNDLE_SOURCE,
                pos: crate::yaml::Pos::default(),
            },
        }
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

/// MAS's rules for its `matrix` and `http` sections, on the parsed files with the
/// `secret_file`'s contents (read by the caller). MAS's own refusals are findings.
pub fn findings(cfg: Layers, secret_file: Option<&FileState>) -> (MasView, Vec<Finding>) {
    let config = match MasConfig::read(&cfg) {
        Ok(c) => c,
        Err(e) => return unreadable(cfg, &e),
    };
    let http = config.http.unwrap_or_default();
    let matrix = config.matrix.unwrap_or_default();
    let mut f = Found {
        cfg: &cfg,
        out: Vec::new(),
    };
    f.kind(&matrix);
    let secret = f.secret(&matrix, secret_file);
    f.endpoint(&matrix);
    f.homeserver(&matrix);
    f.public_base(&http);
    f.duplicates();
    let mut out = f.out;
    out.extend(super::mas_start::findings(&cfg));
    let view = MasView {
        secret,
        homeserver: matrix.homeserver,
        endpoint: matrix.endpoint,
        public_base: http.public_base,
        providers: Some(super::sso::mas_providers(cfg.value())),
        cfg: Some(cfg),
    };
    (view, out)
}

/// Whether `url` is an absolute URL of a scheme other than http(s) (`localhost:8008`,
/// `synapse:8008`): MAS reads it (its URL parser takes any scheme), and calls nothing there.
fn has_other_scheme(url: &str) -> bool {
    let Some((scheme, rest)) = url.trim().split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let is = |s: &str| scheme.eq_ignore_ascii_case(s);
    // The special schemes but `file` need a host; http(s) ones are judged by `check_url`.
    let parses = match scheme {
        _ if is("http") || is("https") => false,
        _ if is("ws") || is("wss") || is("ftp") => rest
            .strip_prefix("//")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/')),
        _ => true,
    };
    scheme_ok && parses && !rest.contains(char::is_whitespace)
}

/// The keys whose refusal comes from a file MAS reads as it starts, which `mas-cli config
/// check` does not open: its acceptance does not answer for them.
pub const READ_AT_START: &[&str] = &["matrix.secret_file"];

/// A configuration MAS cannot read: that one finding, and nothing known of its side.
fn unreadable(cfg: Layers, e: &MasError) -> (MasView, Vec<Finding>) {
    let (file, line, col, message) = match e {
        MasError::Parse {
            file,
            line,
            col,
            message,
        } => (file.clone(), *line, *col, message.clone()),
        other => (cfg.names()[0].to_owned(), 1, 1, other.to_string()),
    };
    let pos = crate::yaml::Pos {
        offset: 0,
        line,
        col,
    };
    let found = Finding::new(
        Source::Mas,
        Effect::Refuses,
        &[],
        Place { path: &file, pos },
        format!("MAS cannot read its config: {message}"),
        "fix the YAML at that place",
    );
    let view = MasView {
        cfg: Some(cfg),
        secret: None,
        homeserver: None,
        endpoint: None,
        public_base: None,
        providers: None,
    };
    (view, vec![found])
}

/// Findings on MAS's configuration, each located in the file its key comes from.
struct Found<'a> {
    cfg: &'a Layers,
    out: Vec<Finding>,
}

impl Found<'_> {
    fn add(&mut self, effect: Effect, path: &[&str], message: String, fix: impl Into<Guide>) {
        self.add_at(effect, path, path, message, fix);
    }

    /// A finding about `path`, pointing at `at` (a key that is missing points at its parent).
    fn add_at(
        &mut self,
        effect: Effect,
        path: &[&str],
        at: &[&str],
        message: String,
        fix: impl Into<Guide>,
    ) {
        let place = self.cfg.locate(at);
        self.out
            .push(Finding::new(Source::Mas, effect, path, place, message, fix));
    }

    fn kind(&mut self, matrix: &Matrix) {
        if let Some(kind) = &matrix.kind
            && !KINDS.contains(&kind.as_str())
        {
            self.add(
                Effect::Refuses,
                &["matrix", "kind"],
                format!(
                    "`{kind}` is not a kind MAS knows ({}): MAS refuses to start",
                    KINDS.join(", ")
                ),
                Guide::default().run(command(Sub::Mas, &["--kind", "synapse"])),
            );
        }
    }

    /// `secret` xor `secret_file` (read by the caller); the secret MAS will use, when usable.
    fn secret(&mut self, matrix: &Matrix, secret_file: Option<&FileState>) -> Option<String> {
        let file_key: &[&str] = &["matrix", "secret_file"];
        match (&matrix.secret, &matrix.secret_file) {
            (Some(_), Some(_)) => self.add(
                Effect::Refuses,
                file_key,
                "both `secret` and `secret_file` are set: MAS refuses to start (\"Cannot specify both\")".into(),
                "delete one of them",
            ),
            (None, None) => self.add_at(
                Effect::Refuses,
                &["matrix", "secret"],
                &["matrix"],
                "neither `secret` nor `secret_file` is set: MAS refuses to start".into(),
                Guide::default().run(command(Sub::Mas, &[])).then(" generates one"),
            ),
            (Some(s), None) if s.is_empty() => self.add(
                Effect::Breaks,
                &["matrix", "secret"],
                "`secret` is empty: Synapse counts an empty secret as missing".into(),
                Guide::default().run(command(Sub::Mas, &[])).then(" generates one"),
            ),
            (Some(s), None) => return Some(s.clone()),
            (None, Some(f)) => match secret_file {
                Some(FileState::Contents(c)) if c.trim().is_empty() => self.add(
                    Effect::Breaks,
                    file_key,
                    format!("`{}` is empty", f.display()),
                    "write the shared secret into it",
                ),
                Some(FileState::Contents(c)) => return Some(c.trim().to_owned()),
                Some(FileState::Unreadable(why)) => self.add(
                    Effect::Refuses,
                    file_key,
                    format!("`{}` cannot be read ({why}): MAS refuses to start", f.display()),
                    "create it with the shared secret",
                ),
                None => self.add(
                    Effect::Refuses,
                    file_key,
                    format!("`{}` was not read: MAS needs it", f.display()),
                    "create it with the shared secret",
                ),
            },
        }
        None
    }

    fn endpoint(&mut self, matrix: &Matrix) {
        let Some(e) = &matrix.endpoint else {
            return;
        };
        let key: &[&str] = &["matrix", "endpoint"];
        match check_url(e) {
            // MAS reads any absolute URL (`localhost:8008` has the scheme `localhost`), and
            // refuses only what is none.
            Err(problem) => self.add(
                match (&problem, has_other_scheme(e)) {
                    (UrlProblem::Invalid(_), false) => Effect::Refuses,
                    _ => Effect::Breaks,
                },
                key,
                match (&problem, has_other_scheme(e)) {
                    (UrlProblem::Invalid(_), false) => format!("{problem}: MAS refuses to start"),
                    _ => format!("{problem}: MAS starts, but its calls to Synapse go wrong"),
                },
                Guide::default().run(command(Sub::Mas, &["--synapse-endpoint", "URL"])),
            ),
            Ok(())
                if e.splitn(4, '/')
                    .nth(3)
                    .is_some_and(|p| !p.is_empty() && !p.ends_with('/')) =>
            {
                self.add(
                    Effect::Advice,
                    key,
                    format!(
                        "`{e}` has a path without a trailing `/`: MAS joins paths to it and drops its last part"
                    ),
                    "add a trailing `/`",
                )
            }
            Ok(()) => {}
        }
    }

    fn homeserver(&mut self, matrix: &Matrix) {
        if let Some(h) = &matrix.homeserver
            && let Err(why) = check_server_name(h)
        {
            self.add(
                Effect::Breaks,
                &["matrix", "homeserver"],
                format!("{why}; it must equal Synapse's server_name"),
                Guide::default().run(command(Sub::Mas, &["--homeserver", "NAME"])),
            );
        }
    }

    fn public_base(&mut self, http: &Http) {
        if http.public_base.as_deref() == Some(GENERATED_BASE) {
            self.add(
                Effect::Advice,
                &["http", "public_base"],
                format!(
                    "`public_base` is still the generated `{GENERATED_BASE}`: clients cannot reach MAS there"
                ),
                "set it to MAS's public URL (e.g. https://auth.example.com/)",
            );
        } else if http.public_base.is_some() && http.issuer.as_deref() == Some(GENERATED_BASE) {
            self.add(
                Effect::Advice,
                &["http", "issuer"],
                format!(
                    "`issuer` is still the generated `{GENERATED_BASE}` while public_base was changed"
                ),
                "set issuer to public_base, or delete it (it defaults to public_base)",
            );
        }
    }

    /// The `matrix` keys MAS reads that stand twice: MAS takes the last.
    fn duplicates(&mut self) {
        for (parent, key) in [
            (&[][..], "matrix"),
            (&["matrix"][..], "kind"),
            (&["matrix"][..], "homeserver"),
            (&["matrix"][..], "secret"),
            (&["matrix"][..], "secret_file"),
            (&["matrix"][..], "endpoint"),
        ] {
            let mut path = parent.to_vec();
            path.push(key);
            let places = self.cfg.doc_of(&path).occurrences(parent, key);
            if places.len() > 1 {
                let lines: Vec<String> = places.iter().map(|p| p.line.to_string()).collect();
                self.add(
                    Effect::Advice,
                    &path,
                    format!(
                        "defined {} times (lines {}); MAS reads the last{}",
                        places.len(),
                        lines.join(", "),
                        if parent.is_empty() {
                            ", which replaces the earlier sections whole"
                        } else {
                            ""
                        }
                    ),
                    "delete the others",
                );
            }
        }
    }
}
