//! `mas-link wizard`: the guided path for whoever gave up on the yq guide. It works out where
//! it runs, asks only what it cannot find (defaults from what the files already say), shows
//! each side's diff once, and writes exactly the proposal it showed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dialoguer::{Input, Password};

use crate::apply::{self, Lock};
use crate::database;
use crate::files;
use crate::loader;
use crate::plan::{self, LinkRequest, Proposal};
use crate::rules::mas::{self, MatrixOptions};
use crate::rules::names::{check_server_name, check_url, host_of, is_loopback, with_slash};
use crate::rules::sso;
use crate::rules::synapse::{self, MAS};
use crate::rules::users;
use crate::show::{self, Out};
use crate::yaml::Value;

#[derive(Args, Debug)]
pub struct WizardArgs {
    /// Synapse's homeserver.yaml; repeat for several files or name a folder, as Synapse's -c
    /// [default: /app/data/configs/homeserver.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub synapse_config: Vec<PathBuf>,
    /// MAS's config.yaml; repeat for several files [default: /app/data/config.yaml, when it
    /// exists].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Vec<PathBuf>,
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

/// A string at `path` in a configuration, when it is one.
fn text_at(root: Option<&Value>, path: &[&str]) -> Option<String> {
    let v = root?.at(path)?;
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

/// A yes-or-no question on the terminal, answered the same way wherever mas-link asks: a line
/// read to Enter, `y` or `yes` in any case is yes, anything else (Enter alone too) is no.
pub fn yes_no(out: &mut Out, question: &str) -> Result<bool> {
    write!(out.err, "{question} [y/N] ")?;
    out.err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
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
    if !yes_no(out, &format!("Write these changes to {}?", p.names()))? {
        writeln!(out.out, "Nothing was written to {}.", p.names())?;
        return Ok(false);
    }
    let how = apply::Writing {
        backup: true,
        in_place: false,
    };
    let applied = apply::apply(p, how)?;
    show::write_done(&mut out.out, p, &applied)?;
    Ok(true)
}

/// MAS's side; returns the command that does the same without questions.
fn mas_side(
    a: &WizardArgs,
    paths: &[PathBuf],
    hs: Option<(&Value, &[PathBuf])>,
    out: &mut Out,
) -> Result<(String, bool)> {
    step(out, "MAS side: point its `matrix` section at Synapse")?;
    let _locks = lock_all(paths)?;
    let config = files::load_mas(paths)?;
    let root = Some(config.layers.value());
    let homeserver = given_or_ask(
        a.homeserver
            .clone()
            .or_else(|| env("MATRIX_HOMESERVER_DOMAIN"))
            .or_else(|| text_at(hs.map(|h| h.0), &["server_name"])),
        "Synapse's server name (the part after ':' in user IDs)",
        text_at(root, &["matrix", "homeserver"]),
        check_server_name,
    )?;
    // A loopback endpoint (MAS's generated one) is asked again where Synapse's URL is known:
    // from another container it reaches nothing.
    let synapse_url = text_at(hs.map(|h| h.0), &["public_baseurl"]);
    let kept = mas::endpoint_to_keep(config.layers.value(), synapse_url.is_some());
    let loopback = text_at(root, &["matrix", "endpoint"]).is_some_and(|e| is_loopback(&e));
    let known = match loopback {
        true => None,
        false => synapse_url.clone(),
    };
    let endpoint = given_or_ask(
        a.synapse_endpoint.clone().or(kept).or(known),
        "Where MAS reaches Synapse",
        synapse_url.or(Some(format!("https://{homeserver}/"))),
        check_url,
    )?;
    let endpoint = with_slash(&endpoint);
    let opts = MatrixOptions {
        homeserver: homeserver.clone(),
        endpoint: endpoint.clone(),
        kind: None,
    };
    let secret_file = files::mas_secret_file(&config.layers);
    // Synapse's OpenID Connect providers move to MAS when Synapse's file is here.
    let synapse = hs.map(|(r, _)| database::synapse_side(r));
    let p = plan::mas(
        config,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
        synapse.as_ref(),
        false,
        &mut files::new_ulid,
    )?;
    let providers = synapse.map(|s| s.providers);
    // Synapse's SSO providers come from its file, named in the command.
    let from_synapse = match (hs, providers.as_deref()) {
        (Some((_, hs_paths)), Some([_, ..])) => flags("--synapse-config", hs_paths),
        _ => String::new(),
    };
    let command = format!(
        "mas-link mas{}{from_synapse} --homeserver {} --synapse-endpoint {} --yes",
        flags("--mas-config", paths),
        plan::shell_word(&homeserver),
        plan::shell_word(&endpoint)
    );
    Ok((command, offer(out, &p)?))
}

/// ` --FLAG PATH` for each path, always (the wizard's commands name every file).
fn flags(flag: &str, paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!(" {flag} {}", plan::shell_word(&p.display().to_string())))
        .collect()
}

/// A lock on each file, for the wizard's writes.
fn lock_all(paths: &[PathBuf]) -> Result<Vec<Lock>> {
    paths
        .iter()
        .map(|p| Ok(Lock::for_file(p, "wizard")?))
        .collect()
}

/// Synapse's side; returns the command that does the same without questions.
fn synapse_side(
    a: &WizardArgs,
    given: &[PathBuf],
    mas_paths: Option<&[PathBuf]>,
    out: &mut Out,
) -> Result<(String, bool)> {
    step(out, "Synapse side: delegate logins to MAS")?;
    let paths = files::synapse_paths(given)?;
    let _locks = lock_all(&paths)?;
    let config = files::load_synapse(given, &paths)?;
    if config.files.len() > 1 {
        writeln!(out.err, "  Read, in this order: {}", config.names())?;
    }
    let root = config.layers.value();
    let from_mas = match mas_paths {
        Some(p) => Some(files::mas_bundle(p)?),
        None => None,
    };
    let existing = text_at(Some(root), &[MAS, "endpoint"]).filter(|e| check_url(e).is_ok());
    let endpoint = given_or_ask(
        a.endpoint
            .clone()
            .or_else(|| env("MAS_ENDPOINT"))
            .or_else(|| from_mas.as_ref().and_then(|b| b.endpoint.clone())),
        "MAS's URL, where Synapse reaches it (e.g. https://auth.example.com/)",
        existing,
        check_url,
    )?;
    // SSO moves to MAS only when MAS's side shows it covers each provider: from MAS's file
    // here, or the bundle line from MAS's container.
    let sso = !sso::synapse_providers(root).is_empty();
    let from_mas = match (from_mas, sso) {
        (None, true) => {
            writeln!(
                out.err,
                "  Synapse signs users in with single sign-on, which moves to MAS. If MAS does \
                 not have the providers yet, stop here (Ctrl-C) and run, from your machine:\n    \
                 cloudron exec --app <matrix-app> -- /app/data/mas-link sso | cloudron exec \
                 --app <mas-app> -- /app/data/mas-link mas --sso-stdin --yes\n  Then paste the \
                 line `mas-link secret --bundle` prints in MAS's container."
            )?;
            Some(ask_bundle()?)
        }
        (b, _) => b,
    };
    let mas_homeserver = from_mas.as_ref().and_then(|b| b.homeserver.clone());
    let mas_providers = from_mas.as_ref().and_then(|b| b.providers.clone());
    let (secret, flag) = secret_for(a, &config, mas_paths, from_mas, out)?;
    let req = LinkRequest {
        endpoint: endpoint.clone(),
        secret,
        secret_path: None,
        secret_path_now: None,
        mas_homeserver,
        mas_providers,
    };
    let migrated = users_flag(&config, given, out)?;
    let records: Vec<_> = config.files.iter().map(files::link_record).collect();
    let p = plan::link(config, &req, &records)?;
    let setting = loader::Setting::from_flag(env("MAS_LINK_SYNAPSE_PYTHON").as_deref());
    if let Some(judged) = loader::vet(&setting, &p)?
        && judged != loader::Judged::Off
    {
        writeln!(out.err, "  {}", judged.describe())?;
    }
    let command = format!(
        "mas-link synapse{} --endpoint {}{flag}{migrated} --yes",
        flags("--synapse-config", given),
        plan::shell_word(&endpoint)
    );
    // A secret typed or pasted here comes, without questions, from MAS's side through a pipe
    // (`--secret-stdin` on a terminal refuses).
    let command = match flag.as_str() {
        " --secret-stdin" => secret_pipe(&command, &endpoint),
        _ => command,
    };
    Ok((command, offer(out, &p)?))
}

/// `mas-link secret --bundle | COMMAND`: on Cloudron, each end a `cloudron exec` line for its
/// app (this one, from CLOUDRON_APP_ORIGIN; MAS's, from its URL), run from the operator's
/// machine; elsewhere, where both files are.
fn secret_pipe(command: &str, mas_url: &str) -> String {
    let here = env("CLOUDRON_APP_ORIGIN");
    let apps = here.as_deref().and_then(host_of).zip(host_of(mas_url));
    match apps {
        Some((synapse_app, mas_app)) => {
            let bin = "/app/data/mas-link";
            format!(
                "cloudron exec --app {mas_app} -- {bin} secret --bundle | cloudron exec --app \
                 {synapse_app} -- {bin}{}",
                command.trim_start_matches("mas-link")
            )
        }
        None => format!("mas-link secret --bundle | {command}"),
    }
}

/// The secret for Synapse's side, and the flag that gives it the same way in the printed
/// command: MAS's bundle (its file here, or the line pasted), a secret file, MAS_SECRET, the
/// secret already in the file, or asked (hidden).
fn secret_for(
    a: &WizardArgs,
    config: &files::Config,
    mas_paths: Option<&[PathBuf]>,
    from_mas: Option<mas::Bundle>,
    out: &mut Out,
) -> Result<(String, String)> {
    let inline = config
        .layers
        .value()
        .at(&[MAS, "secret"])
        .and_then(Value::as_str);
    Ok(if let Some(b) = from_mas {
        let flag = match mas_paths {
            Some(p) => flags("--mas-config", p),
            None => " --secret-stdin".into(),
        };
        (b.secret, flag)
    } else if let Some(p) = &a.secret_file {
        (
            files::read_secret(p)?,
            flags("--secret-file", std::slice::from_ref(p)),
        )
    } else if let Some(s) = env("MAS_SECRET") {
        // The same command runs where MAS_SECRET is set.
        (s.trim().to_owned(), String::new())
    } else if let Some(s) = inline.filter(|s| !s.is_empty()) {
        writeln!(
            out.err,
            "  Keeping the shared secret already in {}.",
            config.layers.locate(&[MAS, "secret"]).path
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
        files::hide(s.trim());
        (s.trim().to_owned(), " --secret-stdin".into())
    })
}

/// Synapse's users are not locked out: with users in its database, the wizard asks whether
/// they are in MAS already (`--users-migrated`'s question); with a database it cannot read,
/// whether the server never had users (`--new-server`'s). A no stops it with the way forward.
/// Returns the flag the command without questions needs.
fn users_flag(config: &files::Config, given: &[PathBuf], out: &mut Out) -> Result<&'static str> {
    if synapse::is_linked(config.layers.value()) {
        return Ok("");
    }
    let db = users::database(config.layers.value());
    let flags = flags("--synapse-config", given);
    match database::users(&db) {
        database::Users::None => Ok(""),
        database::Users::Unread(why) => {
            writeln!(out.err, "  Synapse's users could not be read: {why}.")?;
            if yes_no(out, "Has this server never had any user?")? {
                return Ok(" --new-server");
            }
            bail!("{}", users::unread_refusal(&why))
        }
        database::Users::Some(census) => {
            writeln!(
                out.err,
                "  Synapse has {} active local user(s); MAS knows them only once its migration \
                 tool (mas-cli syn2mas) has copied them.",
                census.active
            )?;
            if yes_no(
                out,
                "Have they been migrated to MAS (`mas-cli syn2mas migrate`)?",
            )? {
                return Ok(" --users-migrated");
            }
            let mas = format!(" --config {}", mas::DEFAULT_CONFIG);
            bail!("{}", users::migration_steps(&census, &db, &flags, &mas))
        }
    }
}

/// MAS's bundle line (`mas-link secret --bundle`), pasted, read hidden: it holds the secret.
fn ask_bundle() -> Result<mas::Bundle> {
    let line = Password::new()
        .with_prompt("The line `mas-link secret --bundle` printed (hidden)")
        .validate_with(|s: &String| match mas::Bundle::parse(s) {
            Some(_) => Ok(()),
            None => Err(format!(
                "not a bundle line (it starts with {})",
                mas::BUNDLE_TAG
            )),
        })
        .interact()?;
    let bundle = mas::Bundle::parse(&line).expect("validated");
    files::hide_bundle(&bundle);
    Ok(bundle)
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
    match guided(a, out) {
        // A prompt's read cut short by Ctrl-C: the handler is ending the process (exit 130,
        // the terminal restored); this error must not race it to exit 2.
        Err(e) if interrupted(&e) => {
            std::thread::sleep(std::time::Duration::from_secs(2));
            std::process::exit(130)
        }
        other => other,
    }
}

/// Whether an error is a read interrupted by a signal.
fn interrupted(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let io = c.downcast_ref::<std::io::Error>().or_else(|| {
            match c.downcast_ref::<dialoguer::Error>() {
                Some(dialoguer::Error::IO(io)) => Some(io),
                _ => None,
            }
        });
        io.is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
    })
}

