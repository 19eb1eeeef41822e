//! The command line: arguments, output and exit codes over the library's load → plan → show →
//! apply steps. Exit codes: 0 done or nothing to do, 1 `--check` found work, 2 bad input or
//! refusal (nothing written).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::{self, Severity};
use crate::mas::{self, MasConfig};
use crate::online;
use crate::plan::{ChangeReport, Side, unified_diff};
use crate::record;
use crate::synapse::{self, LinkOptions, SecretSetting};
use crate::write::{self, Loaded, Written};
use crate::yaml::{Document, Options, Value, Warning};

#[derive(Parser, Debug)]
#[command(
    name = "mas-link",
    version,
    about = "Pair a Synapse homeserver with the Matrix Authentication Service (MAS)"
)]
pub struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print MAS's shared secret (matrix.secret, or matrix.secret_file's contents) and a newline.
    Secret(Deferred<SecretArgs>),
    /// Link Synapse to MAS: edit homeserver.yaml, showing the diff first.
    Synapse(Deferred<SynapseArgs>),
    /// Point MAS's `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none).
    Mas(Deferred<MasArgs>),
    /// Check both files the way Synapse and MAS read them, before anything restarts.
    Check(Deferred<CheckArgs>),
    /// Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back.
    Unlink(Deferred<UnlinkArgs>),
    /// Guided set-up: finds the files here, asks only what it cannot find, shows the diff.
    Wizard(Deferred<crate::wizard::WizardArgs>),
    /// Print shell completions (or the man page) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// A subcommand's arguments, built only when that subcommand runs (clap's `Command::defer`;
/// completions and the man page build them all): building every subcommand's arguments at
/// each start is work for the ones not run.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: clap::FromArgMatches> clap::FromArgMatches for Deferred<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(m).map(Deferred)
    }
    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(m).map(Deferred)
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
    fn update_from_arg_matches_mut(&mut self, m: &mut clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(m)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
    /// The man page (roff), for `man -l -`.
    Man,
}

impl Shell {
    pub const ALL: [Shell; 6] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::Powershell,
        Shell::Man,
    ];

    /// The file under completions/ that holds this output.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "mas-link.bash",
            Shell::Zsh => "_mas-link",
            Shell::Fish => "mas-link.fish",
            Shell::Elvish => "mas-link.elv",
            Shell::Powershell => "_mas-link.ps1",
            Shell::Man => "mas-link.1",
        }
    }

    /// The completion script (or man page) for this shell.
    pub fn render(self) -> Vec<u8> {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let mut out = Vec::new();
        let shell = match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Elvish => clap_complete::Shell::Elvish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
            Shell::Man => {
                clap_mangen::Man::new(cmd)
                    .render(&mut out)
                    .expect("writing to memory");
                return out;
            }
        };
        clap_complete::generate(shell, &mut cmd, "mas-link", &mut out);
        out
    }
}

#[derive(Args, Debug)]
pub struct MasArgs {
    /// MAS's config.yaml.
    #[arg(long, value_name = "PATH", default_value = mas::DEFAULT_CONFIG)]
    pub mas_config: PathBuf,
    /// Synapse's server_name [env: MATRIX_HOMESERVER_DOMAIN; default: --synapse-config's].
    #[arg(long, value_name = "NAME")]
    pub homeserver: Option<String>,
    /// Synapse's homeserver.yaml, when both files are on this host.
    #[arg(long, value_name = "PATH")]
    pub synapse_config: Option<PathBuf>,
    /// Where MAS reaches Synapse [default: the Synapse file's public_baseurl, or https://NAME/].
    #[arg(long, value_name = "URL")]
    pub synapse_endpoint: Option<String>,
    /// matrix.kind [default: synapse; an existing valid kind is kept].
    #[arg(long, value_name = "KIND", value_parser = clap::builder::PossibleValuesParser::new(mas::KINDS))]
    pub kind: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Args, Debug)]
pub struct UnlinkArgs {
    /// Synapse's homeserver.yaml.
    #[arg(long, value_name = "PATH", default_value = synapse::DEFAULT_CONFIG)]
    pub synapse_config: PathBuf,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Synapse's homeserver.yaml [default: /app/data/configs/homeserver.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub synapse_config: Option<PathBuf>,
    /// MAS's config.yaml [default: /app/data/config.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Option<PathBuf>,
    /// Output format; json is documented in README (format_version 1).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also probe the running services: Synapse, MAS, the shared secret, QR-code login.
    #[arg(long)]
    pub online: bool,
    /// Where to reach Synapse [default: its public_baseurl, or https://SERVER_NAME/].
    #[arg(long, value_name = "URL", requires = "online")]
    pub synapse_url: Option<String>,
    /// Where to reach MAS [default: Synapse's matrix_authentication_service.endpoint].
    #[arg(long, value_name = "URL", requires = "online")]
    pub mas_url: Option<String>,
    /// Accept any TLS certificate (only for testing).
    #[arg(long, requires = "online")]
    pub insecure: bool,
}

