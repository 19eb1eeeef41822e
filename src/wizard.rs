//! `mas-link wizard`: the guided path for whoever gave up on the yq guide. It works out where
//! it runs, asks only what it cannot find (defaults from what the files already say), shows
//! each side's diff once, and writes exactly the proposal it showed.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use dialoguer::{Confirm, Input, Password};

use crate::apply::{self, Lock};
use crate::files;
use crate::plan::{self, LinkRequest, Proposal};
use crate::rules::mas::{self, MatrixOptions};
use crate::rules::names::{check_server_name, check_url};
use crate::rules::synapse::{self, MAS};
use crate::show::{self, Out};
use crate::yaml::{Document, Options, Value};

#[derive(Args, Debug)]
pub struct WizardArgs {
    /// Synapse's homeserver.yaml [default: /app/data/configs/homeserver.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub synapse_config: Option<PathBuf>,
    /// MAS's config.yaml [default: /app/data/config.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Option<PathBuf>,
    /// MAS's URL, where Synapse reaches it [env: MAS_ENDPOINT].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Synapse's server_name [env: MATRIX_HOMESERVER_DOMAIN].
    #[arg(long, value_name = "NAME")]
    pub homeserver: Option<String>,
    /// Where MAS reaches Synapse.
    #[arg(long, value_name = "URL")]
    pub synapse_endpoint: Option<String>,
    /// A file holding MAS's secret (else env MAS_SECRET, else asked, hidden).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn step(out: &mut Out, text: &str) -> Result<()> {
    let bold = anstyle::Style::new().bold();
    writeln!(out.err, "\n{bold}▸ {text}{bold:#}")?;
    Ok(())
}

