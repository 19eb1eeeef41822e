//! `check --online`: live probes of the pairing, each reported like a finding. Interpretation
//! of each answer is a pure function of the status and body (unit-tested); the HTTP client is
//! ureq with rustls, one short timeout, no retries. The secret goes only into the
//! Authorization header of the one probe that needs it, never into a report.

use crate::rules::release::Release;
use std::time::Duration;

use serde::Serialize;

use crate::findings::{Effect, Finding, Guide, Place, Source, Sub, command};
use crate::yaml::Pos;

/// One HTTP answer: status and body, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16, String),
    Failed(String),
}

/// Fetches a URL (GET), with an optional bearer token.
pub trait Fetch {
    fn get(&self, url: &str, bearer: Option<&str>) -> Answer;
}

/// The real client.
pub struct Http {
    agent: ureq::Agent,
}

impl Http {
    pub fn new(insecure: bool, timeout: Duration) -> Http {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .disable_verification(insecure)
            .build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("mas-link/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .into();
        Http { agent }
    }
}

impl Fetch for Http {
    fn get(&self, url: &str, bearer: Option<&str>) -> Answer {
        let mut req = self.agent.get(url);
        if let Some(token) = bearer {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        match req.call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(1024 * 1024)
                    .read_to_string()
                    .unwrap_or_default();
                Answer::Status(status, body)
            }
            // ureq's error text names the host and the cause, never headers.
            Err(e) => Answer::Failed(e.to_string()),
        }
    }
}

/// What the probes need to know, from the files and the flags.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Where clients (and this check) reach Synapse.
    pub synapse_url: String,
    /// Where Synapse reaches MAS (its matrix_authentication_service.endpoint).
    pub mas_url: String,
    /// MAS's secret, presented only to MAS's `matrix.endpoint` (see `mas_endpoint`).
    pub secret: Option<String>,
    /// Whether the file turns QR-code login on.
    pub msc4108: bool,
    /// Where findings point: Synapse's file (the one its keys come from) and places in it;
    /// none when it is not here (MAS's app), and the findings name Synapse's side instead.
    pub synapse_file: Option<String>,
    pub synapse_pos: Pos,
    pub mas_pos: Pos,
    /// MAS's `matrix.endpoint` (where MAS reaches Synapse), its file and place, when MAS's
    /// config is here: probed from here, so that reachability is shown, not assumed.
    pub mas_endpoint: Option<(String, String, Pos)>,
    /// Whether this runs in a Cloudron app, whose reverse proxy the admin cannot edit.
    pub on_cloudron: bool,
}

/// One probe's outcome, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub name: &'static str,
    pub url: String,
    pub ok: bool,
    /// The HTTP status, or none when there was no answer.
    pub status: Option<u16>,
    pub detail: String,
}

fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn json_field(body: &str, field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get(field)?.as_str().map(str::to_owned)
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `/_matrix/client/versions`: Synapse answers clients.
pub fn client_versions(a: &Answer) -> Result<String, String> {
    match a {
        Answer::Status(200, body) if body.contains("\"versions\"") => {
            Ok("Synapse answers clients".into())
        }
        Answer::Status(s, _) => Err(format!(
            "answered {s}, not Matrix client versions: is this Synapse's URL?"
        )),
        Answer::Failed(e) => Err(format!("no answer: {e}")),
    }
}

/// `/_matrix/federation/v1/version`: the running server's name and release
/// (`Synapse 1.144.0`).
pub fn federation_version(a: &Answer) -> Result<String, String> {
    let Answer::Status(200, body) = a else {
        return Err(match a {
            Answer::Status(s, _) => format!("answered {s}: the release is not said here"),
            Answer::Failed(e) => format!("no answer: {e}"),
        });
    };
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let server = v.get("server").ok_or("answered without a server")?;
    let field = |k: &str| server.get(k).and_then(|x| x.as_str()).unwrap_or("?");
    Ok(format!("{} {}", field("name"), field("version")))
}

/// `/.well-known/openid-configuration` at the endpoint Synapse uses: MAS answers; its issuer.
pub fn mas_discovery(a: &Answer) -> Result<String, String> {
    match a {
        Answer::Status(200, body) => json_field(body, "issuer")
            .ok_or_else(|| "answered 200 without an issuer: is this MAS?".to_owned()),
        Answer::Status(s, _) => Err(format!("answered {s}: MAS is not at this URL")),
        Answer::Failed(e) => Err(format!("MAS is unreachable from here: {e}")),
    }
}

/// The result of presenting the secret to `/_synapse/mas/is_localpart_available` without
/// parameters, as MAS's own `doctor` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretVerdict {
    /// 400: the secret was accepted, the parameter is missing.
    Accepted,
    /// 401/403: Synapse refused the secret.
    Mismatch,
    /// 404: the path does not reach Synapse.
    NotRouted,
    Other,
}

