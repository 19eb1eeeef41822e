//! `mas-link migrate`: Synapse's users into MAS where MAS runs, Synapse's side from its files
//! or through a pipe; then what MAS holds, and the link step.

use std::time::Duration;

use crate::cli::*;
use crate::findings::{Guide, Source, Sub, command};
use crate::migrate::{self, Request, SynapseSide};

pub(in crate::cli) fn cmd_migrate(a: &MigrateArgs, out: &mut Out) -> Result<u8> {
    let mas = mas_paths(&a.mas_config);
    let synapse = match a.sso_stdin {
        true => SynapseSide::Piped(piped_side()?),
        false => SynapseSide::Files(a.synapse_config.clone()),
    };
    let req = Request {
        mas: mas.clone(),
        synapse,
        mas_cli: mas_cli_setting(&a.mas_cli),
        migrate: a.yes,
        accept_warnings: a.accept_warnings,
        timeout: Duration::from_secs(a.timeout_minutes * 60),
    };
    let done = migrate::run(&req, &mut out.err)?;
    if !done.migrated {
        writeln!(
            out.out,
            "syn2mas check passed; nothing was migrated. With Synapse stopped, run this again \
             with --yes to migrate."
        )?;
        return Ok(0);
    }
    let m = &done.missing;
    if !m.is_empty() {
        writeln!(
            out.out,
            "MAS lacks {} of Synapse's {} active local user(s) and {} of its {} SSO link(s): \
             do not link yet.\n  users: {}\n  links: {}",
            m.users.len(),
            done.synapse_users,
            m.links.len(),
            done.synapse_links,
            m.users.join(", "),
            m.links.join(", ")
        )?;
        return Ok(1);
    }
    writeln!(
        out.out,
        "MAS holds all {} active local user(s) of Synapse and all {} SSO link(s).",
        done.synapse_users, done.synapse_links
    )?;
    let mut next = Guide::text("start Synapse, then link: ").run(
        command(Sub::Secret, &["--bundle"]).pipe(command(
            Sub::Synapse,
            &["--secret-stdin", "--users-migrated", "--yes"],
        )),
    );
    let mut at = settings::place(None, Some(&mas), done.synapse_url.as_deref());
    if let Some(c) = &mut at.cloudron {
        c.here_side = Source::Mas;
    }
    next.place(&at);
    writeln!(out.out, "Next: {next}")?;
    Ok(0)
}

/// The `syn2mas` part of a `mas-link sso --migration` line on standard input.
fn piped_side() -> Result<serde_json::Value> {
    read_sso_line()?.syn2mas.ok_or_else(|| {
        anyhow!(
            "the `mas-link sso` line carries no migration part: run `mas-link sso --migration` \
             on Synapse's side"
        )
    })
}