/// A string at `path` in a document, when it is one.
fn text_at(doc: Option<&Document>, path: &[&str]) -> Option<String> {
    let v = doc?.value().at(path)?;
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Asks until the answer passes `valid`, saying what is wrong each time.
fn ask<E: ToString>(
    prompt: &str,
    default: Option<String>,
    valid: fn(&str) -> Result<(), E>,
) -> Result<String> {
    let mut input = Input::<String>::new()
        .with_prompt(prompt)
        .validate_with(move |s: &String| valid(s.trim()).map_err(|e| e.to_string()));
    if let Some(d) = default {
        input = input.default(d);
    }
    Ok(input.interact_text()?.trim().to_owned())
}

/// The value given, else `ask` with the file's value as the default.
fn given_or_ask<E: ToString>(
    given: Option<String>,
    prompt: &str,
    default: Option<String>,
    valid: fn(&str) -> Result<(), E>,
) -> Result<String> {
    match given {
        Some(v) => {
            valid(&v).map_err(|e| anyhow::anyhow!("{prompt}: {}", e.to_string()))?;
            Ok(v)
        }
        None => ask(prompt, default, valid),
    }
}

/// Shows one proposal, asks, and writes exactly it. Returns whether it wrote.
fn offer(out: &mut Out, p: &Proposal) -> Result<bool> {
    show::write_remarks(&mut out.err, p)?;
    if !p.changed() {
        writeln!(out.out, "{}", p.idle)?;
        return Ok(false);
    }
    out.proposal(p, false)?;
    out.out.flush()?;
    let prompt = format!("Write these changes to {}?", p.file.name());
    if !Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()?
    {
        writeln!(out.out, "Nothing was written to {}.", p.file.name())?;
        return Ok(false);
    }
    let written = apply::apply(p, true)?;
    show::write_done(&mut out.out, p, &written)?;
    Ok(true)
}

/// MAS's side; returns the command that does the same without questions.
fn mas_side(
    a: &WizardArgs,
    path: &Path,
    hs: Option<&Document>,
    out: &mut Out,
) -> Result<(String, bool)> {
    step(out, "MAS side: point its `matrix` section at Synapse")?;
    let _lock = Lock::for_file(path, "wizard")?;
    let (file, doc) = files::load(path, Options::SERDE_YAML)?;
    let homeserver = given_or_ask(
        a.homeserver
            .clone()
            .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
            .or_else(|| text_at(hs, &["server_name"])),
        "Synapse's server name (the part after ':' in user IDs)",
        text_at(Some(&doc), &["matrix", "homeserver"]),
        check_server_name,
    )?;
    let existing = text_at(Some(&doc), &["matrix", "endpoint"]).filter(|e| check_url(e).is_ok());
    let mut endpoint = given_or_ask(
        a.synapse_endpoint
            .clone()
            .or(existing)
            .or_else(|| text_at(hs, &["public_baseurl"])),
        "Where MAS reaches Synapse",
        Some(format!("https://{homeserver}/")),
        check_url,
    )?;
    if !endpoint.ends_with('/') {
        endpoint.push('/');
    }
    let opts = MatrixOptions {
        homeserver: homeserver.clone(),
        endpoint: endpoint.clone(),
        kind: None,
    };
    let secret_file = files::mas_secret_file(&doc);
    let p = plan::mas(
        file,
        doc,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
    )?;
    let command = format!(
        "mas-link mas --mas-config {} --homeserver {} --synapse-endpoint {} --yes",
        word(path),
        plan::shell_word(&homeserver),
        plan::shell_word(&endpoint)
    );
    Ok((command, offer(out, &p)?))
}

/// A path as a word of a printed command.
fn word(path: &Path) -> String {
    plan::shell_word(&path.display().to_string())
}

/// Synapse's side; returns the command that does the same without questions.
fn synapse_side(
    a: &WizardArgs,
    path: &Path,
    mas_path: Option<&Path>,
    out: &mut Out,
) -> Result<(String, bool)> {
    step(out, "Synapse side: delegate logins to MAS")?;
    let _lock = Lock::for_file(path, "wizard")?;
    let (file, doc) = files::load(path, Options::PYYAML)?;
    let from_mas = match mas_path {
        Some(p) => Some(files::mas_bundle(p)?),
        None => None,
    };
    let existing = text_at(Some(&doc), &[MAS, "endpoint"]).filter(|e| check_url(e).is_ok());
    let endpoint = given_or_ask(
        a.endpoint
            .clone()
            .or_else(|| env("MAS_ENDPOINT"))
            .or_else(|| from_mas.as_ref().and_then(|b| b.endpoint.clone())),
        "MAS's URL, where Synapse reaches it (e.g. https://auth.example.com/)",
        existing,
        check_url,
    )?;
    let inline = doc.value().at(&[MAS, "secret"]).and_then(Value::as_str);
    let mas_homeserver = from_mas.as_ref().and_then(|b| b.homeserver.clone());
    let (secret, flag) = if let Some(b) = from_mas {
        (
            b.secret,
            format!(" --mas-config {}", word(mas_path.unwrap_or(path))),
        )
    } else if let Some(p) = &a.secret_file {
        (
            files::read_secret(p)?,
            format!(" --secret-file {}", word(p)),
        )
    } else if let Some(s) = env("MAS_SECRET") {
        // The same command runs where MAS_SECRET is set.
        (s.trim().to_owned(), String::new())
    } else if let Some(s) = inline.filter(|s| !s.is_empty()) {
        writeln!(
            out.err,
            "  Keeping the shared secret already in {}.",
            path.display()
        )?;
        (s.to_owned(), String::new())
    } else {
        writeln!(
            out.err,
            "  MAS's shared secret is its matrix.secret (`mas-link secret` prints it in the MAS container)."
        )?;
        let s = Password::new()
            .with_prompt("MAS's shared secret (hidden)")
            .validate_with(|s: &String| match s.trim().is_empty() {
                true => Err("the secret is empty"),
                false => Ok(()),
            })
            .interact()?;
        (s.trim().to_owned(), " --secret-stdin".into())
    };
    let req = LinkRequest {
        endpoint: endpoint.clone(),
        secret,
        secret_path: None,
        secret_path_now: None,
        mas_homeserver,
    };
    let record = files::record(&file);
    let p = plan::link(file, doc, &req, record.as_ref())?;
    let command = format!(
        "mas-link synapse --synapse-config {} --endpoint {}{flag} --yes",
        word(path),
        plan::shell_word(&endpoint)
    );
    Ok((command, offer(out, &p)?))
}

/// On Ctrl-C, the terminal as it was before the wizard (a prompt may have hidden the cursor or
/// turned echo off), then exit 130. Files are replaced atomically: each is old or new.
fn restore_terminal_on_interrupt() {
    let saved = rustix::termios::tcgetattr(std::io::stdin()).ok();
    let _ = ctrlc::set_handler(move || {
        if let Some(t) = &saved {
            let now = rustix::termios::OptionalActions::Now;
            let _ = rustix::termios::tcsetattr(std::io::stdin(), now, t);
        }
        // Show the cursor again.
        eprintln!("\x1b[?25h\nmas-link: interrupted; only what the lines above say was written.");
        std::process::exit(130);
    });
}

pub fn run(a: &WizardArgs, out: &mut Out) -> Result<u8> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        bail!(
            "the wizard needs a terminal. Without one, use the commands it would run:\n  \
             mas-link synapse --synapse-config PATH --mas-config PATH --yes\n  \
             mas-link mas --mas-config PATH --homeserver NAME --yes\n(see `mas-link synapse --help`)"
        );
    }
    restore_terminal_on_interrupt();
    let hs_path = files::given_or_default(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas_path = files::given_or_default(&a.mas_config, mas::DEFAULT_CONFIG);
    writeln!(
        out.err,
        "mas-link wizard: pairs Synapse with MAS. Nothing is written before you say yes; Ctrl-C stops at any point."
    )?;
    step(out, "Looking around")?;
    if let Some(origin) = env("CLOUDRON_APP_ORIGIN") {
        writeln!(out.err, "  Cloudron app: {origin}")?;
    }
    for (what, p) in [("Synapse config", &hs_path), ("MAS config", &mas_path)] {
        match p {
            Some(p) => writeln!(out.err, "  {what}: {}", p.display())?,
            None => writeln!(out.err, "  {what}: not on this host")?,
        }
    }
    if hs_path.is_none() && mas_path.is_none() {
        bail!(
            "neither {} nor {} is here: pass --synapse-config PATH and/or --mas-config PATH",
            synapse::DEFAULT_CONFIG,
            mas::DEFAULT_CONFIG
        );
    }
    let hs_doc = match &hs_path {
        Some(p) => Some(files::load(p, Options::PYYAML)?.1),
        None => None,
    };
    let mut commands = Vec::new();
    let mut wrote = Vec::new();
    if let Some(p) = &mas_path {
        let (command, written) = mas_side(a, p, hs_doc.as_ref(), out)?;
        commands.push(command);
        if written {
            wrote.push("MAS");
        }
    }
    if let Some(p) = &hs_path {
        let (command, written) = synapse_side(a, p, mas_path.as_deref(), out)?;
        commands.push(command);
        if written {
            wrote.push("Synapse");
        }
    }
    step(out, "Next steps")?;
    let files = Files {
        synapse: hs_path.as_deref(),
        mas: mas_path.as_deref(),
    };
    next_steps(out, &wrote, &files, hs_doc.as_ref())?;
    writeln!(out.out, "\nThe same without questions:")?;
    for c in &commands {
        writeln!(out.out, "  {c}")?;
    }
    Ok(0)
}

