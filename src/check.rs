//! `check` as a library operation: a request (which files, MAS's side piped in, Synapse's
//! loader, the live probes) in, the report out. Each program's side is read and judged as it
//! reads itself, then the pairing, the users and the hand-over, then (when asked) the running
//! services. The command line only resolves the request and prints the report.

use crate::rules::release::{self, Known, Release};
use std::path::PathBuf;

use serde::Serialize;

use crate::database;
use crate::files::{self, Config, ReadError};
use crate::findings::{
    Command, Effect, FORMAT_VERSION, Finding, Guide, Severity, Source, Sub, Where, command,
};
use crate::loader::{self, LoaderError};
use crate::mas_cli;
use crate::online::{self, Probe};
use crate::rules::layers::Layers;
use crate::rules::mas::{self, Bundle, MasView};
use crate::rules::names::{check_url, host_of};
use crate::rules::pairing::{self, SynapseView};
use crate::rules::synapse::{self, MAS};
use crate::rules::{sso, users};
use crate::yaml::Value;

/// What to check.
#[derive(Debug)]
pub struct Request {
    /// Synapse's files, as given (`-c` order, folders).
    pub synapse: Option<Vec<PathBuf>>,
    /// MAS's files.
    pub mas: Option<Vec<PathBuf>>,
    /// MAS's side as a `secret --bundle` line carried it, when MAS runs elsewhere.
    pub mas_bundle: Option<Bundle>,
    pub loader: loader::Setting,
    /// The Synapse release, when the operator says it (`--synapse-version`).
    pub synapse_version: Option<String>,
    /// How MAS's own `mas-cli config check` is found.
    pub mas_cli: mas_cli::Setting,
    /// The live probes, when asked for.
    pub online: Option<Online>,
    /// Where the commands printed run: the files named, and Cloudron's two apps.
    pub at: Where,
}

