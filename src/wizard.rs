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
use crate::findings::{Command, Source, Sub, Where, command};
use crate::loader;
use crate::mas_cli;
use crate::plan::file_words;
use crate::plan::{self, LinkRequest, Proposal};
use crate::rules::mas::{self, MatrixOptions};
use crate::rules::names::{check_server_name, check_url, is_loopback, with_slash};
use crate::rules::sso;
use crate::rules::synapse;
use crate::rules::users;
use crate::settings::{self, SecretFrom, Settings, env};
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

/// MAS's side; returns the command that does the same without questions, whether it wrote,
/// and where MAS reaches Synapse.
fn mas_side(
    set: &Settings,
    paths: &[PathBuf],
    hs: Option<(&Value, &[PathBuf])>,
    out: &mut Out,
) -> Result<(Command, bool, String)> {
    step(out, "MAS side: point its `matrix` section at Synapse")?;
    let _locks = lock_all(paths)?;
    let config = files::load_mas(paths)?;
    let root = Some(config.layers.value());
    let homeserver = given_or_ask(
        set.homeserver()
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
        set.synapse_endpoint.clone().or(kept).or(known),
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
    let secret_file = files::mas_secret_file(&config)?;
    // Synapse's OpenID Connect providers move to MAS when Synapse's file is here.
    let synapse = hs.map(|(r, p)| database::synapse_side(r, &crate::rights::Rights::of(p)));
    let p = plan::mas(
        config,
        &opts,
        &files::new_secret()?,
        secret_file.as_ref(),
        synapse.as_ref(),
        false,
        &mut files::new_ulid,
    )?;
    // MAS's own check on what would be written, where mas-cli is found: a refusal stops here.
    let setting = mas_cli::Setting::from_flag(env("MAS_LINK_MAS_CLI").as_deref());
    if let Some(judged) = mas_cli::vet(&setting, &p)?
        && judged != mas_cli::Judged::Off
    {
        writeln!(out.err, "  {}", judged.describe())?;
    }
    let providers = synapse.map(|s| s.providers);
    // Synapse's SSO providers come from its file, named in the command.
    let mut args = match (hs, providers.as_deref()) {
        (Some((_, hs_paths)), Some([_, ..])) => file_words("--synapse-config", hs_paths, ""),
        _ => Vec::new(),
    };
    args.extend([
        "--homeserver".into(),
        homeserver,
        "--synapse-endpoint".into(),
    ]);
    args.extend([endpoint.clone(), "--yes".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Ok((command(Sub::Mas, &args), offer(out, &p)?, endpoint))
}

/// A lock on each file, for the wizard's writes.
fn lock_all(paths: &[PathBuf]) -> Result<Vec<Lock>> {
    paths
        .iter()
        .map(|p| Ok(Lock::for_file(p, "wizard")?))
        .collect()
}

/// Synapse's side; returns the command that does the same without questions, whether it
/// wrote, and where Synapse reaches MAS.
fn synapse_side(
    set: &Settings,
    given: &[PathBuf],
    out: &mut Out,
) -> Result<(Command, bool, String)> {
    step(out, "Synapse side: delegate logins to MAS")?;
    let paths = files::synapse_paths(given)?;
    let _locks = lock_all(&paths)?;
    let config = files::load_synapse(given, &paths)?;
    if config.files.len() > 1 {
        writeln!(out.err, "  Read, in this order: {}", config.names())?;
    }
    let root = config.layers.value();
    let from = set.secret.clone().unwrap_or(SecretFrom::Kept);
    let bundle = from.read()?;
    // SSO moves to MAS only when MAS's side shows it covers each provider: from MAS's file
    // here, or the bundle line from MAS's container.
    let sso = !sso::synapse_providers(root).is_empty();
    let (bundle, from) = match (bundle, sso) {
        (None, true) => {
            let sso = command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"]));
            writeln!(
                out.err,
                "  Synapse signs users in with single sign-on, which moves to MAS. If MAS does \
                 not have the providers yet, stop here (Ctrl-C) and run:\n    {}\n  Then paste \
                 the line `mas-link secret --bundle` prints in MAS's container.",
                sso.placed(&set.place(None))
            )?;
            (Some(ask_bundle()?), SecretFrom::Stdin)
        }
        (b, _) => (b, from),
    };
    let endpoint = given_or_ask(
        settings::mas_endpoint(set.endpoint.as_deref(), root, bundle.as_ref()),
        "MAS's URL, where Synapse reaches it (e.g. https://auth.example.com/)",
        None,
        check_url,
    )?;
    let mas_homeserver = bundle.as_ref().and_then(|b| b.homeserver.clone());
    let mas_providers = bundle.as_ref().and_then(|b| b.providers.clone());
    let (secret, from) = secret_for(&config, bundle, from, out)?;
    let req = LinkRequest {
        at: Some(set.place(Some(&endpoint))),
        endpoint: endpoint.clone(),
        secret,
        secret_path: None,
        secret_path_now: None,
        secret_path_rights: crate::rights::Rights::Own,
        synapse_release: loader::release(
            &loader::Setting::from_flag(env("MAS_LINK_SYNAPSE_PYTHON").as_deref()),
            &config
                .files
                .iter()
                .map(|f| f.target.clone())
                .collect::<Vec<_>>(),
            env("MAS_LINK_SYNAPSE_VERSION").as_deref(),
        )?,
        mas_homeserver,
        mas_providers,
    };
    let migrated = users_flag(&config, set, &endpoint, out)?;
    let records: Vec<_> = config.files.iter().map(files::link_record).collect();
    let p = plan::link(config, &req, &records)?;
    let setting = loader::Setting::from_flag(env("MAS_LINK_SYNAPSE_PYTHON").as_deref());
    if let Some(judged) = loader::vet(&setting, &p)?
        && judged != loader::Judged::Off
    {
        writeln!(out.err, "  {}", judged.describe())?;
    }
    let mut args = vec!["--endpoint".to_owned(), endpoint.clone()];
    args.extend(from.words());
    args.extend(migrated.map(str::to_owned));
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let link = command(Sub::Synapse, &args);
    // A secret typed or pasted here comes, without questions, from MAS's side through a pipe
    // (`--secret-stdin` on a terminal refuses).
    let link = match from {
        SecretFrom::Stdin => command(Sub::Secret, &["--bundle"]).pipe(link),
        _ => link,
    };
    Ok((link, offer(out, &p)?, endpoint))
}

/// The secret for Synapse's side, and the source that gives it the same way in the printed
/// command: MAS's side (its file here, or the line pasted), a secret file, MAS_SECRET, the
/// one Synapse's file gives already (as `mas-link synapse` reads it), or asked (hidden).
fn secret_for(
    config: &files::Config,
    bundle: Option<mas::Bundle>,
    from: SecretFrom,
    out: &mut Out,
) -> Result<(String, SecretFrom)> {
    if let Some(b) = bundle {
        return Ok((b.secret, from));
    }
    if let Some((s, legacy)) = settings::kept_secret(config)? {
        let what = match legacy {
            true => "experimental_features.msc3861.admin_token, as the shared secret",
            false => "the shared secret",
        };
        writeln!(out.err, "  Keeping {what} already in {}.", config.names())?;
        return Ok((s, SecretFrom::Kept));
    }
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
    Ok((s.trim().to_owned(), SecretFrom::Stdin))
}

/// Synapse's users are not locked out: with users in its database, the wizard asks whether
/// they are in MAS already (`--users-migrated`'s question); with a database it cannot read,
/// whether the server never had users (`--new-server`'s). A no stops it with the way forward.
/// Returns the flag the command without questions needs.
fn users_flag(
    config: &files::Config,
    set: &Settings,
    mas_url: &str,
    out: &mut Out,
) -> Result<Option<&'static str>> {
    if synapse::is_linked(config.layers.value()) {
        return Ok(None);
    }
    let db = users::database(config.layers.value());
    let at = settings::syn2mas_at(
        &config.given,
        set.mas.as_deref().unwrap_or_default(),
        Source::Synapse,
        Some(mas_url),
    );
    match database::users(&db, &config.rights()) {
        database::Users::None => Ok(None),
        database::Users::Unread(why) => {
            writeln!(out.err, "  Synapse's users could not be read: {why}.")?;
            if yes_no(out, "Has this server never had any user?")? {
                return Ok(Some("--new-server"));
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
                return Ok(Some("--users-migrated"));
            }
            bail!("{}", users::migration_steps(&census, &db, &at))
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
        bail!("{}", without_terminal(a));
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

/// The commands the wizard would run, for a run without a terminal: each side's pipe, placed
/// for the files given here and, on Cloudron, as `cloudron exec` lines (run from the
/// operator's machine). MAS's side first: it gets Synapse's side, then gives its secret.
fn without_terminal(a: &WizardArgs) -> String {
    let hs = files::given_or_default(&a.synapse_config, synapse::DEFAULT_CONFIG);
    let mas = files::given_or_default(&a.mas_config, mas::DEFAULT_CONFIG);
    let at = settings::place(hs.as_deref(), mas.as_deref(), None);
    let mas_side = command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"]));
    let synapse_side = command(Sub::Secret, &["--bundle"])
        .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"]));
    format!(
        "the wizard needs a terminal. Without one, run the commands it would run, MAS's side \
         first (each end of a pipe in its own container when they are two):\n  {}\n  {}\n\
         (`mas-link synapse --help` and `mas-link mas --help` list the other ways)",
        mas_side.placed(&at),
        synapse_side.placed(&at)
    )
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
    let secret = match &mas_path {
        Some(p) => SecretFrom::MasConfig(p.clone()),
        None => SecretFrom::resolve(&[], a.secret_file.as_deref(), false)?,
    };
    let set = Settings {
        synapse: hs_path.clone(),
        mas: mas_path.clone(),
        secret: Some(secret),
        secret_path: None,
        endpoint: a.endpoint.clone(),
        synapse_endpoint: a.synapse_endpoint.clone(),
        homeserver: a.homeserver.clone(),
    };
    let mut commands = Vec::new();
    let mut wrote = Vec::new();
    // The other Cloudron app, by the URL this side reaches it at.
    let mut other = None;
    if let Some(p) = &mas_path {
        let hs = hs_root.zip(hs_path.as_deref());
        let (command, written, synapse_url) = mas_side(&set, p, hs, out)?;
        commands.push(command);
        other = Some(synapse_url);
        if written {
            wrote.push(Source::Mas);
        }
    }
    if let Some(p) = &hs_path {
        let (command, written, mas_url) = synapse_side(&set, p, out)?;
        commands.push(command);
        other = Some(mas_url);
        if written {
            wrote.push(Source::Synapse);
        }
    }
    step(out, "Next steps")?;
    let at = set.place(other.as_deref());
    next_steps(out, &wrote, &set, &at, hs_root)?;
    writeln!(out.out, "\nThe same without questions:")?;
    for c in commands {
        writeln!(out.out, "  {}", c.placed(&at))?;
    }
    Ok(0)
}

/// What is left to do: restart what was written, the other side where it is elsewhere, check,
/// and the way back; each command as it runs (on Cloudron, a `cloudron exec` line).
fn next_steps(
    out: &mut Out,
    wrote: &[Source],
    set: &Settings,
    at: &Where,
    hs: Option<&Value>,
) -> Result<()> {
    let mut text = String::new();
    for side in wrote {
        let name = match side {
            Source::Synapse => "Synapse",
            Source::Mas => "MAS",
        };
        text.push_str(&match &at.cloudron {
            Some(c) => format!(
                "  - restart {name}: `cloudron restart --app {}`\n",
                c.app(*side)
            ),
            None => format!("  - restart {name} so that it reads its new configuration\n"),
        });
    }
    if set.synapse.is_none() {
        let sso = command(Sub::Sso, &[]).pipe(command(Sub::Mas, &["--sso-stdin", "--yes"]));
        let link = command(Sub::Secret, &["--bundle"])
            .pipe(command(Sub::Synapse, &["--secret-stdin", "--yes"]));
        text.push_str(&format!(
            "  - Synapse is in another container; if it signs users in with single sign-on \
             (Cloudron's OIDC, Keycloak, ...), run:\n      {}\n    then, in any case:\n      {}\n",
            sso.placed(at),
            link.placed(at)
        ));
    }
    if set.mas.is_none() {
        let name = text_at(hs, &["server_name"]).unwrap_or_else(|| "NAME".into());
        let mas = command(Sub::Mas, &["--homeserver", &name, "--yes"]).placed(at);
        text.push_str(&format!(
            "  - MAS is in another container: there, run `{mas}` (or this wizard)\n"
        ));
    }
    let check = match (&set.synapse, &set.mas) {
        (Some(_), Some(_)) => format!("`{}`", command(Sub::Check, &[]).placed(at)),
        _ => format!(
            "`{}` and `{}`",
            command(Sub::Check, &[]).on(Source::Synapse).placed(at),
            command(Sub::Check, &[]).on(Source::Mas).placed(at)
        ),
    };
    text.push_str(&format!("  - check: {check}\n"));
    if set.synapse.is_some() {
        text.push_str(&format!(
            "  - undo: `{}` restores Synapse's password login\n",
            command(Sub::Unlink, &[]).placed(at)
        ));
    }
    out.out.write_all(text.as_bytes())?;
    Ok(())
}