/// The wizard's steps, once it has a terminal.
fn guided(a: &WizardArgs, out: &mut Out) -> Result<u8> {
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
            Some(p) => {
                let names: Vec<String> = p.iter().map(|p| p.display().to_string()).collect();
                writeln!(out.err, "  {what}: {}", names.join(", "))?
            }
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
    let hs_config = match &hs_path {
        Some(p) => Some(files::load_synapse(p, &files::synapse_paths(p)?)?),
        None => None,
    };
    let hs_root = hs_config.as_ref().map(|c| c.layers.value());
    let mut commands = Vec::new();
    let mut wrote = Vec::new();
    if let Some(p) = &mas_path {
        let hs = hs_root.zip(hs_path.as_deref());
        let (command, written) = mas_side(a, p, hs, out)?;
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
    next_steps(out, &wrote, &files, hs_root)?;
    writeln!(out.out, "\nThe same without questions:")?;
    for c in &commands {
        writeln!(out.out, "  {c}")?;
    }
    Ok(0)
}

/// The files the wizard found, for the commands it prints.
struct Files<'a> {
    synapse: Option<&'a [PathBuf]>,
    mas: Option<&'a [PathBuf]>,
}

impl Files<'_> {
    /// ` --FLAG PATH` for each file here that is not at its default place.
    fn flags(&self) -> (String, String) {
        let flag = |name: &str, path: Option<&[PathBuf]>, default: &str| {
            path.map(|p| plan::path_flag(name, p, default))
                .unwrap_or_default()
        };
        (
            flag("--synapse-config", self.synapse, synapse::DEFAULT_CONFIG),
            flag("--mas-config", self.mas, mas::DEFAULT_CONFIG),
        )
    }
}

fn next_steps(out: &mut Out, wrote: &[&str], files: &Files, hs: Option<&Value>) -> Result<()> {
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
            "  - Synapse is in another container; from your own machine run, if Synapse signs \
             users in with single sign-on (Cloudron's OIDC, Keycloak, ...):\n      \
             cloudron exec --app <matrix-app> -- /app/data/mas-link sso | cloudron exec --app <mas-app> -- /app/data/mas-link mas --sso-stdin --yes\n    \
             then, in any case:\n      \
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
