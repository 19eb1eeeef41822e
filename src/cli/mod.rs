//! The command line: each command resolves its flags, environment and defaults once, calls
//! the library (files → plan → show/apply), and returns an exit code: 0 done or nothing to
//! do, 1 `--check` found work (or `check` found errors), 2 bad input or a refusal (nothing
//! written).

mod args;
mod commands;
mod man;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstyle::AnsiColor;
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

pub use args::{
    CheckArgs, Cli, Color, Command, Format, MasArgs, MigrateArgs, SecretArgs, Shell, SsoArgs,
    SynapseArgs, SynapseFiles, UnlinkArgs, WizardArgs, WriteArgs, subcommand_man_pages,
};

use crate::apply::{self, Lock};
use crate::database;
use crate::files;
use crate::findings::Source;
use crate::loader;
use crate::mas_cli;
use crate::plan::{self, Backup, LinkRequest, Proposal};
use crate::rules::mas::{self, Bundle, MatrixOptions};
use crate::rules::names::{check_server_name, check_url, with_slash};
use crate::rules::record::Record;
use crate::rules::sso;
use crate::rules::synapse;
use crate::rules::users;
use crate::settings;
use crate::show::{self, Out, WriteReport};
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
    let json = cli.command.json();
    if cli.command.prints_secrets() {
        out.reveal();
    }
    match run(cli.command, &mut out) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output stopped early (`secret --bundle | synapse` refused): its
        // own message says why; ours would only add noise. ripgrep ends the same way.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let red = AnsiColor::Red.on_default().bold();
            let _ = writeln!(out.err, "{red}mas-link: error:{red:#} {e:#}");
            // Whoever asked for JSON reads standard output: the error is there too.
            if json {
                let report = show::ErrorReport::new(format!("{e:#}"), place(&e));
                if let Ok(text) = serde_json::to_string_pretty(&report) {
                    let _ = writeln!(out.out, "{text}");
                }
            }
            ExitCode::from(2)
        }
    }
}

/// Where an error is, when it is in a file: the file, and the line and column when known.
fn place(e: &anyhow::Error) -> Option<show::Place> {
    use crate::check::CheckError;
    use crate::files::ReadError;
    let at = |file: &dyn std::fmt::Display, line, column| show::Place {
        file: file.to_string(),
        line,
        column,
    };
    let of_read = |r: &ReadError| match r {
        ReadError::Yaml { path, error } => {
            Some(at(&path.display(), Some(error.line), Some(error.col)))
        }
        ReadError::Mas(mas::MasError::Parse {
            file, line, col, ..
        }) => Some(at(file, Some(*line), Some(*col))),
        ReadError::Io { path, .. }
        | ReadError::TooLarge { path, .. }
        | ReadError::NotRegular { path }
        | ReadError::EmptyFolder { path }
        | ReadError::EmptySecret { path } => Some(at(&path.display(), None, None)),
        ReadError::WrongFile { path, .. } => Some(at(path, None, None)),
        ReadError::NotOwners(n) => Some(at(&n.config, None, None)),
        ReadError::Mas(_) | ReadError::Rights(_) => None,
    };
    e.chain().find_map(|c| {
        if let Some(r) = c.downcast_ref::<ReadError>() {
            return of_read(r);
        }
        if let Some(CheckError::Read(r)) = c.downcast_ref::<CheckError>() {
            return of_read(r);
        }
        match c.downcast_ref::<plan::PlanError>()? {
            plan::PlanError::Yaml { path, error } => {
                Some(at(path, Some(error.line), Some(error.col)))
            }
            plan::PlanError::WrongFile { path, .. } => Some(at(path, None, None)),
            _ => None,
        }
    })
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(command: Command, out: &mut Out) -> Result<u8> {
    match command {
        Command::Secret(a) => commands::secret::cmd_secret(&a, out),
        Command::Synapse(a) => commands::synapse::cmd_synapse(&a, out),
        Command::Mas(a) => commands::mas::cmd_mas(&a, out),
        Command::Sso(a) => commands::sso::cmd_sso(&a, out),
        Command::Migrate(a) => commands::migrate::cmd_migrate(&a, out),
        Command::Check(a) => commands::check::cmd_check(&a, out),
        Command::Unlink(a) => commands::unlink::cmd_unlink(&a, out),
        Command::Wizard(a) => wizard::run(&a, out),
        Command::Completions { shell, dir } => completions(shell, dir.as_deref(), out),
    }
}

/// The completion script or man page on standard output, or its files in `dir`.
fn completions(shell: Shell, dir: Option<&Path>, out: &mut Out) -> Result<u8> {
    let Some(dir) = dir else {
        out.out.write_all(&shell.render())?;
        return Ok(0);
    };
    let files = match shell {
        Shell::Man => man::pages(<Cli as clap::CommandFactory>::command()),
        _ => vec![(shell.file_name().to_owned(), shell.render())],
    };
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        writeln!(out.out, "wrote {}", path.display())?;
    }
    Ok(0)
}

/// An environment variable's value, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// The locks a writing run holds, one per file, from before it reads them until it exits.
/// JSON that would have to ask is refused first, before anything is read or run.
fn lock(w: &WriteArgs, paths: &[PathBuf], what: &str) -> Result<Vec<Lock>> {
    if w.json() && w.writes() && !w.yes {
        bail!("--format json needs --yes, --dry-run or --check: it never asks");
    }
    if !w.writes() {
        return Ok(Vec::new());
    }
    paths.iter().map(|p| Ok(Lock::for_file(p, what)?)).collect()
}

