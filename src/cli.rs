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
use crate::plan::{Plan, Side, unified_diff};
use crate::synapse::{self, LinkOptions, SecretSetting};
use crate::write::{self, Loaded};
use crate::yaml::{Document, Edited, Options};

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
    Secret(SecretArgs),
    /// Link Synapse to MAS: edit homeserver.yaml, showing the diff first.
    Synapse(SynapseArgs),
    /// Check both files the way Synapse and MAS read them, before anything restarts.
    Check(CheckArgs),
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
}

#[derive(Args, Debug)]
pub struct SecretArgs {
    /// MAS's config.yaml.
    #[arg(long, value_name = "PATH", default_value = mas::DEFAULT_CONFIG)]
    pub mas_config: PathBuf,
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
    /// Read the secret from standard input (trimmed).
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
struct Out {
    out: anstream::AutoStream<std::io::Stdout>,
    err: anstream::AutoStream<std::io::Stderr>,
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

    fn diff(&mut self, diff: &str) -> Result<()> {
        for line in diff.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
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
            writeln!(self.out, "{style}{body}{style:#}")?;
        }
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
        Command::Secret(a) => cmd_secret(&a, out),
        Command::Synapse(a) => cmd_synapse(&a, out),
        Command::Check(a) => cmd_check(&a, out),
    }
}

/// Reads and parses MAS's config, with errors naming the file.
fn load_mas(path: &Path) -> Result<(MasConfig, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = MasConfig::parse(&text).map_err(|e| anyhow!("{}:{e}", path.display()))?;
    Ok((config, text))
}

fn mas_secret(path: &Path) -> Result<String> {
    let (config, text) = load_mas(path)?;
    mas::shared_secret(&config, &text, Path::new(".")).map_err(|e| match e {
        mas::MasError::SecretFile { .. } => anyhow!("{}: {e}", path.display()),
        e => anyhow!("{}:{e}", path.display()),
    })
}

fn cmd_secret(a: &SecretArgs, out: &mut Out) -> Result<u8> {
    let secret = mas_secret(&a.mas_config)?;
    writeln!(out.out, "{secret}")?;
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

/// The secret, from exactly one source; the legacy MSC3861 admin token only when none is given.
fn resolve_secret(a: &SynapseArgs, hs: &Document, out: &mut Out) -> Result<String> {
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
    if let Some(p) = &a.mas_config {
        return mas_secret(p);
    }
    if let Some(p) = &a.secret_file {
        return read_trimmed(p);
    }
    if a.secret_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the secret from standard input")?;
        let s = s.trim();
        if s.is_empty() {
            bail!("standard input held no secret");
        }
        return Ok(s.to_owned());
    }
    if let Some(s) = env {
        return Ok(s.trim().to_owned());
    }
    if let Some(token) = synapse::legacy_admin_token(hs.value()) {
        writeln!(
            out.err,
            "note: using experimental_features.msc3861.admin_token as the shared secret; \
             MAS's matrix.secret must hold the same value"
        )?;
        return Ok(token);
    }
    bail!(
        "no secret given: pass --mas-config PATH (MAS's config.yaml), --secret-file PATH, \
         --secret-stdin, or set MAS_SECRET"
    )
}

fn resolve_endpoint(a: &SynapseArgs) -> Result<String> {
    let env = std::env::var("MAS_ENDPOINT").ok().filter(|s| !s.is_empty());
    let endpoint = match (a.endpoint.clone(), env) {
        (Some(e), _) | (None, Some(e)) => e,
        (None, None) => {
            let from_mas = match &a.mas_config {
                Some(p) => load_mas(p)?.0.http.and_then(|h| h.public_base),
                None => None,
            };
            from_mas.ok_or_else(|| {
                anyhow!(
                    "no MAS endpoint: pass --endpoint URL (where Synapse reaches MAS), set \
                     MAS_ENDPOINT, or give --mas-config with http.public_base"
                )
            })?
        }
    };
    synapse::validate_endpoint(&endpoint).map_err(|e| anyhow!("--endpoint: {e}"))?;
    Ok(endpoint)
}

