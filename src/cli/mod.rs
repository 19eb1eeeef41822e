//! The command line: each command resolves its flags, environment and defaults once, calls
//! the library (files → plan → show/apply), and returns an exit code: 0 done or nothing to
//! do, 1 `--check` found work (or `check` found errors), 2 bad input or a refusal (nothing
//! written).

mod args;

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstyle::AnsiColor;
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

pub use args::{
    CheckArgs, Cli, Color, Command, Format, MasArgs, SecretArgs, Shell, SynapseArgs, UnlinkArgs,
    WizardArgs, WriteArgs, subcommand_man_pages,
};

use crate::apply::{self, Lock};
use crate::files::{self, Loaded};
use crate::findings::{Severity, Source};
use crate::online;
use crate::plan::{self, LinkRequest, Proposal};
use crate::rules::mas::{self, Bundle, MatrixOptions};
use crate::rules::names::{check_server_name, check_url};
use crate::rules::pairing::{self, SynapseView};
use crate::rules::synapse::{self, MAS};
use crate::show::{self, CheckReport, Out, WriteReport};
use crate::wizard;
use crate::yaml::{Document, Options, Value};

/// A secret given in argv shows in `ps` and in shell history: refused before clap, whose
/// "a similar argument exists: --secret-path" would lead to a file named after the secret.
const SECRET_IN_ARGV: &str = "--secret is not taken: a secret in the command line shows in \
    `ps` and in shell history. Give it with --mas-config PATH, --secret-file PATH, \
    --secret-stdin (e.g. `mas-link secret --bundle | mas-link synapse --secret-stdin`) or \
    MAS_SECRET";

