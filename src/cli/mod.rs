//! The command line: each command resolves its flags, environment and defaults once, calls
//! the library (files → plan → show/apply), and returns an exit code: 0 done or nothing to
//! do, 1 `--check` found work (or `check` found errors), 2 bad input or a refusal (nothing
//! written).

mod args;
mod check;
mod man;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstyle::AnsiColor;
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

pub use args::{
    CheckArgs, Cli, Color, Command, Format, MasArgs, SecretArgs, Shell, SsoArgs, SynapseArgs,
    SynapseFiles, UnlinkArgs, WizardArgs, WriteArgs, subcommand_man_pages,
};

use crate::apply::{self, Lock};
use crate::database;
use crate::files;
use crate::loader;
use crate::plan::{self, Backup, LinkRequest, Proposal};
use crate::rules::mas::{self, Bundle, MatrixOptions};
use crate::rules::names::{check_server_name, check_url, with_slash};
use crate::rules::record::Record;
use crate::rules::sso;
use crate::rules::synapse::{self, MAS};
use crate::rules::users;
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
    match run(cli.command, &mut out) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output stopped early (`secret --bundle | synapse` refused): its
        // own message says why; ours would only add noise. ripgrep ends the same way.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let red = AnsiColor::Red.on_default().bold();
            let _ = writeln!(out.err, "{red}mas-link: error:{red:#} {e:#}");
            ExitCode::from(2)
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(command: Command, out: &mut Out) -> Result<u8> {
    match command {
        Command::Secret(a) => cmd_secret(&a, out),
        Command::Synapse(a) => cmd_synapse(&a, out),
        Command::Mas(a) => cmd_mas(&a, out),
        Command::Sso(a) => cmd_sso(&a, out),
        Command::Check(a) => check::cmd_check(&a, out),
        Command::Unlink(a) => cmd_unlink(&a, out),
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

fn cmd_sso(a: &SsoArgs, out: &mut Out) -> Result<u8> {
    // The line carries the providers' client secrets and Synapse's pepper: it is for a pipe.
    if std::io::stdout().is_terminal() {
        bail!(
            "`mas-link sso` prints Synapse's OpenID Connect client secrets and password pepper \
             for a pipe, and standard output is a terminal: pipe it into MAS's side \
             (`mas-link sso | mas-link mas --sso-stdin --dry-run`); `mas-link check` lists the \
             providers without their secrets"
        );
    }
    let config = files::load_synapse(&a.synapse_config, &files::synapse_paths(&a.synapse_config)?)?;
    say_read(out, &config)?;
    let bundle = database::synapse_side(config.layers.value());
    writeln!(out.out, "{}", bundle.to_line())?;
    Ok(0)
}

fn cmd_secret(a: &SecretArgs, out: &mut Out) -> Result<u8> {
    let bundle = files::mas_bundle(&mas_paths(&a.mas_config))?;
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
    let flag = !a.mas_config.is_empty() || a.secret_file.is_some() || a.secret_stdin;
    if flag && env_secret.is_some() {
        bail!(
            "give the secret one way only: --mas-config, --secret-file, --secret-stdin or MAS_SECRET"
        );
    }
    let bare = |secret: String| Bundle {
        secret,
        ..Default::default()
    };
    if !a.mas_config.is_empty() {
        return Ok(Some(files::mas_bundle(&a.mas_config)?));
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
fn link_request(a: &SynapseArgs, root: &Value, out: &mut Out) -> Result<LinkRequest> {
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
                synapse::secret_path(root).and_then(|p| files::read_secret(Path::new(p)).ok())
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
    // An endpoint already set is kept unless one is given: it may be an internal address
    // (`http://mas.internal:8080/`) where MAS's public URL is not the way to reach it.
    let endpoint = a
        .endpoint
        .clone()
        .or_else(|| env("MAS_ENDPOINT"))
        .or_else(|| block("endpoint").filter(|e| check_url(e).is_ok()))
        .or(bundle.endpoint.clone())
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
    // A `secret_path` already set (absolute: a relative one is Synapse's working directory's)
    // is kept, its file rewritten only when it does not hold the secret.
    let secret_path = a.secret_path.clone().or_else(|| {
        synapse::secret_path(root)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    });
    Ok(LinkRequest {
        endpoint,
        mas_providers: bundle.providers.clone(),
        secret: bundle.secret,
        secret_path_now: files::named_state(secret_path.as_deref()),
        secret_path,
        mas_homeserver: bundle.homeserver,
    })
}

/// A file's record's backup, read, when the file is still exactly what `synapse` wrote.
fn untouched_backup(record: Option<&Record>, doc: &Document) -> Option<Backup> {
    let r = record?;
    let backup = r.backup.as_ref()?;
    r.wrote(doc.text().as_bytes()).then_some(())?;
    let (_, old) = files::load(backup, Options::PYYAML).ok()?;
    Some(Backup {
        path: backup.clone(),
        doc: old,
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

/// Refuses to link a Synapse whose users MAS may not know: users in its database not yet
/// migrated, or a database that cannot be read (unless the operator says why that is fine).
/// A dry run says what `--yes` would do, and goes on to show the diff.
fn no_lock_out(a: &SynapseArgs, config: &files::Config, out: &mut Out) -> Result<()> {
    // Already linked: MAS handles the logins now, and the link only changes its settings.
    if a.users_migrated || synapse::is_linked(config.layers.value()) {
        return Ok(());
    }
    let db = users::database(config.layers.value());
    // Every file named, the default too: syn2mas has no default of its own.
    let flags = plan::path_flag("--synapse-config", &config.given, "");
    let refusal = match database::users(&db) {
        database::Users::None => return Ok(()),
        database::Users::Some(census) if a.new_server => format!(
            "--new-server, but Synapse's database holds {} active local user(s): they must be \
             migrated first.\n{}",
            census.active,
            users::migration_steps(&census, &db, &flags)
        ),
        database::Users::Some(census) => format!(
            "{}\n(Already migrated? Add --users-migrated.)",
            users::migration_steps(&census, &db, &flags)
        ),
        database::Users::Unread(why) if a.new_server => {
            writeln!(
                out.err,
                "note: Synapse's users were not read ({why}); linking as a server that never \
                 had users, as --new-server says"
            )?;
            return Ok(());
        }
        database::Users::Unread(why) => users::unread_refusal(&why),
    };
    if !a.write.writes() {
        writeln!(out.err, "note: with --yes this would stop: {refusal}")?;
        return Ok(());
    }
    bail!("{refusal}")
}

fn cmd_synapse(a: &SynapseArgs, out: &mut Out) -> Result<u8> {
    let (_locks, config) = synapse_config(&a.synapse, &a.write, "synapse", out)?;
    no_lock_out(a, &config, out)?;
    let req = link_request(a, config.layers.value(), out)?;
    let records: Vec<Option<Record>> = config.files.iter().map(files::link_record).collect();
    let p = plan::link(config, &req, &records)?;
    vet(out, &p, &a.synapse)?;
    finish(out, &p, &a.write)
}

fn cmd_unlink(a: &UnlinkArgs, out: &mut Out) -> Result<u8> {
    let (_locks, config) = synapse_config(&a.synapse, &a.write, "unlink", out)?;
    let records: Vec<Option<Record>> = config.files.iter().map(files::link_record).collect();
    let backups = records
        .iter()
        .zip(config.layers.layers())
        .map(|(r, l)| untouched_backup(r.as_ref(), &l.doc))
        .collect();
    let secret_file = files::synapse_secret_file(config.layers.value());
    match database::users(&users::database(config.layers.value())) {
        database::Users::Unread(why) => writeln!(
            out.err,
            "note: Synapse's users were not read ({why}): users made while MAS was in charge \
             have no password in Synapse, and get one with Synapse's admin API after unlink"
        )?,
        database::Users::Some(census) if census.without_login > 0 => writeln!(
            out.err,
            "note: {} user(s) have neither a password in Synapse nor an SSO link (made while MAS \
             was in charge): they cannot log in after unlink until they get one, with Synapse's \
             admin API (POST /_synapse/admin/v1/reset_password/USER_ID, or PUT \
             /_synapse/admin/v2/users/USER_ID with a password)",
            census.without_login
        )?,
        _ => {}
    }
    let p = plan::unlink(config, &records, backups, secret_file.as_ref())?;
    vet(out, &p, &a.synapse)?;
    finish(out, &p, &a.write)
}

/// What `mas-link mas` sets, from the flags, the environment, Synapse's file and MAS's own.
fn matrix_options(
    a: &MasArgs,
    mas_root: &Value,
    synapse: Option<&sso::SsoBundle>,
) -> Result<MatrixOptions> {
    let from_synapse = |key: &str| match key {
        "server_name" => synapse?.server_name.clone(),
        _ => synapse?.public_baseurl.clone(),
    };
    let homeserver = a
        .homeserver
        .clone()
        .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
        .or_else(|| from_synapse("server_name"))
        .ok_or_else(|| {
            anyhow!(
                "no homeserver name: pass --homeserver NAME (Synapse's server_name), set \
                 MATRIX_HOMESERVER_DOMAIN, or give Synapse's side (--synapse-config PATH, or \
                 `mas-link sso | mas-link mas --sso-stdin` across containers)"
            )
        })?;
    check_server_name(&homeserver).map_err(|e| anyhow!("--homeserver: {e}"))?;
    let synapse_url = from_synapse("public_baseurl");
    let endpoint = a
        .synapse_endpoint
        .clone()
        .or_else(|| mas::endpoint_to_keep(mas_root, synapse_url.is_some()))
        .or(synapse_url)
        .unwrap_or_else(|| format!("https://{homeserver}/"));
    check_url(&endpoint).map_err(|e| anyhow!("--synapse-endpoint: {e}"))?;
    let endpoint = with_slash(&endpoint);
    Ok(MatrixOptions {
        homeserver,
        endpoint,
        kind: a.kind.clone(),
    })
}

/// Synapse's side for `mas-link mas`: from its files on this host, or piped from its container.
fn synapse_side(a: &MasArgs) -> Result<Option<sso::SsoBundle>> {
    if a.sso_stdin {
        if std::io::stdin().is_terminal() {
            bail!(
                "--sso-stdin reads a pipe, and standard input is a terminal: pipe Synapse's side \
                 in (`mas-link sso | mas-link mas --sso-stdin`), or use --synapse-config PATH"
            );
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading Synapse's side from standard input")?;
        let bundle = sso::SsoBundle::parse(&text).ok_or_else(|| {
            anyhow!(
                "standard input is not a `mas-link sso` line (it starts with {})",
                sso::SSO_TAG
            )
        })?;
        return Ok(Some(bundle));
    }
    match a.synapse_config.as_slice() {
        [] => Ok(None),
        given => {
            let config = files::load_synapse(given, &files::synapse_paths(given)?)?;
            Ok(Some(database::synapse_side(config.layers.value())))
        }
    }
}

/// `mas-link mas`'s proposal for MAS's files (already locked when they will be written).
fn mas_proposal(a: &MasArgs, paths: &[PathBuf]) -> Result<Proposal> {
    let config = files::load_mas(paths)?;
    let synapse = synapse_side(a)?;
    let opts = matrix_options(a, config.layers.value(), synapse.as_ref())?;
    let secret_file = files::mas_secret_file(&config.layers);
    Ok(plan::mas(
        config,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
        synapse.as_ref(),
        a.renumber_password_scheme,
        &mut files::new_ulid,
    )?)
}

fn cmd_mas(a: &MasArgs, out: &mut Out) -> Result<u8> {
    let paths = mas_paths(&a.mas_config);
    let _locks = lock(&a.write, &paths, "mas")?;
    let p = mas_proposal(a, &paths)?;
    finish(out, &p, &a.write)
}

/// Shows a proposal, then writes it when asked to: the shared end of `synapse`, `mas` and
/// `unlink`.
fn finish(out: &mut Out, p: &Proposal, w: &WriteArgs) -> Result<u8> {
    let changed = p.changed();
    if w.json() {
        let applied = match changed && w.yes && w.writes() {
            true => Some(apply::apply(p, !w.no_backup)?),
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
    let applied = apply::apply(p, !w.no_backup)?;
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