/// MAS's files for this run: those given, else `MAS_CONFIG`, else the default.
fn mas_paths(given: &[PathBuf]) -> Vec<PathBuf> {
    files::mas_paths(given, env("MAS_CONFIG").as_deref(), mas::DEFAULT_CONFIG)
}

/// Says which files were read, when there are several (Debian's conf.d, -c lists).
fn say_read(out: &mut Out, config: &files::Config) -> Result<()> {
    if config.files.len() > 1 {
        writeln!(out.err, "note: read, in this order: {}", config.names())?;
    }
    Ok(())
}

/// How this run reaches Synapse's loader: the flag, else `MAS_LINK_SYNAPSE_PYTHON`.
fn loader_setting(flag: &Option<String>) -> loader::Setting {
    loader::Setting::from_flag(
        flag.clone()
            .or_else(|| env("MAS_LINK_SYNAPSE_PYTHON"))
            .as_deref(),
    )
}

/// How this run reaches MAS's `mas-cli`: the flag, else `MAS_LINK_MAS_CLI`.
fn mas_cli_setting(flag: &Option<String>) -> mas_cli::Setting {
    mas_cli::Setting::from_flag(flag.clone().or_else(|| env("MAS_LINK_MAS_CLI")).as_deref())
}

/// Synapse's own loader on the planned configuration, where it is installed: a refusal stops
/// the run (nothing written), with Synapse's message.
fn vet(out: &mut Out, p: &Proposal, files: &SynapseFiles) -> Result<()> {
    // Off was asked for: nothing to say.
    if let Some(judged) = loader::vet(&loader_setting(&files.synapse_python), p)?
        && judged != loader::Judged::Off
    {
        writeln!(out.err, "note: {}", judged.describe())?;
    }
    Ok(())
}

/// A `mas-link sso` line from standard input, its secrets masked from then on.
fn read_sso_line() -> Result<crate::rules::sso::SsoBundle> {
    use crate::rules::sso;
    let text = read_stdin("Synapse's side")?;
    let bundle = sso::SsoBundle::parse(&text).ok_or_else(|| {
        anyhow!(
            "standard input is not a `mas-link sso` line (it starts with {})",
            sso::SSO_TAG
        )
    })?;
    files::hide_sso(&bundle);
    Ok(bundle)
}

/// What a pipe brings (a secret, a bundle or an `sso` line: a few kilobytes at most).
const STDIN_LIMIT: u64 = 1024 * 1024;

/// Standard input as text, at most [`STDIN_LIMIT`] bytes (`< /dev/zero` is refused, not read
/// until memory runs out).
fn read_stdin(what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(STDIN_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what} from standard input"))?;
    if bytes.len() as u64 > STDIN_LIMIT {
        bail!(
            "standard input is over {STDIN_LIMIT} bytes: {what} is a line of a few kilobytes; \
             nothing more was read"
        );
    }
    String::from_utf8(bytes).with_context(|| format!("reading {what}: not UTF-8 text"))
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
    let s = read_stdin("the secret")?;
    if let Some(bundle) = Bundle::parse(&s) {
        files::hide_bundle(&bundle);
        return Ok(bundle);
    }
    let s = s.trim();
    files::hide(s);
    if s.is_empty() {
        bail!("standard input held no secret");
    }
    Ok(Bundle {
        secret: s.to_owned(),
        ..Default::default()
    })
}

/// Synapse's configuration for a command: its files found, locked when it writes, and read.
fn synapse_config(
    files: &SynapseFiles,
    w: &WriteArgs,
    what: &str,
    out: &mut Out,
) -> Result<(Vec<Lock>, files::Config)> {
    let paths = files::synapse_paths(&files.synapse_config)?;
    let locks = lock(w, &paths, what)?;
    let config = files::load_synapse(&files.synapse_config, &paths)?;
    say_read(out, &config)?;
    Ok((locks, config))
}

/// On Cloudron, the next step's commands as `cloudron exec` lines for their apps (`other`:
/// the other app's URL as this side knows it); elsewhere, as the plan named them.
fn on_cloudron(mut p: Proposal, side: Source, given: &[PathBuf], other: Option<&str>) -> Proposal {
    let at = match side {
        Source::Synapse => settings::place(Some(given), None, other),
        Source::Mas => settings::place(None, Some(given), other),
    };
    if at.cloudron.is_some() {
        p.next_step.place(&at);
    }
    p
}

/// Shows a proposal, then writes it when asked to: the shared end of `synapse`, `mas` and
/// `unlink`.
fn finish(out: &mut Out, p: &Proposal, w: &WriteArgs) -> Result<u8> {
    let changed = p.changed();
    if w.json() {
        let applied = match changed && w.yes && w.writes() {
            true => Some(apply::apply(p, w.writing())?),
            false => None,
        };
        let report = WriteReport::new(p, applied.as_ref());
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
        writeln!(out.out, "\n{} needs the changes above.", p.names())?;
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
    let applied = apply::apply(p, w.writing())?;
    show::write_done(&mut out.out, p, &applied)?;
    Ok(0)
}

/// Asks on the terminal whether to write.
fn confirm(out: &mut Out, p: &Proposal) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "not writing without confirmation: standard input is not a terminal. Pass --yes to write, or --dry-run to only show the diff"
        );
    }
    writeln!(out.err)?;
    wizard::yes_no(out, &format!("Write these changes to {}?", p.names()))
}