pub fn shared_secret(a: &Answer) -> SecretVerdict {
    match a {
        Answer::Status(400, _) => SecretVerdict::Accepted,
        Answer::Status(401 | 403, _) => SecretVerdict::Mismatch,
        Answer::Status(404, _) => SecretVerdict::NotRouted,
        _ => SecretVerdict::Other,
    }
}

/// `/_matrix/client/v1/auth_metadata` (or MSC2965's unstable path): Synapse tells clients to
/// log in with MAS, and which issuer.
pub fn auth_metadata(a: &Answer) -> Result<String, String> {
    match a {
        Answer::Status(200, body) => {
            json_field(body, "issuer").ok_or_else(|| "answered without an issuer".to_owned())
        }
        Answer::Status(404, _) => {
            Err("not found: Synapse does not advertise MAS to clients".into())
        }
        Answer::Status(s, _) => Err(format!(
            "answered {s}: Synapse could not get MAS's metadata"
        )),
        Answer::Failed(e) => Err(format!("no answer: {e}")),
    }
}

/// `/_matrix/client/v3/login`: with MAS, Synapse no longer serves it; the proxy must send it
/// to MAS (its compatibility layer) for clients that do not speak OAuth 2.0 yet.
pub fn login_routed(a: &Answer) -> Result<String, String> {
    match a {
        Answer::Status(200, body) if body.contains("\"flows\"") => {
            Ok("login is answered (by MAS)".into())
        }
        Answer::Status(404, _) => {
            Err("Synapse answers 404: /_matrix/client/*/login is not routed to MAS".into())
        }
        Answer::Status(s, _) => Err(format!("answered {s}")),
        Answer::Failed(e) => Err(format!("no answer: {e}")),
    }
}

/// The MSC4108 rendezvous endpoint exists when QR-code login is on (it only takes POST, so a
/// GET answers 405 when it is there, 404 when not).
pub fn qr_login(a: &Answer) -> Result<String, String> {
    match a {
        Answer::Status(404, _) => {
            Err("the MSC4108 rendezvous endpoint is missing: no QR-code login".into())
        }
        Answer::Status(s, _) if *s < 500 => Ok(format!("rendezvous endpoint present ({s})")),
        Answer::Status(s, _) => Err(format!("answered {s}")),
        Answer::Failed(e) => Err(format!("no answer: {e}")),
    }
}

fn status_of(a: &Answer) -> Option<u16> {
    match a {
        Answer::Status(s, _) => Some(*s),
        Answer::Failed(_) => None,
    }
}

