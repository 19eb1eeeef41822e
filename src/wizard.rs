//! `mas-link wizard`: the guided path for whoever gave up on the yq guide. It works out where
//! it runs, asks only what it cannot find, explains each step in one line, shows the diff,
//! asks before writing, and ends with the next steps and the equivalent command.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use clap::Args;
use dialoguer::{Confirm, Input, Password};

use crate::cli::{self, Format, MasArgs, Out, SynapseArgs, WriteArgs};
use crate::yaml::{Document, Options, Value};
use crate::{mas, synapse};

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

fn found(given: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    given
        .clone()
        .or_else(|| Some(PathBuf::from(default)).filter(|p| p.exists()))
}

fn step(out: &mut Out, text: &str) -> Result<()> {
    let bold = anstyle::Style::new().bold();
    writeln!(out.err, "\n{bold}▸ {text}{bold:#}")?;
    Ok(())
}

fn write_args(check: bool) -> WriteArgs {
    WriteArgs {
        dry_run: false,
        check,
        yes: !check,
        show_secrets: false,
        no_backup: false,
        format: Format::Human,
    }
}

fn confirm(prompt: &str) -> Result<bool> {
    Ok(Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()?)
}

/// Asks until the answer passes `valid`, saying what is wrong each time.
fn ask(
    prompt: &str,
    default: Option<String>,
    valid: fn(&str) -> Result<(), String>,
) -> Result<String> {
    let mut input = Input::<String>::new()
        .with_prompt(prompt)
        .validate_with(move |s: &String| valid(s.trim()));
    if let Some(d) = default {
        input = input.default(d);
    }
    Ok(input.interact_text()?.trim().to_owned())
}

fn server_name_ok(s: &str) -> Result<(), String> {
    if s.is_empty() || s.contains('/') || s.contains(' ') {
        Err(format!("`{s}` is not a server name (e.g. example.com)"))
    } else {
        Ok(())
    }
}