#[derive(Args, Debug)]
pub struct SecretArgs {
    /// MAS's config.yaml.
    #[arg(long, value_name = "PATH", default_value = mas::DEFAULT_CONFIG)]
    pub mas_config: PathBuf,
    /// Print a pairing bundle instead: endpoint, homeserver and secret on one line, which
    /// `mas-link synapse --secret-stdin` reads.
    #[arg(long)]
    pub bundle: bool,
}

#[derive(Args, Debug)]
pub struct WriteArgs {
    /// Show the diff and write nothing (exit 0).
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Write nothing; exit 0 when nothing needs to change, 1 when something does.
    #[arg(long)]
    pub check: bool,
    /// Write without asking.
    #[arg(short, long)]
    pub yes: bool,
    /// Show secrets in diffs instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Do not keep a timestamped backup beside the file.
    #[arg(long)]
    pub no_backup: bool,
    /// Output format; json (documented in README) needs --yes, --dry-run or --check.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("source").multiple(false))]
pub struct SynapseArgs {
    /// Synapse's homeserver.yaml.
    #[arg(long, value_name = "PATH", default_value = synapse::DEFAULT_CONFIG)]
    pub synapse_config: PathBuf,
    /// Take the secret (and the default endpoint) from MAS's config.yaml.
    #[arg(long, value_name = "PATH", group = "source")]
    pub mas_config: Option<PathBuf>,
    /// Read the secret from a file (trimmed).
    #[arg(long, value_name = "PATH", group = "source")]
    pub secret_file: Option<PathBuf>,
    /// Read the secret (or a `mas-link secret --bundle` line) from standard input.
    #[arg(long, group = "source")]
    pub secret_stdin: bool,
    /// Where Synapse reaches MAS [env: MAS_ENDPOINT; default: MAS's http.public_base].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Write `secret_path: PATH` instead of an inline secret (PATH written with mode 0600).
    #[arg(long, value_name = "PATH")]
    pub secret_path: Option<PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Where output goes, coloured or not as the terminal and `--color` allow.
pub(crate) struct Out {
    pub(crate) out: anstream::AutoStream<std::io::Stdout>,
    pub(crate) err: anstream::AutoStream<std::io::Stderr>,
}

impl Out {
    fn new(color: Color) -> Out {
        let choice = match color {
            Color::Auto => anstream::ColorChoice::Auto,
            Color::Always => anstream::ColorChoice::Always,
            Color::Never => anstream::ColorChoice::Never,
        };
        Out {
            out: anstream::AutoStream::new(std::io::stdout(), choice),
            err: anstream::AutoStream::new(std::io::stderr(), choice),
        }
    }