/// MAS's way to Synapse: `matrix.endpoint`'s `/_matrix/client/versions`, from where this runs
/// (in MAS's container, MAS's own view). No secret goes with it.
fn mas_endpoint(http: &dyn Fetch, t: &Targets) -> Option<(Probe, Option<Finding>)> {
    let (endpoint, file, pos) = t.mas_endpoint.as_ref()?;
    let url = join(endpoint, "_matrix/client/versions");
    let a = http.get(&url, None);
    let outcome = client_versions(&a);
    let finding = outcome.as_ref().err().map(|e| {
        Finding::new(
            Source::Mas,
            Effect::Breaks,
            &["matrix", "endpoint"],
            Place {
                path: file,
                pos: *pos,
            },
            format!("online: {url}: {e}: MAS cannot reach Synapse at its matrix.endpoint"),
            Guide::text("set matrix.endpoint to a URL of Synapse's that MAS's machine reaches (")
                .run(command(Sub::Mas, &["--synapse-endpoint", "URL", "--yes"]))
                .then(")"),
        )
    });
    let probe = Probe {
        name: "synapse_from_mas",
        ok: outcome.is_ok(),
        status: status_of(&a),
        detail: outcome.unwrap_or_else(|e| e),
        url,
    };
    Some((probe, finding))
}

/// One probe done: its answer judged, the finding (of `effect`, at `key`) when it fails.
struct Done<'a> {
    name: &'static str,
    url: String,
    answer: &'a Answer,
    outcome: Result<String, String>,
    effect: Effect,
    key: &'a [&'a str],
    pos: Pos,
    fix: Guide,
}

/// The probes run so far, and the findings of those that failed.
struct Probes<'a> {
    t: &'a Targets,
    probes: Vec<Probe>,
    findings: Vec<Finding>,
}

impl Probes<'_> {
    fn record(&mut self, d: Done) {
        let ok = d.outcome.is_ok();
        let detail = d.outcome.unwrap_or_else(|e| e);
        if !ok {
            let path = self.t.synapse_file.as_deref();
            let at = Place {
                path: path.unwrap_or("Synapse's side (its homeserver.yaml is not here)"),
                pos: d.pos,
            };
            let message = format!("online: {}: {detail}", d.url);
            let mut f = Finding::new(Source::Synapse, d.effect, d.key, at, message, d.fix);
            if path.is_none() {
                (f.line, f.column) = (0, 0);
            }
            self.findings.push(f);
        }
        self.probes.push(Probe {
            name: d.name,
            url: d.url,
            ok,
            status: status_of(d.answer),
            detail,
        });
    }
}

/// Runs every probe; returns the probes (for the report) and the findings for those that fail.
pub fn run(http: &dyn Fetch, t: &Targets) -> (Vec<Probe>, Vec<Finding>) {
    let mut p = Probes {
        t,
        probes: Vec::new(),
        findings: Vec::new(),
    };
    if let Some((probe, finding)) = mas_endpoint(http, t) {
        p.probes.push(probe);
        p.findings.extend(finding);
    }
    let synapse_up = synapse_answers(http, &mut p);
    let issuer = mas_answers(http, &mut p);
    if synapse_up {
        let release = running_release(http, &mut p);
        secret_accepted(http, &mut p);
        advertised(http, &mut p, issuer.as_deref());
        login(http, &mut p);
        // Synapse 1.136 refuses QR-code login beside MAS: nothing to ask of it there.
        if release.is_none_or(Release::qr_login_with_mas) {
            qr(http, &mut p);
        }
    }
    (p.probes, p.findings)
}

/// Synapse answers clients at its URL.
fn synapse_answers(http: &dyn Fetch, p: &mut Probes) -> bool {
    let url = join(&p.t.synapse_url, "_matrix/client/versions");
    let a = http.get(&url, None);
    let up = matches!(a, Answer::Status(200, _));
    p.record(Done {
        name: "client_versions",
        outcome: client_versions(&a),
        url,
        answer: &a,
        effect: Effect::Breaks,
        key: &["public_baseurl"],
        pos: p.t.synapse_pos,
        fix: "give --synapse-url, or start Synapse".into(),
    });
    up
}