pub(crate) fn run(a: &WizardArgs, out: &mut Out) -> Result<u8> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        bail!(
            "the wizard needs a terminal. Without one, use the commands it would run:\n  \
             mas-link synapse --synapse-config PATH --mas-config PATH (or --secret-stdin --endpoint URL) --yes\n  \
             mas-link mas --mas-config PATH --homeserver NAME --yes\n(see `mas-link synapse --help`)"
        );
    }
    let hs_path = found(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas_path = found(&a.mas_config, mas::DEFAULT_CONFIG);
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
        Some(p) => Some(
            Document::from_bytes(
                &std::fs::read(p).map_err(|e| anyhow!("reading {}: {e}", p.display()))?,
                Options::PYYAML,
            )
            .map_err(|e| anyhow!("{}:{e}", p.display()))?,
        ),
        None => None,
    };
    let hs_value = |k: &str| {
        hs_doc
            .as_ref()
            .and_then(|d| d.value().get(k).and_then(Value::as_str).map(str::to_owned))
    };
    let mut commands = Vec::new();
    let mut wrote = Vec::new();

    if let Some(mas_path) = &mas_path {
        step(out, "MAS side: point its `matrix` section at Synapse")?;
        let homeserver = match a
            .homeserver
            .clone()
            .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
            .or_else(|| hs_value("server_name"))
        {
            Some(h) => h,
            None => ask(
                "Synapse's server name (the part after ':' in user IDs)",
                None,
                server_name_ok,
            )?,
        };
        let synapse_endpoint = match a
            .synapse_endpoint
            .clone()
            .or_else(|| hs_value("public_baseurl"))
        {
            Some(e) => e,
            None => ask(
                "Where MAS reaches Synapse",
                Some(format!("https://{homeserver}/")),
                synapse::validate_endpoint,
            )?,
        };
        let mut args = MasArgs {
            mas_config: mas_path.clone(),
            homeserver: Some(homeserver.clone()),
            synapse_config: None,
            synapse_endpoint: Some(synapse_endpoint.clone()),
            kind: None,
            write: write_args(true),
        };
        commands.push(format!(
            "mas-link mas --mas-config {} --homeserver {homeserver} --synapse-endpoint {synapse_endpoint} --yes",
            mas_path.display()
        ));
        if cli::cmd_mas(&args, out)? == 1 {
            if confirm(&format!("Write these changes to {}?", mas_path.display()))? {
                args.write = write_args(false);
                cli::cmd_mas(&args, out)?;
                wrote.push("MAS");
            } else {
                writeln!(out.out, "Nothing was written to {}.", mas_path.display())?;
            }
        }
    }

    if let Some(hs_path) = &hs_path {
        step(out, "Synapse side: delegate logins to MAS")?;
        let from_mas = mas_path.as_ref().and_then(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            mas::MasConfig::parse(&text).ok()
        });
        let endpoint = match a
            .endpoint
            .clone()
            .or_else(|| env("MAS_ENDPOINT"))
            .or_else(|| {
                from_mas
                    .as_ref()
                    .and_then(|c| c.http.as_ref()?.public_base.clone())
            }) {
            Some(e) => e,
            None => ask(
                "MAS's URL, where Synapse reaches it (e.g. https://auth.example.com/)",
                None,
                synapse::validate_endpoint,
            )?,
        };
        let (secret, secret_flag) = if let Some(p) = &mas_path {
            let text = std::fs::read_to_string(p)?;
            let config =
                mas::MasConfig::parse(&text).map_err(|e| anyhow!("{}:{e}", p.display()))?;
            let s = mas::shared_secret(&config, &text, Path::new("."))
                .map_err(|e| anyhow!("{}:{e}", p.display()))?;
            (s, format!("--mas-config {}", p.display()))
        } else if let Some(p) = &a.secret_file {
            let s = std::fs::read_to_string(p)?.trim().to_owned();
            (s, format!("--secret-file {}", p.display()))
        } else if let Some(s) = env("MAS_SECRET") {
            (s, "(with MAS_SECRET set)".into())
        } else {
            writeln!(
                out.err,
                "  MAS's shared secret is its matrix.secret (`mas-link secret` prints it in the MAS container)."
            )?;
            let s = Password::new()
                .with_prompt("MAS's shared secret (hidden)")
                .validate_with(|s: &String| {
                    if s.trim().is_empty() {
                        Err("the secret is empty")
                    } else {
                        Ok(())
                    }
                })
                .interact()?;
            (s.trim().to_owned(), "--secret-stdin".into())
        };
        let bundle = mas::Bundle {
            endpoint: None,
            homeserver: None,
            secret,
        };
        let mut args = SynapseArgs {
            synapse_config: hs_path.clone(),
            mas_config: None,
            secret_file: None,
            secret_stdin: false,
            endpoint: Some(endpoint.clone()),
            secret_path: None,
            write: write_args(true),
        };
        commands.push(format!(
            "mas-link synapse --synapse-config {} --endpoint {endpoint} {secret_flag} --yes",
            hs_path.display()
        ));
        if cli::link_synapse(&args, &bundle, out)? == 1 {
            if confirm(&format!("Write these changes to {}?", hs_path.display()))? {
                args.write = write_args(false);
                cli::link_synapse(&args, &bundle, out)?;
                wrote.push("Synapse");
            } else {
                writeln!(out.out, "Nothing was written to {}.", hs_path.display())?;
            }
        }
    }

    step(out, "Next steps")?;
    let cloudron = env("CLOUDRON_APP_ORIGIN").is_some();
    for side in &wrote {
        if cloudron {
            writeln!(
                out.out,
                "  - restart {side}: `cloudron restart --app <{}-app>`",
                side.to_lowercase()
            )?;
        } else {
            writeln!(
                out.out,
                "  - restart {side} so that it reads its new configuration"
            )?;
        }
    }
    if hs_path.is_none() {
        writeln!(
            out.out,
            "  - Synapse is in another container; from your own machine run:\n      \
             cloudron exec --app <mas-app> -- mas-link secret --bundle | cloudron exec --app <matrix-app> -- mas-link synapse --secret-stdin --yes"
        )?;
    }
    if mas_path.is_none() {
        writeln!(
            out.out,
            "  - MAS is in another container: there, run `mas-link mas --homeserver {}` (or this wizard)",
            hs_value("server_name").unwrap_or_else(|| "NAME".into())
        )?;
    }
    writeln!(
        out.out,
        "  - check both sides: `mas-link check` (in each container)"
    )?;
    writeln!(
        out.out,
        "  - undo: `mas-link unlink` restores Synapse's password login"
    )?;
    writeln!(out.out, "\nThe same without questions:")?;
    for c in &commands {
        writeln!(out.out, "  {c}")?;
    }
    Ok(0)
}
