//! The man pages: clap's sections (name, synopsis, description, options, subcommands) from the
//! same definitions as the parser, then what an operator looks for in a man page and clap
//! cannot know: EXAMPLES (the walkthrough's real commands), EXIT STATUS, ENVIRONMENT, FILES.

use roff::{Roff, bold, roman};

/// Each page's examples: what it does, then the command as it is typed.
fn examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "mas-link" => &[
            (
                "Cloudron, MAS's side: Synapse's server name, URL and SSO providers go to MAS through a pipe.",
                "cloudron exec --app matrix.example.com -- /app/data/mas-link sso | cloudron exec --app auth.example.com -- /app/data/mas-link mas --sso-stdin --synapse-endpoint https://matrix.example.com/ --yes",
            ),
            (
                "Cloudron, Synapse's side: MAS's secret and URL go to Synapse through a pipe.",
                "cloudron exec --app auth.example.com -- /app/data/mas-link secret --bundle | cloudron exec --app matrix.example.com -- /app/data/mas-link synapse --secret-stdin --yes",
            ),
            (
                "One host with both files: see the change first.",
                "mas-link synapse --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml --dry-run",
            ),
            (
                "Check both sides before restarting.",
                "mas-link check --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml",
            ),
            ("The way back.", "mas-link unlink --yes"),
        ],
        "mas-link-synapse" => &[
            (
                "See the diff, write nothing.",
                "mas-link synapse --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml --dry-run",
            ),
            (
                "Across two Cloudron apps: the secret through a pipe, never in argv.",
                "cloudron exec --app auth.example.com -- /app/data/mas-link secret --bundle | cloudron exec --app matrix.example.com -- /app/data/mas-link synapse --secret-stdin --yes",
            ),
            (
                "A server with users, after mas-cli syn2mas migrate.",
                "mas-link synapse --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml --users-migrated --yes",
            ),
            (
                "For Ansible: a JSON report, exit 1 when a change is needed.",
                "mas-link synapse --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml --check --json",
            ),
        ],
        "mas-link-mas" => &[
            (
                "Across two Cloudron apps: Synapse's side through a pipe.",
                "cloudron exec --app matrix.example.com -- /app/data/mas-link sso | cloudron exec --app auth.example.com -- /app/data/mas-link mas --sso-stdin --synapse-endpoint https://matrix.example.com/ --yes",
            ),
            (
                "Both files on one host, MAS still without users: ready for Synapse's passwords too.",
                "mas-link mas --mas-config /etc/mas/config.yaml --synapse-config /etc/matrix-synapse/homeserver.yaml --renumber-password-scheme --yes",
            ),
        ],
        "mas-link-sso" => &[(
            "Synapse's side into MAS's container (the line holds client secrets: a pipe only).",
            "cloudron exec --app matrix.example.com -- /app/data/mas-link sso | cloudron exec --app auth.example.com -- /app/data/mas-link mas --sso-stdin --dry-run",
        )],
        "mas-link-secret" => &[
            (
                "The secret and MAS's URL into Synapse's container.",
                "cloudron exec --app auth.example.com -- /app/data/mas-link secret --bundle | cloudron exec --app matrix.example.com -- /app/data/mas-link synapse --secret-stdin --yes",
            ),
            (
                "The bare secret, into a file only root reads.",
                "(umask 077; mas-link secret --mas-config /etc/mas/config.yaml > /root/mas-secret)",
            ),
        ],
        "mas-link-check" => &[
            (
                "Both files on one host.",
                "mas-link check --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml",
            ),
            (
                "Across two Cloudron apps: MAS's side through a pipe.",
                "cloudron exec --app auth.example.com -- /app/data/mas-link secret --bundle | cloudron exec --app matrix.example.com -- /app/data/mas-link check --mas-bundle-stdin",
            ),
            (
                "After the restart: the running services too.",
                "mas-link check --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml --online",
            ),
        ],
        "mas-link-unlink" => &[
            (
                "See what unlink would put back.",
                "mas-link unlink --dry-run",
            ),
            (
                "Undo the link on Cloudron, then restart Synapse.",
                "cloudron exec --app matrix.example.com -- /app/data/mas-link unlink --yes",
            ),
        ],
        "mas-link-wizard" => &[
            (
                "Inside the Synapse app, with a terminal.",
                "cloudron exec --tty --app matrix.example.com -- /app/data/mas-link wizard",
            ),
            (
                "On one host, naming both files.",
                "mas-link wizard --synapse-config /etc/matrix-synapse/homeserver.yaml --mas-config /etc/mas/config.yaml",
            ),
        ],
        "mas-link-completions" => &[
            (
                "Bash completion for every user.",
                "mas-link completions bash > /usr/share/bash-completion/completions/mas-link",
            ),
            (
                "Every man page, one file each.",
                "mas-link completions man --dir /usr/local/share/man/man1",
            ),
            (
                "Read the main page now.",
                "mas-link completions man | man -l -",
            ),
        ],
        _ => &[("The help of a subcommand.", "mas-link help synapse")],
    }
}

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Done, or nothing to do (a second run changes nothing); check: no errors.",
    ),
    (
        "1",
        "--check found changes to make; check: errors found (the pairing would not work).",
    ),
    (
        "2",
        "Bad input or a refusal: a file that cannot be read or is of the wrong kind, a setting \
         mas-link will not change, users MAS does not know yet. Nothing was written.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "MAS_SECRET",
        "The secret shared with MAS, for synapse when no other source is given.",
    ),
    (
        "MAS_ENDPOINT",
        "Where Synapse reaches MAS, for synapse (as --endpoint).",
    ),
    (
        "MAS_CONFIG",
        "MAS's config files, separated by `:`, when no --mas-config is given (as MAS reads it).",
    ),
    (
        "MATRIX_HOMESERVER_DOMAIN",
        "Synapse's server_name, for mas (as --homeserver).",
    ),
    (
        "MAS_LINK_SYNAPSE_PYTHON",
        "Synapse's Python, for Synapse's own config loader (as --synapse-python); `none` turns it off.",
    ),
    (
        "MAS_LINK_MAS_CLI",
        "MAS's mas-cli, for MAS's own config check (as --mas-cli); `none` turns it off.",
    ),
    (
        "CLOUDRON_APP_ORIGIN",
        "Set by Cloudron inside an app: every command mas-link prints is a `cloudron exec` line for the app it belongs to, run from the operator's machine.",
    ),
    ("NO_COLOR", "Any value: no colours (as --color never)."),
    (
        "PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGPASSFILE",
        "libpq's variables, for reading Synapse's PostgreSQL database where homeserver.yaml leaves them out (as psycopg2 does); ~/.pgpass is read when only its owner can read it.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "/app/data/configs/homeserver.yaml, /app/data/config.yaml",
        "The default Synapse and MAS files (Cloudron's places).",
    ),
    (
        "FILE.STAMP.bak",
        "The backup beside each file written (e.g. homeserver.yaml.20261127T101500Z.bak), same owner and mode; --no-backup keeps none.",
    ),
    (
        "FILE.mas-link.json",
        "The record beside homeserver.yaml: what each setting was before the link, for unlink. No secrets.",
    ),
    (
        "FILE.mas-link.lock",
        "The lock a writing run holds; kept, holds no data; mode 0600, owned like the config, never followed if a symlink. Safe to delete when no mas-link runs.",
    ),
    (
        ".FILE.mas-link-XXXXXX.tmp, .FILE.STAMP.bak.mas-link-XXXXXX.tmp",
        "A write in progress (of the file, its backup, its record); a killed run's are removed by the next run.",
    ),
];