/// The running Synapse's release, from its federation version endpoint: said in the report
/// (not a failure when federation is not served there).
fn running_release(http: &dyn Fetch, p: &mut Probes) -> Option<Release> {
    let url = join(&p.t.synapse_url, "_matrix/federation/v1/version");
    let a = http.get(&url, None);
    let outcome = federation_version(&a);
    let release = outcome
        .as_ref()
        .ok()
        .and_then(|s| s.strip_prefix("Synapse "))
        .and_then(Release::parse);
    p.probes.push(Probe {
        name: "synapse_release",
        url,
        ok: outcome.is_ok(),
        status: status_of(&a),
        detail: outcome.unwrap_or_else(|e| e),
    });
    release
}

/// MAS answers at the endpoint Synapse uses; its issuer.
fn mas_answers(http: &dyn Fetch, p: &mut Probes) -> Option<String> {
    let url = join(&p.t.mas_url, ".well-known/openid-configuration");
    let a = http.get(&url, None);
    let discovered = mas_discovery(&a);
    let issuer = discovered.clone().ok();
    p.record(Done {
        name: "mas_discovery",
        outcome: discovered.map(|i| format!("MAS answers, issuer {i}")),
        url,
        answer: &a,
        effect: Effect::Breaks,
        key: &["matrix_authentication_service", "endpoint"],
        pos: p.t.mas_pos,
        fix: "point matrix_authentication_service.endpoint at MAS, and make MAS reachable from \
              Synapse"
            .into(),
    });
    issuer
}

/// Synapse takes MAS's secret. It goes only where MAS itself sends it: its matrix.endpoint
/// (never to a URL guessed from the server name, nor over another route).
fn secret_accepted(http: &dyn Fetch, p: &mut Probes) {
    let (Some(secret), Some((endpoint, _, _))) = (&p.t.secret, &p.t.mas_endpoint) else {
        return;
    };
    let url = join(endpoint, "_synapse/mas/is_localpart_available");
    let a = http.get(&url, Some(secret));
    let (outcome, fix) = match shared_secret(&a) {
        SecretVerdict::Accepted => (
            Ok("the shared secret is accepted (400: parameter missing)".to_owned()),
            Guide::default(),
        ),
        SecretVerdict::Mismatch => (
            Err(format!(
                "answered {}: secret mismatch, Synapse refuses MAS's secret",
                status_of(&a).unwrap_or(0)
            )),
            Guide::text("copy MAS's secret over: ")
                .run(
                    command(Sub::Secret, &[])
                        .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"])),
                )
                .then(", then restart Synapse"),
        ),
        SecretVerdict::NotRouted => (
            Err("answered 404: /_synapse/mas does not reach Synapse".to_owned()),
            "route /_synapse/mas to Synapse in the reverse proxy (or probe Synapse directly \
             with --synapse-url)"
                .into(),
        ),
        SecretVerdict::Other => (
            Err(match &a {
                Answer::Status(s, _) => format!("answered {s}"),
                Answer::Failed(e) => format!("no answer: {e}"),
            }),
            "check that Synapse runs with this file (restart it after a change)".into(),
        ),
    };
    p.record(Done {
        name: "shared_secret",
        outcome,
        url,
        answer: &a,
        effect: Effect::Breaks,
        key: &["matrix_authentication_service", "secret"],
        pos: p.t.mas_pos,
        fix,
    });
}