/// Where the live probes go, when not where the files say.
#[derive(Debug, Default)]
pub struct Online {
    pub synapse_url: Option<String>,
    pub mas_url: Option<String>,
    pub insecure: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Loader(#[from] LoaderError),
    #[error(transparent)]
    MasCli(#[from] mas_cli::MasCliError),
    #[error("{0}")]
    Online(String),
}

/// The report of `check`: stable, versioned by [`FORMAT_VERSION`] (README: JSON output).
#[derive(Debug, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub ok: bool,
    pub linked: bool,
    pub synapse_config: Option<String>,
    pub mas_config: Option<String>,
    /// Every file read: Synapse's, then MAS's, each in the order its program reads them.
    pub files: Vec<String>,
    pub errors: usize,
    pub warnings: usize,
    pub findings: Vec<Finding>,
    /// The checks that need a side that was not here, and how to bring it.
    pub not_checked: Vec<Guide>,
    /// Synapse's users, as MAS's migration tool will see them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// The SSO hand-over as each side states it (see README).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sso: Vec<String>,
    /// Which Synapse release the verdict is for, and where that was learnt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synapse_release: Option<String>,
    /// Whether Synapse's own config loader judged Synapse's side, and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synapse_loader: Option<String>,
    /// Whether MAS's own `mas-cli config check` judged MAS's side, and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mas_check: Option<String>,
    /// With `--online`: each live probe, passed or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<Probe>>,
}

/// Synapse's side as checked: its configuration, the secret it will use, the loader's word.
struct SynapseSide {
    config: Config,
    secret: Option<String>,
    judged: loader::Judged,
    release: Option<Known>,
}

/// Checks what `req` names.
pub fn run(req: &Request) -> Result<Report, CheckError> {
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    let hs = match &req.synapse {
        Some(given) => Some(synapse_side(req, given, &mut findings, &mut not_checked)?),
        None => None,
    };
    let census = match &hs {
        Some(s) => database::census(
            &users::database(s.config.layers.value()),
            &s.config.rights(),
        )
        .unwrap_or_else(|e| {
            not_checked.push(format!("Synapse's users: {e}").into());
            None
        }),
        None => None,
    };
    let mas = mas_side(req, &mut findings, &mut not_checked)?;
    let (mas_config, mas_view) = (mas.config, mas.view);
    match pair(hs.as_ref(), mas_view.as_ref()) {
        Ok(found) => findings.extend(found),
        Err(missing) => not_checked.push(missing),
    }
    if let (Some(c), Some(view), Some(s)) = (&census, &mas_view, &hs) {
        findings.extend(users::findings(c, view, s.config.layers.value()));
    }
    let probes = match &req.online {
        Some(o) => {
            let mut targets = online_targets(o, hs.as_ref(), mas_view.as_ref())?;
            targets.on_cloudron = req.at.cloudron.is_some();
            let http = online::Http::new(o.insecure, std::time::Duration::from_secs(5));
            let (probes, f) = online::run(&http, &targets);
            findings.extend(f);
            Some(probes)
        }
        None => None,
    };
    let at = where_commands_run(req, hs.as_ref(), mas_config.as_ref());
    placed(&mut findings, &mut not_checked, &at);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let names = |c: &Config| c.files.iter().map(files::Loaded::name).collect::<Vec<_>>();
    let mas_providers = mas_view.as_ref().and_then(|v| v.providers.as_deref());
    Ok(Report {
        format_version: FORMAT_VERSION,
        ok: errors == 0,
        linked: !findings.iter().any(|f| f.effect == Effect::NotLinked),
        synapse_config: hs.as_ref().map(|s| s.config.names()),
        mas_config: mas_config.as_ref().map(Config::names).or_else(|| {
            req.mas_bundle
                .as_ref()
                .map(|_| mas::BUNDLE_SOURCE.to_owned())
        }),
        files: hs
            .iter()
            .flat_map(|s| names(&s.config))
            .chain(mas_config.iter().flat_map(names))
            .collect(),
        errors,
        warnings: findings.len() - errors,
        not_checked,
        users: census
            .as_ref()
            .map(users::Census::lines)
            .unwrap_or_default(),
        sso: hs
            .iter()
            .flat_map(|s| sso::synapse_report(s.config.layers.value()))
            .chain(sso::mas_report(mas_providers.unwrap_or_default()))
            .collect(),
        synapse_release: hs.as_ref().map(|s| release::describe(s.release.as_ref())),
        synapse_loader: hs.as_ref().map(|s| s.judged.describe()),
        mas_check: mas.judged.as_ref().map(mas_cli::Judged::describe),
        probes,
        findings,
    })
}

/// Where the printed commands run: the request's, with the other Cloudron app named from the
/// files when the request does not know it.
fn where_commands_run(req: &Request, hs: Option<&SynapseSide>, mas: Option<&Config>) -> Where {
    let mut at = req.at.clone();
    if let Some(c) = at.cloudron.as_mut().filter(|c| c.other.is_none()) {
        let other = crate::rules::other_app_url(
            hs.map(|s| s.config.layers.value()),
            mas.map(|c| c.layers.value()),
        );
        c.other = other.as_deref().and_then(host_of).map(str::to_owned);
    }
    at
}

/// The commands printed (fixes, and the ways to bring a missing side) with the files this run
/// named, and the findings in the report's order: errors first, Synapse's before MAS's.
fn placed(findings: &mut [Finding], not_checked: &mut [Guide], at: &Where) {
    for f in findings.iter_mut() {
        f.fix.place(at);
    }
    for line in not_checked.iter_mut() {
        line.place(at);
    }
    findings.sort_by_key(|f| {
        (
            f.severity == Severity::Warning,
            f.file == Source::Mas,
            f.path.clone(),
            f.line,
        )
    });
}

/// Synapse's side: the configuration, its findings (with Synapse's own loader's verdict where
/// it is installed), and the secret Synapse will use.
fn synapse_side(
    req: &Request,
    given: &[PathBuf],
    findings: &mut Vec<Finding>,
    not_checked: &mut Vec<Guide>,
) -> Result<SynapseSide, CheckError> {
    let config = files::load_synapse(given, &files::synapse_paths(given)?)?;
    let secret_file = files::synapse_secret_file(&config)?;
    let (mut found, secret) = synapse::findings(&config.layers, secret_file.as_ref());
    let paths: Vec<PathBuf> = config.files.iter().map(|f| f.target.clone()).collect();
    let judged = loader::judge(&req.loader, &config.layers, &paths)?;
    let release = release_of(req, &judged, &paths)?;
    if let Some(k) = &release {
        synapse::for_release(&config.layers, k.release, &mut found);
    }
    let at_startup = release
        .as_ref()
        .map_or(&[][..], |k| release::refused_at_startup(k.release));
    match &judged {
        loader::Judged::By(v) => match &v.refusal {
            // The loader accepts: its word over the native rules on whether Synapse refuses,
            // but for what this release refuses only at start-up, after the loader.
            None => found
                .retain(|f| f.effect != Effect::Refuses || at_startup.contains(&f.key.as_str())),
            Some(r) => {
                let keys: Vec<&str> = r.path.iter().map(String::as_str).collect();
                found.push(Finding::new(
                    Source::Synapse,
                    Effect::Refuses,
                    &keys,
                    config.layers.locate(&keys),
                    format!(
                        "Synapse's own config loader refuses to start: {}",
                        loader::masked(&r.message, &config.layers)
                    ),
                    Guide::text("fix what Synapse's message names, then run ")
                        .run(command(Sub::Check, &[]))
                        .then(" again"),
                ));
            }
        },
        _ => not_checked.push(judged.describe().into()),
    }
    if config
        .files
        .iter()
        .filter_map(files::record)
        .any(|r| r.unlinked)
    {
        unlinked_by_choice(&mut found);
    }
    findings.extend(found);
    Ok(SynapseSide {
        config,
        secret,
        judged,
        release,
    })
}

/// The release the verdict is for: the one the operator gave, else the loader's that judged,
/// else what [`loader::release`] finds.
fn release_of(
    req: &Request,
    judged: &loader::Judged,
    paths: &[PathBuf],
) -> Result<Option<Known>, CheckError> {
    if req.synapse_version.is_none()
        && let loader::Judged::By(v) = judged
        && let Some(release) = Release::parse(&v.version)
    {
        return Ok(Some(Known {
            release,
            text: v.version.clone(),
            from: format!("Synapse's loader, {}", v.python.display()),
        }));
    }
    Ok(loader::release(
        &req.loader,
        paths,
        req.synapse_version.as_deref(),
    )?)
}

/// Unlinked on purpose (`unlink`'s record says so): a state the operator chose, not a failure.
fn unlinked_by_choice(found: &mut [Finding]) {
    for f in found.iter_mut().filter(|f| f.effect == Effect::NotLinked) {
        f.severity = Severity::Warning;
        f.message = "Synapse is not linked to MAS: `mas-link unlink` turned the link off (its \
                     record beside the file says so), and Synapse runs on its own"
            .into();
        f.fix = Guide::text("to link again, give MAS's secret as the first time (")
            .run(command(Sub::Synapse, &["--help"]))
            .then(" lists the ways)");
    }
}

/// MAS's side as checked: its configuration, what mas-link reads of it, MAS's own word.
struct MasSide {
    config: Option<Config>,
    view: Option<MasView>,
    judged: Option<mas_cli::Judged>,
}

/// MAS's side: its files and findings (with MAS's own `config check` where it is installed),
/// or the bundle piped in.
fn mas_side(
    req: &Request,
    findings: &mut Vec<Finding>,
    not_checked: &mut Vec<Guide>,
) -> Result<MasSide, CheckError> {
    let Some(paths) = &req.mas else {
        return Ok(MasSide {
            config: None,
            view: req.mas_bundle.clone().map(bundle_view),
            judged: None,
        });
    };
    let config = files::load_mas(paths)?;
    let secret_file = files::mas_secret_file(&config)?;
    let (view, mut found) = mas::findings(config.layers.clone(), secret_file.as_ref());
    let targets: Vec<PathBuf> = config.files.iter().map(|f| f.target.clone()).collect();
    let judged = mas_cli::judge(&req.mas_cli, &targets)?;
    match &judged {
        mas_cli::Judged::By(v) => match &v.refusal {
            // MAS starts: its word over the native rules on whether it refuses.
            None => found.retain(|f| {
                f.effect != Effect::Refuses || mas::READ_AT_START.contains(&f.key.as_str())
            }),
            Some(r) => found.push(mas_refusal(r, &config)),
        },
        _ => not_checked.push(judged.describe().into()),
    }
    findings.extend(found);
    findings.extend(mas::loopback_endpoint(&view, req.at.cloudron.is_some()));
    Ok(MasSide {
        config: Some(config),
        view: Some(view),
        judged: Some(judged),
    })
}

/// MAS's own refusal, at the key it names (its secrets masked).
fn mas_refusal(r: &mas_cli::Refusal, config: &Config) -> Finding {
    let keys: Vec<&str> = r.path.iter().map(String::as_str).collect();
    Finding::new(
        Source::Mas,
        Effect::Refuses,
        &keys,
        config.layers.locate(&keys),
        format!(
            "MAS's own `mas-cli config check` refuses it: {}",
            mas_cli::masked(&r.message, &config.layers)
        ),
        Guide::text("fix what MAS's message names, then run ")
            .run(command(Sub::Check, &[]).on(Source::Mas))
            .then(" again"),
    )
}

/// The pairing rules when both sides are known; else which side is missing, and how to
/// bring it.
fn pair(synapse: Option<&SynapseSide>, mas: Option<&MasView>) -> Result<Vec<Finding>, Guide> {
    const WHAT: &str = "the pairing (the secrets equal, matrix.homeserver = server_name, each \
                        endpoint at the other program)";
    match (synapse, mas) {
        (Some(s), Some(view)) => {
            let hs_view = SynapseView {
                cfg: &s.config.layers,
                secret: s.secret.clone(),
            };
            Ok(pairing::pairing(&hs_view, view))
        }
        (Some(_), None) => Err(Guide::text(format!(
            "{WHAT}: MAS's config is not here. Where MAS runs elsewhere, pipe its side in: "
        ))
        .run(bundle_check())),
        (None, _) => Err(Guide::text(format!(
            "{WHAT}: Synapse's homeserver.yaml is not here; run "
        ))
        .run(bundle_check())
        .then(" where it is")),
    }
}

/// `mas-link secret --bundle | mas-link check --mas-bundle-stdin`: MAS's side piped in.
fn bundle_check() -> Command {
    command(Sub::Secret, &["--bundle"])
        .pipe(command(Sub::Check, &["--mas-bundle-stdin"]).on(Source::Synapse))
}

/// What a bundle says of MAS's side, for the pairing rules.
fn bundle_view(bundle: Bundle) -> MasView {
    MasView {
        cfg: None,
        secret: Some(bundle.secret),
        homeserver: bundle.homeserver,
        endpoint: None,
        public_base: bundle.endpoint,
        providers: bundle.providers,
    }
}

/// Where the online probes go, from the flags and the files.
fn online_targets(
    o: &Online,
    hs: Option<&SynapseSide>,
    mas: Option<&MasView>,
) -> Result<online::Targets, CheckError> {
    let cfg: Option<&Layers> = hs.map(|s| &s.config.layers);
    let hs_str = |path: &[&str]| cfg?.value().at(path)?.as_str().map(str::to_owned);
    let synapse_url = o
        .synapse_url
        .clone()
        .or_else(|| hs_str(&["public_baseurl"]))
        .or_else(|| hs_str(&["server_name"]).map(|n| format!("https://{n}/")))
        .or_else(|| mas.and_then(|m| m.endpoint.clone()))
        .ok_or_else(|| {
            CheckError::Online(
                "--online needs --synapse-url URL (no Synapse config to take it from)".into(),
            )
        })?;
    let mas_url = o
        .mas_url
        .clone()
        .or_else(|| hs_str(&[MAS, "endpoint"]))
        .or_else(|| mas.and_then(|m| m.public_base.clone()))
        .ok_or_else(|| {
            CheckError::Online("--online needs --mas-url URL (no config to take it from)".into())
        })?;
    for (flag, url) in [("--synapse-url", &synapse_url), ("--mas-url", &mas_url)] {
        check_url(url).map_err(|e| CheckError::Online(format!("{flag}: {e}")))?;
    }
    let at = |path: &[&str]| cfg.map(|c| c.locate(path));
    Ok(online::Targets {
        synapse_url,
        mas_url,
        secret: mas.and_then(|m| m.secret.clone()),
        msc4108: cfg.is_some_and(|c| {
            c.value()
                .at(&["experimental_features", "msc4108_enabled"])
                .is_some_and(Value::truthy)
        }),
        synapse_file: at(&["public_baseurl"]).map(|p| p.path.to_owned()),
        synapse_pos: at(&["public_baseurl"]).map(|p| p.pos).unwrap_or_default(),
        mas_pos: at(&[MAS]).map(|p| p.pos).unwrap_or_default(),
        mas_endpoint: mas.and_then(|m| {
            let place = m.cfg.as_ref()?.locate(&["matrix", "endpoint"]);
            let endpoint = m.endpoint.as_deref().unwrap_or(mas::DEFAULT_ENDPOINT);
            Some((endpoint.to_owned(), place.path.to_owned(), place.pos))
        }),
        on_cloudron: false,
    })
}