/// One page: clap's sections, then ours.
fn render(cmd: clap::Command, page: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let ours = ours(&cmd, page);
    let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(out)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(out)?;
        }
        ours.to_writer(out)?;
        match cmd.get_version() {
            Some(_) => man.render_version_section(out),
            None => Ok(()),
        }
    };
    write(&mut out).expect("writing to memory");
    out
}

/// EXAMPLES, EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO for `page`.
fn ours(cmd: &clap::Command, page: &str) -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXAMPLES"]);
    for (what, command) in examples(page) {
        r.control("TP", []).text([roman(*what)]);
        r.control("EX", [])
            .text([roman(*command)])
            .control("EE", []);
    }
    for (title, items) in [
        ("EXIT STATUS", EXIT_STATUS),
        ("ENVIRONMENT", ENVIRONMENT),
        ("FILES", FILES),
    ] {
        r.control("SH", [title]);
        for (name, what) in items {
            r.control("TP", []).text([bold(*name)]).text([roman(*what)]);
        }
    }
    r.control("SH", ["SEE ALSO"]);
    let mut see: Vec<String> = match page {
        "mas-link" => cmd
            .get_subcommands()
            .map(|s| format!("mas-link-{}(1)", s.get_name()))
            .collect(),
        _ => vec!["mas-link(1)".into()],
    };
    see.push("mas-cli(1), the MAS documentation: docs/setup/homeserver.md".into());
    r.text([roman(see.join(", "))]);
    r
}

/// Every man page of the command line `cmd`: `mas-link.1` first, then one per subcommand
/// (`mas-link-synapse.1`, …), file name and roff text.
pub fn pages(mut cmd: clap::Command) -> Vec<(String, Vec<u8>)> {
    // Built, so that clap's own `help` subcommand, which the main page names, is there too.
    cmd.build();
    let mut pages = vec![("mas-link.1".to_owned(), render(cmd.clone(), "mas-link"))];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("mas-link-{}", sub.get_name());
        let bin_name = format!("mas-link {}", sub.get_name());
        let page = sub.clone().name(name.clone()).bin_name(bin_name);
        pages.push((format!("{name}.1"), render(page, &name)));
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_the_operators_sections() {
        use clap::CommandFactory;
        let pages = pages(super::super::Cli::command());
        assert!(pages.len() >= 10, "{}", pages.len());
        for (name, roff) in pages {
            let text = String::from_utf8(roff).unwrap();
            for section in [
                "EXAMPLES",
                "EXIT STATUS",
                "ENVIRONMENT",
                "FILES",
                "MAS_SECRET",
                "PGPASSWORD",
            ] {
                assert!(text.contains(section), "{name} lacks {section}");
            }
        }
    }
}