/// Synapse tells clients to log in with MAS, under MAS's own issuer.
fn advertised(http: &dyn Fetch, p: &mut Probes, issuer: Option<&str>) {
    let mut url = join(&p.t.synapse_url, "_matrix/client/v1/auth_metadata");
    let mut a = http.get(&url, None);
    if matches!(a, Answer::Status(404, _)) {
        url = join(
            &p.t.synapse_url,
            "_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
        );
        a = http.get(&url, None);
    }
    let outcome = auth_metadata(&a).and_then(|told| match issuer {
        Some(i) if !same_issuer(i, &told) => {
            Err(format!("clients are told issuer {told}, but MAS says {i}"))
        }
        _ => Ok(format!("clients are told to log in with {told}")),
    });
    p.record(Done {
        name: "auth_metadata",
        outcome,
        url,
        answer: &a,
        effect: Effect::Breaks,
        key: &["matrix_authentication_service", "enabled"],
        pos: p.t.mas_pos,
        fix: "restart Synapse with MAS enabled; set MAS's http.issuer to its public URL. After \
              `mas-link unlink` this is expected: Synapse runs on its own (stop MAS, or link \
              again)"
            .into(),
    });
}

/// What legacy clients (password login) meet at Synapse's public URL: MAS's compatibility
/// login, routed there by the reverse proxy, or a 404. MAS's own answer says whether routing
/// would help.
fn login(http: &dyn Fetch, p: &mut Probes) {
    let url = join(&p.t.synapse_url, "_matrix/client/v3/login");
    let a = http.get(&url, None);
    let at_mas = join(&p.t.mas_url, "_matrix/client/v3/login");
    let mas_serves = login_routed(&http.get(&at_mas, None)).is_ok();
    let outcome = login_routed(&a).map_err(|e| match mas_serves {
        true => format!("{e}; MAS serves it at {at_mas}"),
        false => e,
    });
    p.record(Done {
        name: "login_routed",
        outcome,
        url,
        answer: &a,
        effect: Effect::Advice,
        key: &["public_baseurl"],
        pos: p.t.synapse_pos,
        fix: match p.t.on_cloudron {
            false => "route /_matrix/client/*/login, /_matrix/client/*/logout and \
                      /_matrix/client/*/refresh to MAS in the reverse proxy: clients that log in \
                      with a password (most bots, older apps) fail until then"
                .into(),
            // Cloudron's proxy is the platform's: no route can be added there.
            true => LEGACY_ON_CLOUDRON.into(),
        },
    });
}

/// What a Cloudron admin can do about legacy password clients: Cloudron's reverse proxy is the
/// platform's, so `/login` cannot be routed to MAS there.
pub const LEGACY_ON_CLOUDRON: &str = "on Cloudron the reverse proxy is the platform's: \
    `/_matrix/client/*/login` cannot be routed to MAS there, so clients that log in with a \
    password at Synapse's URL fail. Clients that log in with MAS (OpenID Connect, as Element X \
    does) work. A bot can be given a token MAS issues, in MAS's app: \
    `mas-cli manage issue-compatibility-token USERNAME`, its token then used on Synapse";

