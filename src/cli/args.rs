//! The command line's definitions: flags, their help, and the completions and man page made
//! from them. What the flags mean is resolved in the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::rules::mas::KINDS;
use crate::rules::synapse;
pub use crate::wizard::WizardArgs;

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
    /// Point MAS's `matrix` section at Synapse (kind, homeserver, endpoint; a secret if none),
    /// and take over Synapse's OpenID Connect providers.
    Mas(MasArgs),
    /// Print Synapse's side for MAS's as one line: server name, URL and OpenID Connect
    /// providers (client secrets included: pipe it into `mas-link mas --sso-stdin`).
    Sso(SsoArgs),
    /// Bring Synapse's users into MAS with MAS's own tool (syn2mas check, then migrate with
    /// --yes) where MAS runs, then verify that MAS holds every one and every SSO link.
    Migrate(MigrateArgs),
    /// Check both files the way Synapse and MAS read them, before anything restarts.
    Check(CheckArgs),
    /// Undo the link in homeserver.yaml: MAS disabled (kept), earlier settings put back.
    Unlink(UnlinkArgs),
    /// Guided set-up: finds the files here, asks only what it cannot find, shows the diff.
    Wizard(WizardArgs),
    /// Print shell completions (or the man page) to standard output, or write them into a
    /// folder.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
        /// Write into this folder instead: the shell's file, or for `man` every page
        /// (mas-link.1 and one per subcommand).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

impl Command {
    /// Whether this command's standard output is meant to carry secrets: `secret` and `sso`
    /// (made for a pipe), and a diff asked for with `--show-secrets`.
    pub fn prints_secrets(&self) -> bool {
        match self {
            Command::Secret(_) | Command::Sso(_) => true,
            Command::Synapse(a) => a.write.show_secrets,
            Command::Mas(a) => a.write.show_secrets,
            Command::Unlink(a) => a.write.show_secrets,
            _ => false,
        }
    }

    /// Whether this command answers in JSON (`--format json` or `--json`), errors included.
    pub fn json(&self) -> bool {
        match self {
            Command::Synapse(a) => a.write.json(),
            Command::Mas(a) => a.write.json(),
            Command::Unlink(a) => a.write.json(),
            Command::Check(a) => a.json(),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
    /// The main man page (roff), for `man -l -`; with --dir, every page.
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
            Shell::Man => return super::man::pages(cmd).swap_remove(0).1,
        };
        clap_complete::generate(shell, &mut cmd, "mas-link", &mut out);
        if self == Shell::Fish {
            // clap_complete's fish script offers no values for positional arguments (files are
            // offered instead): add them.
            let mut script = String::from_utf8(out).expect("clap_complete writes UTF-8");
            for sub in cmd.get_subcommands() {
                for arg in sub.get_positionals() {
                    let values: Vec<String> = arg
                        .get_possible_values()
                        .iter()
                        .filter(|v| !v.is_hide_set())
                        .map(|v| v.get_name().to_owned())
                        .collect();
                    if !values.is_empty() {
                        script.push_str(&format!(
                            "complete -c mas-link -n \"__fish_mas_link_using_subcommand {}\" -f -a \"{}\"\n",
                            sub.get_name(),
                            values.join(" ")
                        ));
                    }
                }
            }
            return script.into_bytes();
        }
        if self == Shell::Bash {
            // clap_complete names the states of a binary with a `-` in its name two ways
            // (clap-rs/clap#6421): `mas__link__subcmd__synapse` when it enters a subcommand,
            // `mas__subcmd__link__subcmd__synapse` where it completes one. One name for both.
            let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
            return script
                .replace("mas__subcmd__link__", "mas__link__")
                .into_bytes();
        }
        out
    }
}

/// One man page per subcommand (`mas-link-synapse.1`, …), which the main page names in its
/// SEE ALSO: file name and roff text.
pub fn subcommand_man_pages() -> Vec<(String, Vec<u8>)> {
    use clap::CommandFactory;
    super::man::pages(Cli::command()).split_off(1)
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct SecretArgs {
    /// MAS's config.yaml; repeat for several files, merged as MAS merges them [env:
    /// MAS_CONFIG, paths separated by `:`; default: /app/data/config.yaml].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Vec<PathBuf>,
    /// Print a pairing bundle instead: endpoint, homeserver and secret on one line, which
    /// `mas-link synapse --secret-stdin` reads.
    #[arg(long)]
    pub bundle: bool,
}

#[derive(Args, Debug, Clone)]
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
    /// Write into the file itself instead of replacing it: for a file bind-mounted alone into a
    /// container (Docker Compose's `./homeserver.yaml:/data/homeserver.yaml`), run on the
    /// host. Not atomic; the backup is written first.
    #[arg(long)]
    pub in_place: bool,
    /// Output format; json (documented in README) needs --yes, --dry-run or --check.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The same as --format json.
    #[arg(long)]
    pub json: bool,
}

