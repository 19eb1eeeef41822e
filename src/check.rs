//! Findings: what Synapse or MAS will do with a configuration, each with where it is and how
//! to fix it. `mas-link check` reports them; `mas-link synapse` refuses to write a file with
//! an error among them.

use serde::Serialize;

use crate::mas::MasView;
use crate::yaml::{Document, Pos};

/// The version of the JSON report's schema; raised on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// What the program reading the file will do about the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The program refuses to start with this configuration.
    Refuses,
    /// The program starts, but the pairing or a feature fails at run time.
    Breaks,
    /// Synapse does not delegate to MAS at all.
    NotLinked,
    /// Works, but probably not as meant.
    Advice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Synapse,
    Mas,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub effect: Effect,
    pub file: Source,
    /// The dotted key the finding is about.
    pub key: String,
    pub line: usize,
    pub column: usize,
    /// What is wrong and what the program will do with it.
    pub message: String,
    /// What to do, naming the mas-link command that does it where there is one.
    pub fix: String,
}

impl Finding {
    pub fn new(
        file: Source,
        effect: Effect,
        key: &[&str],
        pos: Pos,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: if effect == Effect::Advice {
                Severity::Warning
            } else {
                Severity::Error
            },
            effect,
            file,
            key: key.join("."),
            line: pos.line.max(1),
            column: pos.col.max(1),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(mut self) -> Finding {
        self.severity = Severity::Warning;
        self
    }
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    Some(host.trim_end_matches('.'))
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// What is known of the Synapse side for the pairing rules.
pub struct SynapseView<'a> {
    pub doc: &'a Document,
    /// The shared secret as Synapse will use it (inline, or `secret_path`'s stripped contents).
    pub secret: Option<String>,
}

/// The rules that need both files: the secrets equal, the server names equal, each endpoint
/// pointing at the other program.
pub fn pairing(hs: &SynapseView, mas: &MasView) -> Vec<Finding> {
    let mut out = Vec::new();
    let root = hs.doc.value();
    let syn_pos = |p: &[&str]| hs.doc.locate(p);
    if let (Some(a), Some(b)) = (&hs.secret, &mas.secret)
        && a != b
    {
        out.push(Finding::new(
            Source::Synapse,
            Effect::Breaks,
            &["matrix_authentication_service", "secret"],
            syn_pos(&["matrix_authentication_service", "secret"]),
            "the shared secret differs from MAS's matrix.secret: MAS's calls to Synapse \
                 get 401/403 and every login loops",
            "copy MAS's secret over: `mas-link secret | mas-link synapse --secret-stdin --yes`",
        ));
    }
    let server_name = root.get("server_name").and_then(|v| v.as_str());
    if let (Some(name), Some(hs_name)) = (server_name, &mas.homeserver)
        && name != hs_name
    {
        out.push(Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "homeserver"],
            mas.pos(&["matrix", "homeserver"]),
            format!(
                "matrix.homeserver is `{hs_name}` but Synapse's server_name is `{name}`: MAS \
                     would mint user IDs on the wrong server"
            ),
            format!("set it to `{name}`: `mas-link mas --homeserver {name}`"),
        ));
    }
    let syn_endpoint = root
        .at(&["matrix_authentication_service", "endpoint"])
        .and_then(|v| v.as_str());
    let public_baseurl = root.get("public_baseurl").and_then(|v| v.as_str());
    if let (Some(e), Some(p)) = (syn_endpoint, public_baseurl)
        && same_url(e, p)
    {
        out.push(Finding::new(
                Source::Synapse,
                Effect::Breaks,
                &["matrix_authentication_service", "endpoint"],
                syn_pos(&["matrix_authentication_service", "endpoint"]),
                format!("the MAS endpoint `{e}` is Synapse's own public_baseurl: Synapse would call itself"),
                "point it at MAS (its http.public_base, or an internal URL such as http://localhost:8080/)",
            ));
    }
    if let (Some(me), Some(pb)) = (&mas.endpoint, &mas.public_base)
        && same_url(me, pb)
    {
        out.push(Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "endpoint"],
            mas.pos(&["matrix", "endpoint"]),
            format!("matrix.endpoint `{me}` is MAS's own public_base: MAS would call itself"),
            "point it at Synapse: `mas-link mas --synapse-endpoint URL`",
        ));
    }
    if let (Some(e), Some(pb)) = (syn_endpoint, &mas.public_base)
        && let (Some(h1), Some(h2)) = (host_of(e), host_of(pb))
        && public_baseurl.and_then(host_of) == Some(h1)
        && h1 != h2
    {
        {
            out.push(
                Finding::new(
                    Source::Synapse,
                    Effect::Advice,
                    &["matrix_authentication_service", "endpoint"],
                    syn_pos(&["matrix_authentication_service", "endpoint"]),
                    format!(
                        "the MAS endpoint's host `{h1}` is Synapse's own host, not MAS's `{h2}`"
                    ),
                    "check that this URL reaches MAS",
                )
                .warning(),
            );
        }
    }
    out
}

/// A finding as one human line (two with its fix).
pub fn render_human(f: &Finding, synapse_path: &str, mas_path: &str) -> String {
    let path = match f.file {
        Source::Synapse => synapse_path,
        Source::Mas => mas_path,
    };
    let sev = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{sev}: {path}:{}:{}: `{}`: {}\n  fix: {}",
        f.line, f.column, f.key, f.message, f.fix
    )
}

/// The JSON report of `check`: stable, versioned by [`FORMAT_VERSION`].
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub format_version: u32,
    pub ok: bool,
    pub linked: bool,
    pub synapse_config: Option<&'a str>,
    pub mas_config: Option<&'a str>,
    pub errors: usize,
    pub warnings: usize,
    pub findings: &'a [Finding],
    /// With `--online`: each live probe, passed or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<&'a [crate::online::Probe]>,
}

impl<'a> Report<'a> {
    pub fn new(
        findings: &'a [Finding],
        synapse_config: Option<&'a str>,
        mas_config: Option<&'a str>,
    ) -> Report<'a> {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Report {
            format_version: FORMAT_VERSION,
            ok: errors == 0,
            linked: !findings.iter().any(|f| f.effect == Effect::NotLinked),
            synapse_config,
            mas_config,
            errors,
            warnings: findings.len() - errors,
            findings,
            probes: None,
        }
    }
}