/// The files the wizard found, for the commands it prints.
struct Files<'a> {
    synapse: Option<&'a Path>,
    mas: Option<&'a Path>,
}

impl Files<'_> {
    /// ` --FLAG PATH` for each file here that is not at its default place.
    fn flags(&self) -> (String, String) {
        let flag = |name: &str, path: Option<&Path>, default: &str| {
            path.map(|p| plan::path_flag(name, p, default))
                .unwrap_or_default()
        };
        (
            flag("--synapse-config", self.synapse, synapse::DEFAULT_CONFIG),
            flag("--mas-config", self.mas, mas::DEFAULT_CONFIG),
        )
    }
}

fn next_steps(out: &mut Out, wrote: &[&str], files: &Files, hs: Option<&Document>) -> Result<()> {
    let cloudron = env("CLOUDRON_APP_ORIGIN").is_some();
    let mut text = String::new();
    for side in wrote {
        text.push_str(&match cloudron {
            true => format!(
                "  - restart {side}: `cloudron restart --app <{}-app>`\n",
                side.to_lowercase()
            ),
            false => format!("  - restart {side} so that it reads its new configuration\n"),
        });
    }
    if files.synapse.is_none() {
        text.push_str(
            "  - Synapse is in another container; from your own machine run:\n      \
             cloudron exec --app <mas-app> -- /app/data/mas-link secret --bundle | cloudron exec --app <matrix-app> -- /app/data/mas-link synapse --secret-stdin --yes\n",
        );
    }
    if files.mas.is_none() {
        let name = text_at(hs, &["server_name"]).unwrap_or_else(|| "NAME".into());
        text.push_str(&format!(
            "  - MAS is in another container: there, run `mas-link mas --homeserver {name} --yes` (or this wizard)\n"
        ));
    }
    let (s, m) = files.flags();
    let check = match (files.synapse, files.mas) {
        (Some(_), Some(_)) => format!("`mas-link check{s}{m}`"),
        _ => "`mas-link check` (in each container)".into(),
    };
    text.push_str(&format!("  - check: {check}\n"));
    if files.synapse.is_some() {
        text.push_str(&format!(
            "  - undo: `mas-link unlink{s}` restores Synapse's password login\n"
        ));
    }
    out.out.write_all(text.as_bytes())?;
    Ok(())
}