impl WriteArgs {
    /// Whether this run may write (and so takes the lock).
    pub fn writes(&self) -> bool {
        !(self.dry_run || self.check)
    }

    /// Whether the report is JSON (`--format json` or `--json`).
    pub fn json(&self) -> bool {
        self.json || matches!(self.format, Format::Json)
    }

    /// How the write goes.
    pub fn writing(&self) -> crate::apply::Writing {
        crate::apply::Writing {
            backup: !self.no_backup,
            in_place: self.in_place,
        }
    }
}

/// Synapse's configuration files, and how to ask Synapse's own loader about them.
#[derive(Args, Debug, Clone)]
pub struct SynapseFiles {
    /// Synapse's homeserver.yaml; repeat for several files or name a folder (its *.yaml
    /// files, sorted), as Synapse's -c. A conf.d/ beside homeserver.yaml (Debian) is read
    /// after it. Each setting is written in the file Synapse takes it from.
    #[arg(long, value_name = "PATH", default_value = synapse::DEFAULT_CONFIG)]
    pub synapse_config: Vec<PathBuf>,
    /// Synapse's Python, for Synapse's own config loader, which then judges the planned
    /// configuration before anything is written; `none` for mas-link's own rules only [env:
    /// MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install that imports
    /// synapse].
    #[arg(long, value_name = "PATH")]
    pub synapse_python: Option<String>,
    /// The Synapse release the file is for, where Synapse's Python is not at hand (a host
    /// editing a container's files): 1.136.x is linked without QR-code login, older ones are
    /// refused [env: MAS_LINK_SYNAPSE_VERSION; default: Synapse's loader's, else an install's
    /// package metadata]
    #[arg(long, value_name = "VERSION")]
    pub synapse_version: Option<String>,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("source").multiple(false))]
pub struct SynapseArgs {
    #[command(flatten)]
    pub synapse: SynapseFiles,
    /// Take the secret (and the default endpoint) from MAS's config.yaml (repeat for several
    /// files).
    #[arg(long, value_name = "PATH", group = "source")]
    pub mas_config: Vec<PathBuf>,
    /// Read the secret from a file (trimmed).
    #[arg(long, value_name = "PATH", group = "source")]
    pub secret_file: Option<PathBuf>,
    /// Read the secret (or a `mas-link secret --bundle` line) from standard input.
    #[arg(long, group = "source")]
    pub secret_stdin: bool,
    /// Where Synapse reaches MAS [env: MAS_ENDPOINT; default: MAS's http.public_base, or the
    /// endpoint already set].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Write `secret_path: PATH` (absolute) instead of an inline secret (PATH made with the
    /// config's owner and group, 0640 when the config is group-readable, else 0600).
    #[arg(long, value_name = "PATH")]
    pub secret_path: Option<PathBuf>,
    /// Synapse's existing users are in MAS already (`mas-cli syn2mas migrate` ran): link
    /// even though Synapse's database has users.
    #[arg(long)]
    pub users_migrated: bool,
    /// This server has never had users: link though its database cannot be read (where it
    /// can, it must hold no active user).
    #[arg(long, conflicts_with = "users_migrated")]
    pub new_server: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// MAS's config.yaml; repeat for several files [env: MAS_CONFIG, paths separated by `:`;
    /// default: /app/data/config.yaml].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Vec<PathBuf>,
    /// Synapse's homeserver.yaml, when both are on this host (repeatable, as Synapse's -c).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "sso_stdin",
        default_value = synapse::DEFAULT_CONFIG
    )]
    pub synapse_config: Vec<PathBuf>,
    /// Synapse's side from a `mas-link sso --migration` line on standard input (Synapse in
    /// another container): what MAS's migration tool reads of homeserver.yaml.
    #[arg(long)]
    pub sso_stdin: bool,
    /// MAS's `mas-cli` [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH,
    /// /usr/local/bin/mas-cli, /app/code/mas-cli].
    #[arg(long, value_name = "PATH")]
    pub mas_cli: Option<String>,
    /// Migrate after the check (Synapse must be stopped); without it, the check only.
    #[arg(short, long)]
    pub yes: bool,
    /// Go on past the warnings of `syn2mas check`, once read.
    #[arg(long)]
    pub accept_warnings: bool,
    /// Stop a migration still running after this many minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 360)]
    pub timeout_minutes: u64,
}