/// The MSC4108 rendezvous endpoint, for QR-code login.
fn qr(http: &dyn Fetch, p: &mut Probes) {
    let url = join(
        &p.t.synapse_url,
        "_matrix/client/unstable/org.matrix.msc4108/rendezvous",
    );
    let a = http.get(&url, None);
    p.record(Done {
        name: "qr_login",
        outcome: qr_login(&a),
        url,
        answer: &a,
        effect: match p.t.msc4108 {
            true => Effect::Breaks,
            false => Effect::Advice,
        },
        key: &["experimental_features", "msc4108_enabled"],
        pos: p.t.synapse_pos,
        fix: Guide::text("set experimental_features.msc4108_enabled: true (")
            .run(command(Sub::Synapse, &[]))
            .then(") and restart Synapse"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: u16, body: &str) -> Answer {
        Answer::Status(s, body.into())
    }

    #[test]
    fn the_running_release() {
        let a = ok(200, r#"{"server":{"name":"Synapse","version":"1.144.0"}}"#);
        assert_eq!(federation_version(&a).unwrap(), "Synapse 1.144.0");
        assert!(federation_version(&ok(404, "")).is_err());
    }

    #[test]
    fn versions() {
        assert!(client_versions(&ok(200, r#"{"versions":["v1.11"]}"#)).is_ok());
        assert!(client_versions(&ok(200, "<html>")).is_err());
        assert!(client_versions(&ok(502, "")).is_err());
        assert!(
            client_versions(&Answer::Failed("connection refused".into()))
                .unwrap_err()
                .contains("refused")
        );
    }

    #[test]
    fn discovery() {
        assert_eq!(
            mas_discovery(&ok(200, r#"{"issuer":"https://auth.example.com/"}"#)),
            Ok("https://auth.example.com/".into())
        );
        assert!(mas_discovery(&ok(200, "{}")).is_err());
        assert!(mas_discovery(&ok(404, "")).is_err());
        assert!(
            mas_discovery(&Answer::Failed("x".into()))
                .unwrap_err()
                .contains("unreachable")
        );
    }

    #[test]
    fn secrets() {
        assert_eq!(shared_secret(&ok(400, "")), SecretVerdict::Accepted);
        assert_eq!(shared_secret(&ok(401, "")), SecretVerdict::Mismatch);
        assert_eq!(shared_secret(&ok(403, "")), SecretVerdict::Mismatch);
        assert_eq!(shared_secret(&ok(404, "")), SecretVerdict::NotRouted);
        assert_eq!(shared_secret(&ok(200, "")), SecretVerdict::Other);
        assert_eq!(
            shared_secret(&Answer::Failed("x".into())),
            SecretVerdict::Other
        );
    }

    #[test]
    fn metadata_login_and_qr() {
        assert_eq!(
            auth_metadata(&ok(200, r#"{"issuer":"https://a/"}"#)),
            Ok("https://a/".into())
        );
        assert!(
            auth_metadata(&ok(404, ""))
                .unwrap_err()
                .contains("does not advertise")
        );
        assert!(auth_metadata(&ok(500, "")).is_err());
        assert!(login_routed(&ok(200, r#"{"flows":[]}"#)).is_ok());
        assert!(login_routed(&ok(404, "")).is_err());
        assert!(qr_login(&ok(405, "")).is_ok());
        assert!(qr_login(&ok(404, "")).is_err());
    }

    /// Answers by the URL's end; records every request's URL and bearer token.
    struct Fake(
        Vec<(&'static str, Answer)>,
        std::cell::RefCell<Vec<(String, Option<String>)>>,
    );

    impl Fetch for Fake {
        fn get(&self, url: &str, bearer: Option<&str>) -> Answer {
            self.1
                .borrow_mut()
                .push((url.to_owned(), bearer.map(str::to_owned)));
            self.0
                .iter()
                .find(|(p, _)| url.ends_with(p))
                .map_or(Answer::Status(404, String::new()), |(_, a)| a.clone())
        }
    }

    #[test]
    fn a_wrong_secret_is_reported_without_the_secret() {
        let fake = Fake(
            vec![
                ("/_matrix/client/versions", ok(200, r#"{"versions":[]}"#)),
                (
                    "/.well-known/openid-configuration",
                    ok(200, r#"{"issuer":"http://mas/"}"#),
                ),
                ("/is_localpart_available", ok(401, "")),
                ("/auth_metadata", ok(200, r#"{"issuer":"http://mas/"}"#)),
            ],
            Default::default(),
        );
        let t = Targets {
            synapse_url: "http://hs/".into(),
            mas_url: "http://mas/".into(),
            secret: Some("TopSecret123".into()),
            msc4108: true,
            synapse_file: Some("hs.yaml".into()),
            synapse_pos: Pos::default(),
            mas_pos: Pos::default(),
            mas_endpoint: Some(("http://hs/".into(), "config.yaml".into(), Pos::default())),
            on_cloudron: false,
        };
        let (probes, findings) = run(&fake, &t);
        assert_eq!(probes.len(), 8);
        let secret = findings
            .iter()
            .find(|f| f.key.ends_with("secret"))
            .expect("a secret finding");
        assert!(
            secret.message.contains("secret mismatch"),
            "{}",
            secret.message
        );
        let all = serde_json::to_string(&(probes, &findings)).unwrap();
        assert!(!all.contains("TopSecret123"));
        // The secret went only to the one probe that needs it.
        assert_eq!(
            fake.1.borrow().iter().filter(|(_, b)| b.is_some()).count(),
            1
        );
        // In MAS's app, Synapse's file is not here: its findings name its side, no `:1:1`.
        let t = Targets {
            synapse_file: None,
            ..t
        };
        let (_, findings) = run(&fake, &t);
        let rendered = crate::findings::render(&findings[0]);
        assert!(
            rendered.contains(": Synapse's side (its homeserver.yaml is not here): `"),
            "{rendered}"
        );
    }

    /// In MAS's container: MAS's `matrix.endpoint` is probed, and where it does not answer
    /// as Synapse the finding is in MAS's file, at that key; no secret goes with it.
    #[test]
    fn mas_endpoint_is_probed_from_here() {
        let fake = Fake(
            vec![
                ("hs/_matrix/client/versions", ok(200, r#"{"versions":[]}"#)),
                (
                    "localhost:8008/_matrix/client/versions",
                    Answer::Failed("connection refused".into()),
                ),
            ],
            Default::default(),
        );
        let t = Targets {
            synapse_url: "http://hs/".into(),
            mas_url: "http://mas/".into(),
            secret: None,
            msc4108: false,
            synapse_file: Some("hs.yaml".into()),
            synapse_pos: Pos::default(),
            mas_pos: Pos::default(),
            mas_endpoint: Some((
                "http://localhost:8008/".into(),
                "config.yaml".into(),
                Pos::default(),
            )),
            on_cloudron: false,
        };
        let (probes, findings) = run(&fake, &t);
        let probe = probes
            .iter()
            .find(|p| p.name == "synapse_from_mas")
            .unwrap();
        assert_eq!(probe.url, "http://localhost:8008/_matrix/client/versions");
        assert!(!probe.ok);
        let f = findings
            .iter()
            .find(|f| f.key == "matrix.endpoint")
            .unwrap();
        assert_eq!((f.file, f.path.as_str()), (Source::Mas, "config.yaml"));
        assert!(
            f.message.contains("MAS cannot reach Synapse"),
            "{}",
            f.message
        );
        assert!(fake.1.borrow().iter().all(|(_, b)| b.is_none()));
    }

    /// The secret goes only to MAS's matrix.endpoint; without it known, to nowhere.
    #[test]
    fn the_secret_goes_only_where_mas_sends_it() {
        let answers = || {
            vec![
                ("/_matrix/client/versions", ok(200, r#"{"versions":[]}"#)),
                ("/is_localpart_available", ok(400, "")),
            ]
        };
        let mut t = Targets {
            synapse_url: "https://example.com/".into(),
            mas_url: "http://mas/".into(),
            secret: Some("TopSecret123".into()),
            msc4108: false,
            synapse_file: Some("hs.yaml".into()),
            synapse_pos: Pos::default(),
            mas_pos: Pos::default(),
            mas_endpoint: Some((
                "http://synapse.internal:8008/".into(),
                "c.yaml".into(),
                Pos::default(),
            )),
            on_cloudron: false,
        };
        let fake = Fake(answers(), Default::default());
        run(&fake, &t);
        let sent: Vec<String> = fake
            .1
            .borrow()
            .iter()
            .filter(|(_, b)| b.is_some())
            .map(|(u, _)| u.clone())
            .collect();
        assert_eq!(
            sent,
            ["http://synapse.internal:8008/_synapse/mas/is_localpart_available"]
        );
        t.mas_endpoint = None;
        let fake = Fake(answers(), Default::default());
        run(&fake, &t);
        assert!(fake.1.borrow().iter().all(|(_, b)| b.is_none()));
    }
}