fn cmd_synapse(a: &SynapseArgs, out: &mut Out) -> Result<u8> {
    let path = &a.synapse_config;
    let loaded = Loaded::read(path)?;
    let doc = Document::from_bytes(&loaded.bytes, Options::PYYAML)
        .map_err(|e| anyhow!("{}:{e}", path.display()))?;
    let secret = resolve_secret(a, &doc, out)?;
    let endpoint = resolve_endpoint(a)?;
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
    refuse_errors_left(&edited.document, path, secret_file.is_some())?;
    show_and_write(
        out,
        &loaded,
        &doc,
        &plan,
        &edited,
        &a.write,
        secret_file.map(|p| (p.as_path(), secret.as_str())),
        "restart Synapse so that it reads the change",
    )
}

/// `check`'s rules on the planned file: mas-link never writes a file in which they find an
/// error. (A `secret_path` file about to be written is taken as written.)
fn refuse_errors_left(planned: &Document, path: &Path, secret_file_pending: bool) -> Result<()> {
    let (findings, _) = synapse::findings(planned, Path::new("."));
    let left: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| !(secret_file_pending && f.key.ends_with("secret_path")))
        .map(|f| check::render_human(f, &path.display().to_string(), ""))
        .collect();
    if left.is_empty() {
        return Ok(());
    }
    bail!(
        "the planned file would still be refused; fix these by hand, then run again. Nothing was written.\n{}",
        left.join("\n")
    )
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
    findings.sort_by_key(|f| {
        (
            f.severity == Severity::Warning,
            f.file == check::Source::Mas,
            f.line,
        )
    });
    let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let (hs_name, mas_name) = (show(&hs_path), show(&mas_path));
    let report = check::Report::new(&findings, hs_name.as_deref(), mas_name.as_deref());
    match a.format {
        Format::Json => writeln!(out.out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Human => {
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

#[allow(clippy::too_many_arguments)]
fn show_and_write(
    out: &mut Out,
    loaded: &Loaded,
    doc: &Document,
    plan: &Plan,
    edited: &Edited,
    w: &WriteArgs,
    secret_file: Option<(&Path, &str)>,
    next_step: &str,
) -> Result<u8> {
    let path = &loaded.path;
    for warning in &edited.warnings {
        writeln!(
            out.err,
            "warning: {}:{}:{}: {}",
            path.display(),
            warning.line,
            warning.col,
            warning.message
        )?;
    }
    for note in &plan.notes {
        writeln!(out.err, "note: {note}")?;
    }
    if plan.is_empty() && secret_file.is_none() {
        writeln!(
            out.out,
            "Nothing to do: {} already has every setting.",
            path.display()
        )?;
        return Ok(0);
    }
    let secret_pred = |p: &[&str]| synapse::is_secret_key(p);
    let (old_mask, new_mask) = if w.show_secrets {
        (Vec::new(), Vec::new())
    } else {
        (
            doc.secret_spans(&secret_pred),
            edited.document.secret_spans(&secret_pred),
        )
    };
    let label = path.display().to_string();
    out.diff(&unified_diff(
        &Side {
            text: doc.text(),
            masked: &old_mask,
        },
        &Side {
            text: edited.text(),
            masked: &new_mask,
        },
        &label,
    ))?;
    writeln!(out.out)?;
    for r in plan.reasons(if w.show_secrets {
        &|_: &[&str]| false
    } else {
        &secret_pred
    }) {
        writeln!(out.out, "  * {r}")?;
    }
    if let Some((p, _)) = secret_file {
        writeln!(
            out.out,
            "  * {}: written with the shared secret, mode 0600",
            p.display()
        )?;
    }
    if w.check {
        writeln!(out.out, "\n{} needs the changes above.", path.display())?;
        return Ok(1);
    }
    if w.dry_run {
        writeln!(out.out, "\nDry run: nothing was written.")?;
        return Ok(0);
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
            return Ok(0);
        }
    }
    if let Some((p, secret)) = secret_file {
        write::write_secret_file(p, secret)?;
    }
    let written = write::replace(loaded, edited.text().as_bytes(), !w.no_backup)?;
    writeln!(out.out, "\nWrote {}.", path.display())?;
    if let Some(b) = &written.backup {
        writeln!(out.out, "Backup: {}", b.display())?;
    }
    writeln!(out.out, "Next: {next_step}.")?;
    Ok(0)
}