#[derive(Args, Debug)]
pub struct MasArgs {
    /// MAS's config.yaml; repeat for several files, merged as MAS merges them (the `matrix`
    /// keys are written where MAS reads them) [env: MAS_CONFIG, paths separated by `:`;
    /// default: /app/data/config.yaml].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Vec<PathBuf>,
    /// Synapse's server_name [env: MATRIX_HOMESERVER_DOMAIN; default: --synapse-config's].
    #[arg(long, value_name = "NAME")]
    pub homeserver: Option<String>,
    /// Synapse's homeserver.yaml, when both files are on this host (repeatable, as Synapse's
    /// -c): its server name, URL and OpenID Connect providers.
    #[arg(long, value_name = "PATH", conflicts_with = "sso_stdin")]
    pub synapse_config: Vec<PathBuf>,
    /// Synapse's side from a `mas-link sso` line on standard input (Synapse in another
    /// container): its server name, URL and OpenID Connect providers.
    #[arg(long)]
    pub sso_stdin: bool,
    /// Where MAS reaches Synapse [default: the endpoint already set, the Synapse file's
    /// public_baseurl, or https://NAME/].
    #[arg(long, value_name = "URL")]
    pub synapse_endpoint: Option<String>,
    /// MAS has no users of its own yet (syn2mas needs its database empty): its own password
    /// scheme may move from version 1 to the next, so that version 1 checks Synapse's
    /// migrated passwords (bcrypt with Synapse's pepper).
    #[arg(long)]
    pub renumber_password_scheme: bool,
    /// MAS's `mas-cli`, for MAS's own `config check`, or `none` for mas-link's own rules only
    /// [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli,
    /// /app/code/mas-cli].
    #[arg(long, value_name = "PATH")]
    pub mas_cli: Option<String>,
    /// matrix.kind [default: synapse; an existing valid kind is kept].
    #[arg(long, value_name = "KIND", value_parser = clap::builder::PossibleValuesParser::new(KINDS))]
    pub kind: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Args, Debug)]
pub struct SsoArgs {
    /// Synapse's homeserver.yaml; repeat for several files or name a folder, as Synapse's -c.
    #[arg(long, value_name = "PATH", default_value = synapse::DEFAULT_CONFIG)]
    pub synapse_config: Vec<PathBuf>,
    /// Add what MAS's migration tool reads of Synapse's configuration (its database
    /// credentials among it): pipe it into `mas-link migrate --sso-stdin` in MAS's app.
    #[arg(long)]
    pub migration: bool,
}

#[derive(Args, Debug)]
pub struct UnlinkArgs {
    #[command(flatten)]
    pub synapse: SynapseFiles,
    #[command(flatten)]
    pub write: WriteArgs,
}

impl CheckArgs {
    /// Whether the report is JSON (`--format json` or `--json`).
    pub fn json(&self) -> bool {
        self.json || matches!(self.format, Format::Json)
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Synapse's homeserver.yaml; repeat for several files or name a folder, as Synapse's -c
    /// [default: /app/data/configs/homeserver.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub synapse_config: Vec<PathBuf>,
    /// MAS's config.yaml; repeat for several files [env: MAS_CONFIG; default:
    /// /app/data/config.yaml, when it exists].
    #[arg(long, value_name = "PATH")]
    pub mas_config: Vec<PathBuf>,
    /// Synapse's Python, for Synapse's own config loader, or `none` for mas-link's own rules
    /// only [env: MAS_LINK_SYNAPSE_PYTHON; default: a python3 on PATH or a known install
    /// that imports synapse].
    #[arg(long, value_name = "PATH")]
    pub synapse_python: Option<String>,
    /// The Synapse release the verdict is for, where Synapse's Python is not at hand [env:
    /// MAS_LINK_SYNAPSE_VERSION; default: Synapse's loader's, else an install's package
    /// metadata]
    #[arg(long, value_name = "VERSION")]
    pub synapse_version: Option<String>,
    /// MAS's `mas-cli`, for MAS's own `config check`, or `none` for mas-link's own rules only
    /// [env: MAS_LINK_MAS_CLI; default: mas-cli on PATH, /usr/local/bin/mas-cli,
    /// /app/code/mas-cli].
    #[arg(long, value_name = "PATH")]
    pub mas_cli: Option<String>,
    /// MAS's side from a `mas-link secret --bundle` line on standard input (MAS in another
    /// container): the secret, homeserver and URL are checked against Synapse's file.
    #[arg(long, conflicts_with = "mas_config")]
    pub mas_bundle_stdin: bool,
    /// Output format; json is documented in README (format_version 1).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The same as --format json.
    #[arg(long)]
    pub json: bool,
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