    /// Shows a diff, coloured, in one write (stdout is line-buffered: a large diff would
    /// otherwise cost a system call per line).
    fn diff(&mut self, diff: &str) -> Result<()> {
        use std::fmt::Write as _;
        // Uncoloured, no styles at all: the stream would strip them, writing each piece apart.
        let colored = self.out.current_choice() != anstream::ColorChoice::Never;
        let mut shown = String::with_capacity(diff.len() + diff.len() / 4);
        for line in diff.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            if !colored {
                shown.push_str(body);
                shown.push('\n');
                continue;
            }
            let style = if body.starts_with("+++") || body.starts_with("---") {
                Style::new().bold()
            } else if body.starts_with('+') {
                AnsiColor::Green.on_default()
            } else if body.starts_with('-') {
                AnsiColor::Red.on_default()
            } else if body.starts_with("@@") {
                AnsiColor::Cyan.on_default()
            } else {
                Style::new()
            };
            writeln!(shown, "{style}{body}{style:#}")?;
        }
        self.out.write_all(shown.as_bytes())?;
        Ok(())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = Out::new(cli.color);
    match run(cli, &mut out) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let red = AnsiColor::Red.on_default().bold();
            let _ = writeln!(out.err, "{red}mas-link: error:{red:#} {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli, out: &mut Out) -> Result<u8> {
    match cli.command {
        Command::Secret(a) => cmd_secret(&a.0, out),
        Command::Synapse(a) => cmd_synapse(&a.0, out),
        Command::Mas(a) => cmd_mas(&a.0, out),
        Command::Check(a) => cmd_check(&a.0, out),
        Command::Unlink(a) => cmd_unlink(&a.0, out),
        Command::Wizard(a) => crate::wizard::run(&a.0, out),
        Command::Completions { shell } => {
            out.out.write_all(&shell.render())?;
            Ok(0)
        }
    }
}

/// Reads and parses MAS's config, with errors naming the file.
fn load_mas(path: &Path) -> Result<(MasConfig, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = MasConfig::parse(&text).map_err(|e| anyhow!("{}:{e}", path.display()))?;
    Ok((config, text))
}

/// What MAS's config says of the pairing: its secret, public URL and homeserver, read once.
fn mas_bundle(path: &Path) -> Result<mas::Bundle> {
    let (config, text) = load_mas(path)?;
    let secret = mas::shared_secret(&config, &text, Path::new(".")).map_err(|e| match e {
        mas::MasError::SecretFile { .. } => anyhow!("{}: {e}", path.display()),
        e => anyhow!("{}:{e}", path.display()),
    })?;
    Ok(mas::Bundle {
        endpoint: config.http.and_then(|h| h.public_base),
        homeserver: config.matrix.and_then(|m| m.homeserver),
        secret,
    })
}

fn cmd_secret(a: &SecretArgs, out: &mut Out) -> Result<u8> {
    let bundle = mas_bundle(&a.mas_config)?;
    if a.bundle {
        writeln!(out.out, "{}", bundle.to_line())?;
    } else {
        writeln!(out.out, "{}", bundle.secret)?;
    }
    Ok(0)
}

fn read_trimmed(path: &Path) -> Result<String> {
    let s = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let s = s.trim().to_owned();
    if s.is_empty() {
        bail!(
            "{} is empty: it should hold the secret shared with MAS",
            path.display()
        );
    }
    Ok(s)
}

/// The lock a writing run holds from before it reads the file until it exits.
fn lock_for(w: &WriteArgs, path: &Path, what: &str) -> Result<Option<write::Lock>> {
    if w.dry_run || w.check {
        return Ok(None);
    }
    let target =
        std::fs::canonicalize(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(write::Lock::acquire(&target, what)?))
}

/// Loads a YAML file for editing, with errors naming it.
fn load_yaml(path: &Path, options: Options) -> Result<(Loaded, Document)> {
    let (loaded, bytes) = Loaded::read(path)?;
    let doc = Document::from_vec(bytes, options).map_err(|e| anyhow!("{}:{e}", path.display()))?;
    Ok((loaded, doc))
}

/// The secret, from exactly one source (a bundle on stdin brings the endpoint too); the
/// legacy MSC3861 admin token only when none is given.
fn resolve_secret(a: &SynapseArgs, hs: &Document, out: &mut Out) -> Result<mas::Bundle> {
    let env = std::env::var("MAS_SECRET").ok().filter(|s| !s.is_empty());
    let given = [
        a.mas_config.is_some(),
        a.secret_file.is_some(),
        a.secret_stdin,
        env.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        bail!(
            "give the secret one way only: --mas-config, --secret-file, --secret-stdin or MAS_SECRET"
        );
    }
    let bare = |secret: String| mas::Bundle {
        secret,
        ..Default::default()
    };
    if let Some(p) = &a.mas_config {
        return mas_bundle(p);
    }
    if let Some(p) = &a.secret_file {
        return Ok(bare(read_trimmed(p)?));
    }
    if a.secret_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the secret from standard input")?;
        if let Some(bundle) = mas::Bundle::parse(&s) {
            return Ok(bundle);
        }
        let s = s.trim();
        if s.is_empty() {
            bail!("standard input held no secret");
        }
        return Ok(bare(s.to_owned()));
    }
    if let Some(s) = env {
        return Ok(bare(s.trim().to_owned()));
    }
    if let Some(token) = synapse::legacy_admin_token(hs.value()) {
        writeln!(
            out.err,
            "note: using experimental_features.msc3861.admin_token as the shared secret; \
             MAS's matrix.secret must hold the same value"
        )?;
        return Ok(bare(token));
    }
    bail!(
        "no secret given: pass --mas-config PATH (MAS's config.yaml), --secret-file PATH, \
         --secret-stdin, or set MAS_SECRET"
    )
}

/// The endpoint: --endpoint, MAS_ENDPOINT, or what the MAS side says (its config or bundle).
fn resolve_endpoint(a: &SynapseArgs, bundle: &mas::Bundle) -> Result<String> {
    let env = std::env::var("MAS_ENDPOINT").ok().filter(|s| !s.is_empty());
    let endpoint = match (a.endpoint.clone(), env, bundle.endpoint.clone()) {
        (Some(e), _, _) | (None, Some(e), _) | (None, None, Some(e)) => e,
        (None, None, None) => bail!(
            "no MAS endpoint: pass --endpoint URL (where Synapse reaches MAS), set \
             MAS_ENDPOINT, or give --mas-config with http.public_base"
        ),
    };
    synapse::validate_endpoint(&endpoint).map_err(|e| anyhow!("--endpoint: {e}"))?;
    Ok(endpoint)
}

fn cmd_synapse(a: &SynapseArgs, out: &mut Out) -> Result<u8> {
    let lock = lock_for(&a.write, &a.synapse_config, "synapse")?;
    let (loaded, doc) = load_yaml(&a.synapse_config, Options::PYYAML)?;
    let bundle = resolve_secret(a, &doc, out)?;
    link_loaded(a, &bundle, loaded, doc, lock, out)
}

/// Debian's layout: files in `conf.d/` beside homeserver.yaml load after it, and each replaces
/// whole top-level keys. Names those that would override what mas-link writes.
fn conf_d_overrides(config: &Path) -> Vec<String> {
    let Some(dir) = config.parent().map(|d| d.join("conf.d")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let keys = [
        synapse::MAS,
        "password_config",
        "enable_registration",
        "experimental_features",
    ];
    let mut out = Vec::new();
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let Ok(doc) = Document::from_bytes(&bytes, Options::PYYAML) else {
            continue;
        };
        for k in keys {
            if doc.value().get(k).is_some() {
                out.push(format!(
                    "{} sets `{k}`, which replaces this file's `{k}` when Synapse loads conf.d: edit that file instead (--synapse-config {})",
                    f.display(),
                    f.display()
                ));
            }
        }
    }
    out
}

/// `mas-link synapse` once the secret (and maybe the endpoint) is known.
pub(crate) fn link_synapse(a: &SynapseArgs, bundle: &mas::Bundle, out: &mut Out) -> Result<u8> {
    let lock = lock_for(&a.write, &a.synapse_config, "synapse")?;
    let (loaded, doc) = load_yaml(&a.synapse_config, Options::PYYAML)?;
    link_loaded(a, bundle, loaded, doc, lock, out)
}

/// The link on a file already read (under `_lock` when it will be written).
fn link_loaded(
    a: &SynapseArgs,
    bundle: &mas::Bundle,
    loaded: Loaded,
    doc: Document,
    _lock: Option<write::Lock>,
    out: &mut Out,
) -> Result<u8> {
    let path = &a.synapse_config;
    for warning in conf_d_overrides(&loaded.target) {
        writeln!(out.err, "warning: {warning}")?;
    }
    let endpoint = resolve_endpoint(a, bundle)?;
    let secret = bundle.secret.clone();
    if let (Some(hs), Some(name)) = (
        &bundle.homeserver,
        doc.value().get("server_name").and_then(Value::as_str),
    ) && hs != name
    {
        writeln!(
            out.err,
            "warning: MAS's matrix.homeserver is `{hs}` but this Synapse's server_name is `{name}`; \
             fix MAS with `mas-link mas --homeserver {name}`"
        )?;
    }
    let setting = match &a.secret_path {
        Some(p) => SecretSetting::Path(p.to_string_lossy().into_owned()),
        None => SecretSetting::Inline(secret.clone()),
    };
    let plan = synapse::plan_link(&doc, &LinkOptions { endpoint, secret: setting }).map_err(|refused| {
        let lines: Vec<String> = refused
            .iter()
            .map(|r| format!("  {}:{}:{}: `{}`: {}", path.display(), r.pos.line, r.pos.col, r.key, r.message))
            .collect();
        anyhow!(
            "Synapse would refuse to start with MAS while these settings stay; change them by hand, \
             then run again. Nothing was written.\n{}",
            lines.join("\n")
        )
    })?;
    let edited = plan
        .apply(&doc)
        .map_err(|e| anyhow!("{}:{e}", path.display()))?;
    let secret_file = a
        .secret_path
        .as_ref()
        .filter(|p| std::fs::read_to_string(p).map_or(true, |s| s.trim() != secret));
    let findings = refuse_synapse_errors(&edited.document, path, secret_file.is_some(), false)?;
    let earlier = record::load(&loaded.target);
    let make_record = |backup: Option<&Path>| {
        let record = record::Record {
            format_version: record::FORMAT_VERSION,
            written_hash: Some(record::written_hash(edited.text().as_bytes())),
            written_fnv1a64: None,
            backup: backup
                .map(Path::to_path_buf)
                .or_else(|| earlier.as_ref().and_then(|r| r.backup.clone())),
            changes: record::before_plan(&doc, &plan, earlier.as_ref()),
        };
        (record::path_for(&loaded.target), record::encode(&record))
    };
    let proposal = Proposal {
        loaded: &loaded,
        before: &doc,
        after: &edited.document,
        splices: edited.splices.as_deref(),
        changes: plan.describe(&doc, &synapse::is_secret_key),
        notes: &plan.notes,
        warnings: &edited.warnings,
        is_secret: &synapse::is_secret_key,
        findings,
        secret_file: secret_file.map(|p| (p.as_path(), secret.as_str())),
        next_step: "restart Synapse so that it reads the change; undo with `mas-link unlink`",
        record: Some(&make_record),
    };
    let (code, _) = show_and_write(out, &proposal, &a.write)?;
    // The process ends next and the system takes its memory back at once; freeing both trees
    // and their meanings node by node would be a tenth of a large file's run.
    std::mem::forget((doc, edited));
    Ok(code)
}

fn cmd_unlink(a: &UnlinkArgs, out: &mut Out) -> Result<u8> {
    let path = &a.synapse_config;
    let _lock = lock_for(&a.write, path, "unlink")?;
    let (loaded, doc) = load_yaml(path, Options::PYYAML)?;
    let record = record::load(&loaded.target);
    // Untouched since `synapse` wrote it: its backup is the file as it was.
    let restorable_backup = record.as_ref().and_then(|r| {
        let backup = r.backup.as_ref()?;
        r.wrote(doc.text().as_bytes()).then_some(())?;
        let bytes = std::fs::read(backup).ok()?;
        let old = Document::from_bytes(&bytes, Options::PYYAML).ok()?;
        let (findings, _) = synapse::findings(&old, Path::new("."));
        let clean = !findings
            .iter()
            .any(|f| matches!(f.effect, check::Effect::Refuses | check::Effect::Breaks));
        clean.then_some((backup.clone(), old))
    });
    let (after, changes, notes, warnings, splices) = match restorable_backup {
        Some((backup, old)) => (
            old,
            vec![ChangeReport {
                path: String::new(),
                before: None,
                after: None,
                reason: format!(
                    "the file is as `mas-link synapse` wrote it: its backup {} is restored",
                    backup.display()
                ),
            }],
            Vec::new(),
            Vec::new(),
            None,
        ),
        None => {
            let plan = synapse::plan_unlink(&doc, record.as_ref());
            let edited = plan
                .apply(&doc)
                .map_err(|e| anyhow!("{}:{e}", path.display()))?;
            (
                edited.document,
                plan.describe(&doc, &synapse::is_secret_key),
                plan.notes,
                edited.warnings,
                edited.splices,
            )
        }
    };
    let findings = refuse_synapse_errors(&after, path, false, true)?;
    let proposal = Proposal {
        loaded: &loaded,
        before: &doc,
        after: &after,
        splices: splices.as_deref(),
        changes,
        notes: &notes,
        warnings: &warnings,
        is_secret: &synapse::is_secret_key,
        findings,
        secret_file: None,
        next_step: "restart Synapse; relink with `mas-link synapse`",
        record: None,
    };
    let (code, written) = show_and_write(out, &proposal, &a.write)?;
    if written.is_some() {
        let _ = std::fs::remove_file(record::path_for(&loaded.target));
    }
    Ok(code)
}

pub(crate) fn cmd_mas(a: &MasArgs, out: &mut Out) -> Result<u8> {
    let path = &a.mas_config;
    let _lock = lock_for(&a.write, path, "mas")?;
    let (loaded, doc) = load_yaml(path, Options::SERDE_YAML)?;
    let synapse_doc = match &a.synapse_config {
        Some(p) => Some(load_yaml(p, Options::PYYAML)?.1),
        None => None,
    };
    let from_synapse = |key: &str| {
        synapse_doc.as_ref().and_then(|d| {
            d.value()
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    let env = std::env::var("MATRIX_HOMESERVER_DOMAIN")
        .ok()
        .filter(|s| !s.is_empty());
    let homeserver = a
        .homeserver
        .clone()
        .or(env)
        .or_else(|| from_synapse("server_name"))
        .ok_or_else(|| {
            anyhow!(
                "no homeserver name: pass --homeserver NAME (Synapse's server_name), set \
                 MATRIX_HOMESERVER_DOMAIN, or give --synapse-config PATH"
            )
        })?;
    if homeserver.contains('/') || homeserver.is_empty() {
        bail!("--homeserver: `{homeserver}` is not a server name (e.g. example.com)");
    }
    let mut endpoint = a
        .synapse_endpoint
        .clone()
        .or_else(|| from_synapse("public_baseurl"))
        .unwrap_or_else(|| format!("https://{homeserver}/"));
    synapse::validate_endpoint(&endpoint).map_err(|e| anyhow!("--synapse-endpoint: {e}"))?;
    // MAS joins relative paths to it: a path prefix needs its trailing slash.
    if !endpoint.ends_with('/') {
        endpoint.push('/');
    }
    let opts = mas::MatrixOptions {
        homeserver,
        endpoint,
        kind: a.kind.clone(),
    };
    let mut generated = None;
    let plan = mas::plan_matrix(&doc, &opts, || {
        let s = mas::generate_secret().unwrap_or_default();
        generated = Some(s.clone());
        s
    });
    if generated.as_deref() == Some("") {
        bail!("could not read the OS's randomness (/dev/urandom) to generate a secret");
    }
    let edited = plan
        .apply(&doc)
        .map_err(|e| anyhow!("{}:{e}", path.display()))?;
    let (_, findings) = mas::findings(edited.text(), Path::new("."))
        .map_err(|e| anyhow!("{}:{e}", path.display()))?;
    let left: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| check::render_human(f, "", &path.display().to_string()))
        .collect();
    if !left.is_empty() {
        bail!(
            "the planned file would still be refused; fix these by hand, then run again. Nothing was written.\n{}",
            left.join("\n")
        );
    }
    let proposal = Proposal {
        loaded: &loaded,
        before: &doc,
        after: &edited.document,
        splices: edited.splices.as_deref(),
        changes: plan.describe(&doc, &mas::is_secret_key),
        notes: &plan.notes,
        warnings: &edited.warnings,
        is_secret: &mas::is_secret_key,
        findings,
        secret_file: None,
        next_step: "restart MAS; give Synapse the same secret with \
                    `mas-link secret | mas-link synapse --secret-stdin --yes`",
        record: None,
    };
    Ok(show_and_write(out, &proposal, &a.write)?.0)
}

/// `check`'s rules on the planned file: mas-link never writes a file in which they find an
/// error. (A `secret_path` file about to be written is taken as written; after `unlink`, "not
/// linked" is the point.) Returns the findings, for the report.
fn refuse_synapse_errors(
    planned: &Document,
    path: &Path,
    secret_file_pending: bool,
    unlinking: bool,
) -> Result<Vec<check::Finding>> {
    let (findings, _) = synapse::findings(planned, Path::new("."));
    let left: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| !(secret_file_pending && f.key.ends_with("secret_path")))
        .filter(|f| !(unlinking && f.effect == check::Effect::NotLinked))
        .map(|f| check::render_human(f, &path.display().to_string(), ""))
        .collect();
    if left.is_empty() {
        return Ok(findings);
    }
    bail!(
        "the planned file would still be refused; fix these by hand, then run again. Nothing was written.\n{}",
        left.join("\n")
    )
}

/// Where the online probes go, from the flags and the files.
fn online_targets(
    a: &CheckArgs,
    hs: Option<&(Document, Option<String>)>,
    mas: Option<&mas::MasView>,
) -> Result<online::Targets> {
    let hs_doc = hs.map(|(d, _)| d);
    let hs_str = |path: &[&str]| {
        hs_doc.and_then(|d| {
            d.value()
                .at(path)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
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
        .or_else(|| hs_str(&["matrix_authentication_service", "endpoint"]))
        .or_else(|| mas.and_then(|m| m.public_base.clone()))
        .ok_or_else(|| anyhow!("--online needs --mas-url URL (no config to take it from)"))?;
    for (flag, url) in [("--synapse-url", &synapse_url), ("--mas-url", &mas_url)] {
        synapse::validate_endpoint(url).map_err(|e| anyhow!("{flag}: {e}"))?;
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
        mas_pos: pos(&[synapse::MAS]),
    })
}

fn cmd_check(a: &CheckArgs, out: &mut Out) -> Result<u8> {
    let pick = |given: &Option<PathBuf>, default: &str| match given {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(default)).filter(|p| p.exists()),
    };
    let hs_path = pick(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas_path = pick(&a.mas_config, mas::DEFAULT_CONFIG);
    if hs_path.is_none() && mas_path.is_none() {
        bail!(
            "no configuration found at {} or {}: pass --synapse-config PATH and/or --mas-config PATH",
            synapse::DEFAULT_CONFIG,
            mas::DEFAULT_CONFIG
        );
    }
    let cwd = Path::new(".");
    let mut findings = Vec::new();
    let hs = match &hs_path {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let doc = Document::from_bytes(&bytes, Options::PYYAML)
                .map_err(|e| anyhow!("{}:{e}", p.display()))?;
            let (f, secret) = synapse::findings(&doc, cwd);
            findings.extend(f);
            Some((doc, secret))
        }
        None => None,
    };
    let mas_view = match &mas_path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let (view, f) =
                mas::findings(&text, cwd).map_err(|e| anyhow!("{}:{e}", p.display()))?;
            findings.extend(f);
            Some(view)
        }
        None => None,
    };
    if let (Some((doc, secret)), Some(view)) = (&hs, &mas_view) {
        let hs_view = check::SynapseView {
            doc,
            secret: secret.clone(),
        };
        findings.extend(check::pairing(&hs_view, view));
    }
    let probes = if a.online {
        let targets = online_targets(a, hs.as_ref(), mas_view.as_ref())?;
        let http = online::Http::new(a.insecure, std::time::Duration::from_secs(5));
        let (probes, f) = online::run(&http, &targets);
        findings.extend(f);
        Some(probes)
    } else {
        None
    };
    findings.sort_by_key(|f| {
        (
            f.severity == Severity::Warning,
            f.file == check::Source::Mas,
            f.line,
        )
    });
    let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let (hs_name, mas_name) = (show(&hs_path), show(&mas_path));
    let mut report = check::Report::new(&findings, hs_name.as_deref(), mas_name.as_deref());
    report.probes = probes.as_deref();
    match a.format {
        Format::Json => writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Human => {
            for p in probes.iter().flatten() {
                let (style, word) = if p.ok {
                    (AnsiColor::Green.on_default(), "ok  ")
                } else {
                    (AnsiColor::Red.on_default(), "FAIL")
                };
                let status = p.status.map_or("no answer".to_owned(), |s| s.to_string());
                writeln!(
                    out.out,
                    "online {style}{word}{style:#} {:<16} {} ({status})",
                    p.name, p.url
                )?;
            }
            for f in &findings {
                let style = match f.severity {
                    Severity::Error => AnsiColor::Red.on_default().bold(),
                    Severity::Warning => AnsiColor::Yellow.on_default(),
                };
                let text = check::render_human(
                    f,
                    hs_name.as_deref().unwrap_or(""),
                    mas_name.as_deref().unwrap_or(""),
                );
                let (head, rest) = text.split_once(':').unwrap_or((&text, ""));
                writeln!(out.out, "{style}{head}{style:#}:{rest}")?;
            }
            let checked: Vec<&str> = [hs_name.as_deref(), mas_name.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            writeln!(
                out.out,
                "{}: {} error(s), {} warning(s) in {}",
                if report.ok { "OK" } else { "FAILED" },
                report.errors,
                report.warnings,
                checked.join(" and ")
            )?;
        }
    }
    Ok(if report.ok { 0 } else { 1 })
}

/// A change ready to show and write: the file before and after, and why.
struct Proposal<'a> {
    loaded: &'a Loaded,
    before: &'a Document,
    after: &'a Document,
    /// Where `after` differs from `before`, when known (the diff looks only there).
    splices: Option<&'a [crate::yaml::Splice]>,
    changes: Vec<ChangeReport>,
    notes: &'a [String],
    warnings: &'a [Warning],
    is_secret: &'a dyn Fn(&[&str]) -> bool,
    /// `check`'s findings on the file as it will be.
    findings: Vec<check::Finding>,
    secret_file: Option<(&'a Path, &'a str)>,
    next_step: &'a str,
    /// The record to keep beside the file when it is written.
    record: Option<write::Sidecar<'a>>,
}

/// The JSON report of `synapse`, `mas` and `unlink` (see README), for Ansible's `changed_when`.
#[derive(serde::Serialize)]
struct WriteReport<'a> {
    format_version: u32,
    file: String,
    changed: bool,
    written: bool,
    changes: &'a [ChangeReport],
    backup: Option<&'a Path>,
    findings: &'a [check::Finding],
}

/// Shows the diff and the reasons (or the JSON report), then writes when asked to. Returns the
/// exit code and what was written.
fn show_and_write(out: &mut Out, p: &Proposal, w: &WriteArgs) -> Result<(u8, Option<Written>)> {
    let json = matches!(w.format, Format::Json);
    let changed = p.before.text() != p.after.text() || p.secret_file.is_some();

    if json {
        if changed && !(w.yes || w.dry_run || w.check) {
            bail!("--format json needs --yes, --dry-run or --check: it never asks");
        }
        let written = if changed && w.yes && !w.dry_run && !w.check {
            Some(write_proposal(p, w)?)
        } else {
            None
        };
        let report = WriteReport {
            format_version: check::FORMAT_VERSION,
            file: p.loaded.path.display().to_string(),
            changed,
            written: written.is_some(),
            changes: if changed { &p.changes } else { &[] },
            backup: written.as_ref().and_then(|w| w.backup.as_deref()),
            findings: &p.findings,
        };
        writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?;
        let code = if w.check && changed { 1 } else { 0 };
        return Ok((code, written));
    }
    let path = &p.loaded.path;
    for warning in p.warnings {
        writeln!(
            out.err,
            "warning: {}:{}:{}: {}",
            path.display(),
            warning.line,
            warning.col,
            warning.message
        )?;
    }
    for note in p.notes {
        writeln!(out.err, "note: {note}")?;
    }
    if !changed {
        writeln!(
            out.out,
            "Nothing to do: {} already has every setting.",
            path.display()
        )?;
        return Ok((0, None));
    }
    // Writing without asking: the new file starts on its way to disk while the diff is worked
    // out and shown, so that the sync before the rename has little left to wait for. A failure
    // here is reported after the diff, as when nothing was staged.
    let staged = (w.yes && !w.check && !w.dry_run).then(|| stage_proposal(p, w));
    let mask = |doc: &Document, window: std::ops::Range<usize>| {
        if w.show_secrets {
            Vec::new()
        } else {
            doc.secret_spans(p.is_secret, window)
        }
    };
    let (old_mask, new_mask) = (|r| mask(p.before, r), |r| mask(p.after, r));
    let label = path.display().to_string();
    out.diff(&unified_diff(
        &Side {
            text: p.before.text(),
            masked: &old_mask,
        },
        &Side {
            text: p.after.text(),
            masked: &new_mask,
        },
        &label,
        p.splices,
    ))?;
    let mut list = String::from("\n");
    for c in &p.changes {
        list.push_str(&format!("  * {}\n", c.line()));
    }
    if let Some((f, _)) = p.secret_file {
        list.push_str(&format!(
            "  * {}: written with the shared secret, mode 0600\n",
            f.display()
        ));
    }
    out.out.write_all(list.as_bytes())?;
    if w.check {
        writeln!(out.out, "\n{} needs the changes above.", path.display())?;
        return Ok((1, None));
    }
    if w.dry_run {
        writeln!(out.out, "\nDry run: nothing was written.")?;
        return Ok((0, None));
    }
    if !w.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "not writing without confirmation: standard input is not a terminal. Pass --yes to write, or --dry-run to only show the diff"
            );
        }
        write!(
            out.err,
            "\nWrite these changes to {}? [y/N] ",
            path.display()
        )?;
        out.err.flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            writeln!(out.out, "Nothing was written.")?;
            return Ok((0, None));
        }
    }
    let written = match staged {
        Some(staged) => staged?.commit()?,
        None => write_proposal(p, w)?,
    };
    let mut done = format!("\nWrote {}.\n", path.display());
    if let Some(b) = &written.backup {
        done.push_str(&format!("Backup: {}\n", b.display()));
    }
    done.push_str(&format!("Next: {}.\n", p.next_step));
    out.out.write_all(done.as_bytes())?;
    Ok((0, Some(written)))
}

fn write_proposal(p: &Proposal, w: &WriteArgs) -> Result<Written> {
    Ok(stage_proposal(p, w)?.commit()?)
}

/// Writes the secret file, if any, and stages the replacement (see [`write::stage`]).
fn stage_proposal<'a>(p: &Proposal<'a>, w: &WriteArgs) -> Result<write::Staged<'a>> {
    if let Some((f, secret)) = p.secret_file {
        write::write_secret_file(f, secret)?;
    }
    // `before` is the file as read: the bytes to back up, and to find unchanged at the write.
    Ok(write::stage(
        p.loaded,
        p.before.text().as_bytes(),
        p.after.text().as_bytes(),
        !w.no_backup,
        p.record,
    )?)
}