pub fn main() -> ExitCode {
    let secret_in_argv = std::env::args_os()
        .any(|a| a == "--secret" || a.to_string_lossy().starts_with("--secret="));
    if secret_in_argv {
        eprintln!("mas-link: error: {SECRET_IN_ARGV}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let mut out = Out::new(match cli.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    });
    match run(cli.command, &mut out) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let red = AnsiColor::Red.on_default().bold();
            let _ = writeln!(out.err, "{red}mas-link: error:{red:#} {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command, out: &mut Out) -> Result<u8> {
    match command {
        Command::Secret(a) => cmd_secret(&a, out),
        Command::Synapse(a) => cmd_synapse(&a, out),
        Command::Mas(a) => cmd_mas(&a, out),
        Command::Check(a) => cmd_check(&a, out),
        Command::Unlink(a) => cmd_unlink(&a, out),
        Command::Wizard(a) => wizard::run(&a, out),
        Command::Completions { shell } => {
            out.out.write_all(&shell.render())?;
            Ok(0)
        }
    }
}

/// An environment variable's value, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// The lock a writing run holds from before it reads the file until it exits.
fn lock(w: &WriteArgs, path: &Path, what: &str) -> Result<Option<Lock>> {
    if !w.writes() {
        return Ok(None);
    }
    Ok(Some(Lock::for_file(path, what)?))
}

fn cmd_secret(a: &SecretArgs, out: &mut Out) -> Result<u8> {
    let bundle = files::mas_bundle(&a.mas_config)?;
    let line = if a.bundle {
        bundle.to_line()
    } else {
        bundle.secret
    };
    writeln!(out.out, "{line}")?;
    Ok(0)
}

/// The secret from at most one source; none given is `None`.
fn given_secret(a: &SynapseArgs) -> Result<Option<Bundle>> {
    let env_secret = env("MAS_SECRET");
    let flag = a.mas_config.is_some() || a.secret_file.is_some() || a.secret_stdin;
    if flag && env_secret.is_some() {
        bail!(
            "give the secret one way only: --mas-config, --secret-file, --secret-stdin or MAS_SECRET"
        );
    }
    let bare = |secret: String| Bundle {
        secret,
        ..Default::default()
    };
    if let Some(p) = &a.mas_config {
        return Ok(Some(files::mas_bundle(p)?));
    }
    if let Some(p) = &a.secret_file {
        return Ok(Some(bare(files::read_secret(p)?)));
    }
    if a.secret_stdin {
        return read_stdin_secret().map(Some);
    }
    Ok(env_secret.map(|s| bare(s.trim().to_owned())))
}

/// A secret or a bundle line from standard input (never from a terminal: it would wait
/// without a word).
fn read_stdin_secret() -> Result<Bundle> {
    if std::io::stdin().is_terminal() {
        bail!(
            "--secret-stdin reads a pipe, and standard input is a terminal: pipe the secret in \
             (`mas-link secret --bundle | mas-link synapse --secret-stdin`), or use \
             --secret-file PATH"
        );
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the secret from standard input")?;
    if let Some(bundle) = Bundle::parse(&s) {
        return Ok(bundle);
    }
    let s = s.trim();
    if s.is_empty() {
        bail!("standard input held no secret");
    }
    Ok(Bundle {
        secret: s.to_owned(),
        ..Default::default()
    })
}

/// What the link needs, from the flags, the environment, the MAS side and the file itself
/// (its MAS block, when one is there, so that relinking needs no flags).
fn link_request(a: &SynapseArgs, doc: &Document, out: &mut Out) -> Result<LinkRequest> {
    let root = doc.value();
    let block = |k: &str| {
        root.at(&[MAS, k])
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let bundle = match given_secret(a)? {
        Some(b) => b,
        None => {
            let secret = if let Some(token) = synapse::legacy_admin_token(root) {
                writeln!(
                    out.err,
                    "note: using experimental_features.msc3861.admin_token as the shared secret; \
                     MAS's matrix.secret must hold the same value"
                )?;
                token
            } else if let Some(s) = block("secret") {
                s
            } else if let Some(s) =
                synapse::secret_path(doc).and_then(|p| files::read_secret(Path::new(p)).ok())
            {
                s
            } else {
                bail!(
                    "no secret given: pass --mas-config PATH (MAS's config.yaml), \
                     --secret-file PATH, --secret-stdin, or set MAS_SECRET"
                )
            };
            Bundle {
                secret,
                ..Default::default()
            }
        }
    };
    let endpoint = a
        .endpoint
        .clone()
        .or_else(|| env("MAS_ENDPOINT"))
        .or(bundle.endpoint)
        .or_else(|| block("endpoint").filter(|e| check_url(e).is_ok()))
        .ok_or_else(|| {
            anyhow!(
                "no MAS endpoint: pass --endpoint URL (where Synapse reaches MAS), set \
                 MAS_ENDPOINT, or give --mas-config with http.public_base"
            )
        })?;
    check_url(&endpoint).map_err(|e| anyhow!("--endpoint: {e}"))?;
    if let Some(p) = &a.secret_path
        && !p.is_absolute()
    {
        bail!(
            "--secret-path {}: give an absolute path; Synapse reads a relative one from its own \
             working directory, not this one",
            p.display()
        );
    }
    Ok(LinkRequest {
        endpoint,
        secret: bundle.secret,
        secret_path_now: files::named_state(a.secret_path.as_deref()),
        secret_path: a.secret_path.clone(),
        mas_homeserver: bundle.homeserver,
    })
}

/// The record's backup, read, when the file is still exactly what `synapse` wrote.
fn untouched_backup(
    record: Option<&crate::rules::record::Record>,
    doc: &Document,
) -> Option<(PathBuf, Document)> {
    let r = record?;
    let backup = r.backup.as_ref()?;
    r.wrote(doc.text().as_bytes()).then_some(())?;
    let (_, old) = files::load(backup, Options::PYYAML).ok()?;
    Some((backup.clone(), old))
}

fn cmd_synapse(a: &SynapseArgs, out: &mut Out) -> Result<u8> {
    let _lock = lock(&a.write, &a.synapse_config, "synapse")?;
    let (file, doc) = files::load(&a.synapse_config, Options::PYYAML)?;
    warn_conf_d(&file, out)?;
    let req = link_request(a, &doc, out)?;
    let record = files::record(&file);
    let p = plan::link(file, doc, &req, record.as_ref())?;
    finish(out, &p, &a.write)
}

fn cmd_unlink(a: &UnlinkArgs, out: &mut Out) -> Result<u8> {
    let _lock = lock(&a.write, &a.synapse_config, "unlink")?;
    let (file, doc) = files::load(&a.synapse_config, Options::PYYAML)?;
    let record = files::record(&file);
    let backup = untouched_backup(record.as_ref(), &doc);
    let secret_file = files::synapse_secret_file(&doc);
    let p = plan::unlink(file, doc, record.as_ref(), backup, secret_file.as_ref())?;
    finish(out, &p, &a.write)
}

/// What `mas-link mas` sets, from the flags, the environment, Synapse's file and MAS's own.
fn matrix_options(a: &MasArgs, mas_doc: &Document) -> Result<MatrixOptions> {
    let synapse_doc = match &a.synapse_config {
        Some(p) => Some(files::load(p, Options::PYYAML)?.1),
        None => None,
    };
    let from_synapse = |key: &str| {
        let doc = synapse_doc.as_ref()?;
        doc.value()
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let homeserver = a
        .homeserver
        .clone()
        .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
        .or_else(|| from_synapse("server_name"))
        .ok_or_else(|| {
            anyhow!(
                "no homeserver name: pass --homeserver NAME (Synapse's server_name), set \
                 MATRIX_HOMESERVER_DOMAIN, or give --synapse-config PATH"
            )
        })?;
    check_server_name(&homeserver).map_err(|e| anyhow!("--homeserver: {e}"))?;
    let existing = mas_doc
        .value()
        .at(&["matrix", "endpoint"])
        .and_then(Value::as_str)
        .filter(|e| check_url(e).is_ok())
        .map(str::to_owned);
    // An endpoint that works is kept unless one is given: it may be an internal address.
    let mut endpoint = a
        .synapse_endpoint
        .clone()
        .or(existing)
        .or_else(|| from_synapse("public_baseurl"))
        .unwrap_or_else(|| format!("https://{homeserver}/"));
    check_url(&endpoint).map_err(|e| anyhow!("--synapse-endpoint: {e}"))?;
    // MAS joins relative paths to it: a path prefix needs its trailing slash.
    if !endpoint.ends_with('/') {
        endpoint.push('/');
    }
    Ok(MatrixOptions {
        homeserver,
        endpoint,
        kind: a.kind.clone(),
    })
}

/// `mas-link mas`'s proposal for the file at `path` (already locked when it will be written).
fn mas_proposal(a: &MasArgs) -> Result<Proposal> {
    let (file, doc) = files::load(&a.mas_config, Options::SERDE_YAML)?;
    let opts = matrix_options(a, &doc)?;
    let secret_file = files::mas_secret_file(&doc);
    Ok(plan::mas(
        file,
        doc,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
    )?)
}

fn cmd_mas(a: &MasArgs, out: &mut Out) -> Result<u8> {
    let _lock = lock(&a.write, &a.mas_config, "mas")?;
    let p = mas_proposal(a)?;
    finish(out, &p, &a.write)
}

/// Debian's layout: files in `conf.d/` beside homeserver.yaml load after it, and each replaces
/// whole top-level keys. Warns of those that would override what mas-link writes.
fn warn_conf_d(file: &Loaded, out: &mut Out) -> Result<()> {
    let Some(dir) = file.target.parent().map(|d| d.join("conf.d")) else {
        return Ok(());
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    for f in paths {
        let Ok((_, doc)) = files::load(&f, Options::PYYAML) else {
            continue;
        };
        for k in [
            MAS,
            "password_config",
            "enable_registration",
            "experimental_features",
        ] {
            if doc.value().get(k).is_some() {
                writeln!(
                    out.err,
                    "warning: {0} sets `{k}`, which replaces this file's `{k}` when Synapse loads conf.d: edit that file instead (--synapse-config {0})",
                    f.display()
                )?;
            }
        }
    }
    Ok(())
}

/// Shows a proposal, then writes it when asked to: the shared end of `synapse`, `mas` and
/// `unlink`.
fn finish(out: &mut Out, p: &Proposal, w: &WriteArgs) -> Result<u8> {
    let changed = p.changed();
    if matches!(w.format, Format::Json) {
        if changed && !w.yes && w.writes() {
            bail!("--format json needs --yes, --dry-run or --check: it never asks");
        }
        let written = match changed && w.yes && w.writes() {
            true => Some(apply::apply(p, !w.no_backup)?),
            false => None,
        };
        let backup = written.as_ref().and_then(|w| w.backup.as_deref());
        let report = WriteReport::new(p, backup, written.is_some());
        writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(u8::from(w.check && changed));
    }
    show::write_remarks(&mut out.err, p)?;
    if !changed {
        writeln!(out.out, "{}", p.idle)?;
        return Ok(0);
    }
    out.proposal(p, w.show_secrets)?;
    if w.check {
        writeln!(out.out, "\n{} needs the changes above.", p.file.name())?;
        return Ok(1);
    }
    if w.dry_run {
        writeln!(out.out, "\nDry run: nothing was written.")?;
        return Ok(0);
    }
    if !w.yes && !confirm(out, p)? {
        writeln!(out.out, "Nothing was written.")?;
        return Ok(0);
    }
    let written = apply::apply(p, !w.no_backup)?;
    show::write_done(&mut out.out, p, &written)?;
    Ok(0)
}

/// Asks on the terminal whether to write.
fn confirm(out: &mut Out, p: &Proposal) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "not writing without confirmation: standard input is not a terminal. Pass --yes to write, or --dry-run to only show the diff"
        );
    }
    write!(
        out.err,
        "\nWrite these changes to {}? [y/N] ",
        p.file.name()
    )?;
    out.err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

fn cmd_check(a: &CheckArgs, out: &mut Out) -> Result<u8> {
    let hs_path = files::given_or_default(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas_path = files::given_or_default(&a.mas_config, mas::DEFAULT_CONFIG);
    if hs_path.is_none() && mas_path.is_none() {
        bail!(
            "no configuration found at {} or {}: pass --synapse-config PATH and/or --mas-config PATH",
            synapse::DEFAULT_CONFIG,
            mas::DEFAULT_CONFIG
        );
    }
    let mut findings = Vec::new();
    let mut loaded = (None, None);
    let hs = match &hs_path {
        Some(p) => {
            let (file, doc) = files::load(p, Options::PYYAML)?;
            loaded.0 = Some(file);
            let secret_file = files::synapse_secret_file(&doc);
            let (f, secret) = synapse::findings(&doc, secret_file.as_ref());
            findings.extend(f);
            Some((doc, secret))
        }
        None => None,
    };
    let mas_view = match &mas_path {
        Some(p) => {
            let (file, doc) = files::load(p, Options::SERDE_YAML)?;
            loaded.1 = Some(file);
            let secret_file = files::mas_secret_file(&doc);
            let (view, f) = mas::findings(doc, secret_file.as_ref());
            findings.extend(f);
            Some(view)
        }
        None => None,
    };
    let mas_view = match (mas_view, a.mas_bundle_stdin) {
        (None, true) => Some(bundle_view(read_stdin_secret()?)),
        (view, _) => view,
    };
    let mut not_checked = Vec::new();
    match (&hs, &mas_view) {
        (Some((doc, secret)), Some(view)) => {
            let hs_view = SynapseView {
                doc,
                secret: secret.clone(),
            };
            findings.extend(pairing::pairing(&hs_view, view));
        }
        (Some(_), None) => not_checked.push(
            "the pairing (the secrets equal, matrix.homeserver = server_name, each endpoint \
             at the other program): MAS's config is not here. Where MAS runs elsewhere, pipe \
             its side in: `mas-link secret --bundle | mas-link check --mas-bundle-stdin`"
                .to_owned(),
        ),
        (None, _) => not_checked.push(
            "the pairing (the secrets equal, matrix.homeserver = server_name, each endpoint \
             at the other program): Synapse's homeserver.yaml is not here; run \
             `mas-link secret --bundle | mas-link check --mas-bundle-stdin` where it is"
                .to_owned(),
        ),
    }
    let probes = match a.online {
        true => {
            let targets = online_targets(a, hs.as_ref(), mas_view.as_ref())?;
            let http = online::Http::new(a.insecure, std::time::Duration::from_secs(5));
            let (probes, f) = online::run(&http, &targets);
            findings.extend(f);
            Some(probes)
        }
        false => None,
    };
    for f in &mut findings {
        f.fix = plan::fix_for_files(&f.fix, loaded.0.as_ref(), loaded.1.as_ref());
    }
    findings.sort_by_key(|f| {
        (
            f.severity == Severity::Warning,
            f.file == Source::Mas,
            f.line,
        )
    });
    let name = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let (hs_name, mas_name) = (name(&hs_path), name(&mas_path));
    let mas_name =
        mas_name.or_else(|| a.mas_bundle_stdin.then(|| "(MAS's bundle on stdin)".into()));
    let mut report = CheckReport::new(
        &findings,
        hs_name.as_deref(),
        mas_name.as_deref(),
        probes.as_deref(),
    );
    report.not_checked = not_checked;
    match a.format {
        Format::Json => writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Human => show::write_check(&mut out.out, &report)?,
    }
    Ok(u8::from(!report.ok))
}

/// What a bundle says of MAS's side, for the pairing rules.
fn bundle_view(bundle: Bundle) -> mas::MasView {
    mas::MasView {
        doc: None,
        secret: Some(bundle.secret),
        homeserver: bundle.homeserver,
        endpoint: None,
        public_base: bundle.endpoint,
    }
}

/// Where the online probes go, from the flags and the files.
fn online_targets(
    a: &CheckArgs,
    hs: Option<&(Document, Option<String>)>,
    mas: Option<&mas::MasView>,
) -> Result<online::Targets> {
    let hs_doc = hs.map(|(d, _)| d);
    let hs_str = |path: &[&str]| {
        let v = hs_doc?.value().at(path)?;
        v.as_str().map(str::to_owned)
    };
    let synapse_url = a
        .synapse_url
        .clone()
        .or_else(|| hs_str(&["public_baseurl"]))
        .or_else(|| hs_str(&["server_name"]).map(|n| format!("https://{n}/")))
        .or_else(|| mas.and_then(|m| m.endpoint.clone()))
        .ok_or_else(|| {
            anyhow!("--online needs --synapse-url URL (no Synapse config to take it from)")
        })?;
    let mas_url = a
        .mas_url
        .clone()
        .or_else(|| hs_str(&[MAS, "endpoint"]))
        .or_else(|| mas.and_then(|m| m.public_base.clone()))
        .ok_or_else(|| anyhow!("--online needs --mas-url URL (no config to take it from)"))?;
    for (flag, url) in [("--synapse-url", &synapse_url), ("--mas-url", &mas_url)] {
        check_url(url).map_err(|e| anyhow!("{flag}: {e}"))?;
    }
    let pos = |path: &[&str]| hs_doc.map(|d| d.locate(path)).unwrap_or_default();
    Ok(online::Targets {
        synapse_url,
        mas_url,
        secret: mas
            .and_then(|m| m.secret.clone())
            .or_else(|| hs.and_then(|(_, s)| s.clone())),
        msc4108: hs_doc.is_some_and(|d| {
            d.value()
                .at(&["experimental_features", "msc4108_enabled"])
                .is_some_and(Value::truthy)
        }),
        synapse_pos: pos(&["public_baseurl"]),
        mas_pos: pos(&[MAS]),
    })
}
